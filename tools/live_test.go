package tools_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

// TestLiveReadOnly runs read tools against the real Convirza (and, when
// configured, Talkdesk) APIs. Opt-in: set CONVIRZA_MCP_LIVE_TEST=1 and the
// usual credentials (CONVIRZA_EMAIL/CONVIRZA_PASSWORD or tokens; TALKDESK_*).
// The server is built read-only, so nothing in the account can change.
func TestLiveReadOnly(t *testing.T) {
	if os.Getenv("CONVIRZA_MCP_LIVE_TEST") != "1" {
		t.Skip("live API test: set CONVIRZA_MCP_LIVE_TEST=1 and credentials to run it")
	}
	live, err := config.Load(context.Background(), envconfig.OsLookuper(), nil)
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.New(t, testenv.Options{
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Configure: func(c *config.Config) {
			*c = *live // the real APIs, logged in as the environment says
			c.Sandbox, c.ReadOnly, c.Toolsets, c.Policy = false, true, []string{"all"}, ""
			c.UpstreamTimeout = 30 * time.Second
		},
	})
	app := env.App
	profile := env.OK(t, "get_profile", `{}`)
	t.Logf("logged in as %v", profile["user"])
	for _, call := range []struct{ tool, args string }{
		{"get_group_tree", `{}`},
		{"list_groups", `{"limit":5}`},
		{"list_users", `{"limit":5}`},
		{"list_calls", `{"limit":5}`},
		{"list_provisioned_routes", `{"limit":5}`},
		{"list_assigned_numbers", `{"limit":5}`},
		{"list_industries", `{}`},
	} {
		env.OK(t, call.tool, call.args)
	}
	if app.Deps.Talkdesk.Configured() == nil {
		env.OK(t, "list_record_lists", `{"per_page":5}`)
	}
}
