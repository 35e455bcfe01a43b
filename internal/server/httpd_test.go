package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/syncbuf"
)

const (
	tokenA = "token-a-0123456789"
	tokenB = "token-b-9876543210"
)

// newApp starts the server (testenv) as an HTTP service for two clients,
// tokenA's and tokenB's, that confirm with tokens; mod (if any) adjusts the
// configuration last.
func newApp(t *testing.T, log *slog.Logger, mod func(*config.Config)) *server.App {
	t.Helper()
	return testenv.Start(t, testenv.Options{Log: log, ConfirmMode: "token", Configure: func(c *config.Config) {
		c.Transport, c.Addr, c.AuthToken = "http", "127.0.0.1:0", tokenA+","+tokenB
		if mod != nil {
			mod(c)
		}
	}})
}

func auth(token string) map[string]string {
	if token == "" {
		return nil
	}
	return map[string]string{"Authorization": "Bearer " + token}
}

// dial connects an mcp-go client over kind ("http" or "sse") with token;
// protocol pins the revision ("" is the client's default, the stateless
// 2026-07-28 one).
func dial(t *testing.T, base, kind, token, protocol string) *client.Client {
	t.Helper()
	return dialVia(t, base, kind, protocol, headerTransport(auth(token)))
}

// dialVia is dial with rt as the client's HTTP transport, which adds its
// headers: through it, on either transport, every request carries the token
// (mcp-go's WithHTTPHeaders leaves it off Streamable HTTP's session-ending
// DELETE).
func dialVia(t *testing.T, base, kind, protocol string, rt http.RoundTripper) *client.Client {
	t.Helper()
	hc := &http.Client{Transport: rt}
	var tr transport.Interface
	var err error
	switch kind {
	case "http":
		tr, err = transport.NewStreamableHTTP(base+"/mcp", transport.WithHTTPBasicClient(hc))
	case "sse":
		tr, err = transport.NewSSE(base+"/sse", transport.WithHTTPClient(hc))
	}
	if err != nil {
		t.Fatal(err)
	}
	var opts []client.ClientOption
	if protocol != "" {
		opts = append(opts, client.WithProtocolVersion(protocol))
	}
	c := client.NewClient(tr, opts...)
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Start(t.Context()); err != nil {
		t.Fatalf("%s start: %v", kind, err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "httpd-test", Version: "1"}
	if protocol != "" {
		init.Params.ProtocolVersion = protocol
	}
	if _, err := c.Initialize(t.Context(), init); err != nil {
		t.Fatalf("%s initialize: %v", kind, err)
	}
	return c
}

func callTool(t *testing.T, c *client.Client, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(t.Context(), req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func structured(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("structured content %s: %v", b, err)
	}
	return m
}

func do(t *testing.T, method, url string, body io.Reader, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v // a header Go sends from the request's Host only
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = res.Body.Close() })
	return res
}

// openSSE opens a raw legacy SSE stream and returns its message endpoint
// (path and query) once the endpoint event arrived, and the response.
func openSSE(t *testing.T, base, token string, hdr map[string]string) (string, *http.Response) {
	t.Helper()
	h := auth(token)
	if h == nil {
		h = map[string]string{}
	}
	for k, v := range hdr {
		h[k] = v
	}
	res := do(t, http.MethodGet, base+"/sse", nil, h)
	if res.StatusCode != http.StatusOK {
		return "", res
	}
	// The stream stays open: closing it ends the read if the endpoint event
	// does not come.
	late := time.AfterFunc(testenv.Patience, func() { _ = res.Body.Close() })
	defer late.Stop()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return data, res
		}
	}
	t.Fatalf("no endpoint event within %s: %v", testenv.Patience, sc.Err())
	return "", nil
}

