package server_test

// Regression tests of the outside security review (issue 12): HTTP items.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/logging"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/syncbuf"
)

// doHost is do with the Host header set to host.
func doHost(t *testing.T, method, url, host, body string, hdr map[string]string) *http.Response {
	t.Helper()
	h := map[string]string{"Host": host}
	maps.Copy(h, hdr)
	return do(t, method, url, strings.NewReader(body), h)
}

// TestBlankAuthTokenFailsClosed: a configured token that names no token
// (config.Load refuses it; a hand-built Config might not) refuses every
// request instead of serving without authentication; and empty entries of
// a list are never tokens.
func TestBlankAuthTokenFailsClosed(t *testing.T) {
	t.Parallel()
	for _, tok := range []string{" ", ",", " , "} {
		app := newApp(t, nil, func(c *config.Config) { c.AuthToken = tok })
		_, base := testenv.Listen(t, app)
		for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer"}, {"Authorization": "Bearer ,"}, {"Authorization": "Bearer  "}} {
			if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), hdr); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("token %q, %v: /mcp %d", tok, hdr, res.StatusCode)
			}
			if res := do(t, http.MethodGet, base+"/metrics", nil, hdr); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("token %q, %v: /metrics %d", tok, hdr, res.StatusCode)
			}
		}
	}
	app := newApp(t, nil, func(c *config.Config) { c.AuthToken = " , " + tokenA + ",, " })
	_, base := testenv.Listen(t, app)
	if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), map[string]string{"Authorization": "Bearer ,"}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("an empty entry accepted: %d", res.StatusCode)
	}
	if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), auth(tokenA)); res.StatusCode != http.StatusOK {
		t.Errorf("the listed token: %d", res.StatusCode)
	}
}

// TestForeignHostRefusedWithoutToken: a loopback server without a token
// answers a foreign Host (DNS rebinding) with 403 on every endpoint, not
// only /mcp.
func TestForeignHostRefusedWithoutToken(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, func(c *config.Config) { c.AuthToken = "" })
	_, base := testenv.Listen(t, app)
	port := base[strings.LastIndex(base, ":")+1:]
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/mcp", initBody},
		{http.MethodGet, "/sse", ""},
		{http.MethodGet, "/metrics", ""},
		{http.MethodGet, "/readyz", ""},
		{http.MethodGet, "/healthz", ""},
	} {
		for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1.nip.io:" + port} {
			if res := doHost(t, tc.method, base+tc.path, host, tc.body, nil); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with Host %s: %d", tc.method, tc.path, host, res.StatusCode)
			}
		}
		if tc.path == "/sse" {
			continue // a stream: opened below by openSSE
		}
		for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port, "LOCALHOST"} {
			if res := doHost(t, tc.method, base+tc.path, host, tc.body, nil); res.StatusCode != http.StatusOK {
				t.Errorf("%s %s with Host %s: %d", tc.method, tc.path, host, res.StatusCode)
			}
		}
	}
	if _, res := openSSE(t, base, "", nil); res.StatusCode != http.StatusOK {
		t.Errorf("SSE with a loopback Host: %d", res.StatusCode)
	}
}

// sseClient is a raw legacy SSE session: its message endpoint and the data
// of every message event, in order.
type sseClient struct {
	endpoint string
	events   chan string
}

func openSSEClient(t *testing.T, base, token string) *sseClient {
	t.Helper()
	endpoint, res := openSSE(t, base, token, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("SSE stream: %d", res.StatusCode)
	}
	c := &sseClient{endpoint: endpoint, events: make(chan string, 64)}
	go func() {
		defer close(c.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				c.events <- data
			}
		}
	}()
	return c
}

// awaitID returns the message event answering id, skipping others.
func (c *sseClient) awaitID(t *testing.T, id string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case data, ok := <-c.events:
			if !ok {
				t.Fatalf("the stream ended before the answer to %s", id)
			}
			var m struct{ ID json.RawMessage }
			if json.Unmarshal([]byte(data), &m) == nil && string(m.ID) == id {
				return data
			}
		case <-deadline:
			t.Fatalf("no answer to %s within 10s", id)
		}
	}
}

