package tools_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

func tagNames(t *testing.T, out map[string]any) []string {
	t.Helper()
	var names []string
	for _, tg := range items(t, out, "tags") {
		names = append(names, tg["tag_name"].(string))
	}
	return names
}

func TestGetProfile(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	env.App.Sandbox.ResetCalls()
	p := env.OK(t, "get_profile", `{}`)
	u, _ := p["user"].(map[string]any)
	if num(u["user_id"]) != 1 || u["email"] != "admin@summit-demo.example" || u["role"] != "Admin" || num(u["role_id"]) != 1 ||
		num(u["org_unit_id"]) != 1001 {
		t.Fatalf("profile: %v", p)
	}
	// Who this is comes from the login answer, not from an endpoint the
	// docs do not list.
	if sentUpstream(env, "GET /v3/auth/profile") {
		t.Errorf("get_profile asked the undocumented GET /auth/profile after a login: %v", env.App.Sandbox.Calls())
	}
	if msg := env.Fail(t, "get_profile", `{"id":1}`); !strings.Contains(msg, "this tool takes no arguments") {
		t.Errorf("argument to get_profile: %s", msg)
	}
}

func TestListIndustries(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	cases := map[string]int64{`{}`: 6, `{"industry_group":"professional"}`: 2, `{"industry_name":"auto"}`: 1, `{"industry_id":13}`: 1, `{"industry_id":99}`: 0}
	for args, want := range cases {
		if out := env.OK(t, "list_industries", args); num(out["total"]) != want {
			t.Errorf("list_industries %s: %v, want %d", args, out, want)
		}
	}
	out := env.OK(t, "list_industries", `{"industry_id":13}`)
	if in := items(t, out, "industries"); len(in) != 1 || in[0]["industry_name"] != "Healthcare" || in[0]["industry_group"] != "Health" {
		t.Errorf("industry 13: %v", out)
	}
}

func TestListAdSources(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "list_ad_sources", ``)
	srcs := items(t, out, "ad_sources")
	if num(out["total"]) != 9 || len(srcs) != 9 || srcs[0]["ad_source_name"] != "Google Ads" || num(srcs[6]["org_unit_id"]) != 1042 {
		t.Fatalf("ad sources: %v", out)
	}
}

func TestListTags(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	cases := map[string]string{
		`{"org_unit_id":1002,"tag_type":"user"}`:                                 "[Follow Up Hot Lead Pricing Question]",
		`{"org_unit_id":1002,"tag_type":"user","status":"inactive"}`:             "[Closed Won]",
		`{"org_unit_id":1002,"tag_type":"system","sort":"call_count","limit":2}`: "[Spam Voicemail]",
		`{"org_unit_id":1002,"sort":"call_count","direction":"DESC","limit":2}`:  "[First-Time Caller Repeat Caller]",
		`{"org_unit_id":1051,"search":"appoint"}`:                                "[Appointment Booked]",
		`{"org_unit_id":1044,"tag_type":"user"}`:                                 "[]",
	}
	for args, want := range cases {
		if got := fmt.Sprint(tagNames(t, env.OK(t, "list_tags", args))); got != want {
			t.Errorf("list_tags %s: %s, want %s", args, got, want)
		}
	}
	out := env.OK(t, "list_tags", `{"org_unit_id":1002,"search":"hot"}`)
	tg := items(t, out, "tags")
	if len(tg) != 1 || num(tg[0]["tag_id"]) != 211 || num(tg[0]["call_count"]) != 37 || tg[0]["tag_type"] != "user" || num(tg[0]["org_unit_id"]) != 1002 {
		t.Errorf("Hot Lead: %v", out)
	}
	if out := env.OK(t, "list_tags", `{"org_unit_id":1002}`); num(out["total"]) != 8 {
		t.Errorf("all active tags of 1002: %v", out)
	}
	if msg := env.Fail(t, "list_tags", `{"org_unit_id":4242}`); !strings.Contains(msg, "404") {
		t.Errorf("unknown unit: %s", msg)
	}
}

func TestCreateAndUpdateTag(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "create_tag", `{"tag_name":"Warranty Claim","org_unit_id":1053}`)
	id := num(out["tag_id"])
	if out["status"] != "created" || id < 1 {
		t.Fatalf("create: %v", out)
	}
	got := items(t, env.OK(t, "list_tags", `{"org_unit_id":1053,"search":"warranty"}`), "tags")
	if len(got) != 1 || num(got[0]["tag_id"]) != id || num(got[0]["call_count"]) != 0 || got[0]["status"] != "active" {
		t.Fatalf("read back: %v", got)
	}
	if msg := env.Fail(t, "create_tag", `{"tag_name":"warranty claim","org_unit_id":1053}`); !strings.Contains(msg, "already named") {
		t.Errorf("duplicate name: %s", msg)
	}
	if msg := env.Fail(t, "create_tag", `{"tag_name":"Spam","org_unit_id":1053}`); !strings.Contains(msg, "already named") {
		t.Errorf("name of a system tag: %s", msg)
	}

	out = env.OK(t, "update_tag", fmt.Sprintf(`{"tag_id":%d,"tag_name":"Warranty","status":"inactive"}`, id))
	if out["status"] != "updated" || num(out["tag_id"]) != id {
		t.Fatalf("update: %v", out)
	}
	if got := fmt.Sprint(tagNames(t, env.OK(t, "list_tags", `{"org_unit_id":1053,"status":"inactive"}`))); got != "[Warranty]" {
		t.Errorf("after update: %s", got)
	}
	if msg := env.Fail(t, "update_tag", `{"tag_id":3,"tag_name":"Junk","status":"active"}`); !strings.Contains(msg, "system tag") {
		t.Errorf("updating a system tag: %s", msg)
	}
	if msg := env.Fail(t, "update_tag", `{"tag_id":999,"tag_name":"X","status":"active"}`); !strings.Contains(msg, "404") {
		t.Errorf("unknown tag: %s", msg)
	}
}

