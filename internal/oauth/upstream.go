package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
)

const (
	// renewBefore: a person's Convirza access token is renewed this long
	// before it expires.
	renewBefore = 5 * time.Minute
	// renewTimeout bounds one renewal, and how long others wait for it.
	renewTimeout = 30 * time.Second
	// upstreamTTL bounds how long a person's Convirza tokens are kept when
	// Convirza did not say when the refresh token expires.
	upstreamTTL = 180 * 24 * time.Hour
	// renewPoll bounds the wait between two looks at the store while
	// another replica renews a person's tokens.
	renewPoll = 20 * time.Millisecond
	// saveTimeout bounds the write of a renewal's result.
	saveTimeout = 5 * time.Second
	// IdentityMaxAge is how long ago Convirza may have last confirmed who a
	// person is (their role above all) when the server issues them an MCP
	// access token or takes their decision on an approval: older, their
	// Convirza tokens are renewed first, and the renewal's answer names them
	// as they are now. A role changed at Convirza thus shows in the next
	// MCP access token, within its lifetime (plus this), not at the next
	// sign-in.
	IdentityMaxAge = time.Minute
)

// person is what the store keeps of a person's Convirza sign-in (sealed).
type person struct {
	Person Identity `json:"person"`
	// Checked is when Convirza last confirmed Person: the sign-in, or a
	// renewal whose answer named the person (its user block).
	Checked time.Time `json:"checked,omitzero"`
	Tokens  Tokens    `json:"tokens"`
	// Version changes with every write, so Swap never sees two writes as
	// the same value.
	Version string `json:"version"`
}

// UpstreamTokens returns the Convirza tokens of the person sub speaks for,
// renewed (once across replicas) when the access token is about to expire.
// When Convirza refuses the person's refresh token, or the server holds no
// tokens for them, every grant of theirs is revoked and the error wraps
// ErrSignedOut: the caller answers 401 and the person signs in again.
func (s *Server) UpstreamTokens(ctx context.Context, sub Subject) (Tokens, error) {
	p, err := s.upstreamTokens(ctx, sub.Identity)
	if err != nil {
		return Tokens{}, err
	}
	return p.Tokens, nil
}

// RenewUpstream renews the person's Convirza tokens now unless the access
// token is no longer stale (another request renewed it already): for a
// caller whose request Convirza answered 401 although the token looked
// valid. Errors as UpstreamTokens.
func (s *Server) RenewUpstream(ctx context.Context, sub Subject, stale string) (Tokens, error) {
	p, err := s.renewUpstream(ctx, sub.Identity, stale)
	if err != nil {
		return Tokens{}, err
	}
	return p.Tokens, nil
}

// Identify returns the person with Convirza user id userID as Convirza
// confirmed them at most maxAge ago: when longer ago, their Convirza tokens
// are renewed now (once across replicas), and the renewal's answer names
// them and their current role. Errors as UpstreamTokens: ErrSignedOut when
// the server holds no Convirza tokens for them (they signed out, or an
// operator revoked them with RevokeSubject) or Convirza refused the
// renewal; ErrUnconfirmed when Convirza's renewal answer did not name them
// (their role is then not assumed). The approval pages ask it before
// taking a person's decision.
func (s *Server) Identify(ctx context.Context, userID int64, maxAge time.Duration) (Identity, error) {
	p, err := s.confirmed(ctx, Identity{UserID: userID}, maxAge)
	if err != nil {
		return Identity{}, err
	}
	return p.Person, nil
}

// confirmed is the person's record, their identity confirmed by Convirza
// at most maxAge ago (renewing their tokens to ask, when it is older).
func (s *Server) confirmed(ctx context.Context, who Identity, maxAge time.Duration) (*person, error) {
	asked := s.now()
	p, err := s.upstreamTokens(ctx, who)
	if err != nil {
		return nil, err
	}
	if !p.Checked.IsZero() && asked.Sub(p.Checked) < maxAge {
		return p, nil
	}
	p, err = s.renewUpstream(ctx, who, p.Tokens.Access)
	if err != nil {
		return nil, err
	}
	if p.Checked.IsZero() || p.Checked.Before(asked) && asked.Sub(p.Checked) >= maxAge {
		// Convirza renewed the tokens but its answer did not say who the
		// person is: their role stays unconfirmed, not assumed. (A renewal
		// since this was asked, here or at another replica, confirms.)
		return p, ErrUnconfirmed
	}
	return p, nil
}

func (s *Server) upstreamTokens(ctx context.Context, who Identity) (*person, error) {
	p, _, err := s.readUpstream(ctx, who)
	if err != nil {
		return nil, err
	}
	if s.usable(p.Tokens) {
		return p, nil
	}
	return s.renewUpstream(ctx, who, p.Tokens.Access)
}

