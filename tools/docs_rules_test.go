package tools_test

// Rules the Convirza docs do not state are not enforced as facts: arguments
// are normalised to what the docs show (E.164 phone numbers, upper-case
// state codes) and lists without a documented maximum get none.

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

// sentQuery reports whether the sandbox got a request for path whose query
// contains want.
func sentQuery(env *testenv.Env, path, want string) bool {
	return slices.ContainsFunc(env.App.Sandbox.Requests(), func(r string) bool {
		return strings.Contains(r, path+"?") && strings.Contains(r, want)
	})
}

// TestGroupStateSentUpperCase: a state code in any case is sent as the docs
// write it (e.g. NY), by create, replace and update alike.
func TestGroupStateSentUpperCase(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	id := env.OK(t, "create_group", `{"org_unit_name":"Boulder Office","org_unit_parent_id":1003,"state":"co"}`)["org_unit_id"]
	state := func() any { return env.OK(t, "get_group", fmt.Sprintf(`{"id":%v}`, id))["state"] }
	if s := state(); s != "CO" {
		t.Errorf("create with state co: stored %v, want CO", s)
	}
	env.OK(t, "update_group", fmt.Sprintf(`{"id":%v,"state":"Wy"}`, id))
	if s := state(); s != "WY" {
		t.Errorf("update with state Wy: stored %v, want WY", s)
	}
	env.OK(t, "replace_group", fmt.Sprintf(`{"id":%v,"org_unit_name":"Boulder Hub","org_unit_ext_id":"","org_unit_parent_id":1003,"address":"","city":"Boulder","state":"ut","zip":"","phone_number":"","industry_id":11}`, id))
	if s := state(); s != "UT" {
		t.Errorf("replace with state ut: stored %v, want UT", s)
	}
}

// TestListGroupsNoInventedMaximum: the docs give list_groups' limit no
// maximum, so a large one is sent as it is.
func TestListGroupsNoInventedMaximum(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	env.App.Sandbox.ResetCalls()
	if out := env.OK(t, "list_groups", `{"limit":500}`); num(out["total"]) == 0 {
		t.Fatalf("limit 500: %v", out)
	}
	if !sentQuery(env, "/groups/list", "limit=500") {
		t.Errorf("limit 500 not sent: %v", env.App.Sandbox.Requests())
	}
}

// TestListLimitsWithoutDocumentedMaximum: webhooks and tags lists document
// no maximum limit; a large one is sent as it is.
func TestListLimitsWithoutDocumentedMaximum(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	cases := []struct{ tool, args, path string }{
		{"list_webhooks", `{"limit":500}`, "/webhooks/list"},
		{"list_tags", `{"org_unit_id":1002,"limit":500}`, "/tag/1002"},
	}
	for _, c := range cases {
		env.App.Sandbox.ResetCalls()
		env.OK(t, c.tool, c.args)
		if !sentQuery(env, c.path, "limit=500") {
			t.Errorf("%s %s: limit 500 not sent: %v", c.tool, c.args, env.App.Sandbox.Requests())
		}
	}
}

// TestVoiceAgentListNoInventedRules: sortBy is any field name (the docs give
// only its default) and org_unit_ids has no maximum length.
func TestVoiceAgentListNoInventedRules(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	env.App.Sandbox.ResetCalls()
	env.OK(t, "list_voice_agents", `{"sortBy":"modified_on","sortOrder":"ASC"}`)
	if !sentQuery(env, "/ai-voice-agents", "sortBy=modified_on") {
		t.Errorf("sortBy not sent: %v", env.App.Sandbox.Requests())
	}
	ids := make([]string, 101)
	for i := range ids {
		ids[i] = fmt.Sprint(2000 + i)
	}
	ids[0] = "1042"
	out := env.OK(t, "list_voice_agents", `{"org_unit_ids":[`+strings.Join(ids, ",")+`]}`)
	if num(out["total"]) == 0 {
		t.Errorf("101 org units, 1042 among them: %v", out)
	}
}

