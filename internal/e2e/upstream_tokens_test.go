package e2e_test

// The upstream credentials the server obtains live in the state store
// (sealed): they survive a restart and are shared by the processes that
// use the store.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
)

// loginTokens signs in at the simulator as an operator would to get a
// refresh token for CONVIRZA_REFRESH_TOKEN.
func loginTokens(t *testing.T, sb *sandbox.Running) (refresh string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": sandbox.DemoEmail, "password": sandbox.DemoPassword})
	resp, err := http.Post(sb.OAuthURL+"/oauth/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			RefreshToken string `json:"refresh_token"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Data.RefreshToken == "" {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	return out.Data.RefreshToken
}

// TestServerRestartKeepsTheRotatedRefreshToken: a server given
// CONVIRZA_REFRESH_TOKEN uses it up at its first refresh (rotation); a
// server started later with the same variable and state directory works
// with the stored successor instead of failing with 401.
func TestServerRestartKeepsTheRotatedRefreshToken(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	seed := loginTokens(t, sb)
	dir := t.TempDir()
	o := testenv.Options{Sandbox: sb, Configure: func(c *config.Config) {
		c.StateDir = dir
		c.Convirza = config.Convirza{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, RefreshToken: seed}
	}}
	first := testenv.New(t, o)
	first.OK(t, "get_group_tree", `{}`)
	if sb.Refreshes() != 1 {
		t.Fatalf("%d refreshes, want 1", sb.Refreshes())
	}
	first.App.Close() // the first server stops

	second := testenv.New(t, o)
	second.OK(t, "get_group_tree", `{}`)
	if sb.Refreshes() != 1 {
		t.Fatalf("the restarted server refreshed again (%d refreshes) instead of using the stored token", sb.Refreshes())
	}
	sb.ExpireAccessTokens()
	second.OK(t, "get_group_tree", `{}`)
	if sb.Refreshes() != 2 || sb.Logins() != 1 {
		t.Fatalf("%d refreshes and %d logins, want 2 and 1 (the operator's)", sb.Refreshes(), sb.Logins())
	}
}
