package upstream

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// script answers each request with the next status of a list, recording
// what it saw.
type script struct {
	mu       sync.Mutex
	statuses []int
	headers  []http.Header
	n        atomic.Int32
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(s.n.Add(1)) - 1
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.statuses[len(s.statuses)-1]
	if i < len(s.statuses) {
		st = s.statuses[i]
	}
	if i < len(s.headers) {
		for k, v := range s.headers[i] {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(st)
	_, _ = w.Write([]byte(`{}`))
}

// newClient returns a client whose waits are recorded, not slept.
func newClient(p Policy) (*Client, *[]time.Duration) {
	c := New(nil, p, nil)
	var waits []time.Duration
	var mu sync.Mutex
	c.Sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	return c, &waits
}

func TestRetriesIdempotentMethodsOnly(t *testing.T) {
	for _, tc := range []struct {
		method   string
		statuses []int
		attempts int32
		final    int
	}{
		{http.MethodGet, []int{503, 502, 200}, 3, 200},
		{http.MethodGet, []int{504, 504, 504, 504}, 3, 504}, // budget: 3 attempts
		{http.MethodPut, []int{429, 200}, 2, 200},
		{http.MethodDelete, []int{502, 200}, 2, 200},
		{http.MethodPost, []int{503, 200}, 1, 503}, // never for POST
		{http.MethodPatch, []int{503, 200}, 1, 503},
		{http.MethodGet, []int{500, 200}, 1, 500}, // 500 is not retried
		{http.MethodGet, []int{404, 200}, 1, 404},
	} {
		s := &script{statuses: tc.statuses}
		srv := httptest.NewServer(s)
		c, _ := newClient(Policy{})
		resp, err := c.Do(context.Background(), Request{Method: tc.method, URL: srv.URL + "/x?secret=1"})
		srv.Close()
		if err != nil {
			t.Fatalf("%s %v: %v", tc.method, tc.statuses, err)
		}
		if s.n.Load() != tc.attempts || resp.Status != tc.final {
			t.Errorf("%s %v: %d attempts, final %d; want %d, %d", tc.method, tc.statuses, s.n.Load(), resp.Status, tc.attempts, tc.final)
		}
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	s := &script{statuses: []int{429, 200}, headers: []http.Header{{"Retry-After": {"2"}}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, waits := newClient(Policy{})
	if _, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if len(*waits) != 1 || (*waits)[0] != 2*time.Second {
		t.Fatalf("waits %v, want [2s]", *waits)
	}

	// A Retry-After beyond the cap is not waited for: the 429 is returned.
	s2 := &script{statuses: []int{429, 200}, headers: []http.Header{{"Retry-After": {"3600"}}}}
	srv2 := httptest.NewServer(s2)
	defer srv2.Close()
	c2, waits2 := newClient(Policy{MaxRetryAfter: 5 * time.Second})
	resp, err := c2.Do(context.Background(), Request{Method: http.MethodGet, URL: srv2.URL})
	if err != nil || resp.Status != 429 || len(*waits2) != 0 || s2.n.Load() != 1 {
		t.Fatalf("long Retry-After: %v %v waits %v", resp, err, *waits2)
	}
}

func TestBackoffHasJitterWithinBounds(t *testing.T) {
	c, _ := newClient(Policy{BaseDelay: 100 * time.Millisecond, MaxDelay: 400 * time.Millisecond})
	for attempt, max := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 6: 400 * time.Millisecond} {
		for i := 0; i < 50; i++ {
			d := c.backoff(attempt)
			if d < max/2 || d > max {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, max/2, max)
			}
		}
	}
}

func TestTimeoutPerAttempt(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, _ := newClient(Policy{Timeout: 50 * time.Millisecond})
	start := time.Now()
	_, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL})
	var te *TransportError
	if !errors.As(err, &te) || !te.Timeout {
		t.Fatalf("want a timeout, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("timeout not enforced")
	}
}

func TestConnectionErrorsRetriedForGetNotPost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused

	c, waits := newClient(Policy{})
	_, err = c.Do(context.Background(), Request{Method: http.MethodGet, URL: "http://" + addr})
	if err == nil || len(*waits) != 2 {
		t.Fatalf("GET to a closed port: err %v, %d retries (want 2)", err, len(*waits))
	}
	var te *TransportError
	if !errors.As(err, &te) || te.Sent || te.OutcomeUnknown() {
		t.Fatalf("refused connection: %+v", te)
	}

	c2, waits2 := newClient(Policy{})
	if _, err := c2.Do(context.Background(), Request{Method: http.MethodPost, URL: "http://" + addr, Body: []byte("{}")}); err == nil || len(*waits2) != 0 {
		t.Fatalf("POST retried: %v %v", err, *waits2)
	}
}

func TestOutcomeUnknownWhenWriteSentAndConnectionDropped(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer srv.Close()
	c, _ := newClient(Policy{})
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, URL: srv.URL + "/groups", Body: []byte(`{"a":1}`)})
	var te *TransportError
	if !errors.As(err, &te) || !te.OutcomeUnknown() {
		t.Fatalf("want outcome unknown, got %v", err)
	}
	if n.Load() != 1 {
		t.Fatalf("POST sent %d times", n.Load())
	}
	if got := te.Error(); containsQuery(got) {
		t.Errorf("error echoes the query: %s", got)
	}
}

