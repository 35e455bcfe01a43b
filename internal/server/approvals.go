package server

// The approval pages: where a person approves or declines a confirmable call
// the assistant asked for, outside the model's reach. Served on the HTTP
// listener (approvers sign in with CONVIRZA_MCP_APPROVER_TOKEN) and, for a
// stdio server, on a loopback listener of its own (a single-use link
// traded for a cookie).

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/tools"
)

const (
	pathApprovals = "/approvals"
	pathSignin    = "/approvals/signin"
	pathSignout   = "/approvals/signout"
	// approverSessionTTL is how long a sign-in lasts.
	approverSessionTTL = 12 * time.Hour
	// maxFormBytes bounds a posted form (a token, a CSRF field).
	maxFormBytes = 16 << 10
	// desktopApprover names the person deciding on a stdio server's
	// desktop page (whoever opened the single-use link on this computer).
	desktopApprover = "the user at this computer (desktop page)"
)

// isApprovalsPath reports whether path is served by the approval pages.
func isApprovalsPath(path string) bool {
	return path == pathApprovals || strings.HasPrefix(path, pathApprovals+"/")
}

// approvalPages serves the pages. Approvers are authenticated by an
// approver token (Authorization: Bearer, for scripts), by a session cookie
// from the sign-in form, or, on the desktop page, by a session cookie
// traded for a single-use link. An MCP client's bearer token is never an
// approver.
type approvalPages struct {
	approvals *policy.Approvals
	store     store.Store
	log       *slog.Logger
	tokens    [][32]byte // digests of the approver tokens
	// secure marks cookies Secure (the public URL is https).
	secure bool
	// cookie is the session cookie's name (the desktop page adds its
	// port: cookies do not tell ports apart).
	cookie string
	// links, on the desktop page, are the single-use secrets a session is
	// traded for; nil on the HTTP listener.
	links *oneTimeLinks
	// off, when set, is why nobody can sign in (no approver token on the
	// HTTP listener): every page answers 401 saying so.
	off string
	// people, under CONVIRZA_MCP_AUTH=oauth, signs approvers in with
	// their Convirza email and password (nil: approver tokens only);
	// clientIP names the address their sign-in limits count.
	people   personSignIn
	clientIP func(*http.Request) string
	// plan, when set, says what a person signed in with their Convirza
	// account may approve (tools.Plan.MayApprove: their role, the policy's
	// tools.deny_for and four-eyes rule).
	plan  *tools.Plan
	cross *http.CrossOriginProtection
	mux   *http.ServeMux
	now   func() time.Time
}

// pagesOptions configure approvalPages.
type pagesOptions struct {
	approvals      *policy.Approvals
	store          store.Store
	log            *slog.Logger
	approverTokens []string
	secure         bool
	cookie         string
	links          *oneTimeLinks
	// trusted is an origin whose posts are the pages' own (the public
	// URL's, when a proxy rewrites Host); "" for none.
	trusted  string
	people   personSignIn
	clientIP func(*http.Request) string
	plan     *tools.Plan
}

// personSignIn checks a person's Convirza email and password
// (oauth.Server.SignIn).
type personSignIn interface {
	SignIn(ctx context.Context, ip, email, password string) (oauth.Identity, error)
	// Identify is the person as Convirza confirmed them at most maxAge
	// ago (oauth.Server.Identify); ErrSignedOut when their access ended.
	Identify(ctx context.Context, userID int64, maxAge time.Duration) (oauth.Identity, error)
	// Holds is whether the server still holds the person's Convirza
	// tokens (oauth.Server.Holds): not after an operator revoked them.
	Holds(ctx context.Context, userID int64) (bool, error)
}

