package tools_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

// eras are the two protocol generations every confirmation flow must work in.
var eras = []struct{ name, version string }{
	{"modern", ""}, // the client's default, 2026-07-28
	{"legacy", mcp.ProtocolVersion20250618},
}

func TestGroupReads(t *testing.T) {
	env := testenv.New(t, testenv.Options{})

	tree := env.OK(t, "get_group_tree", `{}`)
	if s := fmt.Sprint(tree); !strings.Contains(s, "Denver Office") || !strings.Contains(s, "Summit Marketing Agency") {
		t.Fatalf("tree lacks the demo hierarchy: %v", tree)
	}
	if strings.Contains(fmt.Sprint(tree), "Miami") {
		t.Errorf("deleted group in the tree: %v", tree)
	}

	list := env.OK(t, "list_groups", `{"org_unit_id":1003}`)
	if list["total"] != float64(3) || list["count"] != float64(3) {
		t.Fatalf("West has 3 children: %v", list)
	}
	page := env.OK(t, "list_groups", `{"limit":2}`)
	if page["count"] != float64(2) || page["next_offset"] != float64(2) {
		t.Fatalf("paging: %v", page)
	}
	named := env.OK(t, "list_groups", `{"org_unit_id":1003,"group_name":"phoe"}`)
	if named["total"] != float64(1) {
		t.Fatalf("partial name filter: %v", named)
	}

	g := env.OK(t, "get_group", `{"id":1042}`)
	if g["org_unit_name"] != "Denver Office" || g["org_unit_id"] != float64(1042) || g["org_unit_parent_id"] != float64(1003) {
		t.Fatalf("get_group: %v", g)
	}
	h := env.OK(t, "get_org_unit_hierarchy", `{"org_unit_id":1004}`)
	ids := fmt.Sprint(h["org_units"])
	if !strings.HasPrefix(ids, "[1004 ") || !strings.Contains(ids, "1051") || h["count"] != float64(5) {
		t.Fatalf("hierarchy of East: %v", h)
	}
	if msg := env.Fail(t, "get_group", `{"id":999999}`); !strings.Contains(msg, "404") || !strings.Contains(msg, "request_id") {
		t.Errorf("missing group: %s", msg)
	}
}

func TestGroupWrites(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	created := env.OK(t, "create_group", `{"org_unit_name":"Boulder Office","org_unit_parent_id":1003,"city":"Boulder","state":"CO"}`)
	id := created["org_unit_id"]
	if created["status"] != "created" || id == nil {
		t.Fatalf("create: %v", created)
	}
	if msg := env.Fail(t, "create_group", `{"org_unit_name":"boulder office","org_unit_parent_id":1003}`); !strings.Contains(msg, "already named") {
		t.Errorf("sibling names must be unique: %s", msg)
	}
	if msg := env.Fail(t, "create_group", `{"org_unit_name":"X","org_unit_parent_id":1044}`); !strings.Contains(msg, "not active") {
		t.Errorf("inactive parent: %s", msg)
	}

	env.OK(t, "update_group", fmt.Sprintf(`{"id":%v,"city":"Louisville"}`, id))
	g := env.OK(t, "get_group", fmt.Sprintf(`{"id":%v}`, id))
	if g["city"] != "Louisville" || g["org_unit_name"] != "Boulder Office" {
		t.Fatalf("after update: %v", g)
	}
	if msg := env.Fail(t, "update_group", fmt.Sprintf(`{"id":%v}`, id)); !strings.Contains(msg, "at least one field") {
		t.Errorf("empty patch: %s", msg)
	}

	if msg := env.Fail(t, "replace_group", fmt.Sprintf(`{"id":%v,"org_unit_name":"B"}`, id)); !strings.Contains(msg, "city is required") {
		t.Errorf("replace needs every editable field: %s", msg)
	}
	env.OK(t, "replace_group", fmt.Sprintf(`{"id":%v,"org_unit_name":"Boulder Hub","org_unit_ext_id":"B-1","org_unit_parent_id":1002,"address":"1 Pearl St","city":"Boulder","state":"CO","zip":"80302","phone_number":"+13035550100","industry_id":11}`, id))
	g = env.OK(t, "get_group", fmt.Sprintf(`{"id":%v}`, id))
	if g["org_unit_name"] != "Boulder Hub" || g["org_unit_parent_id"] != float64(1002) || g["zip"] != "80302" {
		t.Fatalf("after replace: %v", g)
	}
	if msg := env.Fail(t, "update_group", `{"id":1003,"org_unit_parent_id":1042}`); !strings.Contains(msg, "under itself") {
		t.Errorf("cycle: %s", msg)
	}
}

