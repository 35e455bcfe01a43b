package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The RenewOnce and LockWait cases belong to the contract suite
// (runContract): they run on every implementation, with the two handles
// standing for two processes or replicas.

// value is what the cases renew: a record under "value", fresh when it
// reads want.
func value(st Store, want string) func(context.Context) (string, bool, error) {
	return func(ctx context.Context) (string, bool, error) {
		v, err := st.Get(ctx, "value")
		if errors.Is(err, ErrNotFound) {
			return "", false, nil
		}
		return string(v), string(v) == want, err
	}
}

var testRenewal = Renewal[string]{Lock: "renew", Hold: 5 * time.Second, What: "the test value"}

// Many callers on two handles find the value stale at once: the renewal
// waits until every one of them has looked at the store (so all of them
// are there while it runs), yet it happens once and all get its result.
// A later caller finds it fresh under the lock and does not renew.
func testRenewOnceAmongMany(t *testing.T, a, b Store) {
	const n = 12
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	looked := map[int]bool{}
	all := make(chan struct{})
	var renewals atomic.Int32
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		st := []Store{a, b}[i%2]
		look := func(ctx context.Context) (string, bool, error) {
			mu.Lock()
			if looked[i] = true; len(looked) == n {
				select {
				case <-all:
				default:
					close(all)
				}
			}
			mu.Unlock()
			return value(st, "new")(ctx)
		}
		renew := func(ctx context.Context, cur string) (string, error) {
			renewals.Add(1)
			select {
			case <-all:
			case <-ctx.Done():
				return "", fmt.Errorf("the other callers never looked: %w", ctx.Err())
			}
			return "new", st.Put(ctx, "value", []byte("new"), 0)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = RenewOnce(ctx, st, testRenewal, look, renew)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i] != "new" {
			t.Fatalf("caller %d: %q, %v", i, got[i], errs[i])
		}
	}
	if r := renewals.Load(); r != 1 {
		t.Fatalf("%d renewals among %d callers, want 1", r, n)
	}
	v, err := RenewOnce(ctx, b, testRenewal, value(b, "new"), func(context.Context, string) (string, error) {
		renewals.Add(1)
		return "again", nil
	})
	if err != nil || v != "new" || renewals.Load() != 1 {
		t.Fatalf("a fresh value: %q, %v, %d renewals; want it as stored, not renewed", v, err, renewals.Load())
	}
}

// A holder whose renewal fails releases the lock: a waiter then takes it
// and renews instead of waiting for a result that will not come.
func testRenewTakeOverAfterFailure(t *testing.T, a, b Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	renewing, waiting := make(chan struct{}), make(chan struct{})
	var once sync.Once
	gaveUp := errors.New("upstream refused")
	holderErr := make(chan error, 1)
	go func() {
		_, err := RenewOnce(ctx, a, testRenewal, value(a, "new"), func(ctx context.Context, _ string) (string, error) {
			close(renewing)
			select {
			case <-waiting:
			case <-ctx.Done():
			}
			return "", gaveUp
		})
		holderErr <- err
	}()
	// The waiter starts once the holder renews, and tells it when it has
	// looked (so it did wait, not lock first).
	select {
	case <-renewing:
	case <-ctx.Done():
		t.Fatal("the holder never renewed")
	}
	look := func(ctx context.Context) (string, bool, error) {
		once.Do(func() { close(waiting) })
		return value(b, "new")(ctx)
	}
	v, err := RenewOnce(ctx, b, testRenewal, look, func(ctx context.Context, _ string) (string, error) {
		return "new", b.Put(ctx, "value", []byte("new"), 0)
	})
	if err != nil || v != "new" {
		t.Fatalf("the waiter: %q, %v; want its own renewal", v, err)
	}
	if err := <-holderErr; !errors.Is(err, gaveUp) {
		t.Fatalf("the holder: %v; want its renewal's error as it is", err)
	}
}

