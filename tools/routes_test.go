package tools_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
)

func TestListProvisionedRoutes(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "list_provisioned_routes", `{}`)
	items := nrItems(t, out, "provisioned_routes")
	if out["total"].(float64) != 10 || len(items) != 10 {
		t.Errorf("default list: total %v, %d items", out["total"], len(items))
	}
	if nrFind(items, "provisioned_route_id", 7010) != nil {
		t.Error("a deleted route is listed by default")
	}
	r := nrFind(items, "provisioned_route_id", 7001)
	if r == nil || r["provisioned_route_name"] != "Denver Google Ads" || r["phone_number"] != "+13035550100" || r["ring_to"] != "+13035559000" || fmt.Sprint(r["org_unit_id"]) != "1042" {
		t.Errorf("route 7001: %v", r)
	}
	if got := nrBusinessCalls(env); !slices.Equal(got, []string{"GET /v3/provisioned-routes"}) {
		t.Errorf("calls %v", got)
	}

	// West (1003) and its offices.
	west := nrItems(t, env.OK(t, "list_provisioned_routes", `{"org_unit_id":1003,"orderBy":"provisioned_route_name","order":"DESC"}`), "provisioned_routes")
	var names []string
	for _, it := range west {
		names = append(names, it["provisioned_route_name"].(string))
	}
	if want := []string{"Salt Lake Radio Spot", "Phoenix Yelp Listing", "Denver Google Ads", "Denver Direct Mail", "Denver Billboard I-25"}; !slices.Equal(names, want) {
		t.Errorf("West by name DESC: %v, want %v", names, want)
	}
	out = env.OK(t, "list_provisioned_routes", `{"limit":4,"offset":4}`)
	if out["count"].(float64) != 4 || out["next_offset"].(float64) != 8 {
		t.Errorf("page 2: %v", out)
	}
	del := nrItems(t, env.OK(t, "list_provisioned_routes", `{"provisioned_route_status":"deleted"}`), "provisioned_routes")
	if len(del) != 1 || fmt.Sprint(del[0]["provisioned_route_id"]) != "7010" {
		t.Errorf("deleted routes: %v", del)
	}
	byNumber := nrItems(t, env.OK(t, "list_provisioned_routes", `{"phone_number":"3035550100","provisioned_route_name":"denver"}`), "provisioned_routes")
	if len(byNumber) != 2 {
		t.Errorf("routes of 3035550100: %v", byNumber)
	}

	nrRejects(t, env, "list_provisioned_routes", map[string]string{
		`{"limit":501}`:                         "limit",
		`{"offset":-1}`:                         "offset",
		`{"orderBy":"ring_to"}`:                 "orderBy",
		`{"order":"asc"}`:                       "order",
		`{"provisioned_route_status":"paused"}`: "provisioned_route_status",
		`{"org_unit_id":"West"}`:                "org_unit_id",
	})
}

func TestGetProvisionedRoute(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	r := env.OK(t, "get_provisioned_route", `{"id":7008}`)
	if r["provisioned_route_name"] != "Austin Support Line" || r["provisioned_route_status"] != "referral" || r["created_on"] == nil {
		t.Errorf("route 7008: %v", r)
	}
	if msg := env.Fail(t, "get_provisioned_route", `{"id":9999}`); !strings.Contains(msg, "404") {
		t.Errorf("unknown route: %s", msg)
	}
	nrRejects(t, env, "get_provisioned_route", map[string]string{`{"id":0}`: "id", `{}`: "id"})
}

func TestCreateProvisionedRoute(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "create_provisioned_route", `{"provisioned_route_name":"Denver Radio","phone_number":"3035550102","ring_to":"+13035559002","org_unit_id":1042}`)
	id := out["provisioned_route_id"]
	if out["status"] != "created" || id == nil {
		t.Fatalf("create: %v", out)
	}
	r := env.OK(t, "get_provisioned_route", fmt.Sprintf(`{"id":%v}`, id))
	if r["provisioned_route_name"] != "Denver Radio" || r["phone_number"] != "+13035550102" || r["provisioned_route_status"] != "active" || fmt.Sprint(r["org_unit_id"]) != "1042" {
		t.Errorf("created route: %v", r)
	}
	if nrFind(nrItems(t, env.OK(t, "list_provisioned_numbers", `{}`), "numbers"), "number", "+13035550102") == nil {
		t.Error("the route's number is not provisioned")
	}

	// The number must be the org unit's, and free of other active routes.
	for args, want := range map[string]string{
		`{"provisioned_route_name":"X","phone_number":"2125550121","ring_to":"3035559002","org_unit_id":1042}`: "assigned to org unit 1010, not 1042",
		`{"provisioned_route_name":"X","phone_number":"3035550142","ring_to":"3035559002","org_unit_id":1042}`: "order it",
		`{"provisioned_route_name":"X","phone_number":"3035550101","ring_to":"3035559002","org_unit_id":1042}`: "already has an active route (7003",
		`{"provisioned_route_name":"X","phone_number":"3035550101","ring_to":"3035559002","org_unit_id":9999}`: "org unit 9999",
	} {
		if msg := env.Fail(t, "create_provisioned_route", args); !strings.Contains(msg, want) {
			t.Errorf("%s: %q does not mention %q", args, msg, want)
		}
	}
	// An inactive second route on a number is allowed.
	env.OK(t, "create_provisioned_route", `{"provisioned_route_name":"Denver Mail B","phone_number":"3035550101","ring_to":"3035559002","org_unit_id":1042,"provisioned_route_status":"inactive"}`)

	nrRejects(t, env, "create_provisioned_route", map[string]string{
		`{"phone_number":"3035550102","ring_to":"3035559002","org_unit_id":1042}`:                                                                   "provisioned_route_name",
		`{"provisioned_route_name":"X","phone_number":"303555010","ring_to":"3035559002","org_unit_id":1042}`:                                       "phone_number",
		`{"provisioned_route_name":"X","phone_number":"3035550102","ring_to":"call me","org_unit_id":1042}`:                                         "ring_to",
		`{"provisioned_route_name":"X","phone_number":"3035550102","ring_to":"3035559002","org_unit_id":1042,"provisioned_route_status":"deleted"}`: "provisioned_route_status",
		`{"provisioned_route_name":"","phone_number":"3035550102","ring_to":"3035559002","org_unit_id":1042}`:                                       "provisioned_route_name",
	})
}

