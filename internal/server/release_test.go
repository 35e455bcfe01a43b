package server

import (
	"testing"
)

// TestClosedSessionsAreReleased: a client that closes its session frees its
// place under the session cap (and its memory).
func TestClosedSessionsAreReleased(t *testing.T) {
	for _, kind := range []string{"http", "sse"} {
		t.Run(kind, func(t *testing.T) {
			app := newApp(t, nil, nil)
			_, base := liveHTTP(t, app)
			for i := 0; i < 5; i++ {
				c := dial(t, base, kind, tokenA, "2025-06-18")
				callTool(t, c, "get_group", map[string]any{"id": 1042})
				if err := c.Close(); err != nil {
					t.Logf("close: %v", err)
				}
			}
			waitFor(t, func() bool { return app.obs.sessions.open() == 0 })
		})
	}
}