func (c *sseClient) post(t *testing.T, base, token, body string) int {
	t.Helper()
	return do(t, http.MethodPost, base+c.endpoint, strings.NewReader(body), auth(token)).StatusCode
}

// TestSSEPostedResponsesAreNotInFlight: responses and notifications a
// legacy SSE client posts get no answer, so they are never counted as calls
// in flight: a shutdown right after them is prompt and clean.
func TestSSEPostedResponsesAreNotInFlight(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, nil)
	h := app.NewHTTP()
	grace := 5 * time.Second
	base, stop := serveLive(t, h, grace)
	c := openSSEClient(t, base, tokenA)
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":7,"result":{}}`,
		`{"jsonrpc":"2.0","id":8,"method":"ping","result":{}}`, // a response, whatever else it carries
		`{"jsonrpc":"2.0","id":"x","method":"notifications/initialized","result":1}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":null,"method":"ping"}`,
	} {
		if code := c.post(t, base, tokenA, body); code != http.StatusAccepted {
			t.Fatalf("%s: %d", body, code)
		}
	}
	// A request still counts until its answer is on the stream.
	if code := c.post(t, base, tokenA, `{"jsonrpc":"2.0","id":9,"method":"ping"}`); code != http.StatusAccepted {
		t.Fatalf("ping: %d", code)
	}
	c.awaitID(t, "9")
	testenv.WaitFor(t, "no call in flight", func() bool { return h.InFlight() == 0 })

	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("shutdown after posted responses: %v (after %s)", err, time.Since(start))
	}
}

// TestSSEAnswerSettlesItsOwnRequest: an answer settles the request with its
// id, not any other: a message mcp-go answers with an error while a slow
// call runs leaves that call in flight, so a shutdown still waits for it.
func TestSSEAnswerSettlesItsOwnRequest(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, nil)
	started := startedHook(app)
	app.Sandbox.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: "/v3/groups/1042", Latency: time.Second})
	hh, base2 := testenv.Listen(t, app)
	c := openSSEClient(t, base2, tokenA)
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_group","arguments":{"id":1042}}}`
	if code := c.post(t, base2, tokenA, call); code != http.StatusAccepted {
		t.Fatalf("tools/call: %d", code)
	}
	<-started
	// Not a response (no result): mcp-go answers it with an error.
	if code := c.post(t, base2, tokenA, `{"jsonrpc":"2.0","id":2,"error":{"code":-1,"message":"x"}}`); code != http.StatusAccepted {
		t.Fatalf("error message: %d", code)
	}
	if got := c.awaitID(t, "2"); !strings.Contains(got, `"error"`) {
		t.Fatalf("answer to 2: %s", got)
	}
	if n := hh.InFlight(); n != 1 {
		t.Errorf("%d in flight while the call runs, want 1", n)
	}
	c.awaitID(t, "1")
	testenv.WaitFor(t, "no call in flight", func() bool { return hh.InFlight() == 0 })
}

