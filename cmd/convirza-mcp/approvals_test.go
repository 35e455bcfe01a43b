package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

// fakeTTY is a terminal a test answers on: what the command writes to it
// is kept, what it reads is the answer.
type fakeTTY struct {
	in  io.Reader
	out *bytes.Buffer
}

func (f *fakeTTY) Read(p []byte) (int, error)  { return f.in.Read(p) }
func (f *fakeTTY) Write(p []byte) (int, error) { return f.out.Write(p) }
func (f *fakeTTY) Close() error                { return nil }

// approvalsCLI runs the approvals command against the state store of the
// test server env (its state directory, --sandbox, its policy file), with
// a terminal answering answer (nil: no terminal). It returns the exit code,
// stdout, stderr and what was shown on the terminal.
func approvalsCLI(t *testing.T, env *testenv.Env, answer *string, args ...string) (code int, stdout, stderr, shown string) {
	t.Helper()
	cfg := env.App.Config
	vars := map[string]string{"CONVIRZA_MCP_STATE_DIR": cfg.StateDir, "CONVIRZA_MCP_REPLICA": "approver-desk"}
	if cfg.Policy != "" {
		vars["CONVIRZA_MCP_POLICY"] = cfg.Policy
	}
	var out, errb, tty bytes.Buffer
	e := env2(&out, &errb, vars)
	if answer != nil {
		e.tty = func() (io.ReadWriteCloser, error) {
			return &fakeTTY{in: strings.NewReader(*answer), out: &tty}, nil
		}
	}
	code = run(context.Background(), append([]string{"approvals"}, append(args, "--sandbox")...), e)
	return code, out.String(), errb.String(), tty.String()
}

func env2(out, errb *bytes.Buffer, vars map[string]string) env {
	return env{stdin: strings.NewReader(""), stdout: out, stderr: errb, lookup: envconfig.MapLookuper(vars)}
}

func answer(s string) *string { return &s }

// auditedServer is a test server (mode auto, a client that cannot be asked,
// as an assistant without elicitation over stdio) with an audit log.
func auditedServer(t *testing.T) (*testenv.Env, string) {
	t.Helper()
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	env := testenv.New(t, testenv.Options{Policy: fmt.Sprintf("toolsets: [all]\naudit:\n  file: %s\n", audit)})
	return env, audit
}

