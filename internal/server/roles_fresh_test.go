package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

// refreshMCP trades the sign-in tok's refresh token for a new access token.
func refreshMCP(t *testing.T, base string, tok map[string]any) string {
	t.Helper()
	resp, err := http.PostForm(base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)},
		"client_id": {tok["client_id"].(string)}, "resource": {base + "/mcp"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	access, _ := out["access_token"].(string)
	if resp.StatusCode != http.StatusOK || access == "" {
		t.Fatalf("refresh: %d %v", resp.StatusCode, out)
	}
	return access
}

// A person demoted at Convirza (Admin to ReadOnly) sees only reads from
// their next MCP refresh on, without signing in again: the refresh asks
// Convirza who they are now.
func TestOAuthDemotedPersonSeesReadsAfterRefresh(t *testing.T) {
	t.Parallel()
	clk := &testenv.Clock{}
	base, app := oauthAppWith(t, testenv.Options{Now: clk.Now})
	tok := testenv.SignIn(t, base, sandbox.DemoEmail, base+"/mcp")
	if listed := listedNames(t, dial(t, base, "http", tok["access_token"].(string), mcp.ProtocolVersion20250618)); !strings.Contains(strings.Join(listed, ","), "delete_group") {
		t.Fatalf("the Admin lists %v", listed)
	}
	if !app.Sandbox.SetRole(sandbox.DemoEmail, 3) {
		t.Fatal("SetRole")
	}
	clk.Advance(oauth.IdentityMaxAge + time.Second)
	c := dial(t, base, "http", refreshMCP(t, base, tok), mcp.ProtocolVersion20250618)
	lr, err := c.ListTools(t.Context(), mcp.ListToolsRequest{})
	if err != nil || len(lr.Tools) == 0 {
		t.Fatalf("tools/list after the refresh: %v", err)
	}
	for _, tool := range lr.Tools {
		if h := tool.Annotations.ReadOnlyHint; h == nil || !*h || adminOnly(tool.Name) {
			t.Errorf("the demoted person is offered %s", tool.Name)
		}
	}
	if p := structured(t, callTool(t, c, "get_profile", nil)); p["user"] == nil || p["user"].(map[string]any)["role_id"] != float64(3) {
		t.Errorf("get_profile after the refresh: %v", p)
	}
}
