package convirza

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

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
// otherwise. Concurrent callers share one renewal.
type tokenSource struct {
	http     *upstream.Client
	oauth    string
	email    string
	password string
	log      *slog.Logger
	now      func() time.Time

	renewal upstream.Renewal

	mu         sync.Mutex
	access     string
	accessExp  time.Time // zero: unknown, trusted until a 401
	refresh    string
	refreshExp time.Time
	logins     []time.Time
	// user is the user block of the last login or refresh answer: who the
	// tokens belong to (nil until one carried it).
	user *ProfileUser
}

func newTokenSource(cfg Config, hc *upstream.Client, log *slog.Logger) *tokenSource {
	return &tokenSource{
		http:     hc,
		oauth:    strings.TrimRight(cfg.OAuthURL, "/"),
		email:    cfg.Email,
		password: cfg.Password,
		access:   cfg.AccessToken,
		refresh:  cfg.RefreshToken,
		log:      log,
		now:      time.Now,
		renewal:  upstream.Renewal{Timeout: renewTimeout},
	}
}

func (t *tokenSource) configured() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access == "" && t.refresh == "" && (t.email == "" || t.password == "") {
		return ErrNoCredentials
	}
	return nil
}

// Invalidate forgets tok if it is still the current access token, so the
// next Token renews (callers that saw a 401 with an older token cause no
// second renewal), and reports whether a renewal is possible at all.
func (t *tokenSource) Invalidate(tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access == tok {
		t.access = ""
	}
	return t.refresh != "" || (t.email != "" && t.password != "")
}

// Token returns a usable access token, renewing it (one renewal shared by
// concurrent callers) when it is missing or about to expire.
func (t *tokenSource) Token(ctx context.Context) (string, error) {
	return t.renewal.Token(ctx, "Convirza", t.current, t.obtain)
}

func (t *tokenSource) current() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	usable := t.access != "" && (t.accessExp.IsZero() || t.now().Add(renewBefore).Before(t.accessExp))
	return t.access, usable
}

func (t *tokenSource) obtain(ctx context.Context) (string, error) {
	t.mu.Lock()
	refresh, refreshExp := t.refresh, t.refreshExp
	canLogin := t.email != "" && t.password != ""
	t.mu.Unlock()

	if refresh != "" && (refreshExp.IsZero() || t.now().Before(refreshExp)) {
		tr, err := t.post(ctx, "/oauth/refresh-token", map[string]string{"refresh_token": refresh})
		if err == nil {
			t.store(tr)
			t.log.DebugContext(ctx, "convirza token refreshed")
			return tr.AccessToken, nil
		}
		var ae *upstream.APIError
		if !errors.As(err, &ae) || !canLogin {
			return "", fmt.Errorf("refreshing the Convirza token: %w", err)
		}
		// The refresh token was refused (expired or already rotated): it is
		// dead, whatever happens next.
		t.mu.Lock()
		if t.refresh == refresh {
			t.refresh = ""
		}
		t.mu.Unlock()
		t.log.WarnContext(ctx, "convirza refresh token refused; logging in again", "status", ae.Status)
	}
	if !canLogin {
		return "", ErrNoCredentials
	}
	if err := t.allowLogin(); err != nil {
		return "", err
	}
	tr, err := t.post(ctx, "/oauth/token", map[string]string{"email": t.email, "password": t.password})
	if err != nil {
		return "", fmt.Errorf("logging in to Convirza: %w", err)
	}
	t.store(tr)
	t.log.DebugContext(ctx, "convirza login")
	return tr.AccessToken, nil
}

// allowLogin keeps logins under the upstream's per-minute limit.
func (t *tokenSource) allowLogin() error {
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
		return fmt.Errorf("not logging in to Convirza again: %d logins in the last minute is the upstream's limit; try again in %ds", loginLimit, int(wait.Seconds())+1)
	}
	t.logins = append(t.logins, now)
	return nil
}

func (t *tokenSource) store(tr *tokenResponse) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.access, t.accessExp = tr.AccessToken, tr.accessExp
	if tr.RefreshToken != "" {
		t.refresh, t.refreshExp = tr.RefreshToken, tr.refreshExp
	}
	if tr.User != nil && tr.User.UserID != 0 {
		t.user = tr.User
	}
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
	return parseTokenResponse(resp.Body, t.now())
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
