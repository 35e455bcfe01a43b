package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// handles returns two handles on one fresh, empty store: for the embedded
// store two opens of one directory (in one process, or the second in
// another process), for Redis two clients of one server under one
// namespace. Their cleanup is registered on t.
type handles func(t *testing.T) (a, b Store)

// runContract is the one suite every implementation passes. Concurrent
// cases spread their goroutines over both handles, so "exactly one" holds
// across handles (and processes), not only within one.
func runContract(t *testing.T, open handles) {
	cases := []struct {
		name string
		run  func(t *testing.T, a, b Store)
	}{
		{"CreateGetPutDelete", testCreateGetPutDelete},
		{"SeenThroughTheOtherHandle", testSeenThroughOtherHandle},
		{"Values", testValues},
		{"Expiry", testExpiry},
		{"PutWithoutTTLClearsExpiry", testPutClearsExpiry},
		{"SwapSemantics", testSwapSemantics},
		{"SwapKeepsExpiry", testSwapKeepsExpiry},
		{"SwapExactlyOnce", testSwapExactlyOnce},
		{"CreateExactlyOnce", testCreateExactlyOnce},
		{"Add", testAdd},
		{"AddConcurrent", testAddConcurrent},
		{"AddDoesNotExtendExpiry", testAddDoesNotExtendExpiry},
		{"List", testList},
		{"Lock", testLock},
		{"LockExclusive", testLockExclusive},
		{"LockExpiry", testLockExpiry},
		{"BadArguments", testBadArguments},
		{"ClosedIsUnavailable", testClosed},
		// RenewOnce and LockWait (renew.go), built on Lock.
		{"RenewOnceAmongManyCallers", testRenewOnceAmongMany},
		{"RenewTakenOverFromAHolderThatGaveUp", testRenewTakeOverAfterFailure},
		{"RenewTakenOverFromAnExpiredLock", testRenewTakeOverAfterExpiry},
		{"RenewWaitBoundedByContext", testRenewWaitBounded},
		{"RenewWithinTheHold", testRenewWithinHold},
		{"RenewWithTheStoreDown", testRenewStoreDown},
		{"LockWait", testLockWait},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := open(t)
			c.run(t, a, b)
		})
	}
}

// eventually polls cond every 10 ms until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustGet(t *testing.T, s Store, key string) []byte {
	t.Helper()
	v, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

