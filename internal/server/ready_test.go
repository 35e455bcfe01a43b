package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestReadinessIsCached(t *testing.T) {
	t.Parallel()
	var hits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound) // any answer counts
	}))
	defer srv.Close()
	r := newReadiness(slog.New(slog.DiscardHandler), srv.URL+"/a", srv.URL+"/v3")
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	for range 3 {
		if down := r.check(t.Context()); len(down) != 0 {
			t.Fatalf("down: %v", down)
		}
	}
	now = now.Add(readyCacheOK)
	r.check(t.Context())
	if hits != 2 {
		t.Errorf("%d probes for two cache periods and one host, want 2", hits)
	}
}
