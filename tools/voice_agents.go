package tools

import (
	"context"
	"fmt"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

func voiceAgentTools() []Tool {
	return []Tool{
		Define(Spec{Name: "list_voice_agents", Title: "List AI voice agents", Class: policy.Read,
			Description: "List AI voice agents. Filter by id, org units, keyword, status. Paged."},
			func(ctx context.Context, d *Deps, a schemas.ListVoiceAgentsArgs) (*Page[convirza.VoiceAgent], error) {
				out, err := d.Convirza.VoiceAgents.List(ctx, a)
				return pageOf("voice_agents", a.Offset, out, err)
			}, Names(func(a schemas.ListVoiceAgentsArgs) []int64 { return units(a.OrgUnitIDs...) }), ScopedList(voiceAgentUnit, func(a *schemas.ListVoiceAgentsArgs) (*int, *int) { return &a.Offset, &a.Limit }, 10, 100)),
		Define(Spec{Name: "get_voice_agent", Title: "Get AI voice agent", Class: policy.Read,
			Description: "Get one AI voice agent by id: name, org unit, status, greeting, instructions, voice, language."},
			func(ctx context.Context, d *Deps, a schemas.ID) (any, error) {
				return d.Convirza.VoiceAgents.Get(ctx, a.ID)
			}, Owned(voiceAgentRecord.owner, idOf)),
		Define(Spec{Name: "create_voice_agent", Title: "Create AI voice agent", Class: policy.Write,
			Description: "Create an AI voice agent that answers calls for an org unit. Returns voice_agent_id."},
			func(ctx context.Context, d *Deps, a schemas.VoiceAgentCreate) (any, error) {
				id, meta, err := d.Convirza.VoiceAgents.Create(ctx, a)
				return created("voice_agent_id", id, "name", a.Name, meta, err)
			}, Names(func(a schemas.VoiceAgentCreate) []int64 { return units(a.OrgUnitID) })),
		Define(Spec{Name: "replace_voice_agent", Title: "Replace AI voice agent", Class: policy.Write, Idempotent: true,
			Description: "Replace all editable fields of a voice agent (PUT). Use update_voice_agent to change only some."},
			func(ctx context.Context, d *Deps, a schemas.ReplaceVoiceAgentArgs) (any, error) {
				meta, err := d.Convirza.VoiceAgents.Replace(ctx, a.ID, a.VoiceAgentReplace)
				return written("replaced", "voice_agent_id", a.ID, meta, err)
			}, Names(func(a schemas.ReplaceVoiceAgentArgs) []int64 { return units(a.OrgUnitID) }), Owned(voiceAgentRecord.owner, func(a schemas.ReplaceVoiceAgentArgs) int64 { return a.ID })),
		Define(Spec{Name: "update_voice_agent", Title: "Update AI voice agent", Class: policy.Write, Idempotent: true,
			Description: "Change some fields of a voice agent (PATCH); fields left out stay as they are."},
			func(ctx context.Context, d *Deps, a schemas.UpdateVoiceAgentArgs) (any, error) {
				meta, err := d.Convirza.VoiceAgents.Update(ctx, a.ID, a.VoiceAgentPatch)
				return written("updated", "voice_agent_id", a.ID, meta, err)
			}, Names(func(a schemas.UpdateVoiceAgentArgs) []int64 { return unitPtr(a.OrgUnitID) }), Owned(voiceAgentRecord.owner, func(a schemas.UpdateVoiceAgentArgs) int64 { return a.ID })),
		Define(Spec{Name: "delete_voice_agent", Title: "Delete AI voice agent", Class: policy.Destructive, Idempotent: true,
			Description: "Soft-delete a voice agent; it stops answering calls. Not reversible through the API. Needs the user's confirmation."},
			func(ctx context.Context, d *Deps, a schemas.ID) (any, error) {
				meta, err := d.Convirza.VoiceAgents.Delete(ctx, a.ID)
				return deleted(ctx, "voice_agent_id", a.ID, meta, err, voiceAgentRecord.statusOf(d, a.ID))
			}, Confirm(previewDeleteVoiceAgent), Owned(voiceAgentRecord.owner, idOf)),
	}
}

func voiceAgentUnit(v convirza.VoiceAgent) (int64, bool) { return v.OrgUnitID, true }

func previewDeleteVoiceAgent(ctx context.Context, d *Deps, a schemas.ID) (*policy.Preview, error) {
	v, label, blocked, err := voiceAgentRecord.deletable(ctx, d, a.ID, func(v *convirza.VoiceAgent) string {
		return fmt.Sprintf("voice agent %d %q", a.ID, v.Name)
	})
	if v == nil {
		return blocked, err
	}
	return &policy.Preview{
		Action:   fmt.Sprintf("Delete %s (org unit %d, %s): it stops answering calls. Soft delete, not reversible through the API.", label, v.OrgUnitID, v.Status),
		Details:  v,
		Snapshot: v,
	}, nil
}
