package tools_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

// Helpers of the numbers, routes, voice_agents and media tests (prefixed
// nr so they cannot collide with other toolsets' helpers in this package).

// nrBusinessCalls returns the upstream calls other than logins.
func nrBusinessCalls(env *testenv.Env) []string {
	var out []string
	for _, c := range env.App.Sandbox.Calls() {
		if !strings.HasPrefix(c, "POST /oauth/") {
			out = append(out, c)
		}
	}
	return out
}

// nrNoCalls asserts that nothing at all reached the upstream.
func nrNoCalls(t *testing.T, env *testenv.Env) {
	t.Helper()
	if calls := env.App.Sandbox.Calls(); len(calls) != 0 {
		t.Errorf("expected no upstream call, got %v", calls)
	}
}

// nrRejects checks that each call fails with an error mentioning want and
// sends nothing upstream.
func nrRejects(t *testing.T, env *testenv.Env, tool string, cases map[string]string) {
	t.Helper()
	for args, want := range cases {
		env.App.Sandbox.ResetCalls()
		msg := env.Fail(t, tool, args)
		if !strings.Contains(msg, want) {
			t.Errorf("%s %s: error %q does not mention %q", tool, args, msg, want)
		}
		nrNoCalls(t, env)
	}
}

// nrAsk makes the first call of a confirmable tool, checks that it asks for
// confirmation with an action containing each of want and changes nothing,
// and returns the token.
func nrAsk(t *testing.T, env *testenv.Env, tool, args string, want ...string) string {
	t.Helper()
	env.App.Sandbox.ResetCalls()
	out := env.OK(t, tool, args)
	if out["status"] != "confirmation_required" {
		t.Fatalf("%s: first call did not ask for confirmation: %v", tool, out)
	}
	action, _ := out["action"].(string)
	for _, w := range want {
		if !strings.Contains(action, w) {
			t.Errorf("%s: action %q does not contain %q", tool, action, w)
		}
	}
	for _, c := range env.App.Sandbox.Calls() {
		if !strings.HasPrefix(c, "GET ") && !strings.HasPrefix(c, "POST /oauth/") {
			t.Errorf("%s: the unconfirmed call sent %s", tool, c)
		}
	}
	tok := env.Approved(t, out)
	if tok == "" {
		t.Fatalf("%s: no confirmation_token in %v", tool, out)
	}
	return tok
}

// nrConfirm repeats args with the token and returns the result.
func nrConfirm(t *testing.T, env *testenv.Env, tool, args, token string) map[string]any {
	t.Helper()
	return env.OK(t, tool, nrWith(args, "confirmation_token", token))
}

// nrBlocked checks that a confirmable call is refused without a token and
// without any write upstream.
func nrBlocked(t *testing.T, env *testenv.Env, tool, args, want string) {
	t.Helper()
	env.App.Sandbox.ResetCalls()
	res := env.Call(t, tool, args)
	msg := testenv.Text(res)
	if !res.IsError || strings.Contains(msg, "confirmation_token\":") {
		t.Fatalf("%s %s: expected a blocked preview, got %s", tool, args, msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("%s %s: %q does not mention %q", tool, args, msg, want)
	}
	for _, c := range env.App.Sandbox.Calls() {
		if !strings.HasPrefix(c, "GET ") && !strings.HasPrefix(c, "POST /oauth/") {
			t.Errorf("%s: a blocked call sent %s", tool, c)
		}
	}
}

// nrWith adds key: value to a JSON object.
func nrWith(args, key string, value any) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(args), &m); err != nil {
		panic(err)
	}
	m[key] = value
	b, _ := json.Marshal(m)
	return string(b)
}

// nrItems returns the objects under key.
func nrItems(t *testing.T, out map[string]any, key string) []map[string]any {
	t.Helper()
	raw, ok := out[key].([]any)
	if !ok {
		if _, present := out[key]; present {
			t.Fatalf("%s is not a list: %v", key, out)
		}
		return nil
	}
	items := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		items = append(items, r.(map[string]any))
	}
	return items
}

// nrFind returns the item whose field equals value, or nil.
func nrFind(items []map[string]any, field string, value any) map[string]any {
	for _, it := range items {
		if fmt.Sprint(it[field]) == fmt.Sprint(value) {
			return it
		}
	}
	return nil
}

