package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

type envelope struct {
	Code      int             `json:"code"`
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data"`
	Errors    []fieldError    `json:"errors"`
	RequestID string          `json:"request_id"`
	Timestamp string          `json:"timestamp"`
}

type harness struct {
	t  *testing.T
	sb *Running
}

// start is the simulator's in-package tests' one way to serve it:
// sandboxenv.Start, every other test's, imports this package, so these
// tests cannot use it.
func start(t *testing.T, o Options) *harness {
	t.Helper()
	sb, err := New(o).Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return &harness{t: t, sb: sb}
}

func (h *harness) do(method, url, token string, body any) (int, envelope, http.Header) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		h.t.Fatalf("%s %s: not JSON: %s", method, url, raw)
	}
	return res.StatusCode, env, res.Header
}

func (h *harness) login(email string) (access, refresh string) {
	h.t.Helper()
	code, env, _ := h.do("POST", h.sb.OAuthURL+"/oauth/token", "", map[string]string{"email": email, "password": DemoPassword})
	if code != 200 {
		h.t.Fatalf("login %s: %d %s", email, code, env.Message)
	}
	var d struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
		Expires string `json:"expires_in"`
	}
	_ = json.Unmarshal(env.Data, &d)
	if _, err := time.Parse(time.RFC3339, d.Expires); err != nil {
		h.t.Fatalf("expires_in must be an absolute ISO time: %q", d.Expires)
	}
	return d.Access, d.Refresh
}

func TestEnvelopeAndRoles(t *testing.T) {
	h := start(t, Options{})
	admin, _ := h.login(DemoEmail)
	code, env, hdr := h.do("GET", h.sb.APIURL+"/groups/list", admin, nil)
	if code != 200 || env.Code != 200 || env.RequestID == "" || env.Timestamp == "" || hdr.Get("X-Request-Id") != env.RequestID {
		t.Fatalf("envelope: %d %+v", code, env)
	}
	std, _ := h.login(StandardEmail)
	if code, _, _ := h.do("GET", h.sb.APIURL+"/groups/list", std, nil); code != 403 {
		t.Errorf("groups are Admin-only: Standard got %d", code)
	}
	ro, _ := h.login(ReadOnlyEmail)
	if code, _, _ := h.do("GET", h.sb.APIURL+"/users/list", ro, nil); code != 403 {
		t.Errorf("users are Admin-only: ReadOnly got %d", code)
	}
	if code, env, _ := h.do("GET", h.sb.APIURL+"/groups/list", "", nil); code != 401 || env.Code != 401 || env.Data != nil && string(env.Data) != "null" {
		t.Errorf("no token: %d %+v", code, env)
	}
}

func TestValidationErrorsAre400Envelopes(t *testing.T) {
	h := start(t, Options{})
	admin, _ := h.login(DemoEmail)
	code, env, _ := h.do("GET", h.sb.APIURL+"/groups/list?limit=0&status=gone", admin, nil)
	if code != 400 || len(env.Errors) != 2 {
		t.Fatalf("%d %+v", code, env)
	}
	code, env, _ = h.do("POST", h.sb.APIURL+"/groups", admin, map[string]any{"org_unit_name": "x"})
	if code != 400 || len(env.Errors) != 1 || env.Errors[0].Field != "org_unit_parent_id" {
		t.Fatalf("missing parent: %d %+v", code, env)
	}
	// The prose's alternative name for the parent is accepted.
	code, env, _ = h.do("POST", h.sb.APIURL+"/groups", admin, map[string]any{"org_unit_name": "Alt", "parent_org_unit_id": 1002})
	if code != 200 || !strings.Contains(string(env.Data), "orgUnitId") {
		t.Fatalf("parent_org_unit_id: %d %+v", code, env)
	}
}

func TestDeleteRulesAndSoftDelete(t *testing.T) {
	h := start(t, Options{})
	admin, _ := h.login(DemoEmail)
	for id, want := range map[string]string{"1001": "root/billing", "1003": "active child", "1043": "users assigned"} {
		code, env, _ := h.do("DELETE", h.sb.APIURL+"/groups/"+id, admin, nil)
		if code != 400 || !strings.Contains(env.Message, want) {
			t.Errorf("delete %s: %d %q", id, code, env.Message)
		}
	}
	if code, env, _ := h.do("DELETE", h.sb.APIURL+"/groups/1042", admin, nil); code != 200 || env.Message != "Resource deleted successfully" {
		t.Fatalf("delete 1042: %d %+v", code, env)
	}
	code, env, _ := h.do("GET", h.sb.APIURL+"/groups/1042", admin, nil)
	if code != 200 || !strings.Contains(string(env.Data), `"org_unit_status":"deleted"`) {
		t.Fatalf("soft delete keeps the record: %d %s", code, env.Data)
	}
}

