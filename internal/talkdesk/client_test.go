package talkdesk

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/schemas"
)

type env struct {
	sb    *sandbox.Running
	c     *Client
	clock *sandbox.Clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := sandbox.NewClock(time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC))
	sb := sandboxenv.Start(t, sandbox.Options{Now: clk.Now})
	transport := &http.Transport{}
	// Runs before the sandbox's Close: connections dialed for concurrent
	// callers but never used would hold its graceful shutdown for seconds.
	t.Cleanup(transport.CloseIdleConnections)
	hc := upstream.New(&http.Client{Transport: transport}, upstream.Policy{Timeout: 10 * time.Second}, nil)
	hc.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() } // no real waiting between retries
	c := New(Config{
		ClientID: sandbox.TalkdeskClientID, ClientSecret: sandbox.TalkdeskClientSecret,
		APIURL: sb.TalkdeskAPIURL, TokenURL: sb.TalkdeskTokenURL,
	}, hc, nil)
	c.tokens.now = clk.Now
	if err := c.Configured(); err != nil {
		t.Fatal(err)
	}
	return &env{sb: sb, c: c, clock: clk}
}

func count(calls []string, want string) int {
	n := 0
	for _, c := range calls {
		if c == want {
			n++
		}
	}
	return n
}

func TestTokenCachedAndSharedByConcurrentCallers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.c.RecordLists.List(ctx, schemas.HALPage{}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := e.c.RecordLists.Get(ctx, sandbox.SpringCampaignListID); err != nil {
		t.Fatal(err)
	}
	if n := e.sb.TalkdeskTokensIssued(); n != 1 {
		t.Fatalf("tokens issued = %d, want 1 shared by every caller", n)
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	get := func() {
		t.Helper()
		if _, err := e.c.RecordLists.Get(ctx, sandbox.SpringCampaignListID); err != nil {
			t.Fatal(err)
		}
	}
	get()
	e.clock.Advance(8 * time.Minute)
	get()
	if n := e.sb.TalkdeskTokensIssued(); n != 1 {
		t.Fatalf("after 8 minutes: tokens issued = %d, want 1 (still fresh)", n)
	}
	e.clock.Advance(90 * time.Second) // 9m30s: inside the last minute of a 10-minute token
	get()
	if n := e.sb.TalkdeskTokensIssued(); n != 2 {
		t.Fatalf("at 9m30s: tokens issued = %d, want 2 (renewed before expiry)", n)
	}
	if got := count(e.sb.Calls(), "GET /talkdesk/record-lists/"+sandbox.SpringCampaignListID); got != 3 {
		t.Fatalf("GETs = %d, want 3: no call may have been refused with 401", got)
	}
}

func TestRenewalAndRetryOn401(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.c.RecordLists.Get(ctx, sandbox.SpringCampaignListID); err != nil {
		t.Fatal(err)
	}
	e.sb.ExpireTalkdeskTokens() // revoked upstream although the client thinks it fresh
	e.sb.ResetCalls()
	l, err := e.c.RecordLists.Get(ctx, sandbox.SpringCampaignListID)
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "Spring Campaign" {
		t.Fatalf("name = %q", l.Name)
	}
	want := []string{
		"GET /talkdesk/record-lists/" + sandbox.SpringCampaignListID,
		"POST /talkdesk-id/oauth/token",
		"GET /talkdesk/record-lists/" + sandbox.SpringCampaignListID,
	}
	if got := e.sb.Calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A second 401 is not retried again: it is reported.
	e.sb.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: "/talkdesk/record-lists", Status: http.StatusUnauthorized, Times: 2})
	_, err = e.c.RecordLists.Get(ctx, sandbox.SpringCampaignListID)
	var ae *upstream.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a 401 APIError", err)
	}
}