func (s *Server) usable(t Tokens) bool {
	return t.Access != "" && (t.AccessExpiry.IsZero() || s.now().Add(renewBefore).Before(t.AccessExpiry))
}

// readUpstream returns the person's record and its sealed bytes,
// re-sealing it with the current store key when a previous key sealed it.
// A missing or unreadable record (sealed with a key the server no longer
// holds) revokes the person's grants: without Convirza tokens they cannot
// act.
func (s *Server) readUpstream(ctx context.Context, who Identity) (*person, []byte, error) {
	key := upstreamKey(who.UserID)
	sealed, err := s.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, s.signedOut(ctx, who, "no Convirza tokens held for the person")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading the person's Convirza tokens: %w", err)
	}
	plain, stale, err := s.seal.Unseal(sealed, []byte(key))
	if err != nil {
		s.log.WarnContext(ctx, "a person's Convirza tokens do not open", "user", who.UserID, "err", err)
		return nil, nil, s.signedOut(ctx, who, "the person's Convirza tokens do not open")
	}
	if stale {
		// Sealed with a previous store key: written back with the current
		// one unless a renewal or a sign-in wrote the record meanwhile
		// (then with the current key), so that key can be retired.
		next, ok, err := s.seal.Reseal(ctx, s.st, key, sealed, plain)
		switch {
		case ok:
			sealed = next // what a renewal's Swap must find
		case err == nil:
			// Written meanwhile (re-sealed by another reader, say): what a
			// renewal's Swap must find is what the store holds now.
			if cur, err := s.st.Get(ctx, key); err == nil {
				if p, err := s.seal.Open(cur, []byte(key)); err == nil {
					sealed, plain = cur, p
				}
			}
		case !errors.Is(err, store.ErrNotFound):
			s.log.WarnContext(ctx, "re-sealing a person's Convirza tokens with the current store key", "user", who.UserID, "err", err)
		}
	}
	var p person
	if err := json.Unmarshal(plain, &p); err != nil {
		return nil, nil, s.signedOut(ctx, who, "the person's Convirza tokens are damaged")
	}
	return &p, sealed, nil
}

func (s *Server) signedOut(ctx context.Context, who Identity, why string) error {
	if _, err := s.RevokeSubject(ctx, who.UserID); err != nil {
		s.log.WarnContext(ctx, "revoking a signed-out person's grants", "user", who.UserID, "err", err)
	}
	return fmt.Errorf("%w (%s)", ErrSignedOut, why)
}

// stored is a person's record and its bytes as the store holds them (what
// a renewal's Swap must find).
type stored struct {
	p      *person
	sealed []byte
}

// renewUpstream refreshes the person's Convirza tokens unless the access
// token is no longer stale. One renewal runs across replicas
// (store.RenewOnce); the others wait for its result. Strict: the store
// must answer, for the person's tokens live only there (a missing record
// means signed out), and the result replaces the record only if nothing
// else (a sign-in, a sign-out) wrote it meanwhile.
func (s *Server) renewUpstream(ctx context.Context, who Identity, stale string) (*person, error) {
	ctx, cancel := context.WithTimeout(ctx, renewTimeout)
	defer cancel()
	look := func(ctx context.Context) (stored, bool, error) {
		p, sealed, err := s.readUpstream(ctx, who)
		if err != nil {
			return stored{}, false, err
		}
		return stored{p, sealed}, p.Tokens.Access != stale && s.usable(p.Tokens), nil
	}
	r := store.Renewal[stored]{
		Lock: upstreamKey(who.UserID) + "/renew", Hold: renewTimeout, What: "the person's Convirza tokens",
		// Few wait (one person's requests), each in their request: they
		// look often, to go on as soon as the renewal is stored.
		MaxPoll: renewPoll,
	}
	got, err := store.RenewOnce(ctx, s.st, r, look, func(ctx context.Context, cur stored) (stored, error) {
		p, err := s.refreshUpstream(ctx, who, cur.p, cur.sealed)
		return stored{p: p}, err
	})
	return got.p, err
}

