package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
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
// Standard user's write the simulator keeps to Admins, a webhook's, is
// refused upstream, and says why, while the Admin's goes through).
func TestOAuthCallsActAsTheirPerson(t *testing.T) {
	t.Parallel()
	base := oauthServer(t, nil)
	people := []string{sandbox.DemoEmail, sandbox.StandardEmail, sandbox.ReadOnlyEmail}
	var wg sync.WaitGroup
	for _, email := range people {
		tok := testenv.SignIn(t, base, email, base+"/mcp")["access_token"].(string)
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

	admin := dial(t, base, "http", testenv.SignIn(t, base, sandbox.DemoEmail, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
	standard := dial(t, base, "http", testenv.SignIn(t, base, sandbox.StandardEmail, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
	args := map[string]any{"id": 3, "status": "inactive"}
	res := callTool(t, standard, "update_webhook", args)
	if msg := resultText(res); !res.IsError || !strings.Contains(msg, "Your role (Standard) may not do this") {
		t.Errorf("a Standard user's Admin-only write: %v %s", res.IsError, msg)
	}
	if res := callTool(t, admin, "update_webhook", args); res.IsError {
		t.Errorf("the Admin's write: %s", resultText(res))
	}
}

// A ReadOnly Convirza user's session lists only the tools that read, and
// not the Admin-only reads (groups, users); a write is refused saying their
// role only reads; an Admin's lists the writes too.
func TestOAuthReadOnlyPersonListsReadTools(t *testing.T) {
	t.Parallel()
	base := oauthServer(t, nil)
	list := func(email string) (*mcp.ListToolsResult, func(string, map[string]any) error) {
		c := dial(t, base, "http", testenv.SignIn(t, base, email, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
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
	writes, adminReads := 0, 0
	for _, tool := range adm.Tools {
		switch h := tool.Annotations.ReadOnlyHint; {
		case h != nil && !*h:
			writes++
		case adminOnly(tool.Name):
			adminReads++
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
	if adminReads == 0 || len(ro.Tools) == 0 || len(ro.Tools) != len(adm.Tools)-writes-adminReads {
		t.Errorf("ReadOnly lists %d tools, Admin %d of which %d write and %d are Admin-only reads", len(ro.Tools), len(adm.Tools), writes, adminReads)
	}
	if err := roCall("update_broadcast", map[string]any{"id": 1, "status": "paused"}); err == nil || !strings.Contains(err.Error(), "your Convirza role, ReadOnly, may only read") {
		t.Errorf("a ReadOnly person's write: %v, want refused as their role only reads", err)
	}
	if err := roCall("get_profile", nil); err != nil {
		t.Errorf("a ReadOnly person's read: %v", err)
	}
}

// In compact mode a ReadOnly person's session lists search_tools and
// call_read_tool only, and search_tools finds them only reads: no write is
// offered that the person could not run. An Admin finds the write.
func TestOAuthReadOnlyPersonSearchesReadTools(t *testing.T) {
	t.Parallel()
	base, _ := oauthApp(t, nil, "token", "", func(c *config.Config) { c.ToolMode = "compact" })
	search := func(email string) (names []string, listed []string) {
		c := dial(t, base, "http", testenv.SignIn(t, base, email, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
		lr, err := c.ListTools(t.Context(), mcp.ListToolsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tool := range lr.Tools {
			listed = append(listed, tool.Name)
		}
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = "search_tools", map[string]any{"query": "delete or update a group", "limit": 10}
		res, err := c.CallTool(t.Context(), req)
		if err != nil || res.IsError {
			t.Fatalf("%s: search_tools: %v %s", email, err, resultText(res))
		}
		var out struct {
			Tools []struct {
				Name  string `json:"name"`
				Class string `json:"class"`
			} `json:"tools"`
		}
		if err := json.Unmarshal([]byte(resultText(res)), &out); err != nil {
			t.Fatalf("search_tools answer: %v\n%s", err, resultText(res))
		}
		for _, m := range out.Tools {
			if m.Class != "R" {
				names = append(names, m.Name)
			}
		}
		return names, listed
	}
	roWrites, roListed := search(sandbox.ReadOnlyEmail)
	if len(roWrites) > 0 {
		t.Errorf("a ReadOnly person's search offers writes: %v", roWrites)
	}
	if slices.Contains(roListed, "call_write_tool") || !slices.Contains(roListed, "call_read_tool") {
		t.Errorf("a ReadOnly person lists %v", roListed)
	}
	if admWrites, _ := search(sandbox.DemoEmail); !slices.Contains(admWrites, "delete_group") {
		t.Errorf("an Admin's search for deleting a group offers %v, want delete_group among them", admWrites)
	}
}

// A policy withholds tools from a Convirza role (tools.deny_for): here the
// Talkdesk record lists from Standard users. Their session lists none and a
// call is refused saying the policy withholds it, in full and in compact
// mode; an Admin keeps them.
func TestOAuthPolicyWithholdsToolsFromARole(t *testing.T) {
	t.Parallel()
	const pol = "toolsets: all\ntools:\n  deny_for:\n    standard: [\"*record*\"]\n"
	for _, mode := range []string{"full", "compact"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			base, _ := oauthApp(t, nil, "token", pol, func(c *config.Config) { c.ToolMode = mode })
			offered := func(email string) (names []string, call func() error) {
				c := dial(t, base, "http", testenv.SignIn(t, base, email, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
				lr, err := c.ListTools(t.Context(), mcp.ListToolsRequest{})
				if err != nil {
					t.Fatal(err)
				}
				for _, tool := range lr.Tools {
					names = append(names, tool.Name)
				}
				req := mcp.CallToolRequest{}
				req.Params.Name, req.Params.Arguments = "list_record_lists", map[string]any{}
				if mode == "compact" {
					req.Params.Name, req.Params.Arguments = "search_tools", map[string]any{"query": "dialer record lists contacts", "limit": 10}
					res, err := c.CallTool(t.Context(), req)
					if err != nil || res.IsError {
						t.Fatalf("search_tools: %v %s", err, resultText(res))
					}
					var found struct {
						Tools []struct{ Name string } `json:"tools"`
					}
					_ = json.Unmarshal([]byte(resultText(res)), &found)
					for _, f := range found.Tools {
						names = append(names, f.Name)
					}
					req.Params.Name, req.Params.Arguments = "call_read_tool", map[string]any{"name": "list_record_lists", "arguments": map[string]any{}}
				}
				return names, func() error {
					res, err := c.CallTool(t.Context(), req)
					if err == nil && res.IsError {
						err = errors.New(resultText(res))
					}
					return err
				}
			}
			records := func(names []string) (n int) {
				for _, name := range names {
					if strings.Contains(name, "record") {
						n++
					}
				}
				return n
			}
			std, stdCall := offered(sandbox.StandardEmail)
			adm, admCall := offered(sandbox.DemoEmail)
			if n := records(std); n != 0 {
				t.Errorf("a Standard person is offered %d record-list tools: %v", n, std)
			}
			if records(adm) == 0 {
				t.Errorf("an Admin is offered no record-list tool: %v", adm)
			}
			if err := stdCall(); err == nil || !strings.Contains(err.Error(), "policy withholds list_record_lists from Standard users") {
				t.Errorf("a Standard person's list_record_lists: %v, want refused as withheld from their role", err)
			}
			if err := admCall(); err != nil {
				t.Errorf("an Admin's list_record_lists: %v", err)
			}
		})
	}
}

// An approval a person's assistant asks for names the person (their
// email) as its requester, so an approver sees who asked.
func TestOAuthApprovalNamesItsPerson(t *testing.T) {
	t.Parallel()
	base, app := oauthApp(t, nil, "approval", "")
	c := dial(t, base, "http", testenv.SignIn(t, base, sandbox.DemoEmail, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
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

// approverBrowser signs email in on the approval pages with their Convirza
// password and returns a client holding the session cookie, and the page's
// answer.
func approverBrowser(t *testing.T, base, email string) (*http.Client, int) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/approvals/signin",
		strings.NewReader(url.Values{"email": {email}, "password": {sandbox.DemoPassword}, "next": {"/approvals"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return b, resp.StatusCode
}

// decideAs posts approve on approval id as the signed-in browser b.
func decideAs(t *testing.T, b *http.Client, base, id string) (int, string) {
	t.Helper()
	return postApprove(t, b, base, id, approvalCSRF(t, b, base, id))
}

// approvalCSRF opens approval id's page in browser b and returns its form's
// CSRF token.
func approvalCSRF(t *testing.T, b *http.Client, base, id string) string {
	t.Helper()
	resp, err := b.Get(base + "/approvals/" + id)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("approval page %d has no form:\n%s", resp.StatusCode, page)
	}
	return html.UnescapeString(string(m[1]))
}

// postApprove posts the Approve button of approval id's page, with csrf,
// as browser b; it returns the answer's status and body.
func postApprove(t *testing.T, b *http.Client, base, id, csrf string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/approvals/"+id+"/approve",
		strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

// Under CONVIRZA_MCP_AUTH=oauth approvers are people: they sign in on the
// approval pages with their Convirza account (an MCP access token is never
// accepted there); with confirmation.approver: other, the person whose
// assistant asked cannot approve it, another person can, and a ReadOnly
// user cannot approve anything.
func TestOAuthApproversArePeople(t *testing.T) {
	t.Parallel()
	base, app := oauthApp(t, nil, "approval", "confirmation:\n  approver: other\n")
	adminTok := testenv.SignIn(t, base, sandbox.DemoEmail, base+"/mcp")["access_token"].(string)
	c := dial(t, base, "http", adminTok, mcp.ProtocolVersion20250618)
	first := structured(t, callTool(t, c, "release_phone_number", map[string]any{"number": "3035550102"}))
	id, _ := first["approval_id"].(string)
	if id == "" {
		t.Fatalf("first call: %v", first)
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/approvals/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the approval page with an MCP access token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if _, code := approverBrowser(t, base, "nobody@summit-demo.example"); code != http.StatusUnauthorized {
		t.Errorf("a wrong sign-in answered %d", code)
	}

	self, code := approverBrowser(t, base, sandbox.DemoEmail)
	if code != http.StatusSeeOther {
		t.Fatalf("the admin's sign-in answered %d", code)
	}
	if code, body := decideAs(t, self, base, id); code != http.StatusForbidden || !strings.Contains(body, "four eyes") {
		t.Errorf("the asker approving their own: %d %s", code, body)
	}
	ro, _ := approverBrowser(t, base, sandbox.ReadOnlyEmail)
	if code, body := decideAs(t, ro, base, id); code != http.StatusForbidden || !strings.Contains(body, "ReadOnly") {
		t.Errorf("a ReadOnly approver: %d %s", code, body)
	}
	if ap, err := app.Approvals.Get(t.Context(), id); err != nil || ap.State != "pending" {
		t.Fatalf("after two refusals: %+v %v", ap, err)
	}
	other, _ := approverBrowser(t, base, sandbox.StandardEmail)
	if code, body := decideAs(t, other, base, id); code != http.StatusSeeOther {
		t.Errorf("another person approving: %d %s", code, body)
	}
	ap, err := app.Approvals.Get(t.Context(), id)
	if err != nil || ap.State != "approved" || ap.Approver != sandbox.StandardEmail {
		t.Fatalf("approved: %+v %v", ap, err)
	}
}

// A person whose role the policy withholds a tool from (tools.deny_for)
// cannot approve its use either; someone whose role may can.
func TestOAuthApproverMustBeAllowedTheTool(t *testing.T) {
	t.Parallel()
	base, app := oauthApp(t, nil, "approval", "tools:\n  deny_for:\n    standard: [release_phone_number]\n")
	c := dial(t, base, "http", testenv.SignIn(t, base, sandbox.DemoEmail, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
	first := structured(t, callTool(t, c, "release_phone_number", map[string]any{"number": "3035550102"}))
	id, _ := first["approval_id"].(string)
	if id == "" {
		t.Fatalf("first call: %v", first)
	}
	standardRefusedAdminApproves(t, base, app, id, "withholds release_phone_number from Standard")
}

// formAnswer accepts every form question, counting them.
type formAnswer struct{ asked *atomic.Int64 }

func (f formAnswer) Elicit(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	f.asked.Add(1)
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"confirm": true}}}, nil
}

// Under the four-eyes rule the client's own form is never the approval,
// even where the policy trusts client elicitation: the person asking would
// be the one answering. Without the rule, the same form confirms.
func TestOAuthFourEyesTurnsFormElicitationOff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy string
		asked  int64
	}{
		{"confirmation:\n  mode: elicitation\n  client_elicitation: trusted\n", 1},
		{"confirmation:\n  mode: elicitation\n  client_elicitation: trusted\n  approver: other\n", 0},
	} {
		base, _ := oauthApp(t, nil, "elicitation", tc.policy)
		tr, err := transportFor(base, testenv.SignIn(t, base, sandbox.DemoEmail, base+"/mcp")["access_token"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var asked atomic.Int64
		c := client.NewClient(tr, client.WithElicitationHandler(formAnswer{&asked}), client.WithProtocolVersion(mcp.ProtocolVersion20250618))
		t.Cleanup(func() { _ = c.Close() })
		if err := c.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		init := mcp.InitializeRequest{}
		init.Params.ClientInfo = mcp.Implementation{Name: "four-eyes-test", Version: "1"}
		init.Params.ProtocolVersion = mcp.ProtocolVersion20250618
		if _, err := c.Initialize(t.Context(), init); err != nil {
			t.Fatal(err)
		}
		res := callTool(t, c, "delete_group", map[string]any{"id": 1042})
		if got := asked.Load(); got != tc.asked {
			t.Errorf("policy %q: the form was asked %d times, want %d (answer %s)", tc.policy, got, tc.asked, resultText(res))
		}
	}
}

// Resources read as their person too: the org tree, Admin-only at
// Convirza, is refused to a Standard user and given to the Admin.
func TestOAuthResourcesReadAsTheirPerson(t *testing.T) {
	t.Parallel()
	base := oauthServer(t, nil)
	read := func(email string) (*mcp.ReadResourceResult, error) {
		c := dial(t, base, "http", testenv.SignIn(t, base, email, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
		req := mcp.ReadResourceRequest{}
		req.Params.URI = "convirza://org-tree"
		return c.ReadResource(t.Context(), req)
	}
	if _, err := read(sandbox.StandardEmail); err == nil || !strings.Contains(err.Error(), "Standard") {
		t.Errorf("a Standard user read the Admin-only org tree: %v", err)
	}
	if res, err := read(sandbox.DemoEmail); err != nil || len(res.Contents) == 0 {
		t.Errorf("the Admin's org tree: %v", err)
	}
}

// A person whose Convirza tokens the server no longer holds (an operator
// removed them, the store key changed) is told to sign in again, and
// nothing is done with anyone else's login.
func TestOAuthSignedOutPersonIsToldToSignIn(t *testing.T) {
	t.Parallel()
	base, app := oauthApp(t, nil, "token", "")
	c := dial(t, base, "http", testenv.SignIn(t, base, sandbox.StandardEmail, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
	var uid float64
	if p := structured(t, callTool(t, c, "get_profile", nil)); p["user"] != nil {
		uid, _ = p["user"].(map[string]any)["user_id"].(float64)
	}
	if uid == 0 {
		t.Fatal("get_profile names nobody")
	}
	if err := app.Store.Delete(t.Context(), "oauth/person/"+strconv.Itoa(int(uid))+"/convirza"); err != nil {
		t.Fatal(err)
	}
	res := callTool(t, c, "get_profile", nil)
	if msg := resultText(res); !res.IsError || !strings.Contains(msg, "sign in again") || strings.Contains(msg, sandbox.StandardEmail) {
		t.Errorf("a signed-out person's call: %v %s", res.IsError, msg)
	}
}
