package tools_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

// TestDemoAccountAgrees walks the sandbox's demo account through the tools
// an assistant would use and checks that they tell one story: every call's
// tracking number is an assigned number of the call's org unit, its route
// exists, routes that number for that unit and rings the call's ring-to
// number, its org unit is in the group tree, and every active route's
// number has calls.
func TestDemoAccountAgrees(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})

	units := map[int64]bool{}
	var walk func(groups []any)
	walk = func(groups []any) {
		for _, g := range groups {
			m, _ := g.(map[string]any)
			units[num(m["org_unit_id"])] = true
			kids, _ := m["children"].([]any)
			walk(kids)
		}
	}
	tree := env.OK(t, "get_group_tree", `{}`)
	groups, _ := tree["groups"].([]any)
	walk(groups)
	if len(units) < 10 {
		t.Fatalf("group tree has %d units", len(units))
	}

	routes := map[int64]map[string]any{}
	for off := 0; ; off += 100 {
		page := env.OK(t, "list_provisioned_routes", fmt.Sprintf(`{"limit": 100, "offset": %d}`, off))
		for _, r := range items(t, page, "provisioned_routes") {
			routes[num(r["provisioned_route_id"])] = r
		}
		if page["next_offset"] == nil {
			break
		}
	}
	numbers := map[string]map[string]any{}
	for _, n := range items(t, env.OK(t, "list_assigned_numbers", `{"limit": 500}`), "numbers") {
		numbers[digitsOf(n["number"])] = n
	}

	callsOn := map[string]int{}
	start := time.Now().Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	total := 0
	for off := 0; ; off += 200 {
		page := env.OK(t, "list_calls", fmt.Sprintf(`{"start": %q, "limit": 200, "offset": %d}`, start, off))
		for _, c := range items(t, page, "calls") {
			total++
			id, ou, tn := c["call_id"], num(c["org_unit_id"]), digitsOf(c["phone_number"])
			callsOn[tn]++
			if !units[ou] {
				t.Errorf("call %v: org unit %d is not in the group tree", id, ou)
			}
			n := numbers[tn]
			switch {
			case n == nil:
				t.Errorf("call %v: tracking number %v is not an assigned number", id, c["phone_number"])
			case num(n["org_unit_id"]) != ou:
				t.Errorf("call %v: number %v belongs to unit %v, the call to %d", id, c["phone_number"], n["org_unit_id"], ou)
			}
			r := routes[num(c["provisioned_route_id"])]
			switch {
			case r == nil:
				t.Errorf("call %v: route %v does not exist", id, c["provisioned_route_id"])
			case digitsOf(r["phone_number"]) != tn || num(r["org_unit_id"]) != ou || digitsOf(r["ring_to"]) != digitsOf(c["ring_to"]):
				t.Errorf("call %v (%v, unit %d, ring-to %v) disagrees with its route %v", id, c["phone_number"], ou, c["ring_to"], r)
			}
		}
		if page["next_offset"] == nil {
			break
		}
	}
	if total < 300 {
		t.Errorf("%d calls in the last 30 days, want the few hundred the demo seeds", total)
	}
	for _, r := range routes {
		if r["provisioned_route_status"] == "active" && callsOn[digitsOf(r["phone_number"])] == 0 {
			t.Errorf("active route %v (%v) has no calls", r["provisioned_route_id"], r["phone_number"])
		}
	}
}

// digitsOf keeps the national digits of a phone number: +13035550100 and
// 3035550100 compare equal.
func digitsOf(v any) string {
	s, _ := v.(string)
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	return d
}
