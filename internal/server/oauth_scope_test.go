package server_test

import (
	"errors"
	"fmt"
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

// A call refused for its person's role (or by tools.deny_for) is on the
// audit record and in the metrics, in full and in compact mode, like any
// other refusal.
func TestOAuthRoleRefusalsAuditedAndCounted(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"full", "compact"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			audit := filepath.Join(t.TempDir(), "audit.jsonl")
			pol := fmt.Sprintf("toolsets: [all]\ntools:\n  deny_for:\n    standard: [create_tag]\naudit:\n  file: %s\n", audit)
			base, _ := oauthApp(t, nil, "token", pol, func(c *config.Config) { c.ToolMode = mode })
			c := dial(t, base, "http", testenv.SignIn(t, base, sandbox.StandardEmail, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
			for _, name := range []string{"create_tag", "delete_group"} {
				req := mcp.CallToolRequest{}
				req.Params.Name, req.Params.Arguments = name, map[string]any{"id": 1042}
				if mode == "compact" {
					req.Params.Name, req.Params.Arguments = "call_write_tool", map[string]any{"name": name, "arguments": map[string]any{"id": 1042}}
				}
				res, err := c.CallTool(t.Context(), req)
				if err == nil && !res.IsError {
					t.Fatalf("%s ran for a Standard person", name)
				}
			}
			var reasons []string
			for _, l := range testenv.AuditLines(t, audit) {
				if l["decision"] == "denied" {
					reasons = append(reasons, fmt.Sprint(l["tool"], ": ", l["reason"]))
				}
			}
			if len(reasons) != 2 || !strings.Contains(strings.Join(reasons, "\n"), "withholds create_tag") || !strings.Contains(strings.Join(reasons, "\n"), "delete_group is for Convirza Admin users") {
				t.Errorf("audited refusals: %q", reasons)
			}
			if mode == "full" {
				admin := testenv.SignIn(t, base, sandbox.DemoEmail, base+"/mcp")["access_token"].(string)
				text := metricsText(t, base, auth(admin))
				for _, want := range []string{`convirza_mcp_tool_calls_total{outcome="protocol_error",tool="create_tag"} 1`, `convirza_mcp_tool_calls_total{outcome="protocol_error",tool="delete_group"} 1`} {
					if !strings.Contains(text, want) {
						t.Errorf("metrics lack %s", want)
					}
				}
			}
		})
	}
}
