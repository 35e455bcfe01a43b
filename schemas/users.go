package schemas

import (
	"errors"

	"github.com/invopop/jsonschema"
)

// ListUsersArgs filters GET /users/list.
type ListUsersArgs struct {
	OrgUnitID  int64  `json:"org_unit_id,omitempty" jsonschema:"minimum=1,description=Default the account's unit; includes sub-groups"`
	Name       string `json:"name,omitempty" jsonschema:"maxLength=255,description=Partial match"`
	Email      string `json:"email,omitempty" jsonschema:"maxLength=255,description=Partial match"`
	RoleID     int    `json:"role_id,omitempty" jsonschema:"enum=1,enum=2,enum=3,description=1 Admin 2 Standard 3 ReadOnly"`
	UserStatus string `json:"user_status,omitempty" jsonschema:"enum=active,enum=inactive,enum=deleted"`
	SortBy     string `json:"sort_by,omitempty" jsonschema:"enum=created_on,enum=name,enum=email"`
	SortOrder  string `json:"sort_order,omitempty" jsonschema:"enum=asc,enum=desc"`
	Page
}

// JSONSchemaExtend adds the documented limit: 1 to 200, default 100.
func (ListUsersArgs) JSONSchemaExtend(s *jsonschema.Schema) { pageLimit(s, 200, 100) }

// Roles as create_user and its siblings name them.
const (
	RoleAdmin    = "Admin"
	RoleStandard = "Standard"
	RoleReadOnly = "ReadOnly"
)

// UserCreate is the body of POST /users.
type UserCreate struct {
	Username    string `json:"username" jsonschema:"required,format=email,maxLength=255,description=The user's email; their login"`
	FirstName   string `json:"first_name" jsonschema:"required,minLength=1,maxLength=100"`
	LastName    string `json:"last_name" jsonschema:"required,minLength=1,maxLength=100"`
	CTUserOUID  int64  `json:"ct_user_ou_id" jsonschema:"required,minimum=1,description=Org unit (group) the user belongs to"`
	Role        string `json:"role" jsonschema:"required,enum=Admin,enum=Standard,enum=ReadOnly"`
	UserExtID   string `json:"user_ext_id,omitempty" jsonschema:"maxLength=255"`
	UserStatus  string `json:"user_status,omitempty" jsonschema:"enum=active,enum=inactive"`
	Timezone    string `json:"timezone,omitempty" jsonschema:"maxLength=64,pattern=^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$,description=IANA name"`
	AgentRingTo string `json:"agent_ring_to,omitempty" jsonschema:"maxLength=24"`
	AgentCode   string `json:"agent_code,omitempty" jsonschema:"maxLength=50"`
	ScoreCall   *bool  `json:"score_call,omitempty"`
	AccessAudio *bool  `json:"access_audio,omitempty"`
}

// UserReplace is the body of PUT /users/:id: every editable field. Empty
// strings clear the optional text fields.
type UserReplace struct {
	Username    string `json:"username" jsonschema:"required,format=email,maxLength=255"`
	FirstName   string `json:"first_name" jsonschema:"required,minLength=1,maxLength=100"`
	LastName    string `json:"last_name" jsonschema:"required,minLength=1,maxLength=100"`
	CTUserOUID  int64  `json:"ct_user_ou_id" jsonschema:"required,minimum=1"`
	Role        string `json:"role" jsonschema:"required,enum=Admin,enum=Standard,enum=ReadOnly"`
	UserExtID   string `json:"user_ext_id" jsonschema:"required,maxLength=255"`
	UserStatus  string `json:"user_status" jsonschema:"required,enum=active,enum=inactive"`
	Timezone    string `json:"timezone" jsonschema:"required,maxLength=64,pattern=^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$,description=IANA name"`
	AgentRingTo string `json:"agent_ring_to" jsonschema:"required,maxLength=24"`
	AgentCode   string `json:"agent_code" jsonschema:"required,maxLength=50"`
	ScoreCall   bool   `json:"score_call" jsonschema:"required"`
	AccessAudio bool   `json:"access_audio" jsonschema:"required"`
}

// UserPatch is the body of PATCH /users/:id: any subset of the editable fields.
type UserPatch struct {
	Username    *string `json:"username,omitempty" jsonschema:"format=email,maxLength=255"`
	FirstName   *string `json:"first_name,omitempty" jsonschema:"minLength=1,maxLength=100"`
	LastName    *string `json:"last_name,omitempty" jsonschema:"minLength=1,maxLength=100"`
	CTUserOUID  *int64  `json:"ct_user_ou_id,omitempty" jsonschema:"minimum=1"`
	Role        *string `json:"role,omitempty" jsonschema:"enum=Admin,enum=Standard,enum=ReadOnly"`
	UserExtID   *string `json:"user_ext_id,omitempty" jsonschema:"maxLength=255"`
	UserStatus  *string `json:"user_status,omitempty" jsonschema:"enum=active,enum=inactive,description=inactive blocks login without deleting"`
	Timezone    *string `json:"timezone,omitempty" jsonschema:"maxLength=64,pattern=^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$,description=IANA name"`
	AgentRingTo *string `json:"agent_ring_to,omitempty" jsonschema:"maxLength=24"`
	AgentCode   *string `json:"agent_code,omitempty" jsonschema:"maxLength=50"`
	ScoreCall   *bool   `json:"score_call,omitempty"`
	AccessAudio *bool   `json:"access_audio,omitempty"`
}

// ReplaceUserArgs are the arguments of replace_user.
type ReplaceUserArgs struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
	UserReplace
}

// UpdateUserArgs are the arguments of update_user.
type UpdateUserArgs struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
	UserPatch
}

// Validate refuses a patch that changes nothing and reads agent_ring_to.
func (a *UpdateUserArgs) Validate() error {
	if a.UserPatch == (UserPatch{}) {
		return errors.New("give at least one field to change besides id (username, first_name, last_name, ct_user_ou_id, role, user_ext_id, user_status, timezone, agent_ring_to, agent_code, score_call, access_audio)")
	}
	return ringTo("agent_ring_to", a.AgentRingTo)
}

// Validate reads agent_ring_to (any spelling) into E.164.
func (a *UserCreate) Validate() error { return ringTo("agent_ring_to", &a.AgentRingTo) }

// Validate reads agent_ring_to (any spelling) into E.164.
func (a *UserReplace) Validate() error { return ringTo("agent_ring_to", &a.AgentRingTo) }
