package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// recorder wraps a ResponseWriter to learn the status and size of the
// answer, to keep the SSE handler's wildcard CORS header off the wire, and
// (on an SSE stream) to watch the events written.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  atomic.Int64
	// principal is the caller's digest once authenticated, for the log.
	principal string
	// onWrite, when set, sees every write (one SSE event per write).
	onWrite func(p []byte)
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
		scrubHeaders(r.Header())
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
		scrubHeaders(r.Header())
	}
	if r.onWrite != nil {
		r.onWrite(p)
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes.Add(int64(n))
	return n, err
}

// Flush is needed by both transports: the SSE handler refuses to stream
// without it.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// scrubHeaders removes what must never be sent: mcp-go's SSE handler adds
// Access-Control-Allow-Origin: * when no CORS allow list is configured,
// which would let any web page read the stream of a browser that can reach
// the server. Listed origins get their own origin echoed by mcp-go instead.
func scrubHeaders(h http.Header) {
	if h.Get("Access-Control-Allow-Origin") == "*" {
		h.Del("Access-Control-Allow-Origin")
	}
}

// work counts what a graceful shutdown waits for: running Streamable HTTP
// POSTs (their answer is written by the handler itself) and legacy SSE
// requests whose answer has not been written to their stream yet (the
// /message handler answers 202 at once and the result travels later on the
// GET stream, so the handler's return says nothing).
type work struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed while n == 0
	sse  map[string]int
}

func newWork() *work {
	w := &work{idle: make(chan struct{}), sse: map[string]int{}}
	close(w.idle)
	return w
}

func (w *work) addLocked(k int) {
	if w.n == 0 && k > 0 {
		w.idle = make(chan struct{})
	}
	w.n += k
	if w.n == 0 && k < 0 {
		close(w.idle)
	}
}

// begin and end bracket one unit of work.
func (w *work) begin() { w.mu.Lock(); w.addLocked(1); w.mu.Unlock() }
func (w *work) end()   { w.mu.Lock(); w.addLocked(-1); w.mu.Unlock() }

// ssePosted records a request posted to an SSE session; its answer is due
// on that session's stream.
func (w *work) ssePosted(session string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sse[session]++
	w.addLocked(1)
}

// sseAnswered records an answer written to session's stream (or a posted
// request that was refused and will get none).
func (w *work) sseAnswered(session string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sse[session] > 0 {
		w.sse[session]--
		w.addLocked(-1)
	}
}

// sseClosed forgets the answers a closed stream can no longer carry.
func (w *work) sseClosed(session string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if k := w.sse[session]; k > 0 {
		w.addLocked(-k)
	}
	delete(w.sse, session)
}

// wait returns when nothing is in flight, or with ctx's error.
func (w *work) wait(ctx context.Context) error {
	for {
		w.mu.Lock()
		n, idle := w.n, w.idle
		w.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// inFlight is the number of units of work running.
func (w *work) inFlight() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// sseWatcher follows the events mcp-go writes on one legacy SSE stream: the
// first names the session (the endpoint event), each JSON-RPC response
// settles one posted request.
type sseWatcher struct {
	work    *work
	mu      sync.Mutex
	session string
}

func (s *sseWatcher) sessionID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.session
}

func (s *sseWatcher) onWrite(p []byte) {
	event, data, ok := parseSSEEvent(p)
	if !ok {
		return
	}
	switch event {
	case "endpoint":
		if u, err := url.Parse(strings.TrimSpace(data)); err == nil {
			s.mu.Lock()
			if s.session == "" {
				s.session = u.Query().Get("sessionId")
			}
			s.mu.Unlock()
		}
	case "message":
		var m rpcPeek
		if json.Unmarshal([]byte(data), &m) == nil && m.isResponse() {
			if id := s.sessionID(); id != "" {
				s.work.sseAnswered(id)
			}
		}
	}
}

// closed is called when the stream's handler returns.
func (s *sseWatcher) closed() {
	if id := s.sessionID(); id != "" {
		s.work.sseClosed(id)
	}
}

// parseSSEEvent reads "event: NAME\ndata: DATA\n\n" as mcp-go writes it
// (one event per write).
func parseSSEEvent(p []byte) (event, data string, ok bool) {
	rest, found := bytes.CutPrefix(p, []byte("event:"))
	if !found {
		return "", "", false
	}
	name, rest, found := bytes.Cut(rest, []byte("\n"))
	if !found {
		return "", "", false
	}
	rest, found = bytes.CutPrefix(rest, []byte("data:"))
	if !found {
		return "", "", false
	}
	return strings.TrimSpace(string(name)), strings.TrimSpace(string(rest)), true
}

// rpcPeek is the part of a JSON-RPC message the HTTP layer looks at.
type rpcPeek struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func (m rpcPeek) hasID() bool { return len(m.ID) > 0 && string(m.ID) != "null" }

// isRequest: a call that will be answered.
func (m rpcPeek) isRequest() bool { return m.Method != "" && m.hasID() }

// isResponse: an answer to a request of the other side.
func (m rpcPeek) isResponse() bool {
	return m.Method == "" && m.hasID() && (len(m.Result) > 0 || len(m.Error) > 0)
}
