package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
	"github.com/convirza/convirza-mcp/policy"
)

type tdEnv struct {
	sb  *sandbox.Running
	cli *client.Client
	env *testenv.Env
}

// newTDEnv serves the record_lists toolset (testenv) with the client
// options o (protocol, elicitation).
func newTDEnv(t *testing.T, o testenv.Options) *tdEnv {
	t.Helper()
	o.Toolsets = []string{"record_lists"}
	env := testenv.New(t, o)
	return &tdEnv{sb: env.Sandbox, cli: env.Client, env: env}
}

func (e *tdEnv) call(t *testing.T, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := e.cli.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

// ok calls a tool that must succeed and returns its structured result.
func (e *tdEnv) ok(t *testing.T, name string, args map[string]any) map[string]any {
	t.Helper()
	res := e.call(t, name, args)
	if res.IsError {
		t.Fatalf("%s: isError: %s", name, testenv.Text(res))
	}
	return testenv.Structured(t, res)
}

// refused calls a tool that must fail and returns its message.
func (e *tdEnv) refused(t *testing.T, name string, args map[string]any) string {
	t.Helper()
	res := e.call(t, name, args)
	if !res.IsError {
		t.Fatalf("%s: want isError, got %s", name, testenv.Text(res))
	}
	return testenv.Text(res)
}

// writes are the calls that could have changed the sandbox.
func (e *tdEnv) writes() []string {
	var out []string
	for _, c := range e.sb.Calls() {
		if strings.Contains(c, " /talkdesk/") && !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	return out
}

func person(i int) map[string]any {
	return map[string]any{
		"phone_numbers": []any{map[string]any{"phone_number": fmt.Sprintf("+1555000%04d", i), "phone_type": "MOBILE"}},
		"first_name":    fmt.Sprintf("First%d", i),
		"last_name":     fmt.Sprintf("Last%d", i),
		"priority":      1 + i%10,
	}
}

func phonesOf(t *testing.T, listing map[string]any) []string {
	t.Helper()
	var out []string
	recs, _ := listing["records"].([]any)
	for _, r := range recs {
		ph := r.(map[string]any)["phone_numbers"].([]any)[0].(map[string]any)["phone_number"].(string)
		out = append(out, ph)
	}
	return out
}

// The scenario of the issue: create a list, add 5 records, bulk-delete 2 by
// phone number through the token confirmation, and 3 are left. Run in both
// protocol eras.
func TestRecordListsScenarioWithTokenConfirmation(t *testing.T) {
	for _, era := range []struct {
		name     string
		protocol string
	}{
		{"modern", ""},
		{"legacy-2025-06-18", mcp.ProtocolVersion20250618},
	} {
		t.Run(era.name, func(t *testing.T) {
			t.Parallel()
			e := newTDEnv(t, testenv.Options{Protocol: era.protocol})
			created := e.ok(t, "create_record_list", map[string]any{"name": "Opt-out Cleanup"})
			id := created["record_list"].(map[string]any)["id"].(string)

			var records []any
			for i := 1; i <= 5; i++ {
				records = append(records, person(i))
			}
			added := e.ok(t, "create_records", map[string]any{"record_list_id": id, "records": records})
			if added["total_created"] != float64(5) || added["status"] != "created" || added["total_errors"] != float64(0) {
				t.Fatalf("create_records = %v", added)
			}

			args := map[string]any{"record_list_id": id, "phone_numbers": []any{"+15550000002", "+15550000004"}}
			e.sb.ResetCalls()
			first := e.call(t, "delete_records", args)
			if first.IsError {
				t.Fatalf("first call: %s", testenv.Text(first))
			}
			conf := testenv.Structured(t, first)
			wantAction := "Delete 2 of 2 named records (by phone number) from record list 'Opt-out Cleanup' (5 records). Contacts: First2 Last2 (+15550000002); First4 Last4 (+15550000004). Not reversible through the API."
			if conf["status"] != "confirmation_required" || conf["action"] != wantAction || conf["confirmation_token"] == "" || conf["expires_at"] == "" {
				t.Fatalf("first call = %v", conf)
			}
			if w := e.writes(); len(w) != 0 {
				t.Fatalf("the unconfirmed call wrote %v", w)
			}

			args["confirmation_token"] = e.env.Approved(t, conf)
			done := e.ok(t, "delete_records", args)
			if done["status"] != "deleted" || done["total_deleted"] != float64(2) || done["total_errors"] != float64(0) {
				t.Fatalf("confirmed call = %v", done)
			}
			if w := e.writes(); !slices.Equal(w, []string{"DELETE /talkdesk/record-lists/" + id + "/records/bulks"}) {
				t.Fatalf("writes = %v", w)
			}

			listing := e.ok(t, "list_records", map[string]any{"record_list_id": id})
			if listing["total"] != float64(3) || !slices.Equal(phonesOf(t, listing), []string{"+15550000001", "+15550000003", "+15550000005"}) {
				t.Fatalf("left = %v", listing)
			}
			got := e.ok(t, "get_record_list", map[string]any{"id": id})
			if got["records_count"] != float64(3) || got["name"] != "Opt-out Cleanup" {
				t.Fatalf("get_record_list = %v", got)
			}

			// The token was single-use.
			if msg := e.refused(t, "delete_records", args); !strings.Contains(msg, "already used") {
				t.Fatalf("reused token: %s", msg)
			}
		})
	}
}

func TestDeleteRecordsPreviewSaysWhatMatches(t *testing.T) {
	t.Parallel()
	e := newTDEnv(t, testenv.Options{})
	before := e.sb.TalkdeskSnapshot()

	conf := e.ok(t, "delete_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID,
		"phone_numbers": []any{"+13035550101", "+13035550105", "+19995550000"}})
	want := "Delete 2 of 3 named records (by phone number) from record list 'Spring Campaign' (5 records). 1 identifier matches nothing. Contacts: Ava Thompson (+13035550101); Ella Fischer (+13035550105). No record has +19995550000. Not reversible through the API."
	if conf["action"] != want {
		t.Fatalf("action = %q\nwant     %q", conf["action"], want)
	}
	if p := conf["preview"].(map[string]any); p["matched"] != float64(2) || p["records_to_delete"] != float64(2) || !slices.Equal(p["unmatched"].([]any), []any{"+19995550000"}) {
		t.Fatalf("preview = %v", p)
	}

	// One record with two of the named numbers: the sentence says so.
	conf = e.ok(t, "delete_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID,
		"phone_numbers": []any{"+13035550103", "+13035550113"}})
	if a := conf["action"].(string); !strings.Contains(a, "Delete 2 of 2 named records") || !strings.Contains(a, "They are on 1 record in all.") {
		t.Fatalf("action = %q", a)
	}

	// The last record of a 120-record list is found: the preview follows
	// the next links past the first page.
	e.sb.ResetCalls()
	conf = e.ok(t, "delete_records", map[string]any{"record_list_id": sandbox.WinBackListID,
		"external_ids": []any{map[string]any{"external_provider": "salesforce", "external_id": "0000004319AAA"}, map[string]any{"external_provider": "salesforce", "external_id": "003DL0000004319AAA"}}})
	if a := conf["action"].(string); a != "Delete 1 of 2 named records (by external id) from record list 'Win-back Q3' (120 records). 1 identifier matches nothing. Not reversible through the API." {
		t.Fatalf("action = %q", a)
	}
	if n := strings.Count(strings.Join(e.sb.Calls(), "\n"), "GET /talkdesk/record-lists/"+sandbox.WinBackListID+"/records"); n != 2 {
		t.Fatalf("preview read %d pages, want 2", n)
	}

	// Nothing matches: blocked, no token.
	msg := e.refused(t, "delete_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "ids": []any{"no-such-record"}})
	if !strings.Contains(msg, "None of the 1 named record (by id) matches a record of record list 'Spring Campaign' (5 records)") || strings.Contains(msg, "confirmation_token") {
		t.Fatalf("blocked message = %s", msg)
	}
	if e.sb.TalkdeskSnapshot() != before || len(e.writes()) != 0 {
		t.Fatal("previews changed the sandbox")
	}
}

// Calls the docs forbid are refused with a clear isError result and change
// nothing upstream.
func TestRefusedRecordCallsChangeNothing(t *testing.T) {
	t.Parallel()
	e := newTDEnv(t, testenv.Options{})
	before := e.sb.TalkdeskSnapshot()
	var many, phones []any
	for i := range 101 {
		many = append(many, person(i))
		phones = append(phones, fmt.Sprintf("+1555%07d", i))
	}
	name := "X"
	for _, c := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"create_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "records": many}, "records must have between 1 and 100 items; got 101"},
		{"delete_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "phone_numbers": phones}, "phone_numbers must have between 1 and 100 items; got 101"},
		{"delete_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "ids": []any{"a"}, "phone_numbers": []any{"+13035550101"}}, "give exactly one of ids, phone_numbers or external_ids, not ids and phone_numbers"},
		{"delete_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID}, "exactly one of ids, phone_numbers or external_ids"},
		{"delete_records", map[string]any{"record_list_id": "no-such-list", "phone_numbers": []any{"+13035550101"}}, "Record list no-such-list does not exist."},
		{"delete_record_list", map[string]any{"id": "no-such-list"}, "Record list no-such-list does not exist."},
		{"delete_records", map[string]any{"record_list_id": "../groups", "ids": []any{"a"}}, "record_list_id must match"},
		{"update_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "records": []any{map[string]any{"id": "a"}}}, "changes nothing"},
		{"update_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "records": []any{map[string]any{"id": "a", "first_name": name}, map[string]any{"id": "a", "last_name": name}}}, "both change record a"},
		{"create_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "records": []any{map[string]any{
			"phone_numbers": []any{map[string]any{"phone_number": "+1", "phone_type": "PAGER"}}, "first_name": strings.Repeat("n", 81), "last_name": "L", "priority": 11}}},
			"records[0].first_name must be 1 to 80 characters; got 81"},
		{"list_records", map[string]any{"record_list_id": "no-such-list"}, "404 Not Found"},
		{"list_record_lists", map[string]any{"per_page": 101}, "per_page must be between 1 and 100"},
	} {
		msg := e.refused(t, c.tool, c.args)
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s %v:\n%s\nwant it to contain %q", c.tool, c.args, msg, c.want)
		}
	}
	if w := e.writes(); len(w) != 0 {
		t.Fatalf("refused calls wrote %v", w)
	}
	if e.sb.TalkdeskSnapshot() != before {
		t.Fatal("refused calls changed the sandbox")
	}
}

func TestBulkWritesReportPerRecordFailures(t *testing.T) {
	t.Parallel()
	e := newTDEnv(t, testenv.Options{})
	// Spring Campaign is unique by phone number: a taken number fails alone.
	res := e.ok(t, "create_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "records": []any{
		map[string]any{"phone_numbers": []any{map[string]any{"phone_number": "+13035550101"}}, "first_name": "Dup", "last_name": "Licate"},
		map[string]any{"phone_numbers": []any{map[string]any{"phone_number": "+13035550199", "phone_type": "HOME"}}, "first_name": "New", "last_name": "Comer", "timezone": "America/Denver", "extra_data": map[string]any{"source": "web"}},
	}})
	if res["status"] != "partly created" || res["total_created"] != float64(1) || res["total_errors"] != float64(1) || res["message"] != "Created 1 of 2. 1 failed: see failed_records." {
		t.Fatalf("create_records = %v", res)
	}
	if f := res["failed_records"].([]any)[0].(map[string]any); f["index"] != float64(0) || !strings.Contains(f["message"].(string), "+13035550101") {
		t.Fatalf("failure = %v", f)
	}

	listing := e.ok(t, "list_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "per_page": 2, "page": 3})
	if listing["total"] != float64(6) || listing["total_pages"] != float64(3) || listing["count"] != float64(2) || listing["next_page"] != nil {
		t.Fatalf("page 3 = %v", listing)
	}
	first := e.ok(t, "list_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "per_page": 2})
	if first["next_page"] != float64(2) {
		t.Fatalf("page 1 = %v", first)
	}
	ben := first["records"].([]any)[1].(map[string]any)["id"].(string)

	res = e.ok(t, "update_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "records": []any{
		map[string]any{"id": ben, "last_name": "Carter-Smith", "priority": 9},
		map[string]any{"id": "no-such-record", "first_name": "Ghost"},
	}})
	if res["status"] != "partly updated" || res["total_updated"] != float64(1) || res["failed_records"].([]any)[0].(map[string]any)["id"] != "no-such-record" {
		t.Fatalf("update_records = %v", res)
	}
	first = e.ok(t, "list_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "per_page": 2})
	if r := first["records"].([]any)[1].(map[string]any); r["last_name"] != "Carter-Smith" || r["first_name"] != "Ben" || r["priority"] != float64(9) {
		t.Fatalf("after update = %v", r)
	}
}

