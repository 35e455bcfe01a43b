package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

// newHTTP is the HTTP handler of a server (testenv) that admits token (a
// comma-separated list; empty: no token) from origins.
func newHTTP(t *testing.T, token string, origins ...string) http.Handler {
	t.Helper()
	app := testenv.Start(t, testenv.Options{Configure: func(c *config.Config) {
		c.Transport, c.Addr, c.AuthToken, c.AllowedOrigins = "http", "127.0.0.1:0", token, origins
	}})
	return app.NewHTTP()
}

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

func post(h http.Handler, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "http://localhost"+path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestBearerToken(t *testing.T) {
	h := newHTTP(t, "s3cret-one, s3cret-two")
	for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-one"}} {
		w := post(h, "/mcp", initBody, hdr)
		if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%v: %d %q", hdr, w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
	for _, tok := range []string{"s3cret-one", "s3cret-two"} { // rotation: either works
		if w := post(h, "/mcp", initBody, map[string]string{"Authorization": "Bearer " + tok}); w.Code != http.StatusOK {
			t.Errorf("%s: %d %s", tok, w.Code, w.Body)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "http://localhost/sse", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("SSE stream without token: %d", w.Code)
	}
	r = httptest.NewRequest(http.MethodGet, "http://localhost/healthz", nil)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("healthz: %d", w.Code)
	}
}

func TestOrigin(t *testing.T) {
	h := newHTTP(t, "")
	if w := post(h, "/mcp", initBody, map[string]string{"Origin": "https://evil.example"}); w.Code != http.StatusForbidden {
		t.Errorf("foreign origin: %d", w.Code)
	}
	if w := post(h, "/mcp", initBody, map[string]string{"Origin": "http://localhost:6274"}); w.Code != http.StatusOK {
		t.Errorf("loopback origin with no allow list: %d", w.Code)
	}
	if w := post(h, "/mcp", initBody, nil); w.Code != http.StatusOK {
		t.Errorf("no origin: %d", w.Code)
	}
	listed := newHTTP(t, "", "https://app.example")
	if w := post(listed, "/mcp", initBody, map[string]string{"Origin": "https://app.example"}); w.Code != http.StatusOK {
		t.Errorf("listed origin: %d", w.Code)
	}
	if w := post(listed, "/mcp", initBody, map[string]string{"Origin": "http://localhost:6274"}); w.Code != http.StatusForbidden {
		t.Errorf("unlisted origin with an allow list: %d", w.Code)
	}
}

func TestBodyLimit(t *testing.T) {
	h := newHTTP(t, "")
	big := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 5<<20) + `"}}`
	w := post(h, "/mcp", big, nil)
	if w.Code < 400 {
		t.Fatalf("a 5 MiB body was accepted: %d", w.Code)
	}
	if bytes.Contains(w.Body.Bytes(), []byte("xxxx")) {
		t.Error("the body was echoed")
	}
}

func TestNonLoopbackNeedsToken(t *testing.T) {
	_, err := config.Load(t.Context(), mapLookup{"CONVIRZA_MCP_TRANSPORT": "http", "CONVIRZA_MCP_ADDR": "0.0.0.0:8080"}, nil)
	if err == nil || !strings.Contains(err.Error(), "CONVIRZA_MCP_AUTH_TOKEN") {
		t.Fatalf("want refusal, got %v", err)
	}
	if _, err := config.Load(t.Context(), mapLookup{"CONVIRZA_MCP_TRANSPORT": "sse", "CONVIRZA_MCP_ADDR": "0.0.0.0:8080", "CONVIRZA_MCP_AUTH_TOKEN": "t"}, nil); err != nil {
		t.Fatal(err)
	}
}

type mapLookup map[string]string

func (m mapLookup) Lookup(k string) (string, bool) { v, ok := m[k]; return v, ok }
