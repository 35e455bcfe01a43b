// Command convirza-mcp is an MCP server for a Convirza call-tracking account
// and Talkdesk Record Lists.
//
//	convirza-mcp [serve] [flags]        run the server (stdio by default)
//	convirza-mcp tools [flags]          list the tools
//	convirza-mcp call TOOL [JSON] [flags]
//	                                    run one tool through the same policy
//	convirza-mcp policy check FILE [flags]
//	                                    validate a policy file, print what it serves
//	convirza-mcp approvals list | show ID | approve ID | decline ID [flags]
//	                                    a person decides pending confirmations
//	convirza-mcp sandbox [--addr 127.0.0.1:9090] [--access-ttl D] [--talkdesk-token-ttl D]
//	                                    the simulator of both upstreams alone
//	convirza-mcp logout [flags]         revoke and forget the upstream tokens the server obtained
//	convirza-mcp logout --user ID       end one person's sign-ins (CONVIRZA_MCP_AUTH=oauth)
//	convirza-mcp rekey [flags]          re-seal the stored credentials with the current store key
//
// Every subcommand accepts --sandbox.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/sethvargo/go-envconfig"
	"golang.org/x/term"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/logging"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/tracing"
	"github.com/convirza/convirza-mcp/internal/version"
	"github.com/convirza/convirza-mcp/tools"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := run(ctx, os.Args[1:], env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		lookup: envconfig.OsLookuper(), terminal: isTerminal(os.Stdin), tty: openTTY,
	})
	os.Exit(code)
}

// env is the process's outside world, replaceable in tests.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookup         envconfig.Lookuper
	terminal       bool
	// tty opens the controlling terminal, where approvals approve and
	// decline ask their question; nil: there is none.
	tty func() (io.ReadWriteCloser, error)
}

const usage = `Usage:
  convirza-mcp [serve] [flags]             run the MCP server (stdio unless --transport http)
  convirza-mcp tools [flags]               list the tools: name, toolset, class, summary
  convirza-mcp call TOOL ['JSON'] [flags]  run one tool through the same validation and policy
  convirza-mcp policy check FILE [flags]   validate a policy file and print the tools it serves
  convirza-mcp logout [flags]              revoke and forget the upstream tokens the server obtained
  convirza-mcp logout --user ID [flags]    end a person's sign-ins everywhere (CONVIRZA_MCP_AUTH=oauth: offboarding)
  convirza-mcp rekey [flags]               re-seal the stored credentials with CONVIRZA_MCP_STORE_KEY (after a
                                           rotation; then CONVIRZA_MCP_STORE_KEY_PREVIOUS can be dropped)
  convirza-mcp approvals list | show ID | approve ID | decline ID [flags]
                                           pending confirmations: list, show, and decide them on
                                           this terminal (same state store as serve; --sandbox too)
  convirza-mcp sandbox [--addr 127.0.0.1:9090] [--access-ttl D] [--talkdesk-token-ttl D]
                                           serve the simulator of both upstreams alone (for replicas)
  convirza-mcp healthcheck [--addr]        exit 0 when the HTTP server's /healthz answers (images without a shell)
  convirza-mcp version, --version          version, commit and build date

Flags:
`

