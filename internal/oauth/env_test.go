package oauth_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

// env is an authorization server in front of a protected /mcp (and /sse)
// endpoint, served over real HTTP, signing people in at a sandbox.
type env struct {
	t      *testing.T
	sb     *sandbox.Running
	st     store.Store
	srv    *oauth.Server
	base   string       // the public URL
	client *http.Client // a browser that does not follow redirects
	clock  *testenv.Clock
}

// redirectURI is where the test's client wants the code (nothing listens:
// the browser stops at the redirect).
const redirectURI = "http://127.0.0.1:43117/callback"

func newEnv(t *testing.T, sbo sandbox.Options, configure func(*oauth.Options)) *env {
	t.Helper()
	e := &env{t: t, sb: sandboxenv.Start(t, sbo), clock: &testenv.Clock{}}
	st, err := store.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.st = st
	key := make([]byte, store.KeySize)
	_, _ = rand.Read(key)
	sealer, err := store.NewSealer(key, "test key")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	e.base = "http://" + hs.Listener.Addr().String()
	o := oauth.Options{
		Store: st, Sealer: sealer, PublicURL: e.base, Now: e.clock.Now,
		Upstream: oauth.ConvirzaUpstream(upstream.New(nil, upstream.Policy{Timeout: 10 * time.Second}, nil), e.sb.OAuthURL),
	}
	if configure != nil {
		configure(&o)
	}
	e.srv, err = oauth.New(o)
	if err != nil {
		t.Fatalf("oauth.New: %v", err)
	}
	mux := http.NewServeMux()
	protected := func(w http.ResponseWriter, r *http.Request) {
		sub, err := e.srv.Authenticate(r)
		if err != nil {
			e.srv.Challenge(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(sub)
	}
	mux.HandleFunc("/mcp", protected)
	mux.HandleFunc("/sse", protected)
	mux.Handle("/", e.srv)
	hs.Config.Handler = mux
	hs.Start()
	t.Cleanup(hs.Close)
	e.client = &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(e.client.CloseIdleConnections)
	return e
}

// answer is an HTTP answer read whole.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(a.body), &m); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", a.status, err, a.body)
	}
	return m
}

func (e *env) do(req *http.Request) answer {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (e *env) get(u string, header http.Header) answer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return e.do(req)
}

func (e *env) postForm(u string, v url.Values, header http.Header) answer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(v.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return e.do(req)
}

func (e *env) postJSON(u string, body any) answer {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(string(b)))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

// register registers a client by RFC 7591 and returns its client_id.
func (e *env) register(redirects ...string) string {
	e.t.Helper()
	a := e.postJSON(e.base+"/register", map[string]any{"client_name": "Test Client", "redirect_uris": redirects, "token_endpoint_auth_method": "none"})
	if a.status != http.StatusCreated {
		e.t.Fatalf("register: %d %s", a.status, a.body)
	}
	id, _ := a.json(e.t)["client_id"].(string)
	if id == "" {
		e.t.Fatalf("register: no client_id in %s", a.body)
	}
	return id
}

// pkce returns a verifier and its S256 challenge.
func pkce() (string, string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(sum[:])
}

// flow is one authorization request's parameters.
type flow struct {
	clientID, redirect, verifier, challenge, state, resource string
}

func (e *env) newFlow(clientID string) *flow {
	v, c := pkce()
	return &flow{clientID: clientID, redirect: redirectURI, verifier: v, challenge: c, state: "st-" + v[:8], resource: e.base + "/mcp"}
}

