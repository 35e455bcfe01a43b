package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
)

func runWithEnv(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, env{
		stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		lookup: envconfig.MapLookuper(vars),
	})
	return code, out.String(), errb.String()
}

// upstreamEnv points the server at a simulator the test started, as an
// operator points it at the real APIs.
func upstreamEnv(sb *sandbox.Running, stateDir string) map[string]string {
	return map[string]string{
		"CONVIRZA_API_URL": sb.APIURL, "CONVIRZA_OAUTH_URL": sb.OAuthURL,
		"CONVIRZA_EMAIL": sandbox.DemoEmail, "CONVIRZA_PASSWORD": sandbox.DemoPassword,
		"TALKDESK_ACCOUNT": sandbox.TalkdeskAccount, "TALKDESK_CLIENT_ID": sandbox.TalkdeskClientID,
		"TALKDESK_CLIENT_SECRET": sandbox.TalkdeskClientSecret,
		"TALKDESK_API_URL":       sb.TalkdeskAPIURL, "TALKDESK_TOKEN_URL": sb.TalkdeskTokenURL,
		"CONVIRZA_MCP_STATE_DIR": stateDir, "CONVIRZA_MCP_TOOLSETS": "all",
	}
}

// storedConvirzaTokens opens what the store in dir keeps for Convirza.
func storedConvirzaTokens(t *testing.T, dir string) []map[string]any {
	t.Helper()
	st, err := store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sealer, err := store.OpenSealer("", "", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := st.List(context.Background(), "upstream/convirza/")
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for k, v := range recs {
		plain, err := sealer.Open(v, []byte(k))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		var m map[string]any
		if err := json.Unmarshal(plain, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func storedCount(t *testing.T, dir, prefix string) int {
	t.Helper()
	st, err := store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

func post(t *testing.T, url string, body any, bearer string) int {
	t.Helper()
	b, _ := json.Marshal(body)
	method := http.MethodPost
	if body == nil {
		method = http.MethodGet
	}
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestLogoutRevokesAndForgetsTheStoredTokens: logout revokes the Convirza
// tokens the server obtained (the simulator refuses them afterwards),
// forgets them and the Talkdesk token, and says so.
func TestLogoutRevokesAndForgetsTheStoredTokens(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	dir := t.TempDir()
	vars := upstreamEnv(sb, dir)
	for _, tool := range []string{"get_group_tree", "list_record_lists"} {
		if code, _, errs := runWithEnv(t, vars, "call", tool); code != 0 {
			t.Fatalf("%s: exit %d: %s", tool, code, errs)
		}
	}
	if sb.Logins() != 1 {
		t.Fatalf("%d logins for two commands, want 1 (the second uses the stored token)", sb.Logins())
	}
	recs := storedConvirzaTokens(t, dir)
	if len(recs) != 1 {
		t.Fatalf("%d stored Convirza records, want 1", len(recs))
	}
	access, _ := recs[0]["access"].(string)
	refresh, _ := recs[0]["refresh"].(string)
	if access == "" || refresh == "" {
		t.Fatalf("stored: %v", recs[0])
	}

	code, out, errs := runWithEnv(t, vars, "logout")
	if code != 0 {
		t.Fatalf("logout: exit %d: %s", code, errs)
	}
	for _, want := range []string{"Convirza: revoked the stored access and refresh tokens and forgot them", "Talkdesk: forgot the stored token"} {
		if !strings.Contains(out, want) {
			t.Errorf("logout output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errs, access) || strings.Contains(out+errs, refresh) {
		t.Fatal("logout printed a token")
	}
	if s := post(t, sb.APIURL+"/groups/1002", nil, access); s != http.StatusUnauthorized {
		t.Fatalf("the revoked access token answers %d", s)
	}
	if s := post(t, sb.OAuthURL+"/oauth/refresh-token", map[string]string{"refresh_token": refresh}, ""); s != http.StatusUnauthorized {
		t.Fatalf("the revoked refresh token answers %d", s)
	}
	if n := storedCount(t, dir, "upstream/"); n != 0 {
		t.Fatalf("%d upstream records left", n)
	}
	code, out, _ = runWithEnv(t, vars, "logout")
	if code != 0 || !strings.Contains(out, "Convirza: no tokens stored") || !strings.Contains(out, "Talkdesk: no token stored") {
		t.Fatalf("second logout: %d\n%s", code, out)
	}
}

// TestLogoutNeverRevokesTheOperatorsAccessToken: CONVIRZA_ACCESS_TOKEN is
// the operator's: logout leaves it working and says so.
func TestLogoutNeverRevokesTheOperatorsAccessToken(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	body, _ := json.Marshal(map[string]string{"email": sandbox.DemoEmail, "password": sandbox.DemoPassword})
	resp, err := http.Post(sb.OAuthURL+"/oauth/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Data struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&login)
	_ = resp.Body.Close()
	given := login.Data.AccessToken
	vars := upstreamEnv(sb, t.TempDir())
	vars["CONVIRZA_ACCESS_TOKEN"] = given
	if code, _, errs := runWithEnv(t, vars, "call", "get_group_tree"); code != 0 {
		t.Fatalf("call: %d %s", code, errs)
	}
	code, out, errs := runWithEnv(t, vars, "logout")
	if code != 0 || !strings.Contains(out, "CONVIRZA_ACCESS_TOKEN is yours: not revoked") {
		t.Fatalf("logout: %d\n%s%s", code, out, errs)
	}
	if s := post(t, sb.APIURL+"/groups/1002", nil, given); s != http.StatusOK {
		t.Fatalf("the operator's access token answers %d after logout", s)
	}
}

// TestLogoutWithSandbox: the in-process simulator's tokens end with it;
// logout --sandbox says there is nothing to revoke.
func TestLogoutWithSandbox(t *testing.T) {
	code, out, errs := runWithEnv(t, map[string]string{"CONVIRZA_MCP_STATE_DIR": t.TempDir()}, "logout", "--sandbox")
	if code != 0 || !strings.Contains(out, "nothing stored to revoke") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runWithEnv(t, map[string]string{"CONVIRZA_MCP_STATE_DIR": t.TempDir()}, "logout", "extra"); code != 2 || !strings.Contains(errs, "unexpected argument") {
		t.Fatalf("extra argument: %d %s", code, errs)
	}
}

// An operator offboards a person: `logout --user ID`, run with the
// deployment's settings, ends every sign-in of theirs in the shared store,
// so the server refuses their token at their next request, and leaves
// everyone else signed in.
func TestLogoutUserEndsAPersonsSignIns(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	vars := upstreamEnv(sb, t.TempDir())
	maps.Copy(vars, map[string]string{"CONVIRZA_MCP_TRANSPORT": "http", "CONVIRZA_MCP_AUTH": "oauth",
		"CONVIRZA_MCP_ADDR": ln.Addr().String(), "CONVIRZA_MCP_PUBLIC_URL": base})
	cfg, err := config.Load(t.Context(), envconfig.MapLookuper(vars), config.NewFlags(flag.NewFlagSet("t", flag.ContinueOnError)))
	if err != nil {
		t.Fatal(err)
	}
	app, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	srv := httptest.NewUnstartedServer(app.NewHTTP())
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	standard := testenv.SignIn(t, base, sandbox.StandardEmail, base+"/mcp")["access_token"].(string)
	readOnly := testenv.SignIn(t, base, sandbox.ReadOnlyEmail, base+"/mcp")["access_token"].(string)
	initialize := func(tok string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(
			`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := initialize(standard); s != http.StatusOK {
		t.Fatalf("a signed-in person's initialize answered %d", s)
	}

	// As an operator runs it beside the deployment: its settings, but not
	// the server's transport (a Kubernetes manifest passes that as a flag).
	cliVars := maps.Clone(vars)
	delete(cliVars, "CONVIRZA_MCP_TRANSPORT")
	code, out, errs := runWithEnv(t, cliVars, "logout", "--user", "2") // the sandbox's Standard user
	if code != 0 || !strings.Contains(out, "Convirza user 2: 1 sign-in(s) ended") {
		t.Fatalf("logout --user: exit %d\n%s%s", code, out, errs)
	}
	if strings.Contains(out+errs, standard) {
		t.Fatal("logout --user printed the person's token")
	}
	if s := initialize(standard); s != http.StatusUnauthorized {
		t.Fatalf("the offboarded person's token answers %d, want 401", s)
	}
	if s := initialize(readOnly); s != http.StatusOK {
		t.Fatalf("another person's token answers %d after someone else's offboarding", s)
	}

	delete(vars, "CONVIRZA_MCP_AUTH")
	if code, _, errs := runWithEnv(t, vars, "logout", "--user", "2"); code != 2 || !strings.Contains(errs, "CONVIRZA_MCP_AUTH=oauth") {
		t.Fatalf("logout --user without oauth: exit %d %s", code, errs)
	}
	if code, _, errs := runWithEnv(t, vars, "tools", "--user", "2"); code != 2 || !strings.Contains(errs, "--user is for logout") {
		t.Fatalf("--user on another command: exit %d %s", code, errs)
	}
}