func containsQuery(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			return true
		}
	}
	return false
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"7":                             7 * time.Second,
		"Thu, 01 Jan 2026 00:00:30 GMT": 30 * time.Second,
		"Wed, 31 Dec 2025 00:00:00 GMT": 0,
	} {
		got, ok := RetryAfter(http.Header{"Retry-After": {v}}, now)
		if !ok || got != want {
			t.Errorf("%q: %v %v, want %v", v, got, ok, want)
		}
	}
	if _, ok := RetryAfter(http.Header{"Retry-After": {"soon"}}, now); ok {
		t.Error("garbage parsed")
	}
}

func TestCancellationStopsRetries(t *testing.T) {
	s := &script{statuses: []int{503}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := New(nil, Policy{BaseDelay: time.Hour, MaxDelay: time.Hour}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	c.Sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepCtx(ctx, d)
	}
	_, err := c.Do(ctx, Request{Method: http.MethodGet, URL: srv.URL})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want cancellation, got %v", err)
	}
}

func TestObserveSeesEveryAttempt(t *testing.T) {
	srv := httptest.NewServer(&script{statuses: []int{503, 200}})
	defer srv.Close()
	c, _ := newClient(Policy{})
	type obs struct {
		method, host string
		status       int
	}
	var mu sync.Mutex
	var seen []obs
	c.Observe = func(method, host string, status int, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, obs{method, host, status})
	}
	if _, err := c.Do(t.Context(), Request{Method: http.MethodGet, URL: srv.URL + "/x?secret=1"}); err != nil {
		t.Fatal(err)
	}
	host := srv.Listener.Addr().String()
	want := []obs{{"GET", host, 503}, {"GET", host, 200}}
	if len(seen) != len(want) || seen[0] != want[0] || seen[1] != want[1] {
		t.Fatalf("observed %v, want %v", seen, want)
	}

	// No answer at all: status 0.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()
	seen = nil
	if _, err := c.Do(t.Context(), Request{Method: http.MethodPost, URL: "http://" + dead + "/x"}); err == nil {
		t.Fatal("want an error from a closed port")
	}
	if len(seen) != 1 || seen[0].status != 0 || seen[0].host != dead {
		t.Fatalf("observed %v", seen)
	}
}

// A DELETE whose first answer was lost is retried; the retry's answer says
// that an earlier attempt may have acted, so a 404 can be read as "gone".
func TestRetriedDeleteSaysAnEarlierAttemptMayHaveActed(t *testing.T) {
	for _, first := range []string{"dropped", "502", "429"} {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) > 1 {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			switch first {
			case "dropped":
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
			case "502":
				w.WriteHeader(http.StatusBadGateway)
			case "429":
				w.WriteHeader(http.StatusTooManyRequests)
			}
		}))
		c, _ := newClient(Policy{})
		resp, err := c.Do(context.Background(), Request{Method: http.MethodDelete, URL: srv.URL + "/routes/7003"})
		srv.Close()
		if err != nil {
			t.Fatalf("%s: %v", first, err)
		}
		// A 429 means the upstream did not act: its retry's 404 is a real one.
		wantRetried := first != "429"
		if n.Load() != 2 || resp.Status != http.StatusNotFound || resp.Retried != wantRetried {
			t.Errorf("%s: %d attempts, status %d, Retried %v; want 2, 404, %v", first, n.Load(), resp.Status, resp.Retried, wantRetried)
		}
		if got := resp.GoneAfterRetry(http.MethodDelete); got != wantRetried {
			t.Errorf("%s: GoneAfterRetry = %v", first, got)
		}
	}

	// A first answer, even a 404, is what it says.
	srv := httptest.NewServer(&script{statuses: []int{404}})
	defer srv.Close()
	c, _ := newClient(Policy{})
	resp, err := c.Do(context.Background(), Request{Method: http.MethodDelete, URL: srv.URL})
	if err != nil || resp.Retried || resp.GoneAfterRetry(http.MethodDelete) {
		t.Fatalf("plain 404: %+v %v", resp, err)
	}
}

// A DELETE with a body (a bulk delete) is never sent twice: a repeat would
// answer "nothing deleted" and the real counts would be lost. A lost
// answer is an unknown outcome, as for a POST.
func TestBodyDeleteNeverRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer srv.Close()
	c, waits := newClient(Policy{})
	_, err := c.Do(context.Background(), Request{Method: http.MethodDelete, URL: srv.URL + "/records/bulks", Body: []byte(`[{"id":"a"}]`)})
	var te *TransportError
	if !errors.As(err, &te) || !te.OutcomeUnknown() {
		t.Fatalf("want outcome unknown, got %v", err)
	}
	if n.Load() != 1 || len(*waits) != 0 {
		t.Fatalf("bulk DELETE sent %d times", n.Load())
	}

	s := &script{statuses: []int{503, 200}}
	srv2 := httptest.NewServer(s)
	defer srv2.Close()
	resp, err := c.Do(context.Background(), Request{Method: http.MethodDelete, URL: srv2.URL, Body: []byte(`[]`)})
	if err != nil || resp.Status != 503 || s.n.Load() != 1 {
		t.Fatalf("bulk DELETE on 503: %v %v, %d attempts", resp, err, s.n.Load())
	}

	// Without a body a DELETE is still retried, and a lost answer is not
	// an unknown outcome: the retry settles it.
	te2 := &TransportError{Method: http.MethodDelete, Sent: true}
	if te2.OutcomeUnknown() {
		t.Fatal("a body-less DELETE reported an unknown outcome")
	}
}
