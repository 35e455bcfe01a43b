package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
)

// Where people sign in (CONVIRZA_MCP_AUTH=oauth), `approvals approve`
// asks the person at the terminal to sign in with their Convirza account:
// the decision is recorded under their name, they may approve only what
// they could do themselves, and under four eyes never what their own
// assistant asked. A wrong password decides nothing.
func TestApprovalsCommandSignsThePersonIn(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	policyYAML := fmt.Sprintf("toolsets: [all]\nconfirmation:\n  approver: other\naudit:\n  file: %s\n", audit)
	base, app := testenv.StartOAuth(t, testenv.Options{Sandbox: sb, ConfirmMode: "approval", Policy: policyYAML})

	// The Admin's assistant asks to delete a group: a pending approval.
	tok := testenv.SignIn(t, base, sandbox.DemoEmail, base+"/mcp")["access_token"].(string)
	c, err := client.NewStreamableHttpClient(base+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + tok}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*testenv.Patience)
	defer cancel()
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
		t.Fatal(err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "delete_group", map[string]any{"id": 1042}
	res, err := c.CallTool(ctx, req)
	if err != nil || res.IsError {
		t.Fatalf("delete_group: %v %s", err, testenv.Text(res))
	}
	id, _ := testenv.Structured(t, res)["approval_id"].(string)
	if id == "" {
		t.Fatalf("no approval: %s", testenv.Text(res))
	}

	cfg := app.Config
	approve := func(typed string) (int, string, string) {
		t.Helper()
		var out, errb, tty bytes.Buffer
		e := env2(&out, &errb, map[string]string{
			"CONVIRZA_MCP_STATE_DIR": cfg.StateDir, "CONVIRZA_MCP_POLICY": cfg.Policy,
			// Run as an operator would, without the server's transport:
			// people signing in is what asks for a sign-in here.
			"CONVIRZA_MCP_AUTH": "oauth", "CONVIRZA_MCP_ADDR": cfg.Addr,
			"CONVIRZA_MCP_PUBLIC_URL": cfg.PublicURL, "CONVIRZA_MCP_CONFIRMATION_MODE": "approval",
			"CONVIRZA_API_URL": sb.APIURL, "CONVIRZA_OAUTH_URL": sb.OAuthURL, "CONVIRZA_MCP_REPLICA": "approver-desk",
		})
		e.tty = func() (io.ReadWriteCloser, error) { return &fakeTTY{in: strings.NewReader(typed), out: &tty}, nil }
		code := run(context.Background(), []string{"approvals", "approve", id}, e)
		return code, out.String() + errb.String(), tty.String()
	}
	pending := func() {
		t.Helper()
		ap, err := app.Approvals.Get(context.Background(), id)
		if err != nil || ap.State != "pending" {
			t.Fatalf("the approval after a refused decision: %v %v", ap, err)
		}
	}

	code, out, shown := approve(sandbox.DemoEmail + "\nwrong\ny\n")
	if code != 1 || !strings.Contains(out, "wrong email or password") || !strings.Contains(shown, "Convirza email:") {
		t.Fatalf("a wrong password: exit %d: %s\n%s", code, out, shown)
	}
	pending()
	code, out, _ = approve(sandbox.DemoEmail + "\n" + sandbox.DemoPassword + "\ny\n")
	if code != 1 || !strings.Contains(out, "four eyes") {
		t.Fatalf("the asker approving their own: exit %d: %s", code, out)
	}
	pending()
	code, out, _ = approve(sandbox.StandardEmail + "\n" + sandbox.DemoPassword + "\ny\n")
	if code != 1 || !strings.Contains(out, "Admin") {
		t.Fatalf("a Standard user approving an Admin-only action: exit %d: %s", code, out)
	}
	pending()

	// Another Admin approves, by name.
	if !sb.SetRole(sandbox.StandardEmail, 1) {
		t.Fatal("SetRole")
	}
	code, out, shown = approve(sandbox.StandardEmail + "\n" + sandbox.DemoPassword + "\ny\n")
	if code != 0 || !strings.Contains(out, "Approved: approval "+id) || !strings.Contains(shown, "Signed in as "+sandbox.StandardEmail) {
		t.Fatalf("another Admin: exit %d: %s\n%s", code, out, shown)
	}
	if strings.Contains(shown, sandbox.DemoPassword) {
		t.Error("the password was echoed to the terminal")
	}
	ap, err := app.Approvals.Get(context.Background(), id)
	if err != nil || ap.State != "approved" || ap.Approver != sandbox.StandardEmail || ap.Channel != "cli" {
		t.Fatalf("the approval: %+v %v", ap, err)
	}
	// The terminal's sign-in checked the person and kept nothing: no
	// Convirza tokens of theirs are left in the store.
	if held, err := app.OAuth.Holds(context.Background(), standardUserID(t, sb)); err != nil || held {
		t.Errorf("the approvals command left the approver's Convirza tokens in the store (%v)", err)
	}
	lines := testenv.AuditLines(t, audit)
	last := lines[len(lines)-1]
	if last["step"] != "approved" || last["approver"] != sandbox.StandardEmail {
		t.Errorf("audit: %v", last)
	}
}

// standardUserID is the simulator's user id of the Standard demo user.
func standardUserID(t *testing.T, sb *sandbox.Running) int64 {
	t.Helper()
	id, ok := sb.UserID(sandbox.StandardEmail)
	if !ok {
		t.Fatal("no Standard demo user")
	}
	return id
}