func newApprovalPages(o pagesOptions) *approvalPages {
	p := &approvalPages{approvals: o.approvals, store: o.store, log: o.log, secure: o.secure, cookie: o.cookie,
		links: o.links, now: time.Now, people: o.people, clientIP: o.clientIP, plan: o.plan}
	if p.clientIP == nil {
		p.clientIP = remoteHost
	}
	for _, t := range o.approverTokens {
		p.tokens = append(p.tokens, sha256.Sum256([]byte(t)))
	}
	if len(p.tokens) == 0 && p.links == nil && p.people == nil {
		p.off = "The approval pages are off: no approver token is set. Set CONVIRZA_MCP_APPROVER_TOKEN on the server " +
			"(a secret for the people who approve, never the MCP client's CONVIRZA_MCP_AUTH_TOKEN) to sign in here, " +
			"or approve from a terminal with `convirza-mcp approvals approve ID` against the same state store."
	}
	// Cross-site posts are refused (Sec-Fetch-Site, else Origin against
	// Host): a page elsewhere cannot make a signed-in browser approve.
	p.cross = http.NewCrossOriginProtection()
	if o.trusted != "" {
		_ = p.cross.AddTrustedOrigin(o.trusted)
	}
	p.cross.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.message(w, http.StatusForbidden, "Refused", "This request came from another site: approvals are only taken from this server's own pages.")
	}))

	m := http.NewServeMux()
	m.HandleFunc("GET "+pathApprovals, p.serveList)
	m.HandleFunc("GET "+pathApprovals+"/{$}", p.serveList)
	m.HandleFunc("GET "+pathSignin, p.serveSigninForm)
	m.HandleFunc("POST "+pathSignin, p.serveSignin)
	m.HandleFunc("POST "+pathSignout, p.serveSignout)
	m.HandleFunc("GET "+pathApprovals+"/{id}", p.serveApproval)
	m.HandleFunc("POST "+pathApprovals+"/{id}/approve", p.decide(true))
	m.HandleFunc("POST "+pathApprovals+"/{id}/decline", p.decide(false))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Who may not see the pages learns nothing of which exist.
		if _, ok := p.require(w, r); !ok {
			return
		}
		p.message(w, http.StatusNotFound, "Not found", "There is no such page.")
	})
	p.mux = m
	return p
}

func (p *approvalPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin") // no-referrer would make a form post's Origin "null"
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	p.cross.Handler(p.mux).ServeHTTP(w, r)
}

// approver is who is deciding.
type approver struct {
	name string
	// csrf is the session's form token; "" for an approver token in the
	// Authorization header (no cookie, so no cross-site forgery to fear).
	csrf   string
	bearer bool
	// userID and roleID: a person signed in with their Convirza account
	// (0: an approver token or the desktop page).
	userID int64
	roleID int
}

// approverSession is a signed-in approver, kept in the store under a
// digest of the cookie's value.
type approverSession struct {
	Approver string    `json:"approver"`
	CSRF     string    `json:"csrf"`
	Expires  time.Time `json:"expires"`
	UserID   int64     `json:"user_id,omitempty"`
	RoleID   int       `json:"role_id,omitempty"`
}

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "approver-session/" + hex.EncodeToString(sum[:])
}

// tokenApprover names an approver token without revealing it.
func tokenApprover(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return "approver token " + hex.EncodeToString(sum[:])[:6]
}