// TestAnswerDueMatchesMCPGo: answerDue says a posted message will be
// answered, with that id, exactly when mcp-go's HandleMessage answers it
// with an id.
func TestAnswerDueMatchesMCPGo(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, nil)
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":7.0,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":1e2,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":"a<b","method":"ping"}`,
		`{"jsonrpc":"2.0","id":12345678901234567890,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":{"k":[1]},"method":"ping"}`,
		`{"jsonrpc":"2.0","id":3,"method":"ping"} trailing`,
		`{"jsonrpc":"2.0","id":7,"result":{}}`,
		`{"jsonrpc":"2.0","id":7,"result":null}`,
		`{"jsonrpc":"2.0","id":8,"method":"ping","result":{}}`,
		`{"jsonrpc":"2.0","id":9,"error":{"code":1,"message":"x"}}`,
		`{"jsonrpc":"1.0","id":10,"result":{}}`,
		`{"jsonrpc":"2.0","id":11,"method":"no/such/method"}`,
		`{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"nope"}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":null,"method":"ping"}`,
		`{"jsonrpc":2,"id":13,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":14,"method":5}`,
		`[{"jsonrpc":"2.0","id":15,"method":"ping"}]`,
		`"just a string"`,
	} {
		id, due := server.AnswerDue([]byte(body))
		var raw json.RawMessage
		if json.NewDecoder(strings.NewReader(body)).Decode(&raw) != nil {
			t.Fatalf("bad test body %s", body)
		}
		resp := app.MCP.HandleMessage(context.Background(), raw)
		answeredID := ""
		if resp != nil {
			b, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			var m struct {
				ID json.RawMessage `json:"id"`
			}
			if json.Unmarshal(b, &m) == nil && len(m.ID) > 0 && string(m.ID) != "null" {
				answeredID = server.CanonicalID(m.ID)
			}
		}
		if due != (answeredID != "") || id != answeredID {
			t.Errorf("%s: answerDue %q %v; mcp-go answers id %q", body, id, due, answeredID)
		}
	}
}

// TestPerClientSessionCap: one client at its session cap gets 429 with
// Retry-After, on both transports, while another client still gets in; a
// closed session gives its place back.
func TestPerClientSessionCap(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, func(c *config.Config) { c.MaxSessions, c.MaxSessionsPerClient = 10, 2 })
	_, base := testenv.Listen(t, app)
	res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), auth(tokenA))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("initialize: %d", res.StatusCode)
	}
	id := res.Header.Get("Mcp-Session-Id")
	if _, res := openSSE(t, base, tokenA, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("SSE within the cap: %d", res.StatusCode)
	}
	refused := func(what string, res *http.Response) {
		t.Helper()
		if res.StatusCode == http.StatusOK {
			t.Errorf("%s past the client's cap: 200", what)
			return // a stream, maybe: do not wait for its end
		}
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "CONVIRZA_MCP_MAX_SESSIONS_PER_CLIENT") {
			t.Errorf("%s past the client's cap: %d %q %s", what, res.StatusCode, res.Header.Get("Retry-After"), b)
		}
	}
	refused("initialize", do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), auth(tokenA)))
	_, sse := openSSE(t, base, tokenA, nil)
	refused("SSE stream", sse)
	// Another client is not affected.
	if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), auth(tokenB)); res.StatusCode != http.StatusOK {
		t.Errorf("another client: %d", res.StatusCode)
	}
	// Ending one of A's sessions makes room for A.
	if res := do(t, http.MethodDelete, base+"/mcp", nil, map[string]string{"Authorization": "Bearer " + tokenA,
		"Mcp-Session-Id": id, "Mcp-Protocol-Version": "2025-06-18"}); res.StatusCode != http.StatusOK {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), auth(tokenA)); res.StatusCode != http.StatusOK {
		t.Errorf("initialize after a session ended: %d", res.StatusCode)
	}
	m := do(t, http.MethodGet, base+"/metrics", nil, auth(tokenA))
	b, _ := io.ReadAll(m.Body)
	if !strings.Contains(string(b), `convirza_mcp_client_limit_refusals_total{limit="sessions"} 2`) {
		t.Errorf("refusals not counted:\n%s", b)
	}
}

