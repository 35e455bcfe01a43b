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
	// anyOrigin: the answer may carry Access-Control-Allow-Origin: * (the
	// OAuth metadata, token, registration and revocation endpoints, which
	// browser-based clients must reach; they take no cookies).
	anyOrigin bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
		if !r.anyOrigin {
			scrubHeaders(r.Header())
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
		if !r.anyOrigin {
			scrubHeaders(r.Header())
		}
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
// GET stream, so the handler's return says nothing). An SSE request is
// settled by the answer that carries its id; a posted message that gets no
// answer (a response, a notification) is never counted.
type work struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed while n == 0
	// sse holds, per SSE session and request id, the posted requests whose
	// answer is due on the stream, each with what to release once it is
	// written (a per-client call slot, or nil).
	sse map[string]map[string][]func()
}

func newWork() *work {
	w := &work{idle: make(chan struct{}), sse: map[string]map[string][]func(){}}
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

// ssePosted records a request posted to an SSE session whose answer, with
// id, is due on that session's stream; release (may be nil) runs once it
// is settled.
func (w *work) ssePosted(session, id string, release func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := w.sse[session]
	if ids == nil {
		ids = map[string][]func(){}
		w.sse[session] = ids
	}
	ids[id] = append(ids[id], release)
	w.addLocked(1)
}

// sseAnswered records an answer with id written to session's stream (or a
// posted request that was refused and will get none). An answer nobody is
// waiting for changes nothing.
func (w *work) sseAnswered(session, id string) {
	w.mu.Lock()
	ids := w.sse[session]
	waiting := ids[id]
	if len(waiting) == 0 {
		w.mu.Unlock()
		return
	}
	release := waiting[0]
	if len(waiting) == 1 {
		delete(ids, id)
	} else {
		ids[id] = waiting[1:]
	}
	w.addLocked(-1)
	w.mu.Unlock()
	if release != nil {
		release()
	}
}

// sseClosed forgets the answers a closed stream can no longer carry.
func (w *work) sseClosed(session string) {
	w.mu.Lock()
	ids := w.sse[session]
	delete(w.sse, session)
	var releases []func()
	for _, waiting := range ids {
		for _, release := range waiting {
			w.addLocked(-1)
			if release != nil {
				releases = append(releases, release)
			}
		}
	}
	w.mu.Unlock()
	for _, release := range releases {
		release()
	}
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
			if session := s.sessionID(); session != "" {
				s.work.sseAnswered(session, canonicalID(m.ID))
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

// answerDue tells whether mcp-go will answer a message posted to an SSE
// session, and with which id (canonical, see canonicalID). It mirrors
// MCPServer.HandleMessage: the first JSON value of the body is the message;
// one that does not decode, or has no id, gets no answer carrying an id; a
// JSON-RPC 2.0 message with a result is a response and gets none; every
// other message with an id is answered (with a result or an error). A
// response is never waited for, whatever else it carries.
func answerDue(body []byte) (id string, ok bool) {
	var raw json.RawMessage
	if json.NewDecoder(bytes.NewReader(body)).Decode(&raw) != nil {
		return "", false
	}
	var m struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		ID      any    `json:"id"`
		Result  any    `json:"result"`
	}
	if json.Unmarshal(raw, &m) != nil || m.ID == nil {
		return "", false
	}
	if m.JSONRPC == "2.0" && m.Result != nil {
		return "", false
	}
	b, err := json.Marshal(m.ID)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// canonicalID is a JSON-RPC id as mcp-go writes it back: decoded to a Go
// value and encoded again (7.0 and 7 are both 7).
func canonicalID(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	return string(b)
}

// isResponse: an answer to a request of the other side.
func (m rpcPeek) isResponse() bool {
	return m.Method == "" && m.hasID() && (len(m.Result) > 0 || len(m.Error) > 0)
}
