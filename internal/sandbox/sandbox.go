// Package sandbox simulates the Convirza v3 API (and its OAuth service) and
// Talkdesk's Record Lists API (and its token endpoint) over real HTTP on
// loopback, with a deterministic demo account. It enforces what
// the documentation says (envelopes, roles, soft deletes, deletion rules,
// validation, pagination limits, token expiry and single-use refresh
// rotation) and can inject faults for tests.
//
// It deliberately imports neither the API clients nor package schemas: it is
// an independent restatement of the documented wire format, so a wrong JSON
// tag on the client side fails a test instead of agreeing with itself.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/convirza/convirza-mcp/internal/sandbox/talkdesksim"
)

// Demo credentials of the seeded account.
const (
	DemoEmail    = "admin@summit-demo.example"
	DemoPassword = "sandbox-demo"
	// StandardEmail and ReadOnlyEmail log in with DemoPassword too.
	StandardEmail = "standard@summit-demo.example"
	ReadOnlyEmail = "readonly@summit-demo.example"
)

// Options tune a simulator.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// AccessTTL and RefreshTTL default to the documented 7 and 180 days.
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// TalkdeskTokenTTL defaults to the documented 10 minutes.
	TalkdeskTokenTTL time.Duration
}

// Server is the simulator. It is an http.Handler; Start serves it on loopback.
type Server struct {
	opts    Options
	handler http.Handler

	mu    sync.Mutex
	st    *state
	td    *talkdesksim.Sim
	calls []string
	// requests are the same requests with their queries.
	requests []string
	aborted  int
	fault    []*Fault
}

// New returns a simulator seeded with the demo account.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AccessTTL <= 0 {
		opts.AccessTTL = 7 * 24 * time.Hour
	}
	if opts.RefreshTTL <= 0 {
		opts.RefreshTTL = 180 * 24 * time.Hour
	}
	if opts.TalkdeskTokenTTL <= 0 {
		opts.TalkdeskTokenTTL = 10 * time.Minute
	}
	s := &Server{opts: opts, st: seed(opts.Now()),
		td: talkdesksim.New(talkdesksim.Options{Now: opts.Now, TokenTTL: opts.TalkdeskTokenTTL})}
	mux := http.NewServeMux()
	s.routeAuth(mux)
	s.routeGroups(mux)
	s.routeUsers(mux)
	s.routeWebhooks(mux)
	s.routeAccount(mux)
	s.routeConversations(mux)
	s.routeBroadcasts(mux)
	s.td.Register(mux)
	s.routeNumbers(mux)
	s.routeRoutes(mux)
	s.routeVoiceAgents(mux)
	s.routeMedia(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s %s", r.Method, r.URL.Path), nil)
	})
	s.handler = s.withFaults(mux)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls = append(s.calls, r.Method+" "+r.URL.Path)
	s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
	s.mu.Unlock()
	s.handler.ServeHTTP(w, r)
}

// Calls returns every request received so far, as "METHOD /path".
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// Requests returns every request received so far with its query, as
// "METHOD /path?query".
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// ResetCalls forgets the requests received so far.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.requests = nil, nil
}

// Running is a simulator served on a loopback port.
type Running struct {
	*Server
	URL      string // http://127.0.0.1:port
	APIURL   string // URL + "/v3"
	OAuthURL string // URL
	// TalkdeskAPIURL and TalkdeskTokenURL are the Record Lists API base
	// (URL + "/talkdesk") and its token endpoint.
	TalkdeskAPIURL   string
	TalkdeskTokenURL string
	srv              *http.Server

	connMu sync.Mutex
	unused map[net.Conn]struct{} // accepted, no request read yet
}

// Start serves s on 127.0.0.1 on a free port.
func (s *Server) Start() (*Running, error) { return s.StartOn("127.0.0.1:0") }

// StartOn serves s on addr (host:port; port 0 picks a free one).
func (s *Server) StartOn(addr string) (*Running, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox listen: %w", err)
	}
	base := "http://" + ln.Addr().String()
	r := &Running{Server: s, URL: base, APIURL: base + "/v3", OAuthURL: base,
		TalkdeskAPIURL: base + talkdesksim.Prefix, TalkdeskTokenURL: base + talkdesksim.TokenPath, unused: map[net.Conn]struct{}{}}
	r.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ConnState: r.track}
	go func() {
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener is ours; Serve only fails when it is closed
		}
	}()
	return r, nil
}

func (r *Running) track(c net.Conn, st http.ConnState) {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	if st == http.StateNew {
		r.unused[c] = struct{}{}
	} else {
		delete(r.unused, c)
	}
}

// Close stops serving. Connections a client dialled but never used (an
// HTTP client dials spares under concurrency) are closed first: Go's
// Shutdown would otherwise wait 5 s for them, and every process using the
// sandbox would take that long to exit.
func (r *Running) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.connMu.Lock()
	for c := range r.unused {
		_ = c.Close()
	}
	r.connMu.Unlock()
	return r.srv.Shutdown(ctx)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
