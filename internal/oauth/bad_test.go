package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/store"
)

// A wrong password and an unknown email get the same answer, and neither
// issues anything.
func TestWrongPasswordIsAnUnknownEmail(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	f := e.newFlow(e.register(redirectURI))
	p := e.open(e.authorizeURL(f))
	wrong := e.submit(p, sandbox.StandardEmail, "not-the-password", nil)
	unknown := e.submit(p, "nobody@summit-demo.example", "not-the-password", nil)
	if wrong.status != http.StatusOK || wrong.header.Get("Location") != "" || !strings.Contains(wrong.body, "Wrong email or password.") {
		t.Fatalf("wrong password: %d %q\n%s", wrong.status, wrong.header.Get("Location"), wrong.body)
	}
	if unknown.status != wrong.status || unknown.body != wrong.body {
		t.Fatalf("an unknown email answers differently from a wrong password:\n%s\n---\n%s", unknown.body, wrong.body)
	}
	e.nothingIssued()
	if n := e.count("oauth/person/"); n != 0 {
		t.Errorf("%d person records after failed sign-ins", n)
	}
	// The same page still signs the right person in afterwards.
	if c := e.code(e.submit(p, sandbox.StandardEmail, sandbox.DemoPassword, nil), f); c == "" {
		t.Fatal("no code after the right password")
	}
	// ...once: the page is used up.
	if again := e.submit(p, sandbox.StandardEmail, sandbox.DemoPassword, nil); again.status != http.StatusBadRequest || again.header.Get("Location") != "" {
		t.Fatalf("the used page submitted again: %d %q", again.status, again.header.Get("Location"))
	}
}

// Sign-in attempts are limited per client address (behind a trusted
// proxy: the address it forwards), per account, and in all; a refused
// attempt never reaches Convirza.
func TestSignInRateLimits(t *testing.T) {
	t.Run("per IP", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) {
			o.SignInsPerIP = 2
			o.TrustedProxies = []string{"127.0.0.0/8"}
		})
		f := e.newFlow(e.register(redirectURI))
		p := e.open(e.authorizeURL(f))
		from := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }
		for range 2 {
			if a := e.submit(p, sandbox.StandardEmail, "wrong", from("203.0.113.7")); a.status != http.StatusOK {
				t.Fatalf("attempt within the limit: %d", a.status)
			}
		}
		logins := e.sb.Logins()
		a := e.submit(p, sandbox.ReadOnlyEmail, sandbox.DemoPassword, from("203.0.113.7"))
		if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" || a.header.Get("Location") != "" {
			t.Fatalf("third attempt from one address: %d Retry-After %q Location %q, want 429 and no code", a.status, a.header.Get("Retry-After"), a.header.Get("Location"))
		}
		if e.sb.Logins() != logins {
			t.Error("a refused attempt reached Convirza")
		}
		e.nothingIssued()
		// Another address behind the same proxy is another client.
		e.code(e.submit(p, sandbox.ReadOnlyEmail, sandbox.DemoPassword, from("198.51.100.9")), f)
	})
	t.Run("per account", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) {
			o.SignInsPerAccount = 2
			o.TrustedProxies = []string{"127.0.0.1"}
		})
		f := e.newFlow(e.register(redirectURI))
		p := e.open(e.authorizeURL(f))
		for i, ip := range []string{"203.0.113.1", "203.0.113.2"} {
			if a := e.submit(p, "Standard@Summit-Demo.example", "wrong", http.Header{"X-Forwarded-For": {ip}}); a.status != http.StatusOK {
				t.Fatalf("attempt %d: %d", i, a.status)
			}
		}
		a := e.submit(p, sandbox.StandardEmail, sandbox.DemoPassword, http.Header{"X-Forwarded-For": {"203.0.113.3"}})
		if a.status != http.StatusTooManyRequests {
			t.Fatalf("third attempt on one account from a third address: %d, want 429", a.status)
		}
		e.nothingIssued()
	})
	t.Run("in all", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) {
			o.SignInsTotal = 1
			o.TrustedProxies = []string{"127.0.0.1"}
		})
		f := e.newFlow(e.register(redirectURI))
		p := e.open(e.authorizeURL(f))
		e.submit(p, sandbox.StandardEmail, "wrong", http.Header{"X-Forwarded-For": {"203.0.113.1"}})
		if a := e.submit(p, sandbox.ReadOnlyEmail, "wrong", http.Header{"X-Forwarded-For": {"203.0.113.2"}}); a.status != http.StatusTooManyRequests {
			t.Fatalf("second sign-in of the minute with a total of 1: %d, want 429", a.status)
		}
	})
}