// toolCall is the body of a tools/call of get_group 1042 with id.
func toolCall(id int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"get_group","arguments":{"id":1042}}}`, id)
}

// TestPerClientCallCap: a client running as many tool calls as it may gets
// 429 for one more, on both transports, while another client's call runs;
// a finished call gives its place back.
func TestPerClientCallCap(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, func(c *config.Config) { c.MaxCallsPerClient = 1 })
	started := startedHook(app)
	_, base := testenv.Listen(t, app)
	clientA := server.PrincipalOf(&http.Request{Header: http.Header{"Authorization": {"Bearer " + tokenA}}})
	app.Sandbox.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: "/v3/groups/1042", Latency: 300 * time.Millisecond})

	sessionOf := func(token string) map[string]string {
		res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), auth(token))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("initialize: %d", res.StatusCode)
		}
		return map[string]string{"Authorization": "Bearer " + token, "Mcp-Session-Id": res.Header.Get("Mcp-Session-Id"), "Mcp-Protocol-Version": "2025-06-18"}
	}
	a, b := sessionOf(tokenA), sessionOf(tokenB)

	// Streamable HTTP: A's first call runs, its second is refused, B's runs.
	first := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(toolCall(1)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		for k, v := range a {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- 0
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		first <- res.StatusCode
	}()
	<-started
	res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(toolCall(2)), a)
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "CONVIRZA_MCP_MAX_CALLS_PER_CLIENT") {
		t.Errorf("A's second call: %d %q %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(toolCall(3)), b); res.StatusCode != http.StatusOK {
		t.Errorf("B's call while A is at its cap: %d", res.StatusCode)
	}
	<-started
	if code := <-first; code != http.StatusOK {
		t.Fatalf("A's first call: %d", code)
	}
	// Other requests are not calls.
	if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":4,"method":"tools/list"}`), a); res.StatusCode != http.StatusOK {
		t.Errorf("tools/list: %d", res.StatusCode)
	}

	// Legacy SSE: the slot is held until the answer is on the stream.
	c := openSSEClient(t, base, tokenA)
	if code := c.post(t, base, tokenA, toolCall(5)); code != http.StatusAccepted {
		t.Fatalf("A's SSE call: %d", code)
	}
	<-started
	if code := c.post(t, base, tokenA, toolCall(6)); code != http.StatusTooManyRequests {
		t.Errorf("A's second SSE call: %d", code)
	}
	c.awaitID(t, "5")
	testenv.WaitFor(t, "client A's calls to end", func() bool { return app.ClientsHolding(server.LimitCalls, clientA) == 0 })
	if code := c.post(t, base, tokenA, toolCall(7)); code != http.StatusAccepted {
		t.Errorf("A's SSE call after the first finished: %d", code)
	}
	<-started
	c.awaitID(t, "7")
	testenv.WaitFor(t, "client A's calls to end", func() bool { return app.ClientsHolding(server.LimitCalls, clientA) == 0 })
}

// TestPerClientCapsByAddressWithoutToken: without a token, clients are told
// apart by IP address, so made-up bearer tokens do not make new clients.
func TestPerClientCapsByAddressWithoutToken(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, func(c *config.Config) { c.AuthToken, c.MaxSessions, c.MaxSessionsPerClient = "", 10, 1 })
	_, base := testenv.Listen(t, app)
	if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), auth("made-up-1")); res.StatusCode != http.StatusOK {
		t.Fatalf("first session: %d", res.StatusCode)
	}
	if res := do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), auth("made-up-2")); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a second session from the same address: %d", res.StatusCode)
	}
}

// TestAccessLogEscapesControlCharacters: the review's request, with a
// terminal escape in the path, reaches the log escaped.
func TestAccessLogEscapesControlCharacters(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json"} {
		var buf syncbuf.Buffer
		app := newApp(t, logging.New(&buf, "info", format), nil)
		_, base := testenv.Listen(t, app)
		res := do(t, http.MethodGet, base+"/%1b%5d0;pwned%07/x%0aforged", nil, nil)
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", res.StatusCode)
		}
		testenv.WaitFor(t, "the access log line", func() bool { return strings.Contains(buf.String(), "pwned") })
		out := buf.String()
		if strings.ContainsAny(out, "\x1b\x07") || strings.Contains(out, "\nforged") {
			t.Errorf("%s: raw control characters in the log: %q", format, out)
		}
		if !strings.Contains(out, `\x1b]0;pwned\x07`) && !strings.Contains(out, `\\x1b]0;pwned\\x07`) {
			t.Errorf("%s: escaped path missing: %q", format, out)
		}
	}
}
