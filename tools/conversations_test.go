package tools_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

func TestListCalls(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	now := time.Now()

	res := env.OK(t, "list_calls", `{}`)
	calls := items(t, res, "calls")
	total := num(res["total"])
	if total <= 50 || len(calls) != 50 || num(res["next_offset"]) != 50 {
		t.Fatalf("default page: %d calls of %d, next_offset %v", len(calls), total, res["next_offset"])
	}
	for i, c := range calls {
		ts, err := time.Parse(time.RFC3339, c["call_started"].(string))
		if err != nil || ts.Before(now.Add(-7*24*time.Hour-time.Minute)) || ts.After(now.Add(time.Minute)) {
			t.Fatalf("call %v started %v, outside the last 7 days", c["call_id"], c["call_started"])
		}
		for _, f := range []string{"call_id", "caller_id", "phone_number", "ring_to", "disposition", "org_unit_id", "campaign_id", "provisioned_route_id"} {
			if _, ok := c[f]; !ok {
				t.Errorf("call %v has no %s: %v", c["call_id"], f, c)
			}
		}
		for _, f := range []string{"tags", "call_flow", "recording_url", "transcription"} {
			if _, ok := c[f]; ok {
				t.Errorf("call %v has %s without include", c["call_id"], f)
			}
		}
		if i > 0 && calls[i-1]["call_started"].(string) < c["call_started"].(string) {
			t.Errorf("calls are not newest first at %d", i)
		}
	}

	next := items(t, env.OK(t, "list_calls", `{"offset": 50, "limit": 5}`), "calls")
	if len(next) != 5 || num(next[0]["call_id"]) == num(calls[0]["call_id"]) {
		t.Errorf("second page: %v", next)
	}

	// org_unit_id includes sub-groups.
	res = env.OK(t, "list_calls", `{"org_unit_id": 1002, "limit": 200}`)
	if n := num(res["total"]); n == 0 || n >= total {
		t.Errorf("Sales Division: %d of %d calls", n, total)
	}
	for _, c := range items(t, res, "calls") {
		if ou := num(c["org_unit_id"]); ou != 1002 && ou != 1010 && ou != 1011 {
			t.Errorf("org_unit_id 1002 returned a call of unit %d", ou)
		}
	}

	res = env.OK(t, "list_calls", `{"disposition": ["NO ANSWER", "BUSY"], "limit": 200}`)
	if num(res["total"]) == 0 {
		t.Error("no missed calls in the last 7 days")
	}
	for _, c := range items(t, res, "calls") {
		if d := c["disposition"]; d != "NO ANSWER" && d != "BUSY" {
			t.Errorf("disposition filter let through %v", d)
		}
	}

	// A caller's history, across the last 30 days.
	first := calls[0]
	start := now.Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	res = env.OK(t, "list_calls", fmt.Sprintf(`{"caller_id": %q, "start": %q}`, first["caller_id"], start))
	for _, c := range items(t, res, "calls") {
		if c["caller_id"] != first["caller_id"] {
			t.Errorf("caller_id filter let through %v", c["caller_id"])
		}
	}
	res = env.OK(t, "list_calls", fmt.Sprintf(`{"phone_number": %q, "start": %q, "include": ["tags", "recordings"], "limit": 200}`, first["phone_number"], start))
	recorded := 0
	for _, c := range items(t, res, "calls") {
		if c["phone_number"] != first["phone_number"] {
			t.Errorf("phone_number filter let through %v", c["phone_number"])
		}
		if u, _ := c["recording_url"].(string); u != "" {
			recorded++
			if _, ok := c["recording_details"].(map[string]any)["expires_at"]; !ok {
				t.Errorf("recording without expires_at: %v", c)
			}
		}
	}
	if recorded == 0 {
		t.Error("include recordings gave no recording URL")
	}

	if msg := env.Fail(t, "list_calls", `{"org_unit_id": 9999}`); !strings.Contains(msg, "403") {
		t.Errorf("out-of-scope org unit: %s", msg)
	}
}