// A redirect URI the client did not register is refused on the server's
// own page, never redirected to; registering a non-loopback http one is
// refused; a loopback one may come back on another port (RFC 8252).
func TestWrongRedirectURI(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	id := e.register(redirectURI, "https://app.example/cb")
	for _, bad := range []string{"https://evil.example/cb", "https://app.example/cb/", "https://app.example/cb?x=1", "http://app.example/cb", "http://127.0.0.1:43117/other"} {
		f := e.newFlow(id)
		f.redirect = bad
		p := e.open(e.authorizeURL(f))
		if p.status != http.StatusBadRequest || p.header.Get("Location") != "" || p.action != "" || !strings.Contains(p.body, "did not register") {
			t.Errorf("redirect_uri %s: %d Location %q, want 400 on the page, no form, no redirect", bad, p.status, p.header.Get("Location"))
		}
	}
	for _, bad := range [][]string{{"http://app.example/cb"}, {"myapp://cb"}, {"https://app.example/cb#frag"}, {"https://user@app.example/cb"}, {}} {
		a := e.postJSON(e.base+"/register", map[string]any{"redirect_uris": bad})
		if a.status != http.StatusBadRequest || a.json(t)["error"] != "invalid_redirect_uri" {
			t.Errorf("registering %v: %d %s, want invalid_redirect_uri", bad, a.status, a.body)
		}
	}
	f := e.newFlow(id)
	f.redirect = "http://127.0.0.1:50999/callback"
	if p := e.open(e.authorizeURL(f)); p.status != http.StatusOK {
		t.Errorf("loopback redirect on another port: %d, want the sign-in page", p.status)
	}
	// An unknown client: the page says so, no redirect.
	f = e.newFlow("cmcp_c_unknown")
	if p := e.open(e.authorizeURL(f)); p.status != http.StatusBadRequest || p.header.Get("Location") != "" {
		t.Errorf("unknown client: %d %q", p.status, p.header.Get("Location"))
	}
	e.nothingIssued()
	if n := e.count("oauth/req/"); n != 1 {
		t.Errorf("%d pending sign-ins, want only the valid one", n)
	}
}

// PKCE S256 is required: no challenge, the plain method, and at the token
// endpoint a missing or wrong verifier issue nothing (and the code is
// spent by the attempt).
func TestPKCE(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	id := e.register(redirectURI)
	for name, change := range map[string]func(url.Values){
		"no challenge": func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") },
		"plain":        func(q url.Values) { q.Set("code_challenge_method", "plain") },
		"no method":    func(q url.Values) { q.Del("code_challenge_method") },
		"short":        func(q url.Values) { q.Set("code_challenge", "abc") },
	} {
		f := e.newFlow(id)
		u, _ := url.Parse(e.authorizeURL(f))
		q := u.Query()
		change(q)
		u.RawQuery = q.Encode()
		a := e.get(u.String(), nil)
		loc, _ := url.Parse(a.header.Get("Location"))
		if a.status != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != f.state || loc.Query().Get("code") != "" {
			t.Errorf("%s: %d %q, want a redirect with error=invalid_request and the state", name, a.status, a.header.Get("Location"))
		}
	}

	for name, verifier := range map[string]string{"missing": "", "wrong": strings.Repeat("A", 43), "malformed": "short"} {
		f := e.newFlow(id)
		code := e.signIn(f, sandbox.StandardEmail)
		good := f.verifier
		f.verifier = verifier
		if a := e.exchange(f, code); a.status != http.StatusBadRequest || a.json(t)["error"] != "invalid_grant" {
			t.Errorf("%s verifier: %d %s, want invalid_grant", name, a.status, a.body)
		}
		f.verifier = good
		if a := e.exchange(f, code); a.status != http.StatusBadRequest {
			t.Errorf("the right verifier after a %s one: %d, want the code spent", name, a.status)
		}
	}
	for _, p := range []string{"oauth/at/", "oauth/grant/"} {
		if n := e.count(p); n != 0 {
			t.Errorf("%d records under %s", n, p)
		}
	}
}

