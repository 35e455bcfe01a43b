package server

import "time"

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
