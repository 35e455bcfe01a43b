// Package sandboxenv starts the sandbox simulator for a test: the one way a
// test gets an upstream of its own.
//
// It is a package apart from testenv, which starts the whole server, so that
// it imports nothing of the project but the simulator: the API clients'
// in-package tests (internal/convirza, internal/talkdesk), for which
// importing testenv would be an import cycle, use it too. Only the
// simulator's own in-package tests cannot, since this package imports
// theirs; they start it with one helper of their own.
package sandboxenv

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/convirza/convirza-mcp/internal/sandbox"
)

// Start serves a simulator with options o (a clock, token lifetimes) on a
// loopback port; it stops when the test ends. Faults are added to the
// returned server while the test runs (AddFault).
//
// A test whose HTTP client keeps connections open should close them before
// this cleanup runs (register transport.CloseIdleConnections after Start),
// so the simulator's graceful Close does not wait on them.
func Start(t testing.TB, o sandbox.Options) *sandbox.Running {
	t.Helper()
	sb, err := sandbox.New(o).Start()
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return sb
}

// Storm makes n calls at once (call(i) for i in 0..n-1: the API clients'
// renewal storms against the simulator) and returns how many failed; each
// failure is logged.
func Storm(t testing.TB, n int, call func(i int) error) int {
	t.Helper()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := call(i); err != nil {
				failed.Add(1)
				t.Log(err)
			}
		}()
	}
	wg.Wait()
	return int(failed.Load())
}