// A code used twice: the second use is refused and revokes what the first
// issued (the code may have been stolen).
func TestReplayedCode(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	f := e.newFlow(e.register(redirectURI))
	code := e.signIn(f, sandbox.StandardEmail)
	tok := e.tokens(e.exchange(f, code))
	if a := e.exchange(f, code); a.status != http.StatusBadRequest || a.json(t)["error"] != "invalid_grant" {
		t.Fatalf("replayed code: %d %s", a.status, a.body)
	}
	if a := e.call("/mcp", tok.Access); a.status != http.StatusUnauthorized {
		t.Fatalf("the first use's token after a replay: %d, want 401", a.status)
	}
	if a := e.refresh(f, tok.Refresh); a.status != http.StatusBadRequest {
		t.Fatalf("the first use's refresh token after a replay: %d", a.status)
	}
}

// barrierStore holds every read of a key under prefix until n reads
// arrived (or a deadline passed), so n concurrent requests all see the
// record as it was before any of them changes it.
type barrierStore struct {
	store.Store
	prefix  string
	n       int32
	arrived atomic.Int32
	release chan struct{}
}

func (b *barrierStore) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := b.Store.Get(ctx, key)
	if strings.HasPrefix(key, b.prefix) {
		if b.arrived.Add(1) == b.n {
			close(b.release)
		}
		select {
		case <-b.release:
		case <-time.After(10 * time.Second):
		}
	}
	return v, err
}

// Concurrent uses of one code, all having read it unused: the code is
// spent by an atomic swap (across replicas too), so one use wins; the
// others are replays, which revoke what the code issued (RFC 6749 §4.1.2).
// So at most one gets tokens, and none when a replay revoked the grant
// before the winner's tokens were handed out (never dead tokens).
func TestConcurrentCodeUse(t *testing.T) {
	const n = 6
	bs := &barrierStore{prefix: "oauth/code/", n: n, release: make(chan struct{})}
	e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) {
		bs.Store = o.Store
		o.Store = bs
	})
	f := e.newFlow(e.register(redirectURI))
	code := e.signIn(f, sandbox.ReadOnlyEmail)
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.exchange(f, code).status
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusBadRequest:
		default:
			t.Errorf("a use answered %d", s)
		}
	}
	if ok > 1 || ok == 0 && e.count("oauth/grant/")+e.count("oauth/at/") != 0 {
		t.Fatalf("concurrent uses of one code: %v with %d grants and %d access tokens kept, want one 200, or none and nothing kept",
			statuses, e.count("oauth/grant/"), e.count("oauth/at/"))
	}
}

