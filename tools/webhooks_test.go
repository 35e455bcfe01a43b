package tools_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

func webhookIDs(t *testing.T, out map[string]any) []int64 {
	t.Helper()
	var ids []int64
	for _, w := range items(t, out, "webhooks") {
		ids = append(ids, num(w["webhook_id"]))
	}
	return ids
}

func TestListWebhooks(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	cases := map[string]string{
		`{}`:                              "[1 2 3 4 5]",
		`{"org_unit_id":1003}`:            "[3 4]",
		`{"status":"deleted"}`:            "[6]",
		`{"status":"inactive"}`:           "[5]",
		`{"filter":"summit-demo"}`:        "[1 2 4]",
		`{"webhook_name":"DISPATCH"}`:     "[3]",
		`{"limit":2,"offset":1}`:          "[2 3]",
		`{"limit":0,"org_unit_id":1050}`:  "[5]",
		`{"org_unit_id":1002,"limit":50}`: "[2]",
	}
	for args, want := range cases {
		out := env.OK(t, "list_webhooks", args)
		if got := fmt.Sprint(webhookIDs(t, out)); got != want {
			t.Errorf("list_webhooks %s: %s, want %s", args, got, want)
		}
	}
	if out := env.OK(t, "list_webhooks", `{"limit":2}`); num(out["total"]) != 5 || num(out["next_offset"]) != 2 {
		t.Errorf("paging: %v", out)
	}
}

func TestGetWebhook(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	w := env.OK(t, "get_webhook", `{"id":2}`)
	if w["webhook_url"] != "https://routing.summit-demo.example/lookup" || w["method"] != "GET" || w["webhook_type"] != "pre_call" ||
		num(w["org_unit_id"]) != 1002 || w["org_unit_name"] != "Sales Division" || w["status"] != "active" {
		t.Fatalf("webhook 2: %v", w)
	}
	if p := items(t, w, "static_params"); len(p) != 1 || p[0]["name"] != "team" || p[0]["value"] != "sales" {
		t.Errorf("static params: %v", w["static_params"])
	}
	if msg := env.Fail(t, "get_webhook", `{"id":4040}`); !strings.Contains(msg, "404") {
		t.Errorf("unknown webhook: %s", msg)
	}
}

func TestCreateWebhook(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "create_webhook", `{"webhook_name":"Quincy CRM","webhook_url":"https://crm.example.com/hook?src=cvz","webhook_type":"post_call",
		"org_unit_id":1052,"static_params":[{"name":"clinic","value":"quincy"},{"name":"token_ref","value":""}]}`)
	id := num(out["webhook_id"])
	if out["status"] != "created" || id < 1 {
		t.Fatalf("create: %v", out)
	}
	w := env.OK(t, "get_webhook", fmt.Sprintf(`{"id":%d}`, id))
	if w["webhook_name"] != "Quincy CRM" || w["method"] != "POST" || w["status"] != "active" || w["org_unit_name"] != "Quincy Clinic" ||
		w["webhook_url"] != "https://crm.example.com/hook?src=cvz" || len(items(t, w, "static_params")) != 2 {
		t.Fatalf("read back: %v", w)
	}
	if msg := env.Fail(t, "create_webhook", `{"webhook_name":"X","webhook_url":"https://x.example","webhook_type":"pre_call","org_unit_id":9999}`); !strings.Contains(msg, "org_unit_id") {
		t.Errorf("unknown unit: %s", msg)
	}
}

func TestReplaceAndUpdateWebhook(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	env.OK(t, "replace_webhook", `{"id":3,"webhook_name":"Denver dispatch v2","webhook_url":"https://dispatch.example.org/v2","webhook_type":"pre_call",
		"org_unit_id":1003,"method":"GET","static_params":[{"name":"v","value":"2"}],"status":"inactive"}`)
	w := env.OK(t, "get_webhook", `{"id":3}`)
	if w["webhook_name"] != "Denver dispatch v2" || w["webhook_url"] != "https://dispatch.example.org/v2" || w["webhook_type"] != "pre_call" ||
		num(w["org_unit_id"]) != 1003 || w["method"] != "GET" || w["status"] != "inactive" || len(items(t, w, "static_params")) != 1 {
		t.Fatalf("after replace: %v", w)
	}
	out := env.OK(t, "update_webhook", `{"id":1,"status":"inactive","static_params":[]}`)
	if out["status"] != "updated" {
		t.Fatalf("update: %v", out)
	}
	w = env.OK(t, "get_webhook", `{"id":1}`)
	if w["status"] != "inactive" || w["webhook_name"] != "CRM call sync" || w["static_params"] != nil {
		t.Fatalf("after patch: %v", w)
	}
	if msg := env.Fail(t, "update_webhook", `{"id":6,"status":"active"}`); !strings.Contains(msg, "404") {
		t.Errorf("patching a deleted webhook: %s", msg)
	}
}

