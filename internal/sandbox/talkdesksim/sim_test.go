package talkdesksim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// server is a simulator served on loopback.
type server struct {
	*Sim
	APIURL, TokenURL string
}

// start serves the Talkdesk simulator alone, not through sandboxenv: the
// tests are of this package, which the sandbox mounts.
func start(t *testing.T) (*server, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)}
	sim := New(Options{Now: clk.Now})
	mux := http.NewServeMux()
	sim.Register(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return &server{Sim: sim, APIURL: hs.URL + Prefix, TokenURL: hs.URL + TokenPath}, clk
}

func tokenReq(t *testing.T, sb *server, id, secret, form string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, sb.TokenURL, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	return doJSON(t, req)
}

func doJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: body %q is not a JSON object", req.Method, req.URL.Path, b)
		}
	}
	return res.StatusCode, m
}

func newToken(t *testing.T, sb *server, scope string) string {
	t.Helper()
	status, m := tokenReq(t, sb, ClientID, ClientSecret, "grant_type=client_credentials&scope="+url.QueryEscape(scope))
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, m)
	}
	if m["expires_in"] != float64(600) || m["token_type"] != "Bearer" {
		t.Fatalf("token answer = %v", m)
	}
	return m["access_token"].(string)
}

func call(t *testing.T, sb *server, tok, method, path, body string) (int, map[string]any) {
	t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = sb.APIURL + path
	}
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return doJSON(t, req)
}

func fieldNames(m map[string]any) string {
	var names []string
	fs, _ := m["fields"].([]any)
	for _, f := range fs {
		names = append(names, f.(map[string]any)["name"].(string))
	}
	return strings.Join(names, ",")
}

func TestTokenGrant(t *testing.T) {
	sb, clk := start(t)
	if status, m := tokenReq(t, sb, ClientID, "wrong", "grant_type=client_credentials&scope=record-lists:manage"); status != 401 || m["error"] != "invalid_client" {
		t.Fatalf("bad secret: %d %v", status, m)
	}
	if status, m := tokenReq(t, sb, ClientID, ClientSecret, "grant_type=password"); status != 400 || m["error"] != "unsupported_grant_type" {
		t.Fatalf("bad grant: %d %v", status, m)
	}
	if status, m := tokenReq(t, sb, ClientID, ClientSecret, "grant_type=client_credentials&scope=users:read"); status != 400 || m["error"] != "invalid_scope" {
		t.Fatalf("bad scope: %d %v", status, m)
	}
	// A token without the scope is refused by the API.
	noScope := newToken(t, sb, "")
	if status, m := call(t, sb, noScope, "GET", "/record-lists", ""); status != 403 || m["code"] == nil || m["fields"] == nil {
		t.Fatalf("no scope: %d %v", status, m)
	}
	tok := newToken(t, sb, "record-lists:manage")
	if status, _ := call(t, sb, tok, "GET", "/record-lists", ""); status != 200 {
		t.Fatalf("fresh token: %d", status)
	}
	clk.Advance(10 * time.Minute)
	if status, m := call(t, sb, tok, "GET", "/record-lists", ""); status != 401 || m["message"] == nil {
		t.Fatalf("expired token: %d %v", status, m)
	}
	if n := sb.TokensIssued(); n != 2 {
		t.Fatalf("issued = %d", n)
	}
}

func TestHALPages(t *testing.T) {
	sb, _ := start(t)
	tok := newToken(t, sb, "record-lists:manage")
	path := "/record-lists/" + WinBackListID + "/records"
	status, m := call(t, sb, tok, "GET", path+"?per_page=50", "")
	if status != 200 || m["total"] != float64(120) || m["count"] != float64(50) || m["page"] != float64(1) || m["per_page"] != float64(50) || m["total_pages"] != float64(3) {
		t.Fatalf("page 1: %d %v", status, m)
	}
	links := m["_links"].(map[string]any)
	for _, k := range []string{"self", "first", "last", "next"} {
		if links[k] == nil {
			t.Errorf("page 1 has no %s link", k)
		}
	}
	if links["prev"] != nil {
		t.Error("page 1 has a prev link")
	}
	next := links["next"].(map[string]any)["href"].(string)
	_, m = call(t, sb, tok, "GET", next, "")
	next = m["_links"].(map[string]any)["next"].(map[string]any)["href"].(string)
	_, m = call(t, sb, tok, "GET", next, "")
	links = m["_links"].(map[string]any)
	if m["page"] != float64(3) || m["count"] != float64(20) || links["next"] != nil || links["prev"] == nil {
		t.Fatalf("last page: %v", m)
	}
	recs := m["_embedded"].(map[string]any)["records"].([]any)
	if r := recs[0].(map[string]any); r["record_list_id"] != WinBackListID || r["external_provider"] != "salesforce" {
		t.Fatalf("record = %v", r)
	}
	if status, m := call(t, sb, tok, "GET", path+"?per_page=101&page=0", ""); status != 400 || fieldNames(m) != "page,per_page" {
		t.Fatalf("bad paging: %d %v", status, m)
	}
	if status, m := call(t, sb, tok, "GET", "/record-lists/nope", ""); status != 404 || m["code"] == nil {
		t.Fatalf("unknown list: %d %v", status, m)
	}
}