func TestListCallsRefusesBadArguments(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	day := 24 * time.Hour
	cases := []struct{ args, want string }{
		{fmt.Sprintf(`{"start": %q, "end": %q}`, ts(-60*day), ts(0)), "at most 31 days"},
		{fmt.Sprintf(`{"start": %q}`, ts(-40*day)), "at most 31 days"},
		{fmt.Sprintf(`{"start": %q, "end": %q}`, ts(0), ts(-day)), "must be after start"},
		{fmt.Sprintf(`{"start": %q}`, ts(day)), "in the future"},
		{`{"start": "last week"}`, "date-time"},
		{`{"limit": 0}`, "limit"},
		{`{"limit": 201}`, "limit"},
		{`{"offset": -1}`, "offset"},
		{`{"org_unit_id": 0}`, "org_unit_id"},
		{`{"provisioned_route_id": 0}`, "provisioned_route_id"},
		{`{"caller_id": "555-0100"}`, "caller_id"},
		{`{"phone_number": "call me"}`, "phone_number"},
		{`{"disposition": ["MAYBE"]}`, "disposition"},
		{`{"disposition": "ANSWERED"}`, "array"},
		{`{"disposition": ["BUSY", "BUSY"]}`, "duplicate"},
		{`{"include": ["audio"]}`, "include"},
		{`{"limit": "ten"}`, "integer"},
		{`{"org": 1002}`, "not a known argument"},
	}
	for _, c := range cases {
		env.App.Sandbox.ResetCalls()
		msg := env.Fail(t, "list_calls", c.args)
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s: error %q does not mention %q", c.args, msg, c.want)
		}
		noUpstream(t, env, c.args)
	}
	// The 31-day limit itself is accepted.
	env.OK(t, "list_calls", fmt.Sprintf(`{"start": %q, "end": %q}`, ts(-31*day), ts(0)))
	env.OK(t, "list_calls", fmt.Sprintf(`{"end": %q}`, ts(-20*day)))
}

func TestGetCall(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	start := time.Now().Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	res := env.OK(t, "list_calls", fmt.Sprintf(`{"start": %q, "disposition": ["ANSWERED"], "include": ["recordings", "transcription"], "limit": 200}`, start))
	var id int64
	for _, c := range items(t, res, "calls") {
		if c["recording_url"] != nil && c["transcription"] != nil {
			id = num(c["call_id"])
			break
		}
	}
	if id == 0 {
		t.Fatal("no answered call with a recording and a transcript in the last 30 days")
	}

	// Single-record mode ignores the window; every block by default.
	env.App.Sandbox.ResetCalls()
	c := env.OK(t, "get_call", fmt.Sprintf(`{"id": %d}`, id))
	if num(c["call_id"]) != id || c["disposition"] != "ANSWERED" {
		t.Fatalf("get_call %d: %v", id, c)
	}
	for _, f := range []string{"custom_sources", "call_flow", "recording_url", "recording_details", "transcription"} {
		if _, ok := c[f]; !ok {
			t.Errorf("get_call without include lacks %s: %v", f, c)
		}
	}
	exp := num(c["recording_details"].(map[string]any)["expires_at"])
	if week := time.Now().Add(7 * 24 * time.Hour).Unix(); exp < week-60 || exp > week+60 {
		t.Errorf("recording expires at %d, want about now + 7 days (%d)", exp, week)
	}
	if text, _ := c["transcription"].(map[string]any)["text"].(string); text == "" {
		t.Errorf("empty transcript: %v", c["transcription"])
	}
	if got := env.App.Sandbox.Calls(); len(got) != 1 || got[0] != "GET /v3/conversations/calls" {
		t.Errorf("upstream calls: %v", got)
	}

	c = env.OK(t, "get_call", fmt.Sprintf(`{"id": %d, "include": ["tags"]}`, id))
	if _, ok := c["call_flow"]; ok {
		t.Errorf("include [tags] still returned call_flow: %v", c)
	}

	if msg := env.Fail(t, "get_call", `{"id": 1}`); !strings.Contains(msg, "no call 1") {
		t.Errorf("unknown call: %s", msg)
	}
	env.App.Sandbox.ResetCalls()
	env.Fail(t, "get_call", `{"id": 0}`)
	env.Fail(t, "get_call", `{}`)
	env.Fail(t, "get_call", `{"id": 5, "include": ["everything"]}`)
	noUpstream(t, env, "bad get_call arguments")
}

