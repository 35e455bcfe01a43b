package server_test

import (
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
)

// A policy scope is the operator's rule: its org units are looked up with
// the server's own Convirza login, so a Standard or ReadOnly person (who
// may not read groups at Convirza) works inside it like an Admin, and
// nobody works outside it.
func TestOAuthScopeResolvedWithTheServersLogin(t *testing.T) {
	t.Parallel()
	base, _ := oauthApp(t, nil, "token", "toolsets: [all]\nscope:\n  org_units: [1003]\n")
	for _, email := range []string{sandbox.StandardEmail, sandbox.ReadOnlyEmail, sandbox.DemoEmail} {
		c := dial(t, base, "http", testenv.SignIn(t, base, email, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
		if res := callTool(t, c, "summarize_calls", map[string]any{"org_unit_id": 1042}); res.IsError {
			t.Errorf("%s inside the scope: %s", email, resultText(res))
		}
		if res := callTool(t, c, "summarize_calls", map[string]any{"org_unit_id": 1010}); !res.IsError || !strings.Contains(resultText(res), "1010") {
			t.Errorf("%s outside the scope: %v %s", email, res.IsError, resultText(res))
		}
	}
}

// A scoped server that signs people in but has no login of its own could
// never look its units up: it refuses to start, saying what to set.
func TestOAuthScopeNeedsTheServersLogin(t *testing.T) {
	t.Parallel()
	sb := sandboxenv.Start(t, sandbox.Options{})
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("scope:\n  org_units: [1003]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testenv.Config(t, testenv.Options{Sandbox: sb, Configure: func(c *config.Config) {
		c.Transport, c.Addr, c.Auth, c.Policy = "http", "127.0.0.1:0", config.AuthOAuth, policy
		c.Convirza.Email, c.Convirza.Password = "", ""
	}})
	_, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "CONVIRZA_EMAIL") || !strings.Contains(err.Error(), "scope") {
		t.Fatalf("server.New: %v, want a refusal naming the scope and CONVIRZA_EMAIL", err)
	}
}

// People's sign-ins and the server's own Convirza logins leave from one
// address, under Convirza's one limit of 10 a minute: they are counted
// together, so a person is told to wait rather than Convirza refusing
// the service account (or them) with a 429.
func TestOAuthSignInsCountWithTheServersLogins(t *testing.T) {
	t.Parallel()
	_, app := oauthApp(t, nil, "token", "")
	ctx := t.Context()
	for i := range 10 {
		wait, err := convirza.LoginAdmitted(ctx, app.Store, app.Sandbox.OAuthURL, time.Now())
		if err != nil || wait != 0 {
			t.Fatalf("login %d: wait %d, %v", i, wait, err)
		}
	}
	_, err := app.OAuth.SignIn(ctx, "192.0.2.7", sandbox.StandardEmail, sandbox.DemoPassword)
	var limited *oauth.LimitedError
	if !errors.As(err, &limited) || limited.Wait <= 0 {
		t.Fatalf("a sign-in past the deployment's 10 Convirza logins this minute: %v", err)
	}
	if n := app.Sandbox.Logins(); n != 0 {
		t.Errorf("%d logins reached Convirza", n)
	}
}

// The OAuth metadata, token, registration and revocation endpoints answer
// any origin (a browser-based client must read them; they take no
// cookies), while the MCP endpoints never send the wildcard.
func TestOAuthEndpointsAnswerAnyOrigin(t *testing.T) {
	t.Parallel()
	base := oauthServer(t, nil)
	hdr := map[string]string{"Origin": "https://client.example"}
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource"} {
		res := do(t, http.MethodGet, base+path, nil, hdr)
		if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("GET %s from another origin: %d, Access-Control-Allow-Origin %q", path, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	res := do(t, http.MethodOptions, base+"/token", nil, map[string]string{"Origin": "https://client.example", "Access-Control-Request-Method": "POST"})
	if res.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight of /token: %d %v", res.StatusCode, res.Header)
	}
	res = do(t, http.MethodPost, base+"/mcp", strings.NewReader(`{}`), nil)
	if res.Header.Get("Access-Control-Allow-Origin") == "*" {
		t.Error("/mcp answered with Access-Control-Allow-Origin: *")
	}
}