// elicitor answers every elicitation with a fixed response and keeps the
// messages it was shown.
type elicitor struct {
	mu       sync.Mutex
	messages []string
	answer   mcp.ElicitationResponse
}

func (h *elicitor) Elicit(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.messages = append(h.messages, req.Params.Message)
	return &mcp.ElicitationResult{ElicitationResponse: h.answer}, nil
}

func TestDeleteRecordListThroughElicitation(t *testing.T) {
	t.Parallel()
	decline := &elicitor{answer: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionDecline}}
	e := newTDEnv(t, testenv.Options{Elicit: decline.Elicit})
	res := e.ok(t, "delete_record_list", map[string]any{"id": sandbox.SpringCampaignListID})
	if res["status"] != "declined" || len(e.sb.TalkdeskLists()) != 2 || len(e.writes()) != 0 {
		t.Fatalf("declined: %v, lists %v", res, e.sb.TalkdeskLists())
	}

	accept := &elicitor{answer: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"confirm": true}}}
	e = newTDEnv(t, testenv.Options{Elicit: accept.Elicit})
	res = e.ok(t, "delete_record_list", map[string]any{"id": sandbox.SpringCampaignListID})
	if res["status"] != "deleted" || res["id"] != sandbox.SpringCampaignListID {
		t.Fatalf("accepted: %v", res)
	}
	want := "Delete record list 'Spring Campaign' (5 records, id " + sandbox.SpringCampaignListID + ") and all its records. Not reversible through the API. Confirm?"
	if len(accept.messages) != 1 || accept.messages[0] != want {
		t.Fatalf("asked %q\nwant  %q", accept.messages, want)
	}
	if lists := e.sb.TalkdeskLists(); len(lists) != 1 || lists[0].ID != sandbox.WinBackListID {
		t.Fatalf("lists left = %v", lists)
	}
}

