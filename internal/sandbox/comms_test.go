package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
)

// start serves a sandbox on the given clock; access tokens live long enough
// for a test to move time by weeks.
func start(t *testing.T, clk *sandbox.Clock) *sandbox.Running {
	t.Helper()
	return sandboxenv.Start(t, sandbox.Options{Now: clk.Now, AccessTTL: 90 * 24 * time.Hour})
}

type answer struct {
	Status int
	Header http.Header
	Body   []byte
	Env    struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
		Errors  []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
}

func do(t *testing.T, method, u, token string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{Status: resp.StatusCode, Header: resp.Header}
	if a.Body, err = io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(a.Body, &a.Env)
	return a
}

func login(t *testing.T, sb *sandbox.Running, email string) string {
	t.Helper()
	a := do(t, http.MethodPost, sb.OAuthURL+"/oauth/token", "", map[string]string{"email": email, "password": sandbox.DemoPassword})
	if a.Status != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, a.Status, a.Body)
	}
	var d struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(a.Env.Data, &d); err != nil || d.AccessToken == "" {
		t.Fatalf("login %s: %s", email, a.Body)
	}
	return d.AccessToken
}

type wireCall struct {
	CallID           int64  `json:"call_id"`
	CallStarted      string `json:"call_started"`
	Disposition      string `json:"disposition"`
	OrgUnitID        int64  `json:"org_unit_id"`
	RecordingURL     string `json:"recording_url"`
	RecordingDetails *struct {
		ExpiresAt int64 `json:"expires_at"`
	} `json:"recording_details"`
}

func calls(t *testing.T, sb *sandbox.Running, token string, q url.Values) ([]wireCall, int) {
	t.Helper()
	a := do(t, http.MethodGet, sb.APIURL+"/conversations/calls?"+q.Encode(), token, nil)
	if a.Status != http.StatusOK {
		t.Fatalf("calls %s: %d %s", q.Encode(), a.Status, a.Body)
	}
	var d struct {
		Calls []wireCall `json:"calls"`
		Total int        `json:"total"`
	}
	if err := json.Unmarshal(a.Env.Data, &d); err != nil {
		t.Fatalf("calls data: %v: %s", err, a.Env.Data)
	}
	return d.Calls, d.Total
}

func TestRecordingURLExpiresAfterSevenDays(t *testing.T) {
	clk := sandbox.NewClock(time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC))
	sb := start(t, clk)
	tok := login(t, sb, sandbox.DemoEmail)
	list, _ := calls(t, sb, tok, url.Values{"include": {"recordings"}, "limit": {"200"}})
	var rec wireCall
	for _, c := range list {
		if c.RecordingURL != "" {
			rec = c
			break
		}
	}
	if rec.RecordingURL == "" || rec.RecordingDetails == nil {
		t.Fatal("no recorded call in the last 7 days of demo data")
	}
	if want := clk.Now().Add(7 * 24 * time.Hour).Unix(); rec.RecordingDetails.ExpiresAt != want {
		t.Errorf("expires_at %d, want now + 7 days = %d", rec.RecordingDetails.ExpiresAt, want)
	}

	a := do(t, http.MethodGet, rec.RecordingURL, "", nil)
	if a.Status != http.StatusOK || a.Header.Get("Content-Type") != "audio/mpeg" || len(a.Body) == 0 {
		t.Fatalf("fresh recording: %d %s", a.Status, a.Header.Get("Content-Type"))
	}
	if a := do(t, http.MethodGet, strings.Replace(rec.RecordingURL, "signature=", "signature=0", 1), "", nil); a.Status != http.StatusForbidden {
		t.Errorf("tampered signature: %d, want 403", a.Status)
	}

	clk.Advance(7*24*time.Hour - time.Second)
	if a := do(t, http.MethodGet, rec.RecordingURL, "", nil); a.Status != http.StatusOK {
		t.Errorf("one second before expiry: %d, want 200", a.Status)
	}
	clk.Advance(2 * time.Second)
	a = do(t, http.MethodGet, rec.RecordingURL, "", nil)
	if a.Status != http.StatusGone || a.Env.Message != "Recording URL has expired. Please re-fetch the call to get a fresh link." {
		t.Fatalf("expired recording: %d %s", a.Status, a.Body)
	}

	// Re-fetching the call gives a fresh link that works.
	again, _ := calls(t, sb, tok, url.Values{"call_id": {fmt.Sprint(rec.CallID)}, "include": {"recordings"}})
	if len(again) != 1 || again[0].RecordingURL == rec.RecordingURL {
		t.Fatalf("re-fetch: %+v", again)
	}
	if a := do(t, http.MethodGet, again[0].RecordingURL, "", nil); a.Status != http.StatusOK {
		t.Errorf("fresh link after re-fetch: %d", a.Status)
	}
}