func TestHALPagingFollowsNextLinks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.c.Records.List(ctx, sandbox.WinBackListID, schemas.HALPage{PerPage: 50})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 120 || p.Count != 50 || p.TotalPages != 3 || p.Page != 1 || len(p.Items) != 50 || p.Next == "" {
		t.Fatalf("first page = total %d count %d pages %d page %d items %d next %q", p.Total, p.Count, p.TotalPages, p.Page, len(p.Items), p.Next)
	}
	seen := map[string]bool{}
	for pages := 1; ; pages++ {
		if pages > 3 {
			t.Fatalf("pages = %d, want 3", pages)
		}
		for _, r := range p.Items {
			seen[r.ID] = true
		}
		if p.Next == "" {
			if pages != 3 {
				t.Fatalf("pages = %d, want 3", pages)
			}
			break
		}
		if p, err = e.c.Records.Next(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 120 {
		t.Fatalf("distinct records = %d, want 120", len(seen))
	}
	if p.Count != 20 {
		t.Fatalf("last page count = %d, want 20", p.Count)
	}

	e.sb.ResetCalls()
	var phones []string
	complete, err := e.c.Records.Walk(ctx, sandbox.WinBackListID, 1000, func(r Record) { phones = append(phones, r.PhoneNumbers[0].PhoneNumber) })
	if err != nil || !complete || len(phones) != 120 {
		t.Fatalf("walk: complete %v, %d records, err %v", complete, len(phones), err)
	}
	if n := count(e.sb.Calls(), "GET /talkdesk/record-lists/"+sandbox.WinBackListID+"/records"); n != 2 {
		t.Fatalf("walk used %d pages, want 2 of 100", n)
	}
	complete, err = e.c.Records.Walk(ctx, sandbox.WinBackListID, 10, func(Record) {})
	if err != nil || complete {
		t.Fatalf("a walk cut at 10 records must say it is incomplete: %v %v", complete, err)
	}
}

func TestRelativeLinksResolveAgainstTheAPIBase(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.sb.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: "/talkdesk/record-lists", Times: 1,
		Body: `{"total":2,"count":1,"page":1,"per_page":1,"total_pages":2,` +
			`"_embedded":{"record_lists":[{"id":"a","name":"A","records_count":0}]},` +
			`"_links":{"next":{"href":"record-lists?page=2&per_page=1"}}}`})
	p, err := e.c.RecordLists.List(ctx, schemas.HALPage{PerPage: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := e.sb.TalkdeskAPIURL + "/record-lists?page=2&per_page=1"; p.Next != want {
		t.Fatalf("next = %q, want %q", p.Next, want)
	}
	p2, err := e.c.RecordLists.Next(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Items) != 1 || p2.Items[0].ID != sandbox.WinBackListID {
		t.Fatalf("page 2 = %+v", p2.Items)
	}

	e.sb.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: "/talkdesk/record-lists", Times: 1,
		Body: `{"total":2,"count":1,"page":1,"per_page":1,"total_pages":2,"_embedded":{"record_lists":[]},` +
			`"_links":{"next":{"href":"https://elsewhere.example/record-lists?page=2"}}}`})
	_, err = e.c.RecordLists.List(ctx, schemas.HALPage{PerPage: 1})
	var me *upstream.MalformedError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "leads away") {
		t.Fatalf("err = %v, want a refused off-host link", err)
	}
}

func TestErrorBodyNamesTheFields(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.c.Records.Create(ctx, sandbox.SpringCampaignListID, []schemas.RecordInput{
		{PhoneNumbers: []schemas.RecordPhone{{PhoneNumber: "+13035550999", PhoneType: "PAGER"}}, FirstName: "", LastName: "Doe"},
	})
	var ae *upstream.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want an APIError", err)
	}
	if ae.Status != http.StatusBadRequest || ae.Code == "" || len(ae.Fields) != 2 {
		t.Fatalf("APIError = %+v", ae)
	}
	for _, want := range []string{"records[0].first_name", "records[0].phone_numbers[0].phone_type", "400 Bad Request", "POST /talkdesk/record-lists/"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not contain %q", err.Error(), want)
		}
	}
	_, err = e.c.RecordLists.Get(ctx, "no-such-list")
	if !upstream.IsNotFound(err) {
		t.Fatalf("err = %v, want not found", err)
	}
}

