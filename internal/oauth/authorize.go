package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
)

// authRequest is a sign-in page's pending authorization request: what the
// code will be bound to once the person signs in.
type authRequest struct {
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name"`
	Document   bool   `json:"document"`
	Redirect   string `json:"redirect_uri"`
	State      string `json:"state"`
	Challenge  string `json:"code_challenge"`
	Resource   string `json:"resource"`
	Scope      string `json:"scope"`
	Done       bool   `json:"done,omitempty"`
}

// codeRecord is an authorization code: single use (Swap from unused to
// used); a second use revokes the grant the first one made.
type codeRecord struct {
	ClientID  string    `json:"client_id"`
	Redirect  string    `json:"redirect_uri"`
	Challenge string    `json:"code_challenge"`
	Resource  string    `json:"resource"`
	Scope     string    `json:"scope"`
	Person    Identity  `json:"person"`
	Expires   time.Time `json:"expires"`
	Used      bool      `json:"used,omitempty"`
	GrantID   string    `json:"grant_id,omitempty"`
}

func requestKey(id string) string { return "oauth/req/" + digest(id) }
func codeKey(code string) string  { return "oauth/code/" + digest(code) }

// pkceChallenge is the shape of an S256 challenge: base64url of 32 bytes.
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// pkceVerifier is RFC 7636 §4.1: 43 to 128 unreserved characters.
var pkceVerifier = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// authorizePage checks an authorization request and shows the sign-in
// page. A request naming an unknown client or a redirect URI it did not
// register is answered here (never redirected: that is how open
// redirectors are made); other errors go back to the client's redirect URI.
func (s *Server) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, redirect := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" {
		s.problem(w, http.StatusBadRequest, "The sign-in link names no application (client_id is missing). Start the sign-in again from your assistant.")
		return
	}
	if redirect == "" {
		s.problem(w, http.StatusBadRequest, "The sign-in link has no redirect_uri. Start the sign-in again from your assistant.")
		return
	}
	c, err := s.lookupClient(r.Context(), r, clientID)
	if err != nil {
		s.problem(w, http.StatusBadRequest, "This sign-in cannot go on: "+err.Error()+".")
		return
	}
	if !matchesAny(c.RedirectURIs, redirect) {
		s.problem(w, http.StatusBadRequest, "This sign-in cannot go on: the application asked to return to an address it did not register (redirect_uri). Nothing was sent to it.")
		return
	}
	if err := s.checkRedirectURI(redirect); err != nil {
		// Registered before the rule changed, say: the rule holds now.
		s.problem(w, http.StatusBadRequest, "This sign-in cannot go on: "+err.Error()+". Nothing was sent to it.")
		return
	}
	state := q.Get("state")
	back := func(code, desc string) {
		s.redirect(w, r, redirect, url.Values{"error": {code}, "error_description": {desc}}, state)
	}
	switch {
	case q.Get("response_type") != "code":
		back("unsupported_response_type", "response_type must be code")
		return
	case q.Get("code_challenge") == "":
		back("invalid_request", "PKCE is required: send code_challenge and code_challenge_method=S256")
		return
	case q.Get("code_challenge_method") != "S256":
		back("invalid_request", "code_challenge_method must be S256 (plain is not accepted)")
		return
	case !pkceChallenge.MatchString(q.Get("code_challenge")):
		back("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier (43 characters)")
		return
	case len(state) > 1024:
		back("invalid_request", "state is longer than 1024 characters")
		return
	}
	resource, ok := s.resource(q.Get("resource"))
	if !ok || len(q["resource"]) > 1 {
		back("invalid_target", "resource must be this server's MCP endpoint ("+s.resMCP+")")
		return
	}
	// The one scope is granted whatever was asked: the person's Convirza
	// role decides what they may do.
	req := authRequest{ClientID: c.ID, ClientName: c.Name, Document: c.Document, Redirect: redirect, State: state,
		Challenge: q.Get("code_challenge"), Resource: resource, Scope: Scope}
	id := random(32)
	b, err := json.Marshal(req)
	if err != nil {
		s.problem(w, http.StatusInternalServerError, "This sign-in cannot go on right now.")
		return
	}
	if err := s.st.Create(r.Context(), requestKey(id), b, s.requestTTL); err != nil {
		s.problem(w, http.StatusServiceUnavailable, "This sign-in cannot go on right now: the server cannot reach its state store. Try again shortly.")
		return
	}
	s.render(w, http.StatusOK, pageData{Request: id, Client: req.display(), Redirect: redirectHost(redirect), Unverified: !req.Document && !loopbackRedirect(redirect)})
}

