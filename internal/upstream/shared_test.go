package upstream

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/testenv/syncbuf"
)

func testSealer(t *testing.T) *store.Sealer {
	t.Helper()
	key := make([]byte, store.KeySize)
	_, _ = rand.Read(key)
	s, err := store.NewSealer(key, "test key")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openStores opens the embedded store in one directory n times: each
// opening is what a separate process has (its own locks in memory, the
// file lock shared).
func openStores(t *testing.T, n int) []store.Store {
	t.Helper()
	dir := t.TempDir()
	out := make([]store.Store, n)
	for i := range out {
		st, err := store.Open(context.Background(), "", dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		out[i] = st
	}
	return out
}

// TestSharedRenewOnceAcrossProcesses: many callers in three "processes"
// find the record stale at once; exactly one renews, under the lock, and
// every other caller gets its result from the store.
func TestSharedRenewOnceAcrossProcesses(t *testing.T) {
	sealer := testSealer(t)
	stores := openStores(t, 3)
	var renewals atomic.Int32
	release := make(chan struct{})
	fresh := func(rec []byte) bool { return bytes.Equal(rec, []byte("new")) }
	renew := func(ctx context.Context, rec []byte) ([]byte, time.Duration, error) {
		renewals.Add(1)
		<-release
		return []byte("new"), time.Minute, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	got := make([][]byte, 30)
	errs := make([]error, len(got))
	for i := range got {
		s := &Shared{Store: stores[i%3], Sealer: sealer, Key: "upstream/test/x", Hold: 5 * time.Second, What: "Test"}
		wg.Add(1)
		go func() { defer wg.Done(); got[i], errs[i] = s.Renew(ctx, fresh, renew) }()
	}
	// Let the callers pile up on the lock before the renewal finishes.
	deadline := time.Now().Add(5 * time.Second)
	for renewals.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i := range got {
		if errs[i] != nil || string(got[i]) != "new" {
			t.Fatalf("caller %d: %q, %v", i, got[i], errs[i])
		}
	}
	if n := renewals.Load(); n != 1 {
		t.Fatalf("%d renewals, want 1", n)
	}
	// Stored sealed: the store holds no plaintext.
	raw, err := stores[0].Get(ctx, "upstream/test/x")
	if err != nil || bytes.Contains(raw, []byte("new")) {
		t.Fatalf("stored %q, %v", raw, err)
	}
}

// TestSharedWaiterTakesOverFromAHolderThatGaveUp: a lock left by a process
// that died expires; the waiter then renews itself instead of failing.
func TestSharedWaiterTakesOverFromAHolderThatGaveUp(t *testing.T) {
	sealer := testSealer(t)
	stores := openStores(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := &Shared{Store: stores[1], Sealer: sealer, Key: "upstream/test/y", Hold: 200 * time.Millisecond, What: "Test"}
	if _, ok, err := stores[0].Lock(ctx, s.lockKey(), s.Hold); !ok || err != nil {
		t.Fatalf("lock: %v %v", ok, err)
	}
	rec, err := s.Renew(ctx, func([]byte) bool { return false }, func(context.Context, []byte) ([]byte, time.Duration, error) {
		return []byte("mine"), 0, nil
	})
	if err != nil || string(rec) != "mine" {
		t.Fatalf("%q, %v", rec, err)
	}
}

// TestSharedRecordUnderAnotherKeyFailsClosed: a record sealed with another
// store key, or moved under another name, reads as missing.
func TestSharedRecordUnderAnotherKeyFailsClosed(t *testing.T) {
	st := openStores(t, 1)[0]
	ctx := context.Background()
	a := &Shared{Store: st, Sealer: testSealer(t), Key: "upstream/test/z", Hold: time.Second, What: "Test"}
	if err := a.Save(ctx, []byte("secret"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if rec, err := a.Load(ctx); err != nil || string(rec) != "secret" {
		t.Fatalf("own key: %q %v", rec, err)
	}
	b := &Shared{Store: st, Sealer: testSealer(t), Key: a.Key, Hold: time.Second, What: "Test"}
	if rec, err := b.Load(ctx); err != nil || rec != nil {
		t.Fatalf("another key: %q %v", rec, err)
	}
	raw, _ := st.Get(ctx, a.Key)
	_ = st.Put(ctx, "upstream/test/moved", raw, 0)
	moved := &Shared{Store: st, Sealer: a.Sealer, Key: "upstream/test/moved", Hold: time.Second, What: "Test"}
	if rec, err := moved.Load(ctx); err != nil || rec != nil {
		t.Fatalf("moved: %q %v", rec, err)
	}
}

// TestSharedStoreDownRenewsAlone: with the store unreachable the renewal
// still happens (in memory), and the outage is reported once.
func TestSharedStoreDownRenewsAlone(t *testing.T) {
	st := openStores(t, 1)[0]
	_ = st.Close()
	var logged syncbuf.Buffer
	s := &Shared{Store: st, Sealer: testSealer(t), Key: "upstream/test/w", Hold: time.Second, What: "Test", Log: logTo(&logged)}
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := s.Load(ctx); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Load: %v", err)
		}
		rec, err := s.Renew(ctx, func([]byte) bool { return false }, func(context.Context, []byte) ([]byte, time.Duration, error) {
			return []byte("memory"), 0, nil
		})
		if err != nil || string(rec) != "memory" {
			t.Fatalf("%q %v", rec, err)
		}
	}
	if n := strings.Count(logged.String(), "cannot be reached"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logged.String())
	}
}

// TestSharedNilKeepsNothing: no store, the renewal runs alone.
func TestSharedNilKeepsNothing(t *testing.T) {
	var s *Shared
	ctx := context.Background()
	if rec, err := s.Load(ctx); rec != nil || err != nil {
		t.Fatal(rec, err)
	}
	rec, err := s.Renew(ctx, nil, func(context.Context, []byte) ([]byte, time.Duration, error) { return []byte("x"), 0, nil })
	if err != nil || string(rec) != "x" {
		t.Fatal(rec, err)
	}
	if err := s.Locked(ctx, func(_ context.Context, rec []byte) error {
		if rec != nil {
			t.Error("a record without a store")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func logTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// TestSharedRecordUnderAPreviousKeyOpensAndIsResealed: after the store key
// rotates (current B, previous A), a record A sealed still loads, so
// nobody signs in again, and is written back sealed with B: B alone opens
// it afterwards, and its expiry is kept.
func TestSharedRecordUnderAPreviousKeyOpensAndIsResealed(t *testing.T) {
	st := openStores(t, 1)[0]
	ctx := context.Background()
	keyA, keyB := make([]byte, store.KeySize), make([]byte, store.KeySize)
	_, _ = rand.Read(keyA)
	_, _ = rand.Read(keyB)
	sealerA, _ := store.NewSealer(keyA, "key A")
	sealerB, _ := store.NewSealer(keyB, "key B")
	ring, err := sealerB.WithPrevious("previous keys", keyA)
	if err != nil {
		t.Fatal(err)
	}
	before := &Shared{Store: st, Sealer: sealerA, Key: "upstream/test/rotated", Hold: time.Second, What: "Test"}
	if err := before.Save(ctx, []byte("tokens"), time.Hour); err != nil {
		t.Fatal(err)
	}
	after := &Shared{Store: st, Sealer: ring, Key: before.Key, Hold: time.Second, What: "Test"}
	if rec, err := after.Load(ctx); err != nil || string(rec) != "tokens" {
		t.Fatalf("after the rotation: %q %v; want the tokens A sealed", rec, err)
	}
	onlyB := &Shared{Store: st, Sealer: sealerB, Key: before.Key, Hold: time.Second, What: "Test"}
	if rec, err := onlyB.Load(ctx); err != nil || string(rec) != "tokens" {
		t.Fatalf("B alone after a load under B+A: %q %v; want the record re-sealed with B", rec, err)
	}
	renewed := false
	rec, err := after.Renew(ctx, func([]byte) bool { return true }, func(context.Context, []byte) ([]byte, time.Duration, error) {
		renewed = true
		return []byte("new"), time.Hour, nil
	})
	if err != nil || string(rec) != "tokens" || renewed {
		t.Fatalf("Renew of a fresh record: %q %v renewed=%v; want the stored one, no renewal", rec, err, renewed)
	}
}
