package tools_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

// bulkStatuses are the item statuses of a bulk answer, in order.
func bulkStatuses(t *testing.T, out map[string]any) []string {
	t.Helper()
	var st []string
	for _, it := range nrItems(t, out, "items") {
		st = append(st, fmt.Sprint(it["item"], ":", it["status"]))
	}
	return st
}

// One preview lists every route, one confirmation runs them all, and the
// answer has an outcome per route.
func TestBulkDeleteRoutesOneConfirmation(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	args := `{"ids":[7001,7002,7003]}`
	tok := nrAsk(t, env, "delete_provisioned_route", args, "Delete 3 routes", `route 7001 "Denver Google Ads"`, "route 7002", "route 7003")
	out := nrConfirm(t, env, "delete_provisioned_route", args, tok)
	if out["status"] != "done" || fmt.Sprint(bulkStatuses(t, out)) != "[7001:done 7002:done 7003:done]" {
		t.Fatalf("bulk delete: %v", out)
	}
	for _, id := range []int{7001, 7002, 7003} {
		if r := env.OK(t, "get_provisioned_route", fmt.Sprintf(`{"id":%d}`, id)); r["provisioned_route_status"] != "deleted" {
			t.Errorf("route %d: %v", id, r)
		}
	}
}

// Any blocked item refuses the whole call before anyone is asked, naming
// each blocked item: a confirmation always covers exactly what runs.
func TestBulkDeleteRefusedWhenAnyItemIsBlocked(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	nrBlocked(t, env, "delete_provisioned_route", `{"ids":[7001,7010,99999]}`, "2 of the 3 routes cannot be deleted, so none is")
	msg := testenv.Text(env.Call(t, "delete_provisioned_route", `{"ids":[7001,7010,99999]}`))
	for _, want := range []string{"route 7010", "already deleted", "99999 does not exist"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q does not say %q", msg, want)
		}
	}
	nrRejects(t, env, "delete_provisioned_route", map[string]string{
		`{}`:                       "exactly one of id",
		`{"id":7001,"ids":[7002]}`: "exactly one of id",
		`{"ids":[]}`:               "ids",
		`{"ids":[7001,7001]}`:      "ids",
		`{"ids":[0]}`:              "ids",
	})
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprint(8000 + i)
	}
	nrRejects(t, env, "delete_user", map[string]string{`{"ids":[` + strings.Join(many, ",") + `]}`: "ids"})
}

// An item the upstream refuses fails alone; the answer says which items
// changed.
func TestBulkDeletePartlyDone(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	args := `{"ids":[12350,12351,12352]}`
	tok := nrAsk(t, env, "delete_user", args, "Delete 3 users")
	env.App.Sandbox.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: "/v3/users/12351", Times: 1, Status: http.StatusConflict})
	out := nrConfirm(t, env, "delete_user", args, tok)
	if out["status"] != "partly done" || fmt.Sprint(bulkStatuses(t, out)) != "[12350:done 12351:failed 12352:done]" || !strings.Contains(fmt.Sprint(out["summary"]), "2 of 3 done, 1 failed") {
		t.Fatalf("partly done: %v", out)
	}
	if u := env.OK(t, "get_user", `{"id":12351}`); u["user_status"] == "deleted" {
		t.Errorf("the failed item changed: %v", u)
	}
}

// When the upstream cannot be reached, the rest is not tried and said so.
func TestBulkDeleteStopsWhenUpstreamUnreachable(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	args := `{"ids":[2,3]}`
	tok := nrAsk(t, env, "delete_webhook", args, "Delete 2 webhooks")
	env.App.Sandbox.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: "/v3/webhooks/2", Reset: true})
	out := nrConfirm(t, env, "delete_webhook", args, tok)
	if out["status"] != "none done" || fmt.Sprint(bulkStatuses(t, out)) != "[2:failed 3:not_done]" {
		t.Fatalf("unreachable: %v", out)
	}
}

func TestBulkReleaseNumbers(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	args := `{"numbers":["303-555-0102","(212) 555-0121"]}`
	tok := nrAsk(t, env, "release_phone_number", args, "Release 2 numbers", "+1 303-555-0102", "+1 212-555-0121")
	out := nrConfirm(t, env, "release_phone_number", args, tok)
	if out["status"] != "done" || fmt.Sprint(bulkStatuses(t, out)) != "[+13035550102:done +12125550121:done]" {
		t.Fatalf("bulk release: %v", out)
	}
	nrBlocked(t, env, "release_phone_number", `{"numbers":["3035550100","3035550142"]}`, "+1 303-555-0142 is not assigned")
	nrRejects(t, env, "release_phone_number", map[string]string{
		`{"numbers":["3035550100","+1 303 555 0100"]}`:     "again",
		`{"number":"3035550100","numbers":["3035550101"]}`: "exactly one of number",
	})
}
