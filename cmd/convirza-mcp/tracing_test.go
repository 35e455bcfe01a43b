package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/convirza/convirza-mcp/internal/tracing/otlptest"
)

// The real OTLP/HTTP exporter, configured by OTEL_* variables alone,
// sends call's spans before the process would exit: the tool call's span
// with its tool, class, outcome and decision, and a client span per
// upstream request in the same trace.
func TestCallExportsTraces(t *testing.T) {
	rcv := otlptest.Start(t)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"call", "get_group_tree", "--sandbox"}, env{
		stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		lookup: envconfig.MapLookuper(map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL,
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
			"OTEL_SERVICE_NAME":           "convirza-test",
			"CONVIRZA_MCP_STATE_DIR":      t.TempDir(),
		}),
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	// Shutdown flushed before run returned: no waiting.
	spans := rcv.Spans()
	var call *otlptest.Span
	for i := range spans {
		if spans[i].Name == "tools/call get_group_tree" {
			call = &spans[i]
		}
	}
	if call == nil {
		t.Fatalf("no tools/call span among %d spans: %+v", len(spans), spans)
	}
	for k, want := range map[string]string{
		"gen_ai.tool.name": "get_group_tree", "mcp.method.name": "tools/call",
		"convirza.tool.class": "R", "convirza.outcome": "ok", "convirza.decision": "allowed",
	} {
		if got := call.Attrs[k]; got != want {
			t.Errorf("tool call span %s = %q, want %q (all: %v)", k, got, want, call.Attrs)
		}
	}
	if call.Service != "convirza-test" || call.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("service %q kind %v", call.Service, call.Kind)
	}
	upstream := 0
	for _, s := range spans {
		if s.Kind == tracepb.Span_SPAN_KIND_CLIENT && s.TraceID == call.TraceID && s.Attrs["server.address"] != "" {
			upstream++
			if s.Attrs["http.request.method"] == "" || s.ParentID == "" {
				t.Errorf("upstream span without method or parent: %+v", s)
			}
		}
	}
	if upstream == 0 {
		t.Errorf("no upstream client span in the tool call's trace: %+v", spans)
	}
}

func TestTracingConfigErrors(t *testing.T) {
	for _, tc := range []struct{ k, v, want string }{
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"OTEL_TRACES_EXPORTER", "zipkin", "OTEL_TRACES_EXPORTER"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"call", "get_group_tree", "--sandbox"}, env{
			stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
			lookup: envconfig.MapLookuper(map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", tc.k: tc.v, "CONVIRZA_MCP_STATE_DIR": t.TempDir(),
			}),
		})
		if code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%s=%s: exit %d, stderr %q", tc.k, tc.v, code, errb.String())
		}
	}
}
