package tools_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

// Minimal audio of each accepted format: the magic bytes and some payload.
var nrAudio = map[string][]byte{
	"wav":      append([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"), make([]byte, 32)...),
	"mp3":      append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64"), make([]byte, 32)...),
	"mp3frame": append([]byte{0xff, 0xfb, 0x90, 0x64}, make([]byte, 32)...),
	"mp4":      append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), make([]byte, 32)...),
	"m4a":      append([]byte("\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom"), make([]byte, 32)...),
	"ogg":      append([]byte("OggS\x00\x02\x00\x00"), make([]byte, 32)...),
	"webm":     append([]byte{0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81}, make([]byte, 32)...),
	"aac":      append([]byte{0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc}, make([]byte, 32)...),
	"flac":     append([]byte("fLaC\x00\x00\x00\x22"), make([]byte, 32)...),
	"id3flac":  append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00fLaC\x00\x00\x00\x22"), make([]byte, 32)...),
}

func nrB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// nrMediaEnv starts a server whose media directory is a fresh temporary one.
func nrMediaEnv(t *testing.T) (*testenv.Env, string) {
	dir := t.TempDir()
	env := testenv.New(t, testenv.Options{Configure: func(c *config.Config) { c.MediaDir = dir }})
	return env, dir
}

func nrWrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestListMediaPrompts(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "list_media_prompts", `{}`)
	items := nrItems(t, out, "media_prompts")
	if len(items) != 4 || nrFind(items, "media_prompt_id", 3005) != nil {
		t.Errorf("default list (deleted 3005 left out): %v", items)
	}
	p := nrFind(items, "media_prompt_id", 3001)
	if p == nil || p["name"] != "Main greeting" || p["type"] != "prompt" || p["filename"] != "main-greeting.mp3" {
		t.Errorf("prompt 3001: %v", p)
	}
	if got := nrBusinessCalls(env); !slices.Equal(got, []string{"GET /v3/media-prompts"}) {
		t.Errorf("calls %v", got)
	}
	if w := nrItems(t, env.OK(t, "list_media_prompts", `{"type":"whisper"}`), "media_prompts"); len(w) != 1 || fmt.Sprint(w[0]["media_prompt_id"]) != "3002" {
		t.Errorf("whispers: %v", w)
	}
	if w := nrItems(t, env.OK(t, "list_media_prompts", `{"name":"VOICEMAIL"}`), "media_prompts"); len(w) != 1 {
		t.Errorf("name voicemail: %v", w)
	}
	nrRejects(t, env, "list_media_prompts", map[string]string{`{"type":"music"}`: "type", `{"limit":5}`: "limit"})
}

// Every documented format is accepted, from base64 content, and the
// sandbox (which checks the bytes independently) stores it.
func TestUploadMediaPromptEveryFormat(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	cases := map[string]string{
		"wav": "a.wav", "mp3": "b.mp3", "mp3frame": "c.mp3", "mp4": "d.mp4", "m4a": "e.m4a",
		"ogg": "f.ogg", "webm": "g.webm", "aac": "h.aac", "flac": "i.flac", "id3flac": "j.flac",
	}
	for kind, name := range cases {
		env.App.Sandbox.ResetCalls()
		out := env.OK(t, "upload_media_prompt", fmt.Sprintf(`{"name":"Clip %s","type":"prompt","org_unit_id":1042,"content":%q,"filename":%q}`, kind, nrB64(nrAudio[kind]), name))
		if out["status"] != "uploaded" || out["media_prompt_id"] == nil {
			t.Errorf("%s: %v", kind, out)
		}
		if got := nrBusinessCalls(env); !slices.Equal(got, []string{"POST /v3/media-prompts"}) {
			t.Errorf("%s: calls %v", kind, got)
		}
	}
	// The mp4 container is accepted under either extension.
	env.OK(t, "upload_media_prompt", fmt.Sprintf(`{"name":"mp4 as m4a","type":"whisper","content":%q,"filename":"k.m4a"}`, nrB64(nrAudio["mp4"])))

	items := nrItems(t, env.OK(t, "list_media_prompts", `{"name":"clip"}`), "media_prompts")
	if len(items) != len(cases) {
		t.Fatalf("uploaded %d, listed %d: %v", len(cases), len(items), items)
	}
	p := nrFind(items, "name", "Clip webm")
	if p == nil || p["format"] != "webm" || p["filename"] != "g.webm" || fmt.Sprint(p["size_bytes"]) != fmt.Sprint(len(nrAudio["webm"])) || fmt.Sprint(p["org_unit_id"]) != "1042" {
		t.Errorf("stored webm: %v", p)
	}
}

