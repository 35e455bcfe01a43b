package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/tools"
)

const approvalsUsage = "usage: convirza-mcp approvals list | show ID | approve ID | decline ID [--sandbox] [--policy FILE]"

// openTTY opens the controlling terminal: the one place a person answers
// approve and decline, whatever stdin and stdout are connected to.
func openTTY() (io.ReadWriteCloser, error) {
	return os.OpenFile("/dev/tty", os.O_RDWR, 0)
}

// approvalsCommand runs "approvals list | show ID | approve ID | decline
// ID" against the state store the server uses (the same configuration:
// CONVIRZA_MCP_STORE, CONVIRZA_MCP_STATE_DIR, --sandbox). approve and
// decline ask y/N on the controlling terminal and have no --yes: a person
// decides, never a program (scripts use the approval pages with the
// approver token).
func approvalsCommand(ctx context.Context, pos []string, cfg *config.Config, log *slog.Logger, e env) int {
	if len(pos) == 0 {
		fmt.Fprintln(e.stderr, "convirza-mcp:", approvalsUsage)
		return 2
	}
	sub, id := pos[0], ""
	switch sub {
	case "list":
		if len(pos) != 1 {
			fmt.Fprintln(e.stderr, "convirza-mcp:", approvalsUsage)
			return 2
		}
	case "show", "approve", "decline":
		if len(pos) != 2 {
			fmt.Fprintln(e.stderr, "convirza-mcp:", approvalsUsage)
			return 2
		}
		id = strings.TrimSpace(pos[1])
	default:
		fmt.Fprintf(e.stderr, "convirza-mcp: unknown approvals command %q; %s\n", sub, approvalsUsage)
		return 2
	}

	st, _, err := server.OpenStore(cfg, log)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}
	defer st.Close()
	aps := policy.NewApprovals(st)

	switch sub {
	case "list":
		list, err := aps.List(ctx)
		if err != nil {
			fmt.Fprintln(e.stderr, "convirza-mcp:", err)
			return 1
		}
		return printApprovals(e.stdout, list, time.Now())
	case "show":
		ap, err := aps.Get(ctx, id)
		if err != nil {
			fmt.Fprintf(e.stderr, "convirza-mcp: approval %s: %v\n", printable(id), err)
			return 1
		}
		printApproval(e.stdout, ap, time.Now())
		return 0
	}
	return decideApproval(ctx, aps, id, sub == "approve", cfg, log, e)
}

// decideApproval shows one pending approval on the controlling terminal,
// asks the person there, and records their decision (and, with an audit
// log in the policy, an audit line). Where people sign in
// (CONVIRZA_MCP_AUTH=oauth over HTTP) the person at the terminal signs in
// with their Convirza account first, as on the approval pages: the
// decision is theirs, by name, and they may approve only what they could
// do themselves, never (four eyes) what their own assistant asked.
func decideApproval(ctx context.Context, aps *policy.Approvals, id string, approve bool, cfg *config.Config, log *slog.Logger, e env) int {
	verb, done := "Decline", "declined"
	if approve {
		verb, done = "Approve", "approved"
	}
	ap, err := aps.Get(ctx, id)
	if err != nil {
		fmt.Fprintf(e.stderr, "convirza-mcp: approval %s: %v\n", printable(id), err)
		return 1
	}
	if ap.State != "pending" {
		fmt.Fprintf(e.stderr, "convirza-mcp: approval %s is %s%s: nothing to decide.\n", ap.ID, ap.State, decidedBy(ap))
		return 1
	}
	// The audit log is opened before anyone is asked: a decision that
	// could not be recorded is not taken.
	audit, class, err := approvalAudit(cfg, ap.Tool)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return 1
	}

	if e.tty == nil {
		return noTerminal(e, ap.ID, errors.New("none available"))
	}
	tty, err := e.tty()
	if err != nil {
		return noTerminal(e, ap.ID, err)
	}
	defer tty.Close()
	lines := bufio.NewReader(tty)
	printApproval(tty, ap, time.Now())
	approver := cliApprover()
	if cfg.Auth == config.AuthOAuth {
		name, code := signInApprover(ctx, tty, lines, ap, approve, cfg, log, e)
		if code != 0 {
			return code
		}
		approver = name
	}
	fmt.Fprintf(tty, "%s approval %s? [y/N] ", verb, ap.ID)
	answer, err := readLine(ctx, lines)
	if err != nil {
		fmt.Fprintf(tty, "\n")
		fmt.Fprintf(e.stderr, "convirza-mcp: no answer (%v): nothing decided.\n", err)
		return 1
	}
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		fmt.Fprintf(e.stdout, "Not %s: approval %s stays pending.\n", done, ap.ID)
		return 1
	}

	got, err := aps.Decide(ctx, ap.ID, approve, approver, policy.ChannelCLI)
	if err != nil {
		state := ""
		if got != nil {
			state = fmt.Sprintf(" (it is %s%s)", got.State, decidedBy(got))
		}
		fmt.Fprintf(e.stderr, "convirza-mcp: approval %s: %v%s\n", ap.ID, err, state)
		return 1
	}
	fmt.Fprintf(e.stdout, "%s: approval %s, %s: %s\n", strings.ToUpper(done[:1])+done[1:], got.ID, got.Tool, printable(got.Action))
	if audit != nil {
		step := policy.StepDeclined
		if approve {
			step = policy.StepApproved
		}
		err := audit.Record(ctx, policy.AuditEntry{Event: policy.EventApproval, Tool: got.Tool, Class: class,
			Arguments: got.Arguments, Action: got.Action, Step: step, Channel: policy.ChannelCLI,
			Approver: approver, ApprovalID: got.ID})
		if err != nil {
			fmt.Fprintf(e.stderr, "convirza-mcp: the decision stands, but the audit log could not be written: %v\n", err)
			return 1
		}
	}
	return 0
}

