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
func (s *AccountService) Profile(ctx context.Context) (*schemas.Profile, error) {
	var out schemas.Profile
	if _, err := s.c.do(ctx, http.MethodGet, "/auth/profile", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Industries lists industries (GET /industry).
func (s *AccountService) Industries(ctx context.Context, f schemas.ListIndustriesArgs) (*List[schemas.Industry], error) {
	out, _, err := resource[schemas.Industry]{c: s.c, path: "/industry", listKey: "industries"}.list(ctx, Query(f))
	return out, err
}

// AdSources lists ad sources (GET /ad-source).
func (s *AccountService) AdSources(ctx context.Context) (*List[schemas.AdSource], error) {
	out, _, err := resource[schemas.AdSource]{c: s.c, path: "/ad-source", listKey: "ad_sources"}.list(ctx, nil)
	return out, err
}
