package convirza

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

// TestProfileFromLoginAnswer: after a login, who this is comes from the
// login answer's documented user block; the undocumented GET /auth/profile
// is not asked.
func TestProfileFromLoginAnswer(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	c := demoClient(sb)
	p, err := c.Account.Profile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.User.UserID != 1 || p.User.Email != sandbox.DemoEmail || p.User.RoleID != 1 || p.User.Role != "Admin" || p.User.OrgUnitID != 1001 {
		t.Errorf("profile %+v", p.User)
	}
	if calls := sb.Calls(); !slices.Equal(calls, []string{"POST /oauth/token"}) {
		t.Errorf("calls %v, want only the login", calls)
	}
}

// TestProfileAfterRefresh: a refresh answer has the login answer's shape, so
// a client given a refresh token learns who it is from it too.
func TestProfileAfterRefresh(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	_, refresh := bootTokens(t, sb)

	c := New(Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, RefreshToken: refresh}, fastHTTP(), nil)
	sb.ResetCalls()
	p, err := c.Account.Profile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.User.UserID != 1 || p.User.Role != "Admin" {
		t.Errorf("profile %+v", p.User)
	}
	if calls := sb.Calls(); !slices.Equal(calls, []string{"POST /oauth/refresh-token"}) {
		t.Errorf("calls %v, want only the refresh", calls)
	}
}

// TestProfileWithGivenAccessToken: with only an access token there is no
// login answer to read, so the assumed GET /auth/profile is asked.
func TestProfileWithGivenAccessToken(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	access, _ := bootTokens(t, sb)

	c := New(Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, AccessToken: access}, fastHTTP(), nil)
	sb.ResetCalls()
	p, err := c.Account.Profile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.User.UserID != 1 || p.User.Role != "Admin" || p.OrgUnit == nil || p.OrgUnit.OrgUnitID != 1001 {
		t.Errorf("profile %+v, org unit %+v", p.User, p.OrgUnit)
	}
	if calls := sb.Calls(); !slices.Equal(calls, []string{"GET /v3/auth/profile"}) {
		t.Errorf("calls %v, want GET /v3/auth/profile", calls)
	}
}

// TestProfileEndpointMissing: where GET /auth/profile does not exist (it is
// not documented), the error says how to get the profile anyway.
func TestProfileEndpointMissing(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	access, _ := bootTokens(t, sb)

	sb.AddFault(sandbox.Fault{Method: "GET", PathPrefix: "/v3/auth/profile", Status: 404})
	c := New(Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, AccessToken: access}, fastHTTP(), nil)
	_, err := c.Account.Profile(context.Background())
	if err == nil || !strings.Contains(err.Error(), "CONVIRZA_EMAIL") || !upstream.IsNotFound(err) {
		t.Fatalf("missing profile endpoint: %v", err)
	}
}
