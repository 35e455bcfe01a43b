package server_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

// Benchmarks of issue 7. Compare BenchmarkToolCallHTTP with
// BenchmarkUpstreamDirect: the difference is what the server adds to a call
// (decoding, validation, policy, result shaping, MCP framing over Streamable
// HTTP). Run: go test ./internal/server -run '^$' -bench . -benchmem

func benchApp(b *testing.B) *server.App {
	b.Helper()
	return testenv.Start(b, testenv.Options{Configure: func(c *config.Config) {
		c.Transport, c.Addr = "http", "127.0.0.1:0"
		// One loopback client opens every session: no per-client caps.
		c.MaxSessions, c.MaxSessionsPerClient, c.MaxCallsPerClient = 100_000, 100_000, 100_000
	}})
}

func httpClient(b *testing.B, url string) *client.Client {
	b.Helper()
	c, err := client.NewStreamableHttpClient(url + "/mcp")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20250618
	init.Params.ClientInfo = mcp.Implementation{Name: "bench", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

func getGroup(b *testing.B, c *client.Client) {
	req := mcp.CallToolRequest{}
	req.Params.Name = "get_group"
	req.Params.Arguments = map[string]any{"id": 1042}
	res, err := c.CallTool(context.Background(), req)
	if err != nil || res.IsError {
		b.Fatalf("call: %v %v", err, res)
	}
}

// BenchmarkToolCallHTTP: one get_group tools/call over Streamable HTTP,
// including its upstream request to the sandbox.
func BenchmarkToolCallHTTP(b *testing.B) {
	app := benchApp(b)
	_, url := testenv.Listen(b, app) // stops after the clients' cleanups, which run first
	c := httpClient(b, url)
	getGroup(b, c) // log in outside the timer
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		getGroup(b, c)
	}
}

// BenchmarkToolCallHTTPParallel: 32 concurrent sessions (throughput).
func BenchmarkToolCallHTTPParallel(b *testing.B) {
	app := benchApp(b)
	_, url := testenv.Listen(b, app) // stops after the clients' cleanups, which run first
	const sessions = 32
	clients := make(chan *client.Client, sessions)
	for i := 0; i < sessions; i++ {
		c := httpClient(b, url)
		getGroup(b, c)
		clients <- c
	}
	b.ReportAllocs()
	b.SetParallelism((sessions + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := <-clients
		defer func() { clients <- c }()
		for pb.Next() {
			getGroup(b, c)
		}
	})
}

// BenchmarkUpstreamDirect: the same upstream request made directly by the
// client library, same process, same sandbox.
func BenchmarkUpstreamDirect(b *testing.B) {
	sb := sandboxenv.Start(b, sandbox.Options{})
	c := convirza.New(convirza.Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, Email: sandbox.DemoEmail, Password: sandbox.DemoPassword},
		upstream.New(nil, upstream.Policy{}, nil), nil)
	ctx := context.Background()
	if _, err := c.Groups.Get(ctx, 1042); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Groups.Get(ctx, 1042); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkToolsList: the cost of answering tools/list for the full catalog.
func BenchmarkToolsList(b *testing.B) {
	app := benchApp(b)
	c, err := client.NewInProcessClient(app.MCP)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIdleSessions reports the heap held per idle Streamable HTTP
// session (initialised, then left alone), per 1,000 sessions.
func BenchmarkIdleSessions(b *testing.B) {
	app := benchApp(b)
	_, url := testenv.Listen(b, app) // stops after the clients' cleanups, which run first
	const n = 200
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var mu sync.Mutex
		var open []*client.Client
		var wg sync.WaitGroup
		for j := 0; j < n; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := httpClient(b, url)
				mu.Lock()
				open = append(open, c)
				mu.Unlock()
			}()
		}
		wg.Wait()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n*1000/(1<<20), "MiB/1000sessions")
		for _, c := range open {
			_ = c.Close()
		}
	}
}

