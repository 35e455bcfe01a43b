package talkdesk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

const (
	// Scope is the OAuth scope the Record Lists API needs.
	Scope = "record-lists:manage"
	// maxRenewMargin is the longest a token is renewed before its expiry;
	// shorter-lived tokens are renewed when a tenth of their life is left.
	maxRenewMargin = time.Minute
	// renewTimeout bounds one renewal, whoever waits for it.
	renewTimeout = 30 * time.Second
)

// tokenSource obtains access tokens by the client-credentials grant, keeps
// the current one until shortly before it expires, and makes concurrent
// callers share one renewal; with a store, the token is kept there
// (sealed) and every process using the store shares it and renews it once.
type tokenSource struct {
	http     *upstream.Client
	tokenURL string
	clientID string
	secret   string
	log      *slog.Logger
	now      func() time.Time
	// shared keeps the token in the store; nil: in memory only.
	shared *upstream.Shared

	renewal upstream.Renewal

	mu       sync.Mutex
	access   string
	renewAt  time.Time // zero: no known expiry, trusted until a 401
	rejected string    // the last token the API refused
	grants   int
}

// record is what the store keeps (sealed).
type record struct {
	Access  string    `json:"access"`
	RenewAt time.Time `json:"renew_at,omitzero"`
}

// lockMargin is added to the upstream timeout for the renewal lock.
const lockMargin = 2 * time.Second

// storePrefix begins the keys of the tokens the client keeps in the store.
const storePrefix = "upstream/talkdesk/"

// SealedRecords are the records this package seals: the access token of
// each client id.
var SealedRecords = store.SealedRecords{Prefix: storePrefix}

func newTokenSource(cfg Config, tokenURL string, hc *upstream.Client, log *slog.Logger) *tokenSource {
	hold := hc.Policy().Timeout + lockMargin
	t := &tokenSource{
		http: hc, tokenURL: tokenURL, clientID: cfg.ClientID, secret: cfg.ClientSecret,
		log: log, now: time.Now, renewal: upstream.Renewal{Timeout: max(renewTimeout, 2*hold+lockMargin)},
	}
	if cfg.Store != nil && cfg.Sealer != nil && cfg.ClientID != "" {
		sum := sha256.Sum256([]byte("talkdesk\x00" + tokenURL + "\x00" + cfg.ClientID + "\x00"))
		t.shared = &upstream.Shared{
			Store: cfg.Store, Sealer: cfg.Sealer,
			Key:  storePrefix + hex.EncodeToString(sum[:]),
			Hold: hold, What: "Talkdesk", Log: log,
		}
	}
	return t
}

// Invalidate forgets tok if it is still the current token, so the next
// Token renews; callers that saw a 401 with an older token cause no second
// renewal. A client-credentials token can always be renewed.
func (t *tokenSource) Invalidate(tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access == tok {
		t.access = ""
	}
	t.rejected = tok
	return true
}

// Token returns a usable access token, obtaining a new one (one renewal
// shared by concurrent callers, and with a store by every process using
// it) when it is missing or about to expire.
func (t *tokenSource) Token(ctx context.Context) (string, error) {
	return t.renewal.Token(ctx, "Talkdesk", t.current, t.obtain)
}

func (t *tokenSource) current() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.access, t.usableLocked(t.access, t.renewAt)
}

func (t *tokenSource) usableLocked(access string, renewAt time.Time) bool {
	return access != "" && access != t.rejected && (renewAt.IsZero() || t.now().Before(renewAt))
}

func decodeRecord(raw []byte) *record {
	var r record
	if raw == nil || json.Unmarshal(raw, &r) != nil || r.Access == "" {
		return nil
	}
	return &r
}

// fresh reports whether a stored record holds a usable token.
func (t *tokenSource) fresh(raw []byte) bool {
	r := decodeRecord(raw)
	if r == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.usableLocked(r.Access, r.RenewAt)
}

