package policy

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Token errors. Each means nothing was executed.
var (
	ErrTokenInvalid  = errors.New("confirmation_token is not one this server issued (malformed or forged)")
	ErrTokenExpired  = errors.New("confirmation_token has expired")
	ErrTokenUsed     = errors.New("confirmation_token was already used")
	ErrTokenMismatch = errors.New("confirmation_token was issued for a different call")
)

// Purpose separates tokens handed to the assistant from the state echoed
// back by an elicitation, so one can never stand in for the other.
type Purpose string

const (
	PurposeToken   Purpose = "token"
	PurposeElicit  Purpose = "elicit"
	defaultTTL             = 5 * time.Minute
	maxTokenLength         = 1024
)

// Binding is what a token is bound to.
type Binding struct {
	Tool      string
	Args      []byte // canonical JSON of the arguments, confirmation_token excluded
	Principal string // who asked: the authenticated client and/or session
}

type claims struct {
	Purpose Purpose `json:"p"`
	Tool    string  `json:"t"`
	Args    string  `json:"a"` // base64 SHA-256 of the canonical arguments
	Who     string  `json:"w"` // base64 SHA-256 of the principal
	Nonce   string  `json:"n"`
	Expires int64   `json:"e"` // Unix seconds
}

// Tokens issues and redeems single-use, expiring, HMAC-signed confirmation
// tokens. Replicas sharing a key verify each other's tokens; single use is
// enforced per process.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	used map[string]time.Time // nonce -> expiry, pruned as they lapse
}

// NewTokens returns a token issuer. A nil or short key is replaced by 32
// random bytes (tokens then die with the process).
func NewTokens(key []byte, ttl time.Duration) (*Tokens, error) {
	if len(key) < 32 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("confirmation key: %w", err)
		}
	}
	if ttl <= 0 {
		ttl = defaultTTL
	}
	return &Tokens{key: key, ttl: ttl, now: time.Now, used: map[string]time.Time{}}, nil
}

// TTL is how long a token lives.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue returns a token for b and its expiry.
func (t *Tokens) Issue(p Purpose, b Binding) (string, time.Time) {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails on supported platforms
	exp := t.now().Add(t.ttl).Truncate(time.Second)
	c := claims{Purpose: p, Tool: b.Tool, Args: digest(b.Args), Who: digest([]byte(b.Principal)),
		Nonce: base64.RawURLEncoding.EncodeToString(nonce), Expires: exp.Unix()}
	payload, _ := json.Marshal(c)
	body := base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + t.sign(body), exp
}

// Redeem verifies tok against b and marks it used. Any error means the
// caller must not execute.
func (t *Tokens) Redeem(p Purpose, tok string, b Binding) error {
	c, err := t.verify(tok)
	if err != nil {
		return err
	}
	if c.Purpose != p {
		return ErrTokenInvalid
	}
	if t.now().Unix() > c.Expires {
		return ErrTokenExpired
	}
	if c.Tool != b.Tool {
		return fmt.Errorf("%w: it was issued for %s, not %s", ErrTokenMismatch, c.Tool, b.Tool)
	}
	if c.Args != digest(b.Args) {
		return fmt.Errorf("%w: the arguments differ from the ones confirmed; call again with exactly the same arguments", ErrTokenMismatch)
	}
	if c.Who != digest([]byte(b.Principal)) {
		return fmt.Errorf("%w: it was issued to another client or session", ErrTokenMismatch)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for n, exp := range t.used {
		if now.Unix() > exp.Unix()+1 {
			delete(t.used, n)
		}
	}
	if _, seen := t.used[c.Nonce]; seen {
		return ErrTokenUsed
	}
	t.used[c.Nonce] = time.Unix(c.Expires, 0)
	return nil
}

func (t *Tokens) verify(tok string) (*claims, error) {
	if len(tok) == 0 || len(tok) > maxTokenLength {
		return nil, ErrTokenInvalid
	}
	body, sig, ok := strings.Cut(tok, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(t.sign(body))) {
		return nil, ErrTokenInvalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, ErrTokenInvalid
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil || c.Nonce == "" {
		return nil, ErrTokenInvalid
	}
	return &c, nil
}

func (t *Tokens) sign(body string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
