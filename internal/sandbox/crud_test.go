package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

type crudClient struct {
	t     *testing.T
	base  string
	token string
}

// crudLogin starts a simulator and logs in as email over real HTTP.
func crudLogin(t *testing.T, run *Running, email string) *crudClient {
	t.Helper()
	c := &crudClient{t: t, base: run.URL}
	status, env := c.call(http.MethodPost, "/oauth/token", map[string]any{"email": email, "password": DemoPassword})
	var data struct {
		AccessToken string `json:"access_token"`
	}
	if status != http.StatusOK || json.Unmarshal(env["data"], &data) != nil || data.AccessToken == "" {
		t.Fatalf("login %s: %d %s", email, status, env["message"])
	}
	c.token = data.AccessToken
	return c
}

func crudServer(t *testing.T) *Running {
	t.Helper()
	return start(t, Options{}).sb
}

func (c *crudClient) call(method, path string, body any) (int, map[string]json.RawMessage) {
	c.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		c.t.Fatalf("%s %s: body is not JSON: %v", method, path, err)
	}
	return resp.StatusCode, env
}

func (c *crudClient) expect(method, path string, body any, want int) map[string]json.RawMessage {
	c.t.Helper()
	status, env := c.call(method, path, body)
	if status != want {
		c.t.Errorf("%s %s: %d %s %s, want %d", method, path, status, env["message"], env["errors"], want)
	}
	return env
}

func TestCRUDRoles(t *testing.T) {
	run := crudServer(t)
	std := crudLogin(t, run, StandardEmail)
	ro := crudLogin(t, run, ReadOnlyEmail)
	newUser := map[string]any{"username": "x@summit-demo.example", "first_name": "X", "last_name": "Y", "ct_user_ou_id": 1042, "role": "Standard"}
	newHook := map[string]any{"webhook_name": "X", "webhook_url": "https://x.example", "webhook_type": "pre_call", "org_unit_id": 1042}

	// Users and webhooks are Admin-only, reads included.
	std.expect(http.MethodPost, "/v3/users", newUser, http.StatusForbidden)
	std.expect(http.MethodGet, "/v3/users/list", nil, http.StatusForbidden)
	std.expect(http.MethodDelete, "/v3/users/12348", nil, http.StatusForbidden)
	std.expect(http.MethodGet, "/v3/webhooks/list", nil, http.StatusForbidden)
	std.expect(http.MethodPost, "/v3/webhooks", newHook, http.StatusForbidden)
	ro.expect(http.MethodGet, "/v3/webhooks/1", nil, http.StatusForbidden)

	// Tags: Standard writes, ReadOnly reads.
	std.expect(http.MethodPost, "/v3/tag", map[string]any{"tag_name": "From Standard", "org_unit_id": 1002}, http.StatusOK)
	std.expect(http.MethodPut, "/v3/tag", map[string]any{"tag_id": 212, "tag_name": "Follow-up", "status": "active"}, http.StatusOK)
	ro.expect(http.MethodPost, "/v3/tag", map[string]any{"tag_name": "From ReadOnly", "org_unit_id": 1002}, http.StatusForbidden)
	ro.expect(http.MethodDelete, "/v3/tag", map[string]any{"tag_ids": []int{212}}, http.StatusForbidden)
	ro.expect(http.MethodGet, "/v3/tag/1002", nil, http.StatusOK)
	ro.expect(http.MethodGet, "/v3/ad-source", nil, http.StatusOK)
	ro.expect(http.MethodGet, "/v3/industry", nil, http.StatusOK)

	// Everyone reads their own profile.
	env := ro.expect(http.MethodGet, "/v3/auth/profile", nil, http.StatusOK)
	if !strings.Contains(string(env["data"]), `"role":"ReadOnly"`) || !strings.Contains(string(env["data"]), `"email":"readonly@summit-demo.example"`) {
		t.Errorf("ReadOnly profile: %s", env["data"])
	}
}

func TestCRUDUserRules(t *testing.T) {
	run := crudServer(t)
	admin := crudLogin(t, run, DemoEmail)
	// role_id is accepted instead of role.
	env := admin.expect(http.MethodPost, "/v3/users", map[string]any{"username": "rid@summit-demo.example", "first_name": "R", "last_name": "Id", "ct_user_ou_id": 1042, "role_id": 3}, http.StatusOK)
	if !strings.Contains(string(env["data"]), `"userId":20001`) {
		t.Errorf("create: %s", env["data"])
	}
	env = admin.expect(http.MethodGet, "/v3/users/20001", nil, http.StatusOK)
	if !strings.Contains(string(env["data"]), `"role":"ReadOnly User"`) {
		t.Errorf("role from role_id: %s", env["data"])
	}
	// PUT needs every editable field and names each missing one.
	env = admin.expect(http.MethodPut, "/v3/users/20001", map[string]any{"first_name": "R"}, http.StatusBadRequest)
	if errs := string(env["errors"]); !strings.Contains(errs, "access_audio") || !strings.Contains(errs, "username") {
		t.Errorf("PUT errors: %s", errs)
	}
	admin.expect(http.MethodPost, "/v3/users", map[string]any{"username": "r2@summit-demo.example", "first_name": "R", "last_name": "Id", "ct_user_ou_id": 1042, "role": "Admin", "role_id": 2}, http.StatusBadRequest)
	// Own account: refused; others: soft-deleted once.
	admin.expect(http.MethodDelete, "/v3/users/1", nil, http.StatusBadRequest)
	admin.expect(http.MethodDelete, "/v3/users/20001", nil, http.StatusOK)
	admin.expect(http.MethodDelete, "/v3/users/20001", nil, http.StatusNotFound)
	env = admin.expect(http.MethodGet, "/v3/users/20001", nil, http.StatusOK)
	if !strings.Contains(string(env["data"]), `"status":"deleted"`) {
		t.Errorf("after delete: %s", env["data"])
	}
}

func TestCRUDTagDeleteIsAllOrNothing(t *testing.T) {
	run := crudServer(t)
	std := crudLogin(t, run, StandardEmail)
	std.expect(http.MethodDelete, "/v3/tag", map[string]any{"tag_ids": []int{211, 1}}, http.StatusBadRequest)
	std.expect(http.MethodDelete, "/v3/tag", map[string]any{"tag_ids": []int{211, 221}, "org_unit_id": 1002}, http.StatusBadRequest)
	std.expect(http.MethodDelete, "/v3/tag", map[string]any{"tag_ids": []int{211, 999}}, http.StatusNotFound)
	env := std.expect(http.MethodGet, "/v3/tag/1002?tag_type=user", nil, http.StatusOK)
	if !strings.Contains(string(env["data"]), "Hot Lead") {
		t.Fatalf("a failed delete removed a tag: %s", env["data"])
	}
	std.expect(http.MethodDelete, "/v3/tag", map[string]any{"tag_ids": []int{211, 221}}, http.StatusOK)
	env = std.expect(http.MethodGet, "/v3/tag/1002?tag_type=user", nil, http.StatusOK)
	if strings.Contains(string(env["data"]), "Hot Lead") {
		t.Errorf("Hot Lead survived: %s", env["data"])
	}
}
