package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

var resourceMetadataRe = regexp.MustCompile(`resource_metadata="([^"]+)"`)

// The whole flow as an MCP client and a person's browser run it:
// discovery from a 401, dynamic registration, the sign-in page, the code,
// the token with the PKCE verifier, a call, refresh rotation, sign-out.
func TestFullFlowWithDynamicRegistration(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)

	// Discovery: 401 → protected resource metadata → authorization server.
	a := e.call("/mcp", "")
	if a.status != http.StatusUnauthorized {
		t.Fatalf("/mcp without a token: %d, want 401", a.status)
	}
	challenge := a.header.Get("WWW-Authenticate")
	m := resourceMetadataRe.FindStringSubmatch(challenge)
	if !strings.HasPrefix(challenge, "Bearer ") || m == nil || m[1] != e.base+"/.well-known/oauth-protected-resource" || strings.Contains(challenge, "error=") {
		t.Fatalf("WWW-Authenticate = %q: want Bearer resource_metadata=%q and no error (no token was sent)", challenge, e.base+"/.well-known/oauth-protected-resource")
	}
	prm := e.get(m[1], nil).json(t)
	if prm["resource"] != e.base+"/mcp" {
		t.Errorf("resource metadata resource = %v, want %s/mcp", prm["resource"], e.base)
	}
	servers, _ := prm["authorization_servers"].([]any)
	if len(servers) != 1 || servers[0] != e.base {
		t.Fatalf("authorization_servers = %v, want [%s]", servers, e.base)
	}
	// RFC 9728 §3: the path-aware location answers the same document.
	if again := e.get(e.base+"/.well-known/oauth-protected-resource/mcp", nil).json(t); again["resource"] != prm["resource"] {
		t.Errorf("path-aware metadata resource = %v", again["resource"])
	}
	asm := e.get(e.base+"/.well-known/oauth-authorization-server", nil).json(t)
	for k, want := range map[string]string{
		"issuer": e.base, "authorization_endpoint": e.base + "/authorize", "token_endpoint": e.base + "/token",
		"registration_endpoint": e.base + "/register", "revocation_endpoint": e.base + "/revoke",
	} {
		if asm[k] != want {
			t.Errorf("metadata %s = %v, want %s", k, asm[k], want)
		}
	}
	if methods, _ := asm["code_challenge_methods_supported"].([]any); len(methods) != 1 || methods[0] != "S256" {
		t.Errorf("code_challenge_methods_supported = %v, want [S256] only", asm["code_challenge_methods_supported"])
	}
	if asm["client_id_metadata_document_supported"] != true {
		t.Errorf("client_id_metadata_document_supported = %v", asm["client_id_metadata_document_supported"])
	}

	// Registration, sign-in, code, token.
	f := e.newFlow(e.register(redirectURI))
	p := e.open(e.authorizeURL(f))
	if p.status != http.StatusOK || !strings.Contains(p.body, "Test Client") || !strings.Contains(p.body, `name="email"`) || !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("sign-in page %d: want the client's name and the email and password fields\n%s", p.status, p.body)
	}
	if p.action != e.base+"/authorize" {
		t.Errorf("form posts to %q, want %s/authorize", p.action, e.base)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := p.header.Get(h); got != want {
			t.Errorf("sign-in page %s = %q, want %q", h, got, want)
		}
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("sign-in page CSP = %q", csp)
	}
	code := e.code(e.submit(p, sandbox.DemoEmail, sandbox.DemoPassword, nil), f)
	tok := e.tokens(e.exchange(f, code))
	if tok.ExpiresIn != 600 || tok.Scope != oauth.Scope {
		t.Errorf("expires_in %v scope %q, want 600 and %q", tok.ExpiresIn, tok.Scope, oauth.Scope)
	}

	// The call: the subject is the person who signed in.
	a = e.call("/mcp", tok.Access)
	if a.status != http.StatusOK {
		t.Fatalf("/mcp with the access token: %d %s", a.status, a.body)
	}
	sub := a.json(t)
	if sub["email"] != sandbox.DemoEmail || sub["role"] != "Admin" || sub["client_id"] != f.clientID || sub["resource"] != e.base+"/mcp" || sub["user_id"] == float64(0) {
		t.Fatalf("subject = %v: want the admin demo user, the client and the /mcp resource", sub)
	}
	// The person's Convirza tokens are held, sealed: the password is not.
	held, err := e.st.List(context.Background(), "oauth/person/")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range held {
		if strings.Contains(string(v), sandbox.DemoPassword) || strings.Contains(string(v), "sbx_") {
			t.Errorf("record %s holds a password or a Convirza token in clear", k)
		}
	}

	// Refresh rotates: the new pair works, the old refresh token is spent.
	tok2 := e.tokens(e.refresh(f, tok.Refresh))
	if tok2.Refresh == tok.Refresh || tok2.Access == tok.Access {
		t.Fatal("refresh gave the same tokens again")
	}
	if a := e.call("/mcp", tok2.Access); a.status != http.StatusOK {
		t.Fatalf("/mcp with the refreshed token: %d", a.status)
	}
	tok3 := e.tokens(e.refresh(f, tok2.Refresh))

	// Sign-out: /revoke ends the grant; the next call gets a clear 401,
	// and the person's Convirza tokens are gone from the store.
	if a := e.postForm(e.base+"/revoke", url.Values{"token": {tok3.Refresh}, "client_id": {f.clientID}}, nil); a.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", a.status, a.body)
	}
	a = e.call("/mcp", tok3.Access)
	if a.status != http.StatusUnauthorized || !strings.Contains(a.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("/mcp after sign-out: %d %q, want 401 with error=invalid_token", a.status, a.header.Get("WWW-Authenticate"))
	}
	if a := e.refresh(f, tok3.Refresh); a.status != http.StatusBadRequest || a.json(t)["error"] != "invalid_grant" {
		t.Fatalf("refresh after sign-out: %d %s", a.status, a.body)
	}
	if n := e.count("oauth/person/"); n != 0 {
		t.Errorf("%d records of the person left after their only sign-out", n)
	}
}