func TestUploadMediaPromptFromFile(t *testing.T) {
	t.Parallel()
	env, dir := nrMediaEnv(t)
	if err := os.Mkdir(filepath.Join(dir, "greetings"), 0o755); err != nil {
		t.Fatal(err)
	}
	nrWrite(t, filepath.Join(dir, "greetings", "hello.wav"), nrAudio["wav"])
	// A symlink that stays inside the directory is fine.
	if err := os.Symlink(filepath.Join(dir, "greetings", "hello.wav"), filepath.Join(dir, "alias.wav")); err != nil {
		t.Fatal(err)
	}
	for i, file := range []string{"greetings/hello.wav", filepath.Join(dir, "greetings", "hello.wav"), "alias.wav", "./greetings/../greetings/hello.wav"} {
		env.App.Sandbox.ResetCalls()
		out := env.OK(t, "upload_media_prompt", fmt.Sprintf(`{"name":"Hello %d","type":"voicemail","file":%q}`, i, file))
		if out["status"] != "uploaded" || out["format"] != "wav" || fmt.Sprint(out["size_bytes"]) != fmt.Sprint(len(nrAudio["wav"])) {
			t.Errorf("%s: %v", file, out)
		}
		if got := nrBusinessCalls(env); !slices.Equal(got, []string{"POST /v3/media-prompts"}) {
			t.Errorf("%s: calls %v", file, got)
		}
	}
	items := nrItems(t, env.OK(t, "list_media_prompts", `{"type":"voicemail","name":"hello"}`), "media_prompts")
	if len(items) != 4 || items[0]["filename"] != "hello.wav" {
		t.Errorf("uploaded from files: %v", items)
	}
}