// noTerminal refuses to decide without a person at a terminal.
func noTerminal(e env, id string, why error) int {
	fmt.Fprintf(e.stderr, "convirza-mcp: no terminal to ask on (%v): approve and decline need a person at a terminal, and have no --yes.\n"+
		"Without a terminal, a person decides on the approval pages of the HTTP server (/approvals/%s), signed in with the approver token (CONVIRZA_MCP_APPROVER_TOKEN).\n", why, id)
	return 1
}

// approvalAudit opens the audit log of the policy in force (the same
// --policy and environment as serve), if it names one, and finds the class
// of tool for its lines.
func approvalAudit(cfg *config.Config, tool string) (*policy.AuditLog, policy.Class, error) {
	var class policy.Class
	for _, t := range tools.All() {
		if t.Name == tool {
			class = t.Class
		}
	}
	if cfg.Policy == "" {
		return nil, class, nil
	}
	plan, err := server.NewPlan(cfg)
	if err != nil {
		return nil, class, err
	}
	path := plan.Policy.Policy.AuditFile
	if path == "" {
		return nil, class, nil
	}
	l, err := server.OpenAuditLog(cfg, path)
	return l, class, err
}

// signInApprover signs the person at the terminal in with their Convirza
// email and password (the password not echoed on a real terminal), under
// the server's sign-in limits, and checks they may make this decision: to
// approve, what tools.Plan.MayApprove allows them. It returns the name the
// decision is recorded under, or a non-zero exit code once it said why not.
func signInApprover(ctx context.Context, tty io.ReadWriter, lines *bufio.Reader, ap *policy.Approval, approve bool, cfg *config.Config, log *slog.Logger, e env) (string, int) {
	app, err := server.New(peopleConfig(cfg), log)
	if err != nil {
		fmt.Fprintln(e.stderr, "convirza-mcp:", err)
		return "", 1
	}
	defer app.Close()
	if app.OAuth == nil {
		fmt.Fprintln(e.stderr, "convirza-mcp: people sign in on this deployment (CONVIRZA_MCP_AUTH=oauth), but its sign-in could not be set up: nothing decided.")
		return "", 1
	}
	fmt.Fprintln(tty, "\nApprovers are people on this server: sign in with your Convirza account to decide.")
	fmt.Fprint(tty, "Convirza email: ")
	email, err := readLine(ctx, lines)
	if err != nil {
		fmt.Fprintf(e.stderr, "convirza-mcp: no answer (%v): nothing decided.\n", err)
		return "", 1
	}
	fmt.Fprint(tty, "Password: ")
	password, err := readSecret(ctx, tty, lines)
	fmt.Fprintln(tty)
	if err != nil {
		fmt.Fprintf(e.stderr, "convirza-mcp: no answer (%v): nothing decided.\n", err)
		return "", 1
	}
	// Checked, not kept: the decision is taken here and now, and the
	// person's own sign-in (if they have one) stays as it is.
	who, err := app.OAuth.Identity(ctx, "cli", strings.TrimSpace(email), strings.TrimRight(password, "\r\n"))
	var limited *oauth.LimitedError
	switch {
	case errors.Is(err, oauth.ErrBadCredentials):
		fmt.Fprintln(e.stderr, "convirza-mcp: wrong email or password: nothing decided.")
		return "", 1
	case errors.As(err, &limited):
		fmt.Fprintf(e.stderr, "convirza-mcp: %v: nothing decided.\n", limited)
		return "", 1
	case err != nil:
		fmt.Fprintf(e.stderr, "convirza-mcp: signing in: %v: nothing decided.\n", err)
		return "", 1
	}
	if approve {
		if why := app.Plan.MayApprove(who.UserID, who.RoleID, ap); why != "" {
			fmt.Fprintf(e.stderr, "convirza-mcp: %s\n", why)
			return "", 1
		}
	}
	fmt.Fprintf(tty, "Signed in as %s (%s).\n", printable(who.Email), printable(who.Role))
	return who.Email, 0
}

