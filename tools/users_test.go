package tools_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

func TestListUsersOfGroup(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "list_users", `{"org_unit_id":1043,"sort_by":"name","sort_order":"asc"}`)
	us := items(t, out, "users")
	if num(out["total"]) != 2 || len(us) != 2 || us[0]["last_name"] != "Patel" || us[1]["last_name"] != "Ramirez" {
		t.Fatalf("users of Phoenix Office: %v", out)
	}
	out = env.OK(t, "list_users", `{"user_status":"deleted"}`)
	if us := items(t, out, "users"); len(us) != 1 || num(us[0]["ct_user_id"]) != 12355 {
		t.Fatalf("deleted users: %v", out)
	}
	out = env.OK(t, "list_users", `{"limit":2}`)
	if len(items(t, out, "users")) != 2 || num(out["next_offset"]) != 2 || num(out["total"]) != 13 {
		t.Fatalf("first page: %v", out)
	}
}

func TestGetUser(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	u := env.OK(t, "get_user", `{"id":12348}`)
	if u["email"] != "priya.patel@summit-demo.example" || u["group"] != "Phoenix Office" || num(u["group_org_unit_id"]) != 1043 ||
		u["role"] != "Standard User" || u["timezone"] != "America/Denver" || u["parent_group"] != "West" {
		t.Fatalf("user 12348: %v", u)
	}
	if msg := env.Fail(t, "get_user", `{"id":99999}`); !strings.Contains(msg, "404") {
		t.Errorf("unknown user: %s", msg)
	}
}

func TestCreateUser(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "create_user", `{"username":"dana.lee@summit-demo.example","first_name":"Dana","last_name":"Lee","ct_user_ou_id":1042,
		"role":"ReadOnly","timezone":"America/Denver","agent_ring_to":"+13035550199","agent_code":"D-17","score_call":true,"access_audio":false,"user_ext_id":"HR-77"}`)
	id := num(out["ct_user_id"])
	if out["status"] != "created" || id < 1 {
		t.Fatalf("create: %v", out)
	}
	u := env.OK(t, "get_user", fmt.Sprintf(`{"id":%d}`, id))
	want := map[string]any{"email": "dana.lee@summit-demo.example", "first_name": "Dana", "last_name": "Lee", "role": "ReadOnly User",
		"group": "Denver Office", "timezone": "America/Denver", "agent_ring_to": "+13035550199", "agent_code": "D-17",
		"score_call": "Yes", "access_audio": "No", "user_ext_id": "HR-77", "status": "active"}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("%s = %v, want %v", k, u[k], v)
		}
	}
	if msg := env.Fail(t, "create_user", `{"username":"DANA.LEE@summit-demo.example","first_name":"D","last_name":"L","ct_user_ou_id":1042,"role":"Standard"}`); !strings.Contains(msg, "already the login") {
		t.Errorf("duplicate login: %s", msg)
	}
	if msg := env.Fail(t, "create_user", `{"username":"x@summit-demo.example","first_name":"D","last_name":"L","ct_user_ou_id":1061,"role":"Standard"}`); !strings.Contains(msg, "ct_user_ou_id") {
		t.Errorf("deleted group: %s", msg)
	}
}

func TestReplaceUser(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	env.OK(t, "replace_user", `{"id":12350,"username":"grace.kim2@summit-demo.example","first_name":"Grace","last_name":"Kim-Lopez","ct_user_ou_id":1052,
		"role":"Admin","user_ext_id":"","user_status":"inactive","timezone":"America/New_York","agent_ring_to":"","agent_code":"GK","score_call":false,"access_audio":true}`)
	u := env.OK(t, "get_user", `{"id":12350}`)
	want := map[string]any{"email": "grace.kim2@summit-demo.example", "last_name": "Kim-Lopez", "group": "Quincy Clinic", "role": "Admin User",
		"status": "inactive", "timezone": "America/New_York", "agent_code": "GK", "score_call": "No", "access_audio": "Yes"}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("%s = %v, want %v", k, u[k], v)
		}
	}
	if _, ok := u["agent_ring_to"]; ok {
		t.Errorf("agent_ring_to should have been cleared: %v", u["agent_ring_to"])
	}
}

func TestUpdateUser(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "update_user", `{"id":12351,"user_status":"inactive","first_name":"Omer"}`)
	if out["status"] != "updated" || num(out["ct_user_id"]) != 12351 {
		t.Fatalf("update: %v", out)
	}
	u := env.OK(t, "get_user", `{"id":12351}`)
	if u["status"] != "inactive" || u["first_name"] != "Omer" || u["last_name"] != "Haddad" || u["group"] != "Quincy Clinic" {
		t.Fatalf("after patch: %v", u)
	}
	if msg := env.Fail(t, "update_user", `{"id":12355,"first_name":"Back"}`); !strings.Contains(msg, "404") {
		t.Errorf("patching a deleted user: %s", msg)
	}
}

