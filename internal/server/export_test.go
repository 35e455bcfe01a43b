package server

import (
	"context"
	"net/http"
	"time"
)

// What the package's external tests (package server_test, which start the
// server through testenv) need to see of its insides.

// OpenSessions is how many sessions hold a place under the session cap.
func (a *App) OpenSessions() int { return a.obs.sessions.open() }

// SetReadTimeout shortens the bound on reading a request.
func (h *HTTP) SetReadTimeout(d time.Duration) { h.readTimeout = d }

// SetDraining puts h in the state a shutdown begins with.
func (h *HTTP) SetDraining() { h.draining.Store(true) }

var (
	OriginAllowed = originAllowed
	PrincipalOf   = principalOf
	AnswerDue     = answerDue
	CanonicalID   = canonicalID
)

// LimitCalls is the per-client counter kind of tool calls.
const LimitCalls = limitCalls

// ClientsHolding is how many units of kind client holds (in-memory counter).
func (a *App) ClientsHolding(kind, client string) int {
	m := a.clients.(*memCounter)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.held[[2]string{kind, client}]
}

// InFlight is how many calls the HTTP service counts as running.
func (h *HTTP) InFlight() int { return h.work.inFlight() }

// CheckPolicy compares the policy record in the store with the app's own
// once, now (HTTP serving does it periodically).
func (a *App) CheckPolicy(ctx context.Context) error { return a.fence.check(ctx) }

// SetPolicyTTL shortens the life of the policy record the app writes.
func (a *App) SetPolicyTTL(d time.Duration) { a.fence.ttl = d }

// PolicyRefusal is why the app refuses to serve, or "".
func (a *App) PolicyRefusal() string { return a.fence.refusing() }

// ClientAddr is the client address per-IP limits and the access log use.
func (h *HTTP) ClientAddr(r *http.Request) string { return h.clientAddr(r) }
