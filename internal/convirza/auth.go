package convirza

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

const (
	// renewBefore is how long before its expiry an access token is renewed.
	renewBefore = 5 * time.Minute
	// loginLimit and loginWindow mirror the upstream limit on /oauth/token
	// (10 per minute per IP): the client never asks more often.
	loginLimit  = 10
	loginWindow = time.Minute
	// renewTimeout bounds one renewal, whoever waits for it.
	renewTimeout = 30 * time.Second
)

// ErrNoCredentials means no way to authenticate was configured.
var ErrNoCredentials = errors.New("no Convirza credentials: set CONVIRZA_EMAIL and CONVIRZA_PASSWORD, or CONVIRZA_ACCESS_TOKEN (and CONVIRZA_REFRESH_TOKEN), or run with --sandbox")

// tokenSource holds the current tokens and renews them: by refresh token
// when it has one (rotation: each refresh token is used once), by login
// otherwise. Concurrent callers share one renewal; with a store, the
// tokens it obtains are kept there (sealed), so they survive restarts and
// every process using the store shares them and renews them once.
type tokenSource struct {
	http     *upstream.Client
	oauth    string
	email    string
	password string
	log      *slog.Logger
	now      func() time.Time

	// given is CONVIRZA_ACCESS_TOKEN: the operator's, never stored nor
	// revoked. seed is the digest of the tokens given in the environment
	// ("" when none): a stored record made from other given tokens is
	// stale (the operator supplied new ones), one made from the same is
	// their descendant and newer.
	given, givenRefresh string
	seed                string
	// shared keeps the tokens in the store; nil: in memory only (no store,
	// or nothing that can be renewed).
	shared *upstream.Shared
	// loginKey prefixes the store's per-minute login counters.
	loginKey string

	renewal upstream.Renewal

	mu         sync.Mutex
	loaded     bool // the store was read once
	access     string
	renewAt    time.Time // zero: unknown, trusted until a 401
	accessExp  time.Time
	refresh    string
	refreshExp time.Time
	rejected   string // the last access token the upstream refused
	logins     []time.Time
	// user is the user block of the last login or refresh answer: who the
	// tokens belong to (nil until one carried it).
	user *ProfileUser
}

// record is what the store keeps for one identity (sealed).
type record struct {
	Access     string       `json:"access"`
	AccessExp  time.Time    `json:"access_exp,omitzero"`
	RenewAt    time.Time    `json:"renew_at,omitzero"`
	Refresh    string       `json:"refresh,omitempty"`
	RefreshExp time.Time    `json:"refresh_exp,omitzero"`
	Seed       string       `json:"seed,omitempty"`
	User       *ProfileUser `json:"user,omitempty"`
}

func newTokenSource(cfg Config, hc *upstream.Client, log *slog.Logger) *tokenSource {
	t := &tokenSource{
		http:         hc,
		oauth:        strings.TrimRight(cfg.OAuthURL, "/"),
		email:        cfg.Email,
		password:     cfg.Password,
		given:        cfg.AccessToken,
		givenRefresh: cfg.RefreshToken,
		access:       cfg.AccessToken,
		refresh:      cfg.RefreshToken,
		log:          log,
		now:          time.Now,
	}
	if cfg.AccessToken != "" || cfg.RefreshToken != "" {
		t.seed = digest("convirza-seed", cfg.AccessToken, cfg.RefreshToken)
	}
	// The lock is held for one request to /oauth (POSTs are sent once),
	// plus a margin; a waiter may wait for one holder, then renew itself.
	hold := hc.Policy().Timeout + lockMargin
	t.renewal = upstream.Renewal{Timeout: max(renewTimeout, 2*hold+lockMargin)}
	t.loginKey = loginKey(t.oauth)
	var who string
	switch {
	case cfg.Email != "":
		who = "email:" + strings.ToLower(strings.TrimSpace(cfg.Email))
	case cfg.RefreshToken != "":
		who = "refresh:" + digest("convirza-refresh", cfg.RefreshToken)
	}
	if cfg.Store != nil && cfg.Sealer != nil && who != "" {
		t.shared = &upstream.Shared{
			Store: cfg.Store, Sealer: cfg.Sealer,
			Key:  storePrefix + digest("convirza", strings.TrimRight(cfg.APIURL, "/"), t.oauth, who),
			Hold: hold, What: "Convirza", Log: log,
		}
	}
	return t
}

