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
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/convirza/convirza-mcp/policy"
)

// observer is what the app measures and counts: Prometheus metrics on a
// private registry (no global state, so two apps in one test process never
// collide), and the HTTP sessions the session cap is enforced on.
type observer struct {
	reg *prometheus.Registry

	toolCalls       *prometheus.CounterVec
	principalCalls  *prometheus.CounterVec
	principals      *boundedLabel
	toolSeconds     *prometheus.HistogramVec
	toolsInFlight   prometheus.Gauge
	upstreamCalls   *prometheus.CounterVec
	upstreamSeconds *prometheus.HistogramVec
	httpRequests    *prometheus.CounterVec
	sessionsGauge   *prometheus.GaugeVec
	sessionsRefused prometheus.Counter
	clientRefused   *prometheus.CounterVec
	// The OpenTelemetry MCP and HTTP semantic conventions' metrics, as
	// Prometheus names them. The convirza_mcp_* durations above are their
	// aliases for one release.
	operationSeconds  *prometheus.HistogramVec
	sessionSeconds    *prometheus.HistogramVec
	httpClientSeconds *prometheus.HistogramVec

	// classes is each served tool's class, for the tool call's span.
	classes map[string]policy.Class

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
	o.principalCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "convirza_mcp_principal_tool_calls_total",
		Help: "Tool calls by who asked (user:<Convirza user id> when people sign in, bearer:<token digest>, - for none (stdio, a loopback server without a token); the first " + strconv.Itoa(maxPrincipalLabels) + " seen by this process, then \"other\") and outcome.",
	}, []string{"principal", "outcome"})
	o.principals = newBoundedLabel(maxPrincipalLabels)
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
	o.operationSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "mcp_server_operation_duration_seconds",
		Help:    "MCP request duration as the server sees it (OpenTelemetry mcp.server.operation.duration); error_type is empty on success.",
		Buckets: latencyBuckets(),
	}, []string{"mcp_method_name", "gen_ai_tool_name", "error_type"})
	o.sessionSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "mcp_server_session_duration_seconds",
		Help:    "How long HTTP sessions stayed open (OpenTelemetry mcp.server.session.duration).",
		Buckets: []float64{1, 10, 60, 300, 900, 1800, 3600, 14400, 86400},
	}, []string{"network_transport"})
	o.httpClientSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_client_request_duration_seconds",
		Help:    "Upstream HTTP attempt latency (OpenTelemetry http.client.request.duration); status 0 and error_type set when no answer came.",
		Buckets: latencyBuckets(),
	}, []string{"http_request_method", "server_address", "http_response_status_code", "error_type"})
	o.reg.MustRegister(o.toolCalls, o.principalCalls, o.toolSeconds, o.toolsInFlight, o.upstreamCalls, o.upstreamSeconds,
		o.httpRequests, o.sessionsGauge, o.sessionsRefused, o.clientRefused,
		o.operationSeconds, o.sessionSeconds, o.httpClientSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, t := range []string{transportStreamable, transportSSE} {
		o.sessionsGauge.WithLabelValues(t) // present at 0 from the start
	}
	for _, l := range []string{limitSessions, limitCalls} {
		o.clientRefused.WithLabelValues(l)
	}
	o.sessions = &sessionGate{max: maxSessions, owners: map[string]sessionOwner{}, gauge: o.sessionsGauge, lifetimes: o.sessionSeconds}
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
			d := time.Since(start).Seconds()
			o.toolsInFlight.Dec()
			o.toolCalls.WithLabelValues(req.Params.Name, outcome).Inc()
			o.principalCalls.WithLabelValues(o.principals.value(principalLabel(ctx)), outcome).Inc()
			o.toolSeconds.WithLabelValues(req.Params.Name).Observe(d)
			errType := ""
			if outcome == "protocol_error" || outcome == "error" {
				errType = "tool_error"
			}
			o.operationSeconds.WithLabelValues("tools/call", req.Params.Name, errType).Observe(d)
		}()
		res, err = next(ctx, req)
		outcome = toolOutcome(res, err)
		o.annotate(ctx, req.Params.Name, res, outcome)
		return res, err
	}
}

