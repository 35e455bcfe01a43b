package tools_test

import (
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

// Every number argument takes any common spelling, the upstream gets the
// form it wants (10 digits for tracking numbers, E.164 for the rest), and
// answers carry E.164.
func TestPhoneNumbersAnySpellingAnsweredInE164(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})

	out := env.OK(t, "create_provisioned_route", `{"provisioned_route_name":"Denver Radio","phone_number":"(303) 555-0102","ring_to":"303.555.9002","org_unit_id":1042}`)
	id := out["provisioned_route_id"]
	r := env.OK(t, "get_provisioned_route", nrWith(`{}`, "id", id))
	if r["phone_number"] != "+13035550102" || r["ring_to"] != "+13035559002" {
		t.Errorf("created route: %v", r)
	}
	routes := nrItems(t, env.OK(t, "list_provisioned_routes", `{"phone_number":"+1 (303) 555-0100"}`), "provisioned_routes")
	if len(routes) != 2 || routes[0]["phone_number"] != "+13035550100" {
		t.Errorf("routes of +1 (303) 555-0100: %v", routes)
	}
	env.OK(t, "update_provisioned_route", `{"id":7003,"ring_to":"1-720-555-0111"}`)
	if r := env.OK(t, "get_provisioned_route", `{"id":7003}`); r["ring_to"] != "+17205550111" {
		t.Errorf("ring_to after update: %v", r)
	}

	env.OK(t, "update_user", `{"id":12351,"agent_ring_to":"720 555 0100"}`)
	if u := env.OK(t, "get_user", `{"id":12351}`); u["agent_ring_to"] != "+17205550100" {
		t.Errorf("agent_ring_to: %v", u)
	}
	env.OK(t, "update_group", `{"id":1042,"phone_number":"303-555-0000"}`)
	if g := env.OK(t, "get_group", `{"id":1042}`); g["phone_number"] != "+13035550000" {
		t.Errorf("group phone_number: %v", g)
	}
	nrAsk(t, env, "release_phone_number", `{"number":"+1 303 555 0101"}`, "+1 303-555-0101")
	nums := nrItems(t, env.OK(t, "list_assigned_numbers", `{"npa":"303"}`), "numbers")
	for _, n := range nums {
		if !strings.HasPrefix(n["number"].(string), "+1303") {
			t.Errorf("number not in E.164: %v", n)
		}
	}

	// A number that cannot be read is a clear error naming it, and
	// nothing is sent.
	for _, c := range []struct{ tool, args, want string }{
		{"release_phone_number", `{"number":"555-0102"}`, `"555-0102"`},
		{"order_phone_number", `{"number":"+44 20 7946 0958","org_unit_id":1042}`, "+442079460958 is not a North American number"},
		{"update_provisioned_route", `{"id":7003,"ring_to":"(03) 555-0111"}`, `"(03) 555-0111"`},
		{"update_user", `{"id":12351,"agent_ring_to":"+0 720 555 0100"}`, "agent_ring_to"},
		{"update_group", `{"id":1042,"phone_number":"12345678"}`, `"12345678"`},
		{"list_calls", `{"caller_id":"555"}`, "caller_id"},
	} {
		env.App.Sandbox.ResetCalls()
		if msg := env.Fail(t, c.tool, c.args); !strings.Contains(msg, c.want) {
			t.Errorf("%s %s: %q does not name %s", c.tool, c.args, msg, c.want)
		}
		nrNoCalls(t, env)
	}
}