func TestAuthOnEveryEndpoint(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, nil)
	_, base := testenv.Listen(t, app)
	endpoint, stream := openSSE(t, base, tokenA, nil)
	if stream.StatusCode != http.StatusOK {
		t.Fatalf("SSE with a token: %d", stream.StatusCode)
	}
	ping := `{"jsonrpc":"2.0","id":7,"method":"ping"}`
	for _, hdr := range []map[string]string{nil, auth("wrong"), {"Authorization": tokenA}, {"Authorization": "Basic " + tokenA}} {
		for _, tc := range []struct{ method, path, body string }{
			{http.MethodPost, "/mcp", initBody},
			{http.MethodGet, "/mcp", ""},
			{http.MethodDelete, "/mcp", ""},
			{http.MethodGet, "/sse", ""},
			{http.MethodPost, endpoint, ping}, // the message post of a live SSE session
			{http.MethodGet, "/metrics", ""},
		} {
			res := do(t, tc.method, base+tc.path, strings.NewReader(tc.body), hdr)
			if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with %v: %d %q", tc.method, tc.path, hdr, res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
			if got := res.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("%s %s: 401 as %q", tc.method, tc.path, got)
			}
		}
	}
	// The right token gets through, the scheme in any case.
	if res := do(t, http.MethodPost, base+endpoint, strings.NewReader(ping), map[string]string{"Authorization": "bearer " + tokenA}); res.StatusCode != http.StatusAccepted {
		t.Errorf("message post with the token: %d", res.StatusCode)
	}
	// Another valid client cannot post into this session.
	if res := do(t, http.MethodPost, base+endpoint, strings.NewReader(ping), auth(tokenB)); res.StatusCode != http.StatusForbidden {
		t.Errorf("message post by another client: %d", res.StatusCode)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if res := do(t, http.MethodGet, base+p, nil, nil); res.StatusCode != http.StatusOK {
			t.Errorf("%s without a token: %d", p, res.StatusCode)
		}
	}
}

func TestSSEHasNoWildcardCORS(t *testing.T) {
	t.Parallel()
	for _, origins := range [][]string{nil, {"https://app.example"}} {
		app := newApp(t, nil, func(c *config.Config) { c.AllowedOrigins = origins })
		_, base := testenv.Listen(t, app)
		for _, origin := range []string{"", "http://localhost:6274", "https://app.example"} {
			if origin != "" && !server.OriginAllowed(origin, origins) {
				continue
			}
			_, res := openSSE(t, base, tokenA, map[string]string{"Origin": origin})
			if res.StatusCode != http.StatusOK {
				t.Fatalf("origins %v, Origin %q: %d", origins, origin, res.StatusCode)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got == "*" || (got != "" && got != origin) {
				t.Errorf("origins %v, Origin %q: Access-Control-Allow-Origin %q", origins, origin, got)
			}
		}
		if _, res := openSSE(t, base, tokenA, map[string]string{"Origin": "https://evil.example"}); res.StatusCode != http.StatusForbidden {
			t.Errorf("foreign origin on the SSE stream: %d", res.StatusCode)
		}
	}
}

func TestOversizedBodyIs413(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, func(c *config.Config) { c.MaxBodyBytes = 1 << 20 })
	h := app.NewHTTP()
	big := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`
	for _, path := range []string{"/mcp", "/message?sessionId=x"} {
		for _, chunked := range []bool{false, true} {
			r := httptest.NewRequest(http.MethodPost, "http://localhost"+path, strings.NewReader(big))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Bearer "+tokenA)
			if chunked {
				r.ContentLength = -1 // no Content-Length: the cap bites while reading
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			var body struct{ Error string }
			if w.Code != http.StatusRequestEntityTooLarge || json.Unmarshal(w.Body.Bytes(), &body) != nil || !strings.Contains(body.Error, "larger than 1048576") {
				t.Errorf("%s chunked=%v: %d %q", path, chunked, w.Code, w.Body)
			}
		}
	}
	// Just under the cap is fine.
	ok := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"` +
		strings.Repeat("x", 1<<20-200) + `","version":"1"}}}`
	if w := post(h, "/mcp", ok, auth(tokenA)); w.Code != http.StatusOK {
		t.Errorf("a body under the cap: %d %s", w.Code, w.Body.String()[:min(200, w.Body.Len())])
	}
}

