//go:build unix

package tools_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

// TestMediaFileFIFOAnswers: a FIFO in the media directory (here with no
// writer, so opening it to read would wait forever) is refused at once as
// not a regular file, and never opened.
func TestMediaFileFIFOAnswers(t *testing.T) {
	t.Parallel()
	env, dir := nrMediaEnv(t)
	fifo := filepath.Join(dir, "pipe.wav")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Through a symlink too: the check is on what the name resolves to.
	if err := os.Symlink("pipe.wav", filepath.Join(dir, "alias.wav")); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"pipe.wav", "alias.wav"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req := mcp.CallToolRequest{}
		req.Params.Name = "upload_media_prompt"
		req.Params.Arguments = map[string]any{"name": "x", "type": "prompt", "file": file}
		type answer struct {
			res *mcp.CallToolResult
			err error
		}
		got := make(chan answer, 1)
		go func() {
			res, err := env.Client.CallTool(ctx, req)
			got <- answer{res, err}
		}()
		select {
		case a := <-got:
			cancel()
			if a.err != nil || !a.res.IsError || !strings.Contains(testenv.Text(a.res), "not a regular file") {
				t.Errorf("%s: %v %+v", file, a.err, a.res)
			}
		case <-ctx.Done():
			cancel()
			// Unblock the reader the server is stuck in, then fail.
			if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
			t.Fatalf("%s: upload_media_prompt did not answer within 10s: a FIFO was opened", file)
		}
	}
	nrNoCalls(t, env)
}

// TestMediaFileErrorsTellNothingOutside: a symlinked directory leading out
// of the media directory tells neither where it leads nor whether a file
// exists there: an existing file and a missing one get the same answer as a
// name missing from the media directory, and no answer shows the outside
// path.
func TestMediaFileErrorsTellNothingOutside(t *testing.T) {
	t.Parallel()
	env, dir := nrMediaEnv(t)
	outside := t.TempDir()
	nrWrite(t, filepath.Join(outside, "secret.wav"), nrAudio["wav"])
	if err := os.Mkdir(filepath.Join(outside, "locked"), 0o000); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(outside, "locked"), 0o755) })
	if err := os.Symlink(outside, filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.wav"), filepath.Join(dir, "link.wav")); err != nil {
		t.Fatal(err)
	}
	answer := func(file string) string {
		t.Helper()
		msg := env.Fail(t, "upload_media_prompt", fmt.Sprintf(`{"name":"x","type":"prompt","file":%q}`, file))
		if strings.Contains(msg, outside) {
			t.Errorf("%s: the answer shows where the symlink leads: %s", file, msg)
		}
		return strings.ReplaceAll(msg, fmt.Sprintf("%q", file), "FILE")
	}
	missing := answer("nothing-here.wav")
	for _, file := range []string{"sub/secret.wav", "sub/missing.wav", "sub/locked/x.wav", "link.wav", "sub"} {
		if got := answer(file); got != missing {
			t.Errorf("%s: %q\nwant the same as a missing file: %q", file, got, missing)
		}
	}
	nrNoCalls(t, env)
}
