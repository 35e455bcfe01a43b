package server

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/convirza/convirza-mcp/policy"
)

// observer is what the app measures and counts: Prometheus metrics on a
// private registry (no global state, so two apps in one test process never
// collide), and the HTTP sessions the session cap is enforced on.
type observer struct {
	reg *prometheus.Registry

	toolCalls       *prometheus.CounterVec
	toolSeconds     *prometheus.HistogramVec
	toolsInFlight   prometheus.Gauge
	upstreamCalls   *prometheus.CounterVec
	upstreamSeconds *prometheus.HistogramVec
	httpRequests    *prometheus.CounterVec
	sessionsGauge   *prometheus.GaugeVec
	sessionsRefused prometheus.Counter
	clientRefused   *prometheus.CounterVec

	sessions *sessionGate
}

// latencyBuckets are the histogram bounds, in seconds, of tool calls and
// upstream attempts alike: 5 ms to the 30 s upstream timeout.
func latencyBuckets() []float64 {
	return []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
}

func newObserver(maxSessions int) *observer {
	if maxSessions < 1 {
		maxSessions = defaultMaxSessions
	}
	o := &observer{reg: prometheus.NewRegistry()}
	o.toolCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "convirza_mcp_tool_calls_total",
		Help: "Tool calls by tool and outcome (ok, error, confirmation_required, declined, input_required, protocol_error).",
	}, []string{"tool", "outcome"})
	o.toolSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "convirza_mcp_tool_call_duration_seconds",
		Help:    "Tool call latency, upstream calls and confirmation included.",
		Buckets: latencyBuckets(),
	}, []string{"tool"})
	o.toolsInFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "convirza_mcp_tool_calls_in_flight",
		Help: "Tool calls running now.",
	})
	o.upstreamCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "convirza_mcp_upstream_requests_total",
		Help: "Upstream HTTP attempts by host and status (\"error\" when no answer came).",
	}, []string{"host", "status"})
	o.upstreamSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "convirza_mcp_upstream_request_duration_seconds",
		Help:    "Upstream HTTP attempt latency by host.",
		Buckets: latencyBuckets(),
	}, []string{"host"})
	o.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "convirza_mcp_http_requests_total",
		Help: "HTTP requests served by route and status code.",
	}, []string{"route", "code"})
	o.sessionsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "convirza_mcp_active_sessions",
		Help: "Open MCP sessions by transport (streamable: Streamable HTTP sessions; sse: legacy SSE streams).",
	}, []string{"transport"})
	o.sessionsRefused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "convirza_mcp_sessions_refused_total",
		Help: "New sessions refused with 503 because CONVIRZA_MCP_MAX_SESSIONS were open.",
	})
	o.clientRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "convirza_mcp_client_limit_refusals_total",
		Help: "Requests refused with 429 because the client was at its own cap (limit: sessions, calls).",
	}, []string{"limit"})
	o.reg.MustRegister(o.toolCalls, o.toolSeconds, o.toolsInFlight, o.upstreamCalls, o.upstreamSeconds,
		o.httpRequests, o.sessionsGauge, o.sessionsRefused, o.clientRefused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, t := range []string{transportStreamable, transportSSE} {
		o.sessionsGauge.WithLabelValues(t) // present at 0 from the start
	}
	for _, l := range []string{limitSessions, limitCalls} {
		o.clientRefused.WithLabelValues(l)
	}
	o.sessions = &sessionGate{max: maxSessions, owners: map[string]sessionOwner{}, gauge: o.sessionsGauge}
	return o
}

// toolMiddleware counts and times every tool call. It is registered once,
// as the outermost tool middleware, so it sees what the client gets.
func (o *observer) toolMiddleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
		start := time.Now()
		o.toolsInFlight.Inc()
		outcome := "protocol_error" // unless the handler returns normally
		defer func() {
			o.toolsInFlight.Dec()
			o.toolCalls.WithLabelValues(req.Params.Name, outcome).Inc()
			o.toolSeconds.WithLabelValues(req.Params.Name).Observe(time.Since(start).Seconds())
		}()
		res, err = next(ctx, req)
		outcome = toolOutcome(res, err)
		return res, err
	}
}

