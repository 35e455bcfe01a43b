package tools_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

func recipientsJSON(n int) string {
	nums := make([]string, n)
	for i := range nums {
		nums[i] = fmt.Sprintf("+1720555%04d", 1000+i)
	}
	b, _ := json.Marshal(nums)
	return string(b)
}

func TestListAndGetBroadcasts(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})

	res := env.OK(t, "list_broadcasts", `{}`)
	list := items(t, res, "broadcasts")
	if num(res["total"]) != 10 || len(list) != 10 {
		t.Fatalf("demo broadcasts: %v", res)
	}
	statuses := map[string]int{}
	for _, b := range list {
		statuses[b["status"].(string)]++
		if _, ok := b["recipients"]; ok {
			t.Errorf("list carries recipients: %v", b["broadcast_id"])
		}
		if num(b["recipient_count"]) == 0 || b["broadcast_name"] == nil || b["from_number"] == nil {
			t.Errorf("incomplete broadcast: %v", b)
		}
	}
	for _, s := range []string{"sent", "scheduled", "pending", "cancelled"} {
		if statuses[s] == 0 {
			t.Errorf("no %s broadcast in the demo data: %v", s, statuses)
		}
	}
	for _, b := range items(t, env.OK(t, "list_broadcasts", `{"status": "scheduled"}`), "broadcasts") {
		if b["status"] != "scheduled" {
			t.Errorf("status filter let through %v", b["status"])
		}
	}
	found := items(t, env.OK(t, "list_broadcasts", `{"broadcast_name": "spring sale", "agent_name": "smith"}`), "broadcasts")
	if len(found) != 2 {
		t.Errorf("name and agent filters: %v", found)
	}
	week := time.Now().Add(-7 * 24 * time.Hour).UTC().Format(time.RFC3339)
	for _, b := range items(t, env.OK(t, "list_broadcasts", fmt.Sprintf(`{"status": "sent", "start": %q}`, week)), "broadcasts") {
		if b["sent_at"].(string) < week {
			t.Errorf("start filter let through a broadcast sent at %v", b["sent_at"])
		}
	}

	b := env.OK(t, "get_broadcast", `{"id": 3002}`)
	if b["broadcast_name"] != "Spring Sale Kickoff" || num(b["recipient_count"]) != 250 {
		t.Fatalf("get_broadcast 3002: %v", b)
	}
	if got := len(b["recipients"].([]any)); got != 100 || num(b["recipients_not_shown"]) != 150 {
		t.Errorf("recipients shown %d, not shown %v; want 100 and 150", got, b["recipients_not_shown"])
	}
	if b := env.OK(t, "get_broadcast", `{"id": 3008}`); len(b["recipients"].([]any)) != 40 || b["recipients_not_shown"] != nil {
		t.Errorf("small broadcast: %v", b)
	}
	if msg := env.Fail(t, "get_broadcast", `{"id": 99999}`); !strings.Contains(msg, "404") {
		t.Errorf("unknown broadcast: %s", msg)
	}
	env.App.Sandbox.ResetCalls()
	env.Fail(t, "list_broadcasts", `{"status": "draft"}`)
	env.Fail(t, "list_broadcasts", `{"limit": 500}`)
	env.Fail(t, "list_broadcasts", `{"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}`)
	env.Fail(t, "get_broadcast", `{"id": "3002"}`)
	noUpstream(t, env, "bad broadcast reads")
}

