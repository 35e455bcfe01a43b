package server_test

import (
	"testing"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

// TestClosedSessionsAreReleased: a client that closes its session frees its
// place under the session cap (and its memory).
func TestClosedSessionsAreReleased(t *testing.T) {
	for _, kind := range []string{"http", "sse"} {
		t.Run(kind, func(t *testing.T) {
			app := newApp(t, nil, nil)
			_, base := testenv.Listen(t, app)
			for i := 0; i < 5; i++ {
				c := dial(t, base, kind, tokenA, "2025-06-18")
				callTool(t, c, "get_group", map[string]any{"id": 1042})
				if err := c.Close(); err != nil {
					t.Logf("close: %v", err)
				}
			}
			testenv.WaitFor(t, "every session to be released", func() bool { return app.OpenSessions() == 0 })
		})
	}
}
