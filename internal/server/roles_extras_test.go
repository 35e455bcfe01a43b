package server_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/sandbox"
)

// What else reads groups answers a non-Admin gracefully: the org-tree
// resource and a prompt needing create_group refuse saying why, org-unit
// completions offer nothing, and a prompt whose tools are theirs still
// works (the org unit named as typed). An Admin gets the completions.
func TestOAuthGroupReadersAnswerNonAdmins(t *testing.T) {
	t.Parallel()
	base := oauthServer(t, nil)
	complete := func(c *client.Client, prompt, arg string) ([]string, error) {
		req := mcp.CompleteRequest{}
		req.Params.Ref = mcp.PromptReference{Type: "ref/prompt", Name: prompt}
		req.Params.Argument = mcp.CompleteArgument{Name: arg, Value: ""}
		res, err := c.Complete(t.Context(), req)
		if err != nil {
			return nil, err
		}
		return res.Completion.Values, nil
	}
	prompt := func(c *client.Client, name string, args map[string]string) (string, error) {
		req := mcp.GetPromptRequest{}
		req.Params.Name, req.Params.Arguments = name, args
		res, err := c.GetPrompt(t.Context(), req)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		for _, m := range res.Messages {
			if tc, ok := m.Content.(mcp.TextContent); ok {
				b.WriteString(tc.Text)
			}
		}
		return b.String(), nil
	}
	for _, email := range []string{sandbox.StandardEmail, sandbox.ReadOnlyEmail} {
		c := personClient(t, base, email)
		if vals, err := complete(c, "number_cleanup", "org_unit"); err != nil || len(vals) != 0 {
			t.Errorf("%s: org unit completion: %v %v, want none", email, vals, err)
		}
		req := mcp.ReadResourceRequest{}
		req.Params.URI = "convirza://org-tree"
		if _, err := c.ReadResource(t.Context(), req); err == nil || !strings.Contains(err.Error(), "get_group_tree is for Convirza Admin users") {
			t.Errorf("%s: org tree: %v", email, err)
		}
		if _, err := prompt(c, "new_office_setup", map[string]string{"office_name": "Boulder", "parent": "West"}); err == nil || !strings.Contains(err.Error(), "create_group") || !strings.Contains(err.Error(), "Admin users") {
			t.Errorf("%s: new_office_setup: %v", email, err)
		}
		if text, err := prompt(c, "missed_calls_report", map[string]string{"org_unit": "Denver Office"}); err != nil || !strings.Contains(text, `"Denver Office"`) {
			t.Errorf("%s: missed_calls_report: %v %q", email, err, text)
		}
	}
	if vals, err := complete(personClient(t, base, sandbox.DemoEmail), "number_cleanup", "org_unit"); err != nil || !slices.Contains(vals, "Denver Office") {
		t.Errorf("the Admin's org unit completion: %v %v", vals, err)
	}
}
