package e2e_test

// Tests of the policy layer through the whole server (sandbox upstream,
// in-process MCP client): every key of a policy file and every decision.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/tools"
)

var eras = []struct{ name, version string }{
	{"modern", ""},
	{"legacy", mcp.ProtocolVersion20250618},
}

// auditPath returns a fresh audit log path and the policy lines naming it.
func auditPath(t *testing.T) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "audit.jsonl")
	return p, fmt.Sprintf("audit:\n  file: %s\n", p)
}

// summary renders audit lines as "tool event decision/outcome" for comparison.
func summary(lines []map[string]any) []string {
	var out []string
	for _, l := range lines {
		what := l["decision"]
		if l["event"] == "outcome" {
			what = l["outcome"]
		}
		out = append(out, fmt.Sprintf("%s %s %s", l["tool"], l["event"], what))
	}
	return out
}

func listed(t *testing.T, env *testenv.Env) map[string]mcp.Tool {
	t.Helper()
	res, err := env.Client.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]mcp.Tool{}
	for _, tl := range res.Tools {
		out[tl.Name] = tl
	}
	return out
}

func callErr(t *testing.T, env *testenv.Env, name, args string) error {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(args), &m); err != nil {
		t.Fatal(err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, m
	_, err := env.Client.CallTool(context.Background(), req)
	return err
}

func writesSeen(env *testenv.Env) []string {
	var out []string
	for _, c := range env.App.Sandbox.Calls() {
		if !strings.HasPrefix(c, "GET ") && !strings.Contains(c, "oauth") {
			out = append(out, c)
		}
	}
	return out
}

func groupField(t *testing.T, env *testenv.Env, id int, field string) any {
	t.Helper()
	return env.OK(t, "get_group", fmt.Sprintf(`{"id":%d}`, id))[field]
}

func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob("../../policy/examples/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		if _, err := policy.Load(f, tools.Catalog()); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		// As serve --policy FILE with nothing else set: the file's toolsets.
		cfg := testenv.Config(t, testenv.Options{Configure: func(c *config.Config) { c.Policy, c.Toolsets = f, nil }})
		if _, err := server.NewPlan(cfg); err != nil {
			t.Errorf("%s: plan: %v", f, err)
		}
	}
}

// TestDenyHidesAndRefuses: a denied tool is neither listed nor callable, and
// the attempt is on record with its arguments masked.
func TestDenyHidesAndRefuses(t *testing.T) {
	audit, auditYAML := auditPath(t)
	env := testenv.New(t, testenv.Options{Policy: "tools:\n  deny: [delete_group]\n" + auditYAML})
	tl := listed(t, env)
	if _, ok := tl["delete_group"]; ok || len(tl) != len(tools.All())-1 {
		t.Fatalf("listed: %v", slices.Sorted(func(yield func(string) bool) {
			for k := range tl {
				if !yield(k) {
					return
				}
			}
		}))
	}
	err := callErr(t, env, "delete_group", `{"id":1042,"confirmation_token":"abc.def","password":"hunter2","phone":"+13035550100"}`)
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("a denied tool must not be callable: %v", err)
	}
	if w := writesSeen(env); len(w) != 0 {
		t.Fatalf("upstream saw %v", w)
	}
	lines := testenv.AuditLines(t, audit)
	if len(lines) != 1 || lines[0]["decision"] != "denied" || lines[0]["tool"] != "delete_group" || lines[0]["class"] != "D" ||
		!strings.Contains(fmt.Sprint(lines[0]["reason"]), "tools.deny") {
		t.Fatalf("audit: %v", lines)
	}
	args := fmt.Sprint(lines[0]["arguments"])
	for _, leak := range []string{"hunter2", "abc.def", "13035550100"} {
		if strings.Contains(args, leak) {
			t.Errorf("audit leaks %s: %s", leak, args)
		}
	}
	if !strings.Contains(args, "+*******0100") || !strings.Contains(args, "[redacted]") {
		t.Errorf("audit arguments: %s", args)
	}
}