// lockMargin is added to the upstream timeout for the renewal lock.
const lockMargin = 2 * time.Second

// storePrefix begins the keys of the tokens the client keeps in the store.
const storePrefix = "upstream/convirza/"

// SealedRecords are the records this package seals: the service
// account's tokens (one record per account and upstream).
var SealedRecords = store.SealedRecords{Prefix: storePrefix}

// digest is the hex SHA-256 of its parts, each ended by a NUL.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (t *tokenSource) configured() error {
	if t.given == "" && t.givenRefresh == "" && !t.canLogin() {
		return ErrNoCredentials
	}
	return nil
}

func (t *tokenSource) canLogin() bool { return t.email != "" && t.password != "" }

// Invalidate forgets tok if it is still the current access token, so the
// next Token renews (callers that saw a 401 with an older token cause no
// second renewal), and reports whether a renewal is possible at all.
func (t *tokenSource) Invalidate(tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access == tok {
		t.access = ""
	}
	t.rejected = tok
	return t.refresh != "" || t.givenRefresh != "" || t.canLogin()
}

// Token returns a usable access token, renewing it (one renewal shared by
// concurrent callers, and with a store by every process using it) when it
// is missing or about to expire.
func (t *tokenSource) Token(ctx context.Context) (string, error) {
	return t.renewal.Token(ctx, "Convirza", t.current, t.obtain)
}

// current is the token in memory, when usable; never before the store was
// read once (it may hold newer tokens than the environment's).
func (t *tokenSource) current() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.access, t.loaded && t.usableLocked(t.access, t.renewAt)
}

func (t *tokenSource) usableLocked(access string, renewAt time.Time) bool {
	return access != "" && access != t.rejected && (renewAt.IsZero() || t.now().Before(renewAt))
}

// decode opens a stored record for this configuration: nil when there is
// none, it is not one, or it was made from tokens the environment no
// longer gives (the operator supplied new ones).
func (t *tokenSource) decode(raw []byte) *record {
	if raw == nil {
		return nil
	}
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil
	}
	if t.seed != "" && r.Seed != t.seed {
		return nil
	}
	return &r
}

// fresh reports whether a stored record holds a usable access token.
func (t *tokenSource) fresh(raw []byte) bool {
	r := t.decode(raw)
	if r == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.usableLocked(r.Access, r.RenewAt)
}

// adopt makes a record the tokens in memory.
func (t *tokenSource) adopt(r *record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.access, t.accessExp, t.renewAt = r.Access, r.AccessExp, r.RenewAt
	t.refresh, t.refreshExp = r.Refresh, r.RefreshExp
	if r.User != nil {
		t.user = r.User
	}
}

// obtain finds a usable token: the store's (another process renewed, or an
// earlier run did), the environment's on first use, else a renewal.
func (t *tokenSource) obtain(ctx context.Context) (string, error) {
	raw, err := t.shared.Load(ctx)
	if err != nil {
		t.shared.Degraded(ctx, err)
	}
	if r := t.decode(raw); r != nil {
		t.adopt(r) // newer than the environment's, and its refresh token is the live one
	}
	t.mu.Lock()
	t.loaded = true
	tok, ok := t.access, t.usableLocked(t.access, t.renewAt)
	t.mu.Unlock()
	if ok {
		return tok, nil
	}
	raw, err = t.shared.Renew(ctx, t.fresh, t.renew)
	if err != nil {
		return "", err
	}
	r := t.decode(raw)
	if r == nil {
		return "", errors.New("convirza: renewal produced no token") // unreachable: renew writes this configuration's record
	}
	t.adopt(r)
	return r.Access, nil
}

