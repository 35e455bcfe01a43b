package tools_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

func countCalls(env *testenv.Env, call string) int {
	n := 0
	for _, c := range env.App.Sandbox.Calls() {
		if c == call {
			n++
		}
	}
	return n
}

// Reads are retried within a bounded budget, then fail clearly.
func TestReadRetriedThenFailsClearly(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	env.OK(t, "get_group", `{"id":1002}`) // log in first
	env.App.Sandbox.ResetCalls()
	env.App.Sandbox.AddFault(sandbox.Fault{Method: "GET", PathPrefix: "/v3/groups/1042", Status: 503, RetryAfter: "0"})
	msg := env.Fail(t, "get_group", `{"id":1042}`)
	if !strings.Contains(msg, "503") || !strings.Contains(msg, "request_id") {
		t.Errorf("message: %s", msg)
	}
	if n := countCalls(env, "GET /v3/groups/1042"); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	env.App.Sandbox.ClearFaults()
	env.App.Sandbox.AddFault(sandbox.Fault{Method: "GET", PathPrefix: "/v3/groups/1042", Status: 502, RetryAfter: "0", Times: 1})
	if g := env.OK(t, "get_group", `{"id":1042}`); g["org_unit_name"] != "Denver Office" {
		t.Errorf("a transient 502 should be absorbed: %v", g)
	}
}

// Writes are never retried once they may have reached the upstream.
func TestWritesNeverRetried(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	env.OK(t, "get_group", `{"id":1002}`)
	env.App.Sandbox.ResetCalls()
	env.App.Sandbox.AddFault(sandbox.Fault{Method: "POST", PathPrefix: "/v3/groups", Status: 503, RetryAfter: "0"})
	if msg := env.Fail(t, "create_group", `{"org_unit_name":"Retry Me","org_unit_parent_id":1003}`); !strings.Contains(msg, "503") {
		t.Errorf("503: %s", msg)
	}
	if n := countCalls(env, "POST /v3/groups"); n != 1 {
		t.Errorf("POST sent %d times", n)
	}

	env.App.Sandbox.ClearFaults()
	env.App.Sandbox.ResetCalls()
	env.App.Sandbox.AddFault(sandbox.Fault{Method: "POST", PathPrefix: "/v3/groups", Reset: true})
	msg := env.Fail(t, "create_group", `{"org_unit_name":"Lost Answer","org_unit_parent_id":1003}`)
	if !strings.Contains(msg, "may or may not have been made") || !strings.Contains(msg, "check") {
		t.Errorf("unknown outcome must be said plainly: %s", msg)
	}
	if n := countCalls(env, "POST /v3/groups"); n != 1 {
		t.Errorf("POST sent %d times after a dropped connection", n)
	}

	// A gateway's 502 or 504 to a write: the service may have acted. A 503
	// says it did not, and is not made to sound otherwise.
	for _, status := range []int{502, 504} {
		env.App.Sandbox.ClearFaults()
		env.App.Sandbox.ResetCalls()
		env.App.Sandbox.AddFault(sandbox.Fault{Method: "POST", PathPrefix: "/v3/groups", Status: status, RetryAfter: "0"})
		msg := env.Fail(t, "create_group", fmt.Sprintf(`{"org_unit_name":"Gateway %d","org_unit_parent_id":1003}`, status))
		if !strings.Contains(msg, fmt.Sprint(status)) || !strings.Contains(msg, "may or may not have been made") {
			t.Errorf("%d to a POST must say the outcome is unknown: %s", status, msg)
		}
		if n := countCalls(env, "POST /v3/groups"); n != 1 {
			t.Errorf("POST sent %d times after a %d", n, status)
		}
	}
	env.App.Sandbox.ClearFaults()
	env.App.Sandbox.AddFault(sandbox.Fault{Method: "POST", PathPrefix: "/v3/groups", Status: 503, RetryAfter: "0"})
	if msg := env.Fail(t, "create_group", `{"org_unit_name":"Unavailable","org_unit_parent_id":1003}`); strings.Contains(msg, "may or may not") {
		t.Errorf("a 503 is not an unknown outcome: %s", msg)
	}
}

