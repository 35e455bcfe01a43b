package server_test

// The approval pages over real HTTP: who may see and decide (an approver,
// never an MCP client), CSRF and cross-site refusals, and what a decision
// does to the assistant's next call. Also the approval webhook and URL
// elicitation (the client opens the page for its person).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/syncbuf"
)

const (
	approverToken  = "approver-secret-0123456789abcdef"
	approverToken2 = "approver-rotated-fedcba9876543210"
)

// pagesApp serves the app over real HTTP in the default confirmation mode
// (only a person approves), MCP clients with tokenA, approvers with
// approverToken (and approverToken2), and returns its base URL.
func pagesApp(t *testing.T, log *syncbuf.Buffer, mod func(*config.Config)) (*server.App, string) {
	t.Helper()
	o := testenv.Options{Configure: func(c *config.Config) {
		c.Transport, c.Addr, c.AuthToken = "http", "127.0.0.1:0", tokenA
		c.ApproverToken = approverToken + "," + approverToken2
		if mod != nil {
			mod(c)
		}
	}}
	if log != nil {
		o.Log = logTo(log)
	}
	app := testenv.Start(t, o)
	base, _ := serveLive(t, app.NewHTTP(), 5*time.Second)
	return app, base
}

// page is a person's browser on the approval pages: a cookie jar, redirects
// followed, and whatever headers a test adds.
type page struct {
	t    *testing.T
	base string
	c    *http.Client
	hdr  map[string]string
}

func newPage(t *testing.T, base string) *page {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &page{t: t, base: base, c: &http.Client{Jar: jar, Timeout: testenv.Patience}}
}