func TestOAuthErrorIsTyped(t *testing.T) {
	e := newEnv(t)
	c := New(Config{ClientID: sandbox.TalkdeskClientID, ClientSecret: "wrong", APIURL: e.sb.TalkdeskAPIURL, TokenURL: e.sb.TalkdeskTokenURL}, upstream.New(nil, upstream.Policy{}, nil), nil)
	_, err := c.RecordLists.List(context.Background(), schemas.HALPage{})
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.Code != "invalid_client" {
		t.Fatalf("err = %v, want an invalid_client AuthError", err)
	}
	if !strings.Contains(err.Error(), "TALKDESK_CLIENT_SECRET") {
		t.Fatalf("message %q does not say what to check", err)
	}
	if n := count(e.sb.Calls(), "POST /talkdesk-id/oauth/token"); n != 1 {
		t.Fatalf("token POSTs = %d, want 1: a POST is never retried", n)
	}
}

func TestMissingCredentialsNameTheVariables(t *testing.T) {
	e := newEnv(t)
	c := New(Config{APIURL: e.sb.TalkdeskAPIURL}, upstream.New(nil, upstream.Policy{}, nil), nil)
	err := c.Configured()
	if !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("Configured = %v", err)
	}
	for _, v := range []string{"TALKDESK_ACCOUNT", "TALKDESK_CLIENT_ID", "TALKDESK_CLIENT_SECRET"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("%q does not name %s", err, v)
		}
	}
	if _, err := c.RecordLists.List(context.Background(), schemas.HALPage{}); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("List = %v", err)
	}
	if calls := e.sb.Calls(); len(calls) != 0 {
		t.Fatalf("a client without credentials sent %v", calls)
	}
}

func TestRegions(t *testing.T) {
	hc := upstream.New(nil, upstream.Policy{}, nil)
	for region, want := range map[string][2]string{
		"":   {"https://api.talkdeskapp.com", "https://acme.talkdeskid.com/oauth/token"},
		"us": {"https://api.talkdeskapp.com", "https://acme.talkdeskid.com/oauth/token"},
		"EU": {"https://api.talkdeskapp.eu", "https://acme.talkdeskid.eu/oauth/token"},
		"ca": {"https://api.talkdeskappca.com", "https://acme.talkdeskidca.com/oauth/token"},
	} {
		c := New(Config{Account: "acme", Region: region, ClientID: "id", ClientSecret: "s"}, hc, nil)
		if err := c.Configured(); err != nil {
			t.Fatalf("%s: %v", region, err)
		}
		if c.api != want[0] || c.tokens.tokenURL != want[1] {
			t.Errorf("region %q: api %q token %q, want %q %q", region, c.api, c.tokens.tokenURL, want[0], want[1])
		}
	}
	c := New(Config{Account: "acme", Region: "eu", ClientID: "id", ClientSecret: "s", APIURL: "https://gw.example/", TokenURL: "https://id.example/token"}, hc, nil)
	if c.api != "https://gw.example" || c.tokens.tokenURL != "https://id.example/token" {
		t.Errorf("overrides ignored: %q %q", c.api, c.tokens.tokenURL)
	}
	if err := New(Config{Account: "evil.example/x?", ClientID: "id", ClientSecret: "s"}, hc, nil).Configured(); err == nil || !strings.Contains(err.Error(), "TALKDESK_ACCOUNT") {
		t.Errorf("a host-breaking account was accepted: %v", err)
	}
	if err := New(Config{Account: "acme", Region: "apac", ClientID: "id", ClientSecret: "s"}, hc, nil).Configured(); err == nil || !strings.Contains(err.Error(), "TALKDESK_REGION") {
		t.Errorf("an unknown region was accepted: %v", err)
	}
}

func TestRetriesOnlyIdempotentMethods(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.sb.AddFault(sandbox.Fault{Method: http.MethodGet, PathPrefix: "/talkdesk/record-lists", Status: http.StatusServiceUnavailable, Times: 1})
	if _, err := e.c.RecordLists.List(ctx, schemas.HALPage{}); err != nil {
		t.Fatalf("a GET after one 503 should have been retried: %v", err)
	}
	e.sb.ClearFaults()
	e.sb.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: "/talkdesk/record-lists/", Status: http.StatusServiceUnavailable, Times: 1})
	_, err := e.c.Records.Create(ctx, sandbox.SpringCampaignListID, []schemas.RecordInput{
		{PhoneNumbers: []schemas.RecordPhone{{PhoneNumber: "+13035550999"}}, FirstName: "Jo", LastName: "Doe"},
	})
	var ae *upstream.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want the 503", err)
	}
	if n := count(e.sb.Calls(), "POST /talkdesk/record-lists/"+sandbox.SpringCampaignListID+"/records/bulks"); n != 1 {
		t.Fatalf("bulk POSTs = %d, want 1", n)
	}
}

