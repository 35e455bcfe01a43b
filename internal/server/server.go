// Package server wires configuration, upstream clients, the policy layer and
// the tool registry into an MCP server, and serves it over stdio or HTTP
// (Streamable HTTP at /mcp and legacy SSE at /sse + /message).
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/tools"
)

// Name and Version identify the server to clients.
const (
	Name    = "convirza-mcp"
	Version = "0.1.0"
)

const instructions = `Operates a Convirza call-tracking account. Start with get_group_tree to find org unit ids. ` +
	`Destructive or costly tools (class D or W$) never run on the first call: the user is asked through the client, ` +
	`or the result is status "confirmation_required" with an action sentence and a confirmation_token. Show the action ` +
	`to the user and call again with the token only after they approve.`

// App is a configured server, ready to serve.
type App struct {
	Config  *config.Config
	MCP     *server.MCPServer
	Tools   []tools.Tool
	Deps    *tools.Deps
	Sandbox *sandbox.Running
	log     *slog.Logger
}

// New builds the app. It makes no upstream call: the first tool call logs in.
func New(cfg *config.Config, log *slog.Logger) (*App, error) {
	a := &App{Config: cfg, log: log}
	ccfg := convirza.Config{
		APIURL: cfg.Convirza.APIURL, OAuthURL: cfg.Convirza.OAuthURL,
		Email: cfg.Convirza.Email, Password: cfg.Convirza.Password,
		AccessToken: cfg.Convirza.AccessToken, RefreshToken: cfg.Convirza.RefreshToken,
	}
	if cfg.Sandbox {
		sb, err := sandbox.New(sandbox.Options{}).Start()
		if err != nil {
			return nil, err
		}
		a.Sandbox = sb
		ccfg = convirza.Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, Email: sandbox.DemoEmail, Password: sandbox.DemoPassword}
		log.Info("sandbox started: demo account, no real upstream", "url", sb.URL)
	}
	hc := upstream.New(nil, upstream.Policy{Timeout: cfg.UpstreamTimeout}, log)
	a.Deps = &tools.Deps{Convirza: convirza.New(ccfg, hc, log), Log: log}
	if err := a.Deps.Convirza.Configured(); err != nil {
		log.Warn("Convirza tools will answer with an error until credentials are set", "why", err.Error())
	}

	mode, err := policy.ParseMode(cfg.ConfirmMode)
	if err != nil {
		a.Close()
		return nil, err
	}
	toks, err := policy.NewTokens([]byte(cfg.ConfirmKey), cfg.ConfirmTTL)
	if err != nil {
		a.Close()
		return nil, err
	}
	selected, err := tools.Select(cfg.Toolsets, cfg.ReadOnly)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Tools = selected
	a.MCP = server.NewMCPServer(Name, Version,
		server.WithToolCapabilities(false),
		server.WithRecovery(),
		server.WithInstructions(instructions),
	)
	if err := tools.Register(a.MCP, selected, a.Deps, tools.Guards{Confirm: &policy.Confirmer{Tokens: toks, Mode: mode}}); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// Close stops the sandbox, if any.
func (a *App) Close() {
	if a.Sandbox != nil {
		_ = a.Sandbox.Close()
		a.Sandbox = nil
	}
}

// ServeStdio serves one client over in/out until ctx ends or in closes.
func (a *App) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	s := server.NewStdioServer(a.MCP)
	s.SetErrorLogger(slog.NewLogLogger(a.log.Handler(), slog.LevelError))
	err := s.Listen(ctx, in, out)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("stdio: %w", err)
	}
	return nil
}

// httpError writes a plain JSON error for the HTTP layer.
func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"error\":%q}\n", msg)
}