// renew gets new tokens (under the store's lock, when there is one): by
// the refresh token, the stored one (the live one: rotation killed every
// earlier) or else the one in memory; by login when there is none or it
// was refused. It returns the new record and how long to keep it.
func (t *tokenSource) renew(ctx context.Context, raw []byte) ([]byte, time.Duration, error) {
	t.mu.Lock()
	refresh, refreshExp := t.refresh, t.refreshExp
	t.mu.Unlock()
	if r := t.decode(raw); r != nil {
		refresh, refreshExp = r.Refresh, r.RefreshExp
	}
	var tr *tokenResponse
	refreshed := false
	if refresh != "" && (refreshExp.IsZero() || t.now().Before(refreshExp)) {
		got, err := t.post(ctx, "/oauth/refresh-token", map[string]string{"refresh_token": refresh})
		switch {
		case err == nil:
			tr, refreshed = got, true
			t.log.DebugContext(ctx, "convirza token refreshed")
		default:
			var ae *upstream.APIError
			if !errors.As(err, &ae) || !t.canLogin() {
				return nil, 0, fmt.Errorf("refreshing the Convirza token: %w", err)
			}
			// The refresh token was refused (expired, revoked or already
			// rotated): it is dead, whatever happens next.
			t.mu.Lock()
			if t.refresh == refresh {
				t.refresh = ""
			}
			t.mu.Unlock()
			t.log.WarnContext(ctx, "convirza refresh token refused; logging in again", "status", ae.Status)
		}
	}
	if tr == nil {
		if !t.canLogin() {
			if t.givenRefresh != "" {
				return nil, 0, errors.New("the Convirza refresh token is used up or expired, and there is no other way to sign in: set CONVIRZA_REFRESH_TOKEN to a new one, or CONVIRZA_EMAIL and CONVIRZA_PASSWORD")
			}
			return nil, 0, ErrNoCredentials
		}
		if err := t.allowLogin(ctx); err != nil {
			return nil, 0, err
		}
		got, err := t.post(ctx, "/oauth/token", map[string]string{"email": t.email, "password": t.password})
		if err != nil {
			return nil, 0, fmt.Errorf("logging in to Convirza: %w", err)
		}
		tr = got
		t.log.DebugContext(ctx, "convirza login")
	}
	now := t.now()
	r := record{Access: tr.AccessToken, AccessExp: tr.accessExp, Refresh: tr.RefreshToken, RefreshExp: tr.refreshExp, Seed: t.seed, User: tr.User}
	if !tr.accessExp.IsZero() {
		// Renewed before it expires: 5 minutes before, or when a tenth of
		// its life is left if it lives less than 50 minutes.
		r.RenewAt = tr.accessExp.Add(-min(renewBefore, tr.accessExp.Sub(now)/10))
	}
	if r.User == nil || r.User.UserID == 0 {
		r.User = t.identity()
	}
	if r.Refresh == "" && refreshed {
		// An answer without a new refresh token: the one used still lives.
		r.Refresh, r.RefreshExp = refresh, refreshExp
	}
	out, err := json.Marshal(r)
	if err != nil {
		return nil, 0, fmt.Errorf("convirza: encoding tokens: %w", err)
	}
	return out, keepFor(now, r), nil
}

