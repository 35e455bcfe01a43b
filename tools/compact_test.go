package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

func compact(o testenv.Options) testenv.Options {
	prev := o.Configure
	o.Configure = func(c *config.Config) {
		c.ToolMode = "compact"
		if prev != nil {
			prev(c)
		}
	}
	return o
}

// TestCompactListsThreeTools: search_tools and one dispatcher for reads,
// one for everything else, each with hints true of every tool it runs.
func TestCompactListsThreeTools(t *testing.T) {
	env := testenv.New(t, compact(testenv.Options{}))
	list, err := env.Client.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Tools) != 3 || list.Tools[0].Name != "call_read_tool" || list.Tools[1].Name != "call_write_tool" || list.Tools[2].Name != "search_tools" {
		t.Fatalf("tools: %+v", list.Tools)
	}
	for _, tl := range list.Tools {
		a := tl.Annotations
		if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil || a.Title == "" {
			t.Errorf("%s: hints must be explicit: %+v", tl.Name, a)
			continue
		}
		switch tl.Name {
		case "call_read_tool":
			if !*a.ReadOnlyHint || *a.DestructiveHint || !*a.IdempotentHint {
				t.Errorf("call_read_tool runs only reads: %+v", a)
			}
		case "call_write_tool":
			if *a.ReadOnlyHint || !*a.DestructiveHint || *a.IdempotentHint {
				t.Errorf("call_write_tool can run destructive tools: %+v", a)
			}
		}
	}
	if msg := env.Fail(t, "call_read_tool", `{"name":"delete_group","arguments":{"id":1042}}`); !strings.Contains(msg, "call_write_tool") {
		t.Errorf("a write through the read dispatcher: %s", msg)
	}
	if msg := env.Fail(t, "call_write_tool", `{"name":"get_group","arguments":{"id":1042}}`); !strings.Contains(msg, "call_read_tool") {
		t.Errorf("a read through the write dispatcher: %s", msg)
	}
}

func TestCompactSearch(t *testing.T) {
	env := testenv.New(t, compact(testenv.Options{}))
	for query, want := range map[string]string{
		"release a tracking number":        "release_phone_number",
		"who called yesterday, unanswered": "list_calls",
		"delete_group":                     "delete_group",
		"org unit tree":                    "get_group_tree",
		"remove contacts from the dialer":  "delete_records",
	} {
		out := env.OK(t, "search_tools", fmt.Sprintf(`{"query":%q}`, query))
		hits := items(t, out, "tools")
		if len(hits) == 0 || hits[0]["name"] != want {
			names := []any{}
			for _, h := range hits {
				names = append(names, h["name"])
			}
			t.Errorf("%q: got %v, want %s first", query, names, want)
			continue
		}
		if hits[0]["input_schema"] == nil || hits[0]["class"] == nil {
			t.Errorf("%q: a hit needs its schema and class: %v", query, hits[0])
		}
	}
	if out := env.OK(t, "search_tools", `{"query":"zzqx"}`); len(fmt.Sprint(out["all_tools"])) < 100 {
		t.Errorf("no match should list the tool names: %v", out)
	}
	env.Fail(t, "search_tools", `{"query":""}`)
}