func TestCallsFiltersAndWindow(t *testing.T) {
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	sb := start(t, sandbox.NewClock(now))
	tok := login(t, sb, sandbox.DemoEmail)

	all, total := calls(t, sb, tok, url.Values{"limit": {"200"}})
	if total < 40 || len(all) != min(total, 200) {
		t.Fatalf("default window: %d of %d calls", len(all), total)
	}
	for i, c := range all {
		ts, err := time.Parse(time.RFC3339, c.CallStarted)
		if err != nil || ts.Before(now.Add(-7*24*time.Hour)) || ts.After(now) {
			t.Fatalf("call %d started %s, outside the default last 7 days", c.CallID, c.CallStarted)
		}
		if i > 0 && all[i-1].CallStarted < c.CallStarted {
			t.Fatalf("not newest first at %d", i)
		}
	}
	_, month := calls(t, sb, tok, url.Values{"start": {now.Add(-30 * 24 * time.Hour).Format(time.RFC3339)}})
	if month < 200 || month > 500 {
		t.Errorf("last 30 days: %d calls, want a few hundred", month)
	}

	// Arrays: repeated and comma-separated parameters mean the same.
	rep, nRep := calls(t, sb, tok, url.Values{"disposition": {"NO ANSWER", "BUSY"}, "limit": {"200"}})
	_, nComma := calls(t, sb, tok, url.Values{"disposition": {"NO ANSWER,BUSY"}, "limit": {"200"}})
	if nRep == 0 || nRep != nComma || nRep >= total {
		t.Errorf("disposition repeated %d, comma %d, all %d", nRep, nComma, total)
	}
	for _, c := range rep {
		if c.Disposition != "NO ANSWER" && c.Disposition != "BUSY" {
			t.Errorf("disposition filter let through %s", c.Disposition)
		}
	}

	// org_unit_id includes the unit's subtree.
	sales, nSales := calls(t, sb, tok, url.Values{"org_unit_id": {"1002"}, "limit": {"200"}})
	if nSales == 0 || nSales >= total {
		t.Errorf("Sales Division: %d of %d", nSales, total)
	}
	sub := false
	for _, c := range sales {
		switch c.OrgUnitID {
		case 1010, 1011:
			sub = true
		case 1002:
		default:
			t.Errorf("org_unit_id 1002 returned a call of unit %d", c.OrgUnitID)
		}
	}
	if !sub {
		t.Error("org_unit_id 1002 returned no call of its sub-groups")
	}

	bad := map[string]url.Values{
		"60-day window":  {"start": {now.Add(-60 * 24 * time.Hour).Format(time.RFC3339)}, "end": {now.Format(time.RFC3339)}},
		"end < start":    {"start": {now.Format(time.RFC3339)}, "end": {now.Add(-time.Hour).Format(time.RFC3339)}},
		"limit 201":      {"limit": {"201"}},
		"bad caller_id":  {"caller_id": {"303-555-0100"}},
		"bad include":    {"include": {"audio"}},
		"bad start":      {"start": {"yesterday"}},
		"bad dispositon": {"disposition": {"ANSWERED,MAYBE"}},
	}
	for name, q := range bad {
		a := do(t, http.MethodGet, sb.APIURL+"/conversations/calls?"+q.Encode(), tok, nil)
		if a.Status != http.StatusBadRequest || len(a.Env.Errors) == 0 {
			t.Errorf("%s: %d %s, want 400 with field errors", name, a.Status, a.Body)
		}
	}
	if a := do(t, http.MethodGet, sb.APIURL+"/conversations/calls?org_unit_id=9999", tok, nil); a.Status != http.StatusForbidden {
		t.Errorf("out-of-scope org unit: %d, want 403", a.Status)
	}
}