// BenchmarkOwnCost measures what this server adds to a tools/call beyond
// the MCP framework and the upstream request: the same get_group call over
// Streamable HTTP against this server and against a one-tool mcp-go server
// whose handler makes the same upstream request with the same client and
// returns its JSON, alternated in rounds in one run so that both see the
// same machine. It reports the medians' difference per call (own-µs/op,
// own-allocs/op, allocations of every goroutine, the simulator's included
// on both sides) and the 32-session throughput ratio (ours/baseline). Run:
// go test ./internal/server -run '^$' -bench OwnCost -benchtime 1x
func BenchmarkOwnCost(b *testing.B) {
	app := benchApp(b)
	_, ours := testenv.Listen(b, app)
	base := httptest.NewServer(mcpserver.NewStreamableHTTPServer(oneToolServer(b))) // not ours: no testenv
	b.Cleanup(base.Close)

	const perRound = 2000
	serial := func(url string) func() {
		c := httpClient(b, url)
		getGroup(b, c)
		return func() {
			for i := 0; i < perRound; i++ {
				getGroup(b, c)
			}
		}
	}
	parallel := func(url string) func() {
		const sessions = 32
		clients := make([]*client.Client, sessions)
		for i := range clients {
			clients[i] = httpClient(b, url)
			getGroup(b, clients[i])
		}
		return func() {
			var wg sync.WaitGroup
			for _, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < perRound/sessions*4; i++ {
						getGroup(b, c)
					}
				}()
			}
			wg.Wait()
		}
	}
	// measure runs f and returns its time and allocations per call.
	measure := func(f func(), calls int) (ns, allocs float64) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		f()
		d := time.Since(start)
		runtime.ReadMemStats(&after)
		return float64(d.Nanoseconds()) / float64(calls), float64(after.Mallocs-before.Mallocs) / float64(calls)
	}
	oursSerial, baseSerial := serial(ours), serial(base.URL)
	oursPar, basePar := parallel(ours), parallel(base.URL)

	const rounds = 5
	var ns, allocs, baseNs, baseAllocs, parOurs, parBase []float64
	b.ResetTimer()
	for range b.N {
		for r := 0; r < rounds; r++ {
			n, a := measure(oursSerial, perRound)
			ns, allocs = append(ns, n), append(allocs, a)
			n, a = measure(baseSerial, perRound)
			baseNs, baseAllocs = append(baseNs, n), append(baseAllocs, a)
			n, _ = measure(oursPar, perRound*4)
			parOurs = append(parOurs, n)
			n, _ = measure(basePar, perRound*4)
			parBase = append(parBase, n)
		}
	}
	b.ReportMetric((median(ns)-median(baseNs))/1e3, "own-µs/op")
	b.ReportMetric(median(allocs)-median(baseAllocs), "own-allocs/op")
	b.ReportMetric(median(ns)/1e3, "ours-µs/op")
	b.ReportMetric(median(baseNs)/1e3, "base-µs/op")
	b.ReportMetric(median(parOurs)/median(parBase), "x32-time-ratio")
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// oneToolServer is the baseline: an mcp-go server with one get_group tool
// that calls the upstream with this project's client and answers its JSON.
func oneToolServer(b *testing.B) *mcpserver.MCPServer {
	sb := sandboxenv.Start(b, sandbox.Options{})
	c := convirza.New(convirza.Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, Email: sandbox.DemoEmail, Password: sandbox.DemoPassword},
		upstream.New(nil, upstream.Policy{}, nil), nil)
	s := mcpserver.NewMCPServer("baseline", "1", mcpserver.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("get_group", mcp.WithNumber("id", mcp.Required())), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		g, err := c.Groups.Get(ctx, int64(req.GetFloat("id", 0)))
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		text, err := json.Marshal(g)
		if err != nil {
			return nil, err
		}
		return mcp.NewToolResultStructured(g, string(text)), nil
	})
	return s
}
