package server

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

// Benchmarks of issue 7. Compare BenchmarkToolCallHTTP with
// BenchmarkUpstreamDirect: the difference is what the server adds to a call
// (decoding, validation, policy, result shaping, MCP framing over Streamable
// HTTP). Run: go test ./internal/server -run '^$' -bench . -benchmem

func benchApp(b *testing.B) *App {
	b.Helper()
	cfg := &config.Config{Sandbox: true, Transport: "http", Addr: "127.0.0.1:0", UpstreamTimeout: 10 * time.Second,
		ConfirmTTL: time.Minute, SessionIdleTTL: time.Minute, Toolsets: []string{"all"},
		// One loopback client opens every session: no per-client caps.
		MaxSessions: 100_000, MaxSessionsPerClient: 100_000, MaxCallsPerClient: 100_000}
	app, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(app.Close)
	return app
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
	srv := httptest.NewServer(app.NewHTTP())
	b.Cleanup(srv.Close) // after the clients' cleanups, which run first
	c := httpClient(b, srv.URL)
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
	srv := httptest.NewServer(app.NewHTTP())
	b.Cleanup(srv.Close) // after the clients' cleanups, which run first
	const sessions = 32
	clients := make(chan *client.Client, sessions)
	for i := 0; i < sessions; i++ {
		c := httpClient(b, srv.URL)
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
	sb, err := sandbox.New(sandbox.Options{}).Start()
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
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
	srv := httptest.NewServer(app.NewHTTP())
	b.Cleanup(srv.Close) // after the clients' cleanups, which run first
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
				c := httpClient(b, srv.URL)
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