func TestAccountBadInput(t *testing.T) {
	ids := make([]string, 101)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	cases := []struct{ tool, args, want string }{
		{"list_tags", `{}`, "org_unit_id is required"},
		{"list_tags", `{"org_unit_id":1002,"direction":"asc"}`, "direction must be one of"},
		{"list_tags", `{"org_unit_id":1002,"tag_type":"custom"}`, "tag_type must be one of"},
		{"list_tags", `{"org_unit_id":1002,"status":"deleted"}`, "status must be one of"},
		{"list_tags", `{"org_unit_id":1002,"limit":0}`, "limit must be at least 1; got 0"},
		{"list_industries", `{"industry_id":0}`, "industry_id must be at least 1"},
		{"list_ad_sources", `{"limit":5}`, "this tool takes no arguments"},
		{"create_tag", `{"tag_name":"","org_unit_id":1002}`, "tag_name must not be empty"},
		{"create_tag", `{"tag_name":"X"}`, "org_unit_id is required"},
		{"update_tag", `{"tag_id":211,"tag_name":"X"}`, "status is required"},
		{"update_tag", `{"id":211,"tag_name":"X","status":"active"}`, "id is not a known argument"},
		{"delete_tags", `{"org_unit_id":1002,"tag_ids":[]}`, "tag_ids must have between 1 and 100 items"},
		{"delete_tags", `{"org_unit_id":1002,"tag_ids":[211,211]}`, "duplicate"},
		{"delete_tags", `{"org_unit_id":1002,"tag_ids":[0]}`, "tag_ids[0] must be at least 1"},
		{"delete_tags", `{"org_unit_id":1002,"tag_ids":[` + strings.Join(ids, ",") + `]}`, "got 101"},
		{"delete_tags", `{"tag_ids":[211]}`, "org_unit_id is required"},
	}
	env := testenv.New(t, testenv.Options{})
	for _, c := range cases {
		msg := env.Fail(t, c.tool, c.args)
		if !strings.Contains(msg, c.want) || !strings.Contains(msg, "Nothing was sent upstream") {
			t.Errorf("%s %s: %s (want %q)", c.tool, c.args, msg, c.want)
		}
	}
	noUpstream(t, env)
}

func TestDeleteTagsWithToken(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	args := `{"org_unit_id":1002,"tag_ids":[211,214]}`
	action, tok := confirmToken(t, env, "delete_tags", args)
	want := `Delete 2 tag(s) of group 1002 "Sales Division": "Hot Lead" (37 calls), "Closed Won" (8 calls); permanent, and the 45 call(s) tagged lose these tags.`
	if action != want {
		t.Errorf("action\n%s\nwant\n%s", action, want)
	}
	if sentUpstream(env, "DELETE") {
		t.Fatal("the first call deleted")
	}
	out := env.OK(t, "delete_tags", withToken(args, tok))
	if out["status"] != "deleted" {
		t.Fatalf("confirmed delete: %v", out)
	}
	if got := fmt.Sprint(tagNames(t, env.OK(t, "list_tags", `{"org_unit_id":1002,"tag_type":"user"}`))); got != "[Follow Up Pricing Question]" {
		t.Errorf("active user tags after delete: %s", got)
	}
	if got := fmt.Sprint(tagNames(t, env.OK(t, "list_tags", `{"org_unit_id":1002,"status":"inactive"}`))); got != "[]" {
		t.Errorf("inactive tags after delete: %s", got)
	}
}

func TestDeleteTagsBlocked(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	cases := map[string]string{
		`{"org_unit_id":1002,"tag_ids":[211,3]}`:   `3 "Spam" are system tags`,
		`{"org_unit_id":1002,"tag_ids":[211,221]}`: `tag(s) 221 are not tags of group 1002 "Sales Division"`,
		`{"org_unit_id":1002,"tag_ids":[98765]}`:   "98765 are not tags",
		`{"org_unit_id":4242,"tag_ids":[211]}`:     "Org unit 4242 does not exist",
	}
	for args, want := range cases {
		res := env.Call(t, "delete_tags", args)
		if text := testenv.Text(res); !res.IsError || !strings.Contains(text, want) || strings.Contains(text, "confirmation_token") {
			t.Errorf("delete_tags %s: %s (want %q)", args, text, want)
		}
	}
	if sentUpstream(env, "DELETE") {
		t.Error("a blocked delete reached the upstream")
	}
	if got := fmt.Sprint(tagNames(t, env.OK(t, "list_tags", `{"org_unit_id":1002,"search":"hot"}`))); got != "[Hot Lead]" {
		t.Errorf("Hot Lead after blocked deletes: %s", got)
	}
}