func TestCreateBroadcastNeedsConfirmation(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	when := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Hour)
	args := fmt.Sprintf(`{"broadcast_name": "Spring sale reminder", "message": "Spring sale ends Sunday: 20%% off every plan. Reply STOP to opt out.",
		"from_number": "+13035550100", "recipients": %s, "scheduled_at": %q}`, recipientsJSON(250), when.Format(time.RFC3339))

	res := env.OK(t, "create_broadcast", args)
	want := fmt.Sprintf("Send SMS 'Spring sale ends Sunday: 20%%…' from +1 303-555-0100 to 250 recipients at %s. This costs money and cannot be unsent.", when.Format("2006-01-02T15:04Z"))
	if res["status"] != "confirmation_required" || res["action"] != want {
		t.Fatalf("first call: %v\nwant action %q", res, want)
	}
	tok := env.Approved(t, res)
	if tok == "" {
		t.Fatal("no confirmation_token")
	}
	for _, c := range env.App.Sandbox.Calls() {
		if strings.HasPrefix(c, "POST") {
			t.Fatalf("the unconfirmed call sent %s", c)
		}
	}
	if n := num(env.OK(t, "list_broadcasts", `{}`)["total"]); n != 10 {
		t.Fatalf("broadcasts after the unconfirmed call: %d", n)
	}

	// A token for other arguments executes nothing.
	other := strings.Replace(args, "Spring sale reminder", "Other", 1)
	env.App.Sandbox.ResetCalls()
	env.Fail(t, "create_broadcast", other[:len(other)-1]+fmt.Sprintf(`, "confirmation_token": %q}`, tok))
	noUpstream(t, env, "mismatched token")

	confirmed := args[:len(args)-1] + fmt.Sprintf(`, "confirmation_token": %q}`, tok)
	done := env.OK(t, "create_broadcast", confirmed)
	id := num(done["broadcast_id"])
	if done["status"] != "created" || id == 0 || num(done["recipient_count"]) != 250 {
		t.Fatalf("confirmed call: %v", done)
	}
	b := env.OK(t, "get_broadcast", fmt.Sprintf(`{"id": %d}`, id))
	if b["status"] != "scheduled" || b["broadcast_name"] != "Spring sale reminder" || b["from_number"] != "+13035550100" ||
		num(b["recipient_count"]) != 250 || b["agent_name"] != "Avery Admin" || num(b["org_unit_id"]) != 1001 {
		t.Errorf("created broadcast: %v", b)
	}
	if at, _ := time.Parse(time.RFC3339, b["scheduled_at"].(string)); !at.Equal(when) {
		t.Errorf("scheduled_at %v, want %s", b["scheduled_at"], when)
	}
	if msg := env.Fail(t, "create_broadcast", confirmed); !strings.Contains(msg, "already used") {
		t.Errorf("reused token: %s", msg)
	}
	if n := num(env.OK(t, "list_broadcasts", `{}`)["total"]); n != 11 {
		t.Errorf("broadcasts after one confirmed create and one replay: %d", n)
	}
}

func TestCreateBroadcastWithElicitation(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Elicit: testenv.Accept})
	res := env.OK(t, "create_broadcast", `{"broadcast_name": "Now", "message": "Doors open at 9 today.", "from_number": "+13035550100", "recipients": ["+13035550101", "+13035550102"]}`)
	if res["status"] != "created" || res["send_time"] != "now" {
		t.Fatalf("accepted create: %v", res)
	}
	b := env.OK(t, "get_broadcast", fmt.Sprintf(`{"id": %d}`, num(res["broadcast_id"])))
	if b["status"] != "pending" || len(b["recipients"].([]any)) != 2 {
		t.Errorf("unscheduled broadcast: %v", b)
	}
}

