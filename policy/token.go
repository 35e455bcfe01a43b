package policy

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
)

// Token errors. Each means nothing was executed.
var (
	ErrTokenInvalid  = errors.New("confirmation_token is not one this server issued (malformed or forged)")
	ErrTokenExpired  = errors.New("confirmation_token has expired")
	ErrTokenUsed     = errors.New("confirmation_token was already used")
	ErrTokenMismatch = errors.New("confirmation_token was issued for a different call")
	// ErrTokenPolicy: the token was issued under another policy or version
	// (Tokens.Policy), at a replica the operator has since rolled forward
	// from, or one of a newer generation.
	ErrTokenPolicy = errors.New("confirmation_token was issued under another policy or version of this server")
	// ErrTokenUnknown: the token verifies but is not on record: the record
	// expired, or the state store lost it. Refused: records are positive.
	// ErrNotApproval: the token was issued to execute without an approver
	// (mode token), and this server wants one.
	ErrNotApproval  = errors.New("confirmation_token was not issued for a person's approval (this server now wants one)")
	ErrTokenUnknown = errors.New("confirmation_token is not on record (it expired, or the server's state was reset)")
	// ErrStoreDown: the state store cannot be reached, so no token can be
	// issued or redeemed.
	ErrStoreDown = errors.New("the server's state store is unavailable, so nothing that needs confirmation can run now")
)

// Token record states in the store.
const (
	stateIssued   = "issued"
	stateRedeemed = "redeemed"
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
	// Policy is Tokens.Policy of the issuer.
	Policy string `json:"g,omitempty"`
}

// Tokens issues and redeems single-use, expiring, HMAC-signed confirmation
// tokens. Each token issued is a record in the state store; redeeming moves
// it from issued to redeemed atomically, so a token is honoured once across
// every process and replica sharing the store, and a token whose record is
// missing is refused.
type Tokens struct {
	key   []byte
	ttl   time.Duration
	now   func() time.Time
	store store.Store

	// Policy names what the server serves: its policy generation and
	// digest ("GENERATION/DIGEST"; the server sets it before issuing). A
	// token is redeemed only under the Policy it was issued under: replicas
	// sharing the store and the key honour each other's tokens while they
	// serve one policy, and none crosses a change of policy or version.
	Policy string
	// Gate, when set, is asked before every redemption: an error (this
	// replica no longer serves: a newer policy generation took over) is
	// returned and nothing is redeemed, so a call that was waiting for an
	// approval when the policy changed does not run under the old one.
	Gate func() error
}

// NewTokens returns a token issuer over st. A nil or short key is replaced
// by 32 random bytes (tokens then die with the process).
func NewTokens(key []byte, ttl time.Duration, st store.Store) (*Tokens, error) {
	if st == nil {
		return nil, errors.New("confirmation tokens need a state store")
	}
	if len(key) < 32 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("confirmation key: %w", err)
		}
	}
	if ttl <= 0 {
		ttl = defaultTTL
	}
	return &Tokens{key: key, ttl: ttl, now: time.Now, store: st}, nil
}

// TTL is how long a token lives.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue returns a token for b and its expiry, after putting it on record:
// redeemable at once (the token protocol, an elicitation's state).
func (t *Tokens) Issue(ctx context.Context, p Purpose, b Binding) (string, time.Time, error) {
	tok, exp, _, err := t.issue(ctx, p, b, stateIssued)
	return tok, exp, err
}

// IssuePending returns a token that is redeemable only once an approver
// approved it (Approvals.Decide), and the nonce that names its record.
func (t *Tokens) IssuePending(ctx context.Context, b Binding) (tok string, exp time.Time, nonce string, err error) {
	return t.issue(ctx, PurposeToken, b, statePending)
}

func (t *Tokens) issue(ctx context.Context, p Purpose, b Binding, state string) (string, time.Time, string, error) {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails on supported platforms
	exp := t.now().Add(t.ttl).Truncate(time.Second)
	c := claims{Purpose: p, Tool: b.Tool, Args: digest(b.Args), Who: digest([]byte(b.Principal)),
		Nonce: base64.RawURLEncoding.EncodeToString(nonce), Expires: exp.Unix(), Policy: t.Policy}
	// The record outlives the token a little, so a late redemption is
	// told "expired" rather than "not on record".
	if err := t.store.Create(ctx, tokenKey(c.Nonce), []byte(state), t.ttl+time.Minute); err != nil {
		return "", time.Time{}, "", storeErr(err)
	}
	payload, _ := json.Marshal(c)
	body := base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + t.sign(body), exp, c.Nonce, nil
}