func wantValue(t *testing.T, s Store, key, want string) {
	t.Helper()
	if got := mustGet(t, s, key); string(got) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

func wantNotFound(t *testing.T, s Store, key string) {
	t.Helper()
	v, err := s.Get(t.Context(), key)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
}

func gone(s Store, ctx context.Context, key string) bool {
	_, err := s.Get(ctx, key)
	return errors.Is(err, ErrNotFound)
}

func testCreateGetPutDelete(t *testing.T, a, b Store) {
	ctx := t.Context()
	wantNotFound(t, a, "token/1")
	if err := a.Create(ctx, "token/1", []byte("issued"), 0); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := b.Create(ctx, "token/1", []byte("other"), 0); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create = %v, want ErrExists", err)
	}
	wantValue(t, b, "token/1", "issued")
	if err := b.Put(ctx, "token/1", []byte("replaced"), 0); err != nil {
		t.Fatalf("Put: %v", err)
	}
	wantValue(t, a, "token/1", "replaced")
	if err := a.Delete(ctx, "token/1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, b, "token/1")
	if err := b.Delete(ctx, "token/1"); err != nil {
		t.Fatalf("Delete of a missing record = %v, want nil", err)
	}
	if err := a.Put(ctx, "fresh", []byte("v"), 0); err != nil {
		t.Fatalf("Put of a new record: %v", err)
	}
	wantValue(t, b, "fresh", "v")
	if err := a.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testSeenThroughOtherHandle(t *testing.T, a, b Store) {
	ctx := t.Context()
	for i := range 5 {
		k := fmt.Sprintf("approval/%d", i)
		if err := a.Create(ctx, k, []byte("pending"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if ok, err := b.Swap(ctx, k, []byte("pending"), []byte("approved")); err != nil || !ok {
			t.Fatalf("Swap through the other handle = %v, %v", ok, err)
		}
		wantValue(t, a, k, "approved")
	}
}

func testValues(t *testing.T, a, b Store) {
	ctx := t.Context()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	values := map[string][]byte{
		"empty":                   {},
		"binary":                  all,
		"large":                   bytes.Repeat([]byte("x"), 1<<20),
		"../../etc/passwd":        []byte("a key that looks like a path stays a key"),
		"ключ/🔑":                  []byte("unicode key"),
		strings.Repeat("k", 1000): []byte("long key"),
	}
	for k, v := range values {
		if err := a.Put(ctx, k, v, 0); err != nil {
			t.Fatalf("Put(%.20q): %v", k, err)
		}
	}
	for k, v := range values {
		if got := mustGet(t, b, k); !bytes.Equal(got, v) {
			t.Fatalf("Get(%.20q) = %d bytes, want %d", k, len(got), len(v))
		}
	}
}

// withShortTTL runs f with a short ttl (real time: Redis expires records
// itself). f reports false when its steps took longer than the ttl, so the
// machine was too slow to judge; then it runs again with twice the ttl, a
// few times, rather than fail on a busy machine.
func withShortTTL(t *testing.T, f func(ttl time.Duration) bool) {
	t.Helper()
	for ttl := 150 * time.Millisecond; ttl <= 2400*time.Millisecond; ttl *= 2 {
		if f(ttl) {
			return
		}
		t.Logf("too slow for a %v ttl; again with a longer one", ttl)
	}
	t.Fatal("this machine is too slow for the expiry tests")
}

func testExpiry(t *testing.T, a, b Store) {
	ctx := t.Context()
	if err := a.Put(ctx, "long", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	withShortTTL(t, func(ttl time.Duration) bool {
		_ = a.Delete(ctx, "created-short")
		start := time.Now()
		if err := a.Put(ctx, "short", []byte("v"), ttl); err != nil {
			t.Fatal(err)
		}
		if err := a.Create(ctx, "created-short", []byte("v"), ttl); err != nil {
			t.Fatal(err)
		}
		v, err := b.Get(ctx, "short")
		if time.Since(start) >= ttl {
			return false
		}
		if err != nil || string(v) != "v" {
			t.Fatalf("Get before the ttl ran out = %q, %v", v, err)
		}
		return true
	})
	eventually(t, 5*time.Second, "a record put with a short ttl expires", func() bool { return gone(b, ctx, "short") })
	eventually(t, 5*time.Second, "a record created with a short ttl expires", func() bool { return gone(a, ctx, "created-short") })
	wantValue(t, a, "long", "v")
	if ok, err := b.Swap(ctx, "short", []byte("v"), []byte("w")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Swap of an expired record = %v, %v; want ErrNotFound", ok, err)
	}
	if l, err := a.List(ctx, ""); err != nil || len(l) != 1 || string(l["long"]) != "v" {
		t.Fatalf("List after expiry = %q, %v; want only long", l, err)
	}
	if err := b.Create(ctx, "short", []byte("again"), 0); err != nil {
		t.Fatalf("Create over an expired record = %v, want nil", err)
	}
	wantValue(t, a, "short", "again")
}

func testPutClearsExpiry(t *testing.T, a, b Store) {
	ctx := t.Context()
	withShortTTL(t, func(ttl time.Duration) bool {
		start := time.Now()
		if err := a.Put(ctx, "k", []byte("v1"), ttl); err != nil {
			t.Fatal(err)
		}
		if err := a.Put(ctx, "witness", []byte("w"), ttl); err != nil {
			t.Fatal(err)
		}
		if err := b.Put(ctx, "k", []byte("v2"), 0); err != nil {
			t.Fatal(err)
		}
		return time.Since(start) < ttl // else k expired before the Put: nothing to judge
	})
	eventually(t, 5*time.Second, "the witness expires", func() bool { return gone(a, ctx, "witness") })
	wantValue(t, a, "k", "v2")
}

func testSwapSemantics(t *testing.T, a, b Store) {
	ctx := t.Context()
	if ok, err := a.Swap(ctx, "token/none", []byte("issued"), []byte("redeemed")); ok || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Swap of a missing record = %v, %v; want false, ErrNotFound", ok, err)
	}
	if err := a.Create(ctx, "token/t", []byte("issued"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Swap(ctx, "token/t", []byte("wrong"), []byte("redeemed")); ok || err != nil {
		t.Fatalf("Swap from another value = %v, %v; want false, nil", ok, err)
	}
	wantValue(t, a, "token/t", "issued")
	if ok, err := b.Swap(ctx, "token/t", []byte("issued"), []byte("redeemed")); !ok || err != nil {
		t.Fatalf("Swap = %v, %v; want true, nil", ok, err)
	}
	if ok, err := a.Swap(ctx, "token/t", []byte("issued"), []byte("redeemed")); ok || err != nil {
		t.Fatalf("second Swap = %v, %v; want false, nil", ok, err)
	}
	wantValue(t, a, "token/t", "redeemed")
}

func testSwapKeepsExpiry(t *testing.T, a, b Store) {
	ctx := t.Context()
	withShortTTL(t, func(ttl time.Duration) bool {
		_ = a.Delete(ctx, "token/e")
		start := time.Now()
		if err := a.Create(ctx, "token/e", []byte("issued"), ttl); err != nil {
			t.Fatal(err)
		}
		ok, err := b.Swap(ctx, "token/e", []byte("issued"), []byte("redeemed"))
		if time.Since(start) >= ttl {
			return false
		}
		if !ok || err != nil {
			t.Fatalf("Swap = %v, %v", ok, err)
		}
		return true
	})
	eventually(t, 5*time.Second, "a swapped record keeps its expiry", func() bool { return gone(b, ctx, "token/e") })
}

// split runs n goroutines, half through a and half through b, started
// together, and waits for them.
func split(n int, a, b Store, f func(i int, s Store)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			f(i, s)
		})
	}
	close(start)
	wg.Wait()
}

func testSwapExactlyOnce(t *testing.T, a, b Store) {
	ctx := t.Context()
	if err := a.Create(ctx, "token/race", []byte("issued"), time.Minute); err != nil {
		t.Fatal(err)
	}
	var wins, losses atomic.Int64
	var errs sync.Map
	split(100, a, b, func(i int, s Store) {
		ok, err := s.Swap(ctx, "token/race", []byte("issued"), []byte("redeemed by "+strconv.Itoa(i)))
		switch {
		case err != nil:
			errs.Store(i, err)
		case ok:
			wins.Add(1)
		default:
			losses.Add(1)
		}
	})
	errs.Range(func(k, v any) bool { t.Errorf("redemption %v: %v", k, v); return true })
	if wins.Load() != 1 || losses.Load() != 99 {
		t.Fatalf("100 redemptions of one token: %d executed, %d refused; want exactly 1 and 99", wins.Load(), losses.Load())
	}
	if v := mustGet(t, b, "token/race"); !bytes.HasPrefix(v, []byte("redeemed by ")) {
		t.Fatalf("after the race the token is %q", v)
	}
}

func testCreateExactlyOnce(t *testing.T, a, b Store) {
	ctx := t.Context()
	var created, exists atomic.Int64
	split(100, a, b, func(i int, s Store) {
		switch err := s.Create(ctx, "once", []byte(strconv.Itoa(i)), time.Minute); {
		case err == nil:
			created.Add(1)
		case errors.Is(err, ErrExists):
			exists.Add(1)
		default:
			t.Errorf("Create %d: %v", i, err)
		}
	})
	if created.Load() != 1 || exists.Load() != 99 {
		t.Fatalf("100 Creates of one key: %d created, %d ErrExists; want 1 and 99", created.Load(), exists.Load())
	}
}

func testAdd(t *testing.T, a, b Store) {
	ctx := t.Context()
	for _, step := range []struct {
		s     Store
		delta int64
		want  int64
	}{{a, 5, 5}, {b, -2, 3}, {a, 0, 3}, {b, 10, 13}} {
		if n, err := step.s.Add(ctx, "counter/x", step.delta, 0); err != nil || n != step.want {
			t.Fatalf("Add(%d) = %d, %v; want %d", step.delta, n, err, step.want)
		}
	}
	wantValue(t, a, "counter/x", "13")
	if err := a.Put(ctx, "text", []byte("not a number"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(ctx, "text", 1, 0); err == nil || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
		t.Fatalf("Add to a non-counter = %v; want a plain error", err)
	}
	wantValue(t, a, "text", "not a number")
	if _, err := a.Add(ctx, "big", 1<<62, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Add(ctx, "big", 1<<62, 0); err == nil || errors.Is(err, ErrUnavailable) {
		t.Fatalf("Add past MaxInt64 = %v; want an overflow error", err)
	}
}

func testAddConcurrent(t *testing.T, a, b Store) {
	ctx := t.Context()
	split(100, a, b, func(i int, s Store) {
		if _, err := s.Add(ctx, "counter/c", 1, time.Minute); err != nil {
			t.Errorf("Add %d: %v", i, err)
		}
	})
	wantValue(t, b, "counter/c", "100")
}

func testAddDoesNotExtendExpiry(t *testing.T, a, b Store) {
	ctx := t.Context()
	if n, err := a.Add(ctx, "counter/w", 1, 200*time.Millisecond); err != nil || n != 1 {
		t.Fatalf("Add = %d, %v", n, err)
	}
	// Adding keeps going; were each Add to extend the expiry the counter
	// would never restart at 1.
	var last int64
	eventually(t, 5*time.Second, "the counter expires although Add is called every 10ms", func() bool {
		n, err := b.Add(ctx, "counter/w", 1, 200*time.Millisecond)
		if err != nil {
			t.Fatalf("Add: %v", err)
		}
		restarted := n <= last
		last = n
		return restarted
	})
	if last != 1 {
		t.Fatalf("a new counter after expiry starts at %d, want 1", last)
	}
}

func testList(t *testing.T, a, b Store) {
	ctx := t.Context()
	put := map[string]string{
		"approval/1": "p1", "approval/2": "p2", "approvals": "not under approval/",
		"token/1": "t1", "x*/1": "star", "x?/1": "question", "x[1]/1": "bracket", `x\/1`: "backslash", "xy/1": "plain",
	}
	for k, v := range put {
		if err := a.Put(ctx, k, []byte(v), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	unlock, ok, err := a.Lock(ctx, "approval/locked", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Lock = %v, %v", ok, err)
	}
	defer unlock()
	check := func(prefix string, want ...string) {
		t.Helper()
		got, err := b.List(ctx, prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		if len(got) != len(want) {
			t.Fatalf("List(%q) = %q, want keys %q", prefix, got, want)
		}
		for _, k := range want {
			if string(got[k]) != put[k] {
				t.Fatalf("List(%q)[%q] = %q, want %q (all: %q)", prefix, k, got[k], put[k], got)
			}
		}
	}
	check("approval/", "approval/1", "approval/2")
	check("approval", "approval/1", "approval/2", "approvals")
	check("x*", "x*/1")
	check("x?", "x?/1")
	check("x[", "x[1]/1")
	check(`x\`, `x\/1`)
	check("nothing/")
	all := make([]string, 0, len(put))
	for k := range put {
		all = append(all, k)
	}
	check("", all...)
}

func testLock(t *testing.T, a, b Store) {
	ctx := t.Context()
	unlock, ok, err := a.Lock(ctx, "renew/convirza", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Lock = %v, %v; want true", ok, err)
	}
	if _, ok, err := b.Lock(ctx, "renew/convirza", time.Minute); ok || err != nil {
		t.Fatalf("second Lock = %v, %v; want false, nil", ok, err)
	}
	if _, ok, err := b.Lock(ctx, "renew/talkdesk", time.Minute); !ok || err != nil {
		t.Fatalf("Lock of another key = %v, %v; want true", ok, err)
	}
	// A lock and a record of the same name are different things.
	wantNotFound(t, a, "renew/convirza")
	if err := a.Put(ctx, "renew/convirza", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "renew/convirza"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.Lock(ctx, "renew/convirza", time.Minute); ok {
		t.Fatal("deleting the record of the same name released the lock")
	}
	unlock()
	unlock() // twice is harmless
	unlock2, ok, err := b.Lock(ctx, "renew/convirza", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Lock after unlock = %v, %v; want true", ok, err)
	}
	unlock() // the first holder's stale unlock must not release the new holder's lock
	if _, ok, _ := a.Lock(ctx, "renew/convirza", time.Minute); ok {
		t.Fatal("an old holder's unlock released the new holder's lock")
	}
	unlock2()
}

func testLockExclusive(t *testing.T, a, b Store) {
	ctx := t.Context()
	if err := a.Put(ctx, "guarded", []byte("0"), 0); err != nil {
		t.Fatal(err)
	}
	var inside, maxInside atomic.Int64
	const n = 20
	split(n, a, b, func(i int, s Store) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			unlock, ok, err := s.Lock(ctx, "mutex", 10*time.Second)
			if err != nil {
				t.Errorf("Lock %d: %v", i, err)
				return
			}
			if ok {
				if in := inside.Add(1); in > maxInside.Load() {
					maxInside.Store(in)
				}
				// A read-modify-write that loses updates unless exclusive.
				v, err := s.Get(ctx, "guarded")
				if err == nil {
					c, _ := strconv.Atoi(string(v))
					err = s.Put(ctx, "guarded", []byte(strconv.Itoa(c+1)), 0)
				}
				inside.Add(-1)
				unlock()
				if err != nil {
					t.Errorf("holder %d: %v", i, err)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("holder %d never got the lock", i)
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	if maxInside.Load() != 1 {
		t.Errorf("%d holders at once", maxInside.Load())
	}
	wantValue(t, a, "guarded", strconv.Itoa(n))
}

func testLockExpiry(t *testing.T, a, b Store) {
	ctx := t.Context()
	stale, ok, err := a.Lock(ctx, "renew", 200*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("Lock = %v, %v", ok, err)
	}
	var unlock func()
	eventually(t, 5*time.Second, "a lock whose holder vanished expires", func() bool {
		u, ok, err := b.Lock(ctx, "renew", time.Minute)
		if err != nil {
			t.Fatalf("Lock: %v", err)
		}
		unlock = u
		return ok
	})
	stale()
	if _, ok, _ := a.Lock(ctx, "renew", time.Minute); ok {
		t.Fatal("the expired holder's unlock released the new holder's lock")
	}
	unlock()
}

func testBadArguments(t *testing.T, a, _ Store) {
	ctx := t.Context()
	if err := a.Put(ctx, "", []byte("v"), 0); err == nil {
		t.Error("Put with an empty key succeeded")
	}
	if err := a.Create(ctx, "k", []byte("v"), -time.Second); err == nil {
		t.Error("Create with a negative ttl succeeded")
	}
	if _, _, err := a.Lock(ctx, "k", 0); err == nil {
		t.Error("Lock without a ttl succeeded")
	}
	if _, err := a.Get(ctx, ""); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get with an empty key = %v, want an error other than ErrNotFound", err)
	}
}

func testClosed(t *testing.T, a, b Store) {
	ctx := t.Context()
	if err := a.Put(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := a.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get after Close = %v, want ErrUnavailable", err)
	}
	if ok, err := a.Swap(ctx, "k", []byte("v"), []byte("w")); ok || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Swap after Close = %v, %v; want ErrUnavailable", ok, err)
	}
	wantValue(t, b, "k", "v")
}
