// Package testenv is the one way tests start the server: built from a
// configuration as serve builds it, against the sandbox, with an in-process
// MCP client (New), without one (Start), or served over HTTP (Listen).
// Config is the one test configuration; sandboxenv.Start the one way to get
// a simulator of one's own (with options: a clock, token lifetimes), which
// the server can be pointed at (Options.Sandbox). WaitFor and Recv bound
// every wait of a test.
package testenv

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/sethvargo/go-envconfig"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/server"
)

// Options shape a test server and its client.
type Options struct {
	// Toolsets defaults to all.
	Toolsets []string
	ReadOnly bool
	// ConfirmMode: auto (default), elicitation or token.
	ConfirmMode string
	// Protocol pins the client's protocol version; empty means the client's
	// default (the modern 2026-07-28 revision).
	Protocol string
	// Elicit, when set, makes the client declare elicitation and answer with it.
	Elicit func(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error)
	// Configure adjusts the configuration before the server is built.
	Configure func(*config.Config)
	// Policy, when set, is the YAML of a policy file: it is written to a
	// temporary file and applied as --policy FILE would be.
	Policy string
	// Log receives the server's log; nil discards it.
	Log *slog.Logger
	// Sandbox, when set, is a simulator the test started (sandboxenv.Start):
	// the server uses it as its upstream the way it uses the real APIs
	// (not --sandbox), logged in with the demo credentials, which Configure
	// may change. Unset, the server runs as --sandbox does and starts its own.
	Sandbox *sandbox.Running
	// Now, when set, is the clock of the per-person sign-in
	// (server.WithClock).
	Now func() time.Time
}

// Patience bounds every wait of WaitFor and Recv: what a test waits for
// takes milliseconds, so reaching it means the awaited thing never happens.
const Patience = 10 * time.Second

// Env is a running server with a connected client.
type Env struct {
	App    *server.App
	Client *client.Client
	// Sandbox is the server's upstream: Options.Sandbox or the one the
	// server started (App.Sandbox).
	Sandbox *sandbox.Running
}

type elicitFunc func(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error)

func (f elicitFunc) Elicit(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return f(ctx, req)
}

// Config is the configuration of a test server: what serve gets with no
// environment and no flags, plus the sandbox, every toolset and a 10 s
// upstream timeout, shaped by o (Configure last).
func Config(t testing.TB, o Options) *config.Config {
	t.Helper()
	cfg, err := config.Load(context.Background(), envconfig.MapLookuper(nil), nil)
	if err != nil {
		t.Fatalf("default configuration: %v", err)
	}
	cfg.Sandbox = true
	cfg.Toolsets = o.Toolsets
	if cfg.Toolsets == nil {
		cfg.Toolsets = []string{"all"}
	}
	cfg.ReadOnly = o.ReadOnly
	cfg.UpstreamTimeout = 10 * time.Second
	// Each test its own state store; a pending approval is waited on
	// briefly (a test approves before it redeems, or checks the refusal).
	cfg.StateDir = t.TempDir()
	cfg.ApprovalWait = 300 * time.Millisecond
	if o.ConfirmMode != "" {
		cfg.ConfirmMode = o.ConfirmMode
	}
	if sb := o.Sandbox; sb != nil {
		cfg.Sandbox = false
		cfg.Convirza = config.Convirza{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, Email: sandbox.DemoEmail, Password: sandbox.DemoPassword}
		cfg.Talkdesk = config.Talkdesk{Region: cfg.Talkdesk.Region, Account: sandbox.TalkdeskAccount,
			ClientID: sandbox.TalkdeskClientID, ClientSecret: sandbox.TalkdeskClientSecret,
			APIURL: sb.TalkdeskAPIURL, TokenURL: sb.TalkdeskTokenURL}
	}
	if o.Policy != "" {
		cfg.Policy = filepath.Join(t.TempDir(), "policy.yaml")
		if err := os.WriteFile(cfg.Policy, []byte(o.Policy), 0o600); err != nil {
			t.Fatalf("policy file: %v", err)
		}
	}
	if o.Configure != nil {
		o.Configure(cfg)
	}
	return cfg
}

// Start builds the server from Config(t, o), without a client; it stops
// when the test ends.
func Start(t testing.TB, o Options) *server.App {
	t.Helper()
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var opts []server.Option
	if o.Now != nil {
		opts = append(opts, server.WithClock(o.Now))
	}
	app, err := server.New(Config(t, o), log, opts...)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	t.Cleanup(app.Close)
	return app
}

