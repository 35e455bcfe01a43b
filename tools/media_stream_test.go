package tools_test

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

// A large file from the media directory is streamed upstream from the open
// file: the call allocates far less than the file's size (it was read whole,
// then copied into the request body, before).
func TestUploadMediaPromptFileIsStreamed(t *testing.T) {
	// Not parallel: the allocation count is the process's.
	env, dir := nrMediaEnv(t)
	const size = 24 << 20
	audio := make([]byte, size)
	copy(audio, nrAudio["wav"])
	nrWrite(t, filepath.Join(dir, "long.wav"), audio)
	env.OK(t, "list_media_prompts", `{}`) // log in first

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out := env.OK(t, "upload_media_prompt", `{"name":"Long greeting","type":"prompt","file":"long.wav"}`)
	runtime.ReadMemStats(&after)
	if out["status"] != "uploaded" || num(out["size_bytes"]) != size || out["format"] != "wav" {
		t.Fatalf("upload: %v", out)
	}
	// What the simulator, in this process, buffers of the upload counts too.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/2 {
		t.Errorf("uploading a %d-byte file allocated %d bytes; the file must be streamed", size, alloc)
	}
	items := nrItems(t, env.OK(t, "list_media_prompts", `{"name":"Long greeting"}`), "media_prompts")
	if len(items) != 1 || num(items[0]["size_bytes"]) != size {
		t.Fatalf("stored: %v", items)
	}
}

// Base64 content is on the audit record as its size and digest, not whole,
// and a confirmation binds to that digest: a token issued for one recording
// does not upload another of the same size.
func TestUploadMediaPromptContentAuditedAsDigest(t *testing.T) {
	t.Parallel()
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	env := testenv.New(t, testenv.Options{ConfirmMode: "token", Policy: fmt.Sprintf(
		"toolsets: [all]\nconfirmation:\n  require: [upload_media_prompt]\naudit:\n  file: %s\n", audit)})
	one := make([]byte, 300<<10)
	copy(one, nrAudio["wav"])
	other := append([]byte(nil), one...)
	other[len(other)-1] = 1
	args := func(audio []byte) string {
		return fmt.Sprintf(`{"name":"Big","type":"prompt","filename":"big.wav","content":%q}`, nrB64(audio))
	}
	content := nrB64(one)
	digest := fmt.Sprintf("[omitted: %d bytes, sha256 %x]", len(content), sha256.Sum256([]byte(content)))

	action, tok := confirmToken(t, env, "upload_media_prompt", args(one))
	if !strings.Contains(action, digest) || len(action) > 1000 {
		t.Errorf("the question shows the content as its digest: %.300q", action)
	}
	env.App.Sandbox.ResetCalls()
	env.Fail(t, "upload_media_prompt", withToken(args(other), tok))
	nrNoCalls(t, env)
	out := env.OK(t, "upload_media_prompt", withToken(args(one), tok))
	if out["status"] != "uploaded" {
		t.Fatalf("confirmed upload: %v", out)
	}

	f, err := os.Open(audit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	lines := 0
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `"upload_media_prompt"`) || !strings.Contains(line, `"arguments"`) {
			continue
		}
		lines++
		if len(line) > 2000 || strings.Contains(line, content[:100]) {
			t.Errorf("an audit line of %d bytes holds the content: %.300s", len(line), line)
		}
		if !strings.Contains(line, "[omitted: ") {
			t.Errorf("no digest on the audit line: %.300s", line)
		}
	}
	if lines < 3 { // asked, refused (another recording), confirmed
		t.Errorf("%d audit lines with arguments for upload_media_prompt", lines)
	}
}