func TestReplaceAndUpdateProvisionedRoute(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	out := env.OK(t, "replace_provisioned_route", `{"id":7003,"provisioned_route_name":"Denver Mailers","phone_number":"3035550101","ring_to":"+13035559999","provisioned_route_status":"suspended"}`)
	if out["status"] != "replaced" {
		t.Fatalf("replace: %v", out)
	}
	r := env.OK(t, "get_provisioned_route", `{"id":7003}`)
	if r["provisioned_route_name"] != "Denver Mailers" || r["ring_to"] != "+13035559999" || r["provisioned_route_status"] != "suspended" {
		t.Errorf("after replace: %v", r)
	}
	env.OK(t, "update_provisioned_route", `{"id":7003,"ring_to":"3035551234"}`)
	r = env.OK(t, "get_provisioned_route", `{"id":7003}`)
	if r["ring_to"] != "+13035551234" || r["provisioned_route_name"] != "Denver Mailers" {
		t.Errorf("after update: %v", r)
	}
	// Move the route to the org unit's unused number.
	env.OK(t, "update_provisioned_route", `{"id":7003,"phone_number":"3035550102","provisioned_route_status":"active"}`)
	if r = env.OK(t, "get_provisioned_route", `{"id":7003}`); r["phone_number"] != "+13035550102" {
		t.Errorf("after moving the number: %v", r)
	}
	if msg := env.Fail(t, "update_provisioned_route", `{"id":7002,"provisioned_route_status":"active"}`); !strings.Contains(msg, "already has an active route (7001") {
		t.Errorf("second active route on a number: %s", msg)
	}
	nrRejects(t, env, "update_provisioned_route", map[string]string{
		`{"id":7003}`:                      "at least one field",
		`{"id":7003,"org_unit_id":1043}`:   "org_unit_id",
		`{"id":7003,"phone_number":"abc"}`: "phone_number",
	})
	nrRejects(t, env, "replace_provisioned_route", map[string]string{
		`{"id":7003,"provisioned_route_name":"X","phone_number":"3035550101","ring_to":"3035559999"}`: "provisioned_route_status",
	})
}

func TestDeleteProvisionedRoute(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	tok := nrAsk(t, env, "delete_provisioned_route", `{"id":7004}`,
		`Delete route 7004 "Phoenix Yelp Listing" (active, +1 602-555-0110, ringing +16025559010)`)
	if r := env.OK(t, "get_provisioned_route", `{"id":7004}`); r["provisioned_route_status"] != "active" {
		t.Fatalf("the unconfirmed call deleted the route: %v", r)
	}
	env.App.Sandbox.ResetCalls()
	if out := nrConfirm(t, env, "delete_provisioned_route", `{"id":7004}`, tok); out["status"] != "deleted" {
		t.Fatalf("delete: %v", out)
	}
	if got := nrBusinessCalls(env); !slices.Equal(got, []string{"DELETE /v3/provisioned-routes/7004"}) {
		t.Errorf("confirmed delete sent %v", got)
	}
	if r := env.OK(t, "get_provisioned_route", `{"id":7004}`); r["provisioned_route_status"] != "deleted" {
		t.Errorf("after delete: %v", r)
	}
	// Its number stays the account's, now unused.
	if n := nrFind(nrItems(t, env.OK(t, "list_assigned_numbers", `{"npa":"602"}`), "numbers"), "number", "+16025550110"); n == nil || n["status"] != "assigned" {
		t.Errorf("number of the deleted route: %v", n)
	}
	nrBlocked(t, env, "delete_provisioned_route", `{"id":7004}`, "already deleted")
	nrBlocked(t, env, "delete_provisioned_route", `{"id":9999}`, "does not exist")
}

// A DELETE whose answer is lost after it took effect is retried; the
// retry's "not found" is reported as done, verified by reading the route
// again, never as "route not found".
func TestDeleteRouteWhoseAnswerIsLost(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	tok := nrAsk(t, env, "delete_provisioned_route", `{"id":7003}`)
	env.App.Sandbox.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: "/v3/provisioned-routes/7003", Times: 1, DropAnswer: true})
	env.App.Sandbox.ResetCalls()
	out := nrConfirm(t, env, "delete_provisioned_route", `{"id":7003}`, tok)
	if out["status"] != "deleted" || !strings.Contains(fmt.Sprint(out["note"]), "already gone after a retry") ||
		!strings.Contains(fmt.Sprint(out["verified"]), "it is gone") {
		t.Fatalf("lost delete answer: %v", out)
	}
	if got := nrBusinessCalls(env); !slices.Equal(got, []string{"DELETE /v3/provisioned-routes/7003", "DELETE /v3/provisioned-routes/7003", "GET /v3/provisioned-routes/7003"}) {
		t.Errorf("calls: %v (want the delete, its retry, and the verifying read)", got)
	}
}
