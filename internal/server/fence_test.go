package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

// replicaOn starts an HTTP app named name on the embedded store in dir,
// with the policy file pol (plus an audit log of its own, which replicas
// may place differently).
func replicaOn(t *testing.T, dir, name, pol string) *server.App {
	t.Helper()
	pol += "audit:\n  file: " + filepath.Join(t.TempDir(), name+".jsonl") + "\n"
	return testenv.Start(t, testenv.Options{ConfirmMode: "token", Policy: pol, Configure: func(c *config.Config) {
		c.Transport, c.Addr, c.AuthToken = "http", "127.0.0.1:0", tokenA
		c.StateDir, c.Replica = dir, name
	}})
}

func readyz(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	res := do(t, http.MethodGet, base+"/readyz", nil, nil)
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("readyz: %v: %s", err, b)
	}
	return res.StatusCode, m
}

// TestPolicyDigestOneStore: replicas sharing a store with one policy both
// serve (wherever their audit logs go); one with another policy refuses
// tool calls and is not ready, naming why, until the record of the first
// lapses; then its policy is the one on record and the first one refuses.
func TestPolicyDigestOneStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := replicaOn(t, dir, "r1", "")
	same := replicaOn(t, dir, "r2", "")
	other := replicaOn(t, dir, "r3", "mode: read-only\n")
	const ttl = time.Second
	for _, a := range []*server.App{first, same, other} {
		a.SetPolicyTTL(ttl)
	}
	ctx := t.Context()
	for _, a := range []*server.App{first, same, other} {
		if err := a.CheckPolicy(ctx); err != nil {
			t.Fatalf("check: %v", err)
		}
	}
	if why := first.PolicyRefusal() + same.PolicyRefusal(); why != "" {
		t.Fatalf("replicas with one policy refuse: %s", why)
	}
	why := other.PolicyRefusal()
	for _, want := range []string{"r3", "replica r2", "differ", "CONVIRZA_MCP_STORE"} {
		if !strings.Contains(why, want) {
			t.Errorf("refusal %q does not say %q", why, want)
		}
	}

	_, okBase := testenv.Listen(t, first)
	_, badBase := testenv.Listen(t, other)
	if code, m := readyz(t, okBase); code != http.StatusOK {
		t.Errorf("readyz of the first replica: %d %v", code, m)
	}
	code, m := readyz(t, badBase)
	if reason, _ := m["reason"].(string); code != http.StatusServiceUnavailable || reason != why {
		t.Errorf("readyz of the replica whose policy differs: %d %v", code, m)
	}
	for _, era := range []string{"", "2025-06-18"} {
		res := callTool(t, dial(t, badBase, "http", tokenA, era), "get_group", map[string]any{"id": 1042})
		if !res.IsError || !strings.Contains(testenv.Text(res), "differ from those replica r2 published") {
			t.Errorf("%q: a tool call on the replica whose policy differs: %+v", era, res)
		}
		if res := callTool(t, dial(t, okBase, "http", tokenA, era), "get_group", map[string]any{"id": 1042}); res.IsError {
			t.Errorf("%q: a tool call on the first replica: %s", era, testenv.Text(res))
		}
	}

	// No one renews the first policy's record: it lapses, the other
	// replica's check writes its own and serves, and the first one refuses.
	testenv.WaitFor(t, "the first policy's record to lapse", func() bool {
		return other.CheckPolicy(ctx) == nil && other.PolicyRefusal() == ""
	})
	if code, m := readyz(t, badBase); code != http.StatusOK {
		t.Errorf("readyz once the record is the other replica's: %d %v", code, m)
	}
	if res := callTool(t, dial(t, badBase, "http", tokenA, ""), "get_group", map[string]any{"id": 1042}); res.IsError {
		t.Errorf("a tool call once the record is the other replica's: %s", testenv.Text(res))
	}
	if err := first.CheckPolicy(ctx); err != nil {
		t.Fatal(err)
	}
	if why := first.PolicyRefusal(); !strings.Contains(why, "replica r3") {
		t.Errorf("the first replica after the other took the record: %q", why)
	}
}

// TestPolicyCheckedBeforeServing: Serve checks the record before it takes
// the first request, so a replica started with another policy is never
// ready, not even for a moment.
func TestPolicyCheckedBeforeServing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := replicaOn(t, dir, "r1", "")
	if err := first.CheckPolicy(t.Context()); err != nil {
		t.Fatal(err)
	}
	other := replicaOn(t, dir, "r2", "tools:\n  deny: [delete_group]\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- other.NewHTTP().Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := testenv.Recv(t, done, "Serve to return"); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	code, m := readyz(t, "http://"+ln.Addr().String())
	if reason, _ := m["reason"].(string); code != http.StatusServiceUnavailable || !strings.Contains(reason, "replica r1") {
		t.Errorf("first readyz of a replica started with another policy: %d %v", code, m)
	}
}