// TestApprovalsApproveThroughTheAudit: a confirmable call waits for a
// person; `approvals approve ID` shows the action on the terminal, takes
// the person's y, and the call then executes. Every step is on the audit
// record: requested (with the approval id), approved (channel cli, the
// approver), executed (with a snapshot of the deleted group), and every
// line names its replica.
func TestApprovalsApproveThroughTheAudit(t *testing.T) {
	env, audit := auditedServer(t)
	first := env.OK(t, "delete_group", `{"id":1042}`)
	id, _ := first["approval_id"].(string)
	tok, _ := first["confirmation_token"].(string)
	if first["status"] != "confirmation_required" || id == "" || tok == "" {
		t.Fatalf("first call: %v", first)
	}
	if msg := env.Fail(t, "delete_group", fmt.Sprintf(`{"id":1042,"confirmation_token":%q}`, tok)); !strings.Contains(msg, "waiting for approval") {
		t.Fatalf("before the approval: %s", msg)
	}

	code, out, errs, shown := approvalsCLI(t, env, answer("y\n"), "approve", id)
	if code != 0 {
		t.Fatalf("approve: exit %d\nout %s\nerr %s\ntty %s", code, out, errs, shown)
	}
	for _, want := range []string{"delete_group", `Delete group 1042 "Denver Office"`, "Approve approval " + id + "? [y/N]"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the terminal did not show %q:\n%s", want, shown)
		}
	}
	if !strings.Contains(out, "Approved: approval "+id) {
		t.Errorf("stdout: %s", out)
	}

	done := env.OK(t, "delete_group", fmt.Sprintf(`{"id":1042,"confirmation_token":%q}`, tok))
	if done["status"] != "deleted" {
		t.Fatalf("after the approval: %v", done)
	}

	lines := testenv.AuditLines(t, audit)
	var steps []string
	for _, l := range lines {
		steps = append(steps, fmt.Sprintf("%v/%v/%v", l["event"], l["step"], l["channel"]))
		if l["replica"] == nil || l["replica"] == "" {
			t.Errorf("a line without its replica: %v", l)
		}
		if l["approval_id"] != id {
			t.Errorf("a line without the approval id %s: %v", id, l)
		}
	}
	want := []string{
		"decision/requested/page", // the first call: a pending approval
		"decision/waiting/page",   // redeemed too early
		"approval/approved/cli",   // the approvals command
		"decision/approved/cli",   // the redemption, decided by the person at the terminal
		"outcome/executed/cli",
	}
	if strings.Join(steps, " ") != strings.Join(want, " ") {
		t.Fatalf("audit steps:\n%s\nwant:\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}
	req, cli, approved, executed := lines[0], lines[2], lines[3], lines[4]
	if req["decision"] != "confirmation_required" || !strings.Contains(fmt.Sprint(req["action"]), "Denver Office") {
		t.Errorf("requested line: %v", req)
	}
	if !strings.HasPrefix(fmt.Sprint(cli["approver"]), "cli:") || cli["replica"] != "approver-desk" || cli["tool"] != "delete_group" || cli["class"] != "D" {
		t.Errorf("the approvals command's line: %v", cli)
	}
	if approved["approver"] != cli["approver"] || approved["decision"] != "confirmed" {
		t.Errorf("approved line: %v", approved)
	}
	snap, _ := executed["snapshot"].(map[string]any)
	if executed["outcome"] != "ok" || snap["org_unit_name"] != "Denver Office" || snap["org_unit_status"] != "active" {
		t.Errorf("executed line without the group as it was: %v", executed)
	}
	if executed["call_id"] != approved["call_id"] {
		t.Errorf("the approved and executed lines of one call: %v %v", approved, executed)
	}
	for _, l := range lines[:2] {
		if l["snapshot"] != nil {
			t.Errorf("a snapshot on a line that deleted nothing: %v", l)
		}
	}
}

// TestApprovalsDecline: declined on the terminal, the call answers
// "declined", executes nothing, and the audit says who declined.
func TestApprovalsDecline(t *testing.T) {
	env, audit := auditedServer(t)
	first := env.OK(t, "delete_group", `{"id":1042}`)
	id, tok := first["approval_id"].(string), first["confirmation_token"].(string)
	if code, out, errs, shown := approvalsCLI(t, env, answer("yes\n"), "decline", id); code != 0 || !strings.Contains(shown, "Decline approval "+id) {
		t.Fatalf("decline: %d %s %s %s", code, out, errs, shown)
	}
	res := env.OK(t, "delete_group", fmt.Sprintf(`{"id":1042,"confirmation_token":%q}`, tok))
	if res["status"] != "declined" {
		t.Fatalf("after a decline: %v", res)
	}
	if g := env.OK(t, "get_group", `{"id":1042}`); g["org_unit_status"] != "active" {
		t.Fatalf("a declined call deleted the group: %v", g)
	}
	lines := testenv.AuditLines(t, audit)
	last := lines[len(lines)-1]
	if last["step"] != "declined" || last["channel"] != "cli" || !strings.HasPrefix(fmt.Sprint(last["approver"]), "cli:") || last["approval_id"] != id {
		t.Errorf("declined line: %v", last)
	}
	// Decided once: a second decision is refused and changes nothing.
	if code, _, errs, _ := approvalsCLI(t, env, answer("y\n"), "approve", id); code != 1 || !strings.Contains(errs, "is declined") {
		t.Errorf("second decision: %d %s", code, errs)
	}
}

// TestApprovalsNeedAPerson: without a terminal the command refuses and
// points at the approval pages; an answer other than y decides nothing;
// there is no --yes.
func TestApprovalsNeedAPerson(t *testing.T) {
	env, _ := auditedServer(t)
	first := env.OK(t, "delete_group", `{"id":1042}`)
	id := first["approval_id"].(string)

	code, _, errs, _ := approvalsCLI(t, env, nil, "approve", id)
	if code != 1 || !strings.Contains(errs, "no terminal") || !strings.Contains(errs, "approval pages") || !strings.Contains(errs, "CONVIRZA_MCP_APPROVER_TOKEN") {
		t.Errorf("no terminal: %d %s", code, errs)
	}
	for _, a := range []string{"n\n", "\n", "approve\n", "y es\n"} {
		if code, out, _, _ := approvalsCLI(t, env, answer(a), "approve", id); code != 1 || !strings.Contains(out, "stays pending") {
			t.Errorf("answer %q: %d %s", a, code, out)
		}
	}
	if code, _, errs, _ := approvalsCLI(t, env, answer(""), "approve", id); code != 1 || !strings.Contains(errs, "nothing decided") {
		t.Errorf("no answer at all: %d %s", code, errs)
	}
	if code, _, errs, _ := approvalsCLI(t, env, answer("y\n"), "approve", id, "--yes"); code != 2 {
		t.Errorf("--yes must not exist for approvals: %d %s", code, errs)
	}
	ap, err := env.App.Approvals.Get(context.Background(), id)
	if err != nil || ap.State != "pending" {
		t.Fatalf("the approval was decided without a person: %v %v", ap, err)
	}
	if code, _, errs, _ := approvalsCLI(t, env, answer("y\n"), "approve", "nosuchid"); code != 1 || !strings.Contains(errs, "no such approval") {
		t.Errorf("unknown id: %d %s", code, errs)
	}
}

// TestApprovalsListAndShow: list is a table of the approvals; show has the
// masked arguments and the preview.
func TestApprovalsListAndShow(t *testing.T) {
	env, _ := auditedServer(t)
	first := env.OK(t, "create_broadcast", `{"broadcast_name":"Spring promo","message":"Hello","recipients":["+13035550101","+13035550102"],"from_number":"+13035550144","org_unit_id":1042}`)
	id := first["approval_id"].(string)

	code, out, errs, _ := approvalsCLI(t, env, nil, "list")
	if code != 0 {
		t.Fatalf("list: %d %s", code, errs)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if len(rows) != 2 || !strings.HasPrefix(rows[0], "ID") || !strings.Contains(rows[0], "REQUESTER") ||
		!strings.HasPrefix(rows[1], id) || !strings.Contains(rows[1], "pending") || !strings.Contains(rows[1], "create_broadcast") ||
		!strings.Contains(rows[1], "testenv") {
		t.Errorf("list:\n%s", out)
	}

	code, out, errs, _ = approvalsCLI(t, env, nil, "show", id)
	if code != 0 {
		t.Fatalf("show: %d %s", code, errs)
	}
	for _, want := range []string{"approval   " + id + " (pending)", "create_broadcast", "Spring promo", `"+*******0101"`, "preview", "testenv"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if args := out[strings.Index(out, "arguments"):strings.Index(out, "preview")]; strings.Contains(args, "13035550101") || strings.Contains(out, "nonce") {
		t.Errorf("show reveals what it must not:\n%s", out)
	}

	if code, _, errs, _ := approvalsCLI(t, env, nil, "frobnicate"); code != 2 || !strings.Contains(errs, "usage") {
		t.Errorf("unknown subcommand: %d %s", code, errs)
	}
	if code, _, _, _ := approvalsCLI(t, env, nil, "show"); code != 2 {
		t.Errorf("show without an id: %d", code)
	}
}

// TestPrintableEscapesTerminalControls: what a model wrote (a group name)
// cannot rewrite the approver's screen.
func TestPrintableEscapesTerminalControls(t *testing.T) {
	cases := map[string]string{
		"Denver Office":                 "Denver Office",
		"a\x1b[2Jb":                     `a\x1b[2Jb`,
		"x\rDelete nothing":             `x\x0dDelete nothing`,
		"evil\u202Etxt.exe":             `evil\u202etxt.exe`,
		"line\nbreak":                   `line\x0abreak`,
		"caf\xe9":                       `caf\xe9`,
		"Groupe Montréal — 東京 (Québec)": "Groupe Montréal — 東京 (Québec)",
	}
	for in, want := range cases {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
	if got := indentJSON([]byte(`{"name":"a\u001b[31mb\u202e"}`)); strings.ContainsAny(got, "\x1b\u202e") {
		t.Errorf("indentJSON kept a control: %q", got)
	}
}