func (p *page) do(method, path string, form url.Values, hdr map[string]string) (int, string) {
	p.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = p.base + path
	}
	req, err := http.NewRequestWithContext(p.t.Context(), method, u, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range p.hdr {
		req.Header.Set(k, v)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := p.c.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (p *page) get(path string) (int, string) { return p.do(http.MethodGet, path, nil, nil) }

// signIn signs in with tok through the form, as a person does.
func (p *page) signIn(tok string) {
	p.t.Helper()
	if code, body := p.do(http.MethodPost, "/approvals/signin", url.Values{"token": {tok}, "next": {"/approvals"}}, nil); code != http.StatusOK || !strings.Contains(body, "<h1>Approvals</h1>") {
		p.t.Fatalf("sign-in: %d %s", code, body)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the form token of a page.
func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in the page: %s", body)
	}
	return m[1]
}

// firstCall makes a confirmable call that a person must approve and
// returns its answer.
func firstCall(t *testing.T, c *client.Client, id int) map[string]any {
	t.Helper()
	first := structured(t, callTool(t, c, "delete_group", map[string]any{"id": id}))
	if first["status"] != "confirmation_required" || first["approval_id"] == nil || first["confirmation_token"] == nil {
		t.Fatalf("first call: %v", first)
	}
	return first
}

func deletes(app *server.App) int {
	n := 0
	for _, c := range app.Sandbox.Calls() {
		if strings.HasPrefix(c, "DELETE ") {
			n++
		}
	}
	return n
}

func groupStatus(t *testing.T, c *client.Client, id int) any {
	t.Helper()
	return structured(t, callTool(t, c, "get_group", map[string]any{"id": id}))["org_unit_status"]
}

func TestApprovalPagesOffWithoutApproverToken(t *testing.T) {
	t.Parallel()
	_, base := pagesApp(t, nil, func(c *config.Config) { c.ApproverToken = "" })
	// Pages nobody can sign in to are not offered: the answer names the
	// approvals command only.
	first := firstCall(t, dial(t, base, "http", tokenA, ""), 1042)
	if a := first["approve"].(string); strings.Contains(a, "/approvals/") || !strings.Contains(a, "convirza-mcp approvals approve") {
		t.Errorf("approve: %s", a)
	}
	p := newPage(t, base)
	for _, path := range []string{"/approvals", "/approvals/abcdefgh", "/approvals/signin"} {
		code, body := p.get(path)
		if code != http.StatusUnauthorized || !strings.Contains(body, "CONVIRZA_MCP_APPROVER_TOKEN") {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	for _, hdr := range []map[string]string{nil, auth(tokenA)} {
		if code, _ := p.do(http.MethodPost, "/approvals/abcdefgh/approve", url.Values{}, hdr); code != http.StatusUnauthorized {
			t.Errorf("POST approve with %v: %d", hdr, code)
		}
	}
}

// TestApprovalPagesNeedAnApprover: nobody, and no MCP client, sees or
// decides anything; an approver token (either of a rotated pair) does; the
// sign-in cookie is opaque, HttpOnly and SameSite=Lax (a link from a chat arrives signed in; posts stay same-site).
func TestApprovalPagesNeedAnApprover(t *testing.T) {
	t.Parallel()
	log := &syncbuf.Buffer{}
	_, base := pagesApp(t, log, nil)
	mcpc := dial(t, base, "http", tokenA, "")
	first := firstCall(t, mcpc, 1042)
	id := first["approval_id"].(string)
	if want := base + "/approvals/" + id; !strings.Contains(first["approve"].(string), want) {
		t.Errorf("the answer does not name the page %s: %v", want, first["approve"])
	}

	anon := newPage(t, base)
	for _, path := range []string{"/approvals", "/approvals/" + id} {
		code, body := anon.get(path)
		if code != http.StatusUnauthorized || !strings.Contains(body, `name="token"`) || strings.Contains(body, "Denver") {
			t.Errorf("GET %s without an approver: %d %s", path, code, body)
		}
	}
	// The MCP client's own token is no approver.
	for _, path := range []string{"/approvals", "/approvals/" + id} {
		if code, body := anon.do(http.MethodGet, path, nil, auth(tokenA)); code != http.StatusUnauthorized || strings.Contains(body, "Denver") {
			t.Errorf("GET %s with the MCP token: %d", path, code)
		}
	}
	if code, _ := anon.do(http.MethodPost, "/approvals/"+id+"/approve", url.Values{}, auth(tokenA)); code != http.StatusUnauthorized {
		t.Errorf("approve with the MCP token: %d", code)
	}
	if code, body := anon.do(http.MethodPost, "/approvals/signin", url.Values{"token": {tokenA}}, nil); code != http.StatusUnauthorized || !strings.Contains(body, "not an approver token") {
		t.Errorf("sign-in with the MCP token: %d %s", code, body)
	}
	if len(anon.c.Jar.Cookies(mustURL(t, base+"/approvals"))) != 0 {
		t.Error("a refused sign-in set a cookie")
	}

	// Approver tokens, both of a rotation, in the Authorization header.
	for _, tok := range []string{approverToken, approverToken2} {
		code, body := anon.do(http.MethodGet, "/approvals/"+id, nil, auth(tok))
		if code != http.StatusOK || !strings.Contains(body, "Denver") || !strings.Contains(body, ">pending<") {
			t.Errorf("GET with an approver token: %d %s", code, body)
		}
	}

	// The sign-in form: a session cookie, never the token itself.
	var setCookie string
	nr := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := nr.PostForm(base+"/approvals/signin", url.Values{"token": {approverToken}, "next": {"/approvals/" + id}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	setCookie = res.Header.Get("Set-Cookie")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/approvals/"+id {
		t.Errorf("sign-in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/approvals"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("cookie %q lacks %s", setCookie, want)
		}
	}
	if strings.Contains(setCookie, approverToken) || strings.Contains(setCookie, "Secure") {
		t.Errorf("cookie %q holds the token or is Secure on plain http", setCookie)
	}
	if strings.Contains(log.String(), approverToken) || strings.Contains(log.String(), tokenA) {
		t.Error("a token reached the log")
	}
	if !strings.Contains(log.String(), "approver token ") {
		t.Error("the sign-in is not logged by the approver's name")
	}
}

// TestApprovalPagesOwnOrigin: with an Origin allow list for web clients,
// the pages' own forms still post (same origin), the public URL's origin is
// allowed everywhere, and other origins are refused.
func TestApprovalPagesOwnOrigin(t *testing.T) {
	t.Parallel()
	_, base := pagesApp(t, nil, func(c *config.Config) {
		c.AllowedOrigins = []string{"https://app.example"}
		c.PublicURL = "https://mcp.example"
	})
	mcpc := dial(t, base, "http", tokenA, "")
	first := firstCall(t, mcpc, 1042)
	id := first["approval_id"].(string)
	if !strings.Contains(first["approve"].(string), "https://mcp.example/approvals/"+id) {
		t.Errorf("the link does not use the public URL: %v", first["approve"])
	}
	p := newPage(t, base)
	p.signIn(approverToken)
	_, body := p.get("/approvals/" + id)
	for origin, want := range map[string]int{"https://evil.example": http.StatusForbidden, "https://app.example": http.StatusForbidden} {
		if code, _ := p.do(http.MethodPost, "/approvals/"+id+"/approve", url.Values{"csrf": {csrf(t, body)}}, map[string]string{"Origin": origin}); code != want {
			t.Errorf("Origin %s: %d, want %d", origin, code, want)
		}
	}
	if code, body := p.do(http.MethodPost, "/approvals/"+id+"/approve", url.Values{"csrf": {csrf(t, body)}}, map[string]string{"Origin": base}); code != http.StatusOK || !strings.Contains(body, ">approved<") {
		t.Errorf("the page's own post: %d %s", code, body)
	}
	if code := do(t, http.MethodGet, base+"/healthz", nil, map[string]string{"Origin": "https://mcp.example"}).StatusCode; code != http.StatusOK {
		t.Errorf("the public URL's origin: %d", code)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestApprovalPageApproveExecutesOnce: a person signed in on the page
// approves; forged posts (no or a wrong CSRF token, another site) change
// nothing; the assistant's next call with its token executes once. Both
// protocol eras.
func TestApprovalPageApproveExecutesOnce(t *testing.T) {
	t.Parallel()
	for _, era := range []struct{ name, version string }{{"modern", ""}, {"legacy", mcp.ProtocolVersion20250618}} {
		t.Run(era.name, func(t *testing.T) {
			t.Parallel()
			app, base := pagesApp(t, nil, nil)
			mcpc := dial(t, base, "http", tokenA, era.version)
			first := firstCall(t, mcpc, 1042)
			id, tok := first["approval_id"].(string), first["confirmation_token"].(string)

			// Before anyone decided: waiting, nothing executed.
			if res := callTool(t, mcpc, "delete_group", map[string]any{"id": 1042, "confirmation_token": tok}); !res.IsError || !strings.Contains(testenv.Text(res), "waiting for approval") {
				t.Fatalf("before approval: %+v", res)
			}

			p := newPage(t, base)
			p.signIn(approverToken)
			code, body := p.get("/approvals")
			if code != http.StatusOK || !strings.Contains(body, "/approvals/"+id) {
				t.Fatalf("list: %d %s", code, body)
			}
			code, body = p.get("/approvals/" + id)
			if code != http.StatusOK {
				t.Fatalf("page: %d %s", code, body)
			}
			for _, want := range []string{first["action"].(string), "delete_group", `"id": 1042`, ">pending<", "Approve", "Decline"} {
				if !strings.Contains(body, strings.ReplaceAll(want, `"`, "&#34;")) && !strings.Contains(body, want) {
					t.Errorf("the page lacks %q: %s", want, body)
				}
			}
			if strings.Contains(body, tok) {
				t.Error("the page shows the confirmation token")
			}
			good := csrf(t, body)

			approve := "/approvals/" + id + "/approve"
			for name, tc := range map[string]struct {
				form url.Values
				hdr  map[string]string
			}{
				"no csrf":                   {url.Values{}, nil},
				"wrong csrf":                {url.Values{"csrf": {good + "x"}}, nil},
				"foreign origin":            {url.Values{"csrf": {good}}, map[string]string{"Origin": "https://evil.example"}},
				"cross-site fetch":          {url.Values{"csrf": {good}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
				"same-site other port":      {url.Values{"csrf": {good}}, map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"}},
				"other origin, old browser": {url.Values{"csrf": {good}}, map[string]string{"Origin": "http://localhost:1"}},
			} {
				if code, _ := p.do(http.MethodPost, approve, tc.form, tc.hdr); code != http.StatusForbidden {
					t.Errorf("%s: %d, want 403", name, code)
				}
			}
			if _, body := p.get("/approvals/" + id); !strings.Contains(body, ">pending<") {
				t.Fatalf("a refused post decided: %s", body)
			}

			code, body = p.do(http.MethodPost, approve, url.Values{"csrf": {good}}, map[string]string{"Origin": base, "Sec-Fetch-Site": "same-origin"})
			if code != http.StatusOK || !strings.Contains(body, ">approved<") || !strings.Contains(body, "approver token ") {
				t.Fatalf("approve: %d %s", code, body)
			}
			// A second decision changes nothing.
			if code, _ := p.do(http.MethodPost, "/approvals/"+id+"/decline", url.Values{"csrf": {good}}, nil); code != http.StatusConflict {
				t.Errorf("decline after approve: %d", code)
			}

			before := deletes(app)
			res := callTool(t, mcpc, "delete_group", map[string]any{"id": 1042, "confirmation_token": tok})
			if res.IsError || structured(t, res)["status"] != "deleted" {
				t.Fatalf("the approved call: %+v", res)
			}
			if again := callTool(t, mcpc, "delete_group", map[string]any{"id": 1042, "confirmation_token": tok}); !again.IsError {
				t.Fatalf("the token executed twice: %+v", again)
			}
			if n := deletes(app) - before; n != 1 {
				t.Errorf("%d DELETEs upstream, want 1", n)
			}
			if _, body := p.get("/approvals/" + id); !strings.Contains(body, ">redeemed<") {
				t.Errorf("after execution the page says: %s", body)
			}
		})
	}
}

// TestApprovalPageDecline: a script declines with the approver token (no
// cookie, so no CSRF field); the assistant's call answers "declined" and
// nothing is deleted.
func TestApprovalPageDecline(t *testing.T) {
	t.Parallel()
	app, base := pagesApp(t, nil, nil)
	mcpc := dial(t, base, "http", tokenA, "")
	first := firstCall(t, mcpc, 1042)
	id, tok := first["approval_id"].(string), first["confirmation_token"].(string)
	p := newPage(t, base)
	code, body := p.do(http.MethodPost, "/approvals/"+id+"/decline", nil, auth(approverToken2))
	var got map[string]any
	if code != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || got["state"] != "declined" || !strings.HasPrefix(got["approver"].(string), "approver token ") {
		t.Fatalf("decline: %d %s", code, body)
	}
	before := deletes(app)
	res := callTool(t, mcpc, "delete_group", map[string]any{"id": 1042, "confirmation_token": tok})
	if sc := structured(t, res); sc["status"] != "declined" {
		t.Fatalf("after a decline: %+v", res)
	}
	if deletes(app) != before || groupStatus(t, mcpc, 1042) != "active" {
		t.Error("a declined call executed")
	}
	if code, _ := p.do(http.MethodPost, "/approvals/"+id+"/approve", nil, auth(approverToken)); code != http.StatusConflict {
		t.Errorf("approve after decline: %d", code)
	}
}

// TestApprovalPageExpired: past its expiry the page says so, an approval
// is refused, and the token executes nothing.
func TestApprovalPageExpired(t *testing.T) {
	t.Parallel()
	app, base := pagesApp(t, nil, func(c *config.Config) { c.ConfirmTTL = time.Second })
	mcpc := dial(t, base, "http", tokenA, "")
	first := firstCall(t, mcpc, 1042)
	id, tok := first["approval_id"].(string), first["confirmation_token"].(string)
	p := newPage(t, base)
	p.hdr = auth(approverToken)
	var body string
	testenv.WaitFor(t, "the approval to expire", func() bool {
		_, body = p.get("/approvals/" + id)
		return strings.Contains(body, ">expired<")
	})
	if !strings.Contains(body, "has expired") || strings.Contains(body, `id="approve"`) {
		t.Errorf("the expired page: %s", body)
	}
	code, answer := p.do(http.MethodPost, "/approvals/"+id+"/approve", nil, nil)
	if code != http.StatusConflict || !strings.Contains(answer, "expired") {
		t.Errorf("approving an expired approval: %d %s", code, answer)
	}
	before := deletes(app)
	if res := callTool(t, mcpc, "delete_group", map[string]any{"id": 1042, "confirmation_token": tok}); !res.IsError {
		t.Fatalf("an expired token: %+v", res)
	}
	if deletes(app) != before || groupStatus(t, mcpc, 1042) != "active" {
		t.Error("an expired approval executed")
	}
}

// TestApprovalWebhook: each pending approval is posted to the webhook with
// its page, never a token or a secret, without holding up the call; a
// failing receiver is logged without its URL (which may hold a secret).
func TestApprovalWebhook(t *testing.T) {
	t.Parallel()
	got := make(chan []byte, 4)
	release := make(chan struct{})
	var once sync.Once
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			b = []byte("bad request: " + r.Method)
		}
		got <- b
		<-release // a slow receiver
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(hook.Close)
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	log := &syncbuf.Buffer{}
	_, base := pagesApp(t, log, func(c *config.Config) { c.ApprovalWebhook = hook.URL + "/hook/secret-xyz" })
	mcpc := dial(t, base, "http", tokenA, "")

	first := firstCall(t, mcpc, 1042) // answered while the receiver still holds the notice
	raw := testenv.Recv(t, got, "the webhook notice")
	var n map[string]any
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatalf("notice %s: %v", raw, err)
	}
	id := first["approval_id"].(string)
	if n["id"] != id || n["action"] != first["action"] || n["tool"] != "delete_group" || n["url"] != base+"/approvals/"+id ||
		n["requester"] == "" || n["expires_at"] != first["expires_at"] {
		t.Errorf("notice: %s (first call %v)", raw, first)
	}
	for _, secret := range []string{first["confirmation_token"].(string), tokenA, approverToken, "secret-xyz"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the notice holds a secret %q: %s", secret, raw)
		}
	}
	once.Do(func() { close(release) })
	testenv.WaitFor(t, "the refusal to be logged", func() bool { return strings.Contains(log.String(), "approval webhook refused the notice") })
	if strings.Contains(log.String(), "secret-xyz") {
		t.Error("the webhook URL reached the log")
	}
}

// TestURLElicitationHTTP: a client that declares URL elicitation is handed
// the approval page (no secret in it: the person signs in); its person
// approves there, and the same call executes, once. Declining there
// answers "declined". Both protocol eras.
func TestURLElicitationHTTP(t *testing.T) {
	t.Parallel()
	for _, era := range []struct{ name, version string }{{"modern", ""}, {"legacy", mcp.ProtocolVersion20250618}} {
		for _, approve := range []bool{true, false} {
			name := era.name + "/approve"
			if !approve {
				name = era.name + "/decline"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				app, base := pagesApp(t, nil, nil)
				person := &urlPerson{t: t, approve: approve, token: approverToken, done: make(chan error, 1)}
				c := dialURLElicitation(t, base, era.version, person)
				before := deletes(app)
				res := callTool(t, c, "delete_group", map[string]any{"id": 1042})
				if err := testenv.Recv(t, person.done, "the person's decision"); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(person.url, base+"/approvals/") || strings.Contains(person.url, "?") {
					t.Errorf("the page handed to the client: %q", person.url)
				}
				sc := structured(t, res)
				switch {
				case approve && (res.IsError || sc["status"] != "deleted"):
					t.Fatalf("approved on the page: %+v", res)
				case !approve && sc["status"] != "declined":
					t.Fatalf("declined on the page: %+v", res)
				}
				want := 0
				if approve {
					want = 1
				}
				if n := deletes(app) - before; n != want {
					t.Errorf("%d DELETEs upstream, want %d", n, want)
				}
			})
		}
	}
}

// urlPerson is a client's URL elicitation handler: it opens the page as
// the client's person would (here: a script with the approver token) and
// decides there, after telling the server the page was opened.
type urlPerson struct {
	t       *testing.T
	approve bool
	token   string
	url     string
	done    chan error
	// jar, when set, is the person's browser (stdio desktop links).
	jar http.CookieJar
}

func (u *urlPerson) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	if req.Params.Mode != mcp.ElicitationModeURL {
		u.done <- errString("a form question was asked: " + req.Params.Message)
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}, nil
	}
	u.url = req.Params.URL
	go func() { u.done <- u.decide(req.Params.URL) }()
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept}}, nil
}

func (u *urlPerson) decide(page string) error {
	hc := &http.Client{Jar: u.jar, Timeout: testenv.Patience}
	get, err := http.NewRequest(http.MethodGet, page, nil)
	if err != nil {
		return err
	}
	if u.token != "" {
		get.Header.Set("Authorization", "Bearer "+u.token)
	}
	res, err := hc.Do(get)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), ">pending<") {
		return errString("the page: " + res.Status + " " + string(b))
	}
	form := url.Values{}
	if m := csrfField.FindStringSubmatch(string(b)); m != nil && m[1] != "" {
		form.Set("csrf", m[1])
	}
	what := "decline"
	if u.approve {
		what = "approve"
	}
	clean := strings.SplitN(res.Request.URL.String(), "?", 2)[0]
	post, err := http.NewRequest(http.MethodPost, clean+"/"+what, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if u.token != "" {
		post.Header.Set("Authorization", "Bearer "+u.token)
	}
	res, err = hc.Do(post)
	if err != nil {
		return err
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return errString(what + ": " + res.Status + " " + string(b))
	}
	return nil
}

// logTo is a debug-level log into b.
func logTo(b *syncbuf.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// transportFor is Streamable HTTP to base with the MCP bearer token.
func transportFor(base, token string) (transport.Interface, error) {
	return transport.NewStreamableHTTP(base+"/mcp", transport.WithHTTPBasicClient(&http.Client{Transport: headerTransport(auth(token))}))
}

type errString string

func (e errString) Error() string { return string(e) }

// dialURLElicitation connects an mcp-go client over Streamable HTTP that
// declares URL elicitation only.
func dialURLElicitation(t *testing.T, base, protocol string, h client.ElicitationHandler) *client.Client {
	t.Helper()
	tr, err := transportFor(base, tokenA)
	if err != nil {
		t.Fatal(err)
	}
	opts := []client.ClientOption{client.WithElicitationHandler(h)}
	if protocol != "" {
		opts = append(opts, client.WithProtocolVersion(protocol))
	}
	c := client.NewClient(tr, opts...)
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "url-elicitation-test", Version: "1"}
	if protocol != "" {
		init.Params.ProtocolVersion = protocol
	}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{URL: &struct{}{}}
	if _, err := c.Initialize(t.Context(), init); err != nil {
		t.Fatal(err)
	}
	return c
}

// Wrong approver tokens are counted per client address: after ten in a
// minute every token presented from there gets 429 (the right one too, so
// guessing cannot go on), on the form and in the Authorization header.
func TestApprovalPagesThrottleWrongTokens(t *testing.T) {
	t.Parallel()
	_, base := pagesApp(t, nil, nil)
	p := newPage(t, base)
	for i := range 9 {
		if i%2 == 0 {
			if code, _ := p.do(http.MethodPost, "/approvals/signin", url.Values{"token": {fmt.Sprintf("guess-%d", i)}}, nil); code != http.StatusUnauthorized {
				t.Fatalf("wrong token %d on the form: %d", i, code)
			}
		} else if code, _ := p.do(http.MethodGet, "/approvals", nil, auth(fmt.Sprintf("guess-%d", i))); code != http.StatusUnauthorized {
			t.Fatalf("wrong token %d in the header: %d", i, code)
		}
	}
	// Below the limit the right token works, and does not count.
	for range 2 {
		if code, _ := p.do(http.MethodGet, "/approvals", nil, auth(approverToken)); code != http.StatusOK {
			t.Fatalf("the approver token after nine wrong ones: %d", code)
		}
	}
	if code, _ := p.do(http.MethodGet, "/approvals", nil, auth("guess-10")); code != http.StatusUnauthorized {
		t.Fatalf("the tenth wrong token: %d", code)
	}
	for _, try := range []func() (int, string){
		func() (int, string) { return p.do(http.MethodGet, "/approvals", nil, auth(approverToken)) },
		func() (int, string) {
			return p.do(http.MethodPost, "/approvals/signin", url.Values{"token": {approverToken}}, nil)
		},
	} {
		if code, body := try(); code != http.StatusTooManyRequests || !strings.Contains(body, "wait a minute") {
			t.Errorf("after ten wrong tokens: %d %s", code, body)
		}
	}
}

// Wrong approver tokens sent at once cannot all pass under the limit:
// every try is counted before it is compared.
func TestApprovalPagesThrottleParallelGuesses(t *testing.T) {
	t.Parallel()
	_, base := pagesApp(t, nil, nil)
	const tries = 40
	codes := make(chan int, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/approvals", nil)
			req.Header.Set("Authorization", fmt.Sprintf("Bearer guess-%d", i))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			codes <- res.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	compared := 0
	for c := range codes {
		if c == http.StatusUnauthorized {
			compared++
		} else if c != http.StatusTooManyRequests {
			t.Errorf("a guess answered %d", c)
		}
	}
	if compared > 10 {
		t.Errorf("%d of %d simultaneous wrong tokens were compared, want at most 10", compared, tries)
	}
}