// annotate names the tool call's span as the OpenTelemetry MCP
// conventions do ("tools/call NAME") and records the tool, its class, the
// outcome and the policy's decision on it (nothing when tracing is off).
func (o *observer) annotate(ctx context.Context, name string, res *mcp.CallToolResult, outcome string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetName("tools/call " + name)
	class := o.classes[name]
	attrs := []attribute.KeyValue{
		attribute.String("mcp.method.name", "tools/call"),
		attribute.String("gen_ai.tool.name", name),
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("convirza.tool.class", class.String()),
		attribute.String("convirza.outcome", outcome),
	}
	if d := decision(class, res, outcome); d != "" {
		attrs = append(attrs, attribute.String("convirza.decision", d))
	}
	if outcome == "error" || outcome == "protocol_error" {
		attrs = append(attrs, attribute.String("error.type", "tool_error"))
		span.SetStatus(codes.Error, "tool error")
	}
	span.SetAttributes(attrs...)
}

// decision is what the policy decided on a call: the status a result
// carries (confirmation_required, declined, denied, out_of_scope,
// pending), else confirmed for a confirmable class that ran, allowed for
// any other that ran; empty when the call failed before a decision.
func decision(class policy.Class, res *mcp.CallToolResult, outcome string) string {
	if res != nil {
		if sc, ok := res.StructuredContent.(map[string]any); ok {
			switch s, _ := sc["status"].(string); s {
			case policy.DecisionConfirmationRequired, policy.DecisionDeclined, policy.DecisionDenied,
				policy.DecisionOutOfScope, policy.DecisionPending:
				return s
			}
		}
	}
	switch outcome {
	case "ok":
		if class.NeedsConfirmation() {
			return policy.DecisionConfirmed
		}
		return policy.DecisionAllowed
	case "confirmation_required", "declined":
		return outcome
	}
	return ""
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
func (o *observer) observeUpstream(method string, host string, status int, d time.Duration) {
	code := "error"
	if status > 0 {
		code = strconv.Itoa(status)
	}
	o.upstreamCalls.WithLabelValues(host, code).Inc()
	o.upstreamSeconds.WithLabelValues(host).Observe(d.Seconds())
	errType := ""
	switch {
	case status == 0:
		code, errType = "", "transport"
	case status >= 400:
		errType = code
	}
	o.httpClientSeconds.WithLabelValues(method, host, code, errType).Observe(d.Seconds())
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
	max       int
	gauge     *prometheus.GaugeVec
	lifetimes *prometheus.HistogramVec // nil: not measured

	mu      sync.Mutex
	pending int
	owners  map[string]sessionOwner
}

type sessionOwner struct {
	principal string
	transport string
	client    *slot // the client's unit under its per-client session cap
	opened    time.Time
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
	g.owners[s.SessionID()] = sessionOwner{principal: t.principal, transport: t.transport, client: client, opened: time.Now()}
	g.gauge.WithLabelValues(t.transport).Inc()
	g.mu.Unlock()
}

func (g *sessionGate) unregistered(_ context.Context, s server.ClientSession) {
	g.mu.Lock()
	o, ok := g.owners[s.SessionID()]
	if ok {
		delete(g.owners, s.SessionID())
		g.gauge.WithLabelValues(o.transport).Dec()
		if g.lifetimes != nil {
			g.lifetimes.WithLabelValues("tcp") // network.transport of both HTTP transports.Observe(time.Since(o.opened).Seconds())
		}
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

// refusedCall counts a tool call answered before the tool middleware saw
// it (a person's role may not use the tool): a protocol error, by tool and
// by principal.
func (o *observer) refusedCall(ctx context.Context, tool string) {
	o.toolCalls.WithLabelValues(tool, "protocol_error").Inc()
	o.principalCalls.WithLabelValues(o.principals.value(principalLabel(ctx)), "protocol_error").Inc()
}

// maxPrincipalLabels bounds the principal label's values in one process:
// a team's people, and a few shared tokens, fit; an unbounded stream of
// tokens does not grow the metrics without end.
const maxPrincipalLabels = 200

// principalLabel names who made a call, for metrics: the stable subject of
// a signed-in person ("user:<id>"), a shared token's digest, or "-" when
// the call names none (stdio, a loopback server without a token), as the
// access log does.
func principalLabel(ctx context.Context) string {
	if p := policy.PrincipalFrom(ctx); p != "" {
		return p
	}
	return "-"
}

// boundedLabel passes the first max distinct values through and answers
// "other" for any value after them, so a label's cardinality stays bounded.
type boundedLabel struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
}

func newBoundedLabel(max int) *boundedLabel {
	return &boundedLabel{max: max, seen: make(map[string]struct{}, max)}
}

func (b *boundedLabel) value(v string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.seen[v]; ok {
		return v
	}
	if len(b.seen) >= b.max {
		return "other"
	}
	b.seen[v] = struct{}{}
	return v
}