func TestSearchAvailableNumbers(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "search_available_numbers", `{"npa":"303","limit":100}`)
	items := nrItems(t, out, "numbers")
	carrier := nrFind(items, "number", "+13035550142")
	if carrier == nil || carrier["needs_order"] != true || carrier["number_id"] != nil || carrier["source"] != "carrier" || carrier["city"] != "Denver" {
		t.Errorf("carrier number 3035550142: %v", carrier)
	}
	own := nrFind(items, "number", "+13035550102")
	if own == nil || own["needs_order"] != false || fmt.Sprint(own["number_id"]) != "5003" || own["source"] != "inventory" {
		t.Errorf("unused account number 3035550102: %v", own)
	}
	if nrFind(items, "number", "+13035550100") != nil {
		t.Error("a number routes use is not available")
	}
	for _, it := range items {
		if !strings.HasPrefix(it["number"].(string), "+1303") {
			t.Errorf("npa filter let %v through", it["number"])
		}
	}
	if got := nrBusinessCalls(env); !slices.Equal(got, []string{"GET /v3/phone-numbers/search"}) {
		t.Errorf("calls %v", got)
	}

	out = env.OK(t, "search_available_numbers", `{"state":"CO","limit":5}`)
	if out["count"].(float64) != 5 || out["total"].(float64) <= 5 || out["more"] == nil {
		t.Errorf("limit 5 of CO numbers: %v", out)
	}
	out = env.OK(t, "search_available_numbers", `{"match":"%0142"}`)
	if nrFind(nrItems(t, out, "numbers"), "number", "+13035550142") == nil {
		t.Errorf("wildcard match %%0142: %v", out)
	}
	out = env.OK(t, "search_available_numbers", `{"match":"303555014_","rc":"DENVER"}`)
	for _, it := range nrItems(t, out, "numbers") {
		if n := it["number"].(string); !strings.HasPrefix(n, "+1303555014") {
			t.Errorf("match 303555014_ returned %s", n)
		}
	}

	nrRejects(t, env, "search_available_numbers", map[string]string{
		`{"npa":"30"}`:                      "npa",
		`{"nxx":"5555"}`:                    "nxx",
		`{"ocn":"75"}`:                      "ocn",
		`{"match":"303-555"}`:               "match",
		`{"match":"123456789012345678901"}`: "match",
		`{"state":"Colorado"}`:              "state",
		`{"limit":101}`:                     "limit",
		`{"limit":0}`:                       "limit",
		`{"limit":"ten"}`:                   "limit",
		`{"area_code":"303"}`:               "area_code",
	})
}

func TestListAssignedAndProvisionedNumbers(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	items := nrItems(t, env.OK(t, "list_assigned_numbers", `{}`), "numbers")
	used := nrFind(items, "number", "+13035550100")
	if used == nil || used["status"] != "provisioned" || fmt.Sprint(used["provisioned_route_ids"]) != "[7001 7002]" || used["org_unit_name"] != "Denver Office" {
		t.Errorf("3035550100: %v", used)
	}
	if free := nrFind(items, "number", "+13035550102"); free == nil || free["status"] != "assigned" {
		t.Errorf("3035550102: %v", free)
	}
	if nrFind(items, "number", "+13055550170") != nil {
		t.Error("a released number is listed as assigned")
	}
	prov := nrItems(t, env.OK(t, "list_provisioned_numbers", `{"npa":"303"}`), "numbers")
	if nrFind(prov, "number", "+13035550100") == nil || nrFind(prov, "number", "+13035550102") != nil {
		t.Errorf("provisioned 303 numbers: %v", prov)
	}
	out := env.OK(t, "list_assigned_numbers", `{"match":"212*","limit":1}`)
	if out["count"].(float64) != 1 || out["total"].(float64) != 2 {
		t.Errorf("match 212* limit 1: %v", out)
	}
	nrRejects(t, env, "list_assigned_numbers", map[string]string{
		`{"limit":0}`:     "limit",
		`{"match":"abc"}`: "match",
		`{"state":"CO"}`:  "state", // not a filter of this endpoint
		`{"nxx":[555]}`:   "nxx",
	})
	nrRejects(t, env, "list_provisioned_numbers", map[string]string{`{"ocn":"12345"}`: "ocn"})
}

