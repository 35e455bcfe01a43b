package server

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/sandbox"
)

// TestClientCancellationReachesUpstream: a client that gives up on a call
// (notifications/cancelled, or the request's connection going away) cancels
// the upstream request the call was waiting on, over every transport and
// protocol era.
func TestClientCancellationReachesUpstream(t *testing.T) {
	for _, tc := range []struct{ kind, protocol string }{
		{"http", ""}, // stateless 2026-07-28: the HTTP request is the call
		{"http", mcp.ProtocolVersion20250618},
		{"sse", mcp.ProtocolVersion20250618},
	} {
		t.Run(tc.kind+"/"+tc.protocol, func(t *testing.T) {
			app := newApp(t, nil, nil)
			_, base := liveHTTP(t, app)
			c := dial(t, base, tc.kind, tokenA, tc.protocol)
			callTool(t, c, "get_group", map[string]any{"id": 1002}) // log in first
			app.Sandbox.AddFault(sandbox.Fault{Method: "GET", PathPrefix: "/v3/groups/1042", Latency: time.Minute})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				req := mcp.CallToolRequest{}
				req.Params.Name = "get_group"
				req.Params.Arguments = map[string]any{"id": 1042}
				_, err := c.CallTool(ctx, req)
				done <- err
			}()
			waitFor(t, func() bool {
				for _, call := range app.Sandbox.Calls() {
					if call == "GET /v3/groups/1042" {
						return true
					}
				}
				return false
			})
			cancel()
			if err := <-done; err == nil {
				t.Fatal("the cancelled call returned no error")
			}
			waitFor(t, func() bool { return app.Sandbox.Aborted() == 1 })
		})
	}
}

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}