func TestRecordListToolDefinitions(t *testing.T) {
	t.Parallel()
	e := newTDEnv(t, testenv.Options{})
	res, err := e.cli.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]policy.Class{
		"list_record_lists": policy.Read, "get_record_list": policy.Read, "list_records": policy.Read,
		"create_record_list": policy.Write, "create_records": policy.Write, "update_records": policy.Write,
		"delete_record_list": policy.Destructive, "delete_records": policy.Destructive,
	}
	if len(res.Tools) != len(want) {
		t.Fatalf("%d tools, want %d", len(res.Tools), len(want))
	}
	for _, tool := range res.Tools {
		class, ok := want[tool.Name]
		if !ok {
			t.Errorf("unexpected tool %s", tool.Name)
			continue
		}
		a := tool.Annotations
		if a.Title == "" || a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
			t.Errorf("%s: annotations not all set: %+v", tool.Name, a)
			continue
		}
		if *a.ReadOnlyHint != (class == policy.Read) || *a.DestructiveHint != (class == policy.Destructive) {
			t.Errorf("%s: hints %+v do not match class %s", tool.Name, a, class)
		}
		raw, _ := json.Marshal(tool.InputSchema)
		if hasToken := strings.Contains(string(raw), `"confirmation_token"`); hasToken != (class == policy.Destructive) {
			t.Errorf("%s: confirmation_token in schema = %v", tool.Name, hasToken)
		}
	}
}

