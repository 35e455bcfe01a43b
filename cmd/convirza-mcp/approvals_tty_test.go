//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/syncbuf"
)

// asMain makes the test binary run as convirza-mcp itself, so the tests
// below can start the server and the approvals command as processes of
// their own without building anything.
const asMain = "CONVIRZA_MCP_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// processEnv is this process's environment without any setting of the
// server's, plus vars: what a child convirza-mcp gets.
func processEnv(vars ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CONVIRZA_") || strings.HasPrefix(kv, "TALKDESK_") {
			continue
		}
		out = append(out, kv)
	}
	return append(append(out, asMain+"=1", "CONVIRZA_MCP_LOG_LEVEL=warn"), vars...)
}

// TestApprovalsOnAPseudoTerminal: a stdio server (one process) asks for a
// person's approval; `convirza-mcp approvals approve ID` (another process,
// the same state directory) runs on a pseudo-terminal made by script(1),
// shows the action there and takes the person's "y"; the server's call
// then executes. The same command with no controlling terminal refuses,
// even with "y" on its stdin.
func TestApprovalsOnAPseudoTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatalf("this test needs script(1) (util-linux; Debian package bsdutils): %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	audit := filepath.Join(dir, "audit.jsonl")
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(fmt.Sprintf("audit:\n  file: %s\n", audit)), 0o600); err != nil {
		t.Fatal(err)
	}
	state := "CONVIRZA_MCP_STATE_DIR=" + filepath.Join(dir, "state")

	// The server: a process of its own, over stdio, as a desktop assistant
	// without elicitation would start it.
	var serverErr syncbuf.Buffer
	c, err := client.NewStdioMCPClientWithOptions(self, nil, []string{"serve", "--sandbox", "--policy", pol},
		transport.WithCommandFunc(func(ctx context.Context, command string, _ []string, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Env = processEnv(state, "CONVIRZA_MCP_REPLICA=desktop")
			cmd.Stderr = &serverErr
			return cmd, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*testenv.Patience)
	defer cancel()
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "pty-test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize: %v\n%s", err, serverErr.String())
	}
	callTool := func(args map[string]any) map[string]any {
		t.Helper()
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = "delete_group", args
		res, err := c.CallTool(ctx, req)
		if err != nil {
			t.Fatalf("delete_group: %v\n%s", err, serverErr.String())
		}
		if res.IsError {
			t.Fatalf("delete_group: %s", testenv.Text(res))
		}
		return testenv.Structured(t, res)
	}
	first := callTool(map[string]any{"id": 1042})
	id, _ := first["approval_id"].(string)
	tok, _ := first["confirmation_token"].(string)
	if id == "" || tok == "" {
		t.Fatalf("first call: %v", first)
	}

	// No controlling terminal (a new session): refused, whatever stdin says.
	cmd := exec.CommandContext(ctx, self, "approvals", "approve", id, "--sandbox", "--policy", pol)
	cmd.Env = processEnv(state)
	cmd.Stdin = strings.NewReader("y\n")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "no terminal") || !strings.Contains(string(out), "approval pages") {
		t.Fatalf("without a terminal: exit %d: %s", code, out)
	}

	// On a pseudo-terminal: the person reads the action and answers y.
	cmd = exec.CommandContext(ctx, script, "--quiet", "--return", "--command",
		fmt.Sprintf("'%s' approvals approve %s --sandbox --policy '%s'", self, id, pol), "/dev/null")
	cmd.Env = processEnv(state, "CONVIRZA_MCP_REPLICA=approver-desk")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var screen syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &screen, &screen
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	testenv.WaitFor(t, "the approval question on the terminal", func() bool {
		return strings.Contains(screen.String(), "[y/N]")
	})
	if s := screen.String(); !strings.Contains(s, `Delete group 1042 "Denver Office"`) {
		t.Fatalf("the terminal did not show the action:\n%s", s)
	}
	if _, err := io.WriteString(stdin, "y\n"); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Recv(t, exited, "the approvals command to exit"); err != nil {
		t.Fatalf("approvals approve on a terminal: %v\n%s", err, screen.String())
	}
	_ = stdin.Close()
	if s := screen.String(); !strings.Contains(s, "Approved: approval "+id) {
		t.Fatalf("terminal:\n%s", s)
	}

	// The server's call now executes.
	if done := callTool(map[string]any{"id": 1042, "confirmation_token": tok}); done["status"] != "deleted" {
		t.Fatalf("after the approval: %v", done)
	}
	lines := testenv.AuditLines(t, audit)
	var got []string
	for _, l := range lines {
		got = append(got, fmt.Sprintf("%v %v %v %v", l["replica"], l["event"], l["step"], l["channel"]))
	}
	want := []string{
		"desktop decision requested page",
		"approver-desk approval approved cli",
		"desktop decision approved cli",
		"desktop outcome executed cli",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if snap, _ := lines[3]["snapshot"].(map[string]any); snap["org_unit_name"] != "Denver Office" {
		t.Errorf("executed without the snapshot: %v", lines[3])
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}