func TestListSMSConversations(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})

	res := env.OK(t, "list_sms_conversations", `{}`)
	convs := items(t, res, "conversations")
	if len(convs) != 7 || num(res["total"]) <= 7 || num(res["next_offset"]) != 7 {
		t.Fatalf("default page: %d of %v, next_offset %v", len(convs), res["total"], res["next_offset"])
	}
	for i, c := range convs {
		if c["conversation_status"] != "open" || c["phone_number"] == nil || c["source"] == nil || c["message"] == nil {
			t.Errorf("default (allOpen) returned %v", c)
		}
		if i > 0 && convs[i-1]["conversation_updated"].(string) < c["conversation_updated"].(string) {
			t.Errorf("not latest activity first at %d", i)
		}
	}

	closed := items(t, env.OK(t, "list_sms_conversations", `{"type": "close", "limit": 200}`), "conversations")
	if len(closed) == 0 {
		t.Fatal("no closed threads")
	}
	for _, c := range closed {
		if c["conversation_status"] != "closed" || c["closed_at"] == nil {
			t.Errorf("type close returned %v", c)
		}
	}
	mine := items(t, env.OK(t, "list_sms_conversations", `{"type": "assignedToYou", "limit": 200}`), "conversations")
	if len(mine) == 0 {
		t.Fatal("no thread assigned to the demo admin")
	}
	for _, c := range mine {
		if num(c["ct_user_id"]) != 1 || c["agent"] != "Avery Admin" {
			t.Errorf("assignedToYou returned %v", c)
		}
	}
	for _, c := range items(t, env.OK(t, "list_sms_conversations", `{"type": "unassigned", "limit": 200}`), "conversations") {
		if _, ok := c["ct_user_id"]; ok {
			t.Errorf("unassigned returned %v", c)
		}
	}

	asc := items(t, env.OK(t, "list_sms_conversations", `{"order": "asc", "limit": 200}`), "conversations")
	if !sort.SliceIsSorted(asc, func(i, j int) bool {
		return asc[i]["conversation_updated"].(string) < asc[j]["conversation_updated"].(string)
	}) {
		t.Error("order asc is not oldest first")
	}

	want := closed[0]["phone_number"].(string)
	found := items(t, env.OK(t, "list_sms_conversations", fmt.Sprintf(`{"type": "close", "search": %q}`, want)), "conversations")
	if len(found) == 0 {
		t.Errorf("search %s found nothing", want)
	}
	for _, c := range found {
		if !strings.Contains(strings.Join([]string{c["phone_number"].(string), c["source"].(string), c["source_name"].(string), c["message"].(string)}, " "), want) {
			t.Errorf("search %s returned %v", want, c)
		}
	}

	env.App.Sandbox.ResetCalls()
	for _, args := range []string{
		`{"type": "archived"}`, `{"order": "newest"}`, `{"limit": 201}`,
		fmt.Sprintf(`{"search": %q}`, strings.Repeat("x", 256)),
		`{"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}`,
	} {
		env.Fail(t, "list_sms_conversations", args)
	}
	noUpstream(t, env, "bad list_sms_conversations arguments")
}

// TestConversationsLegacyProtocol runs a read through the 2025-06-18
// protocol path too.
func TestConversationsLegacyProtocol(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Protocol: mcp.ProtocolVersion20250618})
	res := env.Call(t, "list_calls", `{"limit": 3}`)
	if res.IsError {
		t.Fatal(testenv.Text(res))
	}
	var text map[string]any
	if err := json.Unmarshal([]byte(testenv.Text(res)), &text); err != nil || len(text["calls"].([]any)) != 3 {
		t.Errorf("text content is not the compact JSON result: %v %s", err, testenv.Text(res))
	}
}