// New starts a server (Start) and an initialised in-process client; both
// stop when the test ends. The upstream's record of calls starts empty.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	app := Start(t, o)
	e := (&Env{App: app, Sandbox: o.Sandbox}).Connect(t, o)
	if e.Sandbox != nil {
		e.Sandbox.ResetCalls()
	}
	return e
}

// Listen serves app's HTTP transport (Streamable HTTP, SSE, health,
// metrics) on a loopback port through httptest and returns it with its
// base URL; it stops when the test ends.
func Listen(t testing.TB, app *server.App) (*server.HTTP, string) {
	t.Helper()
	h := app.NewHTTP()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv.URL
}

// WaitFor polls cond until it holds and fails the test, naming what it
// waited for, if it does not within Patience.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(Patience)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("waited %s for %s", Patience, what)
		case <-tick.C:
		}
	}
}

// Recv returns the next value from ch and fails the test, naming what it
// waited for, if none arrives within Patience.
func Recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	deadline := time.NewTimer(Patience)
	defer deadline.Stop()
	select {
	case v := <-ch:
		return v
	case <-deadline.C:
		t.Fatalf("waited %s for %s", Patience, what)
	}
	var zero T
	return zero
}

// Connect opens another client session on the same server.
func (e *Env) Connect(t testing.TB, o Options) *Env {
	t.Helper()
	app := e.App
	var opts []client.ClientOption
	if o.Elicit != nil {
		opts = append(opts, client.WithElicitationHandler(elicitFunc(o.Elicit)))
	}
	if o.Protocol != "" {
		opts = append(opts, client.WithProtocolVersion(o.Protocol))
	}
	c, err := client.NewInProcessClientWithOptions(app.MCP, opts...)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("client start: %v", err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "testenv", Version: "1"}
	if o.Protocol != "" {
		init.Params.ProtocolVersion = o.Protocol
	}
	if o.Elicit != nil {
		init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	sb := e.Sandbox
	if sb == nil {
		sb = app.Sandbox
	}
	return &Env{App: app, Client: c, Sandbox: sb}
}

// Call runs a tool with arguments given as JSON and fails the test on a
// protocol error (tool errors are results: check IsError).
func (e *Env) Call(t testing.TB, name, args string) *mcp.CallToolResult {
	t.Helper()
	var m map[string]any
	if args != "" {
		dec := json.NewDecoder(strings.NewReader(args))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("bad test arguments %s: %v", args, err)
		}
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = m
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := e.Client.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return res
}

// OK runs a tool, fails the test if it answered an error, and returns the
// structured result.
func (e *Env) OK(t testing.TB, name, args string) map[string]any {
	t.Helper()
	res := e.Call(t, name, args)
	if res.IsError {
		t.Fatalf("%s %s: unexpected error: %s", name, args, Text(res))
	}
	return Structured(t, res)
}

// Fail runs a tool, fails the test unless it answered an error, and returns
// the error text.
func (e *Env) Fail(t testing.TB, name, args string) string {
	t.Helper()
	res := e.Call(t, name, args)
	if !res.IsError {
		t.Fatalf("%s %s: expected an error, got %s", name, args, Text(res))
	}
	return Text(res)
}

// Text joins the result's text contents.
func Text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// Structured returns the structured content as a generic object.
func Structured(t testing.TB, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatalf("structured content: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		t.Fatalf("structured content is not an object: %s", b)
	}
	return m
}

// Accept answers an elicitation with confirm: true.
func Accept(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"confirm": true}}}, nil
}

// Answer returns an elicitation handler that always gives action.
func Answer(action mcp.ElicitationResponseAction, content any) func(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return func(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: action, Content: content}}, nil
	}
}

// Approved approves, as a person would through the approvals command, the
// pending approval a confirmable call's first answer names, and returns
// its confirmation_token. An answer without approval_id (mode token) is
// returned as it is.
func (e *Env) Approved(t testing.TB, first map[string]any) string {
	t.Helper()
	tok, _ := first["confirmation_token"].(string)
	if id, ok := first["approval_id"].(string); ok && e.App.Approvals != nil {
		if _, err := e.App.Approvals.Decide(context.Background(), id, true, "test approver", "cli"); err != nil {
			t.Fatalf("approve %s: %v", id, err)
		}
	}
	return tok
}

// AuditLines returns the lines of the audit log at path, each decoded.
func AuditLines(t testing.TB, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line is not JSON: %v: %s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}