// The code is bound to its client and redirect URI.
func TestCodeBoundToClientAndRedirect(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	f := e.newFlow(e.register(redirectURI))
	code := e.signIn(f, sandbox.StandardEmail)
	g := *f
	g.clientID = e.register(redirectURI)
	if a := e.exchange(&g, code); a.status != http.StatusBadRequest || a.json(t)["error"] != "invalid_grant" {
		t.Errorf("another client's code: %d %s", a.status, a.body)
	}
	f2 := e.newFlow(f.clientID)
	code = e.signIn(f2, sandbox.StandardEmail)
	f2.redirect = "http://127.0.0.1:43117/other"
	if a := e.exchange(f2, code); a.status != http.StatusBadRequest {
		t.Errorf("another redirect_uri: %d %s", a.status, a.body)
	}
	if a := e.postForm(e.base+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}}, http.Header{"Authorization": {"Basic Zm9vOmJhcg=="}}); a.status != http.StatusUnauthorized || a.json(t)["error"] != "invalid_client" {
		t.Errorf("a client secret: %d %s, want invalid_client", a.status, a.body)
	}
	if a := e.postForm(e.base+"/token", url.Values{"grant_type": {"password"}, "client_id": {f.clientID}}, nil); a.json(t)["error"] != "unsupported_grant_type" {
		t.Errorf("password grant: %s", a.body)
	}
	for _, p := range []string{"oauth/at/", "oauth/grant/"} {
		if n := e.count(p); n != 0 {
			t.Errorf("%d records under %s", n, p)
		}
	}
}

// RFC 8707: a resource that is not this server is refused; a token for one
// of its resources is refused on another; the token request's resource
// must be the authorization request's.
func TestAudience(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	id := e.register(redirectURI)

	f := e.newFlow(id)
	f.resource = "https://other.example/mcp"
	a := e.get(e.authorizeURL(f), nil)
	loc, _ := url.Parse(a.header.Get("Location"))
	if a.status != http.StatusSeeOther || loc.Query().Get("error") != "invalid_target" {
		t.Fatalf("another server's resource: %d %q, want invalid_target", a.status, a.header.Get("Location"))
	}
	e.nothingIssued()

	// A token for the SSE endpoint is no token for /mcp, and the other way.
	f = e.newFlow(id)
	f.resource = e.base + "/sse"
	sse := e.tokens(e.exchange(f, e.signIn(f, sandbox.StandardEmail)))
	a = e.call("/mcp", sse.Access)
	if a.status != http.StatusUnauthorized || !strings.Contains(a.header.Get("WWW-Authenticate"), "another resource") {
		t.Fatalf("/sse token on /mcp: %d %q", a.status, a.header.Get("WWW-Authenticate"))
	}
	if a := e.call("/sse", sse.Access); a.status != http.StatusOK {
		t.Fatalf("/sse token on /sse: %d", a.status)
	}
	f = e.newFlow(id)
	mcp := e.tokens(e.exchange(f, e.signIn(f, sandbox.StandardEmail)))
	a = e.call("/sse", mcp.Access)
	if a.status != http.StatusUnauthorized || !strings.Contains(a.header.Get("WWW-Authenticate"), e.base+"/.well-known/oauth-protected-resource/sse") {
		t.Fatalf("/mcp token on /sse: %d %q", a.status, a.header.Get("WWW-Authenticate"))
	}
	// Spelled differently, the same resource is the same (default port, case).
	f = e.newFlow(id)
	f.resource = strings.Replace(e.base, "http://", "HTTP://", 1) + "/mcp/"
	e.tokens(e.exchange(f, e.signIn(f, sandbox.StandardEmail)))

	// The token request names another resource than the authorization.
	f = e.newFlow(id)
	code := e.signIn(f, sandbox.StandardEmail)
	f.resource = e.base + "/sse"
	if a := e.exchange(f, code); a.status != http.StatusBadRequest || a.json(t)["error"] != "invalid_target" {
		t.Fatalf("token request for another resource: %d %s", a.status, a.body)
	}
	// A refresh for another resource than the grant's.
	if a := e.refresh(f, mcp.Refresh); a.status != http.StatusBadRequest || a.json(t)["error"] != "invalid_target" {
		t.Fatalf("refresh for another resource: %d %s", a.status, a.body)
	}
}