// TestBadInputNeverReachesUpstream: wrong types, negative or missing ids and
// unknown fields are refused with a clear message and no upstream call.
func TestBadInputNeverReachesUpstream(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	cases := []struct{ tool, args, want string }{
		{"get_group", `{"id":"1042"}`, "id must be an integer"},
		{"get_group", `{"id":-3}`, "id must be at least 1; got -3"},
		{"get_group", `{"id":1.5}`, "id must be an integer"},
		{"get_group", `{}`, "id is required"},
		{"get_group", `{"id":1042,"name":"x"}`, "name is not a known argument"},
		{"delete_group", `{"id":0}`, "id must be at least 1"},
		{"delete_group", `{"id":1042,"confirmation_token":7}`, "confirmation_token must be a string"},
		{"list_groups", `{"limit":0}`, "limit must be at least 1; got 0"},
		{"list_groups", `{"status":"gone"}`, `status must be one of "active", "inactive", "deleted"`},
		{"create_group", `{"org_unit_name":"X"}`, "org_unit_parent_id is required"},
		{"create_group", `{"org_unit_name":"X","org_unit_parent_id":1003,"state":"Colorado"}`, "state must match"},
		{"get_group", `{"id":99999999999999999999}`, "id must be"},
	}
	for _, c := range cases {
		msg := env.Fail(t, c.tool, c.args)
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s %s: got %q, want it to contain %q", c.tool, c.args, msg, c.want)
		}
		if !strings.Contains(msg, "Nothing was sent upstream") {
			t.Errorf("%s %s: the message should say nothing was sent: %q", c.tool, c.args, msg)
		}
	}
	if calls := env.App.Sandbox.Calls(); len(calls) != 0 {
		t.Errorf("bad input reached the upstream: %v", calls)
	}
}

func groupStatus(t *testing.T, env *testenv.Env, id int) string {
	t.Helper()
	g := env.OK(t, "get_group", fmt.Sprintf(`{"id":%d}`, id))
	s, _ := g["org_unit_status"].(string)
	return s
}