func TestBulkDeleteRules(t *testing.T) {
	sb, _ := start(t)
	tok := newToken(t, sb, "record-lists:manage")
	path := "/record-lists/" + SpringCampaignListID + "/records/bulks"
	before := sb.Snapshot()

	status, m := call(t, sb, tok, "DELETE", path, `[{"phone_number":"+13035550101"},{"id":"x"}]`)
	if status != 400 || fieldNames(m) != "[1]" {
		t.Fatalf("mixed styles: %d %v", status, m)
	}
	var items []string
	for i := range 101 {
		items = append(items, fmt.Sprintf(`{"phone_number":"+1%d"}`, i))
	}
	if status, m := call(t, sb, tok, "DELETE", path, "["+strings.Join(items, ",")+"]"); status != 400 || fieldNames(m) != "body" {
		t.Fatalf("101 items: %d %v", status, m)
	}
	if status, _ := call(t, sb, tok, "DELETE", path, `[{"email":"a@b"}]`); status != 400 {
		t.Fatalf("unknown identifier: %d", status)
	}
	if sb.Snapshot() != before {
		t.Fatal("a refused bulk delete changed the state")
	}

	status, m = call(t, sb, tok, "DELETE", path, `[{"phone_number":"+13035550101"},{"phone_number":"+13035550113"},{"phone_number":"+19999"}]`)
	if status != 200 || m["total_deleted"] != float64(2) || m["total_errors"] != float64(1) || m["has_errors"] != true || m["record_list_id"] != SpringCampaignListID {
		t.Fatalf("delete: %d %v", status, m)
	}
	failed := m["_embedded"].(map[string]any)["failed_records"].([]any)
	if len(failed) != 1 || failed[0].(map[string]any)["phone_number"] != "+19999" {
		t.Fatalf("failed_records = %v", failed)
	}
	links := m["_links"].(map[string]any)
	if links["self"] == nil || links["record_list"] == nil {
		t.Fatalf("links = %v", links)
	}
	if got := sb.Phones(SpringCampaignListID); strings.Join(got, ",") != "+13035550102,+13035550104,+13035550105" {
		t.Fatalf("left = %v", got)
	}
}

func TestBulkCreateAndUpdate(t *testing.T) {
	sb, _ := start(t)
	tok := newToken(t, sb, "record-lists:manage")
	path := "/record-lists/" + SpringCampaignListID + "/records/bulks"
	before := sb.Snapshot()
	status, m := call(t, sb, tok, "POST", path, `{"records":[{"phone_numbers":[],"first_name":"","last_name":"x","priority":11,"timezone":"`+strings.Repeat("z", 36)+`","nickname":"x"}]}`)
	if status != 400 || fieldNames(m) == "" {
		t.Fatalf("invalid record: %d %v", status, m)
	}
	for _, f := range []string{"records[0].phone_numbers", "records[0].first_name", "records[0].priority", "records[0].timezone", "records[0].nickname"} {
		if !strings.Contains(fieldNames(m), f) {
			t.Errorf("fields %s lack %s", fieldNames(m), f)
		}
	}
	if sb.Snapshot() != before {
		t.Fatal("a refused create changed the state")
	}
	// The list is unique by phone number: a taken number fails that record only.
	status, m = call(t, sb, tok, "POST", path, `{"records":[
		{"phone_numbers":[{"phone_number":"+13035550101","phone_type":"HOME"}],"first_name":"Dup","last_name":"One"},
		{"phone_numbers":[{"phone_number":"+13035550199","phone_type":"HOME"}],"first_name":"New","last_name":"One"}]}`)
	if status != 201 || m["total_created"] != float64(1) || m["total_errors"] != float64(1) {
		t.Fatalf("create: %d %v", status, m)
	}
	if f := m["_embedded"].(map[string]any)["failed_records"].([]any)[0].(map[string]any); f["index"] != float64(0) || f["message"] == nil {
		t.Fatalf("failed = %v", f)
	}
	if status, m := call(t, sb, tok, "PATCH", path, `[{"op":"add","path":"/records/x","value":{"first_name":"A"}}]`); status != 400 || fieldNames(m) != "[0].op" {
		t.Fatalf("bad op: %d %v", status, m)
	}
	_, page := call(t, sb, tok, "GET", "/record-lists/"+SpringCampaignListID+"/records", "")
	id := page["_embedded"].(map[string]any)["records"].([]any)[1].(map[string]any)["id"].(string)
	status, m = call(t, sb, tok, "PATCH", path, `[{"op":"replace","path":"/records/`+id+`","value":{"last_name":"Carter-Smith","priority":9}},
		{"op":"replace","path":"/records/nope","value":{"last_name":"X"}}]`)
	if status != 200 || m["total_updated"] != float64(1) || m["total_errors"] != float64(1) {
		t.Fatalf("update: %d %v", status, m)
	}
	_, page = call(t, sb, tok, "GET", "/record-lists/"+SpringCampaignListID+"/records", "")
	r := page["_embedded"].(map[string]any)["records"].([]any)[1].(map[string]any)
	if r["last_name"] != "Carter-Smith" || r["priority"] != float64(9) || r["first_name"] != "Ben" {
		t.Fatalf("updated record = %v", r)
	}
}

// The documented Basic authentication carries id and secret as they are;
// the RFC 6749 form-encoded variant is a wrong secret here.
func TestTokenBasicAuthIsNotFormEncoded(t *testing.T) {
	sb, _ := start(t)
	if !strings.ContainsAny(ClientSecret, "+/=") {
		t.Fatal("the demo secret must have characters form-encoding changes")
	}
	form := "grant_type=client_credentials&scope=record-lists:manage"
	if status, m := tokenReq(t, sb, ClientID, ClientSecret, form); status != 200 || m["access_token"] == nil {
		t.Fatalf("raw credentials: %d %v", status, m)
	}
	status, m := tokenReq(t, sb, url.QueryEscape(ClientID), url.QueryEscape(ClientSecret), form)
	if status != 401 || m["error"] != "invalid_client" || !strings.Contains(m["error_description"].(string), "form-encoded") {
		t.Fatalf("form-encoded credentials: %d %v", status, m)
	}
}
