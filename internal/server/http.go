package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/policy"
)

// maxRequestBody bounds one HTTP request body.
const maxRequestBody = 4 << 20

// HTTP is the HTTP transport: Streamable HTTP at /mcp, legacy SSE at /sse
// and /message, one listener.
type HTTP struct {
	app        *App
	sse        *server.SSEServer
	streamable *server.StreamableHTTPServer
	handler    http.Handler
}

// NewHTTP builds the HTTP handlers of the app.
func (a *App) NewHTTP() *HTTP {
	h := &HTTP{app: a}
	withPrincipal := func(ctx context.Context, r *http.Request) context.Context {
		return policy.WithPrincipal(ctx, principalOf(r))
	}
	h.streamable = server.NewStreamableHTTPServer(a.MCP,
		server.WithEndpointPath("/mcp"),
		server.WithHTTPContextFunc(withPrincipal),
		server.WithSessionIdleTTL(a.Config.SessionIdleTTL),
		server.WithStreamableHTTPLogger(a.log),
	)
	h.sse = server.NewSSEServer(a.MCP,
		server.WithStaticBasePath(""),
		server.WithSSEEndpoint("/sse"),
		server.WithMessageEndpoint("/message"),
		server.WithSSEContextFunc(withPrincipal),
		server.WithKeepAliveInterval(25*time.Second),
		server.WithSSECORS(server.WithCORSAllowedOrigins(a.Config.AllowedOrigins...)),
	)
	mux := http.NewServeMux()
	mux.Handle("/mcp", h.streamable)
	mux.Handle("/sse", h.sse.SSEHandler())
	mux.Handle("/message", h.sse.MessageHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{\"status\":\"ok\"}\n"))
	})
	h.handler = h.guard(mux)
	return h
}

// ServeHTTP implements http.Handler.
func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

// guard enforces, before any MCP handling: a present Origin must be allowed
// (403), the bearer token must match when one is configured (401), and the
// body is capped.
func (h *HTTP) guard(next http.Handler) http.Handler {
	cfg := h.app.Config
	var want [][32]byte
	for _, t := range strings.Split(cfg.AuthToken, ",") {
		if t = strings.TrimSpace(t); t != "" {
			want = append(want, sha256.Sum256([]byte(t)))
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && !originAllowed(o, cfg.AllowedOrigins) {
			httpError(w, http.StatusForbidden, "origin not allowed")
			return
		}
		if r.URL.Path != "/healthz" && len(want) > 0 {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			got := sha256.Sum256([]byte(tok))
			match := 0
			for _, w := range want {
				match |= subtle.ConstantTimeCompare(got[:], w[:])
			}
			if !ok || match != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="convirza-mcp"`)
				httpError(w, http.StatusUnauthorized, "missing or wrong bearer token")
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		next.ServeHTTP(w, r)
	})
}

// principalOf names the client by a digest of its bearer token, so a
// confirmation issued to one client cannot be redeemed by another.
func principalOf(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(tok))
	return fmt.Sprintf("bearer:%x", sum[:8])
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
	host := rest
	if h, _, err := net.SplitHostPort(rest); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Serve listens on addr until ctx ends, then shuts down gracefully: SSE
// sessions closed, then Streamable HTTP, then the listener (in-flight
// requests get up to grace to finish).
func (h *HTTP) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
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
	h.sse.CloseSessions()
	_ = h.streamable.Shutdown(sctx)
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}
