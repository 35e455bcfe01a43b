package server_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/sandbox"
)

func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

// Under CONVIRZA_MCP_AUTH=oauth each call acts as its person: two people at
// once each get their own profile, and Convirza's roles apply to each (a
// Standard user's Admin-only write is refused upstream, and says why, while
// the Admin's goes through).
func TestOAuthCallsActAsTheirPerson(t *testing.T) {
	t.Parallel()
	base := oauthServer(t, nil)
	people := []string{sandbox.DemoEmail, sandbox.StandardEmail, sandbox.ReadOnlyEmail}
	var wg sync.WaitGroup
	for _, email := range people {
		tok := personTokens(t, base, email, base+"/mcp")["access_token"].(string)
		c := dial(t, base, "http", tok, mcp.ProtocolVersion20250618)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				req := mcp.CallToolRequest{}
				req.Params.Name = "get_profile"
				res, err := c.CallTool(t.Context(), req)
				if err != nil || res.IsError {
					t.Errorf("%s: get_profile: %v %+v", email, err, res)
					return
				}
				if got := resultText(res); !strings.Contains(got, `"email":"`+email+`"`) {
					t.Errorf("%s's get_profile answered %s", email, got)
					return
				}
			}
		}()
	}
	wg.Wait()

	admin := dial(t, base, "http", personTokens(t, base, sandbox.DemoEmail, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
	standard := dial(t, base, "http", personTokens(t, base, sandbox.StandardEmail, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
	args := map[string]any{"id": 1042, "city": "Boulder"}
	res := callTool(t, standard, "update_group", args)
	if msg := resultText(res); !res.IsError || !strings.Contains(msg, "Your role (Standard) may not do this") {
		t.Errorf("a Standard user's Admin-only write: %v %s", res.IsError, msg)
	}
	if res := callTool(t, admin, "update_group", args); res.IsError {
		t.Errorf("the Admin's write: %s", resultText(res))
	}
}

// A ReadOnly Convirza user's session lists only the tools that read, and a
// write is "not found" for them; an Admin's lists the writes too.
func TestOAuthReadOnlyPersonListsReadTools(t *testing.T) {
	t.Parallel()
	base := oauthServer(t, nil)
	list := func(email string) (*mcp.ListToolsResult, func(string, map[string]any) error) {
		c := dial(t, base, "http", personTokens(t, base, email, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
		res, err := c.ListTools(t.Context(), mcp.ListToolsRequest{})
		if err != nil {
			t.Fatalf("%s: tools/list: %v", email, err)
		}
		return res, func(name string, args map[string]any) error {
			req := mcp.CallToolRequest{}
			req.Params.Name, req.Params.Arguments = name, args
			_, err := c.CallTool(t.Context(), req)
			return err
		}
	}
	ro, roCall := list(sandbox.ReadOnlyEmail)
	adm, _ := list(sandbox.DemoEmail)
	writes := 0
	for _, tool := range adm.Tools {
		if h := tool.Annotations.ReadOnlyHint; h != nil && !*h {
			writes++
		}
	}
	if writes == 0 {
		t.Fatal("the Admin is offered no write tool")
	}
	for _, tool := range ro.Tools {
		if h := tool.Annotations.ReadOnlyHint; h == nil || !*h {
			t.Errorf("a ReadOnly person is offered %s", tool.Name)
		}
	}
	if len(ro.Tools) == 0 || len(ro.Tools) != len(adm.Tools)-writes {
		t.Errorf("ReadOnly lists %d tools, Admin %d of which %d write", len(ro.Tools), len(adm.Tools), writes)
	}
	if err := roCall("update_group", map[string]any{"id": 1042, "city": "Boulder"}); err == nil || !strings.Contains(strings.ToLower(err.Error()), "not found") {
		t.Errorf("a ReadOnly person's write: %v, want not found", err)
	}
	if err := roCall("get_profile", nil); err != nil {
		t.Errorf("a ReadOnly person's read: %v", err)
	}
}

// An approval a person's assistant asks for names the person (their
// email) as its requester, so an approver sees who asked.
func TestOAuthApprovalNamesItsPerson(t *testing.T) {
	t.Parallel()
	base, app := oauthApp(t, nil, "approval")
	c := dial(t, base, "http", personTokens(t, base, sandbox.DemoEmail, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
	first := structured(t, callTool(t, c, "delete_group", map[string]any{"id": 1042}))
	id, _ := first["approval_id"].(string)
	if id == "" {
		t.Fatalf("first call: %v", first)
	}
	ap, err := app.Approvals.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ap.Requester, sandbox.DemoEmail+" (user:") {
		t.Errorf("requester %q does not name the person", ap.Requester)
	}
}