func run(ctx context.Context, args []string, e env) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if cmd == "version" || slices.Contains(args, "--version") || slices.Contains(args, "-version") {
		fmt.Fprintln(e.stdout, version.Get())
		return 0
	}
	fs := flag.NewFlagSet("convirza-mcp", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	flags := config.NewFlags(fs)
	yes := fs.Bool("yes", false, "call: confirm destructive or costly actions without asking")
	accessTTL := fs.Duration("access-ttl", 0, "sandbox: lifetime of the simulator's Convirza access tokens (default the documented 7 days)")
	talkdeskTTL := fs.Duration("talkdesk-token-ttl", 0, "sandbox: lifetime of the simulator's Talkdesk tokens (default the documented 10 minutes)")
	person := fs.Int64("user", 0, "logout: end the access of the person with this Convirza user id (CONVIRZA_MCP_AUTH=oauth): every sign-in of theirs, on every replica sharing the store")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, usage)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *person != 0 && cmd != "logout" {
		fmt.Fprintln(e.stderr, "convirza-mcp: --user is for logout (convirza-mcp logout --user ID)")
		return 2
	}
	cfg, err := config.Load(ctx, e.lookup, flags)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 2
	}
	level := cfg.LogLevel
	if cmd != "serve" {
		if _, set := e.lookup.Lookup("CONVIRZA_MCP_LOG_LEVEL"); !set {
			level = "warn" // one-shot commands: only what matters
		}
	}
	log := logging.New(e.stderr, level, cfg.LogFormat)
	if e.stderr == os.Stderr {
		// The libraries' own log.Printf lines (mcp-go's, on rare paths) go
		// through the same handler: escaped, formatted, on stderr.
		slog.SetDefault(log)
	}

	switch cmd {
	case "serve", "tools", "call", "logout":
	case "policy":
		return policyCommand(pos, cfg, e)
	case "healthcheck":
		return healthcheck(ctx, cfg.Addr, e)
	case "rekey":
		if len(pos) > 0 {
			fmt.Fprintf(e.stderr, "convirza-mcp: unexpected argument %q\n", pos[0])
			return 2
		}
		return rekey(ctx, cfg, log, e)
	case "approvals":
		if *yes {
			// A person answers on the terminal; nothing approves for them.
			fmt.Fprintln(e.stderr, "convirza-mcp: approvals has no --yes: approve and decline ask a person on the terminal")
			return 2
		}
		return approvalsCommand(ctx, pos, cfg, log, e)
	case "sandbox":
		addr := "127.0.0.1:9090"
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "addr" {
				addr = cfg.Addr
			}
		})
		return sandboxCommand(ctx, addr, sandbox.Options{AccessTTL: *accessTTL, TalkdeskTokenTTL: *talkdeskTTL}, e)
	case "help":
		fs.Usage()
		return 0
	default:
		fmt.Fprintf(e.stderr, "convirza-mcp: unknown command %q\n", cmd)
		fs.Usage()
		return 2
	}
	tcfg, err := tracing.FromEnv(e.lookup.Lookup)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 2
	}
	tp, err := tracing.Start(ctx, tcfg, version.Get().Version)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}
	defer func() {
		// After the call or the server: the spans still buffered are sent
		// before the process exits.
		if err := tp.Shutdown(context.WithoutCancel(ctx)); err != nil {
			log.Warn("traces were not all exported", "err", err.Error())
		}
	}()
	if cmd == "logout" && *person != 0 {
		cfg = peopleConfig(cfg)
	}
	app, err := server.New(cfg, log, server.WithTracing(tp))
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}
	defer app.Close()
	if app.Sandbox != nil && cfg.SandboxLatency > 0 {
		app.Sandbox.AddFault(sandbox.Fault{Latency: cfg.SandboxLatency}) // every answer, forever
	}

	switch cmd {
	case "tools":
		return listTools(app, e.stdout)
	case "logout":
		if len(pos) > 0 {
			fmt.Fprintf(e.stderr, "convirza-mcp: unexpected argument %q\n", pos[0])
			return 2
		}
		if *person != 0 {
			return signOutPerson(ctx, app, *person, e)
		}
		return logout(ctx, app, e)
	case "call":
		if len(pos) < 1 || len(pos) > 2 {
			fmt.Fprintln(e.stderr, "convirza-mcp: usage: convirza-mcp call TOOL ['{\"json\":\"args\"}'] [--sandbox] [--yes]")
			return 2
		}
		argJSON := "{}"
		if len(pos) == 2 {
			argJSON = pos[1]
		}
		return callTool(ctx, app, pos[0], argJSON, *yes, e)
	}
	if len(pos) > 0 {
		fmt.Fprintf(e.stderr, "convirza-mcp: unexpected argument %q\n", pos[0])
		return 2
	}
	return serve(ctx, app, cfg, e)
}