// keepFor is how long the store keeps a record: until its last token
// expires; 0 (no expiry) when that is unknown.
func keepFor(now time.Time, r record) time.Duration {
	last := r.AccessExp
	if r.Refresh != "" {
		if r.RefreshExp.IsZero() {
			return 0
		}
		last = later(last, r.RefreshExp)
	}
	if last.IsZero() {
		return 0
	}
	return max(last.Sub(now), time.Second)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// allowLogin keeps logins under the upstream's limit of 10 a minute per
// IP (LoginAdmitted). Without a store (or when it cannot be reached) this
// process counts alone.
func (t *tokenSource) allowLogin(ctx context.Context) error {
	if t.shared == nil {
		return t.allowLoginHere()
	}
	wait, err := admitLogin(ctx, t.shared.Store, t.loginKey, t.now())
	if err != nil {
		t.shared.Degraded(ctx, err)
		return t.allowLoginHere()
	}
	if wait > 0 {
		return loginRefused(wait)
	}
	return nil
}

// loginKey prefixes the store's per-minute counters of logins to the
// Convirza OAuth service at oauthURL.
func loginKey(oauthURL string) string {
	// As the token source names it: one service, one count, however the
	// URL is spelled at its end.
	return "ratelimit/convirza-login/" + digest("convirza-oauth", strings.TrimRight(oauthURL, "/"))[:16] + "/"
}

// LoginAdmitted counts one login to the Convirza OAuth service at oauthURL
// (POST /oauth/token, which Convirza allows 10 times a minute per IP)
// against the count every process sharing st keeps: the service account's
// logins and, under CONVIRZA_MCP_AUTH=oauth, people's sign-ins, which all
// leave from the deployment's address. It returns 0 when the login may go
// ahead, else how many seconds until one may (the login is then not
// counted); an error when the store cannot be reached.
func LoginAdmitted(ctx context.Context, st store.Store, oauthURL string, now time.Time) (int64, error) {
	return admitLogin(ctx, st, loginKey(oauthURL), now)
}

// admitLogin is LoginAdmitted under the counters' prefix key: a counter
// per clock minute, and a login only while this minute's and the last
// minute's together stay within the limit, so no 60 seconds hold more.
func admitLogin(ctx context.Context, st store.Store, key string, now time.Time) (int64, error) {
	minute := now.Unix() / 60
	at := func(m int64) string { return key + strconv.FormatInt(m, 10) }
	cur, err := st.Add(ctx, at(minute), 1, 2*loginWindow)
	if err != nil {
		return 0, err
	}
	var prev int64
	if b, err := st.Get(ctx, at(minute-1)); err == nil {
		prev, _ = strconv.ParseInt(string(b), 10, 64)
	} else if !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	if prev+cur <= loginLimit {
		return 0, nil
	}
	_, _ = st.Add(ctx, at(minute), -1, 2*loginWindow) // this one did not happen
	wait := 60 - now.Unix()%60
	if cur-1 >= loginLimit {
		wait += 60 // the next minute counts this one's logins
	}
	return wait, nil
}

func loginRefused(wait int64) error {
	return fmt.Errorf("not logging in to Convirza: the upstream allows %d logins a minute (counted across every process sharing the state store); retry in %d s", loginLimit, wait)
}

// allowLoginHere is allowLogin for this process alone.
func (t *tokenSource) allowLoginHere() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	kept := t.logins[:0]
	for _, at := range t.logins {
		if now.Sub(at) < loginWindow {
			kept = append(kept, at)
		}
	}
	t.logins = kept
	if len(t.logins) >= loginLimit {
		wait := loginWindow - now.Sub(t.logins[0])
		return loginRefused(int64(wait.Seconds()) + 1)
	}
	t.logins = append(t.logins, now)
	return nil
}

// identity returns a copy of the user block of the last login or refresh
// answer, or nil when none carried one (tokens given from elsewhere).
func (t *tokenSource) identity() *ProfileUser {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.user == nil {
		return nil
	}
	u := *t.user
	return &u
}

// LogoutResult says what Logout did.
type LogoutResult struct {
	// Stored: tokens were in the store for this configuration.
	Stored bool
	// Revoked names the tokens revoked: "access", "refresh".
	Revoked []string
	// Kept names the stored tokens not revoked because the environment
	// gave them (CONVIRZA_ACCESS_TOKEN, CONVIRZA_REFRESH_TOKEN).
	Kept []string
	// NoStore: this client keeps its tokens in memory only.
	NoStore bool
}

// logout revokes the tokens the store holds for this configuration
// (POST /oauth/revoke-token, each by its type) and deletes the record,
// under the renewal lock so no renewal writes a new one meanwhile. Tokens
// the environment gave are never revoked. A revocation that fails keeps
// the record (run it again).
func (t *tokenSource) logout(ctx context.Context) (LogoutResult, error) {
	var res LogoutResult
	if t.shared == nil {
		res.NoStore = true
		return res, nil
	}
	err := t.shared.Locked(ctx, func(ctx context.Context, raw []byte) error {
		var r record
		if raw == nil || json.Unmarshal(raw, &r) != nil {
			return t.shared.Forget(ctx) // nothing usable: nothing to revoke
		}
		res.Stored = true
		for _, tok := range []struct{ kind, value string }{{"access", r.Access}, {"refresh", r.Refresh}} {
			switch {
			case tok.value == "":
			case tok.value == t.given || tok.value == t.givenRefresh:
				res.Kept = append(res.Kept, tok.kind)
			default:
				if err := t.revoke(ctx, tok.value, tok.kind); err != nil {
					return fmt.Errorf("revoking the stored Convirza %s token (kept; run logout again): %w", tok.kind, err)
				}
				res.Revoked = append(res.Revoked, tok.kind)
			}
		}
		return t.shared.Forget(ctx)
	})
	if err != nil {
		return res, err
	}
	t.mu.Lock()
	if t.access != t.given {
		t.access, t.renewAt = "", time.Time{}
	}
	t.refresh = ""
	t.mu.Unlock()
	return res, nil
}

