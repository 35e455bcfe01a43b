package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

// TestClientCancellationReachesUpstream: a client that gives up on a call
// (notifications/cancelled, or the request's connection going away) cancels
// the upstream request the call was waiting on, over every transport and
// protocol era. The upstream would answer in a minute and the server would
// wait two for it: only the cancellation can end the request within the
// test's wait (testenv.Patience).
func TestClientCancellationReachesUpstream(t *testing.T) {
	for _, tc := range []struct{ kind, protocol string }{
		{"http", ""}, // stateless 2026-07-28: the HTTP request is the call
		{"http", mcp.ProtocolVersion20250618},
		{"sse", mcp.ProtocolVersion20250618},
	} {
		t.Run(tc.kind+"/"+tc.protocol, func(t *testing.T) {
			app := newApp(t, nil, func(c *config.Config) { c.UpstreamTimeout = 2 * time.Minute })
			_, base := testenv.Listen(t, app)
			posted := &callIDs{next: headerTransport(auth(tokenA))}
			c := dialVia(t, base, tc.kind, tc.protocol, posted)
			callTool(t, c, "get_group", map[string]any{"id": 1002}) // log in first
			app.Sandbox.AddFault(sandbox.Fault{Method: "GET", PathPrefix: "/v3/groups/1042", Latency: time.Minute})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				req := mcp.CallToolRequest{}
				req.Params.Name = "get_group"
				req.Params.Arguments = map[string]any{"id": 1042}
				_, err := c.CallTool(ctx, req)
				done <- err
			}()
			testenv.WaitFor(t, "get_group 1042 to reach the upstream", func() bool {
				for _, call := range app.Sandbox.Calls() {
					if call == "GET /v3/groups/1042" {
						return true
					}
				}
				return false
			})
			cancel()
			if err := testenv.Recv(t, done, "the cancelled call to return"); err == nil {
				t.Fatal("the cancelled call returned no error")
			}
			if tc.kind == "sse" {
				// mcp-go's client sends notifications/cancelled over no HTTP
				// transport: on Streamable HTTP, ending the request is the
				// cancellation, but a legacy SSE POST was answered 202 at once
				// and the call runs on. A client cancels it by saying so, as
				// the TypeScript SDK does; say it here the same way.
				cancelled(t, c, posted.last(t))
			}
			testenv.WaitFor(t, "the upstream request to be cancelled", func() bool { return app.Sandbox.Aborted() == 1 })
		})
	}
}

// cancelled sends notifications/cancelled for the request with id.
func cancelled(t *testing.T, c *client.Client, id json.RawMessage) {
	t.Helper()
	n := mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{
		Method: string(mcp.MethodNotificationCancelled),
		Params: mcp.NotificationParams{AdditionalFields: map[string]any{"requestId": id, "reason": "the test gave up"}},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience)
	defer cancel()
	if err := c.GetTransport().SendNotification(ctx, n); err != nil {
		t.Fatalf("notifications/cancelled: %v", err)
	}
}

// callIDs is an HTTP transport that notes the JSON-RPC id of every
// tools/call posted through it, then sends the request on with next.
type callIDs struct {
	next http.RoundTripper
	mu   sync.Mutex
	ids  []json.RawMessage
}

func (c *callIDs) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if json.Unmarshal(body, &msg) == nil && msg.Method == string(mcp.MethodToolsCall) {
			c.mu.Lock()
			c.ids = append(c.ids, msg.ID)
			c.mu.Unlock()
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return c.next.RoundTrip(r)
}

// last is the id of the latest tools/call posted.
func (c *callIDs) last(t *testing.T) json.RawMessage {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ids) == 0 {
		t.Fatal("no tools/call was posted")
	}
	return c.ids[len(c.ids)-1]
}
