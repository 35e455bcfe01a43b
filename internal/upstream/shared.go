package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
)

// Shared keeps one upstream credential in the state store, sealed, so that
// it survives restarts and every process sharing the store uses it, and
// makes its renewal happen once across those processes: the renewer holds
// a store lock for one upstream request at most, the others wait for its
// result and read it instead of renewing again (which, with a rotating
// refresh token, would kill the token the first one just got).
//
// What the record holds is the caller's (opaque bytes; sealed here with
// the record's key as associated data). A nil *Shared keeps nothing: Load
// finds nothing and Renew renews alone.
type Shared struct {
	Store  store.Store
	Sealer *store.Sealer
	// Key names the record ("upstream/convirza/<id>"); the lock is
	// "lock/"+Key.
	Key string
	// Hold is the lock's lifetime: one upstream request and a margin. A
	// renewal runs under a deadline of Hold, so it never acts under a lock
	// that expired.
	Hold time.Duration
	// What names the credential in logs and errors ("Convirza").
	What string
	Log  *slog.Logger

	// down is set while the store cannot be reached, so the warning is
	// logged once per outage.
	down atomic.Bool
}

// saveTimeout bounds the write of a renewal's result.
const saveTimeout = 5 * time.Second

func (s *Shared) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Degraded records that the store could not be reached: the first failure
// of an outage is logged (the credential is then kept in memory only).
func (s *Shared) Degraded(ctx context.Context, err error) {
	if s == nil || err == nil || !s.down.CompareAndSwap(false, true) {
		return
	}
	s.log().WarnContext(ctx, "the state store cannot be reached: upstream tokens are kept in this process's memory until it can",
		"upstream", s.What, "err", err.Error())
}

func (s *Shared) reached(ctx context.Context) {
	if s.down.CompareAndSwap(true, false) {
		s.log().InfoContext(ctx, "the state store is reachable again: upstream tokens are shared again", "upstream", s.What)
	}
}

// Load reads and opens the record, re-sealing it with the current store
// key when a previous key sealed it. Nothing stored, or a record that does
// not open (sealed with another key, damaged): nil and no error, so the
// caller signs in again (fails closed). An error means the store could not
// be reached.
func (s *Shared) Load(ctx context.Context) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	sealed, err := s.Store.Get(ctx, s.Key)
	if errors.Is(err, store.ErrNotFound) {
		s.reached(ctx)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the stored %s token: %w", s.What, err)
	}
	s.reached(ctx)
	plain, stale, err := s.Sealer.Unseal(sealed, []byte(s.Key))
	if err != nil {
		s.log().WarnContext(ctx, "the stored upstream tokens cannot be used; signing in again", "upstream", s.What, "why", err.Error())
		return nil, nil
	}
	if stale {
		// Sealed with a previous store key: written back with the current
		// one, unless a renewal wrote the record meanwhile (sealed with
		// the current key, then), so that key can be retired.
		if _, _, err := s.Sealer.Reseal(ctx, s.Store, s.Key, sealed, plain); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log().WarnContext(ctx, "re-sealing the stored upstream tokens with the current store key", "upstream", s.What, "err", err.Error())
		}
	}
	return plain, nil
}

// Save seals plain and writes it, to expire after ttl (0: never).
func (s *Shared) Save(ctx context.Context, plain []byte, ttl time.Duration) error {
	if s == nil {
		return nil
	}
	if ttl < 0 {
		ttl = 0
	}
	if err := s.Store.Put(ctx, s.Key, s.Sealer.Seal(plain, []byte(s.Key)), ttl); err != nil {
		return fmt.Errorf("storing the %s token: %w", s.What, err)
	}
	return nil
}

// Forget deletes the record.
func (s *Shared) Forget(ctx context.Context) error {
	if s == nil {
		return nil
	}
	if err := s.Store.Delete(ctx, s.Key); err != nil {
		return fmt.Errorf("forgetting the stored %s token: %w", s.What, err)
	}
	return nil
}

func (s *Shared) lockKey() string { return "lock/" + s.Key }

// Renew returns a usable record: one another process stored (fresh says
// whether a record is usable), or the result of renew, run once across the
// processes sharing the store (store.RenewOnce) and stored for the others.
// renew gets the stored record (nil when there is none or the store cannot
// be read) and returns the new one and how long to keep it; ctx bounds the
// wait for another process's renewal. When the store cannot be reached,
// renew runs alone and its result stays in memory.
func (s *Shared) Renew(ctx context.Context, fresh func(rec []byte) bool, renew func(ctx context.Context, rec []byte) ([]byte, time.Duration, error)) ([]byte, error) {
	alone := func(ctx context.Context, err error) ([]byte, error) {
		s.Degraded(ctx, err)
		rec, _, err := renew(ctx, nil)
		return rec, err
	}
	if s == nil {
		return alone(ctx, nil) // no store: nothing to report
	}
	look := func(ctx context.Context) ([]byte, bool, error) {
		rec, err := s.Load(ctx)
		if err != nil {
			s.Degraded(ctx, err) // renewed all the same, stored if it can be
			return nil, false, nil
		}
		return rec, rec != nil && fresh(rec), nil
	}
	r := store.Renewal[[]byte]{Lock: s.lockKey(), Hold: s.Hold, What: "the " + s.What + " token", Alone: alone}
	return store.RenewOnce(ctx, s.Store, r, look, func(ctx context.Context, rec []byte) ([]byte, error) {
		next, ttl, err := renew(ctx, rec)
		if err != nil {
			return nil, err
		}
		// Stored even if the renewal used up the lock's time: the tokens
		// are valid, and the refresh token they replaced is dead.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
		defer cancel()
		if err := s.Save(sctx, next, ttl); err != nil {
			s.Degraded(ctx, err)
		}
		return next, nil
	})
}

// Locked runs fn under the renewal lock (waiting, within ctx, for a
// renewal in progress to finish) with the stored record (nil when none).
// For what must not interleave with a renewal: a logout.
func (s *Shared) Locked(ctx context.Context, fn func(ctx context.Context, rec []byte) error) error {
	if s == nil {
		return fn(ctx, nil)
	}
	unlock, err := store.LockWait(ctx, s.Store, s.lockKey(), s.Hold)
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("waiting for a renewal of the %s token to finish: %w", s.What, err)
	case err != nil:
		return fmt.Errorf("locking the stored %s token: %w", s.What, err)
	}
	defer unlock()
	rec, err := s.Load(ctx)
	if err != nil {
		return err
	}
	return fn(ctx, rec)
}