func TestOrderPhoneNumber(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	args := `{"number":"3035550142","org_unit_id":1042}`
	tok := nrAsk(t, env, "order_phone_number", args, `Order +1 303-555-0142 (Denver, CO) for org unit 1042 "Denver Office". This costs money.`)
	// Nothing was bought by asking.
	if it := nrFind(nrItems(t, env.OK(t, "search_available_numbers", `{"match":"3035550142"}`), "numbers"), "number", "+13035550142"); it == nil || it["needs_order"] != true {
		t.Fatalf("after the unconfirmed call: %v", it)
	}
	env.App.Sandbox.ResetCalls()
	out := nrConfirm(t, env, "order_phone_number", args, tok)
	if out["status"] != "ordered" || out["number_id"] == nil {
		t.Fatalf("order: %v", out)
	}
	if got := nrBusinessCalls(env); !slices.Equal(got, []string{"POST /v3/phone-numbers/order"}) {
		t.Errorf("confirmed order sent %v", got)
	}
	held := nrFind(nrItems(t, env.OK(t, "list_assigned_numbers", `{"match":"3035550142"}`), "numbers"), "number", "+13035550142")
	if held == nil || fmt.Sprint(held["org_unit_id"]) != "1042" || fmt.Sprint(held["number_id"]) != fmt.Sprint(out["number_id"]) {
		t.Errorf("ordered number not assigned to 1042: %v", held)
	}
	if it := nrFind(nrItems(t, env.OK(t, "search_available_numbers", `{"match":"3035550142"}`), "numbers"), "number", "+13035550142"); it == nil || it["needs_order"] != false {
		t.Errorf("an ordered, unrouted number is the account's inventory: %v", it)
	}
	// The token was single-use.
	msg := env.Fail(t, "order_phone_number", nrWith(args, "confirmation_token", tok))
	if !strings.Contains(msg, "Nothing was executed") {
		t.Errorf("reused token: %s", msg)
	}
	// Now it is the account's: ordering again is blocked.
	nrBlocked(t, env, "order_phone_number", args, "already the account's")
}

func TestOrderPhoneNumberBlocked(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	nrBlocked(t, env, "order_phone_number", `{"number":"9995550000","org_unit_id":1042}`, "not available from the carrier")
	nrBlocked(t, env, "order_phone_number", `{"number":"3035550100","org_unit_id":1042}`, "already assigned to org unit 1042")
	nrBlocked(t, env, "order_phone_number", `{"number":"3035550102","org_unit_id":1042}`, "no order is needed")
	nrBlocked(t, env, "order_phone_number", `{"number":"3035550142","org_unit_id":9999}`, "Org unit 9999 does not exist")
	nrBlocked(t, env, "order_phone_number", `{"number":"3035550142","org_unit_id":1044}`, "the unit is inactive")
	nrRejects(t, env, "order_phone_number", map[string]string{
		`{"number":"+443035550142","org_unit_id":1042}`:                     "not a North American number",
		`{"number":"3035550142"}`:                                           "org_unit_id",
		`{"number":"3035550142","org_unit_id":0}`:                           "org_unit_id",
		`{"number":"3035550142","org_unit_id":1042,"confirmation_token":7}`: "confirmation_token",
	})
	// A token for one number does not buy another.
	tok := nrAsk(t, env, "order_phone_number", `{"number":"3035550142","org_unit_id":1042}`)
	env.App.Sandbox.ResetCalls()
	env.Fail(t, "order_phone_number", nrWith(`{"number":"3035550142","org_unit_id":1043}`, "confirmation_token", tok))
	if got := nrBusinessCalls(env); len(got) != 0 {
		t.Errorf("a mismatched token sent %v", got)
	}
}

func TestOrderPhoneNumberElicitation(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Elicit: testenv.Accept})
	out := env.OK(t, "order_phone_number", `{"number":"3035550142","org_unit_id":1042}`)
	if out["status"] != "ordered" {
		t.Fatalf("accepted elicitation: %v", out)
	}
}

