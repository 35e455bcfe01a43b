package server

import (
	"context"
	"net/http"
	"sync"
)

// Defaults for per-client limits a hand-built Config may leave at zero.
const defaultMaxCallsPerClient = 8

// What a client holds at once, as ClientCounter kinds and metric labels.
const (
	limitSessions = "sessions"
	limitCalls    = "calls"
)

// ClientCounter counts, per client, what each holds at once (open sessions,
// running tool calls) and refuses one more past a limit. The server uses an
// in-memory one, per replica; a store shared by replicas can implement the
// same interface.
type ClientCounter interface {
	// Acquire takes one unit of kind for client if the client holds fewer
	// than limit, and reports whether it did.
	Acquire(ctx context.Context, kind, client string, limit int) (bool, error)
	// Release gives back one unit Acquire took.
	Release(ctx context.Context, kind, client string)
}

// memCounter is the in-memory ClientCounter.
type memCounter struct {
	mu   sync.Mutex
	held map[[2]string]int // {kind, client} → units held
}

func newMemCounter() *memCounter { return &memCounter{held: map[[2]string]int{}} }

func (m *memCounter) Acquire(_ context.Context, kind, client string, limit int) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{kind, client}
	if m.held[k] >= limit {
		return false, nil
	}
	m.held[k]++
	return true, nil
}

func (m *memCounter) Release(_ context.Context, kind, client string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{kind, client}
	switch n := m.held[k]; {
	case n > 1:
		m.held[k] = n - 1
	case n == 1:
		delete(m.held, k) // clients come and go: keep no empty entries
	}
}

// clientLimits applies the per-client caps of one HTTP server.
type clientLimits struct {
	counter  ClientCounter
	sessions int // open sessions per client
	calls    int // running tool calls per client
}

// slot is one unit a client holds; release gives it back once, however many
// times it is called.
type slot struct {
	once    sync.Once
	counter ClientCounter
	kind    string
	client  string
}

func (s *slot) release() {
	if s == nil {
		return
	}
	s.once.Do(func() { s.counter.Release(context.Background(), s.kind, s.client) })
}

// acquire takes one unit of kind for client. It returns nil, false when the
// client is at its cap. A counter that fails admits the request: the caps
// share capacity out fairly, they do not guard anything.
func (l *clientLimits) acquire(ctx context.Context, kind, client string) (*slot, bool, error) {
	limit := l.calls
	if kind == limitSessions {
		limit = l.sessions
	}
	ok, err := l.counter.Acquire(ctx, kind, client, limit)
	if err != nil {
		return nil, true, err
	}
	if !ok {
		return nil, false, nil
	}
	return &slot{counter: l.counter, kind: kind, client: client}, true, nil
}

// clientOf is the key per-client limits count under: the caller's principal
// (a digest of its bearer token) when the server checks tokens, otherwise its
// IP address (behind a trusted proxy, the address it forwarded: see
// clientAddr), since a client could send a different made-up token with
// every request to a server that ignores them.
func (h *HTTP) clientOf(r *http.Request) string {
	if len(h.tokens) > 0 || h.oauth != nil {
		if p := principalOf(r); p != "" {
			return p
		}
	}
	return "ip:" + h.clientAddr(r)
}
