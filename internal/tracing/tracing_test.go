package tracing_test

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/logging"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/syncbuf"
	"github.com/convirza/convirza-mcp/internal/tracing"
	"github.com/convirza/convirza-mcp/internal/tracing/otlptest"
)

// A client's traceparent in _meta (the 2026-07-28 way) makes the tool
// call a child of the client's span; every JSON log line of the call
// carries its trace id.
func TestTraceparentInMetaAndLogLines(t *testing.T) {
	rcv := otlptest.Start(t)
	c, err := tracing.FromEnv(func(k string) (string, bool) {
		v, ok := map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": rcv.URL + "/v1/traces"}[k]
		return v, ok
	})
	if err != nil || !c.Enabled {
		t.Fatalf("FromEnv: %+v %v", c, err)
	}
	p, err := tracing.Start(context.Background(), c, "test")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	log := logging.New(&logs, "debug", "json")
	app, err := server.New(testenv.Config(t, testenv.Options{}), log, server.WithTracing(p))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	cl, err := client.NewInProcessClient(app.MCP)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
		t.Fatal(err)
	}
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req := mcp.CallToolRequest{}
	req.Params.Name = "get_group"
	req.Params.Arguments = map[string]any{"id": 1}
	req.Params.Meta = &mcp.Meta{AdditionalFields: map[string]any{"traceparent": "00-" + traceID + "-" + parentID + "-01"}}
	if _, err := cl.CallTool(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	spans := rcv.Wait(t, "tools/call get_group")
	for _, s := range spans {
		if s.Name == "tools/call get_group" && (s.TraceID != traceID || s.ParentID != parentID) {
			t.Errorf("tool call span in trace %s under %s, want %s under %s", s.TraceID, s.ParentID, traceID, parentID)
		}
	}
	// Every line logged during the call carries the trace id.
	var callLines int
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not a JSON log line: %s", sc.Text())
		}
		if line["mcp.method"] == "tools/call" || line["mcp.tool.name"] != nil || line["msg"] == "upstream" {
			callLines++
			if line["trace_id"] != traceID || line["span_id"] == nil {
				t.Errorf("call log line without the trace id: %s", sc.Text())
			}
		}
	}
	if callLines < 2 {
		t.Errorf("want the call's request, tool and upstream lines; got %d:\n%s", callLines, logs.String())
	}
}

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env      map[string]string
		on       bool
		endpoint string
	}{
		{map[string]string{}, false, ""},
		{map[string]string{"OTEL_SERVICE_NAME": "x"}, false, ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}, true, "http://c:4318/v1/traces"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, false, ""},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true, ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, false, ""},
	} {
		c, err := tracing.FromEnv(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		if err != nil || c.Enabled != tc.on || c.Endpoint != tc.endpoint {
			t.Errorf("%v: %+v %v", tc.env, c, err)
		}
	}
}
