package server_test

import (
	"log/slog"
	"testing"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

// BenchmarkNew: building the whole server, as serve does before it answers
// initialize (real credentials configured, no upstream call).
func BenchmarkNew(b *testing.B) {
	// The configuration only, not testenv.Start: what is measured is
	// server.New itself, with credentials and no sandbox to start.
	cfg := testenv.Config(b, testenv.Options{Configure: func(c *config.Config) {
		c.Sandbox = false
		c.Convirza.Email, c.Convirza.Password = "a@b.example", "x"
		c.Convirza.APIURL, c.Convirza.OAuthURL = "http://127.0.0.1:1/v3", "http://127.0.0.1:1"
	}})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		app, err := server.New(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		app.Close()
	}
}
