package store

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenURLs(t *testing.T) {
	ctx := t.Context()
	for _, ok := range []string{
		"redis://127.0.0.1:1",
		"redis://user:pw@127.0.0.1:1/3",
		"rediss://:pw@cache.example:6380/0?prefix=prod",
		"REDIS://127.0.0.1:1?dial_timeout=1s",
	} {
		s, err := Open(ctx, ok, "")
		if err != nil {
			t.Errorf("Open(%q) = %v; want a store (Open makes no network call)", ok, err)
			continue
		}
		_ = s.Close()
	}
	const secret = "hunter2-secret"
	for _, bad := range []string{
		"http://user:" + secret + "@cache.example",
		"valkey://:" + secret + "@cache.example",
		"/var/lib/convirza",
		"cache.example:6379",
		"redis://:" + secret + "@cache.example/not-a-db",
		"redis://:" + secret + "@cache.example:notaport",
		"redis://:" + secret + "@cache.example/0?prefix=bad*prefix",
		"redis://:" + secret + "@cache.example/0?prefix=",
		"redis://:" + secret + "@cache.example/0?no_such_option=" + secret,
		"redis://:" + secret + "@cache.example/0/1",
		"redis://:" + secret + "@[::1",
	} {
		s, err := Open(ctx, bad, "")
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded, want an error", bad)
			continue
		}
		if !strings.Contains(err.Error(), EnvStore) {
			t.Errorf("Open(%q) = %q: does not name %s", bad, err, EnvStore)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open(%q) = %q: shows the password", bad, err)
		}
	}
}

func TestOpenEmpty(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), "  ", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*embedded); !ok {
		t.Fatalf("Open(\"\") = %T, want the embedded store", s)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultStateDir(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	home := func() (string, error) { return "/home/ann", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	for _, c := range []struct {
		goos string
		env  map[string]string
		home func() (string, error)
		want string // "" means an error
	}{
		{"linux", nil, home, "/home/ann/.local/state/convirza-mcp"},
		{"linux", map[string]string{"XDG_STATE_HOME": "/xdg/state"}, home, "/xdg/state/convirza-mcp"},
		{"linux", map[string]string{"XDG_STATE_HOME": "relative"}, home, "/home/ann/.local/state/convirza-mcp"},
		{"freebsd", nil, home, "/home/ann/.local/state/convirza-mcp"},
		{"linux", nil, noHome, ""},
		{"darwin", map[string]string{"XDG_STATE_HOME": "/xdg/state"}, home, "/home/ann/Library/Application Support/convirza-mcp"},
		{"windows", map[string]string{"LocalAppData": `C:\Users\ann\AppData\Local`}, home, filepath.Join(`C:\Users\ann\AppData\Local`, "convirza-mcp")},
		{"windows", nil, home, ""},
	} {
		got, err := defaultStateDir(c.goos, env(c.env), c.home)
		switch {
		case c.want == "" && (err == nil || !strings.Contains(err.Error(), EnvStateDir)):
			t.Errorf("%s %v: = %q, %v; want an error naming %s", c.goos, c.env, got, err, EnvStateDir)
		case c.want != "" && (err != nil || got != filepath.FromSlash(c.want) && got != c.want):
			t.Errorf("%s %v: = %q, %v; want %q", c.goos, c.env, got, err, c.want)
		}
	}
	if d, err := DefaultStateDir(); err != nil || !filepath.IsAbs(d) || filepath.Base(d) != "convirza-mcp" {
		t.Errorf("DefaultStateDir() = %q, %v", d, err)
	}
}
