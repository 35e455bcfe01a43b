package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

// An approver demoted at Convirza after signing in on the approval pages
// is refused at decision time: the pages ask Convirza for their role when
// it was last confirmed over a minute ago, not only at sign-in.
func TestOAuthDemotedApproverIsRefused(t *testing.T) {
	t.Parallel()
	clk := &testenv.Clock{}
	base, app := oauthAppWith(t, testenv.Options{ConfirmMode: "approval", Now: clk.Now})
	id := adminAsksToDeleteGroup(t, base)
	b, code := approverBrowser(t, base, sandbox.DemoEmail)
	if code != http.StatusSeeOther {
		t.Fatalf("the Admin's sign-in answered %d", code)
	}
	app.Sandbox.SetRole(sandbox.DemoEmail, 3)
	clk.Advance(oauth.IdentityMaxAge + time.Second)
	if code, body := decideAs(t, b, base, id); code != http.StatusForbidden || !strings.Contains(body, "your role is ReadOnly") {
		t.Errorf("a demoted approver: %d %s", code, body)
	}
	if ap, err := app.Approvals.Get(t.Context(), id); err != nil || ap.State != "pending" {
		t.Fatalf("after the refusal: %+v %v", ap, err)
	}
}

// An approver whose access an operator revoked (RevokeSubject, as
// `convirza-mcp logout --user ID` does) cannot decide: the page asks them
// to sign in again, their page session ends, and nothing is decided.
func TestOAuthRevokedApproverMustSignInAgain(t *testing.T) {
	t.Parallel()
	base, app := oauthApp(t, nil, "approval", "")
	c := personClient(t, base, sandbox.DemoEmail)
	first := structured(t, callTool(t, c, "delete_group", map[string]any{"id": 1042}))
	id, _ := first["approval_id"].(string)
	if id == "" {
		t.Fatalf("first call: %v", first)
	}
	p := structured(t, callTool(t, c, "get_profile", nil))
	uid, _ := p["user"].(map[string]any)["user_id"].(float64)
	b, code := approverBrowser(t, base, sandbox.DemoEmail)
	if code != http.StatusSeeOther || uid == 0 {
		t.Fatalf("the Admin's sign-in answered %d (user %v)", code, uid)
	}
	// The approver has the page open (its form's CSRF token) when an
	// operator revokes them.
	csrf := approvalCSRF(t, b, base, id)
	if _, err := app.OAuth.RevokeSubject(t.Context(), int64(uid)); err != nil {
		t.Fatal(err)
	}
	// Their next page is the sign-in, saying why, without the approval.
	resp, err := b.Get(base + "/approvals/" + id)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(page), "sign in again") || strings.Contains(string(page), "Denver") {
		t.Errorf("a revoked approver's next page: %d %s", resp.StatusCode, page)
	}
	if code, _ := postApprove(t, b, base, id, csrf); code != http.StatusUnauthorized {
		t.Errorf("a revoked approver's decision: %d", code)
	}
	if ap, err := app.Approvals.Get(t.Context(), id); err != nil || ap.State != "pending" {
		t.Fatalf("after the refusal: %+v %v", ap, err)
	}
	resp, err = b.Get(base + "/approvals")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the revoked approver's session still opens the pages: %d", resp.StatusCode)
	}
}

// When Convirza cannot be asked for an approver's role (it fails), the
// decision waits: 503, nothing decided, the session kept for a retry.
func TestOAuthApproverRoleUnconfirmedDecidesNothing(t *testing.T) {
	t.Parallel()
	clk := &testenv.Clock{}
	base, app := oauthAppWith(t, testenv.Options{ConfirmMode: "approval", Now: clk.Now})
	id := adminAsksToDeleteGroup(t, base)
	b, _ := approverBrowser(t, base, sandbox.DemoEmail)
	clk.Advance(oauth.IdentityMaxAge + time.Second)
	app.Sandbox.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: "/oauth/refresh-token", Status: http.StatusBadGateway})
	if code, body := decideAs(t, b, base, id); code != http.StatusServiceUnavailable || !strings.Contains(body, "Nothing was decided") {
		t.Errorf("an unconfirmed approver: %d %s", code, body)
	}
	if ap, err := app.Approvals.Get(t.Context(), id); err != nil || ap.State != "pending" {
		t.Fatalf("after the refusal: %+v %v", ap, err)
	}
	app.Sandbox.ClearFaults()
	if code, body := decideAs(t, b, base, id); code != http.StatusSeeOther {
		t.Errorf("the approver once Convirza answers: %d %s", code, body)
	}
}
