package upstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A streamed body goes out with its exact Content-Length, not chunked, and
// the one re-send after a 401 opens it again and sends the same bytes.
func TestStreamBodyResentAfter401(t *testing.T) {
	payload := strings.Repeat("0123456789", 100_000) // 1 MB
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err != nil || r.ContentLength != int64(len(payload)) || len(r.TransferEncoding) > 0 || string(b) != payload {
			seen = append(seen, "bad body")
		} else {
			seen = append(seen, r.Header.Get("Authorization"))
		}
		if r.Header.Get("Authorization") != "Bearer good" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()

	var opened, closed atomic.Int32
	stream := &Stream{Length: int64(len(payload)), Open: func() (io.ReadCloser, error) {
		opened.Add(1)
		return closer{Reader: strings.NewReader(payload), closed: &closed}, nil
	}}
	c := New(nil, Policy{}, nil)
	creds := &fakeCreds{tokens: []string{"stale", "good", "never"}, renewable: true}
	resp, err := c.DoAuthorized(context.Background(), Request{Method: http.MethodPost, URL: srv.URL, Stream: stream}, creds)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("%v %v", resp, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != "Bearer stale" || seen[1] != "Bearer good" {
		t.Fatalf("the upstream saw %v; want the whole body twice, once per token", seen)
	}
	// The transport closes a body once written, maybe just after the
	// answer came back.
	for deadline := time.Now().Add(5 * time.Second); closed.Load() < 2 && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	if opened.Load() != 2 || closed.Load() != 2 {
		t.Fatalf("opened %d times, closed %d; want 2 and 2", opened.Load(), closed.Load())
	}
}

// A body that cannot be opened fails the call before anything is sent.
func TestStreamBodyOpenFailure(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer srv.Close()
	boom := errors.New("boom")
	c := New(nil, Policy{}, nil)
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, URL: srv.URL,
		Stream: &Stream{Length: 3, Open: func() (io.ReadCloser, error) { return nil, boom }}})
	if !errors.Is(err, boom) || hits != 0 {
		t.Fatalf("err %v, %d requests; want the open error and none sent", err, hits)
	}
}

// An empty non-nil Body is sent as an empty body with Content-Length 0.
func TestEmptyBodyHasZeroLength(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Header.Get("Content-Length")+"/"+strings.Join(r.TransferEncoding, ",")+"/"+string(b))
	}))
	defer srv.Close()
	c := New(nil, Policy{}, nil)
	if _, err := c.Do(context.Background(), Request{Method: http.MethodPost, URL: srv.URL, Body: []byte{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), Request{Method: http.MethodPost, URL: srv.URL, Body: bytes.Repeat([]byte("a"), 3)}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "0//" || got[1] != "3//aaa" {
		t.Fatalf("got %q", got)
	}
}

type closer struct {
	io.Reader
	closed *atomic.Int32
}

func (c closer) Close() error { c.closed.Add(1); return nil }