func TestSessionCap(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, func(c *config.Config) { c.MaxSessions, c.MaxSessionsPerClient = 3, 3 })
	_, base := testenv.Listen(t, app)
	var ids []string
	for range 2 {
		res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), auth(tokenA))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("initialize: %d", res.StatusCode)
		}
		ids = append(ids, res.Header.Get("Mcp-Session-Id"))
	}
	if _, res := openSSE(t, base, tokenB, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("SSE stream within the cap: %d", res.StatusCode)
	}
	refused := func(what string, res *http.Response) {
		t.Helper()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "too many open sessions") {
			t.Errorf("%s beyond the cap: %d %q %s", what, res.StatusCode, res.Header.Get("Retry-After"), b)
		}
	}
	refused("initialize", do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), auth(tokenA)))
	_, res := openSSE(t, base, tokenA, nil)
	refused("SSE stream", res)
	// Open sessions keep working.
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(list), map[string]string{"Authorization": "Bearer " + tokenA,
		"Mcp-Session-Id": ids[0], "Mcp-Protocol-Version": "2025-06-18"}); res.StatusCode != http.StatusOK {
		t.Errorf("an open session at the cap: %d", res.StatusCode)
	}
	if got := app.OpenSessions(); got != 3 {
		t.Errorf("open sessions %d, want 3", got)
	}
	// Ending one makes room.
	if res := do(t, http.MethodDelete, base+"/mcp", nil, map[string]string{"Authorization": "Bearer " + tokenA,
		"Mcp-Session-Id": ids[1], "Mcp-Protocol-Version": "2025-06-18"}); res.StatusCode != http.StatusOK {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), auth(tokenA)); res.StatusCode != http.StatusOK {
		t.Errorf("initialize after a session ended: %d", res.StatusCode)
	}
}

func TestSessionBelongsToItsClient(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, nil)
	_, base := testenv.Listen(t, app)
	res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), auth(tokenA))
	id := res.Header.Get("Mcp-Session-Id")
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	hdr := map[string]string{"Mcp-Session-Id": id, "Mcp-Protocol-Version": "2025-06-18"}
	hdr["Authorization"] = "Bearer " + tokenB
	if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(list), hdr); res.StatusCode != http.StatusForbidden {
		t.Errorf("another client's session: %d", res.StatusCode)
	}
	hdr["Authorization"] = "Bearer " + tokenA
	if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(list), hdr); res.StatusCode != http.StatusOK {
		t.Errorf("own session: %d", res.StatusCode)
	}
}