// matchToken reports whether tok is an approver token, in constant time
// against every one (rotation).
func (p *approvalPages) matchToken(tok string) bool {
	if tok == "" {
		return false
	}
	got := sha256.Sum256([]byte(tok))
	match := 0
	for _, want := range p.tokens {
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return match == 1
}

// maxWrongTokens is how many wrong approver tokens one client address may
// present in a minute (on every replica together); beyond, 429 until the
// minute ends, whatever it presents: a token cannot be guessed here.
const maxWrongTokens = 10

// signedOutNote tells an approver whose Convirza sign-in ended why they
// see the sign-in page.
const signedOutNote = "Your Convirza sign-in has ended (you signed out, or it was revoked): sign in again to decide."

// errPersonSignedOut: the session's person no longer has a Convirza
// sign-in here (they signed out, or an operator revoked them).
var errPersonSignedOut = errors.New("the person's Convirza sign-in has ended")

// errTokenGuessing: the client presented too many wrong approver tokens.
var errTokenGuessing = errors.New("too many wrong approver tokens from this address: wait a minute")

// checkToken tells whether tok is an approver token, counting wrong ones
// per client address; errTokenGuessing once they reach maxWrongTokens in
// the minute (then nothing presented is compared), a store error when the
// count cannot be kept. Every try is counted before the comparison, so
// tries sent at once cannot all pass under the limit; a right token gives
// its count back.
func (p *approvalPages) checkToken(r *http.Request, tok string) (bool, error) {
	key := "approvals/wrong-token/" + oauth.AddressBlock(p.clientIP(r))
	n, err := store.CountInWindow(r.Context(), p.store, key, p.now(), time.Minute, 1)
	if err != nil {
		return false, err
	}
	if n > maxWrongTokens {
		return false, errTokenGuessing
	}
	if p.matchToken(tok) {
		_, _ = store.CountInWindow(r.Context(), p.store, key, p.now(), time.Minute, -1)
		return true, nil
	}
	p.log.Warn("approval pages: a wrong approver token was refused", "remote", p.clientIP(r))
	return false, nil
}

// who authenticates the request: ok is false when no approver is signed
// in; err when the store cannot say, or errTokenGuessing.
func (p *approvalPages) who(r *http.Request) (approver, bool, error) {
	if r.Header.Get("Authorization") != "" {
		tok, _ := bearer(r)
		ok, err := p.checkToken(r, tok)
		if !ok {
			return approver{}, false, err
		}
		return approver{name: tokenApprover(tok), bearer: true}, true, nil
	}
	c, err := r.Cookie(p.cookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return approver{}, false, nil
	}
	s, err := p.session(r.Context(), c.Value)
	if err != nil || s == nil {
		return approver{}, false, err
	}
	if s.UserID != 0 && p.people != nil {
		// A person's page session lasts only while their Convirza sign-in
		// does: offboarding (logout --user) or Convirza refusing them ends
		// it at their next page, not hours later.
		held, err := p.people.Holds(r.Context(), s.UserID)
		if err != nil {
			return approver{}, false, err
		}
		if !held {
			_ = p.store.Delete(r.Context(), sessionKey(c.Value))
			p.log.Info("approval pages: a signed-out person's page session ended", "user", s.UserID)
			return approver{}, false, errPersonSignedOut
		}
	}
	return approver{name: s.Approver, csrf: s.CSRF, userID: s.UserID, roleID: s.RoleID}, true, nil
}

func (p *approvalPages) session(ctx context.Context, id string) (*approverSession, error) {
	b, err := p.store.Get(ctx, sessionKey(id))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	var s approverSession
	if json.Unmarshal(b, &s) != nil || !p.now().Before(s.Expires) {
		return nil, nil
	}
	return &s, nil
}

// signIn opens a session for name and sets its cookie.
func (p *approvalPages) signIn(w http.ResponseWriter, r *http.Request, name string) error {
	return p.openSession(w, r, approverSession{Approver: name})
}

// openSession opens the session s (its secrets and expiry filled in here)
// and sets its cookie.
func (p *approvalPages) openSession(w http.ResponseWriter, r *http.Request, s approverSession) error {
	id, csrf := randomToken(), randomToken()
	s.CSRF, s.Expires = csrf, p.now().Add(approverSessionTTL)
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := p.store.Create(r.Context(), sessionKey(id), b, approverSessionTTL); err != nil {
		return err
	}
	// Lax, not Strict: an approver following a link from a chat notice or
	// an e-mail (another site) arrives signed in. Only page views travel
	// with such a link; a decision is a POST, which Lax keeps same-site,
	// and which also needs the session's CSRF token and passes the
	// cross-site check.
	http.SetCookie(w, &http.Cookie{Name: p.cookie, Value: id, Path: pathApprovals, MaxAge: int(approverSessionTTL / time.Second),
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
	return nil
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// require answers the request itself (401, or 503) unless an approver is
// signed in.
func (p *approvalPages) require(w http.ResponseWriter, r *http.Request) (approver, bool) {
	if p.off != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="convirza-mcp approvals"`)
		p.message(w, http.StatusUnauthorized, "Approval pages are off", p.off)
		return approver{}, false
	}
	a, ok, err := p.who(r)
	switch {
	case errors.Is(err, errTokenGuessing):
		p.tooManyTokens(w)
		return approver{}, false
	case errors.Is(err, errPersonSignedOut):
		p.endSession(w, r)
		w.Header().Set("WWW-Authenticate", `Bearer realm="convirza-mcp approvals"`)
		p.signinPage(w, r, http.StatusUnauthorized, r.URL.Path, signedOutNote)
		return approver{}, false
	case err != nil:
		p.log.Warn("approval pages: the state store cannot be read", "err", err)
		p.message(w, http.StatusServiceUnavailable, "Unavailable", "The server's state store cannot be reached; try again shortly.")
		return approver{}, false
	case !ok:
		w.Header().Set("WWW-Authenticate", `Bearer realm="convirza-mcp approvals"`)
		p.signinPage(w, r, http.StatusUnauthorized, r.URL.Path, "")
		return approver{}, false
	}
	if rec, ok := w.(*recorder); ok {
		rec.principal = a.name // for the access log: who acted
	}
	return a, true
}

func (p *approvalPages) serveList(w http.ResponseWriter, r *http.Request) {
	if p.traded(w, r) {
		return
	}
	a, ok := p.require(w, r)
	if !ok {
		return
	}
	list, err := p.approvals.List(r.Context())
	if err != nil {
		p.unavailable(w, err)
		return
	}
	p.render(w, http.StatusOK, "list", pageData{Title: "Approvals", Who: a.name, CSRF: a.csrf, Cookie: !a.bearer, List: list, Now: p.now()})
}

func (p *approvalPages) serveApproval(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validApprovalID(id) {
		p.message(w, http.StatusNotFound, "Not found", "There is no approval with that id.")
		return
	}
	if p.traded(w, r) {
		return
	}
	a, ok := p.require(w, r)
	if !ok {
		return
	}
	p.showApproval(w, r, a, id, http.StatusOK, "")
}

func (p *approvalPages) showApproval(w http.ResponseWriter, r *http.Request, a approver, id string, status int, note string) {
	ap, err := p.approvals.Get(r.Context(), id)
	switch {
	case errors.Is(err, policy.ErrNoApproval):
		p.message(w, http.StatusNotFound, "Not found", "There is no approval "+id+": it expired long ago, or the id is wrong.")
		return
	case err != nil:
		p.unavailable(w, err)
		return
	}
	p.render(w, status, "approval", pageData{Title: "Approval " + id, Who: a.name, CSRF: a.csrf, Cookie: !a.bearer, A: ap, Now: p.now(), Note: note})
}

// decide takes a person's decision from the page's form (or a script's
// POST with the approver token).
func (p *approvalPages) decide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !validApprovalID(id) {
			p.message(w, http.StatusNotFound, "Not found", "There is no approval with that id.")
			return
		}
		a, ok := p.require(w, r)
		if !ok {
			return
		}
		if err := r.ParseForm(); err != nil {
			p.message(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
			return
		}
		if !a.bearer && (a.csrf == "" || subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(a.csrf)) != 1) {
			p.message(w, http.StatusForbidden, "Refused", "This form is stale or did not come from this page. Reload the approval page and decide again.")
			return
		}
		if a.userID != 0 && p.people != nil {
			// The person's role as Convirza says it now, not at sign-in:
			// their session lasts hours, a role change or an operator's
			// revocation must not.
			who, err := p.people.Identify(r.Context(), a.userID, oauth.IdentityMaxAge)
			switch {
			case errors.Is(err, oauth.ErrSignedOut):
				p.log.Info("approval pages: a signed-out person's decision was refused", "approval_id", id, "user", a.userID)
				p.endSession(w, r)
				w.Header().Set("WWW-Authenticate", `Bearer realm="convirza-mcp approvals"`)
				p.signinPage(w, r, http.StatusUnauthorized, pathApprovals+"/"+id,
					signedOutNote+" Nothing was decided.")
				return
			case errors.Is(err, oauth.ErrUnconfirmed):
				p.log.Warn("approval pages: Convirza did not confirm an approver's role", "user", a.userID)
				p.message(w, http.StatusServiceUnavailable, "Role not confirmed",
					"Convirza renewed your sign-in without saying who you are, so your current role cannot be confirmed; sign out and in again, or try later. Nothing was decided.")
				return
			case err != nil:
				p.log.Warn("approval pages: could not confirm an approver's role", "user", a.userID, "err", err)
				p.message(w, http.StatusServiceUnavailable, "Unavailable",
					"Convirza or the server's state store cannot be reached just now to confirm your role; try again shortly. Nothing was decided.")
				return
			}
			a.roleID = who.RoleID
		}
		if approve {
			if why, err := p.mayApprove(r.Context(), a, id); err != nil {
				p.unavailable(w, err)
				return
			} else if why != "" {
				p.answer(w, r, a, id, http.StatusForbidden, why, nil)
				return
			}
		}
		ap, err := p.approvals.Decide(r.Context(), id, approve, a.name, policy.ChannelPage)
		status := http.StatusOK
		note := ""
		switch {
		case errors.Is(err, policy.ErrNoApproval):
			p.answer(w, r, a, id, http.StatusNotFound, "There is no pending approval "+id+" (it expired, or the id is wrong). Nothing was decided.", nil)
			return
		case errors.Is(err, policy.ErrDecided):
			status, note = http.StatusConflict, "Nothing changed: this approval was not pending any more."
			if ap != nil && ap.State == "expired" {
				note = "Nothing changed: this approval has expired; the assistant must ask again."
			}
		case err != nil:
			p.unavailable(w, err)
			return
		default:
			p.log.Info("approval decided", "approval_id", id, "state", ap.State, "approver", a.name, "tool", ap.Tool)
		}
		if !a.bearer && status == http.StatusOK {
			// Post/redirect/get: a reload does not post again.
			http.Redirect(w, r, pathApprovals+"/"+id, http.StatusSeeOther)
			return
		}
		p.answer(w, r, a, id, status, note, ap)
	}
}

// answer replies to a decision: JSON to a script (approver token), the
// page to a person.
func (p *approvalPages) answer(w http.ResponseWriter, r *http.Request, a approver, id string, status int, note string, ap *policy.Approval) {
	if !a.bearer {
		if status == http.StatusNotFound {
			p.message(w, status, "Not found", note)
			return
		}
		p.showApproval(w, r, a, id, status, note)
		return
	}
	body := map[string]any{"id": id}
	if ap != nil {
		body["state"], body["approver"], body["tool"], body["action"] = ap.State, ap.Approver, ap.Tool, ap.Action
	}
	if note != "" {
		body["error"] = note
	}
	writeJSON(w, status, body)
}

func (p *approvalPages) serveSigninForm(w http.ResponseWriter, r *http.Request) {
	if p.off != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="convirza-mcp approvals"`)
		p.message(w, http.StatusUnauthorized, "Approval pages are off", p.off)
		return
	}
	p.signinPage(w, r, http.StatusOK, r.URL.Query().Get("next"), "")
}

func (p *approvalPages) serveSignin(w http.ResponseWriter, r *http.Request) {
	if p.off != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="convirza-mcp approvals"`)
		p.message(w, http.StatusUnauthorized, "Approval pages are off", p.off)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.message(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	next := r.PostFormValue("next")
	if p.people != nil && r.PostFormValue("email") != "" {
		p.personSignin(w, r, next)
		return
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	ok, err := p.checkToken(r, tok)
	switch {
	case errors.Is(err, errTokenGuessing):
		p.tooManyTokens(w)
		return
	case err != nil:
		p.unavailable(w, err)
		return
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="convirza-mcp approvals"`)
		p.signinPage(w, r, http.StatusUnauthorized, next, "That is not an approver token.")
		return
	}
	if err := p.signIn(w, r, tokenApprover(tok)); err != nil {
		p.unavailable(w, err)
		return
	}
	p.log.Info("approver signed in", "approver", tokenApprover(tok))
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (p *approvalPages) serveSignout(w http.ResponseWriter, r *http.Request) {
	a, ok := p.require(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil || a.bearer || subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(a.csrf)) != 1 {
		p.message(w, http.StatusForbidden, "Refused", "This form is stale or did not come from this page.")
		return
	}
	p.endSession(w, r)
	http.Redirect(w, r, pathSignin, http.StatusSeeOther)
}

// tooManyTokens answers a client that presented too many wrong approver
// tokens this minute.
func (p *approvalPages) tooManyTokens(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "60")
	p.message(w, http.StatusTooManyRequests, "Too many attempts", "Too many wrong approver tokens came from your address: wait a minute before trying again.")
}

