package server

import (
	"context"
	"errors"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/oauth"
)

// signedOutText answers a tool call whose person's Convirza access ended.
const signedOutText = "You are signed out of Convirza (your sign-in ended or Convirza refused it): sign in again; your MCP client opens the sign-in page at its next request."

// roleReadOnly is Convirza's role_id of a ReadOnly user.
const roleReadOnly = convirza.RoleIDReadOnly

// personMiddleware makes every tool call act as its person under
// CONVIRZA_MCP_AUTH=oauth: the Convirza client uses the person's own
// tokens (so Convirza's roles apply to them), and get_profile names them.
// A call without a person is refused: the server's own credentials, if
// any, are never lent to a request.
func (a *App) personMiddleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if a.OAuth == nil {
			return next(ctx, req)
		}
		sub, ok := oauth.SubjectFrom(ctx)
		if !ok {
			return mcp.NewToolResultError("This server acts for signed-in people only, and this call names none: sign in."), nil
		}
		creds := &personCredentials{srv: a.OAuth, sub: sub}
		if _, err := creds.Token(ctx); err != nil {
			if errors.Is(err, oauth.ErrSignedOut) {
				return mcp.NewToolResultError(signedOutText), nil
			}
			a.log.WarnContext(ctx, "reading a person's Convirza tokens", "user", sub.UserID, "err", err)
			return mcp.NewToolResultError("Your Convirza sign-in could not be read just now (the server's state store did not answer); try again shortly."), nil
		}
		ctx = convirza.WithCaller(ctx, convirza.Caller{Credentials: creds, User: convirza.ProfileUser{
			UserID: sub.UserID, Email: sub.Email, RoleID: sub.RoleID, Role: sub.Role, OrgUnitID: sub.OrgUnitID,
		}})
		res, err := next(ctx, req)
		if errors.Is(err, oauth.ErrSignedOut) {
			return mcp.NewToolResultError(signedOutText), nil
		}
		return res, err
	}
}

// personCredentials are one person's Convirza tokens as the state store
// holds them, for one tool call: a 401 from Convirza renews them once
// (shared with every replica renewing the same person).
type personCredentials struct {
	srv *oauth.Server
	sub oauth.Subject

	mu    sync.Mutex
	stale string // the access token Convirza refused, to renew
}

// Token returns the person's current Convirza access token.
func (p *personCredentials) Token(ctx context.Context) (string, error) {
	p.mu.Lock()
	stale := p.stale
	p.stale = ""
	p.mu.Unlock()
	var (
		t   oauth.Tokens
		err error
	)
	if stale != "" {
		t, err = p.srv.RenewUpstream(ctx, p.sub, stale)
	} else {
		t, err = p.srv.UpstreamTokens(ctx, p.sub)
	}
	if err != nil {
		return "", err
	}
	return t.Access, nil
}

// Invalidate records tok as refused: the next Token renews it.
func (p *personCredentials) Invalidate(tok string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stale = tok
	return true
}

// personTools lists the tools a person may use under
// CONVIRZA_MCP_AUTH=oauth: a ReadOnly Convirza user gets only the tools
// that read (readOnlyHint true). The list varies by who is asking, never by
// earlier calls; mcp-go applies it to tools/call too, where a tool left out
// answers "not found".
func (a *App) personTools(ctx context.Context, tools []mcp.Tool) []mcp.Tool {
	if a.OAuth == nil {
		return tools
	}
	sub, ok := oauth.SubjectFrom(ctx)
	if !ok {
		return tools
	}
	out := make([]mcp.Tool, 0, len(tools))
	for _, t := range tools {
		if ro := t.Annotations.ReadOnlyHint; sub.RoleID == roleReadOnly && (ro == nil || !*ro) {
			continue
		}
		if _, denied := a.Plan.Policy.DeniedFor(convirza.RoleName(sub.RoleID), t.Name); denied {
			continue
		}
		out = append(out, t)
	}
	return out
}
