package schemas

import (
	"errors"
)

// ListVoiceAgentsArgs filters GET /ai-voice-agents.
type ListVoiceAgentsArgs struct {
	ID         int64   `json:"id,omitempty" jsonschema:"minimum=1,description=One agent by id"`
	OrgUnitIDs []int64 `json:"org_unit_ids,omitempty" jsonschema:"minimum=1"`
	Search     string  `json:"search,omitempty" jsonschema:"maxLength=255,description=Name or keyword"`
	Status     string  `json:"status,omitempty" jsonschema:"enum=active,enum=inactive,enum=deleted,description=Default: all but deleted"`
	SortBy     string  `json:"sortBy,omitempty" jsonschema:"maxLength=64,default=created_on"`
	SortOrder  string  `json:"sortOrder,omitempty" jsonschema:"enum=ASC,enum=DESC"`
	Limit      int     `json:"limit,omitempty" jsonschema:"minimum=1,default=10"`
	Offset     int     `json:"offset,omitempty" jsonschema:"minimum=0"`
}

// VoiceAgentCreate is the body of POST /ai-voice-agents.
type VoiceAgentCreate struct {
	Name         string `json:"name" jsonschema:"required,minLength=1,maxLength=100"`
	OrgUnitID    int64  `json:"org_unit_id" jsonschema:"required,minimum=1"`
	Status       string `json:"status,omitempty" jsonschema:"enum=active,enum=inactive,description=Default active"`
	Greeting     string `json:"greeting,omitempty" jsonschema:"maxLength=500,description=First words spoken to callers"`
	Instructions string `json:"instructions,omitempty" jsonschema:"maxLength=10000,description=How the agent behaves (system prompt)"`
	Voice        string `json:"voice,omitempty" jsonschema:"maxLength=64"`
	Language     string `json:"language,omitempty" jsonschema:"pattern=^[a-z]{2}-[A-Z]{2}$,description=e.g. en-US"`
}

// VoiceAgentReplace is the body of PUT /ai-voice-agents/:id: every editable field.
type VoiceAgentReplace struct {
	Name         string `json:"name" jsonschema:"required,minLength=1,maxLength=100"`
	OrgUnitID    int64  `json:"org_unit_id" jsonschema:"required,minimum=1"`
	Status       string `json:"status" jsonschema:"required,enum=active,enum=inactive"`
	Greeting     string `json:"greeting" jsonschema:"required,maxLength=500"`
	Instructions string `json:"instructions" jsonschema:"required,maxLength=10000"`
	Voice        string `json:"voice" jsonschema:"required,maxLength=64"`
	Language     string `json:"language" jsonschema:"required,pattern=^[a-z]{2}-[A-Z]{2}$"`
}

// VoiceAgentPatch is the body of PATCH /ai-voice-agents/:id.
type VoiceAgentPatch struct {
	Name         *string `json:"name,omitempty" jsonschema:"minLength=1,maxLength=100"`
	OrgUnitID    *int64  `json:"org_unit_id,omitempty" jsonschema:"minimum=1"`
	Status       *string `json:"status,omitempty" jsonschema:"enum=active,enum=inactive"`
	Greeting     *string `json:"greeting,omitempty" jsonschema:"maxLength=500"`
	Instructions *string `json:"instructions,omitempty" jsonschema:"maxLength=10000"`
	Voice        *string `json:"voice,omitempty" jsonschema:"maxLength=64"`
	Language     *string `json:"language,omitempty" jsonschema:"pattern=^[a-z]{2}-[A-Z]{2}$"`
}

// ReplaceVoiceAgentArgs are the arguments of replace_voice_agent.
type ReplaceVoiceAgentArgs struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
	VoiceAgentReplace
}

// UpdateVoiceAgentArgs are the arguments of update_voice_agent.
type UpdateVoiceAgentArgs struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
	VoiceAgentPatch
}

// Validate refuses a patch that changes nothing.
func (a UpdateVoiceAgentArgs) Validate() error {
	if a.VoiceAgentPatch == (VoiceAgentPatch{}) {
		return errors.New("give at least one field to change besides id (name, org_unit_id, status, greeting, instructions, voice, language)")
	}
	return nil
}
