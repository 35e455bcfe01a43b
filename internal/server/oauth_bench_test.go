package server_test

import (
	"context"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

// BenchmarkToolCallOAuth: BenchmarkToolCallHTTP with a person signed in
// (CONVIRZA_MCP_AUTH=oauth): the access token checked in the store, the
// person's Convirza tokens read, the call made with them. Compare with
// BenchmarkToolCallHTTP in the same run.
func BenchmarkToolCallOAuth(b *testing.B) {
	base, _ := testenv.StartOAuth(b, testenv.Options{Configure: func(c *config.Config) {
		c.MaxSessions, c.MaxSessionsPerClient, c.MaxCallsPerClient = 100_000, 100_000, 100_000
	}})
	tok := testenv.SignIn(b, base, sandbox.DemoEmail, base+"/mcp")["access_token"].(string)
	c, err := client.NewStreamableHttpClient(base+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + tok}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20250618
	if _, err := c.Initialize(ctx, init); err != nil {
		b.Fatal(err)
	}
	getGroup(b, c)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		getGroup(b, c)
	}
}