// signIn is the page's form: the person's Convirza email and password. A
// wrong password and an unknown email get the same answer; attempts are
// limited per client address, per account, and in all. Cross-site posts
// are refused twice over: the form must carry its page's request id (a
// single-use secret, bound in the store to the client, its redirect URI
// and PKCE challenge, that only the page showed), and a browser must have
// posted it from this server's own page (crossSite).
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if s.crossSite(r) {
		s.problem(w, http.StatusForbidden, "This form can only be sent from this server's own page.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		s.problem(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	id := r.PostForm.Get("request")
	old, err := s.st.Get(ctx, requestKey(id))
	if id == "" || errors.Is(err, store.ErrNotFound) {
		s.problem(w, http.StatusBadRequest, "This sign-in page has expired or was already used. Start the sign-in again from your assistant.")
		return
	}
	if err != nil {
		s.problem(w, http.StatusServiceUnavailable, "The server cannot reach its state store. Try again shortly.")
		return
	}
	var req authRequest
	if err := json.Unmarshal(old, &req); err != nil || req.Done {
		s.problem(w, http.StatusBadRequest, "This sign-in page has expired or was already used. Start the sign-in again from your assistant.")
		return
	}
	page := pageData{Request: id, Client: req.display(), Redirect: redirectHost(req.Redirect), Unverified: !req.Document && !loopbackRedirect(req.Redirect)}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	if email == "" || password == "" || len(email) > 254 || len(password) > 1024 {
		page.Error = "Enter your Convirza email and password."
		s.render(w, http.StatusOK, page)
		return
	}
	who, err := s.SignIn(ctx, s.clientIP(r), email, password)
	var limited *LimitedError
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(int(limited.Wait.Seconds())))
		page.Error = "Convirza refuses more sign-ins for a minute. Wait and try again."
		if !limited.Upstream {
			page.Error = fmt.Sprintf("Too many sign-in attempts. Wait %d seconds and try again.", int(limited.Wait.Seconds()))
		}
		s.render(w, http.StatusTooManyRequests, page)
		return
	case errors.Is(err, ErrBadCredentials):
		page.Error = "Wrong email or password."
		s.render(w, http.StatusOK, page)
		return
	case errors.Is(err, store.ErrUnavailable):
		page.Error = "The server cannot reach its state store. Try again shortly."
		s.render(w, http.StatusServiceUnavailable, page)
		return
	case err != nil:
		page.Error = "Convirza sign-in is not available right now. Try again shortly."
		s.render(w, http.StatusBadGateway, page)
		return
	}
	// The page is used up (one sign-in, one code), whatever a second
	// submission of it says.
	req.Done = true
	done, err := json.Marshal(req)
	if err != nil {
		s.problem(w, http.StatusInternalServerError, "This sign-in cannot go on right now.")
		return
	}
	if ok, err := s.st.Swap(ctx, requestKey(id), old, done); err != nil || !ok {
		s.problem(w, http.StatusBadRequest, "This sign-in page was already used. Start the sign-in again from your assistant.")
		return
	}
	code := codePrefix + random(32)
	cr := codeRecord{ClientID: req.ClientID, Redirect: req.Redirect, Challenge: req.Challenge, Resource: req.Resource, Scope: req.Scope,
		Person: who, Expires: s.now().Add(s.codeTTL).UTC()}
	cb, err := json.Marshal(cr)
	if err == nil {
		err = s.st.Create(ctx, codeKey(code), cb, s.codeTTL)
	}
	if err != nil {
		s.problem(w, http.StatusServiceUnavailable, "The server cannot complete your sign-in right now. Try again shortly.")
		return
	}
	s.log.InfoContext(ctx, "signed in", "user", who.UserID, "client", req.ClientID)
	s.redirect(w, r, req.Redirect, url.Values{"code": {code}}, req.State)
}