// readSecret reads a line without echoing it when tty is a terminal.
func readSecret(ctx context.Context, tty io.ReadWriter, lines *bufio.Reader) (string, error) {
	if f, ok := tty.(*os.File); ok && term.IsTerminal(int(f.Fd())) && lines.Buffered() == 0 {
		type secret struct {
			b   []byte
			err error
		}
		fd := int(f.Fd())
		state, err := term.GetState(fd)
		if err != nil {
			return "", err
		}
		ch := make(chan secret, 1)
		go func() {
			b, err := term.ReadPassword(fd)
			ch <- secret{b, err}
		}()
		select {
		case s := <-ch:
			return string(s.b), s.err
		case <-ctx.Done():
			_ = term.Restore(fd, state) // echo back on: the process ends
			return "", ctx.Err()
		}
	}
	return readLine(ctx, lines)
}

// readLine reads one line from r, or gives up when ctx ends (Ctrl-C). One
// reader serves every question asked on a terminal, so no answer typed
// ahead is lost between them.
func readLine(ctx context.Context, r *bufio.Reader) (string, error) {
	type line struct {
		s   string
		err error
	}
	ch := make(chan line, 1)
	go func() {
		s, err := r.ReadString('\n')
		if err == io.EOF && s != "" {
			err = nil
		}
		ch <- line{s, err}
	}()
	select {
	case l := <-ch:
		return l.s, l.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// cliApprover names the person at this terminal: cli:<user>@<host>.
func cliApprover() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return "cli:" + name + "@" + host
}

func decidedBy(ap *policy.Approval) string {
	if ap.Approver == "" {
		return ""
	}
	return fmt.Sprintf(" (by %s via %s)", printable(ap.Approver), ap.Channel)
}

// printApprovals writes the approvals as a table.
func printApprovals(w io.Writer, list []policy.Approval, now time.Time) int {
	if len(list) == 0 {
		fmt.Fprintln(w, "No approvals.")
		return 0
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tTOOL\tACTION\tREQUESTER\tEXPIRES")
	for _, ap := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ap.ID, ap.State, ap.Tool, clipRunes(printable(ap.Action), 60),
			clipRunes(printable(ap.Requester), 40), expiry(ap.Expires, now))
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	return 0
}

// printApproval writes everything about one approval: what it does, who
// asked, the masked arguments and the preview.
func printApproval(w io.Writer, ap *policy.Approval, now time.Time) {
	fmt.Fprintf(w, "approval   %s (%s)\n", ap.ID, ap.State)
	fmt.Fprintf(w, "tool       %s\n", ap.Tool)
	fmt.Fprintf(w, "action     %s\n", printable(ap.Action))
	fmt.Fprintf(w, "requested  %s by %s\n", ap.Requested.UTC().Format(time.RFC3339), printable(ap.Requester))
	fmt.Fprintf(w, "expires    %s\n", expiry(ap.Expires, now))
	if ap.Approver != "" {
		fmt.Fprintf(w, "decided    %s by %s via %s\n", ap.Decided.UTC().Format(time.RFC3339), printable(ap.Approver), ap.Channel)
	}
	if len(ap.Arguments) > 0 {
		fmt.Fprintf(w, "arguments  %s\n", indentJSON(ap.Arguments))
	}
	if ap.Preview != nil {
		if b, err := json.Marshal(ap.Preview); err == nil {
			fmt.Fprintf(w, "preview    %s\n", indentJSON(b))
		}
	}
}

func expiry(exp, now time.Time) string {
	s := exp.UTC().Format(time.RFC3339)
	if d := exp.Sub(now); d > 0 {
		s += fmt.Sprintf(" (in %s)", d.Round(time.Second))
	}
	return s
}

// indentJSON renders JSON for a person, every string made printable.
func indentJSON(b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return printable(string(b))
	}
	out, err := json.MarshalIndent(v, "           ", "  ")
	if err != nil {
		return printable(string(b))
	}
	return escape(string(out), true)
}

// printable escapes what could make a terminal show something other than
// the text: control characters (escape sequences, carriage returns that
// overwrite a line), and the bidirectional controls that reorder it. An
// approver must read exactly what they approve.
func printable(s string) string { return escape(s, false) }

// escape is printable, keeping newlines when keepLines is set (the lines
// of indented JSON, whose strings have their own newlines escaped).
func escape(s string, keepLines bool) string {
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, n := utf8.DecodeRuneInString(s[i:])
		w = n
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' && keepLines:
			b.WriteRune(r)
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u2028', r == '\u2029':
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clipRunes cuts s to at most n characters, marking the cut, and keeps a
// table row on one line.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
