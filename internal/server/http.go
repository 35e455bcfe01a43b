package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/policy"
)

// Defaults for settings a hand-built Config may leave at zero.
const (
	defaultMaxRequestBody = 4 << 20
	defaultMaxSessions    = 1000
	// readTimeout bounds reading a whole request, headers and body. net/http
	// lifts the read deadline once the body is read (to notice a client
	// going away), so it does not limit long SSE streams or slow calls.
	// There is deliberately no WriteTimeout: that one would cut streams.
	readTimeout       = 30 * time.Second
	readHeaderTimeout = 10 * time.Second
)

// Endpoints of the HTTP transport.
const (
	pathMCP     = "/mcp"
	pathSSE     = "/sse"
	pathMessage = "/message"
	pathHealth  = "/healthz"
	pathReady   = "/readyz"
	pathMetrics = "/metrics"
)

// HTTP is the HTTP transport: Streamable HTTP at /mcp, legacy SSE at /sse
// and /message, probes at /healthz and /readyz, Prometheus metrics at
// /metrics; one listener.
type HTTP struct {
	app        *App
	log        *slog.Logger
	obs        *observer
	sse        *server.SSEServer
	streamable *server.StreamableHTTPServer
	ready      *readiness
	work       *work
	handler    http.Handler
	// approvals are the approval pages (/approvals), with their own
	// authentication: an approver, never an MCP client's token.
	approvals *approvalPages
	// publicOrigin is the origin of CONVIRZA_MCP_PUBLIC_URL, always allowed.
	publicOrigin string

	tokens [][32]byte // digests of the accepted bearer tokens
	// oauth: people sign in (CONVIRZA_MCP_AUTH=oauth) and their access
	// tokens replace the shared bearer token on the MCP endpoints.
	oauth *oauth.Server
	// authRequired: CONVIRZA_MCP_AUTH_TOKEN is set. When it names no token
	// (config refuses that; a hand-built Config might not), every request
	// is refused rather than served without authentication.
	authRequired bool
	limits       clientLimits
	maxBody      int64
	readTimeout  time.Duration
	draining     atomic.Bool

	connMu   sync.Mutex
	newConns map[net.Conn]struct{} // accepted, no request byte read yet
}