// TestDemoDataIsReproducible: two simulators with the same clock answer the
// same calls and SMS threads.
func TestDemoDataIsReproducible(t *testing.T) {
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	var bodies [2]string
	for i := range bodies {
		sb := start(t, sandbox.NewClock(now))
		tok := login(t, sb, sandbox.DemoEmail)
		a := do(t, http.MethodGet, sb.APIURL+"/conversations/calls?limit=200&include=tags,comments,call_flow,transcription,custom_sources", tok, nil)
		b := do(t, http.MethodGet, sb.APIURL+"/conversations/sms?limit=200&type=close", tok, nil)
		bodies[i] = string(a.Env.Data) + string(b.Env.Data)
	}
	if bodies[0] != bodies[1] {
		t.Error("the same clock gave different demo data")
	}
}

func TestSMSTypes(t *testing.T) {
	sb := start(t, sandbox.NewClock(time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)))
	tok := login(t, sb, sandbox.DemoEmail)
	get := func(q string) (int, []map[string]any) {
		a := do(t, http.MethodGet, sb.APIURL+"/conversations/sms?limit=200&"+q, tok, nil)
		if a.Status != http.StatusOK {
			t.Fatalf("sms %s: %d %s", q, a.Status, a.Body)
		}
		var d struct {
			Total        int              `json:"total"`
			Conversation []map[string]any `json:"conversation"`
		}
		if err := json.Unmarshal(a.Env.Data, &d); err != nil {
			t.Fatal(err)
		}
		return d.Total, d.Conversation
	}
	open, _ := get("")
	closed, cl := get("type=close")
	unassigned, un := get("type=unassigned")
	mine, my := get("type=assignedToYou")
	if open+closed < 24 || closed == 0 || unassigned == 0 || mine == 0 || unassigned+mine >= open {
		t.Errorf("open %d, closed %d, unassigned %d, mine %d", open, closed, unassigned, mine)
	}
	for _, c := range cl {
		if c["conversation_status"] != "closed" || c["closed_at"] == nil {
			t.Errorf("type=close returned %v", c)
		}
	}
	for _, c := range un {
		if c["ct_user_id"] != nil || c["conversation_status"] != "open" {
			t.Errorf("type=unassigned returned %v", c)
		}
	}
	for _, c := range my {
		if c["ct_user_id"] != float64(1) {
			t.Errorf("type=assignedToYou (user 1) returned %v", c)
		}
	}
	if n, _ := get("limit=7"); n != open {
		t.Errorf("total %d, want %d", n, open)
	}
	if a := do(t, http.MethodGet, sb.APIURL+"/conversations/sms?type=archived", tok, nil); a.Status != http.StatusBadRequest {
		t.Errorf("bad type: %d", a.Status)
	}
}

