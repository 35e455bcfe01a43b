package convirza

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/schemas"
)

// A person's sign-in, as the per-person identity of the HTTP server uses
// it: login says who they are, refresh rotates, revoke kills the refresh
// token, and a wrong password is an APIError with the upstream's status.
func TestSessionLoginRefreshRevoke(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	ctx := context.Background()
	hc := fastHTTP()

	s, err := Login(ctx, hc, sb.OAuthURL, sandbox.ReadOnlyEmail, sandbox.DemoPassword)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if s.User == nil || s.User.Email != sandbox.ReadOnlyEmail || s.User.Role != schemas.RoleReadOnly || s.User.UserID == 0 || s.User.OrgUnitID == 0 {
		t.Fatalf("login user = %+v, want the read-only demo user with its role named", s.User)
	}
	if s.AccessToken == "" || s.RefreshToken == "" || s.AccessExpiry.IsZero() || s.RefreshExpiry.IsZero() {
		t.Fatalf("login session = %+v, want both tokens and both expiries", s)
	}

	r, err := Refresh(ctx, hc, sb.OAuthURL, s.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if r.RefreshToken == "" || r.RefreshToken == s.RefreshToken || r.User == nil || r.User.UserID != s.User.UserID {
		t.Fatalf("refresh = %+v, want a new refresh token for the same user", r)
	}
	var ae *upstream.APIError
	if _, err := Refresh(ctx, hc, sb.OAuthURL, s.RefreshToken); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("refresh with the rotated token: %v, want a 401 APIError", err)
	}

	if err := Revoke(ctx, hc, sb.OAuthURL, r.RefreshToken, "refresh"); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := Refresh(ctx, hc, sb.OAuthURL, r.RefreshToken); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("refresh with the revoked token: %v, want a 401 APIError", err)
	}

	if _, err := Login(ctx, hc, sb.OAuthURL, sandbox.ReadOnlyEmail, "wrong"); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %v, want a 401 APIError", err)
	}
	if err := Revoke(ctx, hc, sb.OAuthURL, "x", "neither"); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Fatalf("revoke with a wrong kind: %v, want a 400 APIError", err)
	}
}
