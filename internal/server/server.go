// Package server wires configuration, upstream clients, the policy layer and
// the tool registry into an MCP server, and serves it over stdio or HTTP
// (Streamable HTTP at /mcp and legacy SSE at /sse + /message).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/talkdesk"
	"github.com/convirza/convirza-mcp/internal/tracing"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/internal/version"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/tools"
)

// Name identifies the server to clients; its version is the build's
// (internal/version).
const Name = "convirza-mcp"

// recordListsInstructions is added when the record_lists toolset is on.
const recordListsInstructions = ` Talkdesk record lists (the outbound dialer's contact lists): start with list_record_lists to find their ids.`

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
	// Plan is the policy in force and the tools it serves.
	Plan *Plan
	// Store is the state store: confirmation tokens, approvals, upstream
	// credentials, counters.
	Store store.Store
	// Approvals are the confirmations a person decides out of band.
	Approvals *policy.Approvals
	// confirm is the confirmation protocol; its Pages are set before
	// serving (the HTTP listener's pages, or a stdio server's desktop page).
	confirm *policy.Confirmer
	// pages are the HTTP listener's approval pages (links to them).
	pages   *httpPages
	webhook *webhook
	log     *slog.Logger
	obs     *observer // metrics and HTTP session accounting
	// clients counts what each HTTP client holds at once, for the
	// per-client caps; in memory, per replica.
	clients ClientCounter
	tracing *tracing.Provider // nil: off

	// OAuth is the per-person sign-in (CONVIRZA_MCP_AUTH=oauth over HTTP;
	// nil otherwise).
	OAuth *oauth.Server
	// fence says whether this replica's policy is the one replicas sharing
	// the store serve (see fence.go); HTTP serving keeps it checked.
	fence *policyFence
	// proxies are the addresses whose X-Forwarded-For is believed
	// (CONVIRZA_MCP_TRUSTED_PROXIES).
	proxies []netip.Prefix
	// now is the per-person sign-in's clock (WithClock; nil: time.Now).
	now func() time.Time
}

// Option changes how New builds the app.
type Option func(*App)

// WithTracing traces every request, tool call and upstream attempt
// through p (nil: tracing off).
func WithTracing(p *tracing.Provider) Option { return func(a *App) { a.tracing = p } }

// WithClock makes now the clock of the per-person sign-in
// (CONVIRZA_MCP_AUTH=oauth): its tokens' lifetimes and how long ago
// Convirza confirmed a person's role. For tests; nil: the real time.
func WithClock(now func() time.Time) Option { return func(a *App) { a.now = now } }

