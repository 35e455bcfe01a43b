// Package tracing exports OpenTelemetry traces over OTLP/HTTP, configured
// by the standard OTEL_* variables and off when none asks for it. It
// adapts the OpenTelemetry SDK to mcp-go's small tracing interfaces (no
// adapter module is published for mcp-go v1.2.1), carries the client's
// trace context from a request's _meta (traceparent, tracestate), and
// starts the child span of each upstream HTTP attempt.
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	mcptracing "github.com/mark3labs/mcp-go/tracing"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Lookup reads one environment variable.
type Lookup func(name string) (string, bool)

// Provider is tracing switched on: an SDK tracer provider exporting to an
// OTLP/HTTP endpoint. A nil *Provider is tracing off; every method is
// safe on it.
type Provider struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
}

// Config is what the OTEL_* variables say.
type Config struct {
	Enabled bool
	// Endpoint is the full URL traces are posted to (…/v1/traces), empty
	// for the exporter's default (http://localhost:4318/v1/traces).
	Endpoint    string
	ServiceName string
}

// FromEnv reads the standard variables: tracing is on when
// OTEL_TRACES_EXPORTER is otlp, or when it is unset and an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set; OTEL_TRACES_EXPORTER=none (or OTEL_SDK_DISABLED=true) turns it off.
// Only OTLP over HTTP (protobuf) is supported: another
// OTEL_EXPORTER_OTLP_PROTOCOL is an error naming the variable.
func FromEnv(lookup Lookup) (Config, error) {
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	c := Config{ServiceName: get("OTEL_SERVICE_NAME")}
	if c.ServiceName == "" {
		c.ServiceName = "convirza-mcp"
	}
	if strings.EqualFold(get("OTEL_SDK_DISABLED"), "true") {
		return c, nil
	}
	base, traces := get("OTEL_EXPORTER_OTLP_ENDPOINT"), get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	switch exp := strings.ToLower(get("OTEL_TRACES_EXPORTER")); exp {
	case "", "none":
		c.Enabled = exp == "" && (base != "" || traces != "")
	case "otlp":
		c.Enabled = true
	default:
		return c, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: only otlp (or none) is supported", exp)
	}
	if !c.Enabled {
		return c, nil
	}
	proto := get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = get("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if proto != "" && proto != "http/protobuf" {
		return c, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%q: only http/protobuf is supported (point it at the collector's OTLP/HTTP port, 4318)", proto)
	}
	switch {
	case traces != "":
		c.Endpoint = traces
	case base != "":
		c.Endpoint = strings.TrimRight(base, "/") + "/v1/traces"
	}
	return c, nil
}

// Start switches tracing on as c says; it returns nil (tracing off) when
// c.Enabled is false. version is the service.version resource attribute.
// Call Shutdown before the process exits: it flushes what is buffered.
func Start(ctx context.Context, c Config, version string) (*Provider, error) {
	if !c.Enabled {
		return nil, nil
	}
	var opts []otlptracehttp.Option
	if c.Endpoint != "" {
		opts = append(opts, otlptracehttp.WithEndpointURL(c.Endpoint))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(c.ServiceName), semconv.ServiceVersion(version)))
	if err != nil {
		res = resource.Default()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Provider{tp: tp, tracer: tp.Tracer("github.com/convirza/convirza-mcp")}, nil
}

// Shutdown flushes the spans still buffered and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("flushing traces: %w", err)
	}
	return nil
}

// Tracer is the mcp-go tracer (server.WithTracer); nil when off.
func (p *Provider) Tracer() mcptracing.Tracer {
	if p == nil {
		return nil
	}
	return tracer{p.tracer}
}

// MetaPropagator reads and writes W3C trace context in a request's _meta
// (server.WithMetaPropagator).
func MetaPropagator() mcptracing.MetaPropagator { return metaPropagator{} }

// HeaderPropagator reads W3C trace context from an HTTP request's
// traceparent and tracestate headers (server.WithPropagator), unless the
// request's _meta carried one (mcp-go reads _meta first): _meta wins.
func HeaderPropagator() mcptracing.Propagator { return headerPropagator{} }

type headerPropagator struct{}