// crossSite reports a browser's post that did not come from this server's
// own page. The browser's Fetch metadata says so (Sec-Fetch-Site: anything
// but same-origin, or none for what the person did themselves); a browser
// without it is judged by its Origin, which must then be this server's.
// Origin "null" is refused too: another site's page gets it sent by asking
// for no referrer, and this server's page asks for same-origin (render), so
// a browser posting it sends the real Origin. A request with neither header
// is no browser's cross-site post (a script or a test).
func (s *Server) crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
		o := r.Header.Get("Origin")
		return o != "" && !strings.EqualFold(o, s.origin)
	default: // same-site (another port, another subdomain), cross-site
		return true
	}
}

// LimitedError: a sign-in refused by a rate limit, before reaching Convirza.
type LimitedError struct {
	Wait time.Duration // retry after this
	// Upstream: Convirza's own limit refused it, not this server's.
	Upstream bool
}

func (e *LimitedError) Error() string {
	if e.Upstream {
		return "Convirza refuses more sign-ins for a minute; wait and try again"
	}
	return fmt.Sprintf("too many sign-in attempts; wait %d seconds and try again", int(e.Wait.Seconds()))
}

// SignIn checks a person's Convirza email and password, under the sign-in
// limits (per client address ip, per account, in all), and keeps their
// Convirza tokens (sealed; never the password) for the person's grants and
// UpstreamTokens. The sign-in page uses it; so may other pages where a
// person signs in (approvals). Errors: ErrBadCredentials (wrong password
// and unknown email alike), *LimitedError, one wrapping
// store.ErrUnavailable, or Convirza being unreachable.
func (s *Server) SignIn(ctx context.Context, ip, email, password string) (Identity, error) {
	who, toks, err := s.login(ctx, ip, email, password)
	if err != nil {
		return Identity{}, err
	}
	if err := s.keepUpstream(ctx, who, toks); err != nil {
		s.revokeUpstreamTokens(ctx, toks)
		return Identity{}, fmt.Errorf("keeping the person's Convirza tokens: %w", err)
	}
	return who, nil
}

// Identity checks a person's Convirza email and password as SignIn does,
// under the same limits, and says who they are as Convirza names them now,
// keeping nothing: the Convirza tokens the check obtained are revoked at
// once. For a decision taken on the spot (the approvals command), which
// must neither leave a sign-in behind nor replace the person's own.
func (s *Server) Identity(ctx context.Context, ip, email, password string) (Identity, error) {
	who, toks, err := s.login(ctx, ip, email, password)
	if err != nil {
		return Identity{}, err
	}
	s.revokeUpstreamTokens(ctx, toks)
	return who, nil
}

// login is a sign-in at Convirza under the sign-in limits.
func (s *Server) login(ctx context.Context, ip, email, password string) (Identity, Tokens, error) {
	wait, err := s.admitSignIn(ctx, ip, email)
	if err != nil {
		return Identity{}, Tokens{}, fmt.Errorf("checking the sign-in limits: %w", err)
	}
	if wait > 0 {
		return Identity{}, Tokens{}, &LimitedError{Wait: wait}
	}
	who, toks, err := s.up.Login(ctx, email, password)
	switch {
	case errors.Is(err, ErrBadCredentials):
		s.log.InfoContext(ctx, "sign-in refused: wrong email or password", "ip", ip)
		return Identity{}, Tokens{}, ErrBadCredentials
	case errors.Is(err, ErrUpstreamLimited):
		s.log.WarnContext(ctx, "Convirza refused a sign-in: its rate limit", "ip", ip)
		return Identity{}, Tokens{}, &LimitedError{Wait: time.Minute, Upstream: true}
	case err != nil:
		s.log.WarnContext(ctx, "sign-in failed at Convirza", "err", err)
		return Identity{}, Tokens{}, fmt.Errorf("signing in at Convirza: %w", err)
	case who.UserID == 0:
		s.revokeUpstreamTokens(ctx, toks)
		return Identity{}, Tokens{}, errors.New("signing in at Convirza: the answer did not say who signed in")
	}
	return who, toks, nil
}

