package convirza

import (
	"github.com/convirza/convirza-mcp/schemas"
)

// UsersService calls the /users endpoints. Admin only.
type UsersService = Records[User, schemas.ListUsersArgs, schemas.UserCreate, schemas.UserReplace, schemas.UserPatch]

// User is one user as GET /users/list and GET /users/:id return it.
type User struct {
	CTUserID              int64  `json:"ct_user_id"`
	FirstName             string `json:"first_name,omitempty"`
	LastName              string `json:"last_name,omitempty"`
	Email                 string `json:"email,omitempty"`
	UserExtID             string `json:"user_ext_id,omitempty"`
	Status                string `json:"status,omitempty"`
	Role                  string `json:"role,omitempty"`
	UserCreated           string `json:"user_created,omitempty"`
	AgentRingTo           string `json:"agent_ring_to,omitempty"`
	AgentID               string `json:"agent_id,omitempty"`
	Group                 string `json:"group,omitempty"`
	GroupOrgUnitID        int64  `json:"group_org_unit_id,omitempty"`
	GroupExternalID       string `json:"group_external_id,omitempty"`
	Account               string `json:"account,omitempty"`
	AccountOrgUnitID      int64  `json:"account_org_unit_id,omitempty"`
	AccountExternalID     string `json:"account_external_id,omitempty"`
	ParentGroup           string `json:"parent_group,omitempty"`
	ParentGroupOrgUnitID  int64  `json:"parent_group_org_unit_id,omitempty"`
	ParentGroupExternalID string `json:"parent_group_external_id,omitempty"`
	AccessAudio           string `json:"access_audio,omitempty"`
	GroupAccess           any    `json:"group_access,omitempty"`
	ReportAccess          any    `json:"report_access,omitempty"`
	AssignScorecard       any    `json:"assign_scorecard,omitempty"`
	Timezone              string `json:"timezone,omitempty"`
	AgentCode             string `json:"agent_code,omitempty"`
	ScoreCall             string `json:"score_call,omitempty"`
}
