package convirza

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
	"github.com/convirza/convirza-mcp/schemas"
)

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r    *bytes.Reader
	read atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.read.Add(int64(n))
	return n, err
}

// An upload is streamed from its source: the whole recording arrives, sent
// again after a 401 and a token renewal, and sending it allocates far less
// than its size (it was built whole in a buffer before).
func TestUploadStreamsTheRecording(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	c := demoClient(sb)
	ctx := context.Background()
	if _, err := c.Media.List(ctx, schemas.ListMediaPromptsArgs{}); err != nil { // log in
		t.Fatal(err)
	}
	const size = 20 << 20
	audio := make([]byte, size)
	copy(audio, "RIFF\x00\x00\x00\x00WAVEfmt ")
	src := &countingReaderAt{r: bytes.NewReader(audio)}
	sb.ExpireAccessTokens() // the first attempt is answered 401

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	id, _, err := c.Media.Upload(ctx, MediaUpload{Name: "Streamed", Type: "prompt", Filename: "big.wav",
		ContentType: "audio/wav", Content: src, Size: size})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if n := sb.Refreshes() + sb.Logins(); n != 2 {
		t.Errorf("%d logins and refreshes; want the first login and one renewal after the 401", n)
	}
	if src.read.Load() < size {
		t.Errorf("read %d bytes of the source; want at least all %d", src.read.Load(), size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/2 {
		t.Errorf("the upload allocated %d bytes for a %d-byte recording; it must be streamed, not copied", alloc, size)
	}
	list, err := c.Media.List(ctx, schemas.ListMediaPromptsArgs{Name: "Streamed"})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(list.Items, func(p MediaPrompt) bool { return p.MediaPromptID == id })
	if i < 0 || list.Items[i].SizeBytes != size || list.Items[i].Format != "wav" || list.Items[i].Filename != "big.wav" {
		t.Fatalf("stored: %+v (id %d)", list.Items, id)
	}
}

// A recording shorter than its stated size (a file truncated while it is
// sent) fails the upload with an error that says so.
func TestUploadOfAShrunkRecordingFails(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	c := demoClient(sb)
	audio := append([]byte("RIFF\x00\x00\x00\x00WAVEfmt "), make([]byte, 1000)...)
	_, _, err := c.Media.Upload(context.Background(), MediaUpload{Name: "Short", Type: "prompt", Filename: "short.wav",
		Content: bytes.NewReader(audio), Size: 5000})
	if err == nil || !strings.Contains(err.Error(), "ended after 1016 of its 5000 bytes") {
		t.Fatalf("err %v; want the recording said to have changed", err)
	}
	list, err := c.Media.List(context.Background(), schemas.ListMediaPromptsArgs{Name: "Short"})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("nothing may be stored: %v %v", list, err)
	}
}
