package server_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

// adminOnlyTools are the tools of Groups and Users, which Convirza keeps to
// Admin users for every operation, reads included (API-NOTES "Roles" [D]).
// Spelled out here, not read from the declarations under test.
var adminOnlyTools = []string{
	"list_groups", "get_group", "get_group_tree", "get_org_unit_hierarchy",
	"create_group", "replace_group", "update_group", "delete_group",
	"list_users", "get_user", "create_user", "replace_user", "update_user", "delete_user",
}

func adminOnly(name string) bool { return slices.Contains(adminOnlyTools, name) }

// personClient signs email in and connects as them.
func personClient(t *testing.T, base, email string) *client.Client {
	t.Helper()
	return dial(t, base, "http", testenv.SignIn(t, base, email, base+"/mcp")["access_token"].(string), mcp.ProtocolVersion20250618)
}

// adminAsksToDeleteGroup: the Admin demo user's assistant asks to delete
// group 1042 on base; the answer is a pending approval, whose id this is.
func adminAsksToDeleteGroup(t *testing.T, base string) string {
	t.Helper()
	first := structured(t, callTool(t, personClient(t, base, sandbox.DemoEmail), "delete_group", map[string]any{"id": 1042}))
	id, _ := first["approval_id"].(string)
	if id == "" {
		t.Fatalf("first call: %v", first)
	}
	return id
}

func listedNames(t *testing.T, c *client.Client) []string {
	t.Helper()
	lr, err := c.ListTools(t.Context(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range lr.Tools {
		names = append(names, tool.Name)
	}
	return names
}

// searchNames is what search_tools finds for query (compact mode).
func searchNames(t *testing.T, c *client.Client, query string) []string {
	t.Helper()
	res := callTool(t, c, "search_tools", map[string]any{"query": query, "limit": 10})
	if res.IsError {
		t.Fatalf("search_tools: %s", resultText(res))
	}
	var out struct {
		Tools []struct{ Name string } `json:"tools"`
	}
	if err := json.Unmarshal([]byte(resultText(res)), &out); err != nil {
		t.Fatalf("search_tools answer: %v", err)
	}
	var names []string
	for _, f := range out.Tools {
		names = append(names, f.Name)
	}
	return names
}

// Groups and Users are Admin-only at Convirza, reads included: a Standard
// or ReadOnly person's tools/list holds none of their tools and a call to
// one says it is for Admin users, in full and in compact mode; an Admin has
// them all.
func TestOAuthAdminOnlyToolsAreForAdmins(t *testing.T) {
	t.Parallel()
	t.Run("full", func(t *testing.T) {
		t.Parallel()
		base := oauthServer(t, nil)
		for _, email := range []string{sandbox.StandardEmail, sandbox.ReadOnlyEmail} {
			c := personClient(t, base, email)
			listed := listedNames(t, c)
			if len(listed) == 0 {
				t.Fatalf("%s lists no tool", email)
			}
			for _, name := range listed {
				if adminOnly(name) {
					t.Errorf("%s is offered %s", email, name)
				}
			}
			for _, name := range []string{"list_groups", "get_user", "delete_user"} {
				req := mcp.CallToolRequest{}
				req.Params.Name, req.Params.Arguments = name, map[string]any{"id": 1042}
				_, err := c.CallTool(t.Context(), req)
				if err == nil || !strings.Contains(err.Error(), name+" is for Convirza Admin users") {
					t.Errorf("%s calling %s: %v, want it is for Admin users", email, name, err)
				}
			}
		}
		if !slices.Contains(listedNames(t, personClient(t, base, sandbox.StandardEmail)), "release_phone_number") {
			t.Error("a Standard person lost an operational write")
		}
		admin := personClient(t, base, sandbox.DemoEmail)
		listed := listedNames(t, admin)
		for _, name := range adminOnlyTools {
			if !slices.Contains(listed, name) {
				t.Errorf("the Admin is not offered %s", name)
			}
		}
		if res := callTool(t, admin, "list_groups", nil); res.IsError {
			t.Errorf("the Admin's list_groups: %s", resultText(res))
		}
	})
	t.Run("compact", func(t *testing.T) {
		t.Parallel()
		base, _ := oauthApp(t, nil, "token", "", func(c *config.Config) { c.ToolMode = "compact" })
		const query = "list groups users org unit tree delete group user"
		std := personClient(t, base, sandbox.StandardEmail)
		found := searchNames(t, std, query)
		if len(found) == 0 {
			t.Fatal("search_tools found nothing for a Standard person")
		}
		for _, name := range found {
			if adminOnly(name) {
				t.Errorf("a Standard person's search finds %s", name)
			}
		}
		res := callTool(t, std, "call_read_tool", map[string]any{"name": "list_groups", "arguments": map[string]any{}})
		if msg := resultText(res); !res.IsError || !strings.Contains(msg, "list_groups is for Convirza Admin users") || !strings.Contains(msg, "your role is Standard") {
			t.Errorf("a Standard person's list_groups: %v %s", res.IsError, msg)
		}
		admin := personClient(t, base, sandbox.DemoEmail)
		if found := searchNames(t, admin, query); !slices.ContainsFunc(found, adminOnly) {
			t.Errorf("an Admin's search finds no group or user tool: %v", found)
		}
		if res := callTool(t, admin, "call_read_tool", map[string]any{"name": "list_groups", "arguments": map[string]any{}}); res.IsError {
			t.Errorf("the Admin's list_groups: %s", resultText(res))
		}
	})
}

// An approver may approve only what they could do themselves: a Standard
// person cannot approve delete_group (Admin-only at Convirza), and the page
// says why with nothing decided; an Admin can.
func TestOAuthStandardApproverCannotApproveAdminOnly(t *testing.T) {
	t.Parallel()
	base, app := oauthApp(t, nil, "approval", "")
	id := adminAsksToDeleteGroup(t, base)
	standardRefusedAdminApproves(t, base, app, id, "delete_group is for Convirza Admin users")
}

// standardRefusedAdminApproves: the Standard demo user's approval of id is
// refused with why (403, nothing decided); the Admin's then approves it.
func standardRefusedAdminApproves(t *testing.T, base string, app *server.App, id, why string) {
	t.Helper()
	std, _ := approverBrowser(t, base, sandbox.StandardEmail)
	if code, body := decideAs(t, std, base, id); code != http.StatusForbidden || !strings.Contains(body, why) {
		t.Errorf("the Standard approver: %d %s, want 403 saying %q", code, body, why)
	}
	if ap, err := app.Approvals.Get(t.Context(), id); err != nil || ap.State != "pending" {
		t.Fatalf("after the refusal: %+v %v", ap, err)
	}
	adm, _ := approverBrowser(t, base, sandbox.DemoEmail)
	if code, body := decideAs(t, adm, base, id); code != http.StatusSeeOther {
		t.Errorf("an Admin approving: %d %s", code, body)
	}
	if ap, err := app.Approvals.Get(t.Context(), id); err != nil || ap.State != "approved" || ap.Approver != sandbox.DemoEmail {
		t.Fatalf("approved: %+v %v", ap, err)
	}
}