func TestRefreshRotationAndExpiry(t *testing.T) {
	clk := NewClock(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	h := start(t, Options{Now: clk.Now, AccessTTL: time.Hour})
	access, refresh := h.login(DemoEmail)
	code, env, _ := h.do("POST", h.sb.OAuthURL+"/oauth/refresh-token", "", map[string]string{"refresh_token": refresh})
	if code != 200 {
		t.Fatalf("refresh: %d %+v", code, env)
	}
	if code, _, _ := h.do("POST", h.sb.OAuthURL+"/oauth/refresh-token", "", map[string]string{"refresh_token": refresh}); code != 401 {
		t.Fatalf("a used refresh token must die: %d", code)
	}
	clk.Advance(2 * time.Hour)
	if code, _, _ := h.do("GET", h.sb.APIURL+"/groups/1002", access, nil); code != 401 {
		t.Fatalf("expired access token accepted: %d", code)
	}
}

func TestLoginRateLimit(t *testing.T) {
	h := start(t, Options{})
	for i := 0; i < 10; i++ {
		h.do("POST", h.sb.OAuthURL+"/oauth/token", "", map[string]string{"email": DemoEmail, "password": "bad"})
	}
	code, _, hdr := h.do("POST", h.sb.OAuthURL+"/oauth/token", "", map[string]string{"email": DemoEmail, "password": DemoPassword})
	if code != 429 || hdr.Get("Retry-After") == "" {
		t.Fatalf("11th login in a minute: %d", code)
	}
}

func TestFaults(t *testing.T) {
	h := start(t, Options{})
	admin, _ := h.login(DemoEmail)
	h.sb.AddFault(Fault{Method: "GET", PathPrefix: "/v3/groups", Status: 503, RetryAfter: "1", Times: 1})
	code, _, hdr := h.do("GET", h.sb.APIURL+"/groups/1002", admin, nil)
	if code != 503 || hdr.Get("Retry-After") != "1" {
		t.Fatalf("fault: %d", code)
	}
	if code, _, _ := h.do("GET", h.sb.APIURL+"/groups/1002", admin, nil); code != 200 {
		t.Fatalf("fault used once: %d", code)
	}
}

// DropAnswer and AnswerStatus let the request take effect first: a write
// whose answer is lost, or answered with another status.
func TestFaultsAfterTheRequestTookEffect(t *testing.T) {
	h := start(t, Options{})
	admin, _ := h.login(DemoEmail)
	routeStatus := func(id string) string {
		t.Helper()
		code, env, _ := h.do("GET", h.sb.APIURL+"/provisioned-routes/"+id, admin, nil)
		if code != 200 {
			t.Fatalf("GET route %s: %d %s", id, code, env.Message)
		}
		var rt struct {
			Status string `json:"provisioned_route_status"`
		}
		_ = json.Unmarshal(env.Data, &rt)
		return rt.Status
	}

	h.sb.AddFault(Fault{Method: "DELETE", PathPrefix: "/v3/provisioned-routes/7003", Times: 1, DropAnswer: true})
	req, _ := http.NewRequest("DELETE", h.sb.APIURL+"/provisioned-routes/7003", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("DropAnswer: got an answer %d", res.StatusCode)
	}
	if got := routeStatus("7003"); got != "deleted" {
		t.Fatalf("after a dropped answer the route is %q, want deleted", got)
	}

	h.sb.AddFault(Fault{Method: "DELETE", PathPrefix: "/v3/provisioned-routes/7001", Times: 1, AnswerStatus: http.StatusAccepted, EmptyBody: true})
	req, _ = http.NewRequest("DELETE", h.sb.APIURL+"/provisioned-routes/7001", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted || len(body) != 0 {
		t.Fatalf("AnswerStatus: %d %q, want 202 and no body", res.StatusCode, body)
	}
	if got := routeStatus("7001"); got != "deleted" {
		t.Fatalf("after a 202 the route is %q, want deleted", got)
	}
}

// A role changed at Convirza applies at once to the user's requests, and
// the refresh answer names the user's current role (the server learns
// roles from it).
func TestSetRoleShowsInTheRefreshAnswer(t *testing.T) {
	h := start(t, Options{})
	access, refresh := h.login(StandardEmail)
	if code, _, _ := h.do("GET", h.sb.APIURL+"/groups/list", access, nil); code != 403 {
		t.Fatalf("a Standard user's groups: %d", code)
	}
	if h.sb.SetRole(StandardEmail, 7) || h.sb.SetRole("nobody@summit-demo.example", roleAdmin) {
		t.Fatal("SetRole took a role or a user that does not exist")
	}
	if !h.sb.SetRole(StandardEmail, roleAdmin) {
		t.Fatal("SetRole found no user")
	}
	if code, _, _ := h.do("GET", h.sb.APIURL+"/groups/list", access, nil); code != 200 {
		t.Errorf("the promoted user's groups: %d", code)
	}
	b, _ := json.Marshal(map[string]string{"refresh_token": refresh})
	res, err := http.Post(h.sb.OAuthURL+"/oauth/refresh-token", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		User struct {
			RoleID int `json:"role_id"`
		} `json:"user"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 || out.User.RoleID != roleAdmin {
		t.Errorf("refresh answer: %d %+v %v, want role_id %d", res.StatusCode, out, err, roleAdmin)
	}
}

// The README gives the demo users and their password, so a person trying
// per-person sign-in on the sandbox knows whom to sign in as.
func TestReadmeNamesTheDemoUsers(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{DemoEmail, StandardEmail, ReadOnlyEmail, "`" + DemoPassword + "`"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not say %s", want)
		}
	}
}