// logout revokes the Convirza tokens the server obtained and stored, and
// forgets them and the Talkdesk token (which Talkdesk cannot revoke). It
// never revokes CONVIRZA_ACCESS_TOKEN or CONVIRZA_REFRESH_TOKEN: those are
// the operator's.
func logout(ctx context.Context, app *server.App, e env) int {
	ctx, cancel := context.WithTimeout(ctx, 2*app.Config.UpstreamTimeout+10*time.Second)
	defer cancel()
	code := 0
	cres, err := app.Deps.Convirza.Logout(ctx)
	switch {
	case err != nil:
		fmt.Fprintln(e.stderr, "convirza-mcp: Convirza:", err)
		code = 1
	case cres.NoStore:
		fmt.Fprintln(e.stdout, "Convirza: the sandbox's tokens live in memory and end with it: nothing stored to revoke")
	case !cres.Stored:
		fmt.Fprintln(e.stdout, "Convirza: no tokens stored for this account: nothing to revoke")
	default:
		msg := "Convirza: forgot the stored tokens"
		switch len(cres.Revoked) {
		case 1:
			msg = "Convirza: revoked the stored " + cres.Revoked[0] + " token and forgot it"
		case 2:
			msg = "Convirza: revoked the stored " + strings.Join(cres.Revoked, " and ") + " tokens and forgot them"
		}
		if len(cres.Kept) > 0 {
			msg += "; not revoked, as the environment gave them: " + strings.Join(cres.Kept, " and ")
		}
		fmt.Fprintln(e.stdout, msg)
	}
	if app.Config.Convirza.AccessToken != "" {
		fmt.Fprintln(e.stdout, "Convirza: CONVIRZA_ACCESS_TOKEN is yours: not revoked (revoke it where you got it)")
	}
	stored, err := app.Deps.Talkdesk.Logout(ctx)
	switch {
	case err != nil:
		fmt.Fprintln(e.stderr, "convirza-mcp: Talkdesk:", err)
		code = 1
	case stored:
		fmt.Fprintln(e.stdout, "Talkdesk: forgot the stored token (Talkdesk offers no revocation; it expires within minutes)")
	default:
		fmt.Fprintln(e.stdout, "Talkdesk: no token stored: nothing to forget")
	}
	return code
}

// signOutPerson ends one person's access (offboarding) under
// CONVIRZA_MCP_AUTH=oauth: every grant of theirs is deleted from the shared
// store, so their access tokens are refused at their next request on every
// replica and their refresh tokens no longer renew, and the Convirza tokens
// the server held for them are revoked at Convirza and forgotten.
func signOutPerson(ctx context.Context, app *server.App, userID int64, e env) int {
	if userID < 0 {
		fmt.Fprintf(e.stderr, "convirza-mcp: --user must be a Convirza user id; got %d\n", userID)
		return 2
	}
	if app.OAuth == nil {
		fmt.Fprintln(e.stderr, "convirza-mcp: --user ends a person's sign-ins, which exist only with CONVIRZA_MCP_AUTH=oauth: run it with the deployment's settings (and its store)")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, app.Config.UpstreamTimeout+10*time.Second)
	defer cancel()
	n, err := app.OAuth.RevokeSubject(ctx, userID)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp: signing the person out:", err)
		return 1
	}
	fmt.Fprintf(e.stdout, "Convirza user %d: %d sign-in(s) ended on every replica; the Convirza tokens held for them revoked and forgotten\n", userID, n)
	return 0
}

// rekey re-seals, with the current store key, every stored credential a
// previous key (CONVIRZA_MCP_STORE_KEY_PREVIOUS) sealed, so that key can be
// dropped; a server that runs meanwhile loses nothing (each record is
// rewritten only if unchanged). Records no key opens are left alone: their
// readers sign in again. Exit 1 only when the store cannot be worked.
func rekey(ctx context.Context, cfg *config.Config, log *slog.Logger, e env) int {
	st, sealer, err := server.OpenStore(cfg, log)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	res, err := store.Rekey(ctx, st, sealer, server.SealedRecords()...)
	fmt.Fprintf(e.stdout, "re-sealed %d record(s) with the current store key; %d already current; %d open with no key given (left untouched)\n",
		res.Resealed, res.Current, res.Unopenable)
	if res.Gone > 0 {
		fmt.Fprintf(e.stdout, "%d record(s) were deleted or expired meanwhile\n", res.Gone)
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp: rekey:", err)
		return 1
	}
	switch {
	case res.Unopenable > 0 && cfg.StoreKeyPrevious == "":
		fmt.Fprintln(e.stdout, "the records left untouched may be sealed with the key the store used before: give it in CONVIRZA_MCP_STORE_KEY_PREVIOUS and run rekey again, or leave them (their owners sign in again)")
	case res.Unopenable == 0 && cfg.StoreKeyPrevious != "":
		fmt.Fprintln(e.stdout, "every record opens with the current store key: CONVIRZA_MCP_STORE_KEY_PREVIOUS can be removed")
	}
	return 0
}

