package server_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/logging"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/syncbuf"
)

// TestTrustedProxies: without a token, per-IP session caps count the
// address a trusted proxy forwarded (so two clients behind the balancer are
// two clients, and prepending a made-up address escapes nothing), and the
// access log names it with the proxy beside it; from a peer that is not a
// trusted proxy, X-Forwarded-For is ignored by both.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	start := func(t *testing.T, trusted string) (string, *syncbuf.Buffer) {
		var buf syncbuf.Buffer
		app := newApp(t, logging.New(&buf, "info", "json"), func(c *config.Config) {
			c.AuthToken, c.MaxSessions, c.MaxSessionsPerClient = "", 10, 1
			c.TrustedProxies = []string{" ", trusted}
		})
		_, base := testenv.Listen(t, app)
		return base, &buf
	}
	initialize := func(t *testing.T, base, xff string) int {
		t.Helper()
		return do(t, http.MethodPost, base+"/mcp", strings.NewReader(initBody), map[string]string{"X-Forwarded-For": xff}).StatusCode
	}
	logged := func(t *testing.T, buf *syncbuf.Buffer) []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "http" {
				out = append(out, m)
			}
		}
		return out
	}

	t.Run("trusted", func(t *testing.T) {
		t.Parallel()
		base, buf := start(t, "127.0.0.0/8")
		if code := initialize(t, base, "203.0.113.7"); code != http.StatusOK {
			t.Fatalf("first client: %d", code)
		}
		if code := initialize(t, base, "203.0.113.8"); code != http.StatusOK {
			t.Errorf("a second client behind the proxy: %d", code)
		}
		if code := initialize(t, base, "198.51.100.1, 203.0.113.7"); code != http.StatusTooManyRequests {
			t.Errorf("the first client again, with a made-up address prepended: %d", code)
		}
		testenv.WaitFor(t, "three access log lines", func() bool { return len(logged(t, buf)) == 3 })
		for i, want := range []string{"203.0.113.7", "203.0.113.8", "203.0.113.7"} {
			if l := logged(t, buf)[i]; l["remote"] != want || l["proxy"] != "127.0.0.1" {
				t.Errorf("access log line %d: remote %v proxy %v, want %s via 127.0.0.1", i, l["remote"], l["proxy"], want)
			}
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		t.Parallel()
		base, buf := start(t, "10.0.0.0/8")
		if code := initialize(t, base, "203.0.113.7"); code != http.StatusOK {
			t.Fatalf("first client: %d", code)
		}
		if code := initialize(t, base, "203.0.113.8"); code != http.StatusTooManyRequests {
			t.Errorf("a made-up forwarded address from a peer that is no trusted proxy: %d", code)
		}
		testenv.WaitFor(t, "two access log lines", func() bool { return len(logged(t, buf)) == 2 })
		for i, l := range logged(t, buf) {
			if _, ok := l["proxy"]; l["remote"] != "127.0.0.1" || ok {
				t.Errorf("access log line %d: remote %v proxy %v, want the peer alone", i, l["remote"], l["proxy"])
			}
		}
	})
}

// TestClientAddr: how X-Forwarded-For is walked.
func TestClientAddr(t *testing.T) {
	t.Parallel()
	app := newApp(t, nil, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1", "10.0.0.0/8", "2001:db8::/32"} })
	h := app.NewHTTP()
	for _, tc := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"127.0.0.1:5000", nil, "127.0.0.1"},
		{"127.0.0.1:5000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"127.0.0.1:5000", []string{"203.0.113.7, 10.1.2.3"}, "203.0.113.7"},                 // through two proxies
		{"127.0.0.1:5000", []string{"198.51.100.9, 203.0.113.7"}, "203.0.113.7"},             // the client's own claim is not believed
		{"127.0.0.1:5000", []string{"198.51.100.9", "203.0.113.7, 10.0.0.1"}, "203.0.113.7"}, // several header lines
		{"127.0.0.1:5000", []string{"10.0.0.1, 10.0.0.2"}, "10.0.0.1"},                       // only proxies: the farthest
		{"127.0.0.1:5000", []string{"203.0.113.7:4711"}, "203.0.113.7"},
		{"127.0.0.1:5000", []string{"[2001:db9::1]:4711"}, "2001:db9::1"},
		{"127.0.0.1:5000", []string{"unknown, 10.0.0.1"}, "10.0.0.1"}, // garbage ends the walk at the last proxy
		{"127.0.0.1:5000", []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"[::ffff:127.0.0.1]:5000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"[2001:db8::5]:5000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"192.0.2.1:5000", []string{"203.0.113.7"}, "192.0.2.1"}, // not a trusted proxy
	} {
		r := &http.Request{RemoteAddr: tc.peer, Header: http.Header{"X-Forwarded-For": tc.xff}}
		if got := h.ClientAddr(r); got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}

// TestTrustedProxiesMustParse: a wrong entry stops the server, naming it.
func TestTrustedProxiesMustParse(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0"} {
		cfg := testenv.Config(t, testenv.Options{Configure: func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1", bad} }})
		app, err := server.New(cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			app.Close()
			t.Errorf("%q accepted", bad)
			continue
		}
		if !strings.Contains(err.Error(), "CONVIRZA_MCP_TRUSTED_PROXIES") || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestFourEyesNeedsPeople: confirmation.approver: other is refused at
// start-up where approvers cannot be told apart (stdio, or HTTP with the
// shared bearer token), instead of being silently off.
func TestFourEyesNeedsPeople(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"stdio", "http"} {
		cfg := testenv.Config(t, testenv.Options{Policy: "confirmation:\n  approver: other\n", Configure: func(c *config.Config) { c.Transport = transport }})
		app, err := server.New(cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			app.Close()
			t.Errorf("%s: approver: other accepted without people signing in", transport)
			continue
		}
		if !strings.Contains(err.Error(), "CONVIRZA_MCP_AUTH=oauth") {
			t.Errorf("%s: %v", transport, err)
		}
	}
}
