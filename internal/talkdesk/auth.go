package talkdesk

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

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
// callers share one renewal.
type tokenSource struct {
	http     *upstream.Client
	tokenURL string
	clientID string
	secret   string
	log      *slog.Logger
	now      func() time.Time

	renewal upstream.Renewal

	mu      sync.Mutex
	access  string
	renewAt time.Time // zero: no known expiry, trusted until a 401
	grants  int
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
	return true
}

// Token returns a usable access token, obtaining a new one (one renewal
// shared by concurrent callers) when it is missing or about to expire.
func (t *tokenSource) Token(ctx context.Context) (string, error) {
	return t.renewal.Token(ctx, "Talkdesk", t.current, t.obtain)
}

func (t *tokenSource) current() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.access, t.access != "" && (t.renewAt.IsZero() || t.now().Before(t.renewAt))
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

// obtain asks the token endpoint for a new access token:
// POST grant_type=client_credentials&scope=record-lists:manage with HTTP
// Basic client authentication. It is a POST, so it is never retried.
func (t *tokenSource) obtain(ctx context.Context) (string, error) {
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
		return "", fmt.Errorf("getting a Talkdesk token: %w", err)
	}
	body := bytes.TrimSpace(resp.Body)
	if resp.Status < 200 || resp.Status > 299 {
		return "", authError(resp.Status, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", malformed(http.MethodPost, "/oauth/token", resp.Status, err)
	}
	if tr.AccessToken == "" {
		return "", malformed(http.MethodPost, "/oauth/token", resp.Status, errors.New("no access_token in the answer"))
	}
	var renewAt time.Time
	if life := seconds(tr.ExpiresIn); life > 0 {
		margin := min(life/10, maxRenewMargin)
		renewAt = start.Add(life - margin)
	}
	t.mu.Lock()
	t.access, t.renewAt = tr.AccessToken, renewAt
	t.grants++
	t.mu.Unlock()
	t.log.DebugContext(ctx, "talkdesk token obtained", "expires_in", string(tr.ExpiresIn))
	return tr.AccessToken, nil
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
