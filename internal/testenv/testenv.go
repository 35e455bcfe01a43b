// Package testenv starts the whole server against the sandbox and connects
// an in-process MCP client to it, for tests of every package.
package testenv

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
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
}

// Env is a running server with a connected client.
type Env struct {
	App    *server.App
	Client *client.Client
}

type elicitFunc func(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error)

func (f elicitFunc) Elicit(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return f(ctx, req)
}

// New starts a sandboxed server and an initialised client; both stop when
// the test ends.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	cfg := &config.Config{
		Sandbox:         true,
		Transport:       "stdio",
		Toolsets:        o.Toolsets,
		ReadOnly:        o.ReadOnly,
		UpstreamTimeout: 10 * time.Second,
		ConfirmMode:     o.ConfirmMode,
		ConfirmTTL:      5 * time.Minute,
		SessionIdleTTL:  time.Minute,
		ToolMode:        "full",
	}
	if cfg.Toolsets == nil {
		cfg.Toolsets = []string{"all"}
	}
	cfg.Talkdesk.Region = "us"
	if o.Policy != "" {
		cfg.Policy = filepath.Join(t.TempDir(), "policy.yaml")
		if err := os.WriteFile(cfg.Policy, []byte(o.Policy), 0o600); err != nil {
			t.Fatalf("policy file: %v", err)
		}
	}
	if o.Configure != nil {
		o.Configure(cfg)
	}
	app, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	t.Cleanup(app.Close)
	e := (&Env{App: app}).Connect(t, o)
	app.Sandbox.ResetCalls()
	return e
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
	return &Env{App: app, Client: c}
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
