package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

func runCLI(t *testing.T, stdin string, terminal bool, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, env{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		lookup: envconfig.MapLookuper(map[string]string{"CONVIRZA_MCP_STATE_DIR": t.TempDir()}), terminal: terminal,
	})
	return code, out.String(), errb.String()
}

func TestCallPrintsTheDemoHierarchy(t *testing.T) {
	code, out, errs := runCLI(t, "", false, "call", "get_group_tree", "--sandbox")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	for _, want := range []string{"Summit Marketing Agency", "Denver Office", "Cambridge Clinic"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
}

func TestCallConfirmation(t *testing.T) {
	// No terminal and no --yes: refused, nothing deleted.
	code, out, errs := runCLI(t, "", false, "call", "delete_group", `{"id":1042}`, "--sandbox")
	if code != 0 || !strings.Contains(out, "declined") || !strings.Contains(errs, "pass --yes") {
		t.Fatalf("exit %d\nout %s\nerr %s", code, out, errs)
	}
	// A terminal answering n, then y.
	if _, out, errs := runCLI(t, "n\n", true, "call", "delete_group", `{"id":1042}`, "--sandbox"); !strings.Contains(out, "declined") || !strings.Contains(errs, "[y/N]") {
		t.Fatalf("answer n: %s %s", out, errs)
	}
	if code, out, errs := runCLI(t, "y\n", true, "call", "--sandbox", "delete_group", `{"id":1042}`); code != 0 || !strings.Contains(out, `"deleted"`) {
		t.Fatalf("answer y: %d %s %s", code, out, errs)
	}
	if code, out, _ := runCLI(t, "", false, "call", "delete_group", `{"id":1042}`, "--sandbox", "--yes"); code != 0 || !strings.Contains(out, `"deleted"`) {
		t.Fatalf("--yes: %d %s", code, out)
	}
}

func TestCallErrors(t *testing.T) {
	if code, _, errs := runCLI(t, "", false, "call", "get_group", `{"id":"x"}`, "--sandbox"); code != 1 || !strings.Contains(errs, "id must be an integer") {
		t.Errorf("tool error: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", false, "call", "get_group", `not json`, "--sandbox"); code != 2 || !strings.Contains(errs, "JSON object") {
		t.Errorf("bad JSON: %d %s", code, errs)
	}
	if code, _, _ := runCLI(t, "", false, "call", "--sandbox"); code != 2 {
		t.Errorf("missing tool name: %d", code)
	}
	if code, _, errs := runCLI(t, "", false, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("unknown command: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", false, "--transport", "carrier-pigeon"); code != 2 || !strings.Contains(errs, "transport must be") {
		t.Errorf("bad transport: %d %s", code, errs)
	}
}

func TestToolsListing(t *testing.T) {
	code, out, _ := runCLI(t, "", false, "tools", "--sandbox", "--toolsets", "groups")
	if code != 0 || !strings.Contains(out, "delete_group") || !strings.Contains(out, " D ") {
		t.Fatalf("%d %s", code, out)
	}
	code, out, _ = runCLI(t, "", false, "tools", "--read-only")
	if code != 0 || strings.Contains(out, "delete_group") || !strings.Contains(out, "get_group") {
		t.Fatalf("read-only: %d %s", code, out)
	}
}

// TestServeStdioKeepsStdoutForProtocol: every line on stdout is JSON-RPC,
// the logs go to stderr.
func TestServeStdioKeepsStdoutForProtocol(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"serve", "--sandbox"}, env{
			stdin: inR, stdout: outW, stderr: &errb,
			lookup: envconfig.MapLookuper(map[string]string{"CONVIRZA_MCP_LOG_LEVEL": "debug"}),
		})
		outW.Close()
	}()
	send := func(s string) {
		if _, err := io.WriteString(inW, s+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	lines := bufio.NewScanner(outR)
	next := func() string {
		if !lines.Scan() {
			t.Fatalf("stdout closed: %v", lines.Err())
		}
		l := lines.Text()
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["jsonrpc"] != "2.0" {
			t.Fatalf("non-protocol output on stdout: %q", l)
		}
		return l
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	next()
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_group","arguments":{"id":1042}}}`)
	if l := next(); !strings.Contains(l, "Denver Office") {
		t.Fatalf("tool answer: %s", l)
	}
	inW.Close()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
	logs := errb.String()
	if !strings.Contains(logs, "sandbox started") || !strings.Contains(logs, "convirza login") {
		t.Errorf("debug logs should go to stderr: %q", logs)
	}
	for _, secret := range []string{sandbox.DemoPassword, "sbx_at_", "sbx_rt_", "Bearer "} {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret (%s) reached the log", secret)
		}
	}
}

func writePolicy(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPolicyCheck validates a file and prints what it would serve, combined
// with the flags as serve would.
func TestPolicyCheck(t *testing.T) {
	good := writePolicy(t, "toolsets: [groups]\ntools:\n  deny: [delete_*]\nconfirmation:\n  require: [update_group]\nscope:\n  org_units: [1003]\n")
	code, out, errs := runCLI(t, "", false, "policy", "check", good)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"valid", "org units 1003", "update_group", "yes (policy)", "served (7)", "delete_group", "tools.deny: delete_*"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if code, out, _ := runCLI(t, "", false, "policy", "check", good, "--read-only"); code != 0 || !strings.Contains(out, "mode:          read-only") || !strings.Contains(out, "served (4)") {
		t.Errorf("--read-only narrows the policy: %d\n%s", code, out)
	}

	bad := writePolicy(t, "mode: read-write\ntool:\n  deny: [delete_group]\n")
	code, out, errs = runCLI(t, "", false, "policy", "check", bad)
	if code != 1 || out != "" || !strings.Contains(errs, bad+` line 2: unknown key "tool"; did you mean tools?`) {
		t.Fatalf("bad file: exit %d\nout %s\nerr %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", false, "policy", "lint", good); code != 2 || !strings.Contains(errs, "usage") {
		t.Errorf("usage: %d %s", code, errs)
	}
}

// TestServeRefusesABadPolicy: the process exits non-zero at start-up, naming
// the line.
func TestServeRefusesABadPolicy(t *testing.T) {
	bad := writePolicy(t, "confirmation:\n  mode: maybe\n")
	code, _, errs := runCLI(t, "", false, "serve", "--sandbox", "--policy", bad)
	if code != 1 || !strings.Contains(errs, "line 2: confirmation.mode must be auto, elicitation, approval or token") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// TestSandboxCommand: the simulator served alone prints its URLs as one
// JSON line, answers a demo login there with the token lifetime asked for,
// and stops when told to.
func TestSandboxCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--access-ttl", "3s"}, env{
			stdin: strings.NewReader(""), stdout: pw, stderr: io.Discard, lookup: envconfig.MapLookuper(map[string]string{}),
		})
		_ = pw.Close()
	}()
	var urls struct {
		APIURL        string `json:"api_url"`
		OAuthURL      string `json:"oauth_url"`
		TalkdeskAPI   string `json:"talkdesk_api_url"`
		TalkdeskToken string `json:"talkdesk_token_url"`
	}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "{") {
			if err := json.Unmarshal(sc.Bytes(), &urls); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if urls.APIURL == "" || urls.OAuthURL == "" || urls.TalkdeskAPI == "" || urls.TalkdeskToken == "" {
		t.Fatalf("urls: %+v", urls)
	}
	body := strings.NewReader(`{"email":"` + sandbox.DemoEmail + `","password":"` + sandbox.DemoPassword + `"}`)
	res, err := http.Post(urls.OAuthURL+"/oauth/token", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Data struct {
			ExpiresIn string `json:"expires_in"`
		} `json:"data"`
		ExpiresIn string `json:"expires_in"`
	}
	_ = json.NewDecoder(res.Body).Decode(&login)
	_ = res.Body.Close()
	exp := login.ExpiresIn + login.Data.ExpiresIn
	at, err := time.Parse(time.RFC3339, exp)
	if res.StatusCode != http.StatusOK || err != nil || time.Until(at) > 10*time.Second {
		t.Fatalf("login: %d, expires %q (%v)", res.StatusCode, exp, err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestVersion: --version and version print the build's identity, a plain
// build's as (devel), and read no configuration.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}, {"serve", "--version"}} {
		code, out, errs := runCLI(t, "", false, args...)
		if code != 0 || !strings.HasPrefix(out, "convirza-mcp ") || !strings.Contains(out, "(devel)") || errs != "" {
			t.Errorf("%v: exit %d, %q %q", args, code, out, errs)
		}
	}
}

// TestHealthcheck: exit 0 when a running HTTP server answers /healthz,
// 1 when nothing does.
func TestHealthcheck(t *testing.T) {
	app := testenv.Start(t, testenv.Options{Configure: func(c *config.Config) { c.Transport, c.Addr = "http", "127.0.0.1:0" }})
	_, base := testenv.Listen(t, app)
	addr := strings.TrimPrefix(base, "http://")
	if code, _, errs := runCLI(t, "", false, "healthcheck", "--addr", addr); code != 0 {
		t.Fatalf("healthy server: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", false, "healthcheck", "--addr", "127.0.0.1:1"); code != 1 || !strings.Contains(errs, "healthcheck") {
		t.Fatalf("no server: exit %d: %s", code, errs)
	}
}