// A slow upstream makes the tool answer within the configured timeout.
func TestTimeoutBoundsTheAnswer(t *testing.T) {
	env := testenv.New(t, testenv.Options{Configure: func(c *config.Config) { c.UpstreamTimeout = 300 * time.Millisecond }})
	env.OK(t, "get_group", `{"id":1002}`)
	env.App.Sandbox.AddFault(sandbox.Fault{Method: "GET", PathPrefix: "/v3/groups/1042", Latency: time.Minute})
	start := time.Now()
	msg := env.Fail(t, "get_group", `{"id":1042}`)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("answered after %v", took)
	}
	if !strings.Contains(msg, "did not answer in time") {
		t.Errorf("message: %s", msg)
	}
}

func TestMalformedAnswer(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	env.OK(t, "get_group", `{"id":1002}`)
	env.App.Sandbox.AddFault(sandbox.Fault{Method: "GET", PathPrefix: "/v3/groups/1042", Body: `{"code":200,"data":{"org_unit_name":`})
	if msg := env.Fail(t, "get_group", `{"id":1042}`); !strings.Contains(msg, "unreadable answer") {
		t.Errorf("message: %s", msg)
	}
}

// Cancelling the tool call cancels the upstream request. The upstream would
// answer in a minute and the server would wait two for it: only the
// cancellation can end the call within the test's wait (testenv.Patience).
func TestCancellationReachesUpstream(t *testing.T) {
	env := testenv.New(t, testenv.Options{Configure: func(c *config.Config) { c.UpstreamTimeout = 2 * time.Minute }})
	env.OK(t, "get_group", `{"id":1002}`)
	env.App.Sandbox.AddFault(sandbox.Fault{Method: "GET", PathPrefix: "/v3/groups/1042", Latency: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := mcp.CallToolRequest{}
		req.Params.Name = "get_group"
		req.Params.Arguments = map[string]any{"id": 1042}
		_, _ = env.Client.CallTool(ctx, req)
	}()
	testenv.WaitFor(t, "get_group 1042 to reach the upstream", func() bool { return countCalls(env, "GET /v3/groups/1042") > 0 })
	cancel()
	testenv.Recv(t, done, "the cancelled call to return")
	testenv.WaitFor(t, "the upstream request to be cancelled", func() bool { return env.App.Sandbox.Aborted() == 1 })
}

// The same confirmed call arriving twice at once executes once.
func TestConfirmedCallExecutesOnceUnderConcurrency(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	first := env.OK(t, "delete_group", `{"id":1042}`)
	args := fmt.Sprintf(`{"id":1042,"confirmation_token":%q}`, env.Approved(t, first))
	env.App.Sandbox.ResetCalls()
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res := env.Call(t, "delete_group", args); !res.IsError {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || countCalls(env, "DELETE /v3/groups/1042") != 1 {
		t.Fatalf("%d successes, %d DELETEs; want 1 and 1", ok.Load(), countCalls(env, "DELETE /v3/groups/1042"))
	}
}

// 100 concurrent calls with an expired access token cause one refresh.
func TestExpiredTokenUnderLoadRefreshesOnce(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	env.OK(t, "get_group", `{"id":1002}`)
	env.App.Sandbox.ExpireAccessTokens()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res := env.Call(t, "get_group", `{"id":1042}`); res.IsError {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 || env.App.Sandbox.Refreshes() != 1 || env.App.Sandbox.Logins() != 1 {
		t.Fatalf("failed %d, refreshes %d, logins %d", failed.Load(), env.App.Sandbox.Refreshes(), env.App.Sandbox.Logins())
	}
}

// Opening and closing 1,000 sessions leaves no goroutines behind.
func TestSessionCyclesLeakNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 1,000 sessions")
	}
	env := testenv.New(t, testenv.Options{})
	env.OK(t, "get_group", `{"id":1002}`)
	cycle := func() {
		c, err := client.NewInProcessClient(env.App.MCP)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
			t.Fatal(err)
		}
		req := mcp.CallToolRequest{}
		req.Params.Name = "get_group"
		req.Params.Arguments = map[string]any{"id": 1042}
		if res, err := c.CallTool(ctx, req); err != nil || res.IsError {
			t.Fatalf("call: %v", err)
		}
		_ = c.Close()
	}
	for i := 0; i < 20; i++ { // warm pools and idle connections
		cycle()
	}
	runtime.GC()
	base := runtime.NumGoroutine()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 1000; i++ {
		cycle()
	}
	testenv.WaitFor(t, fmt.Sprintf("the goroutines to come back to %d (+5) after 1,000 sessions", base), func() bool {
		runtime.GC()
		return runtime.NumGoroutine() <= base+5
	})
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Fatalf("heap grew %d MiB over 1,000 sessions", grew>>20)
	}
}