// TestDeleteGroupTokenPath: a client without elicitation cannot delete in
// one call; with the token it can, once.
// TestDeleteGroupTokenPath: mode token, the two-call protocol for scripted
// agents: the token alone executes, once, for exactly these arguments.
func TestDeleteGroupTokenPath(t *testing.T) {
	for _, era := range eras {
		t.Run(era.name, func(t *testing.T) {
			env := testenv.New(t, testenv.Options{Protocol: era.version, ConfirmMode: "token"})
			res := env.Call(t, "delete_group", `{"id":1042}`)
			if res.IsError {
				t.Fatalf("first call should ask, not fail: %s", testenv.Text(res))
			}
			first := testenv.Structured(t, res)
			tok, _ := first["confirmation_token"].(string)
			if first["status"] != "confirmation_required" || tok == "" || first["expires_at"] == nil {
				t.Fatalf("first call: %v", first)
			}
			if a, _ := first["action"].(string); !strings.Contains(a, `Delete group 1042 "Denver Office" (parent "West"), 0 sub-groups, 0 users`) {
				t.Errorf("action sentence: %q", a)
			}
			if !strings.Contains(testenv.Text(res), "Only if they approve") {
				t.Errorf("text must tell the assistant to ask the user: %s", testenv.Text(res))
			}
			if s := groupStatus(t, env, 1042); s != "active" {
				t.Fatalf("the first call changed something: %s", s)
			}

			// Other arguments, forged and mangled tokens: nothing happens.
			for _, bad := range []struct{ args, want string }{
				{fmt.Sprintf(`{"id":1043,"confirmation_token":%q}`, tok), "different call"},
				{`{"id":1042,"confirmation_token":"forged.token"}`, "not one this server issued"},
				{fmt.Sprintf(`{"id":1042,"confirmation_token":%q}`, tok[:len(tok)-2]+"xx"), "not one this server issued"},
				{`{"id":1042,"confirmation_token":""}`, ""},
			} {
				res := env.Call(t, "delete_group", bad.args)
				if bad.want == "" { // an empty token is no token: asks again
					if res.IsError || testenv.Structured(t, res)["status"] != "confirmation_required" {
						t.Errorf("empty token: %s", testenv.Text(res))
					}
					continue
				}
				if !res.IsError || !strings.Contains(testenv.Text(res), bad.want) {
					t.Errorf("%s: got %s", bad.args, testenv.Text(res))
				}
			}
			if s := groupStatus(t, env, 1042); s != "active" {
				t.Fatalf("a bad token changed something: %s", s)
			}

			env.App.Sandbox.ResetCalls()
			done := env.OK(t, "delete_group", fmt.Sprintf(`{"confirmation_token":%q,"id":1042}`, tok))
			if done["status"] != "deleted" {
				t.Fatalf("confirmed call: %v", done)
			}
			if calls := env.App.Sandbox.Calls(); len(calls) != 1 || calls[0] != "DELETE /v3/groups/1042" {
				t.Errorf("the confirmed call should make exactly the delete: %v", calls)
			}
			if msg := env.Fail(t, "delete_group", fmt.Sprintf(`{"id":1042,"confirmation_token":%q}`, tok)); !strings.Contains(msg, "already used") {
				t.Errorf("replay: %s", msg)
			}
			if s := groupStatus(t, env, 1042); s != "deleted" {
				t.Fatalf("status after delete: %s", s)
			}
		})
	}
}

// TestDeleteGroupBlocked: the documented restrictions are found in the
// preview; no token is issued and nothing is deleted.
func TestDeleteGroupBlocked(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	cases := []struct {
		id   int
		want string
	}{
		{1001, "root/billing-level"},
		{1003, "2 active sub-group(s)"},
		{1043, "user(s) are assigned"},
		{1061, "already deleted"},
		{424242, "does not exist"},
	}
	for _, c := range cases {
		res := env.Call(t, "delete_group", fmt.Sprintf(`{"id":%d}`, c.id))
		text := testenv.Text(res)
		if !res.IsError || !strings.Contains(text, c.want) || !strings.Contains(text, "Nothing was done") {
			t.Errorf("group %d: %s", c.id, text)
		}
		if strings.Contains(text, "confirmation_token") {
			t.Errorf("group %d: a blocked preview must not issue a token: %s", c.id, text)
		}
	}
	for _, c := range env.App.Sandbox.Calls() {
		if strings.HasPrefix(c, "DELETE") {
			t.Errorf("a blocked delete reached the upstream: %s", c)
		}
	}
}

