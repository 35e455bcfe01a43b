package tools_test

import (
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/tools"
)

// plan is the plan of every toolset under the policy YAML pol ("" none).
func plan(t *testing.T, pol string) *tools.Plan {
	t.Helper()
	cat := tools.Catalog()
	p := &policy.Policy{}
	if pol != "" {
		var err error
		if p, err = policy.Parse("policy.yaml", []byte(pol), cat); err != nil {
			t.Fatal(err)
		}
	}
	eff, err := p.Combine(policy.Settings{Toolsets: []string{"all"}}, cat)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := tools.NewPlan(eff)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

// Exactly the groups and users tools are declared Admin-only: Convirza
// documents Groups and Users as Admin-only for every operation; nothing
// else (webhooks' Admin-only is the simulator's assumption, not a fact).
func TestAdminOnlyIsGroupsAndUsers(t *testing.T) {
	for _, tl := range tools.All() {
		want := tl.Toolset == "groups" || tl.Toolset == "users"
		if tl.AdminOnly != want {
			t.Errorf("%s (toolset %s): AdminOnly %v, want %v", tl.Name, tl.Toolset, tl.AdminOnly, want)
		}
	}
}

// MayUse is the one rule: Admin everything, Standard all but Admin-only,
// ReadOnly reads that are not Admin-only, and a role id this server does
// not know (0, 4, -1) no more than ReadOnly; deny_for withholds per role,
// the readonly list applying to unknown roles too.
func TestMayUse(t *testing.T) {
	p := plan(t, "tools:\n  deny_for:\n    standard: [release_phone_number]\n    read_only: [list_calls]\n")
	cases := []struct {
		tool string
		role int
		ok   bool
		why  string
	}{
		{"list_groups", 1, true, ""},
		{"delete_user", 1, true, ""},
		{"release_phone_number", 1, true, ""},
		{"list_groups", 2, false, "list_groups is for Convirza Admin users (Convirza keeps groups and users to Admins, reads included); your role is Standard"},
		{"delete_user", 2, false, "your role is Standard"},
		{"update_broadcast", 2, true, ""},
		{"release_phone_number", 2, false, "this server's policy withholds release_phone_number from Standard users"},
		{"get_user", 3, false, "get_user is for Convirza Admin users"},
		{"update_broadcast", 3, false, "update_broadcast changes something (class W), and your Convirza role, ReadOnly, may only read"},
		{"list_broadcasts", 3, true, ""},
		{"list_calls", 3, false, "withholds list_calls from ReadOnly users"},
		{"call_write_tool", 3, false, "may only read"},
		{"call_read_tool", 3, true, ""},
		{"list_broadcasts", 0, true, ""},
		{"list_calls", 0, false, "withholds list_calls from ReadOnly users"},
		{"update_broadcast", 0, false, "your Convirza role, unknown to this server (role_id 0), may only read"},
		{"list_groups", 4, false, "your role is unknown to this server (role_id 4)"},
		{"create_tag", 4, false, "may only read"},
		{"create_tag", -1, false, "may only read"},
	}
	for _, c := range cases {
		why, ok := tools.MayUse(c.role, p.Policy, p.Lookup(c.tool))
		if ok != c.ok || !strings.Contains(why, c.why) || ok != (why == "") {
			t.Errorf("MayUse(%d, %s) = %q %v, want %v containing %q", c.role, c.tool, why, ok, c.ok, c.why)
		}
	}
	if _, ok := tools.MayUse(1, p.Policy, nil); ok {
		t.Error("a tool that is not there is usable")
	}
	if _, ok := tools.MayUse(1, nil, p.Lookup("list_groups")); !ok {
		t.Error("no policy: the Admin may not list groups")
	}
}

// MayApprove: an approver could do it themselves (MayUse), and under the
// four-eyes rule did not ask for it; a tool not served here is refused.
func TestMayApprove(t *testing.T) {
	p := plan(t, "confirmation:\n  approver: other\n")
	del := &policy.Approval{Tool: "delete_group", Principal: "user:1"}
	for _, c := range []struct {
		user int64
		role int
		ap   *policy.Approval
		want string
	}{
		{7, 1, del, ""},
		{1, 1, del, "four eyes"},
		{7, 2, del, "delete_group is for Convirza Admin users"},
		{7, 3, del, "delete_group is for Convirza Admin users"},
		{7, 0, &policy.Approval{Tool: "release_phone_number", Principal: "user:1"}, "may only read"},
		{7, 2, &policy.Approval{Tool: "release_phone_number", Principal: "user:1"}, ""},
		{7, 1, &policy.Approval{Tool: "no_such_tool", Principal: "user:1"}, "does not serve no_such_tool"},
	} {
		got := p.MayApprove(c.user, c.role, c.ap)
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("MayApprove(%d, %d, %s) = %q, want %q", c.user, c.role, c.ap.Tool, got, c.want)
		}
		if got != "" && !strings.HasSuffix(got, "Nothing was decided.") {
			t.Errorf("MayApprove(%d, %d, %s) = %q: does not say nothing was decided", c.user, c.role, c.ap.Tool, got)
		}
	}
	var none *tools.Plan
	if none.MayApprove(7, 1, del) == "" {
		t.Error("no plan: approved")
	}
}
