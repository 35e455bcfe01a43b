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