// A spent refresh token presented again revokes the grant: the thief or
// the victim, whoever holds the live one, is signed out (RFC 9700).
func TestRefreshTokenReuseRevokesTheGrant(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	f, tok := e.login(sandbox.StandardEmail)
	tok2 := e.tokens(e.refresh(f, tok.Refresh))
	if a := e.refresh(f, tok.Refresh); a.status != http.StatusBadRequest || a.json(t)["error"] != "invalid_grant" {
		t.Fatalf("reused refresh token: %d %s, want invalid_grant", a.status, a.body)
	}
	if a := e.call("/mcp", tok2.Access); a.status != http.StatusUnauthorized {
		t.Fatalf("/mcp after the reuse: %d, want 401", a.status)
	}
	if a := e.refresh(f, tok2.Refresh); a.status != http.StatusBadRequest {
		t.Fatalf("the live refresh token after the reuse: %d, want refused", a.status)
	}
}

// An operator revoking a person ends every grant of theirs at once.
func TestRevokeSubject(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	_, a1 := e.login(sandbox.StandardEmail)
	_, a2 := e.login(sandbox.StandardEmail)
	_, other := e.login(sandbox.ReadOnlyEmail)
	sub := e.call("/mcp", a1.Access).json(t)
	uid := int64(sub["user_id"].(float64))
	if n, err := e.srv.RevokeSubject(context.Background(), uid); err != nil || n != 2 {
		t.Fatalf("RevokeSubject: %d grants, %v; want 2 (the person signed in twice)", n, err)
	}
	for _, tok := range []string{a1.Access, a2.Access} {
		if a := e.call("/mcp", tok); a.status != http.StatusUnauthorized {
			t.Errorf("a revoked person's token: %d, want 401", a.status)
		}
	}
	if a := e.call("/mcp", other.Access); a.status != http.StatusOK {
		t.Errorf("another person's token: %d, want 200", a.status)
	}
}

// When Convirza refuses a person's refresh token (revoked upstream,
// expired, the person removed), their access ends: UpstreamTokens says so,
// the grant is revoked, the next call is a 401 and refreshing is refused.
func TestUpstreamRefreshTokenDeathEndsAccess(t *testing.T) {
	// Convirza access tokens of one minute: always within the renewal
	// margin, so every UpstreamTokens renews.
	e := newEnv(t, sandbox.Options{AccessTTL: time.Minute}, nil)
	f, tok := e.login(sandbox.ReadOnlyEmail)
	a := e.call("/mcp", tok.Access)
	var sub oauth.Subject
	sub.UserID = int64(a.json(t)["user_id"].(float64))
	ctx := context.Background()

	first, err := e.srv.UpstreamTokens(ctx, sub)
	if err != nil {
		t.Fatalf("UpstreamTokens: %v", err)
	}
	second, err := e.srv.UpstreamTokens(ctx, sub)
	if err != nil {
		t.Fatalf("UpstreamTokens again: %v", err)
	}
	if second.Refresh == first.Refresh || second.Access == first.Access {
		t.Fatal("the person's Convirza tokens were not renewed and rotated")
	}
	// Convirza's side of things: the refresh token dies.
	hc := upstream.New(nil, upstream.Policy{Timeout: 5 * time.Second}, nil)
	if err := convirza.Revoke(ctx, hc, e.sb.OAuthURL, second.Refresh, "refresh"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.UpstreamTokens(ctx, sub); err == nil || !strings.Contains(err.Error(), oauth.ErrSignedOut.Error()) {
		t.Fatalf("UpstreamTokens after Convirza refused the refresh token: %v, want ErrSignedOut", err)
	}
	if a := e.call("/mcp", tok.Access); a.status != http.StatusUnauthorized {
		t.Fatalf("/mcp after the upstream sign-out: %d, want 401", a.status)
	}
	if a := e.refresh(f, tok.Refresh); a.status != http.StatusBadRequest {
		t.Fatalf("refresh after the upstream sign-out: %d, want refused", a.status)
	}
}

// Concurrent requests of one person whose Convirza token Convirza just
// refused (each saw a 401 with the same token) cause one renewal, and all
// get its result: the refresh token rotates, so a second renewal with the
// same refresh token would be refused and sign the person out.
func TestUpstreamRenewalHappensOnce(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	_, tok := e.login(sandbox.StandardEmail)
	var sub oauth.Subject
	sub.UserID = int64(e.call("/mcp", tok.Access).json(t)["user_id"].(float64))
	ctx := context.Background()
	cur, err := e.srv.UpstreamTokens(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	before := e.sb.Refreshes()
	const n = 8
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, err := e.srv.RenewUpstream(ctx, sub, cur.Access)
			got[i], errs[i] = tk.Access, err
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("RenewUpstream %d: %v", i, errs[i])
		}
		if got[i] == cur.Access || got[i] != got[0] {
			t.Fatalf("caller %d got %q, want the one renewed token", i, got[i])
		}
	}
	if d := e.sb.Refreshes() - before; d != 1 {
		t.Fatalf("%d renewals at Convirza, want 1", d)
	}
}