func (e *env) authorizeURL(f *flow) string {
	q := url.Values{"response_type": {"code"}, "client_id": {f.clientID}, "redirect_uri": {f.redirect},
		"code_challenge": {f.challenge}, "code_challenge_method": {"S256"}, "state": {f.state}, "scope": {oauth.Scope}}
	if f.resource != "" {
		q.Set("resource", f.resource)
	}
	return e.base + "/authorize?" + q.Encode()
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	hiddenRe   = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// page is a sign-in page as a browser sees it: its form's target and
// hidden fields.
type page struct {
	answer
	action string
	hidden url.Values
}

func (e *env) open(u string) page {
	e.t.Helper()
	a := e.get(u, nil)
	p := page{answer: a, hidden: url.Values{}}
	if m := formAction.FindStringSubmatch(a.body); m != nil {
		p.action = html.UnescapeString(m[1])
	}
	for _, m := range hiddenRe.FindAllStringSubmatch(a.body, -1) {
		p.hidden.Set(m[1], html.UnescapeString(m[2]))
	}
	return p
}

// submit posts the page's form with the person's email and password, as a
// browser would.
func (e *env) submit(p page, email, password string, header http.Header) answer {
	e.t.Helper()
	if p.action == "" {
		e.t.Fatalf("no form on the page (%d):\n%s", p.status, p.body)
	}
	v := url.Values{}
	for k, vs := range p.hidden {
		v[k] = vs
	}
	v.Set("email", email)
	v.Set("password", password)
	return e.postForm(p.action, v, header)
}

// code reads the code a sign-in sent back to the client, checking state
// and issuer.
func (e *env) code(a answer, f *flow) string {
	e.t.Helper()
	if a.status != http.StatusSeeOther {
		e.t.Fatalf("sign-in answered %d, want 303 back to the client:\n%s", a.status, a.body)
	}
	loc, err := url.Parse(a.header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), f.redirect+"?") {
		e.t.Fatalf("redirected to %s, want %s", loc, f.redirect)
	}
	q := loc.Query()
	if q.Get("state") != f.state || q.Get("iss") != e.base {
		e.t.Fatalf("redirect query %v: want state %q and iss %q", q, f.state, e.base)
	}
	if q.Get("code") == "" {
		e.t.Fatalf("no code in %s", loc)
	}
	return q.Get("code")
}

// signIn runs the browser part of a flow and returns the code.
func (e *env) signIn(f *flow, email string) string {
	e.t.Helper()
	p := e.open(e.authorizeURL(f))
	if p.status != http.StatusOK {
		e.t.Fatalf("authorize page: %d\n%s", p.status, p.body)
	}
	return e.code(e.submit(p, email, sandbox.DemoPassword, nil), f)
}

func (e *env) exchange(f *flow, code string) answer {
	e.t.Helper()
	v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {f.verifier},
		"redirect_uri": {f.redirect}, "client_id": {f.clientID}}
	if f.resource != "" {
		v.Set("resource", f.resource)
	}
	return e.postForm(e.base+"/token", v, nil)
}

// tokens is a token response.
type tokens struct {
	Access, Refresh, Scope string
	ExpiresIn              float64
}

func (e *env) tokens(a answer) tokens {
	e.t.Helper()
	if a.status != http.StatusOK {
		e.t.Fatalf("token endpoint: %d %s", a.status, a.body)
	}
	if a.header.Get("Cache-Control") != "no-store" {
		e.t.Errorf("token answer Cache-Control = %q, want no-store", a.header.Get("Cache-Control"))
	}
	m := a.json(e.t)
	t := tokens{}
	t.Access, _ = m["access_token"].(string)
	t.Refresh, _ = m["refresh_token"].(string)
	t.Scope, _ = m["scope"].(string)
	t.ExpiresIn, _ = m["expires_in"].(float64)
	if t.Access == "" || t.Refresh == "" || m["token_type"] != "Bearer" {
		e.t.Fatalf("token answer %s: want access_token, refresh_token and token_type Bearer", a.body)
	}
	return t
}

// login runs a whole flow for email with a fresh client and returns its
// tokens.
func (e *env) login(email string) (*flow, tokens) {
	e.t.Helper()
	f := e.newFlow(e.register(redirectURI))
	return f, e.tokens(e.exchange(f, e.signIn(f, email)))
}

func (e *env) refresh(f *flow, refresh string) answer {
	e.t.Helper()
	return e.postForm(e.base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {f.clientID}, "resource": {f.resource}}, nil)
}

// call calls the protected endpoint path with an access token.
func (e *env) call(path, access string) answer {
	e.t.Helper()
	h := http.Header{}
	if access != "" {
		h.Set("Authorization", "Bearer "+access)
	}
	return e.get(e.base+path, h)
}

// count is how many records the store holds under prefix.
func (e *env) count(prefix string) int {
	e.t.Helper()
	m, err := e.st.List(context.Background(), prefix)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(m)
}

// nothingIssued fails unless the store holds no access token, grant or code.
func (e *env) nothingIssued() {
	e.t.Helper()
	for _, p := range []string{"oauth/at/", "oauth/grant/", "oauth/code/"} {
		if n := e.count(p); n != 0 {
			e.t.Errorf("%d records under %s: something was issued", n, p)
		}
	}
}