// An expired access token and a revoked one get a 401 that says so.
func TestExpiredAndRevokedTokens(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	f, tok := e.login(sandbox.StandardEmail)
	e.clock.Advance(10*time.Minute + time.Second)
	a := e.call("/mcp", tok.Access)
	if a.status != http.StatusUnauthorized || !strings.Contains(a.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("expired token: %d %q", a.status, a.header.Get("WWW-Authenticate"))
	}
	// The refresh token outlives it (a code does not live that long).
	f2 := e.newFlow(f.clientID)
	code := e.signIn(f2, sandbox.StandardEmail)
	e.clock.Advance(2*time.Minute + time.Second)
	if a := e.exchange(f2, code); a.status != http.StatusBadRequest || a.json(t)["error"] != "invalid_grant" {
		t.Fatalf("expired code: %d %s", a.status, a.body)
	}
	tok2 := e.tokens(e.refresh(f, tok.Refresh))
	if a := e.call("/mcp", tok2.Access); a.status != http.StatusOK {
		t.Fatalf("refreshed token: %d", a.status)
	}
	// Revoking the access token signs the grant out.
	if a := e.postForm(e.base+"/revoke", url.Values{"token": {tok2.Access}}, nil); a.status != http.StatusOK {
		t.Fatalf("revoke: %d", a.status)
	}
	if a := e.call("/mcp", tok2.Access); a.status != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", a.status)
	}
	// Unknown and foreign tokens: 401, and revoking them is a quiet 200.
	for _, bad := range []string{"cmcp_at_forged", "not-ours", strings.Repeat("x", 5000)} {
		if a := e.call("/mcp", bad); a.status != http.StatusUnauthorized {
			t.Errorf("token %.20q: %d", bad, a.status)
		}
		if a := e.postForm(e.base+"/revoke", url.Values{"token": {bad}}, nil); a.status != http.StatusOK {
			t.Errorf("revoking %.20q: %d", bad, a.status)
		}
	}
}

// Sign-in pages opened are limited per client address (each may fetch a
// metadata document and writes a pending request).
func TestAuthorizationRequestsLimited(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) { o.AuthorizationsPerIP = 2 })
	f := e.newFlow(e.register(redirectURI))
	for range 2 {
		if p := e.open(e.authorizeURL(f)); p.status != http.StatusOK {
			t.Fatalf("page within the limit: %d", p.status)
		}
	}
	if p := e.open(e.authorizeURL(f)); p.status != http.StatusBadRequest || !strings.Contains(p.body, "too many sign-ins started") {
		t.Fatalf("third page of the minute: %d\n%s", p.status, p.body)
	}
	if n := e.count("oauth/req/"); n != 2 {
		t.Fatalf("%d pending requests, want 2", n)
	}
}

// A cross-site post of the sign-in form is refused before anything else.
func TestSignInFormRefusesOtherOrigins(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	f := e.newFlow(e.register(redirectURI))
	p := e.open(e.authorizeURL(f))
	logins := e.sb.Logins()
	a := e.submit(p, sandbox.StandardEmail, sandbox.DemoPassword, http.Header{"Origin": {"https://evil.example"}})
	if a.status != http.StatusForbidden || a.header.Get("Location") != "" {
		t.Fatalf("cross-site post: %d %q", a.status, a.header.Get("Location"))
	}
	if e.sb.Logins() != logins {
		t.Fatal("a cross-site post reached Convirza")
	}
	// The page's own origin, and a post with no request id.
	e.code(e.submit(p, sandbox.StandardEmail, sandbox.DemoPassword, http.Header{"Origin": {e.base}}), f)
	if a := e.postForm(e.base+"/authorize", url.Values{"email": {sandbox.StandardEmail}, "password": {sandbox.DemoPassword}}, nil); a.status != http.StatusBadRequest {
		t.Fatalf("a post without the page's request id: %d", a.status)
	}
}