// Redeem verifies tok against b and marks it redeemed, once. A token
// waiting for an approver answers ErrPending (it stays valid), a declined
// one ErrDeclined. Any error means the caller must not execute.
func (t *Tokens) Redeem(ctx context.Context, p Purpose, tok string, b Binding) error {
	return t.redeem(ctx, p, tok, b, stateIssued, stateApproved)
}

// RedeemApproved is Redeem for a token only an approver's decision makes
// redeemable (IssuePending): one that was redeemable at once (mode token)
// is refused, so it cannot stand in for a person's approval.
func (t *Tokens) RedeemApproved(ctx context.Context, tok string, b Binding) error {
	return t.redeem(ctx, PurposeToken, tok, b, stateApproved)
}

func (t *Tokens) redeem(ctx context.Context, p Purpose, tok string, b Binding, redeemable ...string) error {
	c, err := t.check(p, tok, b)
	if err != nil {
		return err
	}
	if t.Gate != nil {
		if err := t.Gate(); err != nil {
			return err
		}
	}
	key := tokenKey(c.Nonce)
	for _, from := range redeemable {
		ok, err := t.store.Swap(ctx, key, []byte(from), []byte(stateRedeemed))
		if err != nil {
			return storeErr(err)
		}
		if ok {
			return nil
		}
	}
	state, err := t.store.Get(ctx, key)
	if err != nil {
		return storeErr(err)
	}
	switch string(state) {
	case statePending:
		return ErrPending
	case stateDeclined:
		return ErrDeclined
	case stateIssued:
		return ErrNotApproval
	}
	return ErrTokenUsed
}

// Nonce is the record name of a token this server issued, after checking
// its signature only.
func (t *Tokens) Nonce(tok string) (string, error) {
	c, err := t.verify(tok)
	if err != nil {
		return "", err
	}
	return c.Nonce, nil
}

// check verifies tok's signature, purpose, expiry and binding.
func (t *Tokens) check(p Purpose, tok string, b Binding) (*claims, error) {
	c, err := t.verify(tok)
	if err != nil {
		return nil, err
	}
	if c.Purpose != p {
		return nil, ErrTokenInvalid
	}
	if c.Policy != t.Policy {
		return nil, fmt.Errorf("%w: it was issued under %s, and this server serves %s (the replicas sharing its state were updated since); nothing was done, ask for a new confirmation",
			ErrTokenPolicy, describePolicy(c.Policy), describePolicy(t.Policy))
	}
	if t.now().Unix() > c.Expires {
		return nil, ErrTokenExpired
	}
	if c.Tool != b.Tool {
		return nil, fmt.Errorf("%w: it was issued for %s, not %s", ErrTokenMismatch, c.Tool, b.Tool)
	}
	if c.Args != digest(b.Args) {
		return nil, fmt.Errorf("%w: the arguments differ from the ones confirmed; call again with exactly the same arguments", ErrTokenMismatch)
	}
	if c.Who != digest([]byte(b.Principal)) {
		return nil, fmt.Errorf("%w: it was issued to another client or session", ErrTokenMismatch)
	}
	return c, nil
}

// describePolicy names a Tokens.Policy for a person.
func describePolicy(p string) string {
	gen, dig, ok := strings.Cut(p, "/")
	if !ok {
		if p == "" {
			return "no named policy (an older version)"
		}
		return "policy " + p
	}
	if len(dig) > 12 {
		dig = dig[:12]
	}
	return "policy generation " + gen + " (digest " + dig + ")"
}

func tokenKey(nonce string) string { return "token/" + nonce }

// storeErr says what a store failure means for a confirmation.
func storeErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrTokenUnknown
	case errors.Is(err, store.ErrUnavailable):
		return fmt.Errorf("%w (%v)", ErrStoreDown, err)
	}
	return fmt.Errorf("%w (%v)", ErrStoreDown, err)
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