// NewHTTP builds the HTTP handlers of the app.
func (a *App) NewHTTP() *HTTP {
	cfg := a.Config
	h := &HTTP{app: a, log: a.log, obs: a.obs, work: newWork(), maxBody: cfg.MaxBodyBytes, readTimeout: readTimeout,
		newConns: map[net.Conn]struct{}{}, oauth: a.OAuth}
	if h.maxBody <= 0 {
		h.maxBody = defaultMaxRequestBody
	}
	for _, t := range cfg.AuthTokens() {
		h.tokens = append(h.tokens, sha256.Sum256([]byte(t)))
	}
	h.authRequired = cfg.AuthToken != ""
	if h.authRequired && len(h.tokens) == 0 {
		a.log.Error("CONVIRZA_MCP_AUTH_TOKEN holds no token: every request needing one is refused")
	}
	h.limits = clientLimits{counter: a.clients, sessions: cfg.MaxSessionsPerClient, calls: cfg.MaxCallsPerClient}
	if h.limits.sessions <= 0 {
		h.limits.sessions = max(1, a.obs.sessions.max/2)
	}
	if h.limits.calls <= 0 {
		h.limits.calls = defaultMaxCallsPerClient
	}
	if a.confirm != nil && a.confirm.Pages == nil && len(cfg.ApproverTokens()) > 0 {
		// Before serving: every call sees it. Pages nobody can sign in
		// to are not offered.
		a.confirm.Pages = a.pages
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && cfg.PublicURL != "" {
		h.publicOrigin = u.Scheme + "://" + u.Host
	}
	otherApprover := a.Plan != nil && a.Plan.Policy.Policy.OtherApprover
	po := pagesOptions{approvals: a.Approvals, store: a.Store, log: a.log,
		approverTokens: cfg.ApproverTokens(), secure: strings.HasPrefix(cfg.PublicURL, "https://"),
		cookie: "convirza-approver", trusted: h.publicOrigin, clientIP: h.clientAddr}
	if a.OAuth != nil {
		po.people = a.OAuth // approvers sign in as people, with their Convirza account
		po.plan = a.Plan    // and approve only what they could do themselves
	}
	h.approvals = newApprovalPages(po)
	// Under the four-eyes rule the client's own form is never an approval:
	// the person asking would be the one answering.
	trusted := a.Plan != nil && a.Plan.Policy.Policy.TrustClientElicitation && !otherApprover
	withPrincipal := func(ctx context.Context, r *http.Request) context.Context {
		ctx = policy.WithPrincipal(ctx, principalOf(r))
		if sub, ok := oauth.SubjectFrom(r.Context()); ok {
			ctx = oauth.WithSubject(ctx, sub)
			ctx = policy.WithPersonName(ctx, sub.Email)
		}
		if !trusted {
			// Anything holding the bearer token can declare elicitation
			// and answer "accept" itself: its form is no person's yes.
			ctx = policy.WithUntrustedElicitation(ctx)
		}
		return ctx
	}
	h.streamable = server.NewStreamableHTTPServer(a.MCP,
		server.WithEndpointPath(pathMCP),
		server.WithHTTPContextFunc(withPrincipal),
		server.WithSessionIdleTTL(cfg.SessionIdleTTL),
		server.WithStreamableHTTPLogger(a.log),
	)
	h.sse = server.NewSSEServer(a.MCP,
		server.WithStaticBasePath(""),
		server.WithSSEEndpoint(pathSSE),
		server.WithMessageEndpoint(pathMessage),
		server.WithSSEContextFunc(withPrincipal),
		server.WithKeepAliveInterval(25*time.Second),
		server.WithSSECORS(server.WithCORSAllowedOrigins(cfg.AllowedOrigins...)),
	)
	if a.Sandbox != nil {
		h.ready = newReadiness(a.log, a.Sandbox.OAuthURL, a.Sandbox.APIURL)
	} else {
		h.ready = newReadiness(a.log, cfg.Convirza.OAuthURL, cfg.Convirza.APIURL)
	}

	mux := http.NewServeMux()
	mux.Handle(pathMCP, h.streamable)
	mux.Handle(pathSSE, h.sse.SSEHandler())
	mux.Handle(pathMessage, h.sse.MessageHandler())
	mux.HandleFunc("GET "+pathHealth, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET "+pathReady, h.serveReady)
	mux.Handle(pathApprovals, h.approvals)
	mux.Handle(pathApprovals+"/", h.approvals)
	mux.Handle("GET "+pathMetrics, promhttp.HandlerFor(a.obs.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelError)}))
	h.handler = h.accessLog(h.guard(mux))
	return h
}

// ServeHTTP implements http.Handler.
func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

func (h *HTTP) serveReady(w http.ResponseWriter, r *http.Request) {
	if h.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "shutting down"})
		return
	}
	if status, why := h.app.fence.state(); why != "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": status, "reason": why})
		return
	}
	if down := h.ready.check(r.Context()); len(down) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "upstream unreachable", "unreachable": down})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
}

// accessLog writes one line per request at info level, and counts it. It
// never logs the Authorization header or the query string: only who (a
// digest of the token, once it was accepted, and the client's address:
// behind a trusted proxy, the one it forwarded, with the proxy's beside
// it), what path, and how it went.
func (h *HTTP) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		var watch *sseWatcher
		if r.URL.Path == pathSSE && r.Method == http.MethodGet {
			watch = &sseWatcher{work: h.work}
			rec.onWrite = watch.onWrite
			defer watch.closed()
		}
		next.ServeHTTP(rec, r)

		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		h.obs.httpRequests.WithLabelValues(routeOf(r.URL.Path), strconv.Itoa(status)).Inc()
		session := r.Header.Get(server.HeaderKeySessionID)
		switch {
		case session == "" && rec.Header().Get(server.HeaderKeySessionID) != "":
			session = rec.Header().Get(server.HeaderKeySessionID)
		case r.URL.Path == pathMessage:
			session = r.URL.Query().Get("sessionId")
		case watch != nil:
			session = watch.sessionID()
		}
		principal := rec.principal
		if principal == "" {
			principal = "-"
		}
		remote := h.clientAddr(r)
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Int64("bytes", rec.bytes.Load()),
			slog.Duration("duration", time.Since(start)),
			slog.String("session", session),
			slog.String("principal", principal),
			slog.String("remote", remote),
		}
		if peer := remoteHost(r); peer != remote {
			attrs = append(attrs, slog.String("proxy", peer)) // remote came from its X-Forwarded-For
		}
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "http", attrs...)
	})
}

