package convirza

import (
	"context"
	"net/http"

	"github.com/convirza/convirza-mcp/schemas"
)

// AccountService reads who the caller is and the account's reference lists
// (industries, ad sources).
type AccountService struct{ c *Client }

// Profile returns the caller's user and org unit (GET /auth/profile).
func (s *AccountService) Profile(ctx context.Context) (*Profile, error) {
	var out Profile
	if _, err := s.c.do(ctx, http.MethodGet, "/auth/profile", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
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

// Profile is the data of GET /auth/profile: who the access token belongs to.
type Profile struct {
	User    ProfileUser `json:"user"`
	OrgUnit Group       `json:"org_unit"`
}

// ProfileUser is the caller as GET /auth/profile describes them (the same
// names as the login answer's user).
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
