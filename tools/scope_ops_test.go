package tools_test

// Org-unit scope of the daily operations toolsets: numbers, routes, SMS
// broadcasts, conversations, account; and Talkdesk record lists, which
// have no org units (see scope_test.go).

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

func TestScopeNumbers(t *testing.T) {
	s := newScoped(t)

	// The account's numbers of other units are left out; the carrier's
	// stock, no unit's, stays.
	search := items(t, s.OK(t, "search_available_numbers", `{"npa":"212","limit":100}`), "numbers")
	carrier := 0
	for _, n := range search {
		if n["needs_order"] == true {
			carrier++
			continue
		}
		t.Errorf("search 212: another unit's number offered: %v", n)
	}
	if carrier == 0 {
		t.Errorf("search 212: the carrier's stock was dropped too")
	}
	own := items(t, s.OK(t, "search_available_numbers", `{"npa":"303","nxx":"555","match":"30355501__","limit":100}`), "numbers")
	if !slices.ContainsFunc(own, func(n map[string]any) bool { return n["number"] == "+13035550102" }) {
		t.Errorf("search 303: West's unused number is missing: %v", own)
	}

	for _, tool := range []string{"list_assigned_numbers", "list_provisioned_numbers"} {
		list := s.OK(t, tool, `{}`)
		nums := items(t, list, "numbers")
		inWest(t, tool, nums, "org_unit_id")
		// Read whole and paged here: the total is the scope's alone, and
		// the answer says nothing of other units' numbers.
		if len(nums) == 0 || fmt.Sprint(list["total"]) != fmt.Sprint(len(nums)) || strings.Contains(fmt.Sprint(list), "left out") {
			t.Errorf("%s: %v", tool, list)
		}
		second := s.OK(t, tool, `{"limit":1,"offset":1}`)
		if got := items(t, second, "numbers"); len(got) != 1 || got[0]["number"] != nums[1]["number"] || fmt.Sprint(second["total"]) != fmt.Sprint(len(nums)) {
			t.Errorf("%s offset 1: %v", tool, second)
		}
	}

	s.refuse(t, "order_phone_number", `{"number":"3035550142","org_unit_id":1002}`)
	confirmToken(t, s.Env, "order_phone_number", `{"number":"3035550142","org_unit_id":1042}`)

	s.refuse(t, "release_phone_number", `{"number":"2125550121"}`, "GET /v3/phone-numbers/assigned")
	s.refuse(t, "release_phone_number", `{"number":"8005550140"}`, "GET /v3/phone-numbers/assigned") // the top unit's
	confirmToken(t, s.Env, "release_phone_number", `{"number":"3035550102"}`)
	// A number the account does not hold has no unit to check: refused.
	s.App.Sandbox.ResetCalls()
	if msg := s.Fail(t, "release_phone_number", `{"number":"9995550100"}`); !strings.Contains(msg, "not assigned to this account") || sentUpstream(s.Env, "DELETE") {
		t.Errorf("unknown number: %s", msg)
	}
}

func TestScopeRoutes(t *testing.T) {
	s := newScoped(t)

	list := s.pinned(t, "list_provisioned_routes", `{}`, "/v3/provisioned-routes")
	routes := items(t, list, "provisioned_routes")
	inWest(t, "list_provisioned_routes", routes, "org_unit_id")
	if got := ids(routes, "provisioned_route_id"); !slices.Contains(got, 7001) || !slices.Contains(got, 7004) {
		t.Errorf("routes pinned to West: %v", got)
	}
	s.refuse(t, "list_provisioned_routes", `{"org_unit_id":1010}`)

	s.OK(t, "get_provisioned_route", `{"id":7001}`)
	s.refuse(t, "get_provisioned_route", `{"id":7005}`, "GET /v3/provisioned-routes/7005")

	s.refuse(t, "create_provisioned_route", `{"provisioned_route_name":"x","phone_number":"2125550121","ring_to":"+12125559000","org_unit_id":1010}`)
	s.OK(t, "create_provisioned_route", `{"provisioned_route_name":"Denver Radio","phone_number":"3035550102","ring_to":"+13035559000","org_unit_id":1042}`)

	s.refuse(t, "update_provisioned_route", `{"id":7005,"ring_to":"+13035559999"}`, "GET /v3/provisioned-routes/7005")
	s.refuse(t, "replace_provisioned_route", `{"id":7007,"provisioned_route_name":"x","phone_number":"8005550140","ring_to":"+13035559999","provisioned_route_status":"active"}`,
		"GET /v3/provisioned-routes/7007")
	s.OK(t, "update_provisioned_route", `{"id":7001,"ring_to":"+13035559999"}`)

	s.refuse(t, "delete_provisioned_route", `{"id":7007}`, "GET /v3/provisioned-routes/7007")
	confirmToken(t, s.Env, "delete_provisioned_route", `{"id":7003}`)
}