// TestStateCodeSentUpperCase: search_available_numbers sends a state in the
// docs' form (e.g. CA) whatever its case.
func TestStateCodeSentUpperCase(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	env.App.Sandbox.ResetCalls()
	out := env.OK(t, "search_available_numbers", `{"state":"co","limit":5}`)
	if !sentQuery(env, "/phone-numbers/search", "state=CO") {
		t.Errorf("state co not sent as CO: %v", env.App.Sandbox.Requests())
	}
	for _, it := range items(t, out, "numbers") {
		if it["state"] != "CO" {
			t.Errorf("state co found %v", it)
		}
	}
}

// TestCallerIDNormalisedToE164: caller_id is accepted as people write it and
// sent in E.164, 10 digits read as North American; what cannot be read as a
// number is refused before anything is sent.
func TestCallerIDNormalisedToE164(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	for _, in := range []string{"3035550101", "(303) 555-0101", "1-303-555-0101", "+1 303 555 0101", "+13035550101"} {
		env.App.Sandbox.ResetCalls()
		env.OK(t, "list_calls", fmt.Sprintf(`{"caller_id":%q}`, in))
		if !sentQuery(env, "/conversations/calls", "caller_id=%2B13035550101") {
			t.Errorf("caller_id %q not sent as +13035550101: %v", in, env.App.Sandbox.Requests())
		}
	}
	for in, want := range map[string]string{
		"555-0101":     "10 North American digits",
		"0303555010":   "10 North American digits",
		"+0123456789":  "E.164",
		"303555010x":   "caller_id must match",
		"441234567890": "country code",
	} {
		env.App.Sandbox.ResetCalls()
		msg := env.Fail(t, "list_calls", fmt.Sprintf(`{"caller_id":%q}`, in))
		if !strings.Contains(msg, want) || !strings.Contains(msg, "Nothing was sent upstream") {
			t.Errorf("caller_id %q: %s (want %q)", in, msg, want)
		}
		noUpstream(t, env, "caller_id", in)
	}
}

// TestBroadcastNumbersNormalisedToE164: recipients and from_number are
// accepted as people write them and sent in E.164; two spellings of one
// number are refused as a duplicate.
func TestBroadcastNumbersNormalisedToE164(t *testing.T) {
	env := testenv.New(t, testenv.Options{Elicit: testenv.Accept})
	res := env.OK(t, "create_broadcast", `{"broadcast_name":"Now","message":"Doors open at 9.","from_number":"303.555.0100","recipients":["(303) 555-0101","+1 303 555 0102"]}`)
	b := env.OK(t, "get_broadcast", fmt.Sprintf(`{"id":%d}`, num(res["broadcast_id"])))
	if b["from_number"] != "+13035550100" || fmt.Sprint(b["recipients"]) != "[+13035550101 +13035550102]" {
		t.Errorf("sent as %v from %v", b["recipients"], b["from_number"])
	}
	env.OK(t, "update_broadcast", fmt.Sprintf(`{"id":%d,"recipients":["720-555-0199"],"from_number":"13035550144"}`, num(res["broadcast_id"])))
	b = env.OK(t, "get_broadcast", fmt.Sprintf(`{"id":%d}`, num(res["broadcast_id"])))
	if b["from_number"] != "+13035550144" || fmt.Sprint(b["recipients"]) != "[+17205550199]" {
		t.Errorf("updated to %v from %v", b["recipients"], b["from_number"])
	}
	env.App.Sandbox.ResetCalls()
	msg := env.Fail(t, "create_broadcast", `{"broadcast_name":"X","message":"Hi","from_number":"+13035550100","recipients":["3035550101","+13035550101"]}`)
	if !strings.Contains(msg, "recipients[1] is +13035550101 again (recipients[0])") {
		t.Errorf("two spellings of one number: %s", msg)
	}
	noUpstream(t, env, "duplicate spellings")
}
