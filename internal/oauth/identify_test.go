package oauth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/sandbox"
)

// anonRefresh is Convirza answering refreshes without the user block
// (which its docs allow).
type anonRefresh struct{ oauth.Upstream }

func (a anonRefresh) Refresh(ctx context.Context, r string) (oauth.Identity, oauth.Tokens, error) {
	_, t, err := a.Upstream.Refresh(ctx, r)
	return oauth.Identity{}, t, err
}

// When Convirza's renewal does not say who the person is, Identify does
// not fall back on the role they signed in with: a demoted approver is not
// taken for an Admin.
func TestIdentifyUnconfirmedIsNoRole(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) { o.Upstream = anonRefresh{o.Upstream} })
	_, tok := e.login(sandbox.DemoEmail)
	uid := int64(e.call("/mcp", tok.Access).json(t)["user_id"].(float64))
	e.sb.SetRole(sandbox.DemoEmail, 3)
	e.clock.Advance(oauth.IdentityMaxAge + time.Second)
	who, err := e.srv.Identify(context.Background(), uid, oauth.IdentityMaxAge)
	if !errors.Is(err, oauth.ErrUnconfirmed) || who.RoleID != 0 {
		t.Fatalf("Identify with an anonymous renewal: role %d, %v; want ErrUnconfirmed", who.RoleID, err)
	}
	// The person is still signed in: their calls go on.
	if a := e.call("/mcp", tok.Access); a.status != 200 {
		t.Errorf("the person's token after: %d", a.status)
	}
}