func TestRecordListToolsWithoutCredentials(t *testing.T) {
	t.Parallel()
	// Against a sandbox of the test's own, not --sandbox's, which would
	// fill in its Talkdesk credentials.
	e := newTDEnv(t, testenv.Options{Sandbox: sandboxenv.Start(t, sandbox.Options{}),
		Configure: func(c *config.Config) { c.Talkdesk = config.Talkdesk{Region: c.Talkdesk.Region} }})
	for _, tool := range []string{"list_record_lists", "delete_record_list"} {
		args := map[string]any{}
		if tool == "delete_record_list" {
			args["id"] = sandbox.SpringCampaignListID
		}
		msg := e.refused(t, tool, args)
		for _, v := range []string{"TALKDESK_ACCOUNT", "TALKDESK_CLIENT_ID", "TALKDESK_CLIENT_SECRET"} {
			if !strings.Contains(msg, v) {
				t.Errorf("%s: %q does not name %s", tool, msg, v)
			}
		}
	}
	if calls := e.sb.Calls(); len(calls) != 0 {
		t.Fatalf("sent %v without credentials", calls)
	}
}

// A delete whose answer is lost after it took effect: the bulk delete is
// not repeated (a repeat would report "none deleted" while the records are
// gone) and the tool says the outcome is unknown; the list delete is
// repeated and its "not found" is reported as done.
func TestDeletesWhoseAnswerIsLost(t *testing.T) {
	t.Parallel()
	e := newTDEnv(t, testenv.Options{})
	confirmed := func(name string, args map[string]any) map[string]any {
		t.Helper()
		conf := e.ok(t, name, args)
		if conf["status"] != "confirmation_required" {
			t.Fatalf("%s: %v", name, conf)
		}
		args["confirmation_token"] = e.env.Approved(t, conf)
		return args
	}

	bulk := "/talkdesk/record-lists/" + sandbox.SpringCampaignListID + "/records/bulks"
	args := confirmed("delete_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "phone_numbers": []any{"+13035550101"}})
	e.sb.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: bulk, Times: 1, DropAnswer: true})
	e.sb.ResetCalls()
	if msg := e.refused(t, "delete_records", args); !strings.Contains(msg, "may or may not have been made") {
		t.Fatalf("lost bulk delete answer: %s", msg)
	}
	if w := e.writes(); !slices.Equal(w, []string{"DELETE " + bulk}) {
		t.Fatalf("writes = %v, want one bulk DELETE", w)
	}
	if slices.Contains(e.sb.TalkdeskPhones(sandbox.SpringCampaignListID), "+13035550101") {
		t.Fatal("the fault should have let the delete happen")
	}
	// A gateway's 504 to the bulk DELETE (it has a body: never repeated)
	// leaves its outcome unknown too, and says so.
	args = confirmed("delete_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "phone_numbers": []any{"+13035550102"}})
	e.sb.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: bulk, Times: 1, Status: http.StatusGatewayTimeout, RetryAfter: "0"})
	e.sb.ResetCalls()
	if msg := e.refused(t, "delete_records", args); !strings.Contains(msg, "504") || !strings.Contains(msg, "may or may not have been made") {
		t.Fatalf("a 504 to the bulk delete: %s", msg)
	}
	if w := e.writes(); !slices.Equal(w, []string{"DELETE " + bulk}) {
		t.Fatalf("writes = %v, want one bulk DELETE", w)
	}

	list := "/talkdesk/record-lists/" + sandbox.WinBackListID
	args = confirmed("delete_record_list", map[string]any{"id": sandbox.WinBackListID})
	e.sb.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: list, Times: 1, DropAnswer: true})
	e.sb.ResetCalls()
	if res := e.ok(t, "delete_record_list", args); res["status"] != "deleted" {
		t.Fatalf("lost list delete answer: %v", res)
	}
	if w := e.writes(); !slices.Equal(w, []string{"DELETE " + list, "DELETE " + list}) {
		t.Fatalf("writes = %v, want the DELETE and its retry", w)
	}
}