// admitSignIn counts one sign-in attempt against the limits: per client
// address, per account (a digest of the email, lower-cased) and in all. A
// positive wait: refused, retry after it.
func (s *Server) admitSignIn(ctx context.Context, ip, email string) (time.Duration, error) {
	for _, l := range []struct {
		key   string
		limit int64
	}{
		{"signin-ip/" + AddressBlock(ip), s.perIP},
		{"signin-account/" + digest(strings.ToLower(email))[:32], s.perAccount},
		{"signin-all", s.total},
	} {
		if l.key == "signin-all" && s.upstreamLogins != nil {
			// Counted with the deployment's other Convirza logins.
			wait, err := s.upstreamLogins(ctx)
			if err != nil {
				return 0, err
			}
			if wait > 0 {
				return time.Duration(wait) * time.Second, nil
			}
			continue
		}
		ok, err := s.allow(ctx, l.key, l.limit, time.Minute)
		if err != nil {
			return 0, err
		}
		if !ok {
			now := s.now()
			return now.Truncate(time.Minute).Add(time.Minute).Sub(now) + time.Second, nil
		}
	}
	return 0, nil
}

// allow counts one event under key in the current window and reports
// whether it is within limit (fixed windows, counted in the store so every
// replica shares them).
func (s *Server) allow(ctx context.Context, key string, limit int64, window time.Duration) (bool, error) {
	n, err := store.CountInWindow(ctx, s.st, "oauth/rl/"+key, s.now(), window, 1)
	if err != nil {
		return false, err
	}
	return n <= limit, nil
}