// A browser's cross-site post is refused even when the other site's page
// makes the browser send Origin: null (its Referrer-Policy: no-referrer):
// the Fetch metadata (Sec-Fetch-Site) says where the post came from. The
// sign-in page itself must not ask for no-referrer, or the browser's post of
// it would carry Origin: null too (headless Chromium does: see
// interop/test/oauth-browser.test.js).
func TestSignInFormRefusesCrossSitePostsWithNullOrigin(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	f := e.newFlow(e.register(redirectURI))
	p := e.open(e.authorizeURL(f))
	if rp := p.header.Get("Referrer-Policy"); rp == "no-referrer" || rp == "" {
		t.Errorf("the sign-in page's Referrer-Policy is %q: a browser's post of its form would carry Origin: null", rp)
	}
	logins := e.sb.Logins()
	for name, h := range map[string]http.Header{
		"cross-site, Origin null":        {"Origin": {"null"}, "Sec-Fetch-Site": {"cross-site"}},
		"same-site, Origin null":         {"Origin": {"null"}, "Sec-Fetch-Site": {"same-site"}},
		"same-site other port":           {"Origin": {"http://127.0.0.1:1"}, "Sec-Fetch-Site": {"same-site"}},
		"Origin null, no Fetch metadata": {"Origin": {"null"}},
	} {
		a := e.submit(p, sandbox.StandardEmail, sandbox.DemoPassword, h)
		if a.status != http.StatusForbidden || a.header.Get("Location") != "" {
			t.Errorf("%s: %d %q, want 403 and no redirect", name, a.status, a.header.Get("Location"))
		}
	}
	if e.sb.Logins() != logins {
		t.Error("a cross-site post reached Convirza")
	}
	// What a browser sends posting the page's own form.
	e.code(e.submit(p, sandbox.StandardEmail, sandbox.DemoPassword, http.Header{"Origin": {e.base}, "Sec-Fetch-Site": {"same-origin"}}), f)
}

// Convirza's own limit (10 logins a minute from one address: this server)
// is reported as such, with nothing issued.
func TestConvirzaRateLimitAtSignIn(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) {
		o.SignInsPerIP, o.SignInsPerAccount, o.SignInsTotal = 100, 100, 100
	})
	f := e.newFlow(e.register(redirectURI))
	p := e.open(e.authorizeURL(f))
	for range 10 {
		e.submit(p, sandbox.StandardEmail, "wrong", nil)
	}
	a := e.submit(p, sandbox.StandardEmail, sandbox.DemoPassword, nil)
	if a.status != http.StatusTooManyRequests || !strings.Contains(a.body, "Convirza refuses more sign-ins") || a.header.Get("Location") != "" {
		t.Fatalf("11th sign-in of the minute: %d\n%s", a.status, a.body)
	}
	e.nothingIssued()
}

// SignIn is the sign-in other pages (approvals) use: the same limits, the
// same answer for a wrong password and an unknown email.
func TestSignInFunction(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) { o.SignInsPerIP = 3 })
	ctx := context.Background()
	who, err := e.srv.SignIn(ctx, "203.0.113.1", sandbox.ReadOnlyEmail, sandbox.DemoPassword)
	if err != nil || who.Email != sandbox.ReadOnlyEmail || who.Role != "ReadOnly" || who.UserID == 0 {
		t.Fatalf("SignIn: %+v %v", who, err)
	}
	if _, err := e.srv.SignIn(ctx, "203.0.113.1", sandbox.ReadOnlyEmail, "wrong"); !errors.Is(err, oauth.ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := e.srv.SignIn(ctx, "203.0.113.1", "nobody@summit-demo.example", "wrong"); !errors.Is(err, oauth.ErrBadCredentials) {
		t.Fatalf("unknown email: %v", err)
	}
	var limited *oauth.LimitedError
	if _, err := e.srv.SignIn(ctx, "203.0.113.1", sandbox.ReadOnlyEmail, sandbox.DemoPassword); !errors.As(err, &limited) || limited.Wait <= 0 || limited.Upstream {
		t.Fatalf("fourth attempt from one address: %v", err)
	}
}