// New builds the app. It makes no upstream call: the first tool call logs in.
func New(cfg *config.Config, log *slog.Logger, opts ...Option) (*App, error) {
	a := &App{Config: cfg, log: log, obs: newObserver(cfg.MaxSessions), clients: newMemCounter()}
	for _, o := range opts {
		o(a)
	}
	proxies, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	a.proxies = proxies
	ccfg := convirza.Config{
		APIURL: cfg.Convirza.APIURL, OAuthURL: cfg.Convirza.OAuthURL,
		Email: cfg.Convirza.Email, Password: cfg.Convirza.Password,
		AccessToken: cfg.Convirza.AccessToken, RefreshToken: cfg.Convirza.RefreshToken,
	}
	tcfg := talkdesk.Config{
		Account: cfg.Talkdesk.Account, Region: cfg.Talkdesk.Region,
		ClientID: cfg.Talkdesk.ClientID, ClientSecret: cfg.Talkdesk.ClientSecret,
		APIURL: cfg.Talkdesk.APIURL, TokenURL: cfg.Talkdesk.TokenURL,
	}
	if cfg.Sandbox {
		sb, err := sandbox.New(sandbox.Options{}).Start()
		if err != nil {
			return nil, err
		}
		a.Sandbox = sb
		ccfg = convirza.Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, Email: sandbox.DemoEmail, Password: sandbox.DemoPassword}
		tcfg = talkdesk.Config{
			Account: sandbox.TalkdeskAccount, ClientID: sandbox.TalkdeskClientID, ClientSecret: sandbox.TalkdeskClientSecret,
			APIURL: sb.TalkdeskAPIURL, TokenURL: sb.TalkdeskTokenURL,
		}
		log.Info("sandbox started: demo account, no real upstream", "url", sb.URL)
	}
	st, sealer, err := OpenStore(cfg, log)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Store = st
	if !cfg.Sandbox {
		// The upstream tokens the server obtains are kept in the store,
		// sealed. Not the in-process simulator's: they end with it.
		ccfg.Store, ccfg.Sealer = st, sealer
		tcfg.Store, tcfg.Sealer = st, sealer
	}
	hc := upstream.New(nil, upstream.Policy{Timeout: cfg.UpstreamTimeout}, log)
	hc.Observe = a.obs.observeUpstream
	if a.tracing != nil {
		hc.Trace = tracing.Upstream
	}
	if err := a.newOAuth(cfg, hc, ccfg.OAuthURL, sealer); err != nil {
		a.Close()
		return nil, err
	}
	a.Deps = &tools.Deps{Convirza: convirza.New(ccfg, hc, log), Talkdesk: talkdesk.New(tcfg, hc, log), Log: log, MediaDir: cfg.MediaDir}
	if err := a.Deps.Convirza.Configured(); err != nil && a.OAuth == nil { // under oauth, calls use each person's login
		log.Warn("Convirza tools will answer with an error until credentials are set", "why", err.Error())
	}

	plan, err := NewPlan(cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Plan, a.Tools = plan, plan.Tools
	if plan.Policy.Policy != nil && plan.Policy.Policy.OtherApprover && a.OAuth == nil {
		// Only people signed in with their Convirza account are told apart:
		// elsewhere the rule could not be kept, and silently off it is
		// worse than refused.
		a.Close()
		return nil, errors.New("policy confirmation.approver: other needs CONVIRZA_MCP_AUTH=oauth over HTTP (CONVIRZA_MCP_TRANSPORT=http): only there does the server know who asked and who approves; remove the key or sign people in")
	}
	digest, err := policyDigest(cfg, plan)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.fence = newPolicyFence(st, digest, cfg.PolicyGeneration, ReplicaName(cfg), log)
	g, hooks, err := a.guards(plan)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.obs.addHooks(hooks)
	talkdeskSelected := slices.ContainsFunc(plan.Tools, func(t tools.Tool) bool { return t.Toolset == "record_lists" })
	switch err := a.Deps.Talkdesk.Configured(); {
	case talkdeskSelected && err != nil:
		log.Warn("Talkdesk record_lists tools will answer with an error until credentials are set", "why", err.Error())
	case !talkdeskSelected && err == nil && !cfg.Sandbox:
		log.Info("Talkdesk credentials are set but the record_lists toolset is off; enable it with --toolsets default,record_lists (or CONVIRZA_MCP_TOOLSETS)")
	}
	instr := serverInstructions(talkdeskSelected)
	if g.Scope != nil {
		instr += fmt.Sprintf(" This server is limited to org unit(s) %s and their descendants; anything else is refused.", joinIDs(g.Scope.Roots()))
	}
	a.obs.classes = make(map[string]policy.Class, len(plan.Tools))
	for _, t := range plan.Tools {
		a.obs.classes[t.Name] = t.Class
	}
	mcpOpts := []server.ServerOption{
		server.WithToolHandlerMiddleware(a.obs.toolMiddleware), // outermost: sees what the client gets
		server.WithToolHandlerMiddleware(a.fence.middleware),   // a replica whose policy differs refuses
		server.WithToolHandlerMiddleware(a.personMiddleware),   // CONVIRZA_MCP_AUTH=oauth: the call acts as its person
		server.WithToolFilter(a.personTools),                   // and sees the tools its Convirza role may use
		server.WithHooks(hooks),                                // one Hooks value: mcp-go keeps only the last WithHooks
		server.WithToolCapabilities(false),
		server.WithRecovery(),
		server.WithInstructions(instr),
	}
	if a.tracing != nil {
		mcpOpts = append(mcpOpts, server.WithTracer(a.tracing.Tracer()),
			server.WithMetaPropagator(tracing.MetaPropagator()), server.WithPropagator(tracing.HeaderPropagator()),
			server.WithLogger(a.log)) // a line per request and per tool call, with its trace id
	}
	a.MCP = server.NewMCPServer(Name, version.Get().Version, mcpOpts...)
	if err := tools.Register(a.MCP, plan, cfg.ToolMode == "compact", a.Deps, g); err != nil {
		a.Close()
		return nil, err
	}
	a.extras(plan, g) // prompts.go: progress, prompts, resources, completions
	return a, nil
}

// Plan is what a configuration serves (see tools.Plan).
type Plan = tools.Plan

