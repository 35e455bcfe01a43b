package convirza

import (
	"encoding/json"
	"errors"

	"github.com/convirza/convirza-mcp/schemas"
)

// VoiceAgentsService calls the /ai-voice-agents endpoints. Admin and Standard.
type VoiceAgentsService = Records[VoiceAgent, schemas.ListVoiceAgentsArgs, schemas.VoiceAgentCreate, schemas.VoiceAgentReplace, schemas.VoiceAgentPatch]

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