func TestReleasePhoneNumber(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	args := `{"number":"3035550100"}`
	tok := nrAsk(t, env, "release_phone_number", args,
		`Release +1 303-555-0100 (org unit 1042 "Denver Office"), used by 2 route(s) (7001 "Denver Google Ads", 7002 "Denver Billboard I-25"), which then have no number to track calls on`)
	if r := env.OK(t, "get_provisioned_route", `{"id":7001}`); r["phone_number"] != "+13035550100" || r["provisioned_route_status"] != "active" {
		t.Fatalf("the unconfirmed call changed route 7001: %v", r)
	}
	env.App.Sandbox.ResetCalls()
	out := nrConfirm(t, env, "release_phone_number", args, tok)
	if out["status"] != "released" {
		t.Fatalf("release: %v", out)
	}
	if got := nrBusinessCalls(env); !slices.Equal(got, []string{"DELETE /v3/phone-numbers/number"}) {
		t.Errorf("confirmed release sent %v", got)
	}
	if nrFind(nrItems(t, env.OK(t, "list_assigned_numbers", `{}`), "numbers"), "number", "+13035550100") != nil {
		t.Error("released number still assigned")
	}
	if nrFind(nrItems(t, env.OK(t, "list_provisioned_numbers", `{}`), "numbers"), "number", "+13035550100") != nil {
		t.Error("released number still provisioned")
	}
	for _, id := range []int{7001, 7002} {
		r := env.OK(t, "get_provisioned_route", fmt.Sprintf(`{"id":%d}`, id))
		if r["phone_number"] != nil || r["provisioned_route_status"] != "inactive" {
			t.Errorf("route %d after release: %v", id, r)
		}
	}
	if nrFind(nrItems(t, env.OK(t, "search_available_numbers", `{"match":"3035550100"}`), "numbers"), "number", "+13035550100") != nil {
		t.Error("a released number is offered again")
	}
	nrBlocked(t, env, "release_phone_number", args, "not assigned to this account")
}

func TestReleaseUnroutedNumber(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	tok := nrAsk(t, env, "release_phone_number", `{"number":"3035550102"}`, "used by no route")
	nrConfirm(t, env, "release_phone_number", `{"number":"3035550102"}`, tok)
	nrBlocked(t, env, "release_phone_number", `{"number":"3035550142"}`, "not assigned to this account")
	nrRejects(t, env, "release_phone_number", map[string]string{
		`{}`:                      "number",
		`{"number":"303-555-01"}`: "number",
		`{"number":3035550102}`:   "number",
	})
}

// The legacy protocol era, with a client that confirms through elicitation.
func TestReleasePhoneNumberLegacyElicitation(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Elicit: testenv.Accept, Protocol: mcp.ProtocolVersion20250618})
	if out := env.OK(t, "release_phone_number", `{"number":"2125550121"}`); out["status"] != "released" {
		t.Fatalf("release: %v", out)
	}
	if nrFind(nrItems(t, env.OK(t, "list_assigned_numbers", `{"npa":"212"}`), "numbers"), "number", "+12125550121") != nil {
		t.Error("still assigned after release")
	}
	declined := testenv.New(t, testenv.Options{Elicit: testenv.Answer(mcp.ElicitationResponseActionDecline, nil), Protocol: mcp.ProtocolVersion20250618})
	if out := declined.OK(t, "release_phone_number", `{"number":"2125550121"}`); out["status"] != "declined" {
		t.Errorf("declined: %v", out)
	}
	if nrFind(nrItems(t, declined.OK(t, "list_assigned_numbers", `{"npa":"212"}`), "numbers"), "number", "+12125550121") == nil {
		t.Error("a declined release released the number")
	}
}

// org_unit_id: that unit's numbers and its sub-groups', filtered by the
// server (the endpoints cannot), paged by offset.
func TestNumbersByOrgUnitWithOffset(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	for _, tool := range []string{"list_assigned_numbers", "list_provisioned_numbers"} {
		all := nrItems(t, env.OK(t, tool, `{"org_unit_id":1003}`), "numbers")
		if len(all) < 2 {
			t.Fatalf("%s West: %v", tool, all)
		}
		for _, n := range all {
			if u := fmt.Sprint(n["org_unit_id"]); u != "1042" && u != "1043" && u != "1044" && u != "1003" {
				t.Errorf("%s West: a number of %s: %v", tool, u, n)
			}
		}
		page := env.OK(t, tool, `{"org_unit_id":1003,"limit":1,"offset":1}`)
		got := nrItems(t, page, "numbers")
		if len(got) != 1 || got[0]["number"] != all[1]["number"] || page["total"] != float64(len(all)) {
			t.Errorf("%s West offset 1: %v", tool, page)
		}
		if len(all) > 2 && page["next_offset"] != float64(2) {
			t.Errorf("%s West offset 1: no next_offset: %v", tool, page)
		}
	}
	for _, n := range nrItems(t, env.OK(t, "list_assigned_numbers", `{"org_unit_id":1060}`), "numbers") {
		if n["org_unit_id"] != float64(1060) {
			t.Errorf("Tier 1 Support: %v", n)
		}
	}
}
