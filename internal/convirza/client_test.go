package convirza

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/schemas"
)

func fastHTTP() *upstream.Client {
	c := upstream.New(nil, upstream.Policy{Timeout: 5 * time.Second}, nil)
	c.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return c
}

func demoClient(sb *sandbox.Running) *Client {
	return New(Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, Email: sandbox.DemoEmail, Password: sandbox.DemoPassword}, fastHTTP(), nil)
}

func TestLoginOnceAndReuse(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	c := demoClient(sb)
	if len(sb.Calls()) != 0 {
		t.Fatal("New must not call upstream")
	}
	for i := 0; i < 5; i++ {
		if _, err := c.Groups.Get(context.Background(), 1002); err != nil {
			t.Fatal(err)
		}
	}
	if n := sb.Logins(); n != 1 {
		t.Fatalf("%d logins for 5 calls, want 1", n)
	}
}

func TestExpiredTokenRefreshedOnceUnderConcurrency(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	c := demoClient(sb)
	ctx := context.Background()
	if _, err := c.Groups.Get(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 2; round++ {
		sb.ExpireAccessTokens()
		if n := sandboxenv.Storm(t, 50, func(int) error {
			_, err := c.Groups.Get(ctx, 1042)
			return err
		}); n != 0 {
			t.Fatalf("round %d: %d calls failed", round, n)
		}
		// Rotation: each round uses the refresh token the previous one got;
		// reusing a dead one would fail and fall back to a login.
		if got := sb.Refreshes(); got != round {
			t.Fatalf("round %d: %d refreshes, want %d", round, got, round)
		}
	}
	if n := sb.Logins(); n != 1 {
		t.Fatalf("%d logins, want 1 (refresh, not login)", n)
	}
}

func TestRefreshRefusedFallsBackToLogin(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	c := demoClient(sb)
	ctx := context.Background()
	if _, err := c.Groups.Get(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	c.tokens.mu.Lock()
	c.tokens.refresh = "dead"
	c.tokens.mu.Unlock()
	sb.ExpireAccessTokens()
	if _, err := c.Groups.Get(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	if n := sb.Logins(); n != 2 {
		t.Fatalf("%d logins, want 2", n)
	}
}

func TestProactiveRenewalBeforeExpiry(t *testing.T) {
	clk := sandbox.NewClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	sb := sandboxenv.Start(t, sandbox.Options{Now: clk.Now})
	c := demoClient(sb)
	c.tokens.now = clk.Now
	ctx := context.Background()
	if _, err := c.Groups.Get(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	clk.Advance(7*24*time.Hour - time.Minute) // inside the renewal window
	sb.ResetCalls()
	if _, err := c.Groups.Get(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	calls := sb.Calls()
	if len(calls) != 2 || calls[0] != "POST /oauth/refresh-token" {
		t.Fatalf("want a refresh before the call, got %v", calls)
	}
}

func TestGivenTokens(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	access, refresh := bootTokens(t, sb)

	c := New(Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, AccessToken: access, RefreshToken: refresh}, fastHTTP(), nil)
	if _, err := c.Groups.Get(context.Background(), 1002); err != nil {
		t.Fatal(err)
	}
	sb.ExpireAccessTokens()
	if _, err := c.Groups.Get(context.Background(), 1002); err != nil {
		t.Fatalf("refresh from a given refresh token: %v", err)
	}
	if sb.Logins() != 1 {
		t.Fatalf("given tokens must not log in")
	}

	// An access token alone cannot be renewed: the 401 is reported.
	only := New(Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, AccessToken: "stale"}, fastHTTP(), nil)
	var ae *upstream.APIError
	if _, err := only.Groups.Get(context.Background(), 1002); !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("want 401, got %v", err)
	}
}

func TestNoCredentials(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	c := New(Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL}, fastHTTP(), nil)
	if err := c.Configured(); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("Configured: %v", err)
	}
	_, err := c.Groups.Get(context.Background(), 1)
	if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "CONVIRZA_EMAIL") {
		t.Fatalf("want the variables named, got %v", err)
	}
	if len(sb.Calls()) != 0 {
		t.Fatalf("no credentials, yet calls: %v", sb.Calls())
	}
}