func TestCreateBroadcastRefusesBadArguments(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	base := map[string]any{"broadcast_name": "X", "message": "Hi", "from_number": "+13035550100", "recipients": []string{"+13035550101"}}
	cases := []struct {
		change map[string]any
		want   string
	}{
		{map[string]any{"recipients": []string{}}, "between 1 and 10000"},
		{map[string]any{"recipients": []string{"+13035550101", "+13035550101"}}, "duplicate"},
		{map[string]any{"recipients": []string{"555-0101"}}, "recipients[0]"},
		{map[string]any{"message": strings.Repeat("x", 1601)}, "1 to 1600 characters; got 1601"},
		{map[string]any{"message": ""}, "message must not be empty"},
		{map[string]any{"from_number": "0035550100"}, "from_number"},
		{map[string]any{"from_number": nil}, "from_number is required"},
		{map[string]any{"scheduled_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "in the past"},
		{map[string]any{"scheduled_at": "tomorrow"}, "date-time"},
		{map[string]any{"org_unit_id": 0}, "org_unit_id"},
		{map[string]any{"status": "sent"}, "not a known argument"},
		{map[string]any{"broadcast_name": nil}, "broadcast_name"},
	}
	for _, c := range cases {
		args := map[string]any{}
		for k, v := range base {
			args[k] = v
		}
		for k, v := range c.change {
			if v == nil {
				delete(args, k)
			} else {
				args[k] = v
			}
		}
		raw, _ := json.Marshal(args)
		env.App.Sandbox.ResetCalls()
		msg := env.Fail(t, "create_broadcast", string(raw))
		if !strings.Contains(msg, c.want) {
			t.Errorf("%.80v: error %.200q does not mention %q", c.change, msg, c.want)
		}
		noUpstream(t, env, fmt.Sprintf("%.80v", c.change))
	}
	env.App.Sandbox.ResetCalls()
	msg := env.Fail(t, "create_broadcast", fmt.Sprintf(`{"broadcast_name": "X", "message": "Hi", "from_number": "+13035550100", "recipients": %s}`, recipientsJSON(10001)))
	if !strings.Contains(msg, "between 1 and 10000") {
		t.Errorf("10001 recipients: %s", msg)
	}
	noUpstream(t, env, "10001 recipients")
}

func TestReplaceAndUpdateBroadcast(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	when := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Minute).Format(time.RFC3339)

	// A new message costs like a send: confirmed first, nothing changed
	// before.
	edit := `{"id": 3006, "message": "Final 3 days: 25% off. Reply STOP to opt out."}`
	action, tok := confirmToken(t, env, "update_broadcast", edit)
	if !strings.Contains(action, "message 'Final 3 days") || !strings.Contains(action, "250 recipients") {
		t.Errorf("edit preview: %s", action)
	}
	if b := env.OK(t, "get_broadcast", `{"id": 3006}`); b["message"] == "Final 3 days: 25% off. Reply STOP to opt out." {
		t.Fatal("the unconfirmed edit changed the message")
	}
	w := env.OK(t, "update_broadcast", withToken(edit, tok))
	if w["status"] != "updated" || num(w["broadcast_id"]) != 3006 {
		t.Fatalf("update: %v", w)
	}
	b := env.OK(t, "get_broadcast", `{"id": 3006}`)
	if b["message"] != "Final 3 days: 25% off. Reply STOP to opt out." || b["broadcast_name"] != "Spring Sale Final Days" || num(b["recipient_count"]) != 250 {
		t.Errorf("after update: %v", b)
	}

	// A pending broadcast given a time becomes scheduled.
	// A name alone changes nothing anyone receives: no confirmation.
	if w := env.OK(t, "update_broadcast", `{"id": 3006, "broadcast_name": "Spring Sale Final Days"}`); w["status"] != "updated" {
		t.Errorf("rename: %v", w)
	}
	edit = fmt.Sprintf(`{"id": 3008, "scheduled_at": %q}`, when)
	_, tok = confirmToken(t, env, "update_broadcast", edit)
	env.OK(t, "update_broadcast", withToken(edit, tok))
	if b := env.OK(t, "get_broadcast", `{"id": 3008}`); b["status"] != "scheduled" {
		t.Errorf("pending with a time: %v", b["status"])
	}

	edit = fmt.Sprintf(`{"id": 3007, "broadcast_name": "Phoenix Opening", "agent_name": "Sam Standard",
		"message": "We're open in Phoenix!", "recipients": ["+14805550101", "+14805550102"], "from_number": "+14805550146", "scheduled_at": %q}`, when)
	_, tok = confirmToken(t, env, "replace_broadcast", edit)
	env.OK(t, "replace_broadcast", withToken(edit, tok))
	b = env.OK(t, "get_broadcast", `{"id": 3007}`)
	if b["broadcast_name"] != "Phoenix Opening" || b["agent_name"] != "Sam Standard" || b["message"] != "We're open in Phoenix!" ||
		num(b["recipient_count"]) != 2 || b["status"] != "scheduled" {
		t.Errorf("after replace: %v", b)
	}
	if at, _ := time.Parse(time.RFC3339, b["scheduled_at"].(string)); at.Format(time.RFC3339) != when {
		t.Errorf("scheduled_at %v, want %s", b["scheduled_at"], when)
	}

	if msg := env.Fail(t, "update_broadcast", `{"id": 3002, "message": "too late"}`); !strings.Contains(msg, "already sent") {
		t.Errorf("update of a sent broadcast: %s", msg)
	}
	if msg := env.Fail(t, "update_broadcast", `{"id": 3002, "agent_name": "too late"}`); !strings.Contains(msg, "409") || !strings.Contains(msg, "sent") {
		t.Errorf("update of a sent broadcast: %s", msg)
	}
	if msg := env.Fail(t, "update_broadcast", `{"id": 3004, "message": "too late"}`); !strings.Contains(msg, "cancelled") {
		t.Errorf("update of a cancelled broadcast: %s", msg)
	}

	env.App.Sandbox.ResetCalls()
	for _, args := range []string{
		`{"id": 3006}`,
		`{"id": 3006, "recipients": []}`,
		`{"id": 3006, "scheduled_at": "2020-01-01T00:00:00Z"}`,
		`{"id": 3006, "status": "cancelled"}`,
		`{"id": 3007, "broadcast_name": "Only a name"}`,
	} {
		tool := "update_broadcast"
		if strings.Contains(args, "Only a name") {
			tool = "replace_broadcast"
		}
		env.Fail(t, tool, args)
	}
	noUpstream(t, env, "bad edits")
}

func TestDeleteBroadcastCancels(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})

	res := env.OK(t, "delete_broadcast", `{"id": 3006}`)
	action, _ := res["action"].(string)
	if res["status"] != "confirmation_required" || !strings.HasPrefix(action, `Cancel broadcast 3006 "Spring Sale Final Days" to 250 recipients (+1 617-555-0100, +1 617-555-0101, +1 617-555-0102, …), scheduled for `) ||
		!strings.HasSuffix(action, ". It will not be sent and cannot be reactivated through the API.") {
		t.Fatalf("preview: %v", res)
	}
	if b := env.OK(t, "get_broadcast", `{"id": 3006}`); b["status"] != "scheduled" {
		t.Fatalf("the unconfirmed call changed the broadcast: %v", b["status"])
	}
	done := env.OK(t, "delete_broadcast", fmt.Sprintf(`{"id": 3006, "confirmation_token": %q}`, env.Approved(t, res)))
	if done["status"] != "cancelled" {
		t.Fatalf("confirmed cancel: %v", done)
	}
	if b := env.OK(t, "get_broadcast", `{"id": 3006}`); b["status"] != "cancelled" {
		t.Errorf("after cancel: %v", b["status"])
	}

	if res := env.OK(t, "delete_broadcast", `{"id": 3008}`); !strings.Contains(res["action"].(string), "queued to send now") {
		t.Errorf("pending preview: %v", res["action"])
	}

	for id, want := range map[int]string{3002: "already sent", 3006: "already cancelled", 99999: "does not exist"} {
		res := env.Call(t, "delete_broadcast", fmt.Sprintf(`{"id": %d}`, id))
		text := testenv.Text(res)
		if !res.IsError || !strings.Contains(text, want) || strings.Contains(text, "confirmation_token") {
			t.Errorf("delete_broadcast %d: %s (want a blocked refusal mentioning %q)", id, text, want)
		}
	}
	for _, c := range env.App.Sandbox.Calls() {
		if strings.HasPrefix(c, "DELETE") && !strings.HasSuffix(c, "/3006") {
			t.Errorf("a blocked or unconfirmed cancel reached the upstream: %s", c)
		}
	}
}