// redirect sends the browser back to the client (303: the form's POST
// becomes a GET), with the answer, the state and the issuer (RFC 9207).
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to string, v url.Values, state string) {
	u, err := url.Parse(to)
	if err != nil {
		s.problem(w, http.StatusBadRequest, "The application's redirect address is not valid.")
		return
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	if state != "" {
		q.Set("state", state)
	}
	q.Set("iss", s.public)
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// token is the token endpoint: the authorization_code and refresh_token
// grants, public clients (client_id, no secret).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		errRequest("the body must be application/x-www-form-urlencoded, at most 16 KiB").write(w)
		return
	}
	f := r.PostForm
	if _, _, ok := r.BasicAuth(); ok || f.Get("client_secret") != "" {
		(&tokenError{status: http.StatusUnauthorized, code: "invalid_client", desc: "clients of this server are public: send client_id, no secret"}).write(w)
		return
	}
	clientID := f.Get("client_id")
	if clientID == "" {
		(&tokenError{status: http.StatusUnauthorized, code: "invalid_client", desc: "client_id is required"}).write(w)
		return
	}
	var (
		out  *issued
		terr *tokenError
	)
	switch f.Get("grant_type") {
	case "authorization_code":
		out, terr = s.redeemCode(r.Context(), f)
	case "refresh_token":
		out, terr = s.refreshGrant(r.Context(), f.Get("refresh_token"), clientID, f.Get("resource"))
	case "":
		terr = errRequest("grant_type is required")
	default:
		terr = &tokenError{status: http.StatusBadRequest, code: "unsupported_grant_type", desc: "grant_type must be authorization_code or refresh_token"}
	}
	if terr != nil {
		terr.write(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, out)
}

// redeemCode trades a code for tokens, once: the code is spent before
// anything else is checked, so a stolen code tried with a wrong verifier is
// spent too, and a code used twice revokes what the first use issued.
func (s *Server) redeemCode(ctx context.Context, f url.Values) (*issued, *tokenError) {
	code, verifier := f.Get("code"), f.Get("code_verifier")
	if code == "" || !strings.HasPrefix(code, codePrefix) || len(code) > 200 {
		return nil, errGrant("unknown authorization code")
	}
	key := codeKey(code)
	old, err := s.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errGrant("the authorization code is unknown or expired")
	}
	if err != nil {
		return nil, errServer(err)
	}
	var rec codeRecord
	if err := json.Unmarshal(old, &rec); err != nil {
		return nil, errServer(err)
	}
	if rec.Used {
		s.replayed(ctx, rec)
		return nil, errGrant("the authorization code was already used: what it issued is revoked")
	}
	if !s.now().Before(rec.Expires) {
		return nil, errGrant("the authorization code is unknown or expired")
	}
	gid := randomHex(16)
	used := rec
	used.Used, used.GrantID = true, gid
	ub, err := json.Marshal(used)
	if err != nil {
		return nil, errServer(err)
	}
	ok, err := s.st.Swap(ctx, key, old, ub)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errGrant("the authorization code is unknown or expired")
	case err != nil:
		return nil, errServer(err)
	case !ok:
		if cur, err := s.st.Get(ctx, key); err == nil && json.Unmarshal(cur, &rec) == nil {
			s.replayed(ctx, rec)
		}
		return nil, errGrant("the authorization code was already used: what it issued is revoked")
	}
	switch {
	case f.Get("client_id") != rec.ClientID:
		return nil, errGrant("the authorization code was issued to another client")
	case f.Get("redirect_uri") != rec.Redirect:
		return nil, errGrant("redirect_uri differs from the one of the authorization request")
	case verifier == "":
		return nil, errGrant("code_verifier is required (PKCE)")
	case !pkceVerifier.MatchString(verifier) || !challengeMatches(verifier, rec.Challenge):
		return nil, errGrant("the code_verifier does not match the code_challenge")
	}
	if res := f.Get("resource"); res != "" {
		if r, ok := s.resource(res); !ok || r != rec.Resource {
			return nil, &tokenError{status: http.StatusBadRequest, code: "invalid_target", desc: "resource differs from the one of the authorization request"}
		}
	}
	out, err := s.newGrant(ctx, gid, rec.Person, rec.ClientID, rec.Resource, rec.Scope)
	if err != nil {
		return nil, errServer(err)
	}
	return out, nil
}

// replayed revokes the grant a code issued when the code comes back
// (RFC 6749 §4.1.2: the code may have been stolen).
func (s *Server) replayed(ctx context.Context, rec codeRecord) {
	s.log.WarnContext(ctx, "authorization code used twice: its grant is revoked", "user", rec.Person.UserID, "client", rec.ClientID)
	if rec.GrantID == "" {
		return
	}
	b, err := s.st.Get(ctx, grantKey(rec.GrantID))
	if err != nil {
		return
	}
	var g grant
	if json.Unmarshal(b, &g) == nil {
		_ = s.revokeGrant(ctx, g)
	}
}

func challengeMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// revoke is RFC 7009: the client signs the person out. Revoking either
// token ends the grant (its other tokens die with it), and the person's
// Convirza tokens with their last grant. The answer is 200 whatever the
// token was, so it tells nothing about tokens.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		errRequest("the body must be application/x-www-form-urlencoded, at most 16 KiB").write(w)
		return
	}
	tok, clientID := r.PostForm.Get("token"), r.PostForm.Get("client_id")
	if tok == "" {
		errRequest("token is required").write(w)
		return
	}
	g, err := s.grantOf(r.Context(), tok)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		errServer(err).write(w)
		return
	}
	if g != nil && (clientID == "" || clientID == g.ClientID) {
		if err := s.revokeGrant(r.Context(), *g); err != nil {
			errServer(err).write(w)
			return
		}
		s.log.InfoContext(r.Context(), "signed out", "user", g.Person.UserID, "client", g.ClientID)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// grantOf finds the grant of a live access or refresh token.
func (s *Server) grantOf(ctx context.Context, tok string) (*grant, error) {
	var id string
	switch {
	case strings.HasPrefix(tok, accessPrefix):
		key, ok := accessKey(tok)
		if !ok {
			return nil, store.ErrNotFound
		}
		b, err := s.st.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		var rec accessRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, store.ErrNotFound
		}
		id = rec.GrantID
	case strings.HasPrefix(tok, refreshPrefix):
		rest := strings.TrimPrefix(tok, refreshPrefix)
		id, _, _ = strings.Cut(rest, ".")
	default:
		return nil, store.ErrNotFound
	}
	if id == "" {
		return nil, store.ErrNotFound
	}
	b, err := s.st.Get(ctx, grantKey(id))
	if err != nil {
		return nil, err
	}
	var g grant
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, store.ErrNotFound
	}
	if strings.HasPrefix(tok, refreshPrefix) && subtle.ConstantTimeCompare([]byte(digest(tok)), []byte(g.Refresh)) != 1 {
		return nil, store.ErrNotFound
	}
	return &g, nil
}

func matchesAny(registered []string, requested string) bool {
	for _, r := range registered {
		if redirectMatches(r, requested) {
			return true
		}
	}
	return false
}

func redirectHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Scheme + "://" + u.Host
}

func loopbackRedirect(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "http" && loopbackHost(u.Hostname())
}

func (req authRequest) display() string {
	if req.ClientName != "" {
		return req.ClientName
	}
	if req.Document {
		return req.ClientID
	}
	return "An application"
}

// pageData fills the sign-in page.
type pageData struct {
	Action     string // where the form posts: this server's /authorize
	Request    string
	Client     string
	Redirect   string
	Unverified bool
	Error      string
	Problem    string // the page explains why the sign-in cannot go on
}

func (s *Server) problem(w http.ResponseWriter, status int, msg string) {
	s.render(w, status, pageData{Problem: msg})
}

func (s *Server) render(w http.ResponseWriter, status int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// same-origin, not no-referrer: under no-referrer a browser posts the
	// form with Origin: null, which crossSite must refuse. The redirect back
	// to the application sends no referrer (redirect).
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// No script, no external asset, never in a frame. No form-action: a
	// browser would apply it to the redirect back to the application.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	d.Action = s.public + PathAuthorize
	if err := s.page.Execute(w, d); err != nil {
		s.log.Warn("sign-in page", "err", err)
	}
}

var signInPage = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in with Convirza</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f5f7;margin:0;color:#1d2330}
main{max-width:26rem;margin:4rem auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.3rem;margin:0 0 1rem}
label{display:block;margin:.8rem 0 .3rem;font-weight:600}
input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #b8bfcc;border-radius:4px;font-size:1rem}
button{margin-top:1.2rem;width:100%;padding:.65rem;border:0;border-radius:4px;background:#1f5fbf;color:#fff;font-size:1rem;cursor:pointer}
.error{background:#fdecea;color:#8a1c12;padding:.6rem;border-radius:4px}
.note{color:#555;font-size:.9rem}
.warn{background:#fff6e0;padding:.6rem;border-radius:4px;font-size:.9rem}
</style>
</head>
<body>
<main>
{{if .Problem}}
<h1>Sign-in cannot go on</h1>
<p class="error">{{.Problem}}</p>
{{else}}
<h1>Sign in with your Convirza account</h1>
<p><strong>{{.Client}}</strong> asks to work in Convirza as you, with what your Convirza role allows.
After you sign in, you go back to <strong>{{.Redirect}}</strong>.</p>
{{if .Unverified}}<p class="warn">This application registered itself. Go on only if you started this sign-in from it just now.</p>{{end}}
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="request" value="{{.Request}}">
<label for="email">Convirza email</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p class="note">Your password goes to Convirza only; this server keeps your Convirza session, never your password.</p>
{{end}}
</main>
</body>
</html>
`))