// CONVIRZA_MCP_OAUTH_REDIRECT_HOSTS: an https redirect URI on another host
// is refused at registration and filtered out of a metadata document, so a
// stranger cannot register an application that collects the sign-ins made
// on this server's page; loopback redirects still work.
func TestRedirectHostsAllowList(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) {
		o.RedirectHosts = []string{"claude.ai", "*.Trusted.Example."}
	})
	for _, ok := range []string{"https://claude.ai/api/mcp/auth_callback", "https://app.trusted.example/cb", redirectURI} {
		e.register(ok)
	}
	for _, bad := range []string{"https://evil.example/cb", "https://trusted.example/cb", "https://claude.ai.evil.example/cb", "https://eviltrusted.example/cb"} {
		a := e.postJSON(e.base+"/register", map[string]any{"redirect_uris": []string{redirectURI, bad}})
		if a.status != http.StatusBadRequest || a.json(t)["error"] != "invalid_redirect_uri" || !strings.Contains(a.body, "CONVIRZA_MCP_OAUTH_REDIRECT_HOSTS") {
			t.Errorf("registering %s: %d %s, want invalid_redirect_uri naming the variable", bad, a.status, a.body)
		}
	}
	e.nothingIssued()

	for _, bad := range [][]string{{"*"}, {"*."}, {"evil.example/cb"}, {"https://claude.ai"}, {"user@claude.ai"}, {"nodots"}} {
		_, err := oauth.New(oauth.Options{Store: e.st, Sealer: mustSealer(t), Upstream: oauth.ConvirzaUpstream(nil, ""), PublicURL: e.base, RedirectHosts: bad})
		if err == nil || !strings.Contains(err.Error(), "CONVIRZA_MCP_OAUTH_REDIRECT_HOSTS") {
			t.Errorf("RedirectHosts %q: %v, want an error naming the variable", bad, err)
		}
	}
}

func mustSealer(t *testing.T) *store.Sealer {
	t.Helper()
	s, err := store.NewSealer(make([]byte, store.KeySize), "test key")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A client registered before the allow-list was set cannot be sent a
// sign-in once it is: the rule holds at every sign-in, not only at
// registration.
func TestRedirectHostsHoldForEarlierClients(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	id := e.register("https://evil.example/cb")
	strict, err := oauth.New(oauth.Options{Store: e.st, Sealer: mustSealer(t), Upstream: oauth.ConvirzaUpstream(nil, ""), PublicURL: e.base, RedirectHosts: []string{"claude.ai"}})
	if err != nil {
		t.Fatal(err)
	}
	f := e.newFlow(id)
	f.redirect = "https://evil.example/cb"
	rec := httptest.NewRecorder()
	strict.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, e.authorizeURL(f), nil))
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" || strings.Contains(rec.Body.String(), `name="password"`) ||
		!strings.Contains(rec.Body.String(), "CONVIRZA_MCP_OAUTH_REDIRECT_HOSTS") {
		t.Errorf("an earlier client's disallowed redirect: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
}

// countingStore counts reads.
type countingStore struct {
	store.Store
	gets atomic.Int32
}

func (c *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key)
}

