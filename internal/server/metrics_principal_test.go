package server_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

// metricsText scrapes /metrics with the given headers.
func metricsText(t *testing.T, base string, hdr map[string]string) string {
	t.Helper()
	res := do(t, http.MethodGet, base+"/metrics", nil, hdr)
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %d %v", res.StatusCode, err)
	}
	return string(b)
}

// Tool calls are counted by who asked: a shared token by its digest (the
// access log's principal), never the token itself.
func TestMetricsCountCallsByPrincipal(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, nil)
	_, base := testenv.Listen(t, app)
	a := dial(t, base, "http", tokenA, mcp.ProtocolVersion20250618)
	b := dial(t, base, "http", tokenB, mcp.ProtocolVersion20250618)
	callTool(t, a, "get_group", map[string]any{"id": 1042})
	callTool(t, a, "get_group", map[string]any{"id": 1042})
	callTool(t, b, "get_group", map[string]any{"id": "abc"})

	text := metricsText(t, base, auth(tokenA))
	digest := func(tok string) string {
		return fmt.Sprintf("bearer:%x", sha256.Sum256([]byte(tok)))[:len("bearer:")+16]
	}
	for _, want := range []string{
		`convirza_mcp_principal_tool_calls_total{outcome="ok",principal="` + digest(tokenA) + `"} 2`,
		`convirza_mcp_principal_tool_calls_total{outcome="error",principal="` + digest(tokenB) + `"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, tokenA) || strings.Contains(text, tokenB) {
		t.Error("a token appears in the metrics")
	}
}

// Under per-person sign-in a person's calls are counted under their stable
// subject, user:<Convirza user id>.
func TestMetricsCountCallsByPerson(t *testing.T) {
	t.Parallel()
	base := oauthServer(t, nil)
	tok := testenv.SignIn(t, base, sandbox.StandardEmail, base+"/mcp")["access_token"].(string)
	c := dial(t, base, "http", tok, mcp.ProtocolVersion20250618)
	// A colleague's calls are not theirs to read: the metrics are for an
	// Admin (or the shared scraper token).
	if res := do(t, http.MethodGet, base+"/metrics", nil, auth(tok)); res.StatusCode != http.StatusForbidden {
		t.Errorf("a Standard person's /metrics: %d", res.StatusCode)
	}
	admin := testenv.SignIn(t, base, sandbox.DemoEmail, base+"/mcp")["access_token"].(string)
	prof := structured(t, callTool(t, c, "get_profile", map[string]any{}))
	user, _ := prof["user"].(map[string]any)
	id, ok := user["user_id"].(float64)
	if !ok {
		t.Fatalf("get_profile: %v", prof)
	}
	text := metricsText(t, base, auth(admin))
	want := fmt.Sprintf(`convirza_mcp_principal_tool_calls_total{outcome="ok",principal="user:%d"} 1`, int64(id))
	if !strings.Contains(text, want) {
		t.Errorf("metrics lack %s:\n%s", want, regexp.MustCompile(`(?m)^convirza_mcp_principal.*$`).FindAllString(text, -1))
	}
}