// NewPlan loads the policy file named by cfg.Policy (if any), combines it
// with the flags and environment, and decides what is served. A bad policy
// file is an error naming the file, line and problem. It makes no upstream
// call.
func NewPlan(cfg *config.Config) (*Plan, error) {
	cat := tools.Catalog()
	pol := &policy.Policy{}
	if cfg.Policy != "" {
		p, err := policy.Load(cfg.Policy, cat)
		if err != nil {
			return nil, err
		}
		pol = p
	}
	eff, err := pol.Combine(policy.Settings{ReadOnly: cfg.ReadOnly, Toolsets: cfg.Toolsets, ConfirmMode: cfg.ConfirmMode, ConfirmTTL: cfg.ConfirmTTL}, cat)
	if err != nil {
		return nil, err
	}
	return tools.NewPlan(eff)
}

// guards builds the policy's hooks around tool calls, and the server hooks
// that put calls to withheld tools on the audit record.
func (a *App) guards(plan *Plan) (tools.Guards, *server.Hooks, error) {
	eff := plan.Policy
	hooks := &server.Hooks{}
	toks, err := policy.NewTokens([]byte(a.Config.ConfirmKey), eff.ConfirmTTL, a.Store)
	if err != nil {
		return tools.Guards{}, nil, err
	}
	// A token is redeemed only under the policy generation and digest it
	// was issued under, and only while this replica serves (fence.go).
	toks.Policy = a.fence.epoch()
	toks.Gate = func() error {
		if why := a.fence.refusing(); why != "" {
			return errors.New(why)
		}
		return nil
	}
	a.Approvals = policy.NewApprovals(a.Store)
	a.Deps.Spend = &policy.Spend{Store: a.Store, Limits: eff.Policy.Limits}
	a.confirm = &policy.Confirmer{Tokens: toks, Approvals: a.Approvals, Mode: eff.ConfirmMode,
		Wait: a.Config.ApprovalWait, URLWait: a.Config.ApprovalWait}
	a.pages = newHTTPPages(a.Config.PublicURL, a.Config.Addr)
	if a.Config.Transport == "http" && len(a.Config.ApproverTokens()) > 0 {
		// Pages nobody can sign in to are not offered.
		a.confirm.Pages = a.pages
	}
	if u := a.Config.ApprovalWebhook; u != "" {
		a.webhook = newWebhook(u, a.log, func() policy.Pages { return a.confirm.Pages })
		a.confirm.Notify = a.webhook.notify
	}
	g := tools.Guards{Confirm: a.confirm}
	if roots := eff.Policy.OrgUnits; len(roots) > 0 {
		if err := a.scopeCanResolve(); err != nil {
			return tools.Guards{}, nil, err
		}
		// The scope is the operator's rule: its units are looked up with the
		// server's own Convirza login, never the person's (groups are
		// Admin-only at Convirza, and one person's view must not decide
		// another's scope).
		hierarchy := func(ctx context.Context, root int64) ([]int64, error) {
			return a.Deps.Convirza.Groups.Hierarchy(convirza.WithoutCaller(ctx), root)
		}
		g.Scope = policy.NewScope(roots, hierarchy, policy.DefaultScopeTTL)
	}
	if a.OAuth != nil {
		// A person's call of a tool not theirs says why, is counted and is
		// put on the audit record (g's, built by then).
		hooks.AddOnRequestInitialization(func(ctx context.Context, _ any, message any) error {
			return a.refuseByRole(ctx, message, &g)
		})
	}
	if path := eff.Policy.AuditFile; path != "" {
		log, err := OpenAuditLog(a.Config, path)
		if err != nil {
			return tools.Guards{}, nil, err
		}
		g.Audit = log
		// A withheld tool is unknown to the client ("not found"), but a call
		// to it is a refusal worth recording.
		hooks.AddBeforeCallTool(func(ctx context.Context, _ any, req *mcp.CallToolRequest) {
			w, ok := plan.Withheld[req.Params.Name]
			if !ok {
				return
			}
			args := req.Params.RawArguments
			if len(args) == 0 && req.Params.Arguments != nil {
				args, _ = json.Marshal(req.Params.Arguments)
			}
			g.Withheld(ctx, a.Deps, req.Params.Name, w, args)
		})
		a.log.Info("audit log", "file", path)
	}
	return g, hooks, nil
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// Close stops the sandbox, if any, lets approval notices in flight finish,
// and closes the state store.
func (a *App) Close() {
	if a.webhook != nil {
		a.webhook.wait()
	}
	if a.Sandbox != nil {
		_ = a.Sandbox.Close()
		a.Sandbox = nil
	}
	if a.Store != nil {
		_ = a.Store.Close()
		a.Store = nil
	}
}

// OpenAuditLog opens the audit log at path for this process: its lines
// name the replica (CONVIRZA_MCP_REPLICA, default the host name). The
// server and the approvals command both open it so.
func OpenAuditLog(cfg *config.Config, path string) (*policy.AuditLog, error) {
	l, err := policy.NewAuditLog(path)
	if err != nil {
		return nil, err
	}
	l.Replica = ReplicaName(cfg)
	return l, nil
}

// ReplicaName is the name of this process in audit lines: the configured
// replica name, else the host name.
func ReplicaName(cfg *config.Config) string {
	if cfg.Replica != "" {
		return cfg.Replica
	}
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return ""
}

// OpenStore opens the state store the configuration names: Redis, or the
// embedded store in the state directory (its sandbox subdirectory with
// --sandbox), and the sealer of upstream credentials kept in it. The
// server and the approvals command open the same one so. A wrong URL or
// key is an error; an unreachable Redis only warns: reads keep working,
// and what needs the store says so.
func OpenStore(cfg *config.Config, log *slog.Logger) (store.Store, *store.Sealer, error) {
	dir := cfg.StateDir
	if dir == "" && cfg.Store == "" {
		d, err := store.DefaultStateDir()
		if err != nil {
			return nil, nil, fmt.Errorf("no state directory (set CONVIRZA_MCP_STATE_DIR): %w", err)
		}
		dir = d
	}
	if cfg.Sandbox && dir != "" {
		dir = filepath.Join(dir, "sandbox")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	st, err := store.Open(ctx, cfg.Store, dir)
	if err != nil {
		return nil, nil, err
	}
	// The key that seals upstream credentials at rest: a wrong one is a
	// configuration error.
	sealer, err := store.OpenSealer(cfg.StoreKey, cfg.StoreKeyPrevious, cfg.Store, dir)
	if err != nil {
		_ = st.Close()
		return nil, nil, err
	}
	if err := st.Ping(ctx); err != nil {
		log.Warn("the state store cannot be reached: confirmable tools will refuse until it can", "err", err.Error())
	}
	return st, sealer, nil
}

// SealedRecords are the state store's records that hold values sealed
// with the store key: those of every package New gives the sealer to, as
// each declares them beside the keys it writes. convirza-mcp rekey
// re-seals them.
func SealedRecords() []store.SealedRecords {
	return []store.SealedRecords{convirza.SealedRecords, talkdesk.SealedRecords, oauth.SealedRecords}
}

// ServeStdio serves one client over in/out until ctx ends or in closes.
// A confirmation a person decides out of band is shown on a page of a
// loopback listener, opened in the person's browser where one can be
// (CONVIRZA_MCP_APPROVAL_BROWSER).
func (a *App) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	if a.confirm != nil && a.confirm.Pages == nil {
		d := newDesktopPages(desktopOptions{approvals: a.Approvals, store: a.Store, log: a.log,
			approverTokens: a.Config.ApproverTokens(), browser: a.Config.ApprovalBrowser,
			linkTTL: a.confirm.Tokens.TTL() + time.Minute})
		a.confirm.Pages = d // before serving: every call sees it
		defer d.Close()
	}
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

func serverInstructions(recordLists bool) string {
	if recordLists {
		return instructions + recordListsInstructions
	}
	return instructions
}

// scopeCanResolve refuses a scoped server that signs people in but has no
// Convirza login of its own: the scope's org units could never be looked
// up, so every call in it would be refused.
func (a *App) scopeCanResolve() error {
	c := a.Config
	if c.Auth != config.AuthOAuth || c.Transport != "http" || c.Sandbox {
		return nil
	}
	cv := c.Convirza
	if cv.Email != "" && cv.Password != "" || cv.AccessToken != "" || cv.RefreshToken != "" {
		return nil
	}
	return errors.New("the policy's org-unit scope (scope.org_units) is looked up with the server's own Convirza login, and CONVIRZA_MCP_AUTH=oauth gives it none: set CONVIRZA_EMAIL and CONVIRZA_PASSWORD (or CONVIRZA_REFRESH_TOKEN) of an Admin user, as groups are Admin-only at Convirza")
}
