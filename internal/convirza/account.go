package convirza

import (
	"context"
	"fmt"
	"net/http"

	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/schemas"
)

// AccountService reads who the caller is and the account's reference lists
// (industries, ad sources).
type AccountService struct{ c *Client }

// Profile returns who this client is logged in as. The user block of the
// login (or refresh) answer says it, as documented: user_id, email, role_id
// and org_unit_id. Only when the tokens were given from elsewhere, so no
// such answer was seen, is GET /auth/profile asked: an endpoint the API
// docs do not list (assumed).
func (s *AccountService) Profile(ctx context.Context) (*Profile, error) {
	if p, ok := CallerFrom(ctx); ok && p.User.UserID != 0 {
		u := p.User
		if u.Role == "" {
			u.Role = RoleName(u.RoleID)
		}
		return &Profile{User: u}, nil
	}
	if _, err := s.c.tokens.Token(ctx); err != nil {
		return nil, err
	}
	if u := s.c.tokens.identity(); u != nil {
		if u.Role == "" {
			u.Role = RoleName(u.RoleID)
		}
		return &Profile{User: *u}, nil
	}
	var out Profile
	if _, err := s.c.do(ctx, http.MethodGet, "/auth/profile", nil, nil, &out); err != nil {
		if upstream.IsNotFound(err) {
			return nil, fmt.Errorf("GET /auth/profile, which the API docs do not list, is not there: set CONVIRZA_EMAIL and CONVIRZA_PASSWORD so the login answer says who this is: %w", err)
		}
		return nil, err
	}
	return &out, nil
}

// RoleName names a documented role_id as create_user does ("" for any other).
func RoleName(id int) string {
	switch id {
	case 1:
		return schemas.RoleAdmin
	case 2:
		return schemas.RoleStandard
	case 3:
		return schemas.RoleReadOnly
	}
	return ""
}

// Industries lists industries (GET /industry).
func (s *AccountService) Industries(ctx context.Context, f schemas.ListIndustriesArgs) (*List[Industry], error) {
	out, _, err := resource[Industry]{c: s.c, path: "/industry", listKey: "industries"}.list(ctx, Query(f))
	return out, err
}

// AdSources lists ad sources (GET /ad-source).
func (s *AccountService) AdSources(ctx context.Context) (*List[AdSource], error) {
	out, _, err := resource[AdSource]{c: s.c, path: "/ad-source", listKey: "ad_sources"}.list(ctx, nil)
	return out, err
}

// Industry is one entry of GET /industry.
type Industry struct {
	IndustryID    int64  `json:"industry_id"`
	IndustryName  string `json:"industry_name,omitempty"`
	IndustryGroup string `json:"industry_group,omitempty"`
}

// Profile is who the client is logged in as: the login answer's user
// block, or the data of GET /auth/profile (assumed), which may add the org
// unit.
type Profile struct {
	User    ProfileUser   `json:"user"`
	OrgUnit *GroupDetails `json:"org_unit,omitempty"`
}

// ProfileUser is the caller, named as the login answer's user block names
// them (user_id, email, role_id, org_unit_id); the other fields come only
// from GET /auth/profile.
type ProfileUser struct {
	UserID    int64  `json:"user_id"`
	Email     string `json:"email,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	RoleID    int    `json:"role_id,omitempty"`
	Role      string `json:"role,omitempty"`
	OrgUnitID int64  `json:"org_unit_id,omitempty"`
	Status    string `json:"status,omitempty"`
	Timezone  string `json:"timezone,omitempty"`
}

// AdSource is one entry of GET /ad-source.
type AdSource struct {
	AdSourceID      int64  `json:"ad_source_id"`
	AdSourceName    string `json:"ad_source_name,omitempty"`
	OrgUnitID       int64  `json:"org_unit_id,omitempty"`
	Status          string `json:"status,omitempty"`
	AdSourceCreated string `json:"ad_source_created,omitempty"`
}