// A bulk delete answered 202 with no body is reported as accepted, not as
// an error after Talkdesk took it, nor as "none deleted".
func TestDeleteRecordsAccepted202(t *testing.T) {
	t.Parallel()
	e := newTDEnv(t, testenv.Options{})
	args := map[string]any{"record_list_id": sandbox.SpringCampaignListID, "phone_numbers": []any{"+13035550101"}}
	conf := e.ok(t, "delete_records", args)
	args["confirmation_token"] = e.env.Approved(t, conf)
	e.sb.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: "/talkdesk/record-lists/" + sandbox.SpringCampaignListID + "/records/bulks",
		Times: 1, AnswerStatus: http.StatusAccepted, EmptyBody: true})
	res := e.ok(t, "delete_records", args)
	if res["status"] != "accepted" || !strings.Contains(res["message"].(string), "list_records") {
		t.Fatalf("202: %v", res)
	}
}

// The upstream matches phone numbers as stored: a record stored as
// "(303) 555-0199" is found by any spelling of the number, deleted by its
// id, and the preview names the contact and the number that matched
// nothing.
func TestDeleteRecordsByPhoneResolvesStoredSpellings(t *testing.T) {
	t.Parallel()
	e := newTDEnv(t, testenv.Options{})
	if !e.sb.AddTalkdeskRecord(sandbox.SpringCampaignListID, "Gus", "Odd", "(303) 555-0199") {
		t.Fatal("no Spring Campaign list")
	}
	args := map[string]any{"record_list_id": sandbox.SpringCampaignListID, "phone_numbers": []any{"303.555.0199", "+1 999 555 0000"}}
	conf := e.ok(t, "delete_records", args)
	action, _ := conf["action"].(string)
	for _, want := range []string{"Gus Odd (+13035550199)", "No record has +19995550000"} {
		if !strings.Contains(action, want) {
			t.Errorf("action %q does not say %q", action, want)
		}
	}
	args["confirmation_token"] = e.env.Approved(t, conf)
	e.sb.ResetCalls()
	res := e.ok(t, "delete_records", args)
	if res["status"] != "deleted" || res["total_deleted"] != float64(1) || !slices.Equal(res["unmatched"].([]any), []any{"+19995550000"}) {
		t.Fatalf("delete: %v", res)
	}
	for _, p := range e.sb.TalkdeskPhones(sandbox.SpringCampaignListID) {
		if p == "(303) 555-0199" {
			t.Fatal("the record stored as (303) 555-0199 is still there")
		}
	}

	// A number that is no phone number is refused, naming it.
	msg := e.refused(t, "delete_records", map[string]any{"record_list_id": sandbox.SpringCampaignListID, "phone_numbers": []any{"555-0199"}})
	if !strings.Contains(msg, "555-0199") {
		t.Errorf("refusal %q does not name the number", msg)
	}
}
