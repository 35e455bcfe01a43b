package convirza

import (
	"context"

	"github.com/convirza/convirza-mcp/schemas"
)

// VoiceAgentsService calls the /ai-voice-agents endpoints. Admin and Standard.
type VoiceAgentsService struct{ r resource[schemas.VoiceAgent] }

// List returns agents matching the filter (GET /ai-voice-agents).
func (s *VoiceAgentsService) List(ctx context.Context, f schemas.ListVoiceAgentsArgs) (*List[schemas.VoiceAgent], error) {
	out, _, err := s.r.list(ctx, Query(f))
	return out, err
}

// Get returns one agent (GET /ai-voice-agents/:id), its id filled in when
// the answer leaves it out.
func (s *VoiceAgentsService) Get(ctx context.Context, id int64) (*schemas.VoiceAgent, error) {
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
