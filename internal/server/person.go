package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/tools"
)

// signedOutText answers a tool call whose person's Convirza access ended.
const signedOutText = "You are signed out of Convirza (your sign-in ended or Convirza refused it): sign in again; your MCP client opens the sign-in page at its next request."

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
		if why, ok := a.mayUse(ctx, req.Params.Name); !ok {
			return mcp.NewToolResultError(tools.RefusedText(why)), nil
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
	// held is the token read for this call: its upstream requests use it
	// without reading the store again, until Convirza refuses it.
	held string
}

// Token returns the person's current Convirza access token.
func (p *personCredentials) Token(ctx context.Context) (string, error) {
	p.mu.Lock()
	stale, held := p.stale, p.held
	p.stale = ""
	p.mu.Unlock()
	if stale == "" && held != "" {
		return held, nil
	}
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
	p.mu.Lock()
	p.held = t.Access
	p.mu.Unlock()
	return t.Access, nil
}

// Invalidate records tok as refused: the next Token renews it.
func (p *personCredentials) Invalidate(tok string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stale, p.held = tok, ""
	return true
}

// personTools lists the tools a person may use under
// CONVIRZA_MCP_AUTH=oauth (tools.MayUse): a ReadOnly Convirza user gets
// only the tools that read, a Standard user no Admin-only tool, and no one
// what the policy withholds from their role. The list varies by who is
// asking, never by earlier calls; mcp-go applies it to tools/call too,
// where refuseByRole has already said why a tool left out is not theirs.
func (a *App) personTools(ctx context.Context, all []mcp.Tool) []mcp.Tool {
	if a.OAuth == nil {
		return all
	}
	sub, ok := oauth.SubjectFrom(ctx)
	if !ok {
		return all
	}
	out := make([]mcp.Tool, 0, len(all))
	for _, t := range all {
		if _, may := tools.MayUse(sub.RoleID, a.Plan.Policy, a.Plan.Lookup(t.Name)); may {
			out = append(out, t)
		}
	}
	return out
}

// mayUse applies tools.MayUse to the request's person and the tool named
// name (always true without per-person sign-in, or for a request naming no
// person, which personMiddleware refuses anyway).
func (a *App) mayUse(ctx context.Context, name string) (string, bool) {
	if a.OAuth == nil {
		return "", true
	}
	sub, ok := oauth.SubjectFrom(ctx)
	if !ok {
		return "", true
	}
	return tools.MayUse(sub.RoleID, a.Plan.Policy, a.Plan.Lookup(name))
}

// refuseByRole is a request hook under CONVIRZA_MCP_AUTH=oauth: a
// tools/call of a served tool the person's role may not use is answered
// with tools.MayUse's sentence ("delete_group is for Convirza Admin
// users…"), where the tool filter alone would say "not found".
func (a *App) refuseByRole(ctx context.Context, message any, g *tools.Guards) error {
	raw, ok := message.(json.RawMessage)
	if !ok || !bytes.Contains(raw, []byte(mcp.MethodToolsCall)) {
		return nil // not a tools/call: nothing to decode (an upload's megabytes included)
	}
	var m struct {
		Method string `json:"method"`
		Params struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &m) != nil || m.Method != string(mcp.MethodToolsCall) || a.MCP.GetTool(m.Params.Name) == nil {
		return nil
	}
	if why, ok := a.mayUse(ctx, m.Params.Name); !ok {
		// Answered here, before the tool middleware: counted and
		// recorded here too.
		a.obs.refusedCall(ctx, m.Params.Name)
		if t := a.Plan.Lookup(m.Params.Name); t != nil {
			g.Refused(ctx, a.Deps, t, m.Params.Arguments, why)
		}
		return errors.New(tools.RefusedText(why))
	}
	return nil
}