func TestWebhookBadInput(t *testing.T) {
	many := strings.Repeat(`{"name":"n","value":"v"},`, 21)
	cases := []struct{ tool, args, want string }{
		{"create_webhook", `{"webhook_name":"X","webhook_url":"http://x.example/h","webhook_type":"pre_call","org_unit_id":1002}`, "webhook_url must match ^https://"},
		{"create_webhook", `{"webhook_name":"X","webhook_url":"https://","webhook_type":"pre_call","org_unit_id":1002}`, "absolute URL"},
		{"create_webhook", `{"webhook_name":"X","webhook_url":"https://x.example","webhook_type":"during_call","org_unit_id":1002}`, "webhook_type must be one of"},
		{"create_webhook", `{"webhook_name":"X","webhook_url":"https://x.example","webhook_type":"pre_call","org_unit_id":1002,"method":"DELETE"}`, "method must be one of"},
		{"create_webhook", `{"webhook_name":"X","webhook_url":"https://x.example","webhook_type":"pre_call","org_unit_id":1002,"static_params":[` + strings.TrimSuffix(many, ",") + `]}`, "at most 20 items"},
		{"create_webhook", `{"webhook_name":"X","webhook_url":"https://x.example","webhook_type":"pre_call","org_unit_id":1002,"static_params":[{"name":"a"}]}`, "static_params[0].value is required"},
		{"create_webhook", `{"webhook_url":"https://x.example","webhook_type":"pre_call","org_unit_id":1002}`, "webhook_name is required"},
		{"replace_webhook", `{"id":3,"webhook_name":"X","webhook_url":"https://x.example","webhook_type":"pre_call","org_unit_id":1002}`, "static_params is required"},
		{"update_webhook", `{"id":3}`, "at least one field"},
		{"update_webhook", `{"id":3,"status":"deleted"}`, "status must be one of"},
		{"list_webhooks", `{"limit":-1}`, "limit must be at least 0"},
		{"list_webhooks", `{"offset":-5}`, "offset must be at least 0"},
		{"list_webhooks", `{"url":"x"}`, "url is not a known argument"},
		{"delete_webhook", `{"id":"two"}`, "id must be an integer"},
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

func TestDeleteWebhookWithToken(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	action, tok := confirmToken(t, env, "delete_webhook", `{"id":2}`)
	for _, want := range []string{`webhook 2 "Sales lead routing"`, "https://routing.summit-demo.example/lookup", `group 1002 "Sales Division"`, "its 2 sub-group(s), which inherit it"} {
		if !strings.Contains(action, want) {
			t.Errorf("action %q lacks %q", action, want)
		}
	}
	if sentUpstream(env, "DELETE") {
		t.Fatal("the first call deleted")
	}
	out := env.OK(t, "delete_webhook", withToken(`{"id":2}`, tok))
	if out["status"] != "deleted" {
		t.Fatalf("confirmed delete: %v", out)
	}
	if w := env.OK(t, "get_webhook", `{"id":2}`); w["status"] != "deleted" {
		t.Fatalf("after delete: %v", w)
	}
	if got := fmt.Sprint(webhookIDs(t, env.OK(t, "list_webhooks", `{}`))); got != "[1 3 4 5]" {
		t.Errorf("list after delete: %s", got)
	}
	// A token is bound to its arguments.
	_, tok = confirmToken(t, env, "delete_webhook", `{"id":3}`)
	if msg := env.Fail(t, "delete_webhook", withToken(`{"id":4}`, tok)); !strings.Contains(msg, "Nothing was executed") {
		t.Errorf("token for another webhook: %s", msg)
	}
	if w := env.OK(t, "get_webhook", `{"id":4}`); w["status"] != "active" {
		t.Errorf("webhook 4 changed: %v", w)
	}
}

func TestDeleteWebhookBlocked(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	for args, want := range map[string]string{`{"id":6}`: "already deleted", `{"id":606}`: "does not exist"} {
		res := env.Call(t, "delete_webhook", args)
		if text := testenv.Text(res); !res.IsError || !strings.Contains(text, want) || strings.Contains(text, "confirmation_token") {
			t.Errorf("delete_webhook %s: %s", args, text)
		}
	}
	if sentUpstream(env, "DELETE") {
		t.Error("a blocked delete reached the upstream")
	}
}

func TestDeleteWebhookElicitation(t *testing.T) {
	env := testenv.New(t, testenv.Options{Elicit: testenv.Accept})
	if out := env.OK(t, "delete_webhook", `{"id":3}`); out["status"] != "deleted" {
		t.Fatalf("accepted elicitation: %v", out)
	}
	if w := env.OK(t, "get_webhook", `{"id":3}`); w["status"] != "deleted" {
		t.Fatalf("after delete: %v", w)
	}
}