func TestUserBadInput(t *testing.T) {
	cases := []struct{ tool, args, want string }{
		{"create_user", `{"username":"a@b.example","first_name":"A","last_name":"B","ct_user_ou_id":1042}`, "role is required"},
		{"create_user", `{"username":"not-an-email","first_name":"A","last_name":"B","ct_user_ou_id":1042,"role":"Admin"}`, "email"},
		{"create_user", `{"username":"a@b.example","first_name":"A","last_name":"B","ct_user_ou_id":1042,"role":"Owner"}`, "role must be one of"},
		{"create_user", `{"username":"a@b.example","first_name":"A","last_name":"B","ct_user_ou_id":1042,"role":"Admin","agent_ring_to":"call me"}`, "agent_ring_to"},
		{"create_user", `{"username":"a@b.example","first_name":"A","last_name":"B","ct_user_ou_id":1042,"role":"Admin","timezone":"Mountain Time"}`, "timezone"},
		{"create_user", `{"username":"a@b.example","first_name":"","last_name":"B","ct_user_ou_id":1042,"role":"Admin"}`, "first_name must not be empty"},
		{"create_user", `{"username":"a@b.example","first_name":"A","last_name":"B","ct_user_ou_id":1042,"role":"Admin","password":"x"}`, "password is not a known argument"},
		{"replace_user", `{"id":12350,"username":"a@b.example","first_name":"A","last_name":"B","ct_user_ou_id":1042,"role":"Admin"}`, "user_status is required"},
		{"update_user", `{"id":12350}`, "at least one field"},
		{"update_user", `{"id":12350,"user_status":"deleted"}`, "user_status must be one of"},
		{"list_users", `{"limit":201}`, "limit must be between 1 and 200"},
		{"list_users", `{"role_id":4}`, "role_id must be one of"},
		{"get_user", `{"id":0}`, "id must be at least 1"},
		{"get_user", `{"id":"12348"}`, "id must be an integer"},
		{"delete_user", `{"id":-3}`, "id must be at least 1"},
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

func TestDeleteUserWithToken(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	action, tok := confirmToken(t, env, "delete_user", `{"id":12348}`)
	want := `Delete user 12348 Priya Patel (priya.patel@summit-demo.example), Standard, in group 1043 "Phoenix Office". Soft delete`
	if !strings.HasPrefix(action, want) {
		t.Errorf("action %q, want prefix %q", action, want)
	}
	if sentUpstream(env, "DELETE") {
		t.Fatal("the first call deleted")
	}
	if u := env.OK(t, "get_user", `{"id":12348}`); u["status"] != "active" {
		t.Fatalf("deleted before confirmation: %v", u)
	}
	out := env.OK(t, "delete_user", withToken(`{"id":12348}`, tok))
	if out["status"] != "deleted" {
		t.Fatalf("confirmed delete: %v", out)
	}
	if u := env.OK(t, "get_user", `{"id":12348}`); u["status"] != "deleted" {
		t.Fatalf("after delete: %v", u)
	}
	// The token is single-use, and the user is gone from the default list.
	if msg := env.Fail(t, "delete_user", withToken(`{"id":12348}`, tok)); !strings.Contains(msg, "Nothing was executed") {
		t.Errorf("reused token: %s", msg)
	}
	if out := env.OK(t, "list_users", `{"org_unit_id":1043}`); num(out["total"]) != 1 {
		t.Errorf("list after delete: %v", out)
	}
}

func TestDeleteUserBlocked(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	cases := map[string]string{
		`{"id":12355}`: "already deleted",
		`{"id":1}`:     "logged in as",
		`{"id":77777}`: "does not exist",
	}
	for args, want := range cases {
		res := env.Call(t, "delete_user", args)
		text := testenv.Text(res)
		if !res.IsError || !strings.Contains(text, want) || strings.Contains(text, "confirmation_token") {
			t.Errorf("delete_user %s: %s (want a refusal saying %q, no token)", args, text, want)
		}
	}
	if sentUpstream(env, "DELETE") {
		t.Error("a blocked delete reached the upstream")
	}
	if u := env.OK(t, "get_user", `{"id":1}`); u["status"] != "active" {
		t.Errorf("own account: %v", u)
	}
}

func TestDeleteUserElicitation(t *testing.T) {
	env := testenv.New(t, testenv.Options{Elicit: testenv.Accept})
	out := env.OK(t, "delete_user", `{"id":12352}`)
	if out["status"] != "deleted" {
		t.Fatalf("accepted elicitation: %v", out)
	}
	if u := env.OK(t, "get_user", `{"id":12352}`); u["status"] != "deleted" {
		t.Fatalf("after delete: %v", u)
	}
}
