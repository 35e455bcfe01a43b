package convirza

import (
	"context"

	"github.com/convirza/convirza-mcp/internal/upstream"
)

// Caller is a person a request acts for, when the server serves several
// (CONVIRZA_MCP_AUTH=oauth): their Convirza credentials and who they are.
// A call whose context carries one uses the person's tokens instead of the
// client's own, so Convirza's roles apply to the person.
type Caller struct {
	Credentials upstream.Credentials
	User        ProfileUser
}

type callerKey struct{}

// WithCaller makes the client's calls under ctx act as c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// WithoutCaller makes the client's calls under ctx use its own
// credentials again, whoever the request acts for: for the server's own
// checks (an org-unit scope is the operator's rule, resolved with the
// operator's login), never for a person's request.
func WithoutCaller(ctx context.Context) context.Context {
	return context.WithValue(ctx, callerKey{}, Caller{})
}

// CallerFrom returns the person WithCaller recorded.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok && c.Credentials != nil
}

// credentials are the request's person's, else the client's own.
func (c *Client) credentials(ctx context.Context) upstream.Credentials {
	if p, ok := CallerFrom(ctx); ok {
		return p.Credentials
	}
	return c.tokens
}