func TestBadPasswordIsClearAndNotRetried(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	c := New(Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, Email: sandbox.DemoEmail, Password: "wrong"}, fastHTTP(), nil)
	_, err := c.Groups.Get(context.Background(), 1)
	if err == nil || !strings.Contains(err.Error(), "Invalid email or password") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("got %v", err)
	}
	if sb.Logins() != 1 {
		t.Fatalf("%d logins", sb.Logins())
	}
}

func TestLoginRateLimitRespected(t *testing.T) {
	ts := &tokenSource{now: time.Now}
	for i := 0; i < loginLimit; i++ {
		if err := ts.allowLogin(context.Background()); err != nil {
			t.Fatalf("login %d refused: %v", i+1, err)
		}
	}
	if err := ts.allowLogin(context.Background()); err == nil || !strings.Contains(err.Error(), "allows 10 logins a minute") {
		t.Fatalf("11th login in a minute allowed: %v", err)
	}
	ts.now = func() time.Time { return time.Now().Add(61 * time.Second) }
	if err := ts.allowLogin(context.Background()); err != nil {
		t.Fatalf("after a minute: %v", err)
	}
}

// fakeAPI is a deliberately misbehaving upstream.
func fakeAPI(t *testing.T, api http.HandlerFunc, loginBody string) *Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(loginBody))
	})
	mux.HandleFunc("/v3/", api)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return New(Config{APIURL: srv.URL + "/v3", OAuthURL: srv.URL, Email: "a@b.c", Password: "p"}, fastHTTP(), nil)
}

const rawLogin = `{"access_token":"A","refresh_token":"R","token_type":"Bearer","expires_in":"2099-01-01T00:00:00.000Z","refresh_expires_in":"2099-06-01T00:00:00.000Z"}`
const wrappedLogin = `{"code":200,"message":"Login successful","data":` + rawLogin + `}`

func TestBothLoginShapes(t *testing.T) {
	for _, body := range []string{rawLogin, wrappedLogin} {
		var auth string
		c := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			auth = r.Header.Get("Authorization")
			_, _ = w.Write([]byte(`{"code":200,"message":"Success","data":{"org_unit_name":"X"},"request_id":"r1"}`))
		}, body)
		g, err := c.Groups.Get(context.Background(), 7)
		if err != nil || g.OrgUnitName != "X" || g.OrgUnitID != 7 || auth != "Bearer A" {
			t.Fatalf("%s: %v %+v %q", body, err, g, auth)
		}
		if exp := c.tokens.accessExp; exp.Year() != 2099 {
			t.Fatalf("absolute expiry not parsed: %v", exp)
		}
	}
}

func TestErrorsAreTyped(t *testing.T) {
	c := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v3/groups/1":
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"code":400,"message":"Validation failed","data":null,"errors":[{"field":"org_unit_name","message":"is required"}],"request_id":"req-400"}`))
		case "/v3/groups/2":
			_, _ = w.Write([]byte(`{"code":200,"data":{"org_unit_name":`)) // truncated
		case "/v3/groups/3":
			w.WriteHeader(502)
			_, _ = w.Write([]byte(`<html>bad gateway</html>`))
		case "/v3/groups/4":
			_, _ = w.Write([]byte(`{"code":200,"message":"Success","data":null,"request_id":"req-null"}`))
		case "/v3/groups/5":
			_, _ = w.Write([]byte(`{"code":200,"data":{"org_unit_name":5}}`)) // wrong type
		}
	}, rawLogin)
	ctx := context.Background()

	_, err := c.Groups.Get(ctx, 1)
	var ae *upstream.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.RequestID != "req-400" || len(ae.Fields) != 1 {
		t.Fatalf("400: %#v", err)
	}
	if s := err.Error(); !strings.Contains(s, "org_unit_name: is required") || !strings.Contains(s, "req-400") {
		t.Errorf("message: %s", s)
	}
	var me *upstream.MalformedError
	for _, id := range []int64{2, 4, 5} {
		if _, err := c.Groups.Get(ctx, id); !errors.As(err, &me) {
			t.Errorf("group %d: want MalformedError, got %v", id, err)
		}
	}
	if _, err := c.Groups.Get(ctx, 3); !errors.As(err, &ae) || ae.Status != 502 || !strings.Contains(ae.Message, "bad gateway") {
		t.Errorf("502 html: %v", err)
	}
}

func TestUnauthorizedRetriedOnceOnly(t *testing.T) {
	var n atomic.Int32
	c := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"code":401,"message":"Invalid token"}`))
	}, rawLogin)
	_, _, err := c.Groups.Create(context.Background(), schemas.GroupCreate{OrgUnitName: "x", OrgUnitParentID: 1})
	var ae *upstream.APIError
	if !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("want 401, got %v", err)
	}
	if n.Load() != 2 {
		t.Fatalf("%d attempts, want 2 (one after renewal)", n.Load())
	}
}