// parseInterleaved lets flags come before or after positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func serve(ctx context.Context, app *server.App, cfg *config.Config, e env) int {
	if cfg.Transport == "stdio" {
		if err := app.ServeStdio(ctx, e.stdin, e.stdout); err != nil {
			fmt.Fprintln(e.stderr, "convirza-mcp:", err)
			return 1
		}
		return 0
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}
	fmt.Fprintf(e.stderr, "convirza-mcp: listening on http://%s (Streamable HTTP /mcp, SSE /sse; /healthz, /readyz, /metrics)\n", ln.Addr())
	if err := app.NewHTTP().Serve(ctx, ln, cfg.ShutdownTimeout); err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}
	return 0
}

func listTools(app *server.App, out io.Writer) int {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOOL\tTOOLSET\tCLASS\tSUMMARY")
	for _, t := range app.Tools {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Toolset, t.Class, firstSentence(t.Description))
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	return 0
}

func firstSentence(s string) string {
	for from := 0; ; {
		i := strings.Index(s[from:], ". ")
		if i < 0 {
			return s
		}
		end := from + i + 1
		if !strings.HasSuffix(s[:end], "e.g.") && !strings.HasSuffix(s[:end], "i.e.") {
			return s[:end]
		}
		from = end
	}
}

// callTool runs one tool through an in-process MCP client, so the call takes
// exactly the path a remote client's would. Confirmation is the client's
// elicitation: a y/N prompt on a terminal, --yes, or a refusal.
func callTool(ctx context.Context, app *server.App, name, argJSON string, yes bool, e env) int {
	var args map[string]any
	dec := json.NewDecoder(strings.NewReader(argJSON))
	dec.UseNumber()
	if err := dec.Decode(&args); err != nil {
		fmt.Fprintf(e.stderr, "convirza-mcp: arguments must be a JSON object: %v\n", err)
		return 2
	}
	c, err := client.NewInProcessClientWithOptions(app.MCP, client.WithElicitationHandler(&prompter{yes: yes, e: e}))
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "convirza-mcp-cli", Version: version.Get().Version}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	if _, err := c.Initialize(ctx, init); err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}
	if res.IsError {
		for _, ct := range res.Content {
			if tc, ok := ct.(mcp.TextContent); ok {
				fmt.Fprintln(e.stderr, tc.Text)
			}
		}
		return 1
	}
	var out any = res.StructuredContent
	if out == nil {
		for _, ct := range res.Content {
			if tc, ok := ct.(mcp.TextContent); ok {
				fmt.Fprintln(e.stdout, tc.Text)
			}
		}
		return 0
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return 1
	}
	return 0
}

// prompter answers the server's confirmation question for the command line.
type prompter struct {
	yes bool
	e   env
}

func (p *prompter) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	accept := &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"confirm": true}}}
	if p.yes {
		fmt.Fprintf(p.e.stderr, "%s\nconfirmed by --yes\n", req.Params.Message)
		return accept, nil
	}
	if !p.e.terminal {
		fmt.Fprintf(p.e.stderr, "%s\nnot confirmed: no terminal to ask on; pass --yes to confirm\n", req.Params.Message)
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
	}
	fmt.Fprintf(p.e.stderr, "%s [y/N] ", req.Params.Message)
	line, _ := bufio.NewReader(p.e.stdin).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
		return accept, nil
	}
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
}