// Files outside the media directory, however reached, are refused with a
// clear error and nothing is sent upstream; reached through a symlink, they
// are missing from the media directory (see TestMediaFileErrorsTellNothingOutside).
func TestUploadMediaPromptOutsideMediaDir(t *testing.T) {
	t.Parallel()
	env, dir := nrMediaEnv(t)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.wav")
	nrWrite(t, secret, nrAudio["wav"])
	if err := os.Symlink(secret, filepath.Join(dir, "link.wav")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(dir, secret)
	if err != nil {
		t.Fatal(err)
	}
	call := func(file string) string {
		return fmt.Sprintf(`{"name":"x","type":"prompt","file":%q}`, file)
	}
	nrRejects(t, env, "upload_media_prompt", map[string]string{
		call(secret):           "outside the media directory",
		call(rel):              "outside the media directory",
		call("link.wav"):       "does not exist in the media directory",
		call("sub/secret.wav"): "does not exist in the media directory",
		call("/etc/passwd"):    "outside the media directory",
	})
}

func TestUploadMediaPromptRefusals(t *testing.T) {
	t.Parallel()
	env, dir := nrMediaEnv(t)
	nrWrite(t, filepath.Join(dir, "really-wav.mp3"), nrAudio["wav"])
	nrWrite(t, filepath.Join(dir, "notes.mp3"), []byte("these are not audio bytes at all"))
	nrWrite(t, filepath.Join(dir, "empty.ogg"), nil)
	nrWrite(t, filepath.Join(dir, "song.mid"), nrAudio["mp3"])
	if err := os.Mkdir(filepath.Join(dir, "folder.wav"), 0o755); err != nil {
		t.Fatal(err)
	}
	big, err := os.Create(filepath.Join(dir, "huge.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := big.Write(nrAudio["wav"]); err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(50<<20 + 1); err != nil { // sparse: no 50 MB written
		t.Fatal(err)
	}
	big.Close()
	file := func(f string) string { return fmt.Sprintf(`{"name":"x","type":"prompt","file":%q}`, f) }
	content := func(b []byte, name string) string {
		return fmt.Sprintf(`{"name":"x","type":"prompt","content":%q,"filename":%q}`, nrB64(b), name)
	}
	nrRejects(t, env, "upload_media_prompt", map[string]string{
		file("really-wav.mp3"):                   "named .mp3 but its content is WAV",
		file("notes.mp3"):                        "does not contain wav, mp3",
		file("empty.ogg"):                        "empty",
		file("song.mid"):                         "extension must be one of",
		file("folder.wav"):                       "not a regular file",
		file("huge.wav"):                         "the limit is 50 MB",
		file("missing.wav"):                      "does not exist in the media directory",
		content(nrAudio["ogg"], "clip.flac"):     "named .flac but its content is Ogg",
		content(nrAudio["aac"], "clip.mp3"):      "named .mp3 but its content is AAC",
		content([]byte("GIF89a..."), "clip.wav"): "does not contain",
		content(nrAudio["wav"], "clip.txt"):      "filename",
		content(nrAudio["wav"], "dir/clip.wav"):  "filename",
		`{"name":"x","type":"prompt","content":"%%%not base64%%%","filename":"a.wav"}`: "not valid base64",
		`{"name":"x","type":"prompt"}`: "give the audio",
		fmt.Sprintf(`{"name":"x","type":"prompt","file":"a.wav","content":%q,"filename":"a.wav"}`, nrB64(nrAudio["wav"])): "not both",
		fmt.Sprintf(`{"name":"x","type":"prompt","content":%q}`, nrB64(nrAudio["wav"])):                                   "needs filename",
		`{"name":"x","type":"prompt","file":"a.wav","filename":"a.wav"}`:                                                  "filename goes with content only",
		fmt.Sprintf(`{"name":"x","type":"jingle","content":%q,"filename":"a.wav"}`, nrB64(nrAudio["wav"])):                "type",
		fmt.Sprintf(`{"type":"prompt","content":%q,"filename":"a.wav"}`, nrB64(nrAudio["wav"])):                           "name",
	})
}

// Without a media directory, file paths are refused; base64 still works.
func TestUploadMediaPromptWithoutMediaDir(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	f := filepath.Join(t.TempDir(), "a.wav")
	nrWrite(t, f, nrAudio["wav"])
	nrRejects(t, env, "upload_media_prompt", map[string]string{
		fmt.Sprintf(`{"name":"x","type":"prompt","file":%q}`, f): "CONVIRZA_MCP_MEDIA_DIR",
	})
	env.OK(t, "upload_media_prompt", fmt.Sprintf(`{"name":"x","type":"prompt","content":%q,"filename":"a.wav"}`, nrB64(nrAudio["wav"])))
}

func TestDeleteMediaPrompt(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	tok := nrAsk(t, env, "delete_media_prompt", `{"id":3002}`, `Delete media prompt 3002 "Whisper - Google Ads" (whisper, whisper-google.wav, org unit 1042)`)
	if nrFind(nrItems(t, env.OK(t, "list_media_prompts", `{}`), "media_prompts"), "media_prompt_id", 3002) == nil {
		t.Fatal("the unconfirmed call deleted the prompt")
	}
	env.App.Sandbox.ResetCalls()
	if out := nrConfirm(t, env, "delete_media_prompt", `{"id":3002}`, tok); out["status"] != "deleted" {
		t.Fatalf("delete: %v", out)
	}
	if got := nrBusinessCalls(env); !slices.Equal(got, []string{"DELETE /v3/media-prompts/3002"}) {
		t.Errorf("confirmed delete sent %v", got)
	}
	if nrFind(nrItems(t, env.OK(t, "list_media_prompts", `{}`), "media_prompts"), "media_prompt_id", 3002) != nil {
		t.Error("deleted prompt still listed")
	}
	nrBlocked(t, env, "delete_media_prompt", `{"id":3002}`, "does not exist or is already deleted")
	if msg := env.Fail(t, "delete_media_prompt", `{"id":"3002"}`); !strings.Contains(msg, "id") {
		t.Errorf("string id: %s", msg)
	}
}

// The media directory may itself be a symlink: files are judged against
// where it resolves to.
func TestUploadMediaPromptSymlinkedMediaDir(t *testing.T) {
	t.Parallel()
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "media")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	nrWrite(t, filepath.Join(real, "a.flac"), nrAudio["flac"])
	env := testenv.New(t, testenv.Options{Configure: func(c *config.Config) { c.MediaDir = link }})
	for _, f := range []string{"a.flac", filepath.Join(link, "a.flac"), filepath.Join(real, "a.flac")} {
		if out := env.OK(t, "upload_media_prompt", fmt.Sprintf(`{"name":"a","type":"prompt","file":%q}`, f)); out["format"] != "flac" {
			t.Errorf("%s: %v", f, out)
		}
	}
}