// endSession ends the request's session: its record and its cookie.
func (p *approvalPages) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(p.cookie); err == nil {
		_ = p.store.Delete(r.Context(), sessionKey(c.Value))
	}
	http.SetCookie(w, &http.Cookie{Name: p.cookie, Value: "", Path: pathApprovals, MaxAge: -1, HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
}

// traded handles a desktop link's single-use secret (?s=): the first load
// trades it for a session cookie and goes on to the same page without it;
// any later load of the link is refused. It returns true when it answered.
func (p *approvalPages) traded(w http.ResponseWriter, r *http.Request) bool {
	if p.links == nil || !r.URL.Query().Has("s") {
		return false
	}
	if p.links.take(r.URL.Query().Get("s")) {
		if err := p.signIn(w, r, desktopApprover); err != nil {
			p.unavailable(w, err)
			return true
		}
		http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
		return true
	}
	if _, ok, _ := p.who(r); ok {
		// The person who traded it, reloading: the page without the link.
		http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
		return true
	}
	p.message(w, http.StatusForbidden, "Link used", "This one-time approval link was used already or has expired. "+
		"Approve from a terminal with `convirza-mcp approvals approve ID`, or ask the assistant again.")
	return true
}

func (p *approvalPages) signinPage(w http.ResponseWriter, r *http.Request, status int, next, problem string) {
	if p.links != nil && len(p.tokens) == 0 {
		p.message(w, status, "Not signed in", "Open the one-time link this server opened in your browser "+
			"(each approval opens a new one), or approve from a terminal with `convirza-mcp approvals approve ID`.")
		return
	}
	p.render(w, status, "signin", pageData{Title: "Approver sign-in", Next: safeNext(next), Problem: problem,
		People: p.people != nil, Tokens: len(p.tokens) > 0})
}

func (p *approvalPages) message(w http.ResponseWriter, status int, title, text string) {
	p.render(w, status, "message", pageData{Title: title, Text: text})
}

func (p *approvalPages) unavailable(w http.ResponseWriter, err error) {
	p.log.Warn("approval pages: the state store failed", "err", err)
	p.message(w, http.StatusServiceUnavailable, "Unavailable", "The server's state store cannot be reached; try again shortly.")
}

// safeNext keeps a post-sign-in destination on the approval pages.
func safeNext(next string) string {
	if next == pathApprovals || (strings.HasPrefix(next, pathApprovals+"/") && !strings.ContainsAny(next, "\\?#") && next != pathSignin) {
		return next
	}
	return pathApprovals
}

// validApprovalID accepts what newApprovalID makes, and nothing that could
// be more than a name in the store.
func validApprovalID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, c := range id {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

type pageData struct {
	Title, Who, CSRF, Next, Problem, Text, Note string
	// Cookie: the approver is signed in with a cookie (a sign-out button).
	Cookie bool
	// People and Tokens: the sign-in form takes a Convirza email and
	// password, an approver token.
	People, Tokens bool
	List           []policy.Approval
	A              *policy.Approval
	Now            time.Time
}

func (p *approvalPages) render(w http.ResponseWriter, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, name, d); err != nil {
		p.log.Error("approval pages: template failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageStyle is the pages' one stylesheet; the Content-Security-Policy
// allows exactly it (by hash), and nothing else: no script, no image, no
// request to anywhere.
const pageStyle = `body{font:16px/1.45 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}` +
	`h1{font-size:1.35rem}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}` +
	`pre{background:#f4f4f4;padding:.6rem;overflow:auto;white-space:pre-wrap}.state{font-weight:600}.pending{color:#8a5a00}.approved,.redeemed{color:#176b00}` +
	`.declined,.expired{color:#a00}form.inline{display:inline}button{font-size:1rem;padding:.45rem 1.1rem;margin-right:.6rem}` +
	`.note{background:#fff4d6;padding:.5rem}.who{color:#555;font-size:.9rem}`

var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}()

var pageTemplates = template.Must(template.New("pages").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"left": func(now, t time.Time) string {
		d := t.Sub(now).Round(time.Second)
		if d <= 0 {
			return "passed"
		}
		return "in " + d.String()
	},
	"pretty": func(v any) string {
		if raw, ok := v.(json.RawMessage); ok && len(raw) == 0 {
			return ""
		}
		if v == nil {
			return ""
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	},
	"pending": func(state string) bool { return state == "pending" },
}).Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin"><title>{{.Title}} · convirza-mcp</title><style>` + pageStyle + `</style></head><body>
{{if .Who}}<p class="who">Signed in as {{.Who}}{{if .Cookie}} · <form class="inline" method="post" action="/approvals/signout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit">Sign out</button></form>{{end}} · <a href="/approvals">All approvals</a></p>{{end}}
{{end}}
{{define "foot"}}</body></html>{{end}}

{{define "message"}}{{template "head" .}}<h1>{{.Title}}</h1><p>{{.Text}}</p>{{template "foot" .}}{{end}}

{{define "signin"}}{{template "head" .}}<h1>Approver sign-in</h1>
{{if .Problem}}<p class="note">{{.Problem}}</p>{{end}}
{{if .People}}<p>Sign in with your Convirza email and password to see and decide the actions an assistant asked for.</p>
<form method="post" action="/approvals/signin"><input type="hidden" name="next" value="{{.Next}}">
<p><label>Email <input type="email" name="email" autocomplete="username" required autofocus></label></p>
<p><label>Password <input type="password" name="password" autocomplete="current-password" required></label></p>
<p><button type="submit" name="signin">Sign in</button></p></form>{{end}}
{{if or .Tokens (not .People)}}<p>Sign in with the approver token (CONVIRZA_MCP_APPROVER_TOKEN) to see and decide the actions an assistant asked for.</p>
<form method="post" action="/approvals/signin"><input type="hidden" name="next" value="{{.Next}}">
<p><label>Approver token <input type="password" name="token" autocomplete="current-password" required{{if not .People}} autofocus{{end}}></label></p>
<p><button type="submit" name="signin">Sign in</button></p></form>{{end}}{{template "foot" .}}{{end}}

{{define "list"}}{{template "head" .}}<h1>Approvals</h1>
{{if .List}}<table><tr><th>Approval</th><th>Action</th><th>State</th><th>Expires</th></tr>
{{range .List}}<tr><td><a href="/approvals/{{.ID}}">{{.ID}}</a></td><td>{{.Action}}<br><small>{{.Tool}} · asked by {{.Requester}}</small></td>
<td class="state {{.State}}">{{.State}}</td><td>{{when .Expires}}</td></tr>
{{end}}</table>{{else}}<p>No approvals on record.</p>{{end}}{{template "foot" .}}{{end}}

{{define "approval"}}{{template "head" .}}{{with .A}}<h1 id="action">{{.Action}}</h1>
{{if $.Note}}<p class="note" id="note">{{$.Note}}</p>{{end}}
<table>
<tr><th>State</th><td class="state {{.State}}" id="state">{{.State}}</td></tr>
<tr><th>Tool</th><td id="tool">{{.Tool}}</td></tr>
<tr><th>Asked by</th><td>{{.Requester}}</td></tr>
<tr><th>Asked at</th><td>{{when .Requested}}</td></tr>
<tr><th>Expires</th><td>{{when .Expires}} ({{left $.Now .Expires}})</td></tr>
{{if .Approver}}<tr><th>Decided by</th><td id="approver">{{.Approver}}{{if .Channel}} ({{.Channel}}){{end}}, {{when .Decided}}</td></tr>{{end}}
</table>
<h2>Arguments</h2><pre id="arguments">{{pretty .Arguments}}</pre>
{{with pretty .Preview}}<h2>Preview</h2><pre>{{.}}</pre>{{end}}
{{if pending .State}}<p>
<form class="inline" method="post" action="/approvals/{{.ID}}/approve"><input type="hidden" name="csrf" value="{{$.CSRF}}"><button type="submit" id="approve">Approve</button></form>
<form class="inline" method="post" action="/approvals/{{.ID}}/decline"><input type="hidden" name="csrf" value="{{$.CSRF}}"><button type="submit" id="decline">Decline</button></form>
</p>{{else if eq .State "expired"}}<p>This approval has expired: nothing will be executed. The assistant must ask again.</p>{{end}}
{{end}}{{template "foot" .}}{{end}}
`))

// personSignin signs an approver in with their Convirza email and password
// (CONVIRZA_MCP_AUTH=oauth): the approver is then named by their email. A
// ReadOnly Convirza user may sign in (to see, and decline) but never
// approve.
func (p *approvalPages) personSignin(w http.ResponseWriter, r *http.Request, next string) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	id, err := p.people.SignIn(r.Context(), p.clientIP(r), email, r.PostFormValue("password"))
	var limited *oauth.LimitedError
	switch {
	case errors.Is(err, oauth.ErrBadCredentials):
		p.log.Warn("approval pages: a person's sign-in was refused", "remote", remoteHost(r))
		w.Header().Set("WWW-Authenticate", `Bearer realm="convirza-mcp approvals"`)
		p.signinPage(w, r, http.StatusUnauthorized, next, "Wrong email or password.")
		return
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", fmt.Sprint(int(limited.Wait.Seconds())+1))
		p.signinPage(w, r, http.StatusTooManyRequests, next, "Too many sign-ins just now: wait a minute and try again.")
		return
	case err != nil:
		p.log.Warn("approval pages: a person's sign-in failed", "err", err)
		p.message(w, http.StatusServiceUnavailable, "Unavailable", "Convirza or the server's state store cannot be reached just now; try again shortly.")
		return
	}
	if err := p.openSession(w, r, approverSession{Approver: id.Email, UserID: id.UserID, RoleID: id.RoleID}); err != nil {
		p.unavailable(w, err)
		return
	}
	p.log.Info("approver signed in", "approver", id.Email, "user", id.UserID)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// mayApprove says why the approver a may not approve approval id ("" when
// they may): for a person signed in with their Convirza account,
// tools.Plan.MayApprove (they could do the action themselves, and under the
// four-eyes rule did not ask for it). An approver token or the desktop
// page's user is not a person this server can tell apart.
func (p *approvalPages) mayApprove(ctx context.Context, a approver, id string) (string, error) {
	if a.userID == 0 {
		return "", nil
	}
	ap, err := p.approvals.Get(ctx, id)
	if errors.Is(err, policy.ErrNoApproval) {
		return "", nil // Decide answers it
	}
	if err != nil {
		return "", err
	}
	return p.plan.MayApprove(a.userID, a.roleID, ap), nil
}