// TestDeleteGroupPreviewReadsEveryUser: a group whose own user comes after
// 2,000 users of its (deleted) sub-group is not previewed as empty: the
// preview reads the user list to the end.
func TestDeleteGroupPreviewReadsEveryUser(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	g := num(env.OK(t, "create_group", `{"org_unit_name":"Crowded","org_unit_parent_id":1003}`)["org_unit_id"])
	env.OK(t, "create_user", fmt.Sprintf(`{"username":"last.one@summit-demo.example","first_name":"Last","last_name":"One","ct_user_ou_id":%d,"role":"Standard"}`, g))
	sub := num(env.OK(t, "create_group", fmt.Sprintf(`{"org_unit_name":"Crowded Sub","org_unit_parent_id":%d}`, g))["org_unit_id"])
	// Deleted, so no active sub-group blocks the preview; its users are
	// still listed under the group.
	_, tok := confirmToken(t, env, "delete_group", fmt.Sprintf(`{"id":%d}`, sub))
	env.OK(t, "delete_group", withToken(fmt.Sprintf(`{"id":%d}`, sub), tok))
	env.App.Sandbox.SeedUsers(sub, 2100)
	res := env.Call(t, "delete_group", fmt.Sprintf(`{"id":%d}`, g))
	if text := testenv.Text(res); !res.IsError || !strings.Contains(text, "1 user(s) are assigned") || strings.Contains(text, "confirmation_token") {
		t.Fatalf("preview of a group with a user past 2,000: %s", text)
	}
}

// TestDeleteGroupElicitation: a client with elicitation is asked; only an
// accept with confirm=true deletes.
func TestDeleteGroupElicitation(t *testing.T) {
	answers := []struct {
		name    string
		action  mcp.ElicitationResponseAction
		content any
		deleted bool
		status  string
	}{
		{"accept", mcp.ElicitationResponseActionAccept, map[string]any{"confirm": true}, true, "deleted"},
		{"decline", mcp.ElicitationResponseActionDecline, nil, false, "declined"},
		{"cancel", mcp.ElicitationResponseActionCancel, nil, false, "declined"},
		{"accept-false", mcp.ElicitationResponseActionAccept, map[string]any{"confirm": false}, false, "declined"},
	}
	for _, era := range eras {
		for _, a := range answers {
			t.Run(era.name+"/"+a.name, func(t *testing.T) {
				var asked atomic.Int32
				var message atomic.Value
				env := testenv.New(t, testenv.Options{Protocol: era.version,
					Elicit: func(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
						asked.Add(1)
						message.Store(req.Params.Message)
						return testenv.Answer(a.action, a.content)(ctx, req)
					}})
				res := env.OK(t, "delete_group", `{"id":1042}`)
				if asked.Load() != 1 {
					t.Fatalf("asked %d times", asked.Load())
				}
				if m, _ := message.Load().(string); !strings.Contains(m, `Delete group 1042 "Denver Office"`) {
					t.Errorf("question: %q", m)
				}
				if res["status"] != a.status {
					t.Errorf("result: %v", res)
				}
				want := "active"
				if a.deleted {
					want = "deleted"
				}
				if s := groupStatus(t, env, 1042); s != want {
					t.Errorf("status %s, want %s", s, want)
				}
			})
		}
	}
}

// TestForgedElicitationAnswer: a modern client cannot skip the question by
// sending an answer the server never asked for.
func TestForgedElicitationAnswer(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	req := mcp.CallToolRequest{}
	req.Params.Name = "delete_group"
	req.Params.Arguments = map[string]any{"id": 1042}
	req.Params.RequestState = "made-up"
	req.Params.InputResponses = mcp.InputResponses{"confirm": mcp.NewElicitationInputResponse(mcp.ElicitationResult{
		ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"confirm": true}}})}
	// The SDK client only sends answers to questions it was asked, so the
	// forged request goes straight to the server's handler.
	res, err := env.App.MCP.GetTool("delete_group").Handler(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(testenv.Text(res), "could not be verified") {
		t.Fatalf("forged answer: %s", testenv.Text(res))
	}
	if s := groupStatus(t, env, 1042); s != "active" {
		t.Fatalf("a forged answer deleted the group")
	}
}

