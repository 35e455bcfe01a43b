package server

import (
	"slices"
	"testing"
	"time"
)

func TestSplitCommandLine(t *testing.T) {
	for in, want := range map[string][]string{
		`firefox`:                       {"firefox"},
		`  open -a "Google Chrome"  %s`: {"open", "-a", "Google Chrome", "%s"},
		`sh -c 'echo "$0"' x`:           {"sh", "-c", `echo "$0"`, "x"},
		`a\ b "c\"d" "e\f" ''`:          {"a b", `c"d`, `e\f`, ""},
	} {
		got, err := splitCommandLine(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`"open`, `'x`, `x\`} {
		if _, err := splitCommandLine(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/approvals":            "/approvals",
		"/approvals/abc":        "/approvals/abc",
		"//evil.example/":       "/approvals",
		"https://evil.example/": "/approvals",
		"/approvals/x?s=1":      "/approvals",
		"/approvals\\..\\x":     "/approvals",
		"/approvals/signin":     "/approvals",
		"/mcp":                  "/approvals",
		"":                      "/approvals",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// TestOneTimeLinks: a link's secret works once, and not after it expired.
func TestOneTimeLinks(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o := newOneTimeLinks()
	o.now = func() time.Time { return now }
	s := o.issue(time.Minute)
	if !o.take(s) || o.take(s) {
		t.Fatal("a secret must be taken exactly once")
	}
	late := o.issue(time.Minute)
	now = now.Add(time.Minute)
	if o.take(late) {
		t.Error("an expired secret was taken")
	}
	if o.take("") || o.take("unknown") {
		t.Error("an unknown secret was taken")
	}
}