// toolOutcome classifies a tool call's answer into a small, fixed set of
// label values.
func toolOutcome(res *mcp.CallToolResult, err error) string {
	switch {
	case err != nil || res == nil:
		return "protocol_error"
	case res.ResultType == mcp.ResultTypeInputRequired:
		return "input_required"
	case res.IsError:
		return "error"
	}
	var status any
	switch sc := res.StructuredContent.(type) {
	case map[string]any:
		status = sc["status"]
	case nil:
	default:
		var probe struct {
			Status any `json:"status"`
		}
		if b, err := json.Marshal(sc); err == nil && json.Unmarshal(b, &probe) == nil {
			status = probe.Status
		}
	}
	switch status {
	case policy.DecisionConfirmationRequired, policy.DecisionDeclined:
		return status.(string)
	}
	return "ok"
}

// observeUpstream is the upstream client's Observe hook.
func (o *observer) observeUpstream(_ string, host string, status int, d time.Duration) {
	code := "error"
	if status > 0 {
		code = strconv.Itoa(status)
	}
	o.upstreamCalls.WithLabelValues(host, code).Inc()
	o.upstreamSeconds.WithLabelValues(host).Observe(d.Seconds())
}

// hooks reports session registrations to the session gate.
func (o *observer) addHooks(h *server.Hooks) {
	h.AddOnRegisterSession(o.sessions.registered)
	h.AddOnUnregisterSession(o.sessions.unregistered)
}

// Transports, as session labels.
const (
	transportStreamable = "streamable"
	transportSSE        = "sse"
)

// errTooManySessions is the refusal of a session beyond the cap.
var errTooManySessions = errors.New("too many open sessions")

// sessionGate counts the open HTTP sessions (Streamable HTTP sessions and
// legacy SSE streams) and admits a new one only below the cap. Admission
// happens in the HTTP middleware, before mcp-go creates the session; the
// admitted request carries a ticket in its context, which mcp-go hands to
// the register hook, so a session counts as pending from admission to
// registration and as open from registration to unregistration. Sessions
// created without a ticket (stdio, in-process) are not counted.
type sessionGate struct {
	max   int
	gauge *prometheus.GaugeVec

	mu      sync.Mutex
	pending int
	owners  map[string]sessionOwner
}

type sessionOwner struct {
	principal string
	transport string
	client    *slot // the client's unit under its per-client session cap
}

type ticketKey struct{}

// ticket is one admitted, not yet registered session.
type ticket struct {
	g         *sessionGate
	transport string
	principal string
	client    *slot
	used      bool // guarded by g.mu
}

// admit reserves room for one session, or refuses. The ticket takes over
// client, the client's unit under its own cap.
func (g *sessionGate) admit(transport, principal string, client *slot) (*ticket, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.owners)+g.pending >= g.max {
		return nil, errTooManySessions
	}
	g.pending++
	return &ticket{g: g, transport: transport, principal: principal, client: client}, nil
}

// release gives back a ticket whose request registered no session.
func (t *ticket) release() {
	t.g.mu.Lock()
	unused := !t.used
	if unused {
		t.used = true
		t.g.pending--
	}
	t.g.mu.Unlock()
	if unused {
		t.client.release()
	}
}

func (g *sessionGate) registered(ctx context.Context, s server.ClientSession) {
	t, _ := ctx.Value(ticketKey{}).(*ticket)
	if t == nil || t.g != g {
		return
	}
	g.mu.Lock()
	client := t.client
	if t.used {
		client = nil // released already, with the ticket
	} else {
		t.used = true
		g.pending--
	}
	if _, dup := g.owners[s.SessionID()]; dup {
		g.mu.Unlock()
		client.release()
		return
	}
	g.owners[s.SessionID()] = sessionOwner{principal: t.principal, transport: t.transport, client: client}
	g.gauge.WithLabelValues(t.transport).Inc()
	g.mu.Unlock()
}

func (g *sessionGate) unregistered(_ context.Context, s server.ClientSession) {
	g.mu.Lock()
	o, ok := g.owners[s.SessionID()]
	if ok {
		delete(g.owners, s.SessionID())
		g.gauge.WithLabelValues(o.transport).Dec()
	}
	g.mu.Unlock()
	if ok {
		o.client.release()
	}
}

// owner returns who opened session id, if it is an open HTTP session.
func (g *sessionGate) owner(id string) (sessionOwner, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	o, ok := g.owners[id]
	return o, ok
}

// open is the number of open sessions.
func (g *sessionGate) open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.owners)
}