func TestMetricsAfterCalls(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, nil)
	_, base := testenv.Listen(t, app)
	c := dial(t, base, "http", tokenA, mcp.ProtocolVersion20250618)
	if res := callTool(t, c, "get_group", map[string]any{"id": 1042}); res.IsError {
		t.Fatalf("get_group: %+v", res)
	}
	if res := callTool(t, c, "get_group", map[string]any{"id": "abc"}); !res.IsError {
		t.Fatal("a bad id must be an error")
	}
	if sc := structured(t, callTool(t, c, "delete_group", map[string]any{"id": 1042})); sc["status"] != "confirmation_required" {
		t.Fatalf("delete_group: %v", sc)
	}
	s := dial(t, base, "sse", tokenB, "")
	callTool(t, s, "get_group_tree", map[string]any{})

	res := do(t, http.MethodGet, base+"/metrics", nil, auth(tokenA))
	b, _ := io.ReadAll(res.Body)
	text := string(b)
	upstreamHost := strings.TrimPrefix(app.Sandbox.URL, "http://")
	for _, want := range []string{
		`convirza_mcp_tool_calls_total{outcome="ok",tool="get_group"} 1`,
		`convirza_mcp_tool_calls_total{outcome="error",tool="get_group"} 1`,
		`convirza_mcp_tool_calls_total{outcome="confirmation_required",tool="delete_group"} 1`,
		`convirza_mcp_tool_calls_total{outcome="ok",tool="get_group_tree"} 1`,
		`convirza_mcp_tool_call_duration_seconds_count{tool="get_group"} 2`,
		`convirza_mcp_upstream_requests_total{host="` + upstreamHost + `",status="200"}`,
		`convirza_mcp_upstream_request_duration_seconds_count{host="` + upstreamHost + `"}`,
		`mcp_server_operation_duration_seconds_count{error_type="",gen_ai_tool_name="get_group_tree",mcp_method_name="tools/call"} 1`,
		`mcp_server_operation_duration_seconds_count{error_type="tool_error",gen_ai_tool_name="get_group",mcp_method_name="tools/call"} 1`,
		`http_client_request_duration_seconds_count{error_type="",http_request_method="GET",http_response_status_code="200",server_address="` + upstreamHost + `"}`,
		`convirza_mcp_active_sessions{transport="streamable"} 1`,
		`convirza_mcp_active_sessions{transport="sse"} 1`,
		`convirza_mcp_http_requests_total{code="200",route="/mcp"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	up := newApp(t, nil, nil)
	_, base := testenv.Listen(t, up)
	if res := do(t, http.MethodGet, base+"/readyz", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("readyz against the sandbox: %d", res.StatusCode)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close()
	down := newApp(t, nil, func(c *config.Config) {
		c.Sandbox = false
		c.Convirza.OAuthURL = closed
		c.Convirza.APIURL = closed + "/v3"
	})
	_, base = testenv.Listen(t, down)
	res := do(t, http.MethodGet, base+"/readyz", nil, nil)
	var body struct {
		Status      string
		Unreachable []string
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	if res.StatusCode != http.StatusServiceUnavailable || len(body.Unreachable) != 1 || body.Unreachable[0] != strings.TrimPrefix(closed, "http://") {
		t.Errorf("readyz against a closed port: %d %+v", res.StatusCode, body)
	}
	if res := do(t, http.MethodGet, base+"/healthz", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("healthz must not depend on the upstream: %d", res.StatusCode)
	}
}

func TestAccessLogHasNoSecrets(t *testing.T) {
	t.Parallel()
	var buf syncbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	app := newApp(t, log, nil)
	_, base := testenv.Listen(t, app)
	c := dial(t, base, "http", tokenA, mcp.ProtocolVersion20250618)
	callTool(t, c, "get_group", map[string]any{"id": 1042})
	do(t, http.MethodGet, base+"/metrics?access_token=querysecret123", nil, auth(tokenB))
	do(t, http.MethodGet, base+"/mcp?api_key=querysecret123", nil, auth("wrong-secret-456"))

	text := buf.String()
	for _, secret := range []string{tokenA, tokenB, "querysecret123", "wrong-secret-456", "Bearer", server.PrincipalOf(&http.Request{
		Header: http.Header{"Authorization": {"Bearer wrong-secret-456"}}})} {
		if strings.Contains(text, secret) {
			t.Errorf("the log contains %q:\n%s", secret, text)
		}
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "http" {
			lines = append(lines, m)
		}
	}
	var sawCall, sawMetrics bool
	for _, m := range lines {
		for _, k := range []string{"method", "path", "status", "bytes", "duration", "session", "principal", "level"} {
			if _, ok := m[k]; !ok {
				t.Errorf("access log line lacks %s: %v", k, m)
			}
		}
		if m["level"] != "INFO" {
			t.Errorf("access log level %v", m["level"])
		}
		if m["path"] == "/mcp" && m["method"] == "POST" && m["session"] != "" && strings.HasPrefix(m["principal"].(string), "bearer:") {
			sawCall = true
		}
		if m["path"] == "/metrics" && m["status"] == float64(200) {
			sawMetrics = true
		}
	}
	if !sawCall || !sawMetrics {
		t.Errorf("missing access log lines (call %v, metrics %v):\n%s", sawCall, sawMetrics, text)
	}
}

// serveLive runs h.Serve on a loopback listener; stop cancels it and
// returns Serve's error.
func serveLive(t *testing.T, h *server.HTTP, grace time.Duration) (base string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, ln, grace) }()
	var once sync.Once
	var serveErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			late := time.NewTimer(grace + testenv.Patience)
			defer late.Stop()
			select {
			case serveErr = <-done:
			case <-late.C:
				serveErr = fmt.Errorf("Serve still running %s after its context ended (grace %s)", grace+testenv.Patience, grace)
			}
		})
		return serveErr
	}
	t.Cleanup(func() { _ = stop() })
	return "http://" + ln.Addr().String(), stop
}

// startedHook makes every tool call signal on started before it runs.
func startedHook(app *server.App) <-chan string {
	started := make(chan string, 16)
	app.MCP.Use(func(next mcpserver.ToolHandlerFunc) mcpserver.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			started <- req.Params.Name
			return next(ctx, req)
		}
	})
	return started
}

func TestShutdownFinishesInFlightCalls(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"http", "sse"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			app := newApp(t, nil, nil)
			started := startedHook(app)
			h := app.NewHTTP()
			base, stop := serveLive(t, h, 10*time.Second)
			c := dial(t, base, kind, tokenA, mcp.ProtocolVersion20250618)
			// The upstream answers get_group slowly: the call is still running
			// when the shutdown begins.
			app.Sandbox.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: "/v3/groups/1042", Latency: 300 * time.Millisecond})

			type result struct {
				res *mcp.CallToolResult
				err error
			}
			got := make(chan result, 1)
			go func() {
				req := mcp.CallToolRequest{}
				req.Params.Name = "get_group"
				req.Params.Arguments = map[string]any{"id": 1042}
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				res, err := c.CallTool(ctx, req)
				got <- result{res, err}
			}()
			testenv.Recv(t, started, "get_group to start")
			if err := stop(); err != nil {
				t.Fatalf("Serve: %v", err)
			}
			r := testenv.Recv(t, got, "the in-flight call's result")
			if r.err != nil || r.res.IsError {
				t.Fatalf("the in-flight call was cut: %v %+v", r.err, r.res)
			}
			if sc := structured(t, r.res); sc["org_unit_id"] != float64(1042) {
				t.Fatalf("in-flight call result: %v", sc)
			}
			// And nothing new is accepted.
			if _, err := http.Get(base + "/healthz"); err == nil {
				t.Error("still listening after Serve returned")
			}
		})
	}
}

func TestShutdownIsPromptWithAnUnusedConnection(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, nil)
	base, stop := serveLive(t, app.NewHTTP(), 10*time.Second)
	// A connection that never sends a request (Node's fetch keeps spares).
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Make sure the server has accepted it: a request on another connection
	// is answered after the accept loop has passed it.
	if res, err := http.Get(base + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v", err)
	}
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %s with an unused connection open", d)
	}
}

func TestShutdownRefusesNewWork(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, nil)
	h := app.NewHTTP()
	h.SetDraining()
	w := post(h, "/mcp", initBody, auth(tokenA))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("new work while draining: %d", w.Code)
	}
	r := httptest.NewRequest(http.MethodGet, "http://localhost/readyz", nil)
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, r)
	if rw.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining: %d", rw.Code)
	}
}

// TestConfirmationBoundToClient: over real HTTP, a confirmation_token
// issued to client A is refused for client B, and works for A.
func TestConfirmationBoundToClient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ kind, protocol string }{
		{"http", mcp.ProtocolVersion20250618}, // sessions
		{"http", ""},                          // stateless 2026-07-28
		{"sse", ""},
	} {
		t.Run(tc.kind+"/"+tc.protocol, func(t *testing.T) {
			t.Parallel()
			app := newApp(t, nil, nil)
			_, base := testenv.Listen(t, app)
			a := dial(t, base, tc.kind, tokenA, tc.protocol)
			b := dial(t, base, tc.kind, tokenB, tc.protocol)
			first := structured(t, callTool(t, a, "delete_group", map[string]any{"id": 1042}))
			tok, _ := first["confirmation_token"].(string)
			if first["status"] != "confirmation_required" || tok == "" {
				t.Fatalf("first call: %v", first)
			}
			stolen := callTool(t, b, "delete_group", map[string]any{"id": 1042, "confirmation_token": tok})
			if !stolen.IsError {
				t.Fatalf("client B redeemed client A's token: %+v", stolen)
			}
			if sc := structured(t, callTool(t, a, "get_group", map[string]any{"id": 1042})); sc["org_unit_status"] != "active" {
				t.Fatalf("group 1042 after B's attempt: %v", sc)
			}
			mine := callTool(t, a, "delete_group", map[string]any{"id": 1042, "confirmation_token": tok})
			if mine.IsError || structured(t, mine)["status"] != "deleted" {
				t.Fatalf("client A's own confirmation: %+v", mine)
			}
		})
	}
}

// TestReadTimeout: a request that does not arrive in time gets 408, while
// SSE streams and calls that outlast the read timeout are untouched (net/http
// lifts the read deadline once the body has been read).
func TestReadTimeout(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, nil)
	started := startedHook(app)
	h := app.NewHTTP()
	h.SetReadTimeout(300 * time.Millisecond)
	base, stop := serveLive(t, h, 10*time.Second)

	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	// Headers, then a body that stops after one byte.
	_, _ = io.WriteString(conn, "POST /mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "+tokenA+
		"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusRequestTimeout {
		t.Errorf("a stalled body: %d", res.StatusCode)
	}

	// Calls that take longer than the read timeout, on both transports.
	app.Sandbox.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: "/v3/groups/1042", Latency: 600 * time.Millisecond})
	for _, kind := range []string{"http", "sse"} {
		c := dial(t, base, kind, tokenA, mcp.ProtocolVersion20250618)
		if res := callTool(t, c, "get_group", map[string]any{"id": 1042}); res.IsError {
			t.Errorf("%s: a call longer than the read timeout: %+v", kind, res)
		}
		testenv.Recv(t, started, kind+": get_group to start")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// headerTransport adds headers to every request.
type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}