// A lock whose holder died (never released) expires; the waiter then
// renews.
func testRenewTakeOverAfterExpiry(t *testing.T, a, b Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, ok, err := a.Lock(ctx, testRenewal.Lock, 200*time.Millisecond); !ok || err != nil {
		t.Fatalf("lock: %v %v", ok, err)
	}
	looks := 0
	look := func(ctx context.Context) (string, bool, error) { looks++; return value(b, "new")(ctx) }
	v, err := RenewOnce(ctx, b, testRenewal, look, func(context.Context, string) (string, error) { return "mine", nil })
	if err != nil || v != "mine" || looks < 2 {
		t.Fatalf("%q, %v after %d looks; want its own renewal after waiting", v, err, looks)
	}
}

// ctx bounds the wait for a holder that takes too long: the error says so
// and wraps ctx's, and the waiter never renews.
func testRenewWaitBounded(t *testing.T, a, b Store) {
	if _, ok, err := a.Lock(context.Background(), testRenewal.Lock, time.Minute); !ok || err != nil {
		t.Fatalf("lock: %v %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := RenewOnce(ctx, b, testRenewal, value(b, "new"), func(context.Context, string) (string, error) {
		t.Error("renewed under another's lock")
		return "", nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v; want the context's deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("gave up after %v; want about 100 ms", d)
	}
}

// The renewal's context ends Hold after the lock was asked for, so no
// later than the lock: nothing is sent under a lock another may hold by
// then.
func testRenewWithinHold(t *testing.T, a, _ Store) {
	r := testRenewal
	r.Hold = 3 * time.Second
	before := time.Now()
	_, err := RenewOnce(context.Background(), a, r, value(a, "new"), func(ctx context.Context, _ string) (string, error) {
		dl, ok := ctx.Deadline()
		if latest := time.Now().Add(r.Hold); !ok || dl.Before(before.Add(r.Hold)) || dl.After(latest) {
			t.Errorf("renewal deadline %v (set: %v); want Hold after the lock: between %v and %v", dl, ok, before.Add(r.Hold), latest)
		}
		return "new", nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// With the store unreachable, a strict renewal fails with the store's
// error and does nothing; one with Alone returns what Alone does; and a
// caller that gave up (ctx) gets ctx's error, not Alone's renewal.
func testRenewStoreDown(t *testing.T, a, _ Store) {
	_ = a.Close()
	ctx := context.Background()
	never := func(context.Context, string) (string, error) {
		t.Error("renewed with the store down")
		return "", nil
	}
	neverLook := func(context.Context) (string, bool, error) {
		t.Error("looked with the store down")
		return "", false, nil
	}
	if _, err := RenewOnce(ctx, a, testRenewal, neverLook, never); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("strict: %v; want ErrUnavailable", err)
	}
	alone := testRenewal
	var reported error
	alone.Alone = func(_ context.Context, err error) (string, error) {
		reported = err
		return "memory", nil
	}
	if v, err := RenewOnce(ctx, a, alone, neverLook, never); err != nil || v != "memory" || !errors.Is(reported, ErrUnavailable) {
		t.Fatalf("with Alone: %q, %v (Alone given %v); want Alone's result, given ErrUnavailable", v, err, reported)
	}
	reported = nil
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := RenewOnce(cancelled, a, alone, neverLook, never); !errors.Is(err, context.Canceled) || reported != nil {
		t.Fatalf("with Alone, ctx cancelled: %v (Alone given %v); want ctx's error, Alone not called", err, reported)
	}
}

// LockWait waits out another holder, within ctx.
func testLockWait(t *testing.T, a, b Store) {
	unlock, ok, err := a.Lock(context.Background(), "renew", time.Minute)
	if !ok || err != nil {
		t.Fatalf("lock: %v %v", ok, err)
	}
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := LockWait(short, b, "renew", time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("held by another: %v; want the context's deadline", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		unlock, err := LockWait(ctx, b, "renew", time.Minute)
		if err == nil {
			unlock()
		}
		got <- err
	}()
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("after the holder released it: %v", err)
	}
}
