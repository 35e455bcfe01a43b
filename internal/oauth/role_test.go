package oauth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/sandbox"
)

// A person's role changed at Convirza shows in the next MCP access token:
// a refresh of the MCP grant renews the person's Convirza tokens when
// Convirza last confirmed them longer ago than oauth.IdentityMaxAge, and
// the renewal's answer names their current role. Sooner, nothing is asked.
func TestRefreshConfirmsTheRoleAtConvirza(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	f, tok := e.login(sandbox.DemoEmail)
	role := func(access string) any {
		t.Helper()
		a := e.call("/mcp", access)
		if a.status != 200 {
			t.Fatalf("/mcp: %d %s", a.status, a.body)
		}
		return a.json(t)["role"]
	}
	if r := role(tok.Access); r != "Admin" {
		t.Fatalf("signed in as %v", r)
	}
	if !e.sb.SetRole(sandbox.DemoEmail, 3) {
		t.Fatal("SetRole")
	}
	before := e.sb.Refreshes()
	e.clock.Advance(oauth.IdentityMaxAge / 2)
	tok = e.tokens(e.refresh(f, tok.Refresh))
	if d := e.sb.Refreshes() - before; d != 0 {
		t.Errorf("a refresh soon after the sign-in renewed at Convirza %d times", d)
	}
	if r := role(tok.Access); r != "Admin" {
		t.Errorf("soon after the sign-in: %v (nothing asked yet)", r)
	}
	e.clock.Advance(oauth.IdentityMaxAge)
	tok = e.tokens(e.refresh(f, tok.Refresh))
	if d := e.sb.Refreshes() - before; d != 1 {
		t.Errorf("the refresh renewed at Convirza %d times, want 1", d)
	}
	if r := role(tok.Access); r != "ReadOnly" {
		t.Errorf("after the refresh: %v, want ReadOnly", r)
	}
	// Just confirmed: the next refresh asks nothing.
	tok = e.tokens(e.refresh(f, tok.Refresh))
	if d := e.sb.Refreshes() - before; d != 1 {
		t.Errorf("a refresh right after a confirmation renewed again (%d)", d)
	}
}

// Identify answers the person as Convirza confirmed them lately, renewing
// to ask when that is too long ago; a person whose access an operator
// revoked is signed out.
func TestIdentify(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, nil)
	_, tok := e.login(sandbox.StandardEmail)
	uid := int64(e.call("/mcp", tok.Access).json(t)["user_id"].(float64))
	ctx := context.Background()
	e.sb.SetRole(sandbox.StandardEmail, 1)
	if id, err := e.srv.Identify(ctx, uid, time.Hour); err != nil || id.RoleID != 2 {
		t.Errorf("recently confirmed: %+v %v, want the role at sign-in (2)", id, err)
	}
	if id, err := e.srv.Identify(ctx, uid, 0); err != nil || id.RoleID != 1 || id.UserID != uid {
		t.Errorf("confirmed now: %+v %v, want role 1", id, err)
	}
	if _, err := e.srv.RevokeSubject(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Identify(ctx, uid, time.Hour); !errors.Is(err, oauth.ErrSignedOut) {
		t.Errorf("after RevokeSubject: %v, want ErrSignedOut", err)
	}
}