func (headerPropagator) Inject(ctx context.Context, h http.Header) {
	w3c.Inject(ctx, propagation.HeaderCarrier(h))
}

func (headerPropagator) Extract(ctx context.Context, h http.Header) context.Context {
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	return w3c.Extract(ctx, propagation.HeaderCarrier(h))
}

type tracer struct{ t trace.Tracer }

func (t tracer) Start(ctx context.Context, name string, kind mcptracing.SpanKind, attrs ...mcptracing.Attribute) (context.Context, mcptracing.Span) {
	ctx, s := t.t.Start(ctx, name, trace.WithSpanKind(spanKind(kind)), trace.WithAttributes(kv(attrs)...))
	sp := span{s}
	return mcptracing.ContextWithSpan(ctx, sp), sp
}

func spanKind(k mcptracing.SpanKind) trace.SpanKind {
	switch k {
	case mcptracing.SpanKindServer:
		return trace.SpanKindServer
	case mcptracing.SpanKindClient:
		return trace.SpanKindClient
	case mcptracing.SpanKindInternal:
		return trace.SpanKindInternal
	}
	return trace.SpanKindUnspecified
}

func kv(attrs []mcptracing.Attribute) []attribute.KeyValue {
	out := make([]attribute.KeyValue, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, attribute.String(a.Key, a.Value))
	}
	return out
}

type span struct{ s trace.Span }

func (s span) SetAttributes(attrs ...mcptracing.Attribute) { s.s.SetAttributes(kv(attrs)...) }
func (s span) RecordError(err error)                       { s.s.RecordError(err) }
func (s span) End()                                        { s.s.End() }
func (s span) SetStatus(code mcptracing.StatusCode, desc string) {
	switch code {
	case mcptracing.StatusOK:
		s.s.SetStatus(codes.Ok, "")
	case mcptracing.StatusError:
		s.s.SetStatus(codes.Error, desc)
	}
}

type metaPropagator struct{}

var w3c = propagation.TraceContext{}

func (metaPropagator) ExtractMeta(ctx context.Context, meta *mcp.Meta) context.Context {
	if meta == nil || meta.AdditionalFields == nil {
		return ctx
	}
	carrier := propagation.MapCarrier{}
	for _, k := range w3c.Fields() {
		if v, ok := meta.AdditionalFields[k].(string); ok {
			carrier[k] = v
		}
	}
	return w3c.Extract(ctx, carrier)
}

func (metaPropagator) InjectMeta(ctx context.Context, meta *mcp.Meta) *mcp.Meta {
	carrier := propagation.MapCarrier{}
	w3c.Inject(ctx, carrier)
	if len(carrier) == 0 {
		return meta
	}
	if meta == nil {
		meta = &mcp.Meta{}
	}
	if meta.AdditionalFields == nil {
		meta.AdditionalFields = map[string]any{}
	}
	for k, v := range carrier {
		meta.AdditionalFields[k] = v
	}
	return meta
}

// Annotate sets attributes on the span of ctx (the tool call's span when
// called from a tool middleware); nothing when tracing is off.
func Annotate(ctx context.Context, attrs ...attribute.KeyValue) {
	trace.SpanFromContext(ctx).SetAttributes(attrs...)
}

// Upstream starts the client span of one upstream HTTP attempt, a child
// of the tool call's span in ctx (none when ctx carries no recording
// span). end records the answer's status (0: no answer) and err.
func Upstream(ctx context.Context, method, host string) (context.Context, func(status int, err error)) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, func(int, error) {}
	}
	ctx, s := parent.TracerProvider().Tracer("github.com/convirza/convirza-mcp/upstream").Start(ctx, method,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.HTTPRequestMethodKey.String(method), semconv.ServerAddress(host)))
	return ctx, func(status int, err error) {
		if status > 0 {
			s.SetAttributes(semconv.HTTPResponseStatusCode(status))
		}
		switch {
		case err != nil:
			s.RecordError(err)
			s.SetStatus(codes.Error, err.Error())
		case status >= http.StatusInternalServerError || status == 0:
			s.SetStatus(codes.Error, "status "+strconv.Itoa(status))
		}
		s.End()
	}
}