// guard enforces, before any MCP handling and in this order: on a loopback
// connection of a server without a token, the Host must be a loopback name
// (403, against DNS rebinding); a present Origin must be allowed (403); the
// bearer token must match when one is configured (401), on every endpoint
// but the probes; the body fits the cap (413); a session is used only by
// the client that opened it (403); a tool call fits under the client's cap
// of running calls (429); no new work while shutting down (503); a new
// session fits under the client's cap (429) and the server's (503). It also
// records who is calling in the request's context.
func (h *HTTP) guard(next http.Handler) http.Handler {
	cfg := h.app.Config
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(h.tokens) == 0 && !h.authRequired && foreignHost(r) {
			httpError(w, http.StatusForbidden, "Host not allowed: this server answers loopback names only")
			return
		}
		if h.oauth != nil && h.oauth.Serves(r.URL.Path) {
			// Sign-in, tokens, metadata: public endpoints with their own
			// checks (the sign-in form accepts only its own origin), whose
			// CORS answer is their own.
			if rec, ok := w.(*recorder); ok {
				rec.anyOrigin = true
			}
			h.oauth.ServeHTTP(w, r)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !originAllowed(o, cfg.AllowedOrigins) && o != h.publicOrigin &&
			(!isApprovalsPath(r.URL.Path) || o != selfOrigin(r)) {
			httpError(w, http.StatusForbidden, "origin not allowed")
			return
		}
		if r.URL.Path == pathHealth || r.URL.Path == pathReady {
			next.ServeHTTP(w, r)
			return
		}
		if isApprovalsPath(r.URL.Path) {
			// The approval pages authenticate approvers themselves: an MCP
			// client's bearer token is no approver.
			next.ServeHTTP(w, r)
			return
		}
		if h.oauth != nil {
			var ok bool
			if r, ok = h.authenticate(w, r); !ok {
				return
			}
		} else if !h.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="convirza-mcp"`)
			httpError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		if r.URL.Path == pathMetrics {
			next.ServeHTTP(w, r)
			return
		}

		principal := principalOf(r)
		rec, ok := w.(*recorder)
		if !ok {
			rec = &recorder{ResponseWriter: w}
			w = rec
		}
		rec.principal = principal // authenticated: worth logging
		client := h.clientOf(r)

		var (
			msg  rpcPeek
			body []byte
		)
		if r.Method == http.MethodPost {
			var ok bool
			if body, ok = h.readBody(w, r); !ok {
				return
			}
			_ = json.Unmarshal(body, &msg) // a batch or garbage: mcp-go answers it
		}

		session := r.Header.Get(server.HeaderKeySessionID)
		if r.URL.Path == pathMessage {
			session = r.URL.Query().Get("sessionId")
		}
		known := false
		if session != "" {
			if o, ok := h.obs.sessions.owner(session); ok {
				if o.principal != principal {
					httpError(w, http.StatusForbidden, "this session belongs to another client")
					return
				}
				known = true
			}
		}

		// A tool call takes one of the client's call slots until it is
		// answered: a Streamable HTTP POST when its handler returns, a legacy
		// SSE post when the answer is written to the stream.
		var sseID string
		sseDue := false
		if r.URL.Path == pathMessage && r.Method == http.MethodPost && known {
			sseID, sseDue = answerDue(body)
		}
		var call *slot
		if msg.Method == string(mcp.MethodToolsCall) && ((r.URL.Path == pathMCP && r.Method == http.MethodPost) || sseDue) {
			s, ok, err := h.limits.acquire(r.Context(), limitCalls, client)
			if err != nil {
				h.log.Warn("per-client call count unavailable; call admitted", "err", err)
			}
			if !ok {
				h.refuseClient(w, limitCalls, "1", fmt.Sprintf("this client already has %d tool calls running (CONVIRZA_MCP_MAX_CALLS_PER_CLIENT); retry when one has finished", h.limits.calls))
				return
			}
			call = s
			if !sseDue {
				defer call.release()
			}
		}

		// Work a shutdown must wait for is registered before the draining
		// check, so a shutdown either sees it or it sees the shutdown.
		switch {
		case r.URL.Path == pathMCP && r.Method != http.MethodGet:
			h.work.begin()
			defer h.work.end()
		case sseDue:
			var release func()
			if call != nil {
				release = call.release
			}
			h.work.ssePosted(session, sseID, release)
			defer func() {
				if rec.status != http.StatusAccepted {
					h.work.sseAnswered(session, sseID) // refused: no answer will come on the stream
				}
			}()
		}
		// While draining, only answers to the server's own questions (an
		// elicitation answer lets an in-flight call finish) and session
		// terminations get through.
		if h.draining.Load() && !msg.isResponse() && r.Method != http.MethodDelete {
			w.Header().Set("Connection", "close")
			w.Header().Set("Retry-After", "1")
			httpError(w, http.StatusServiceUnavailable, "server is shutting down")
			return
		}

		ctx := policy.WithPrincipal(r.Context(), principal)
		newSession := ""
		switch {
		case r.URL.Path == pathSSE && r.Method == http.MethodGet:
			newSession = transportSSE
		case r.URL.Path == pathMCP && r.Method == http.MethodGet && !known,
			r.URL.Path == pathMCP && r.Method == http.MethodPost && msg.Method == "initialize":
			newSession = transportStreamable
		}
		if newSession != "" {
			held, ok, err := h.limits.acquire(ctx, limitSessions, client)
			if err != nil {
				h.log.Warn("per-client session count unavailable; session admitted", "err", err)
			}
			if !ok {
				h.refuseClient(w, limitSessions, "30", fmt.Sprintf("this client already has %d open sessions (CONVIRZA_MCP_MAX_SESSIONS_PER_CLIENT); close one or retry later", h.limits.sessions))
				return
			}
			t, err := h.obs.sessions.admit(newSession, principal, held)
			if err != nil {
				held.release()
				h.obs.sessionsRefused.Inc()
				w.Header().Set("Retry-After", "30")
				httpError(w, http.StatusServiceUnavailable, fmt.Sprintf("%v: this server accepts %d; retry later", err, h.obs.sessions.max))
				return
			}
			defer t.release()
			ctx = context.WithValue(ctx, ticketKey{}, t)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// refuseClient answers 429: the client is at one of its own caps.
func (h *HTTP) refuseClient(w http.ResponseWriter, limit, retryAfter, msg string) {
	h.obs.clientRefused.WithLabelValues(limit).Inc()
	w.Header().Set("Retry-After", retryAfter)
	httpError(w, http.StatusTooManyRequests, msg)
}

// authorized checks the bearer token in constant time against every
// accepted one (rotation); true when none is configured.
func (h *HTTP) authorized(r *http.Request) bool {
	if !h.authRequired {
		return true
	}
	tok, ok := bearer(r)
	got := sha256.Sum256([]byte(tok))
	match := 0
	for _, want := range h.tokens {
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return ok && match == 1
}

// readBody reads a POST body whole under the size cap (the server's
// ReadTimeout bounds the time), and puts it back for the handler. It
// answers 413 (or 408, 400) itself and returns false when the body cannot
// be had. A body with a Content-Length is read into one buffer of that
// size; the handler's read takes the bytes over (see handOver), so the
// guard's copy is not kept beside the handler's for the whole call.
func (h *HTTP) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > h.maxBody {
		w.Header().Set("Connection", "close")
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", h.maxBody))
		return nil, false
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, h.maxBody), r.ContentLength)
	if err != nil {
		var tooBig *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &tooBig):
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", h.maxBody))
		case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
			httpError(w, http.StatusRequestTimeout, "request body not received in time")
		default:
			httpError(w, http.StatusBadRequest, "could not read the request body")
		}
		return nil, false
	}
	r.Body = &handOver{b: body}
	r.ContentLength = int64(len(body))
	return body, true
}

// readAll reads r to its end; size, when known (≥ 0), is exactly what r
// holds (net/http ends a request body at its Content-Length), and the
// buffer is allocated once at that size.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size < 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// handOver is a request body read once: it gives its bytes to the reader
// and forgets them as they are read, so they can be freed as soon as the
// reader holds its own copy.
type handOver struct{ b []byte }

func (h *handOver) Read(p []byte) (int, error) {
	if len(h.b) == 0 {
		h.b = nil
		return 0, io.EOF
	}
	n := copy(p, h.b)
	h.b = h.b[n:]
	if len(h.b) == 0 {
		h.b = nil
	}
	return n, nil
}

func (h *handOver) Close() error {
	h.b = nil
	return nil
}

// bearer returns the token of an "Authorization: Bearer" header (the scheme
// is case-insensitive).
func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", false
	}
	return strings.TrimSpace(v[7:]), true
}

// principalOf names the client by a digest of its bearer token, so a
// confirmation issued to one client cannot be redeemed by another, and logs
// can tell clients apart without holding their secret.
func principalOf(r *http.Request) string {
	if sub, ok := oauth.SubjectFrom(r.Context()); ok {
		return sub.Principal() // a person signed in: "user:<Convirza user id>"
	}
	tok, ok := bearer(r)
	if !ok || tok == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(tok))
	return fmt.Sprintf("bearer:%x", sum[:8])
}

// selfOrigin is the origin of a page this server served for r's Host (a
// form on the approval pages posts with it).
func selfOrigin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// originAllowed accepts listed origins, and loopback origins when none are
// listed.
func originAllowed(origin string, allowed []string) bool {
	if slices.Contains(allowed, origin) {
		return true
	}
	if len(allowed) > 0 {
		return false
	}
	rest, ok := strings.CutPrefix(origin, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(origin, "https://")
	}
	if !ok {
		return false
	}
	return loopbackName(rest)
}

// foreignHost reports a request that came in on a loopback address but
// names another host: what a browser sends after a page's own domain was
// rebound to 127.0.0.1 (DNS rebinding). mcp-go refuses those on /mcp and
// /sse; the guard does it on every endpoint of a server without a token.
func foreignHost(r *http.Request) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok || local == nil {
		return false
	}
	return loopbackName(local.String()) && !loopbackName(r.Host)
}

// loopbackName reports whether a host or host:port is localhost or a
// loopback IP address.
func loopbackName(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// routeOf maps a path to a bounded metric label.
func routeOf(path string) string {
	switch path {
	case pathMCP, pathSSE, pathMessage, pathHealth, pathReady, pathMetrics:
		return path
	}
	if isApprovalsPath(path) {
		return pathApprovals
	}
	return "other"
}

func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// connState tracks connections that have not sent a byte yet. Go's
// Server.Shutdown only treats such a connection as idle after 5 seconds, so
// a client that opened a spare connection (Node's fetch does) would hold a
// shutdown that long; while draining they are closed at once.
func (h *HTTP) connState(c net.Conn, st http.ConnState) {
	h.connMu.Lock()
	defer h.connMu.Unlock()
	switch st {
	case http.StateNew:
		if h.draining.Load() {
			_ = c.Close()
			return
		}
		h.newConns[c] = struct{}{}
	default:
		delete(h.newConns, c)
	}
}

func (h *HTTP) closeNewConns() {
	h.connMu.Lock()
	defer h.connMu.Unlock()
	for c := range h.newConns {
		_ = c.Close()
		delete(h.newConns, c)
	}
}

// Serve listens on ln until ctx ends, then shuts down gracefully within
// grace:
//
//  1. stop taking work: the listener closes, idle and never-used
//     connections are closed, and new MCP requests get 503;
//  2. wait for in-flight calls: running Streamable HTTP requests, and SSE
//     requests until their answer is written to the stream;
//  3. close the SSE sessions, then the Streamable HTTP sessions, and wait
//     for the last connections to end.
//
// It returns an error only when serving failed or calls were still running
// at the deadline.
func (h *HTTP) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       h.readTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ConnState:         h.connState,
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
	}
	if h.app.pages != nil {
		h.app.pages.listening(ln.Addr().String())
	}
	if h.app.Config.PublicURL == "" && !loopbackName(ln.Addr().String()) {
		h.log.Warn("approval links name the listen address; set CONVIRZA_MCP_PUBLIC_URL to the address people reach this server at", "addr", ln.Addr().String())
	}
	// Replicas sharing a store serve one policy: check before the first
	// request is taken, then keep the record renewed while serving.
	fctx, stopFence := context.WithCancel(ctx)
	fenceDone := make(chan struct{})
	defer func() {
		stopFence()
		<-fenceDone
	}()
	if f := h.app.fence; f != nil {
		first, cancel := context.WithTimeout(fctx, fenceLockTTL)
		_ = f.check(first) // logged by check
		cancel()
		go func() {
			defer close(fenceDone)
			f.run(fctx, fenceEvery)
		}()
	} else {
		close(fenceDone)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}

	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	h.draining.Store(true)
	h.log.Info("shutting down: finishing in-flight calls", "in_flight", h.work.inFlight(), "grace", grace)
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(sctx) }()
	h.closeNewConns()

	var errs []error
	if err := h.work.wait(sctx); err != nil {
		errs = append(errs, fmt.Errorf("%d calls still running after %s", h.work.inFlight(), grace))
	}
	h.sse.CloseSessions()
	_ = h.streamable.Shutdown(sctx)
	if err := <-shutdown; err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = srv.Close()
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("http: %w", err))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	h.log.Info("shut down cleanly")
	return nil
}