func TestScopeBroadcasts(t *testing.T) {
	s := newScoped(t)

	// No org-unit filter upstream: trimmed.
	list := s.OK(t, "list_broadcasts", `{}`)
	bcs := items(t, list, "broadcasts")
	inWest(t, "list_broadcasts", bcs, "org_unit_id")
	if got := ids(bcs, "broadcast_id"); len(got) != 2 || !slices.Contains(got, 3003) || !slices.Contains(got, 3007) || num(list["total"]) != 2 {
		t.Errorf("list_broadcasts: %v", list)
	}

	s.OK(t, "get_broadcast", `{"id":3003}`)
	s.refuse(t, "get_broadcast", `{"id":3006}`, "GET /v3/broadcast/3006")

	s.refuse(t, "update_broadcast", `{"id":3006,"agent_name":"X"}`, "GET /v3/broadcast/3006")
	s.refuse(t, "replace_broadcast", fmt.Sprintf(`{"id":3009,"broadcast_name":"x","message":"x","recipients":["+13035550100"],"from_number":"+13035550100","scheduled_at":%q,"agent_name":"x"}`,
		time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339)), "GET /v3/broadcast/3009")
	s.OK(t, "update_broadcast", `{"id":3007,"agent_name":"Priya P."}`)
	s.refuse(t, "delete_broadcast", `{"id":3006}`, "GET /v3/broadcast/3006")

	// A send naming no unit goes out for the scope's, not the caller's.
	s.refuse(t, "create_broadcast", `{"broadcast_name":"x","message":"hi","recipients":["+13035550100"],"from_number":"+13035550100","org_unit_id":1002}`)
	// Nor from another unit's number, nor moved to one by an edit.
	s.refuse(t, "create_broadcast", `{"broadcast_name":"x","message":"hi","recipients":["+13035550100"],"from_number":"+12125550121"}`, "GET /v3/phone-numbers/assigned")
	s.refuse(t, "update_broadcast", `{"id":3007,"from_number":"+12125550121"}`, "GET /v3/broadcast/3007", "GET /v3/phone-numbers/assigned")
	args := `{"broadcast_name":"West promo","message":"hi","recipients":["+13035550100"],"from_number":"+13035550100"}`
	_, tok := confirmToken(t, s.Env, "create_broadcast", args)
	sent := s.OK(t, "create_broadcast", withToken(args, tok))
	if b := s.OK(t, "get_broadcast", fmt.Sprintf(`{"id":%d}`, num(sent["broadcast_id"]))); num(b["org_unit_id"]) != 1003 {
		t.Errorf("the broadcast was not pinned to 1003: %v", b)
	}
}

func TestScopeConversations(t *testing.T) {
	s := newScoped(t)

	// Every call of the last 30 days the pinned list shows is West's.
	start := time.Now().Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	seen := map[int64]bool{}
	for offset, pages := 0, 0; ; pages++ {
		if pages == 100 {
			t.Fatal("list_calls still offers a next page after 100 pages")
		}
		page := s.pinned(t, "list_calls", fmt.Sprintf(`{"start":%q,"limit":200,"offset":%d}`, start, offset), "/v3/conversations/calls")
		calls := items(t, page, "calls")
		inWest(t, "list_calls", calls, "org_unit_id")
		for _, c := range calls {
			seen[num(c["call_id"])] = true
		}
		if page["next_offset"] == nil {
			break
		}
		offset = int(num(page["next_offset"]))
	}
	s.refuse(t, "list_calls", `{"org_unit_id":1002}`)
	if len(seen) == 0 {
		t.Fatal("no West calls in 30 days")
	}
	// Call ids are 900001 and up: one not in West's list is another unit's.
	var mine, other int64
	for id := int64(900001); id < 900400 && (mine == 0 || other == 0); id++ {
		if seen[id] && mine == 0 {
			mine = id
		}
		if !seen[id] && other == 0 {
			other = id
		}
	}
	if c := s.OK(t, "get_call", fmt.Sprintf(`{"id":%d}`, mine)); !west[num(c["org_unit_id"])] {
		t.Errorf("get_call %d: %v", mine, c)
	}
	s.refuse(t, "get_call", fmt.Sprintf(`{"id":%d}`, other), "GET /v3/conversations/calls")

	// SMS threads say nothing of their org unit: refused, nothing sent.
	if msg := s.refuse(t, "list_sms_conversations", `{}`); !strings.Contains(msg, "names no org unit") {
		t.Errorf("list_sms_conversations: %s", msg)
	}
}