// policyCommand runs "policy check FILE": the file is validated and combined
// with the flags and environment exactly as serve would, and what it serves
// is printed. Exit 1 when the file is wrong.
func policyCommand(pos []string, cfg *config.Config, e env) int {
	if len(pos) != 2 || pos[0] != "check" {
		fmt.Fprintln(e.stderr, "convirza-mcp: usage: convirza-mcp policy check FILE [--read-only] [--toolsets ...]")
		return 2
	}
	cfg.Policy = pos[1]
	plan, err := server.NewPlan(cfg)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}
	eff := plan.Policy
	w := e.stdout
	fmt.Fprintf(w, "%s: valid\n", cfg.Policy)
	mode := "read-write"
	if eff.ReadOnly {
		mode = "read-only"
	}
	fmt.Fprintf(w, "mode:          %s\n", mode)
	fmt.Fprintf(w, "toolsets:      %s\n", strings.Join(eff.Toolsets, ", "))
	fmt.Fprintf(w, "confirmation:  %s, tokens valid %s\n", eff.ConfirmMode, eff.ConfirmTTL)
	if ids := eff.Policy.OrgUnits; len(ids) > 0 {
		fmt.Fprintf(w, "scope:         org units %s and their descendants\n", strings.Trim(fmt.Sprint(ids), "[]"))
	} else {
		fmt.Fprintln(w, "scope:         every org unit")
	}
	if f := eff.Policy.AuditFile; f != "" {
		fmt.Fprintf(w, "audit log:     %s\n", f)
	} else {
		fmt.Fprintln(w, "audit log:     none")
	}
	fmt.Fprintf(w, "\nserved (%d):\n", len(plan.Tools))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOOL\tTOOLSET\tCLASS\tCONFIRMATION")
	for _, t := range plan.Tools {
		confirm := ""
		switch {
		case t.Class.NeedsConfirmation():
			confirm = "yes"
		case eff.ConfirmAlso(t.Name):
			confirm = "yes (policy)"
		case t.ConfirmsSome():
			confirm = "some calls"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Toolset, t.Class, confirm)
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	if len(plan.Withheld) > 0 {
		fmt.Fprintf(w, "\nwithheld (%d):\n", len(plan.Withheld))
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TOOL\tTOOLSET\tWHY")
		for _, t := range tools.All() {
			if wh, ok := plan.Withheld[t.Name]; ok {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, wh.Toolset, wh.Why)
			}
		}
		if err := tw.Flush(); err != nil {
			return 1
		}
	}
	return 0
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// sandboxCommand serves the simulator of both upstreams alone until ctx
// ends, so that several servers (replicas) can share one upstream. It
// prints the base URLs, the demo sign-ins, and one JSON line a script can
// read the URLs from.
func sandboxCommand(ctx context.Context, addr string, o sandbox.Options, e env) int {
	sb, err := sandbox.New(o).StartOn(addr)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}
	defer sb.Close()
	fmt.Fprintf(e.stdout, "Convirza API:       %s  (CONVIRZA_API_URL)\n", sb.APIURL)
	fmt.Fprintf(e.stdout, "Convirza OAuth:     %s  (CONVIRZA_OAUTH_URL)\n", sb.OAuthURL)
	fmt.Fprintf(e.stdout, "Talkdesk API:       %s  (TALKDESK_API_URL)\n", sb.TalkdeskAPIURL)
	fmt.Fprintf(e.stdout, "Talkdesk token:     %s  (TALKDESK_TOKEN_URL)\n", sb.TalkdeskTokenURL)
	fmt.Fprintf(e.stdout, "Demo sign-ins (password %s): %s (Admin), %s (Standard), %s (ReadOnly)\n",
		sandbox.DemoPassword, sandbox.DemoEmail, sandbox.StandardEmail, sandbox.ReadOnlyEmail)
	fmt.Fprintf(e.stdout, "Talkdesk: account %s, client id %s, secret %s\n", sandbox.TalkdeskAccount, sandbox.TalkdeskClientID, sandbox.TalkdeskClientSecret)
	line, err := json.Marshal(map[string]string{"api_url": sb.APIURL, "oauth_url": sb.OAuthURL, "talkdesk_api_url": sb.TalkdeskAPIURL, "talkdesk_token_url": sb.TalkdeskTokenURL})
	if err != nil {
		return 1
	}
	fmt.Fprintf(e.stdout, "%s\n", line)
	<-ctx.Done()
	return 0
}

// healthcheck asks a running HTTP server's /healthz, for an image's
// HEALTHCHECK: exit 0 when it answers 200, 1 otherwise.
func healthcheck(ctx context.Context, addr string, e env) int {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp: healthcheck: --addr must be host:port")
		return 1
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // a server on every address answers on loopback
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp: healthcheck:", err)
		return 1
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp: healthcheck:", err)
		return 1
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fmt.Fprintln(e.stderr, "convirza-mcp: healthcheck: /healthz answered", res.Status)
		return 1
	}
	return 0
}

// peopleConfig is cfg as the deployment people sign in to runs it: under
// CONVIRZA_MCP_AUTH=oauth that deployment serves HTTP, whatever transport
// an operator's command (logout --user, approvals) was started with.
func peopleConfig(cfg *config.Config) *config.Config {
	if cfg.Auth != config.AuthOAuth || cfg.Transport == "http" {
		return cfg
	}
	c := *cfg
	c.Transport = "http"
	return &c
}