// TestConfirmationModes: token mode never elicits; elicitation mode refuses
// clients that cannot be asked.
func TestConfirmationModes(t *testing.T) {
	var asked atomic.Int32
	env := testenv.New(t, testenv.Options{ConfirmMode: "token", Elicit: func(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
		asked.Add(1)
		return testenv.Accept(ctx, req)
	}})
	if r := env.OK(t, "delete_group", `{"id":1042}`); r["status"] != "confirmation_required" || asked.Load() != 0 {
		t.Errorf("token mode: %v, asked %d", r, asked.Load())
	}

	strict := testenv.New(t, testenv.Options{ConfirmMode: "elicitation"})
	if msg := strict.Fail(t, "delete_group", `{"id":1042}`); !strings.Contains(msg, "elicitation") {
		t.Errorf("elicitation mode without elicitation: %s", msg)
	}
	if s := groupStatus(t, strict, 1042); s != "active" {
		t.Errorf("refused call changed something")
	}
}

// TestReadOnlyMode lists and serves only read tools.
func TestReadOnlyMode(t *testing.T) {
	env := testenv.New(t, testenv.Options{ReadOnly: true})
	list, err := env.Client.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range list.Tools {
		if tl.Annotations.ReadOnlyHint == nil || !*tl.Annotations.ReadOnlyHint {
			t.Errorf("read-only mode lists %s", tl.Name)
		}
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "delete_group"
	req.Params.Arguments = map[string]any{"id": 1042}
	if _, err := env.Client.CallTool(context.Background(), req); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("read-only mode must not know delete_group: %v", err)
	}
}

// TestTokenBoundToSession: a token issued in one session cannot be redeemed
// from another.
func TestTokenBoundToSession(t *testing.T) {
	env := testenv.New(t, testenv.Options{Protocol: mcp.ProtocolVersion20250618})
	first := env.OK(t, "delete_group", `{"id":1042}`)
	tok := env.Approved(t, first)
	other := env.Connect(t, testenv.Options{Protocol: mcp.ProtocolVersion20250618})
	if msg := other.Fail(t, "delete_group", fmt.Sprintf(`{"id":1042,"confirmation_token":%q}`, tok)); !strings.Contains(msg, "another client or session") {
		t.Fatalf("foreign session: %s", msg)
	}
	if s := groupStatus(t, env, 1042); s != "active" {
		t.Fatal("another session's token deleted the group")
	}
	env.OK(t, "delete_group", fmt.Sprintf(`{"id":1042,"confirmation_token":%q}`, tok))
}

// group_name finds groups anywhere in the hierarchy (not only a unit's
// children), each with its path and status.
func TestListGroupsFindsByNameAcrossTheTree(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "list_groups", `{"group_name":"denver"}`)
	items := nrItems(t, out, "groups")
	d := nrFind(items, "org_unit_name", "Denver Office")
	if d == nil || d["path"] != "Summit Marketing Agency / West / Denver Office" || d["org_unit_status"] != "active" {
		t.Fatalf("Denver Office: %v", out)
	}
	// Under a unit: only its part of the tree.
	if got := nrItems(t, env.OK(t, "list_groups", `{"group_name":"office","org_unit_id":1003}`), "groups"); len(got) == 0 {
		t.Error("no office under West")
	} else {
		for _, g := range got {
			if !strings.HasPrefix(g["path"].(string), "West / ") {
				t.Errorf("outside West: %v", g)
			}
		}
	}
	// Status is visible and filterable: an inactive unit is found by it.
	inactive := nrItems(t, env.OK(t, "list_groups", `{"group_name":"salt lake","status":"inactive"}`), "groups")
	if len(inactive) != 1 || inactive[0]["org_unit_status"] != "inactive" {
		t.Errorf("inactive Salt Lake: %v", inactive)
	}
	closed := nrFind(nrItems(t, env.OK(t, "list_groups", `{"group_name":"closed"}`), "groups"), "org_unit_name", "Miami Office (closed)")
	if closed == nil || closed["org_unit_status"] != "deleted" || closed["path"] != "Summit Marketing Agency / Miami Office (closed)" {
		t.Errorf("closed office: %v", closed)
	}
	page := env.OK(t, "list_groups", `{"group_name":"o","limit":2,"offset":1}`)
	if page["count"] != float64(2) || page["total"].(float64) < 3 || page["next_offset"] != float64(3) {
		t.Errorf("paged search: %v", page)
	}
}