func TestBulkWireShapes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l, err := e.c.RecordLists.Create(ctx, schemas.RecordListCreate{Name: "Wire"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != "ACCEPTED" || l.RecordsCount != 0 || l.ID == "" {
		t.Fatalf("created list = %+v", l)
	}
	prio := 3
	res, err := e.c.Records.Create(ctx, l.ID, []schemas.RecordInput{
		{PhoneNumbers: []schemas.RecordPhone{{PhoneNumber: "+1555000001", PhoneType: schemas.PhoneTypeMobile}}, FirstName: "A", LastName: "One", Priority: 2, Timezone: "America/Denver", ExtraData: map[string]any{"k": "v"}},
		{PhoneNumbers: []schemas.RecordPhone{{PhoneNumber: "+1555000002"}}, FirstName: "B", LastName: "Two", ExternalProvider: "salesforce", ExternalID: "003X"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.TotalCreated == nil || *res.TotalCreated != 2 || res.HasErrors || res.RecordListID != l.ID {
		t.Fatalf("create = %+v", res)
	}
	page, err := e.c.Records.List(ctx, l.ID, schemas.HALPage{})
	if err != nil {
		t.Fatal(err)
	}
	first := page.Items[0]
	if first.Priority != 2 || first.Timezone != "America/Denver" || first.PhoneNumbers[0].PhoneType != "MOBILE" || first.ExtraData["k"] != "v" || first.RecordListID != l.ID {
		t.Fatalf("record read back = %+v", first)
	}
	name := "Alice"
	upd, err := e.c.Records.Update(ctx, l.ID, schemas.UpdateRecordsArgs{Records: []schemas.RecordChange{
		{ID: first.ID, RecordFields: schemas.RecordFields{FirstName: &name, Priority: &prio}},
		{ID: "missing", RecordFields: schemas.RecordFields{FirstName: &name}},
	}}.Ops())
	if err != nil {
		t.Fatal(err)
	}
	if upd.TotalUpdated == nil || *upd.TotalUpdated != 1 || upd.TotalErrors != 1 || len(upd.FailedRecords) != 1 || upd.FailedRecords[0]["id"] != "missing" {
		t.Fatalf("update = %+v", upd)
	}
	if _, hasLinks := upd.FailedRecords[0]["_links"]; hasLinks {
		t.Fatal("links should be dropped from failed records")
	}
	page, _ = e.c.Records.List(ctx, l.ID, schemas.HALPage{})
	if page.Items[0].FirstName != "Alice" || page.Items[0].Priority != 3 || page.Items[0].LastName != "One" {
		t.Fatalf("after update = %+v", page.Items[0])
	}
	del, err := e.c.Records.Delete(ctx, l.ID, schemas.DeleteRecordsArgs{PhoneNumbers: []string{"+1555000002", "+1000"}}.Body())
	if err != nil {
		t.Fatal(err)
	}
	if del.TotalDeleted == nil || *del.TotalDeleted != 1 || del.TotalErrors != 1 || !del.HasErrors || del.FailedRecords[0]["phone_number"] != "+1000" {
		t.Fatalf("delete = %+v", del)
	}
	if _, err := e.c.RecordLists.Delete(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.RecordLists.Get(ctx, l.ID); !upstream.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
}

// A record list DELETE whose first answer is lost after it took effect is
// retried; the retry's 404 means the list is gone: done, not "not found".
func TestRetriedListDeleteWhoseRetryFindsItGoneIsDone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	path := "/talkdesk/record-lists/" + sandbox.WinBackListID
	e.sb.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: path, Times: 1, DropAnswer: true})
	gone, err := e.c.RecordLists.Delete(ctx, sandbox.WinBackListID)
	if err != nil || !gone {
		t.Fatalf("Delete = %v, %v; want done, gone after a retry", gone, err)
	}
	if n := count(e.sb.Calls(), "DELETE "+path); n != 2 {
		t.Fatalf("DELETEs = %d, want 2", n)
	}
	if _, err := e.c.RecordLists.Get(ctx, sandbox.WinBackListID); !upstream.IsNotFound(err) {
		t.Fatalf("the list is still there: %v", err)
	}
	// A first 404 is "not found".
	if gone, err := e.c.RecordLists.Delete(ctx, sandbox.WinBackListID); !upstream.IsNotFound(err) || gone {
		t.Fatalf("second Delete = %v, %v; want not found", gone, err)
	}
}

// A bulk delete whose answer is lost is not sent again (a repeat would
// answer "none deleted" while the records are gone): the caller learns the
// outcome is unknown, as for a POST.
func TestBulkDeleteNotRetriedOutcomeUnknown(t *testing.T) {
	for _, fault := range []sandbox.Fault{{DropAnswer: true}, {AnswerStatus: http.StatusBadGateway, EmptyBody: true}} {
		e := newEnv(t)
		ctx := context.Background()
		path := "/talkdesk/record-lists/" + sandbox.SpringCampaignListID + "/records/bulks"
		fault.Method, fault.PathPrefix, fault.Times = http.MethodDelete, path, 1
		e.sb.AddFault(fault)
		res, err := e.c.Records.Delete(ctx, sandbox.SpringCampaignListID, schemas.DeleteRecordsArgs{PhoneNumbers: []string{"+13035550101"}}.Body())
		if n := count(e.sb.Calls(), "DELETE "+path); n != 1 {
			t.Fatalf("bulk DELETEs = %d, want 1 (never repeated)", n)
		}
		if res != nil {
			t.Fatalf("result %+v from a lost answer", res)
		}
		var te *upstream.TransportError
		var ae *upstream.APIError
		switch {
		case fault.DropAnswer && (!errors.As(err, &te) || !te.OutcomeUnknown()):
			t.Fatalf("dropped answer: err = %v, want an unknown outcome", err)
		case !fault.DropAnswer && (!errors.As(err, &ae) || ae.Status != http.StatusBadGateway):
			t.Fatalf("502: err = %v, want the 502", err)
		}
		if got := strings.Join(e.sb.TalkdeskPhones(sandbox.SpringCampaignListID), ","); strings.Contains(got, "+13035550101") {
			t.Fatalf("the fault should have let the delete happen: %s", got)
		}
	}
}

// A bulk delete may answer 202 (API-NOTES: 200 or 202), with or without a
// body: it was accepted, so it is a success, never "an unreadable answer".
func TestBulkDeleteAccepted202(t *testing.T) {
	for _, empty := range []bool{true, false} {
		e := newEnv(t)
		path := "/talkdesk/record-lists/" + sandbox.SpringCampaignListID + "/records/bulks"
		e.sb.AddFault(sandbox.Fault{Method: http.MethodDelete, PathPrefix: path, Times: 1, AnswerStatus: http.StatusAccepted, EmptyBody: empty})
		res, err := e.c.Records.Delete(context.Background(), sandbox.SpringCampaignListID,
			schemas.DeleteRecordsArgs{PhoneNumbers: []string{"+13035550101", "+19999"}}.Body())
		if err != nil {
			t.Fatalf("empty=%v: %v", empty, err)
		}
		if !res.Accepted || res.RecordListID != sandbox.SpringCampaignListID {
			t.Fatalf("empty=%v: result %+v, want accepted", empty, res)
		}
		if empty && res.TotalDeleted != nil {
			t.Errorf("empty 202: totals %+v from no body", res)
		}
		if !empty && (res.TotalDeleted == nil || *res.TotalDeleted != 1 || res.TotalErrors != 1 || len(res.FailedRecords) != 1) {
			t.Errorf("202 with a body: %+v, want its figures", res)
		}
	}
}

// The token request carries Authorization: Basic base64(id:secret) with id
// and secret as they are (the documented form), not form-encoded first: a
// secret with +, / or = is otherwise refused.
func TestClientCredentialsSentAsDocumented(t *testing.T) {
	e := newEnv(t)
	if !strings.ContainsAny(sandbox.TalkdeskClientSecret, "+/=") {
		t.Fatal("the sandbox secret must have characters form-encoding changes")
	}
	if _, err := e.c.RecordLists.List(context.Background(), schemas.HALPage{}); err != nil {
		t.Fatal(err)
	}
	if n := e.sb.TalkdeskTokensIssued(); n != 1 {
		t.Fatalf("tokens issued = %d", n)
	}
}