func TestAllowList(t *testing.T) {
	env := testenv.New(t, testenv.Options{Policy: "tools:\n  allow: [list_*, get_group]\n"})
	tl := listed(t, env)
	want := 1 // get_group
	for _, x := range tools.All() {
		if strings.HasPrefix(x.Name, "list_") {
			want++
		}
	}
	if len(tl) != want || tl["list_groups"].Name == "" || tl["get_group"].Name == "" || tl["update_group"].Name != "" {
		t.Fatalf("listed: %v", tl)
	}
	if err := callErr(t, env, "update_group", `{"id":1042,"city":"X"}`); err == nil {
		t.Fatal("a tool outside allow must not be callable")
	}
	env.OK(t, "get_group", `{"id":1042}`)
}

// TestReadOnly: a read-only policy, or a read-write policy with --read-only,
// lists and serves only tools whose readOnlyHint is true.
func TestReadOnly(t *testing.T) {
	for name, o := range map[string]testenv.Options{
		"policy":                {Policy: "mode: read-only\n"},
		"flag narrows a policy": {Policy: "mode: read-write\ntoolsets: [all]\n", ReadOnly: true},
	} {
		t.Run(name, func(t *testing.T) {
			env := testenv.New(t, o)
			tl := listed(t, env)
			reads := 0
			for _, x := range tools.All() {
				if x.Class == policy.Read {
					reads++
				}
			}
			if len(tl) != reads {
				t.Errorf("%d tools listed, want the %d read tools", len(tl), reads)
			}
			for _, x := range tl {
				if x.Annotations.ReadOnlyHint == nil || !*x.Annotations.ReadOnlyHint {
					t.Errorf("read-only lists %s", x.Name)
				}
			}
			if err := callErr(t, env, "create_group", `{"org_unit_name":"X","org_unit_parent_id":1003}`); err == nil || !strings.Contains(err.Error(), "not found") {
				t.Errorf("create_group: %v", err)
			}
		})
	}
}

// TestElicitationModeFromPolicy: confirmation.mode elicitation refuses a
// client that cannot be asked, and the refusal is on record.
func TestElicitationModeFromPolicy(t *testing.T) {
	audit, auditYAML := auditPath(t)
	env := testenv.New(t, testenv.Options{Policy: "confirmation:\n  mode: elicitation\n" + auditYAML})
	if msg := env.Fail(t, "delete_group", `{"id":1042}`); !strings.Contains(msg, "elicitation") {
		t.Fatalf("got %s", msg)
	}
	if groupField(t, env, 1042, "org_unit_status") != "active" {
		t.Fatal("refused call changed something")
	}
	if got := summary(testenv.AuditLines(t, audit)); !slices.Equal(got, []string{"delete_group decision denied"}) {
		t.Fatalf("audit: %v", got)
	}
}

