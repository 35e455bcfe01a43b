package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

func TestRenewalSharedByConcurrentCallers(t *testing.T) {
	var r Renewal
	var mu sync.Mutex
	tok := ""
	release := make(chan struct{})
	var obtained atomic.Int32
	current := func() (string, bool) { mu.Lock(); defer mu.Unlock(); return tok, tok != "" }
	obtain := func(ctx context.Context) (string, error) {
		obtained.Add(1)
		<-release
		mu.Lock()
		tok = "T1"
		mu.Unlock()
		return "T1", nil
	}
	// A caller that gives up does not cancel the renewal for the others.
	gaveUp, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := r.Token(gaveUp, "test", current, obtain); errc <- err }()
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], _ = r.Token(context.Background(), "test", current, obtain) }()
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled caller: %v", err)
	}
	close(release)
	wg.Wait()
	for _, g := range got {
		if g != "T1" {
			t.Fatalf("got %q", g)
		}
	}
	if obtained.Load() != 1 {
		t.Fatalf("%d renewals, want 1", obtained.Load())
	}
	if v, _ := r.Token(context.Background(), "test", current, obtain); v != "T1" || obtained.Load() != 1 {
		t.Fatal("a usable token must not be renewed")
	}
}

type fakeCreds struct {
	tokens      []string
	invalidated []string
	renewable   bool
}

func (f *fakeCreds) Token(context.Context) (string, error) {
	return f.tokens[len(f.invalidated)], nil
}

func (f *fakeCreds) Invalidate(tok string) bool {
	f.invalidated = append(f.invalidated, tok)
	return f.renewable
}

func TestDoAuthorizedRenewsOnceOn401(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") != "Bearer good" {
			w.WriteHeader(401)
		}
	}))
	defer srv.Close()
	c := New(nil, Policy{}, nil)
	creds := &fakeCreds{tokens: []string{"stale", "good", "never"}, renewable: true}
	resp, err := c.DoAuthorized(context.Background(), Request{Method: http.MethodPost, URL: srv.URL, Body: []byte("{}")}, creds)
	if err != nil || resp.Status != 200 || len(seen) != 2 || seen[1] != "Bearer good" {
		t.Fatalf("%v %v %v", resp, err, seen)
	}
	seen = nil
	creds = &fakeCreds{tokens: []string{"bad", "bad2", "bad3"}, renewable: true}
	resp, _ = c.DoAuthorized(context.Background(), Request{Method: http.MethodGet, URL: srv.URL}, creds)
	if resp.Status != 401 || len(seen) != 2 {
		t.Fatalf("a second 401 is returned, not retried: %d %v", resp.Status, seen)
	}
	seen = nil
	creds = &fakeCreds{tokens: []string{"bad"}, renewable: false}
	resp, _ = c.DoAuthorized(context.Background(), Request{Method: http.MethodGet, URL: srv.URL}, creds)
	if resp.Status != 401 || len(seen) != 1 {
		t.Fatalf("no renewal possible: %d %v", resp.Status, seen)
	}
}

// A renewal makes its token current before it returns; a caller may use
// that token, see it refused and ask again while the renewal is still
// finishing. Joining that renewal would hand the refused token back (its
// retry fails again); the caller waits for a renewal of its own instead.
func TestRenewalDoesNotHandBackARefusedToken(t *testing.T) {
	var r Renewal
	var mu sync.Mutex
	tok, rejected := "", ""
	current := func() (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		return tok, tok != "" && tok != rejected
	}
	adopted, finish := make(chan struct{}), make(chan struct{})
	var obtained atomic.Int32
	obtain := func(ctx context.Context) (string, error) {
		n := obtained.Add(1)
		next := "T0"
		if n > 1 {
			next = "T1"
		}
		mu.Lock()
		tok = next
		mu.Unlock()
		if n == 1 {
			close(adopted)
			<-finish // the first renewal is slow to finish
		}
		return next, nil
	}
	first := make(chan string, 1)
	go func() { v, _ := r.Token(context.Background(), "test", current, obtain); first <- v }()
	<-adopted
	// Meanwhile a caller gets T0 straight from current, and Convirza
	// refuses it.
	used, ok := current()
	if !ok || used != "T0" {
		t.Fatalf("current = %q, %v", used, ok)
	}
	mu.Lock()
	rejected, tok = used, ""
	mu.Unlock()
	again := make(chan string, 1)
	go func() { v, _ := r.Token(context.Background(), "test", current, obtain); again <- v }()
	close(finish)
	// Known refused by the time the first renewal ends, T0 goes to no one.
	if v := <-first; v != "T1" {
		t.Errorf("the first caller got %q, want T1", v)
	}
	if v := <-again; v != "T1" {
		t.Fatalf("the caller whose T0 was refused got %q back, want a new token", v)
	}
	if n := obtained.Load(); n != 2 {
		t.Errorf("%d renewals, want 2", n)
	}
}
