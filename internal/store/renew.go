package store

import (
	"cmp"
	"context"
	"fmt"
	"time"
)

// The wait between two looks at the store while another holder has a
// lock: it starts short (a renewal may be almost done) and doubles up to
// a maximum, so a crowd of waiters does not hammer the store during a slow
// one.
const (
	pollFirst = 10 * time.Millisecond
	pollMax   = 200 * time.Millisecond
)

// Renewal says how RenewOnce renews a value that processes sharing a
// store must renew once (an upstream credential whose refresh token
// rotates: a second renewal with it would be refused).
type Renewal[T any] struct {
	// Lock is the key of the store lock the renewer holds.
	Lock string
	// Hold is the lock's lifetime, and the renewal runs under a deadline
	// of Hold from when it was taken: nothing is done under a lock that
	// expired (and that another may hold).
	Hold time.Duration
	// What names the value in errors ("the Convirza token").
	What string
	// MaxPoll bounds the wait between two looks while another renews
	// (default 200 ms): lower it where few wait and each waits in
	// someone's request, higher where many do.
	MaxPoll time.Duration
	// Alone, when set, is what RenewOnce returns when the store cannot be
	// locked (it cannot be reached) and ctx has not ended: typically a
	// renewal alone, kept in memory. Unset, the store must answer: its
	// error is returned, wrapped.
	Alone func(ctx context.Context, err error) (T, error)
}

// RenewOnce returns a usable value: one another process stored, or the
// result of renew, run once across the processes sharing st. It takes the
// lock first, without waiting (a caller has just found the value stale,
// so a look before it would only add a round trip); the holder looks
// again under it (another may just have renewed and released it) and
// renews unless the value is fresh; renew gets what look found and stores
// its result for the others itself. The others look until the holder's
// result appears, waiting 10 ms doubling to MaxPoll between looks, and take
// the lock themselves if the holder gave up or its lock expired; ctx bounds
// the wait. look reports whether the value is fresh; its errors and
// renew's are returned as they are.
func RenewOnce[T any](ctx context.Context, st Store, r Renewal[T], look func(ctx context.Context) (T, bool, error), renew func(ctx context.Context, cur T) (T, error)) (T, error) {
	var zero T
	wait, most := pollFirst, cmp.Or(r.MaxPoll, pollMax)
	for {
		start := time.Now()
		unlock, ok, err := st.Lock(ctx, r.Lock, r.Hold)
		switch {
		case err != nil && r.Alone == nil:
			return zero, fmt.Errorf("renewing %s: %w", r.What, err)
		case err != nil && ctx.Err() != nil:
			return zero, fmt.Errorf("renewing %s: %w", r.What, ctx.Err())
		case err != nil:
			return r.Alone(ctx, err)
		case ok:
			return renewLocked(ctx, start.Add(r.Hold), unlock, look, renew)
		}
		// Another holder renews: its result appears in the store.
		v, fresh, err := look(ctx)
		if err != nil {
			return zero, err
		}
		if fresh {
			return v, nil
		}
		if err := pause(ctx, &wait, most); err != nil {
			return zero, fmt.Errorf("waiting for another process to renew %s: %w", r.What, err)
		}
	}
}

// renewLocked runs with the lock held until held (its expiry at the
// latest).
func renewLocked[T any](ctx context.Context, held time.Time, unlock func(), look func(context.Context) (T, bool, error), renew func(context.Context, T) (T, error)) (T, error) {
	defer unlock()
	ctx, cancel := context.WithDeadline(ctx, held)
	defer cancel()
	cur, fresh, err := look(ctx)
	if err != nil || fresh {
		return cur, err // fresh: renewed by another process meanwhile
	}
	return renew(ctx, cur)
}

// LockWait takes the lock key for ttl, waiting (within ctx, 10 ms doubling
// to 200 ms between tries) while another holder has it: for what must not
// interleave with a RenewOnce under the same lock (a sign-out).
func LockWait(ctx context.Context, st Store, key string, ttl time.Duration) (unlock func(), err error) {
	wait := pollFirst
	for {
		unlock, ok, err := st.Lock(ctx, key, ttl)
		if err != nil || ok {
			return unlock, err
		}
		if err := pause(ctx, &wait, pollMax); err != nil {
			return nil, err
		}
	}
}

// pause waits *wait (or until ctx ends: its error), then doubles *wait up
// to most.
func pause(ctx context.Context, wait *time.Duration, most time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(*wait):
	}
	*wait = min(2**wait, most)
	return nil
}
