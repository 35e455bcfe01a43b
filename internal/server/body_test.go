package server

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

// The guard reads a body with a Content-Length into one buffer of that
// size (io.ReadAll grew one step by step: about 5 times the body in all),
// and the handler's read takes the bytes over: once read, the guard's
// request no longer holds them.
func TestReadBodyOneBufferHandedOver(t *testing.T) {
	const size = 3 << 20
	payload := bytes.Repeat([]byte("x"), size)
	h := &HTTP{maxBody: 4 << 20}

	r := httptest.NewRequest(http.MethodPost, "/mcp", bytes.NewReader(payload))
	w := httptest.NewRecorder()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	body, ok := h.readBody(w, r)
	runtime.ReadMemStats(&after)
	if !ok || !bytes.Equal(body, payload) || r.ContentLength != size {
		t.Fatalf("readBody: ok %v, %d bytes, status %d", ok, len(body), w.Code)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size+size/8 {
		t.Errorf("reading a %d-byte body allocated %d bytes", size, alloc)
	}
	again, err := io.ReadAll(r.Body)
	if err != nil || !bytes.Equal(again, payload) {
		t.Fatalf("the handler reads the same body: %d bytes, %v", len(again), err)
	}
	if held, ok := r.Body.(*handOver); !ok || held.b != nil {
		t.Errorf("the request still holds the body once it was read: %T", r.Body)
	}

	// Without a Content-Length (chunked), and over the cap.
	r = httptest.NewRequest(http.MethodPost, "/mcp", io.MultiReader(bytes.NewReader(payload)))
	r.ContentLength = -1
	if body, ok := h.readBody(httptest.NewRecorder(), r); !ok || !bytes.Equal(body, payload) {
		t.Fatalf("chunked body: %v, %d bytes", ok, len(body))
	}
	r = httptest.NewRequest(http.MethodPost, "/mcp", io.MultiReader(bytes.NewReader(payload), bytes.NewReader(payload)))
	r.ContentLength = -1
	w = httptest.NewRecorder()
	if _, ok := h.readBody(w, r); ok || w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a body over the cap: %v %d", ok, w.Code)
	}
}