func (s *Server) refreshUpstream(ctx context.Context, who Identity, p *person, sealed []byte) (*person, error) {
	if p.Tokens.Refresh == "" || (!p.Tokens.RefreshExpiry.IsZero() && !s.now().Before(p.Tokens.RefreshExpiry)) {
		return nil, s.signedOut(ctx, who, "the Convirza refresh token expired")
	}
	id, toks, err := s.up.Refresh(ctx, p.Tokens.Refresh)
	if errors.Is(err, ErrRefreshRejected) {
		s.log.InfoContext(ctx, "Convirza refused a person's refresh token: their access ends", "user", who.UserID)
		return nil, s.signedOut(ctx, who, "Convirza refused the refresh token")
	}
	if err != nil {
		return nil, fmt.Errorf("renewing the person's Convirza tokens: %w", err)
	}
	next := &person{Person: p.Person, Checked: p.Checked, Tokens: toks, Version: random(8)}
	if toks.Refresh == "" {
		next.Tokens.Refresh, next.Tokens.RefreshExpiry = p.Tokens.Refresh, p.Tokens.RefreshExpiry
	}
	if id.UserID == who.UserID {
		// Convirza's answer names the person as they are now (their role).
		next.Person, next.Checked = id, s.now().UTC()
	}
	nb, err := s.sealPerson(who.UserID, next)
	if err != nil {
		return nil, err
	}
	// Kept even when the caller gave up or the renewal used up its time:
	// the tokens are valid and the refresh token they replaced is dead
	// (rotation), so losing them would sign the person out.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer scancel()
	for range saveTries {
		ok, err := s.st.Swap(sctx, upstreamKey(who.UserID), sealed, nb)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Signed out meanwhile: the fresh tokens are nobody's.
			s.revokeUpstreamTokens(ctx, next.Tokens)
			return nil, fmt.Errorf("%w (signed out during a renewal)", ErrSignedOut)
		case err != nil:
			return nil, fmt.Errorf("keeping the person's renewed Convirza tokens: %w", err)
		case ok:
			return next, nil
		}
		// The record changed since it was read. The same record sealed
		// again (a store key rotation's re-seal, here or at another
		// replica) still holds the refresh token just spent: replace it.
		// Another version is a new sign-in, which is the newer: the fresh
		// tokens are nobody's.
		cur, curSealed, err := s.readUpstream(sctx, who)
		if err != nil {
			s.revokeUpstreamTokens(ctx, next.Tokens)
			return nil, err
		}
		if cur.Version != p.Version {
			s.revokeUpstreamTokens(ctx, next.Tokens)
			return cur, nil
		}
		sealed = curSealed
	}
	return nil, fmt.Errorf("keeping the person's renewed Convirza tokens: the record kept changing (%d tries)", saveTries)
}

// saveTries bounds how often a renewal's result is written again over a
// record that was only re-sealed meanwhile.
const saveTries = 5

// keepUpstream stores a fresh sign-in's tokens for the person, replacing
// any earlier ones (which stay valid at Convirza until they expire: another
// request may be using them).
func (s *Server) keepUpstream(ctx context.Context, who Identity, toks Tokens) error {
	b, err := s.sealPerson(who.UserID, &person{Person: who, Checked: s.now().UTC(), Tokens: toks, Version: random(8)})
	if err != nil {
		return err
	}
	ttl := upstreamTTL
	if !toks.RefreshExpiry.IsZero() {
		if d := toks.RefreshExpiry.Sub(s.now()); d > 0 && d < ttl {
			ttl = d
		}
	}
	return s.st.Put(ctx, upstreamKey(who.UserID), b, ttl)
}

func (s *Server) sealPerson(uid int64, p *person) ([]byte, error) {
	plain, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return s.seal.Seal(plain, []byte(upstreamKey(uid))), nil
}

// forgetUpstream revokes the person's Convirza tokens at Convirza (best
// effort) and deletes them.
func (s *Server) forgetUpstream(ctx context.Context, uid int64) {
	key := upstreamKey(uid)
	sealed, err := s.st.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.WarnContext(ctx, "forgetting a person's Convirza tokens", "user", uid, "err", err)
		}
		return
	}
	if err := s.st.Delete(ctx, key); err != nil {
		s.log.WarnContext(ctx, "forgetting a person's Convirza tokens", "user", uid, "err", err)
		return
	}
	plain, err := s.seal.Open(sealed, []byte(key))
	if err != nil {
		return
	}
	var p person
	if json.Unmarshal(plain, &p) == nil {
		s.revokeUpstreamTokens(ctx, p.Tokens)
	}
	clear(plain)
}

func (s *Server) revokeUpstreamTokens(ctx context.Context, t Tokens) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if t.Refresh != "" {
		if err := s.up.Revoke(ctx, t.Refresh, "refresh"); err != nil {
			s.log.WarnContext(ctx, "revoking a Convirza refresh token", "err", err)
		}
	}
	if t.Access != "" {
		if err := s.up.Revoke(ctx, t.Access, "access"); err != nil {
			s.log.WarnContext(ctx, "revoking a Convirza access token", "err", err)
		}
	}
}