func TestBroadcastRolesAndLifecycle(t *testing.T) {
	clk := sandbox.NewClock(time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC))
	sb := start(t, clk)
	ro := login(t, sb, sandbox.ReadOnlyEmail)
	std := login(t, sb, sandbox.StandardEmail)
	body := map[string]any{
		"broadcast_name": "Test", "message": "Hello", "from_number": "+13035550144",
		"recipients": []string{"+13035550100", "+13035550101"}, "scheduled_at": clk.Now().Add(time.Hour).Format(time.RFC3339),
	}

	if a := do(t, http.MethodGet, sb.APIURL+"/broadcast", ro, nil); a.Status != http.StatusOK {
		t.Errorf("ReadOnly list: %d", a.Status)
	}
	if a := do(t, http.MethodPost, sb.APIURL+"/broadcast", ro, body); a.Status != http.StatusForbidden {
		t.Errorf("ReadOnly create: %d %s, want 403", a.Status, a.Body)
	}
	if a := do(t, http.MethodDelete, sb.APIURL+"/broadcast/3006", ro, nil); a.Status != http.StatusForbidden {
		t.Errorf("ReadOnly cancel: %d, want 403", a.Status)
	}

	a := do(t, http.MethodPost, sb.APIURL+"/broadcast", std, body)
	var created struct {
		BroadcastID int64 `json:"broadcastId"`
	}
	if a.Status != http.StatusOK || json.Unmarshal(a.Env.Data, &created) != nil || created.BroadcastID == 0 {
		t.Fatalf("Standard create: %d %s", a.Status, a.Body)
	}
	item := fmt.Sprintf("%s/broadcast/%d", sb.APIURL, created.BroadcastID)
	status := func() string {
		var b struct {
			Status     string   `json:"status"`
			Recipients []string `json:"recipients"`
		}
		a := do(t, http.MethodGet, item, std, nil)
		if err := json.Unmarshal(a.Env.Data, &b); err != nil || len(b.Recipients) != 2 {
			t.Fatalf("get: %d %s", a.Status, a.Body)
		}
		return b.Status
	}
	if s := status(); s != "scheduled" {
		t.Fatalf("new broadcast is %s", s)
	}
	if a := do(t, http.MethodPatch, item, std, map[string]any{"message": "Hello again"}); a.Status != http.StatusOK {
		t.Errorf("patch scheduled: %d %s", a.Status, a.Body)
	}
	clk.Advance(2 * time.Hour)
	if s := status(); s != "sent" {
		t.Fatalf("after its time the broadcast is %s, want sent", s)
	}
	if a := do(t, http.MethodPatch, item, std, map[string]any{"message": "Too late"}); a.Status != http.StatusConflict {
		t.Errorf("patch sent: %d, want 409", a.Status)
	}
	if a := do(t, http.MethodDelete, item, std, nil); a.Status != http.StatusConflict {
		t.Errorf("cancel sent: %d, want 409", a.Status)
	}

	// Without scheduled_at a broadcast is pending, then goes out.
	delete(body, "scheduled_at")
	a = do(t, http.MethodPost, sb.APIURL+"/broadcast", std, body)
	if a.Status != http.StatusOK || json.Unmarshal(a.Env.Data, &created) != nil {
		t.Fatalf("create pending: %d %s", a.Status, a.Body)
	}
	item = fmt.Sprintf("%s/broadcast/%d", sb.APIURL, created.BroadcastID)
	if s := status(); s != "pending" {
		t.Fatalf("unscheduled broadcast is %s, want pending", s)
	}
	clk.Advance(11 * time.Minute)
	if s := status(); s != "sent" {
		t.Errorf("pending broadcast after 11 minutes is %s, want sent", s)
	}

	bad := map[string]map[string]any{
		"duplicate recipient": {"recipients": []string{"+13035550100", "+13035550100"}},
		"no recipients":       {"recipients": []string{}},
		"bad recipient":       {"recipients": []string{"3035550100"}},
		"long message":        {"message": strings.Repeat("x", 1601)},
		"past scheduled_at":   {"scheduled_at": clk.Now().Add(-time.Minute).Format(time.RFC3339)},
		"bad from_number":     {"from_number": "555-0100"},
	}
	for name, change := range bad {
		b := map[string]any{}
		for k, v := range body {
			b[k] = v
		}
		for k, v := range change {
			b[k] = v
		}
		if a := do(t, http.MethodPost, sb.APIURL+"/broadcast", std, b); a.Status != http.StatusBadRequest || len(a.Env.Errors) == 0 {
			t.Errorf("%s: %d %s, want 400 with field errors", name, a.Status, a.Body)
		}
	}
	if a := do(t, http.MethodPut, sb.APIURL+"/broadcast/3006", std, map[string]any{"message": "only one field"}); a.Status != http.StatusBadRequest {
		t.Errorf("PUT without every field: %d, want 400", a.Status)
	}
}
