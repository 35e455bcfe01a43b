package sandbox

import (
	"net"
	"net/http"
	"testing"
	"time"
)

func TestCloseIsPromptWithAnUnusedConnection(t *testing.T) {
	// Started by hand, not with start: the test is of Start and Close.
	r, err := New(Options{}).Start()
	if err != nil {
		t.Fatal(err)
	}
	// A spare connection an HTTP client dialled and never used.
	conn, err := net.Dial("tcp", r.URL[len("http://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Another request proves the accept loop has passed the spare one.
	res, err := http.Get(r.URL + "/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	start := time.Now()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %s with an unused connection open", d)
	}
}
