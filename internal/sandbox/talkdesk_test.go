package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The Talkdesk simulator is mounted at the URLs Running names, its
// requests are recorded and faults apply to it.
func TestTalkdeskMounted(t *testing.T) {
	sb := start(t, Options{}).sb
	req, _ := http.NewRequest(http.MethodPost, sb.TalkdeskTokenURL, strings.NewReader("grant_type=client_credentials&scope="+url.QueryEscape("record-lists:manage")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(TalkdeskClientID, TalkdeskClientSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", res.StatusCode, err)
	}
	get := func() int {
		req, _ := http.NewRequest(http.MethodGet, sb.TalkdeskAPIURL+"/record-lists/"+WinBackListID, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := get(); got != http.StatusOK {
		t.Fatalf("GET list: %d", got)
	}
	sb.AddFault(Fault{PathPrefix: "/talkdesk/", Status: http.StatusServiceUnavailable, Times: 1})
	if got := get(); got != http.StatusServiceUnavailable {
		t.Fatalf("GET list under a fault: %d, want 503", got)
	}
	if n := sb.TalkdeskTokensIssued(); n != 1 {
		t.Fatalf("tokens issued = %d", n)
	}
	if lists := sb.TalkdeskLists(); len(lists) != 2 || lists[1].ID != WinBackListID || lists[1].Records != 120 {
		t.Fatalf("lists = %+v", lists)
	}
	want := []string{"POST /talkdesk-id/oauth/token", "GET /talkdesk/record-lists/" + WinBackListID, "GET /talkdesk/record-lists/" + WinBackListID}
	if got := sb.Calls(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("calls = %v", got)
	}
}

// GET /_sandbox/stats counts logins, refreshes and writes, for tests that
// run the simulator as its own process.
func TestStats(t *testing.T) {
	sb, err := New(Options{}).Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	login, err := http.Post(sb.OAuthURL+"/oauth/token", "application/json", strings.NewReader(`{"email":"`+DemoEmail+`","password":"`+DemoPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Data struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
	}
	_ = json.NewDecoder(login.Body).Decode(&tok)
	login.Body.Close()
	req, _ := http.NewRequest(http.MethodDelete, sb.APIURL+"/webhooks/1", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Data.AccessToken)
	if res, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	res, err := http.Get(sb.URL + "/_sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st Stats
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Logins != 1 || st.Refreshes != 0 || st.Writes["DELETE /v3/webhooks/1"] != 1 || st.Writes["POST /oauth/token"] != 1 {
		t.Fatalf("stats: %+v (token %q)", st, tok.Data.AccessToken)
	}
}