// obtain finds a usable token: the store's (another process got it, or an
// earlier run did), else a new one.
func (t *tokenSource) obtain(ctx context.Context) (string, error) {
	raw, err := t.shared.Load(ctx)
	if err != nil {
		t.shared.Degraded(ctx, err)
	}
	if !t.fresh(raw) {
		if raw, err = t.shared.Renew(ctx, t.fresh, t.grant); err != nil {
			return "", err
		}
	}
	r := decodeRecord(raw)
	if r == nil {
		return "", errors.New("talkdesk: renewal produced no token") // unreachable: grant returns a record
	}
	t.mu.Lock()
	t.access, t.renewAt = r.Access, r.RenewAt
	t.mu.Unlock()
	return r.Access, nil
}

// forget deletes the stored token (Talkdesk documents no revocation: it
// expires by itself). It reports whether one was stored.
func (t *tokenSource) forget(ctx context.Context) (stored bool, err error) {
	err = t.shared.Locked(ctx, func(ctx context.Context, raw []byte) error {
		stored = raw != nil
		return t.shared.Forget(ctx)
	})
	t.mu.Lock()
	t.access, t.renewAt = "", time.Time{}
	t.mu.Unlock()
	return stored, err
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	Scope       string          `json:"scope"`
}

// oauthError is the token endpoint's error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// grant asks the token endpoint for a new access token:
// POST grant_type=client_credentials&scope=record-lists:manage with HTTP
// Basic client authentication. It is a POST, so it is never retried. It
// returns the record to keep and for how long.
func (t *tokenSource) grant(ctx context.Context, _ []byte) ([]byte, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {Scope}}
	// As Talkdesk documents it: base64(client_id:client_secret), the two as
	// they are. (RFC 6749 2.3.1 form-encodes them first; a provider that
	// does not decode would refuse a secret with +, / or =.)
	basic := base64.StdEncoding.EncodeToString([]byte(t.clientID + ":" + t.secret))
	start := t.now()
	resp, err := t.http.Do(ctx, upstream.Request{
		Method: http.MethodPost,
		URL:    t.tokenURL,
		Header: http.Header{
			"Content-Type":  {"application/x-www-form-urlencoded"},
			"Accept":        {"application/json"},
			"Authorization": {"Basic " + basic},
		},
		Body: []byte(form.Encode()),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("getting a Talkdesk token: %w", err)
	}
	body := bytes.TrimSpace(resp.Body)
	if resp.Status < 200 || resp.Status > 299 {
		return nil, 0, authError(resp.Status, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, 0, malformed(http.MethodPost, "/oauth/token", resp.Status, err)
	}
	if tr.AccessToken == "" {
		return nil, 0, malformed(http.MethodPost, "/oauth/token", resp.Status, errors.New("no access_token in the answer"))
	}
	r := record{Access: tr.AccessToken}
	var keep time.Duration
	if life := seconds(tr.ExpiresIn); life > 0 {
		margin := min(life/10, maxRenewMargin)
		r.RenewAt = start.Add(life - margin)
		keep = max(start.Add(life).Sub(t.now()), time.Second)
	}
	t.mu.Lock()
	t.grants++
	t.mu.Unlock()
	t.log.DebugContext(ctx, "talkdesk token obtained", "expires_in", string(tr.ExpiresIn))
	out, err := json.Marshal(r)
	if err != nil {
		return nil, 0, fmt.Errorf("talkdesk: encoding the token: %w", err)
	}
	return out, keep, nil
}

// authError decodes a failed token answer: the OAuth form
// {error, error_description}, or the API's own error body.
func authError(status int, body []byte) error {
	e := &AuthError{Status: status}
	var oe oauthError
	if json.Unmarshal(body, &oe) == nil && oe.Error != "" {
		e.Code, e.Description = oe.Error, oe.Description
		return e
	}
	var ae errorBody
	if json.Unmarshal(body, &ae) == nil && (ae.Message != "" || len(ae.Code) > 0) {
		e.Code, e.Description = rawString(ae.Code), joinNonEmpty(": ", ae.Message, ae.Description)
		return e
	}
	e.Description = snippet(body)
	return e
}

// seconds reads expires_in, a number of seconds (or a string of one).
func seconds(raw json.RawMessage) time.Duration {
	var n float64
	if json.Unmarshal(raw, &n) == nil && n > 0 {
		return time.Duration(n * float64(time.Second))
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if json.Unmarshal([]byte(s), &n) == nil && n > 0 {
			return time.Duration(n * float64(time.Second))
		}
	}
	return 0
}