// TestRequireConfirmsUpdateGroup: confirmation.require makes a write tool
// go through the confirmation protocol, with the ttl from the file.
func TestRequireConfirmsUpdateGroup(t *testing.T) {
	audit, auditYAML := auditPath(t)
	env := testenv.New(t, testenv.Options{Policy: "confirmation:\n  ttl: 2m\n  require: [update_group]\n" + auditYAML})

	if s := listed(t, env)["update_group"].InputSchema; s.Properties["confirmation_token"] == nil || slices.Contains(s.Required, "confirmation_token") {
		t.Fatalf("a tool made confirmable must accept an optional confirmation_token: %+v", s)
	}
	if _, ok := listed(t, env)["create_group"].InputSchema.Properties["confirmation_token"]; ok {
		t.Fatal("only required tools change")
	}

	first := env.OK(t, "update_group", `{"id":1042,"city":"Aurora","phone_number":"+13035550199"}`)
	tok := env.Approved(t, first)
	if first["status"] != "confirmation_required" || tok == "" || !strings.Contains(fmt.Sprint(first["action"]), "update_group") {
		t.Fatalf("first call: %v", first)
	}
	exp, err := time.Parse(time.RFC3339, fmt.Sprint(first["expires_at"]))
	if err != nil || time.Until(exp) > 2*time.Minute+time.Second || time.Until(exp) < time.Minute {
		t.Errorf("ttl from the file: expires %v (%v)", exp, err)
	}
	if w := writesSeen(env); len(w) != 0 || groupField(t, env, 1042, "city") != "Denver" {
		t.Fatalf("nothing may change before confirmation: %v", w)
	}
	done := env.OK(t, "update_group", fmt.Sprintf(`{"id":1042,"city":"Aurora","phone_number":"+13035550199","confirmation_token":%q}`, tok))
	if done["status"] != "updated" || groupField(t, env, 1042, "city") != "Aurora" {
		t.Fatalf("confirmed call: %v", done)
	}

	lines := testenv.AuditLines(t, audit)
	if got := summary(lines); !slices.Equal(got, []string{
		"update_group decision confirmation_required",
		"update_group decision confirmed",
		"update_group outcome ok",
	}) {
		t.Fatalf("audit: %v", got)
	}
	if lines[1]["call_id"] != lines[2]["call_id"] || lines[0]["call_id"] == lines[1]["call_id"] {
		t.Errorf("call ids link a call's decision and outcome: %v", lines)
	}
	if lines[2]["request_id"] == nil || lines[2]["request_id"] == "" {
		t.Errorf("outcome without the upstream request_id: %v", lines[2])
	}
	for _, l := range lines {
		if s := fmt.Sprint(l); strings.Contains(s, "13035550199") || strings.Contains(s, tok) {
			t.Errorf("audit leaks a phone number or the token: %v", l)
		}
	}
	if a := lines[0]["arguments"].(map[string]any); a["phone_number"] != "+*******0199" || a["city"] != "Aurora" {
		t.Errorf("arguments: %v", a)
	}

	// Through elicitation, in both protocol eras: the user is asked once.
	for _, era := range eras {
		t.Run(era.name, func(t *testing.T) {
			audit, auditYAML := auditPath(t)
			var asked atomic.Int32
			env := testenv.New(t, testenv.Options{Protocol: era.version, Policy: "confirmation:\n  require: [update_group]\n" + auditYAML,
				Elicit: func(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
					asked.Add(1)
					return testenv.Accept(ctx, req)
				}})
			if r := env.OK(t, "update_group", `{"id":1042,"city":"Aurora"}`); r["status"] != "updated" || asked.Load() != 1 {
				t.Fatalf("%v, asked %d", r, asked.Load())
			}
			if got := summary(testenv.AuditLines(t, audit)); !slices.Equal(got, []string{
				"update_group decision confirmation_required",
				"update_group decision confirmed",
				"update_group outcome ok",
			}) {
				t.Fatalf("audit: %v", got)
			}
		})
	}
}