func TestCompactCallSameResultsSameSafety(t *testing.T) {
	env := testenv.New(t, compact(testenv.Options{}))
	g := env.OK(t, "call_read_tool", `{"name":"get_group","arguments":{"id":1042}}`)
	if g["org_unit_name"] != "Denver Office" {
		t.Fatalf("get_group via call_tool: %v", g)
	}
	if msg := env.Fail(t, "call_read_tool", `{"name":"get_group","arguments":{"id":"x"}}`); !strings.Contains(msg, "id must be an integer") {
		t.Errorf("inner validation: %s", msg)
	}
	if msg := env.Fail(t, "call_read_tool", `{"name":"no_such_tool"}`); !strings.Contains(msg, "search_tools") {
		t.Errorf("unknown tool: %s", msg)
	}
	if msg := env.Fail(t, "call_read_tool", `{"name":"get_group","arguments":{"id":1},"extra":1}`); !strings.Contains(msg, "extra is not a known argument") {
		t.Errorf("outer validation: %s", msg)
	}

	res := env.Call(t, "call_write_tool", `{"name":"delete_group","arguments":{"id":1042}}`)
	first := testenv.Structured(t, res)
	tok := env.Approved(t, first)
	if res.IsError || first["status"] != "confirmation_required" || tok == "" {
		t.Fatalf("first call: %s", testenv.Text(res))
	}
	if !strings.Contains(testenv.Text(res), `call call_write_tool again with name "delete_group"`) {
		t.Errorf("retry instruction should name call_write_tool: %s", testenv.Text(res))
	}
	if s := groupStatus2(t, env, 1042); s != "active" {
		t.Fatal("the first call changed something")
	}
	// A token for delete_group cannot be spent through another tool name.
	if msg := env.Fail(t, "call_write_tool", fmt.Sprintf(`{"name":"delete_user","arguments":{"id":1042,"confirmation_token":%q}}`, tok)); !strings.Contains(msg, "different call") && !strings.Contains(msg, "No tool") {
		t.Errorf("token reuse across tools: %s", msg)
	}
	done := env.OK(t, "call_write_tool", fmt.Sprintf(`{"name":"delete_group","arguments":{"id":1042,"confirmation_token":%q}}`, tok))
	if done["status"] != "deleted" {
		t.Fatalf("confirmed: %v", done)
	}
	if msg := env.Fail(t, "call_write_tool", fmt.Sprintf(`{"name":"delete_group","arguments":{"id":1042,"confirmation_token":%q}}`, tok)); !strings.Contains(msg, "already used") {
		t.Errorf("replay: %s", msg)
	}
}

func TestCompactElicitation(t *testing.T) {
	for _, era := range eras {
		t.Run(era.name, func(t *testing.T) {
			for _, a := range []struct {
				action mcp.ElicitationResponseAction
				want   string
			}{{mcp.ElicitationResponseActionDecline, "active"}, {mcp.ElicitationResponseActionAccept, "deleted"}} {
				env := testenv.New(t, compact(testenv.Options{Protocol: era.version, Elicit: testenv.Answer(a.action, map[string]any{"confirm": true})}))
				env.OK(t, "call_write_tool", `{"name":"delete_group","arguments":{"id":1042}}`)
				if s := groupStatus2(t, env, 1042); s != a.want {
					t.Errorf("%s: status %s, want %s", a.action, s, a.want)
				}
			}
		})
	}
}

func TestCompactRespectsReadOnly(t *testing.T) {
	env := testenv.New(t, compact(testenv.Options{ReadOnly: true}))
	if msg := env.Fail(t, "call_write_tool", `{"name":"delete_group","arguments":{"id":1042}}`); !strings.Contains(msg, "No tool named") {
		t.Errorf("read-only compact mode ran a write: %s", msg)
	}
	out := env.OK(t, "search_tools", `{"query":"delete group","limit":10}`)
	for _, h := range items(t, out, "tools") {
		if h["class"] != "R" {
			t.Errorf("read-only search offered %v", h["name"])
		}
	}
}

// groupStatus2 reads a group's status through call_read_tool (compact mode).
func groupStatus2(t *testing.T, env *testenv.Env, id int) string {
	t.Helper()
	g := env.OK(t, "call_read_tool", fmt.Sprintf(`{"name":"get_group","arguments":{"id":%d}}`, id))
	s, _ := g["org_unit_status"].(string)
	return s
}

// TestCompactAuditsWithheldTools: call_tool naming a tool the policy
// withholds is refused as "no tool named" and, as in full mode, leaves a
// denied line on the audit record.
func TestCompactAuditsWithheldTools(t *testing.T) {
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	env := testenv.New(t, compact(testenv.Options{Policy: fmt.Sprintf("tools:\n  deny: [delete_group]\naudit:\n  file: %s\n", audit)}))
	res := env.Call(t, "call_write_tool", `{"name":"delete_group","arguments":{"id":1042}}`)
	if !res.IsError || !strings.Contains(testenv.Text(res), "No tool named") {
		t.Fatalf("withheld tool through call_tool: %s", testenv.Text(res))
	}
	b, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(b), &line); err != nil {
		t.Fatalf("audit: %q: %v", b, err)
	}
	if line["tool"] != "delete_group" || line["decision"] != "denied" || !strings.Contains(fmt.Sprint(line["reason"]), "denied by the policy") {
		t.Fatalf("audit line: %v", line)
	}
}
