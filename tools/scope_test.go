package tools_test

// Org-unit scope, toolset by toolset: a server scoped to West (org unit 1003
// and its children 1042 Denver, 1043 Phoenix, 1044 Salt Lake) serves West's
// resources, refuses others' before anything but the ownership lookup is
// sent upstream, pins or trims its lists, and never moves a resource out.
// Helpers and the declaration table are here; the toolsets' cases are in
// scope_*_test.go.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/tools"
)

// west are the org units of the scope: 1003 and its descendants.
var west = map[int64]bool{1003: true, 1042: true, 1043: true, 1044: true}

// scoped is a server limited to West with every toolset and an audit log.
type scoped struct {
	*testenv.Env
	audit string
}

func newScoped(t *testing.T) *scoped {
	t.Helper()
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	env := testenv.New(t, testenv.Options{Policy: fmt.Sprintf("toolsets: [all]\nscope:\n  org_units: [1003]\naudit:\n  file: %s\n", audit)})
	return &scoped{Env: env, audit: audit}
}

// lastDecision is the decision the audit log recorded last for tool.
func (s *scoped) lastDecision(t *testing.T, tool string) map[string]any {
	t.Helper()
	f, err := os.Open(s.audit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var last map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line: %v", err)
		}
		if m["tool"] == tool && m["event"] == "decision" {
			last = m
		}
	}
	if last == nil {
		t.Fatalf("no decision of %s on record", tool)
	}
	return last
}

// upstreamCalls are the requests since the last reset, the login and the
// scope's own hierarchy lookups left out.
func upstreamCalls(env *testenv.Env) []string {
	var out []string
	for _, c := range env.App.Sandbox.Calls() {
		if strings.Contains(c, "/oauth/") || strings.HasPrefix(c, "GET /v3/groups/org-list/") {
			continue
		}
		out = append(out, c)
	}
	return out
}

// refuse calls a tool that must be refused as out of scope, and checks that
// the refusal is on record and that exactly the lookups given reached the
// upstream: the "METHOD /path" of each ownership read, once each (so a GET
// of the resource itself, beyond its lookup, is caught), and nothing else.
func (s *scoped) refuse(t *testing.T, tool, args string, lookups ...string) string {
	t.Helper()
	s.App.Sandbox.ResetCalls()
	msg := s.Fail(t, tool, args)
	if !strings.Contains(msg, "outside this server's scope") && !strings.Contains(msg, "cannot be limited to this server's scope") {
		t.Errorf("%s %s: not an out-of-scope refusal: %s", tool, args, msg)
	}
	if !strings.Contains(msg, "Nothing was done") {
		t.Errorf("%s %s: the refusal does not say nothing was done: %s", tool, args, msg)
	}
	got, want := upstreamCalls(s.Env), slices.Clone(lookups)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s %s: upstream requests %v, want only the lookups %v", tool, args, got, want)
	}
	if d := s.lastDecision(t, tool); d["decision"] != "out_of_scope" {
		t.Errorf("%s %s: audit decision %v, want out_of_scope", tool, args, d["decision"])
	}
	return msg
}

// pinned runs a list without an org unit and checks that the upstream was
// asked for the scope's unit.
func (s *scoped) pinned(t *testing.T, tool, args, path string) map[string]any {
	t.Helper()
	s.App.Sandbox.ResetCalls()
	out := s.OK(t, tool, args)
	for _, r := range s.App.Sandbox.Requests() {
		if strings.HasPrefix(r, "GET "+path+"?") && strings.Contains(r, "org_unit_id=1003") {
			return out
		}
	}
	t.Errorf("%s %s: no request for %s with org_unit_id=1003: %v", tool, args, path, s.App.Sandbox.Requests())
	return out
}

// inWest fails unless every item's org unit (under unitKey) is West's.
func inWest(t *testing.T, what string, list []map[string]any, unitKey string) {
	t.Helper()
	for _, it := range list {
		if !west[num(it[unitKey])] {
			t.Errorf("%s: an item of org unit %v left the scope: %v", what, it[unitKey], it)
		}
	}
}