// TestAuditEveryWrite: each write leaves exactly one decision line, written
// before it ran, and one outcome line; reads that are allowed leave none.
func TestAuditEveryWrite(t *testing.T) {
	audit, auditYAML := auditPath(t)
	env := testenv.New(t, testenv.Options{Policy: auditYAML})
	env.OK(t, "get_group_tree", `{}`)
	env.OK(t, "list_groups", `{}`)
	created := env.OK(t, "create_group", `{"org_unit_name":"Boulder","org_unit_parent_id":1003,"phone_number":"3035550123"}`)
	id := created["org_unit_id"]
	env.OK(t, "update_group", fmt.Sprintf(`{"id":%v,"city":"Louisville"}`, id))
	env.OK(t, "replace_group", fmt.Sprintf(`{"id":%v,"org_unit_name":"Boulder Hub","org_unit_ext_id":"B-1","org_unit_parent_id":1003,"address":"1 Pearl St","city":"Boulder","state":"CO","zip":"80302","phone_number":"+13035550100","industry_id":11}`, id))
	env.Fail(t, "update_group", `{"id":1003,"org_unit_parent_id":1042}`) // the upstream refuses a cycle

	// Destructive: token flow, then a declined elicitation.
	first := env.OK(t, "delete_group", fmt.Sprintf(`{"id":%v}`, id))
	env.OK(t, "delete_group", fmt.Sprintf(`{"id":%v,"confirmation_token":%q}`, id, env.Approved(t, first)))
	env.Fail(t, "delete_group", `{"id":1003}`) // blocked by the preview: sub-groups

	lines := testenv.AuditLines(t, audit)
	want := []string{
		"create_group decision allowed", "create_group outcome ok",
		"update_group decision allowed", "update_group outcome ok",
		"replace_group decision allowed", "replace_group outcome ok",
		"update_group decision allowed", "update_group outcome error",
		"delete_group decision confirmation_required",
		"delete_group decision confirmed", "delete_group outcome ok",
		"delete_group decision denied",
	}
	if got := summary(lines); !slices.Equal(got, want) {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i, l := range lines {
		if l["client"] != "testenv" || l["session"] == nil || l["session"] == "" || l["time"] == nil || l["class"] == nil {
			t.Errorf("line %d lacks client, session, time or class: %v", i, l)
		}
		if l["event"] == "decision" && l["arguments"] == nil {
			t.Errorf("line %d lacks arguments: %v", i, l)
		}
	}
	if a := lines[0]["arguments"].(map[string]any); a["phone_number"] != "+*******0123" {
		t.Errorf("phone number not masked: %v", a)
	}
	if e := fmt.Sprint(lines[7]["error"]); !strings.Contains(e, "under itself") || lines[7]["request_id"] == nil {
		t.Errorf("error outcome: %v", lines[7])
	}
	if a := fmt.Sprint(lines[8]["action"]); !strings.Contains(a, "Delete group") {
		t.Errorf("confirmation line without its action: %v", lines[8])
	}
	if r := fmt.Sprint(lines[11]["reason"]); !strings.Contains(r, "sub-group") {
		t.Errorf("refusal without its reason: %v", lines[11])
	}

	// Elicitation decline.
	audit2, auditYAML2 := auditPath(t)
	env2 := testenv.New(t, testenv.Options{Policy: auditYAML2, Elicit: testenv.Answer(mcp.ElicitationResponseActionDecline, nil)})
	env2.OK(t, "delete_group", `{"id":1042}`)
	if got := summary(testenv.AuditLines(t, audit2)); !slices.Equal(got, []string{"delete_group decision confirmation_required", "delete_group decision declined"}) {
		t.Fatalf("decline: %v", got)
	}
}

// TestAuditFailureBlocksWrites: when the audit log cannot be written, a
// write is refused and never reaches the upstream; reads go on.
func TestAuditFailureBlocksWrites(t *testing.T) {
	audit, auditYAML := auditPath(t)
	env := testenv.New(t, testenv.Options{Policy: auditYAML})
	first := env.OK(t, "delete_group", `{"id":1042}`) // token issued while the log works

	if err := os.Remove(audit); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(audit, 0o700); err != nil { // the path is now a directory
		t.Fatal(err)
	}
	env.App.Sandbox.ResetCalls()
	for _, c := range []struct{ tool, args string }{
		{"update_group", `{"id":1042,"city":"Aurora"}`},
		{"create_group", `{"org_unit_name":"X","org_unit_parent_id":1003}`},
		{"delete_group", fmt.Sprintf(`{"id":1042,"confirmation_token":%q}`, env.Approved(t, first))},
	} {
		msg := env.Fail(t, c.tool, c.args)
		if !strings.Contains(msg, "audit log could not be written") || !strings.Contains(msg, "Nothing was executed") {
			t.Errorf("%s: %s", c.tool, msg)
		}
	}
	if w := writesSeen(env); len(w) != 0 {
		t.Fatalf("the upstream saw writes: %v", w)
	}
	if groupField(t, env, 1042, "city") != "Denver" {
		t.Fatal("a write went through")
	}

	// A log that cannot be opened at start-up stops the server.
	dir := t.TempDir()
	cfg := testenv.Config(t, testenv.Options{Policy: fmt.Sprintf("audit:\n  file: %s\n", dir)})
	if _, err := server.New(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "audit log") {
		t.Fatalf("start-up with an unwritable audit log: %v", err)
	}
}

// TestScope: a server scoped to West (1003) serves West and below, refuses
// everything else before any upstream call, pins lists and trims the tree.
func TestScope(t *testing.T) {
	audit, auditYAML := auditPath(t)
	env := testenv.New(t, testenv.Options{Policy: "scope:\n  org_units: [1003]\n" + auditYAML})

	msg := env.Fail(t, "get_group", `{"id":1002}`)
	if !strings.Contains(msg, "org unit 1002 is outside this server's scope (org unit 1003 and its descendants)") {
		t.Fatalf("get_group 1002: %s", msg)
	}
	for _, c := range env.App.Sandbox.Calls() {
		if strings.Contains(c, "/groups/1002") {
			t.Fatalf("an out-of-scope call reached the upstream: %v", env.App.Sandbox.Calls())
		}
	}
	if g := env.OK(t, "get_group", `{"id":1042}`); g["org_unit_name"] != "Denver Office" {
		t.Fatalf("get_group 1042: %v", g)
	}
	env.OK(t, "get_group", `{"id":1003}`)

	// Lists without an org unit are pinned to the scope.
	list := env.OK(t, "list_groups", `{}`)
	if list["total"] != float64(3) || !strings.Contains(fmt.Sprint(list), "Denver Office") {
		t.Fatalf("pinned list: %v", list)
	}
	env.Fail(t, "list_groups", `{"org_unit_id":1001}`)

	// The tree keeps only West's subtree.
	tree := env.OK(t, "get_group_tree", `{}`)
	groups := tree["groups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["org_unit_id"] != float64(1003) {
		t.Fatalf("tree: %v", tree)
	}
	if s := fmt.Sprint(tree); strings.Contains(s, "Sales Division") || strings.Contains(s, "Summit") || !strings.Contains(s, "Phoenix Office") {
		t.Fatalf("tree: %v", s)
	}

	if h := env.OK(t, "get_org_unit_hierarchy", `{"org_unit_id":1003}`); h["count"] != float64(4) {
		t.Fatalf("hierarchy: %v", h)
	}
	env.Fail(t, "get_org_unit_hierarchy", `{"org_unit_id":1001}`)

	// Writes: in scope, moved out of scope, created under scope and then
	// changed at once (a unit the cached hierarchy does not know yet).
	env.App.Sandbox.ResetCalls()
	for _, c := range []struct{ tool, args string }{
		{"update_group", `{"id":1002,"city":"X"}`},
		{"update_group", `{"id":1042,"org_unit_parent_id":1002}`},
		{"replace_group", `{"id":1043,"org_unit_name":"P","org_unit_ext_id":"","org_unit_parent_id":1004,"address":"","city":"","state":"","zip":"","phone_number":"","industry_id":11}`},
		{"create_group", `{"org_unit_name":"X","org_unit_parent_id":1004}`},
		{"delete_group", `{"id":1010}`},
	} {
		if msg := env.Fail(t, c.tool, c.args); !strings.Contains(msg, "outside this server's scope") {
			t.Errorf("%s %s: %s", c.tool, c.args, msg)
		}
	}
	if w := writesSeen(env); len(w) != 0 {
		t.Fatalf("out-of-scope writes reached the upstream: %v", w)
	}
	created := env.OK(t, "create_group", `{"org_unit_name":"Boulder","org_unit_parent_id":1042}`)
	env.OK(t, "update_group", fmt.Sprintf(`{"id":%v,"city":"Boulder"}`, created["org_unit_id"]))

	lines := testenv.AuditLines(t, audit)
	if lines[0]["tool"] != "get_group" || lines[0]["decision"] != "out_of_scope" || !strings.Contains(fmt.Sprint(lines[0]["reason"]), "1002") {
		t.Fatalf("a refused read is on record: %v", lines[0])
	}
	n := 0
	for _, l := range lines {
		if l["decision"] == "out_of_scope" {
			n++
		}
	}
	if n != 8 {
		t.Errorf("%d out_of_scope lines, want 8:\n%v", n, summary(lines))
	}
}

// TestScopeSeveralRoots: a list without an org unit cannot be pinned to one
// of several roots: it is refused with a request for org_unit_id.
func TestScopeSeveralRoots(t *testing.T) {
	env := testenv.New(t, testenv.Options{Policy: "scope:\n  org_units: [1003, 1050]\n"})
	if msg := env.Fail(t, "list_groups", `{}`); !strings.Contains(msg, "give org_unit_id") || !strings.Contains(msg, "1003 and 1050") {
		t.Fatalf("got %s", msg)
	}
	env.OK(t, "list_groups", `{"org_unit_id":1050}`)
	tree := env.OK(t, "get_group_tree", `{}`)
	var ids []float64
	for _, g := range tree["groups"].([]any) {
		ids = append(ids, g.(map[string]any)["org_unit_id"].(float64))
	}
	if !slices.Equal(ids, []float64{1003, 1050}) {
		t.Fatalf("tree roots %v", ids)
	}
	env.Fail(t, "get_group", `{"id":1004}`) // East itself is above 1050
}

// TestScopeUnresolvable: a scope whose root the upstream does not know
// fails closed.
func TestScopeUnresolvable(t *testing.T) {
	audit, auditYAML := auditPath(t)
	env := testenv.New(t, testenv.Options{Policy: "scope:\n  org_units: [999999]\n" + auditYAML})
	msg := env.Fail(t, "get_group", `{"id":1042}`)
	if !strings.Contains(msg, "scope could not be checked") {
		t.Fatalf("got %s", msg)
	}
	if got := summary(testenv.AuditLines(t, audit)); !slices.Equal(got, []string{"get_group decision denied"}) {
		t.Fatalf("audit: %v", got)
	}
}

// TestBadPolicyStopsStartUp: server.New fails, naming the file, the line and
// the problem.
func TestBadPolicyStopsStartUp(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"mode: read-write\ntoolsets: [default]\ntools:\n  allow: []\n  deny: [delete_group]\nconfirmation:\n  mode: auto\ntool:\n  deny: [x]\n",
			`line 8: unknown key "tool"; did you mean tools?`},
		{"tools:\n  deny: [delete_usr]\n", `line 2: tools.deny: unknown tool "delete_usr"`},
		{"confirmation:\n  require: [update_grup]\n", `did you mean update_group?`},
		{"toolsets: [groups, sales]\n", `line 1: unknown toolset "sales"`},
		{"mode: write\n", "line 1: mode must be read-only or read-write"},
		{"tools:\n  allow: [list_*]\n  deny: [list_*]\n", "leave no tool to serve"},
	}
	for _, c := range cases {
		// The configuration only, not testenv.Start: the test is of
		// server.New's refusal.
		cfg := testenv.Config(t, testenv.Options{Policy: c.yaml})
		app, err := server.New(cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			app.Close()
			t.Errorf("started with %q", c.yaml)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || (strings.Contains(c.want, "line") && !strings.Contains(err.Error(), cfg.Policy)) {
			t.Errorf("got %q\nwant the file and %q", err, c.want)
		}
	}
}