func TestScopeAccount(t *testing.T) {
	s := newScoped(t)

	s.OK(t, "get_profile", `{}`)
	s.OK(t, "list_industries", `{}`)

	// Ad sources belong to units: only West's are shown.
	src := s.OK(t, "list_ad_sources", `{}`)
	if got := ids(items(t, src, "ad_sources"), "ad_source_id"); !slices.Equal(got, []int64{6, 7}) || num(src["total"]) != 2 {
		t.Errorf("list_ad_sources: %v", src)
	}

	s.OK(t, "list_tags", `{"org_unit_id":1042}`)
	s.refuse(t, "list_tags", `{"org_unit_id":1002}`)
	s.refuse(t, "create_tag", `{"tag_name":"x","org_unit_id":1002}`)
	created := s.OK(t, "create_tag", `{"tag_name":"Warranty","org_unit_id":1043}`)

	// update_tag and delete_tags check the unit they name, then find their
	// tags in its list (two reads: its active and its inactive tags); a
	// system tag is the top unit's.
	s.OK(t, "update_tag", `{"tag_id":221,"tag_name":"Service Call","status":"active","org_unit_id":1042}`)
	s.refuse(t, "update_tag", `{"tag_id":211,"tag_name":"x","status":"active","org_unit_id":1002}`)
	s.refuse(t, "update_tag", `{"tag_id":1,"tag_name":"x","status":"active","org_unit_id":1042}`, "GET /v3/tag/1042", "GET /v3/tag/1042")
	if msg := s.refuse(t, "update_tag", `{"tag_id":211,"tag_name":"x","status":"active"}`); !strings.Contains(msg, "names no org unit") {
		t.Errorf("update_tag without org_unit_id: %s", msg)
	}
	s.App.Sandbox.ResetCalls()
	if msg := s.Fail(t, "update_tag", `{"tag_id":211,"tag_name":"x","status":"active","org_unit_id":1042}`); !strings.Contains(msg, "not in org unit 1042's tag list") || sentUpstream(s.Env, "PUT") {
		t.Errorf("a tag named with the wrong unit: %s", msg)
	}

	s.refuse(t, "delete_tags", `{"org_unit_id":1002,"tag_ids":[211]}`)
	s.refuse(t, "delete_tags", `{"org_unit_id":1042,"tag_ids":[221,1]}`, "GET /v3/tag/1042", "GET /v3/tag/1042")
	confirmToken(t, s.Env, "delete_tags", fmt.Sprintf(`{"org_unit_id":1043,"tag_ids":[%d]}`, num(created["tag_id"])))
}

// TestScopeRecordLists: Talkdesk has no org units, so a scoped server
// serves the record lists as they are.
func TestScopeRecordLists(t *testing.T) {
	s := newScoped(t)
	if lists := items(t, s.OK(t, "list_record_lists", `{}`), "record_lists"); len(lists) == 0 {
		t.Error("no record lists")
	}
}

// TestScopeSeveralRoots: with two scope roots, a call naming no unit cannot
// be pinned (reads and writes alike) and asks for one; trimmed lists keep
// both roots' items.
func TestScopeSeveralRoots(t *testing.T) {
	env := testenv.New(t, testenv.Options{Policy: "toolsets: [all]\nscope:\n  org_units: [1003, 1050]\n"})
	for _, c := range []struct{ tool, args string }{
		{"list_calls", `{}`},
		{"list_users", `{}`},
		{"create_broadcast", `{"broadcast_name":"x","message":"hi","recipients":["+13035550100"],"from_number":"+13035550144"}`},
	} {
		env.App.Sandbox.ResetCalls()
		if msg := env.Fail(t, c.tool, c.args); !strings.Contains(msg, "give org_unit_id") {
			t.Errorf("%s: %s", c.tool, msg)
		}
		if calls := upstreamCalls(env); len(calls) != 0 {
			t.Errorf("%s: %v reached the upstream", c.tool, calls)
		}
	}
	env.OK(t, "list_calls", `{"org_unit_id":1051}`)
	got := ids(items(t, env.OK(t, "list_broadcasts", `{}`), "broadcasts"), "broadcast_id")
	slices.Sort(got)
	if !slices.Equal(got, []int64{3003, 3004, 3007, 3008, 3009}) {
		t.Errorf("list_broadcasts under West and Boston Clinic Group: %v", got)
	}
}

// TestScopedSearchIsNoOracle: under a scope, asking about another unit's
// number gets the very answer asking about a number nobody holds gets, so
// digit-by-digit searches learn nothing of other units.
func TestScopedSearchIsNoOracle(t *testing.T) {
	s := newScoped(t)
	for _, tool := range []string{"list_assigned_numbers", "list_provisioned_numbers", "search_available_numbers"} {
		other := testenv.Text(s.Call(t, tool, `{"match":"2125550121"}`)) // another unit's number
		nobody := testenv.Text(s.Call(t, tool, `{"match":"2125550983"}`))
		if other != nobody {
			t.Errorf("%s tells of another unit's numbers:\n%s\nvs nobody's:\n%s", tool, other, nobody)
		}
	}
}