func ids(list []map[string]any, key string) []int64 {
	var out []int64
	for _, it := range list {
		out = append(out, num(it[key]))
	}
	return out
}

// TestEveryToolDeclaresItsScope: every tool says how it relates to org
// units, so that none is silently withheld by a scoped server, or worse,
// served without limits. A new tool must be added here with its relation:
// "account-wide" only for data of no org unit.
func TestEveryToolDeclaresItsScope(t *testing.T) {
	want := map[string]string{
		"list_groups": "names+pins", "get_group": "resolves", "get_group_tree": "filters", "get_org_unit_hierarchy": "names",
		"create_group": "names", "replace_group": "names", "update_group": "names", "delete_group": "resolves",

		"list_users": "names+pins", "get_user": "resolves", "create_user": "names",
		"replace_user": "names+resolves", "update_user": "names+resolves", "delete_user": "resolves",

		"list_webhooks": "names+pins", "get_webhook": "resolves", "create_webhook": "names",
		"replace_webhook": "names+resolves", "update_webhook": "names+resolves", "delete_webhook": "resolves",

		"list_media_prompts": "filters", "upload_media_prompt": "names+pins", "delete_media_prompt": "resolves",

		"list_voice_agents": "names+filters", "get_voice_agent": "resolves", "create_voice_agent": "names",
		"replace_voice_agent": "names+resolves", "update_voice_agent": "names+resolves", "delete_voice_agent": "resolves",

		"search_available_numbers": "filters", "list_assigned_numbers": "names+filters", "list_provisioned_numbers": "names+filters",
		"order_phone_number": "names", "release_phone_number": "resolves",

		"list_provisioned_routes": "names+pins", "get_provisioned_route": "resolves", "create_provisioned_route": "names",
		"replace_provisioned_route": "resolves", "update_provisioned_route": "resolves", "delete_provisioned_route": "resolves",

		"list_broadcasts": "filters", "get_broadcast": "resolves", "create_broadcast": "names+resolves+pins",
		"replace_broadcast": "resolves", "update_broadcast": "resolves", "delete_broadcast": "resolves",

		"list_calls": "names+pins", "summarize_calls": "names+pins", "get_call": "resolves",
		"list_sms_conversations": "unscopable", // to no org unit: refused under a scope

		"get_profile": "account-wide", "list_industries": "account-wide", "list_ad_sources": "filters",
		"list_tags": "names", "create_tag": "names", "update_tag": "names+resolves", "delete_tags": "names+resolves",

		// Talkdesk has no org units.
		"list_record_lists": "account-wide", "get_record_list": "account-wide", "list_records": "account-wide",
		"create_record_list": "account-wide", "create_records": "account-wide", "update_records": "account-wide",
		"delete_record_list": "account-wide", "delete_records": "account-wide",
	}
	seen := map[string]bool{}
	for _, tl := range tools.All() {
		seen[tl.Name] = true
		got := tl.ScopeRelation()
		if got == "" || !tl.ScopeDeclared() {
			t.Errorf("%s declares no relation to org units: a scoped server would withhold it", tl.Name)
			continue
		}
		if w, ok := want[tl.Name]; !ok {
			t.Errorf("%s (%s) is not in this table: add it, and a scoped test of it", tl.Name, got)
		} else if got != w {
			t.Errorf("%s declares %q, want %q", tl.Name, got, w)
		}
		if tl.AccountWide() && tl.Toolset != "account" && tl.Toolset != "record_lists" {
			t.Errorf("%s is account-wide in toolset %s, which holds org units' data", tl.Name, tl.Toolset)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s is in the table but not a tool", name)
		}
	}
}

// TestScopedServerServesEveryTool: with every tool declared, a scoped
// server withholds none.
func TestScopedServerServesEveryTool(t *testing.T) {
	s := newScoped(t)
	res, err := s.Client.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(res.Tools), len(tools.All()); got != want {
		t.Fatalf("a scoped server lists %d tools of %d", got, want)
	}
}
