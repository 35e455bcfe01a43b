package policy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeHierarchy serves a small tree: 1001 > 1003 > {1042, 1043}, 1001 > 1004.
type fakeHierarchy struct {
	mu    sync.Mutex
	tree  map[int64][]int64
	calls atomic.Int32
	fail  atomic.Bool
}

func (f *fakeHierarchy) fetch(_ context.Context, ou int64) ([]int64, error) {
	f.calls.Add(1)
	if f.fail.Load() {
		return nil, errors.New("upstream down")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []int64{ou}
	var walk func(int64)
	walk = func(id int64) {
		for _, c := range f.tree[id] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(ou)
	return out, nil
}

func (f *fakeHierarchy) add(parent, child int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tree[parent] = append(f.tree[parent], child)
}

func newFake() *fakeHierarchy {
	return &fakeHierarchy{tree: map[int64][]int64{1001: {1003, 1004}, 1003: {1042, 1043}}}
}

func TestScopeCheck(t *testing.T) {
	f := newFake()
	s := NewScope([]int64{1003}, f.fetch, time.Minute)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	ctx := context.Background()

	if err := s.Check(ctx, []int64{1003, 1042}); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx, []int64{1043}); err != nil || f.calls.Load() != 1 {
		t.Fatalf("cached: %v, %d fetches", err, f.calls.Load())
	}

	err := s.Check(ctx, []int64{1042, 1002, 1004})
	var oos *OutOfScopeError
	if !errors.As(err, &oos) || len(oos.Units) != 2 {
		t.Fatalf("out of scope: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "org units 1002 and 1004 are outside this server's scope (org unit 1003 and its descendants)") {
		t.Errorf("message: %s", msg)
	}
	if f.calls.Load() != 2 {
		t.Errorf("a miss looks again once before refusing: %d fetches", f.calls.Load())
	}

	// A unit created a moment ago is found on a miss, without waiting for
	// the cache to expire.
	f.add(1042, 2001)
	if err := s.Check(ctx, []int64{2001}); err != nil {
		t.Fatalf("new unit: %v", err)
	}

	// Expiry.
	before := f.calls.Load()
	now = now.Add(2 * time.Minute)
	if err := s.Check(ctx, []int64{1003}); err != nil || f.calls.Load() != before+1 {
		t.Fatalf("expired entry refetched: %v, %d", err, f.calls.Load()-before)
	}

	// Forget drops the cache.
	s.Forget()
	if err := s.Check(ctx, []int64{1003}); err != nil || f.calls.Load() != before+2 {
		t.Fatalf("after Forget: %v", err)
	}

	// Failures are not cached and fail closed.
	s.Forget()
	f.fail.Store(true)
	if err := s.Check(ctx, []int64{1003}); err == nil || errors.As(err, &oos) || !strings.Contains(err.Error(), "could not resolve the org-unit scope") {
		t.Fatalf("failure: %v", err)
	}
	f.fail.Store(false)
	if err := s.Check(ctx, []int64{1003}); err != nil {
		t.Fatalf("recovered: %v", err)
	}
}

func TestScopeMembersAndRoots(t *testing.T) {
	f := newFake()
	s := NewScope([]int64{1042, 1004}, f.fetch, 0)
	if _, ok := s.Root(); ok {
		t.Error("two roots have no single root")
	}
	in, err := s.Members(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]bool{1042: true, 1004: true, 1003: false, 1043: false, 1001: false} {
		if in(id) != want {
			t.Errorf("member %d: %v", id, !want)
		}
	}
	if err := (&NeedOrgUnitError{Roots: s.Roots()}).Error(); !strings.Contains(err, "org units 1042 and 1004") {
		t.Errorf("message: %s", err)
	}
}

// TestScopeConcurrent: many callers at once get right answers (run with
// -race); they share lookups rather than each making one.
func TestScopeConcurrent(t *testing.T) {
	f := newFake()
	s := NewScope([]int64{1003}, f.fetch, time.Minute)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unit, ok := int64(1042), true
			if i%2 == 1 {
				unit, ok = 1004, false
			}
			err := s.Check(context.Background(), []int64{unit})
			if (err == nil) != ok {
				t.Errorf("unit %d: %v", unit, err)
			}
			if i%8 == 0 {
				s.Forget()
			}
		}()
	}
	wg.Wait()
	if n := f.calls.Load(); n > 64 {
		t.Errorf("%d fetches for 64 checks", n)
	}
}

// TestScopeLookupOutlivesTheAsker: a caller that gives up does not break the
// shared lookup for the others.
func TestScopeLookupOutlivesTheAsker(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	var once sync.Once
	fetch := func(ctx context.Context, ou int64) ([]int64, error) {
		once.Do(func() { close(started) })
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return []int64{ou, 1042}, nil
	}
	s := NewScope([]int64{1003}, fetch, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Check(ctx, []int64{1042}) }()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the asker that gave up: %v", err)
	}
	close(release)
	if err := s.Check(context.Background(), []int64{1042}); err != nil {
		t.Fatalf("the shared lookup: %v", err)
	}
}
