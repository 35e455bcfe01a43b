package server_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/syncbuf"
)

// oauthServer serves the whole server with CONVIRZA_MCP_AUTH=oauth (and
// confirmation mode token) on a loopback port that is its public URL.
func oauthServer(t *testing.T, log *slog.Logger) string {
	t.Helper()
	base, _ := oauthApp(t, log, "token", "")
	return base
}

// oauthApp is oauthServer in a confirmation mode and under a policy file
// (YAML; "" for none), with its App.
func oauthApp(t *testing.T, log *slog.Logger, mode, policy string, more ...func(*config.Config)) (string, *server.App) {
	t.Helper()
	return oauthAppWith(t, testenv.Options{Log: log, ConfirmMode: mode, Policy: policy}, more...)
}

// oauthAppWith is oauthApp built from o (its Configure replaced).
func oauthAppWith(t *testing.T, o testenv.Options, more ...func(*config.Config)) (string, *server.App) {
	t.Helper()
	o.Configure = func(c *config.Config) {
		for _, f := range more {
			f(c)
		}
	}
	return testenv.StartOAuth(t, o)
}

// With CONVIRZA_MCP_AUTH=oauth the MCP endpoints take a person's access
// token instead of the shared one: without one, 401 with the RFC 9728
// challenge; with one, the MCP session works and the person is who the
// server's confirmation tokens and logs are bound to.
func TestOAuthGuardsTheMCPEndpoints(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	base := oauthServer(t, slog.New(slog.NewJSONHandler(&logs, nil)))

	for path, meta := range map[string]string{
		"/mcp":     "/.well-known/oauth-protected-resource",
		"/sse":     "/.well-known/oauth-protected-resource/sse",
		"/message": "/.well-known/oauth-protected-resource/sse",
		"/metrics": "/.well-known/oauth-protected-resource",
	} {
		for _, tok := range []string{"", "some-shared-token"} {
			req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := `Bearer resource_metadata="` + base + meta + `"`
			if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), want) {
				t.Errorf("%s with token %q: %d %q, want 401 starting %q", path, tok, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
			}
		}
	}
	resp, err := http.Get(base + "/.well-known/oauth-protected-resource")
	if err != nil {
		t.Fatal(err)
	}
	var prm map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&prm)
	resp.Body.Close()
	if prm["resource"] != base+"/mcp" {
		t.Fatalf("resource metadata: %v", prm)
	}

	admin := testenv.SignIn(t, base, sandbox.DemoEmail, base+"/mcp")["access_token"].(string)
	standard := testenv.SignIn(t, base, sandbox.StandardEmail, base+"/mcp")["access_token"].(string)
	for _, proto := range []string{mcp.ProtocolVersion20250618, ""} {
		a := dial(t, base, "http", admin, proto)
		b := dial(t, base, "http", standard, proto)
		if res, err := a.ListTools(t.Context(), mcp.ListToolsRequest{}); err != nil || len(res.Tools) == 0 {
			t.Fatalf("tools/list with a person's token (%q): %v", proto, err)
		}
		// A tool both may use (release_phone_number), so that only the
		// token's binding to its person refuses the other.
		first := structured(t, callTool(t, a, "release_phone_number", map[string]any{"number": "3035550102"}))
		tok, _ := first["confirmation_token"].(string)
		if first["status"] != "confirmation_required" || tok == "" {
			t.Fatalf("first call: %v", first)
		}
		if stolen := callTool(t, b, "release_phone_number", map[string]any{"number": "3035550102", "confirmation_token": tok}); !stolen.IsError {
			t.Fatalf("another person redeemed the admin's confirmation (%q): %+v", proto, stolen)
		}
	}
	// The SSE transport takes a token for its own resource.
	sseTok := testenv.SignIn(t, base, sandbox.ReadOnlyEmail, base+"/sse")["access_token"].(string)
	s := dial(t, base, "sse", sseTok, "")
	if _, err := s.ListTools(t.Context(), mcp.ListToolsRequest{}); err != nil {
		t.Fatalf("tools/list over SSE: %v", err)
	}

	// /metrics: a person's token (there is no shared one here).
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics with a person's token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// Access log lines name the person, never a token.
	if !regexp.MustCompile(`"path":"/mcp","status":200,[^\n]*"principal":"user:\d+"`).MatchString(logs.String()) {
		t.Errorf("no access log line names a person:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), admin) || strings.Contains(logs.String(), sandbox.DemoPassword) {
		t.Error("a token or a password is in the log")
	}
}

// A person's sign-out ends their MCP session at the next request.
func TestOAuthSignOutEndsTheSession(t *testing.T) {
	t.Parallel()
	base := oauthServer(t, nil)
	tok := testenv.SignIn(t, base, sandbox.StandardEmail, base+"/mcp")
	c := dial(t, base, "http", tok["access_token"].(string), mcp.ProtocolVersion20250618)
	if _, err := c.ListTools(t.Context(), mcp.ListToolsRequest{}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(base+"/revoke", url.Values{"token": {tok["refresh_token"].(string)}, "client_id": {tok["client_id"].(string)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := c.ListTools(t.Context(), mcp.ListToolsRequest{}); err == nil {
		t.Fatal("tools/list after sign-out succeeded")
	}
}