// revoke asks the OAuth service to revoke one token: no Bearer header, a
// JSON body with the token and its type. Revocation is idempotent.
func (t *tokenSource) revoke(ctx context.Context, tok, kind string) error {
	_, err := t.postOAuth(ctx, "/oauth/revoke-token", map[string]string{"token": tok, "token_type": kind})
	return err
}

// postOAuth posts body as JSON to the OAuth service's path and returns the
// answer's body; an answer that is not 2xx, or whose envelope reports a
// failure, is an *upstream.APIError.
func (t *tokenSource) postOAuth(ctx context.Context, path string, body any) ([]byte, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	resp, err := t.http.Do(ctx, upstream.Request{
		Method: http.MethodPost,
		URL:    t.oauth + path,
		Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}},
		Body:   payload,
	})
	if err != nil {
		return nil, err
	}
	var env envelope
	_ = json.Unmarshal(bytes.TrimSpace(resp.Body), &env)
	if resp.Status < 200 || resp.Status > 299 {
		msg := env.Message
		if msg == "" {
			msg = snippet(resp.Body)
		}
		return nil, &upstream.APIError{Upstream: upstreamName, Method: http.MethodPost, Path: path, Status: resp.Status, Message: msg, RequestID: env.RequestID}
	}
	if code, failed := env.failure(); failed {
		return nil, &upstream.APIError{Upstream: upstreamName, Method: http.MethodPost, Path: path, Status: resp.Status, Code: code, Message: env.Message, RequestID: env.RequestID}
	}
	return resp.Body, nil
}

// tokenResponse is the login and refresh answer, raw or in the envelope.
type tokenResponse struct {
	AccessToken      string          `json:"access_token"`
	RefreshToken     string          `json:"refresh_token"`
	TokenType        string          `json:"token_type"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	RefreshExpiresIn json.RawMessage `json:"refresh_expires_in"`
	User             *ProfileUser    `json:"user"`

	accessExp, refreshExp time.Time
}

func (t *tokenSource) post(ctx context.Context, path string, body any) (*tokenResponse, error) {
	answer, err := t.postOAuth(ctx, path, body)
	if err != nil {
		return nil, err
	}
	return parseTokenResponse(answer, t.now())
}

// parseTokenResponse accepts both documented shapes: the token fields at the
// top level, or inside the envelope's data.
func parseTokenResponse(body []byte, now time.Time) (*tokenResponse, error) {
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, malformed(http.MethodPost, "/oauth", 0, "", err)
	}
	if tr.AccessToken == "" {
		var env envelope
		if err := json.Unmarshal(body, &env); err == nil && len(env.Data) > 0 {
			_ = json.Unmarshal(env.Data, &tr)
		}
	}
	if tr.AccessToken == "" {
		return nil, malformed(http.MethodPost, "/oauth", 0, "", errors.New("no access_token in the answer"))
	}
	tr.accessExp = expiry(tr.ExpiresIn, now)
	tr.refreshExp = expiry(tr.RefreshExpiresIn, now)
	return &tr, nil
}

// expiry reads an expiry given as an absolute ISO-8601 time (documented) or
// as seconds from now (the usual OAuth form). Unknown: zero.
func expiry(raw json.RawMessage, now time.Time) time.Time {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return now.Add(time.Duration(n) * time.Second)
		}
		return time.Time{}
	}
	var n int64
	if json.Unmarshal(raw, &n) == nil && n > 0 {
		return now.Add(time.Duration(n) * time.Second)
	}
	return time.Time{}
}
