package convirza

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/convirza/convirza-mcp/schemas"
)

// VoiceAgentsService calls the /ai-voice-agents endpoints. Admin and Standard.
type VoiceAgentsService struct{ r resource[VoiceAgent] }

// List returns agents matching the filter (GET /ai-voice-agents).
func (s *VoiceAgentsService) List(ctx context.Context, f schemas.ListVoiceAgentsArgs) (*List[VoiceAgent], error) {
	out, _, err := s.r.list(ctx, Query(f))
	return out, err
}

// Get returns one agent (GET /ai-voice-agents/:id), its id filled in when
// the answer leaves it out.
func (s *VoiceAgentsService) Get(ctx context.Context, id int64) (*VoiceAgent, error) {
	out, _, err := s.r.get(ctx, id)
	if err == nil && out.VoiceAgentID == 0 {
		out.VoiceAgentID = id
	}
	return out, err
}

// Create makes an agent (POST /ai-voice-agents) and returns its id.
func (s *VoiceAgentsService) Create(ctx context.Context, b schemas.VoiceAgentCreate) (int64, Meta, error) {
	return s.r.create(ctx, b)
}

// Replace sets every editable field (PUT /ai-voice-agents/:id).
func (s *VoiceAgentsService) Replace(ctx context.Context, id int64, b schemas.VoiceAgentReplace) (Meta, error) {
	return s.r.replace(ctx, id, b)
}

// Update changes some fields (PATCH /ai-voice-agents/:id).
func (s *VoiceAgentsService) Update(ctx context.Context, id int64, p schemas.VoiceAgentPatch) (Meta, error) {
	return s.r.update(ctx, id, p)
}

// Delete soft-deletes an agent (DELETE /ai-voice-agents/:id).
func (s *VoiceAgentsService) Delete(ctx context.Context, id int64) (Meta, error) {
	return s.r.delete(ctx, id)
}

// VoiceAgent is one AI voice agent. The API's body fields are not public:
// the id is accepted as voice_agent_id or id.
type VoiceAgent struct {
	VoiceAgentID int64  `json:"voice_agent_id"`
	Name         string `json:"name"`
	OrgUnitID    int64  `json:"org_unit_id,omitempty"`
	Status       string `json:"status,omitempty"`
	Greeting     string `json:"greeting,omitempty"`
	Instructions string `json:"instructions,omitempty"`
	Voice        string `json:"voice,omitempty"`
	Language     string `json:"language,omitempty"`
	CreatedOn    string `json:"created_on,omitempty"`
	ModifiedOn   string `json:"modified_on,omitempty"`
}

// UnmarshalJSON accepts the id under voice_agent_id or id.
func (v *VoiceAgent) UnmarshalJSON(b []byte) error {
	type plain VoiceAgent
	var w struct {
		plain
		ID json.Number `json:"id"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*v = VoiceAgent(w.plain)
	if v.VoiceAgentID == 0 && w.ID != "" {
		id, err := w.ID.Int64()
		if err != nil {
			return errors.New("voice agent id is not an integer")
		}
		v.VoiceAgentID = id
	}
	return nil
}