// Access tokens live under their grant: checking one is one store read,
// and revoking a grant (or a person) deletes its access tokens at once, so
// none outlives its sign-in. A token naming a grant it was not issued
// for, or shaped to reach elsewhere in the store, is refused.
func TestAccessTokensDieWithTheirGrant(t *testing.T) {
	cs := &countingStore{}
	e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) {
		cs.Store = o.Store
		o.Store = cs
	})
	f1, one := e.login(sandbox.StandardEmail)
	_, two := e.login(sandbox.StandardEmail)
	one2 := e.tokens(e.refresh(f1, one.Refresh)) // a grant with two live access tokens
	before := cs.gets.Load()
	if a := e.call("/mcp", two.Access); a.status != http.StatusOK {
		t.Fatalf("access token: %d", a.status)
	}
	if n := cs.gets.Load() - before; n != 1 {
		t.Errorf("checking an access token read the store %d times, want 1", n)
	}

	// Signing out of one grant ends its tokens only.
	if a := e.postForm(e.base+"/revoke", url.Values{"token": {one2.Refresh}}, nil); a.status != http.StatusOK {
		t.Fatalf("revoke: %d", a.status)
	}
	for _, tok := range []string{one.Access, one2.Access} {
		if a := e.call("/mcp", tok); a.status != http.StatusUnauthorized {
			t.Errorf("a revoked grant's access token: %d", a.status)
		}
	}
	if a := e.call("/mcp", two.Access); a.status != http.StatusOK {
		t.Errorf("the other grant's token after one sign-out: %d", a.status)
	}
	if n := e.count("oauth/at/"); n != 1 {
		t.Errorf("%d access tokens kept, want the other grant's one", n)
	}

	// A token naming the live grant with another secret, or shaped as a
	// path: refused.
	gid, _, _ := strings.Cut(strings.TrimPrefix(two.Access, "cmcp_at_"), ".")
	for _, bad := range []string{"cmcp_at_" + gid + ".forged", "cmcp_at_" + gid, "cmcp_at_../grant/" + gid + ".x", "cmcp_at_" + strings.ToUpper(gid) + ".x"} {
		if a := e.call("/mcp", bad); a.status != http.StatusUnauthorized {
			t.Errorf("token %q: %d", bad, a.status)
		}
	}

	// Offboarding the person deletes every access token of theirs.
	uid := int64(e.call("/mcp", two.Access).json(t)["user_id"].(float64))
	if _, err := e.srv.RevokeSubject(context.Background(), uid); err != nil {
		t.Fatal(err)
	}
	if a := e.call("/mcp", two.Access); a.status != http.StatusUnauthorized {
		t.Errorf("an offboarded person's token: %d", a.status)
	}
	if n := e.count("oauth/at/") + e.count("oauth/grant/"); n != 0 {
		t.Errorf("%d access tokens and grants kept after offboarding", n)
	}
}

// failingDeletes fails every Delete under prefix.
type failingDeletes struct {
	store.Store
	prefix string
}

func (f *failingDeletes) Delete(ctx context.Context, key string) error {
	if strings.HasPrefix(key, f.prefix) {
		return store.ErrUnavailable
	}
	return f.Store.Delete(ctx, key)
}

// A revocation whose access tokens cannot be deleted fails whole: the
// grant stays (it can be revoked again), never a deleted grant with live
// access tokens. And an access token never outlives its grant.
func TestRevocationAndGrantLifeBoundAccessTokens(t *testing.T) {
	fd := &failingDeletes{prefix: "oauth/at/"}
	e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) {
		fd.Store = o.Store
		o.Store = fd
		o.GrantTTL = time.Hour
	})
	f, tok := e.login(sandbox.StandardEmail)
	if a := e.postForm(e.base+"/revoke", url.Values{"token": {tok.Refresh}}, nil); a.status != http.StatusServiceUnavailable {
		t.Fatalf("a revocation the store half refused: %d %s", a.status, a.body)
	}
	if n := e.count("oauth/grant/"); n != 1 {
		t.Errorf("%d grants after a failed revocation, want the grant kept", n)
	}
	fd.prefix = "nothing/"
	if a := e.postForm(e.base+"/revoke", url.Values{"token": {tok.Refresh}}, nil); a.status != http.StatusOK {
		t.Fatalf("the revocation again: %d", a.status)
	}
	if a := e.call("/mcp", tok.Access); a.status != http.StatusUnauthorized {
		t.Errorf("a revoked access token: %d", a.status)
	}

	// Near the end of a grant's hour, a refresh gives a token that ends
	// with the grant, not ten minutes later.
	f, tok = e.login(sandbox.StandardEmail)
	e.clock.Advance(time.Hour - 3*time.Minute)
	a := e.refresh(f, tok.Refresh)
	if a.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", a.status, a.body)
	}
	if in, _ := a.json(t)["expires_in"].(float64); in <= 0 || in > 180 {
		t.Errorf("expires_in %v near the grant's end, want at most 180 s", in)
	}
}
