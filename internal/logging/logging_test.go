package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile holds what a client could make the server log: a terminal title
// escape, a forged line, DEL, a C1 CSI (as UTF-8) and a lone 0x9b byte.
const hostile = "/\x1b]0;pwned\x07\nINFO forged line\x7f\u009b31m\x9bend"

// controls returns the control characters (C0 but the line ends, DEL, C1)
// and non-UTF-8 bytes found in out.
func controls(out []byte) []string {
	var found []string
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRune(out[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			found = append(found, string(out[i:i+1]))
		case r == '\n':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			found = append(found, string(r))
		}
		i += size
	}
	return found
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

func TestControlCharactersEscaped(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		log := New(&buf, "info", format)
		log.With("session", hostile).WithGroup("req").Info(hostile,
			"path", hostile,
			"err", errors.New(hostile),
			"value", stringer{hostile},
			"list", []string{hostile},
			slog.Group("g", "inner", hostile),
			"status", 404,
		)
		out := buf.Bytes()
		if got := controls(out); len(got) > 0 {
			t.Errorf("%s: control characters reach the log: %q\n%s", format, got, out)
		}
		if n := bytes.Count(out, []byte("\n")); n != 1 {
			t.Errorf("%s: %d lines, want 1:\n%s", format, n, out)
		}
		text := string(out)
		if format == "json" {
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("json: %v\n%s", err, out)
			}
			text = m["msg"].(string)
		}
		for _, want := range []string{`\x1b]0;pwned\x07`, `\x7f`, `\u009b`, `\x9bend`} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the log lacks %s:\n%s", format, want, out)
			}
		}
		if !strings.Contains(string(out), "404") {
			t.Errorf("%s: other values changed:\n%s", format, out)
		}
	}
}

func TestSecretsStillRedacted(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, "info", "json").Info("x", "auth_token", "s3cret\x1b", "Password", "hunter2")
	if s := buf.String(); strings.Contains(s, "s3cret") || strings.Contains(s, "hunter2") {
		t.Errorf("secret logged: %s", s)
	}
}

// TestNoColourWhenNotATerminal: text logs written to a pipe, a file or a
// buffer carry no ANSI colour codes.
func TestNoColourWhenNotATerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	for _, log := range []*slog.Logger{New(&buf, "debug", "text"), New(f, "debug", "text")} {
		log.Info("started", "addr", "127.0.0.1:8080")
		log.Error("failed", "err", errors.New("boom"))
	}
	fromFile, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	for what, out := range map[string][]byte{"buffer": buf.Bytes(), "file": fromFile} {
		if bytes.Contains(out, []byte("\x1b")) || !bytes.Contains(out, []byte("started")) {
			t.Errorf("%s: %q", what, out)
		}
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain /mcp":   "plain /mcp",
		"ünïcode ✓":    "ünïcode ✓",
		"a\tb\r\nc":    `a\tb\r\nc`,
		"\x00\x1b\x7f": `\x00\x1b\x7f`,
		"\u0085\u009f": `\u0085\u009f`,
		"bad\xff\xfe":  `bad\xff\xfe`,
		`back\slash`:   `back\slash`,
		"\xe2\x82":     `\xe2\x82`, // a truncated rune
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}
