package server

import (
	"log/slog"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/config"
)

// BenchmarkNew: building the whole server, as serve does before it answers
// initialize (real credentials configured, no upstream call).
func BenchmarkNew(b *testing.B) {
	cfg := &config.Config{Transport: "stdio", UpstreamTimeout: 10 * time.Second, ConfirmTTL: time.Minute,
		SessionIdleTTL: time.Minute, Toolsets: []string{"all"}, ToolMode: "full"}
	cfg.Convirza.Email, cfg.Convirza.Password = "a@b.example", "x"
	cfg.Convirza.APIURL, cfg.Convirza.OAuthURL = "http://127.0.0.1:1/v3", "http://127.0.0.1:1"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		app, err := New(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		app.Close()
	}
}