func TestQueryEncoding(t *testing.T) {
	active := true
	type inner struct {
		Limit int `json:"limit,omitempty"`
	}
	q := Query(struct {
		ID     int64    `json:"id"`
		Name   string   `json:"name,omitempty"`
		Empty  string   `json:"empty,omitempty"`
		Flag   *bool    `json:"flag,omitempty"`
		Multi  []string `json:"multi,omitempty"`
		Hidden string   `json:"-"`
		inner
	}{ID: 5, Name: "a b", Flag: &active, Multi: []string{"x", "y"}, Hidden: "h", inner: inner{Limit: 3}}, "id")
	if got := q.Encode(); got != "flag=true&limit=3&multi=x&multi=y&name=a+b" {
		t.Fatalf("query: %s", got)
	}
}

func TestParseTreeShapes(t *testing.T) {
	flat := `{"groups":[{"org_unit_id":1,"text":"Root","code":"1","group_level":1},{"org_unit_id":3,"text":"B","code":"1.2","group_level":2},{"org_unit_id":2,"text":"A","code":"1.1","group_level":2},{"org_unit_id":4,"text":"A1","code":"1.1.1","group_level":3}]}`
	nested := `{"groups":[{"org_unit_id":1,"org_unit_name":"Root","children":[{"org_unit_id":2,"org_unit_name":"A","children":[{"org_unit_id":4,"org_unit_name":"A1"}]},{"org_unit_id":3,"org_unit_name":"B"}]}]}`
	for _, raw := range []string{flat, nested} {
		nodes, err := parseTree([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes) != 1 || len(nodes[0].Children) != 2 || nodes[0].Name != "Root" {
			t.Fatalf("%s: %+v", raw, nodes)
		}
		got := fmt.Sprintf("%d %s", nodes[0].Children[0].OrgUnitID, nodes[0].Children[0].Children[0].Name)
		if got != "2 A1" {
			t.Fatalf("%s: first child %s", raw, got)
		}
	}
	if _, err := parseTree([]byte(`"nope"`)); err == nil {
		t.Fatal("garbage tree accepted")
	}
}

// A DELETE whose first answer is lost after it took effect is retried; the
// retry's 404 means it is gone, so the call is reported as done, with a
// note, not as "not found".
func TestRetriedDeleteWhoseRetryFindsItGoneIsDone(t *testing.T) {
	for _, fault := range []sandbox.Fault{
		{Method: http.MethodDelete, PathPrefix: "/v3/provisioned-routes/7003", Times: 1, DropAnswer: true},
		{Method: http.MethodDelete, PathPrefix: "/v3/provisioned-routes/7003", Times: 1, AnswerStatus: http.StatusBadGateway, EmptyBody: true},
	} {
		sb := sandboxenv.Start(t, sandbox.Options{})
		c := demoClient(sb)
		ctx := context.Background()
		sb.AddFault(fault)
		meta, err := c.Routes.Delete(ctx, 7003)
		if err != nil {
			t.Fatalf("drop=%v status=%d: %v", fault.DropAnswer, fault.AnswerStatus, err)
		}
		if !meta.GoneAfterRetry || !strings.Contains(meta.Message, "already gone after a retry") {
			t.Errorf("meta = %+v, want the already-gone note", meta)
		}
		deletes := 0
		for _, call := range sb.Calls() {
			if call == "DELETE /v3/provisioned-routes/7003" {
				deletes++
			}
		}
		if deletes != 2 {
			t.Errorf("%d DELETEs, want 2 (one retry)", deletes)
		}
		r, err := c.Routes.Get(ctx, 7003)
		if err == nil && r.ProvisionedRouteStatus != "deleted" {
			t.Errorf("route 7003 after the delete: %+v", r)
		}
	}

	// A 404 at the first answer is still "not found".
	sb := sandboxenv.Start(t, sandbox.Options{})
	meta, err := demoClient(sb).Routes.Delete(context.Background(), 7999)
	if !upstream.IsNotFound(err) || meta.GoneAfterRetry {
		t.Fatalf("unknown route: %+v %v, want not found", meta, err)
	}
}

// An envelope that says the call failed is an error whatever the HTTP
// status: a 200 carrying {"code":400,...} or status "error" is an APIError
// with the envelope's code, message and request_id, never a success.
func TestEnvelopeErrorCodeUnder200IsAnError(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	c := demoClient(sb)
	ctx := context.Background()
	if _, err := c.Groups.Get(ctx, 1002); err != nil { // logged in
		t.Fatal(err)
	}
	for _, tc := range []struct {
		body, code, text string
	}{
		{`{"code":400,"message":"Invalid org unit","data":null,"request_id":"req-e1","timestamp":"2026-01-01T00:00:00.000Z"}`, "400",
			"Convirza API answered 200 OK with error code 400 to GET /groups/1002: Invalid org unit [request_id req-e1]"},
		{`{"code":"403","message":"Forbidden","data":{"org_unit_name":"X"},"request_id":"req-e2"}`, "403",
			"Convirza API answered 200 OK with error code 403 to GET /groups/1002: Forbidden [request_id req-e2]"},
		{`{"status":"error","message":"Something failed","data":{"org_unit_name":"X"},"request_id":"req-e3"}`, "",
			"Convirza API answered 200 OK with an error to GET /groups/1002: Something failed [request_id req-e3]"},
	} {
		sb.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: "/v3/groups/1002", Times: 1, Body: tc.body})
		g, err := c.Groups.Get(ctx, 1002)
		var ae *upstream.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("%s: got %+v, %v; want an APIError", tc.body, g, err)
		}
		if ae.Status != http.StatusOK || ae.Code != tc.code || ae.RequestID == "" || err.Error() != tc.text {
			t.Errorf("%s:\n got %q (%+v)\nwant %q", tc.body, err, ae, tc.text)
		}
	}

	// A write: the error code is not a success, and the request id is kept.
	sb.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: "/v3/provisioned-routes/7003", Times: 1,
		Body: `{"code":409,"message":"Route is in use","data":null,"request_id":"req-w"}`})
	_, err := c.Routes.Delete(ctx, 7003)
	var ae *upstream.APIError
	if !errors.As(err, &ae) || ae.Code != "409" || ae.RequestID != "req-w" || ae.Message != "Route is in use" {
		t.Fatalf("DELETE under a 200 carrying 409: %v", err)
	}
	// An envelope code of 404 under a 200 is "not found".
	sb.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: "/v3/groups/1002", Times: 1, Body: `{"code":404,"message":"Group not found","data":null}`})
	if _, err := c.Groups.Get(ctx, 1002); !upstream.IsNotFound(err) {
		t.Fatalf("200 carrying 404: %v, want not found", err)
	}
	// A success code, as a number or a string, is a success.
	sb.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: "/v3/groups/1002", Times: 1, Body: `{"code":"200","status":"success","message":"Success","data":{"org_unit_name":"X"}}`})
	if g, err := c.Groups.Get(ctx, 1002); err != nil || g.OrgUnitName != "X" {
		t.Fatalf("string 200: %+v %v", g, err)
	}
}

// A login answered 200 whose envelope carries an error code is a refusal.
func TestLoginEnvelopeErrorUnder200(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	c := demoClient(sb)
	sb.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: "/oauth/token", Times: 1,
		Body: `{"code":401,"message":"Invalid email or password","data":null,"request_id":"req-l"}`})
	_, err := c.Groups.Get(context.Background(), 1002)
	var ae *upstream.APIError
	if !errors.As(err, &ae) || ae.Code != "401" || !strings.Contains(err.Error(), "Invalid email or password") {
		t.Fatalf("login: %v, want the envelope's 401", err)
	}
}
