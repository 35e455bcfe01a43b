package testenv

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/server"
)

// StartOAuth serves the whole server built from o with
// CONVIRZA_MCP_AUTH=oauth over HTTP on a loopback port that is its public
// URL (o.Configure runs after that is set), and returns that URL and the
// App; both stop when the test ends.
func StartOAuth(t testing.TB, o Options) (string, *server.App) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	more := o.Configure
	o.Configure = func(c *config.Config) {
		c.Transport, c.Addr, c.Auth, c.PublicURL = "http", ln.Addr().String(), config.AuthOAuth, base
		if more != nil {
			more(c)
		}
	}
	app := Start(t, o)
	if app.OAuth == nil {
		t.Fatal("CONVIRZA_MCP_AUTH=oauth over HTTP built no sign-in")
	}
	srv := httptest.NewUnstartedServer(app.NewHTTP())
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return base, app
}

var (
	hiddenRequest = regexp.MustCompile(`<input type="hidden" name="request" value="([^"]+)">`)
	formTarget    = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
)

// SignIn signs email in (with the sandbox's demo password) through the whole flow, as a client and its
// person's browser do, for resource, and returns the token answer.
func SignIn(t testing.TB, base, email, resource string) map[string]any {
	t.Helper()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const redirect = "http://127.0.0.1:47001/cb"
	b, _ := json.Marshal(map[string]any{"client_name": "server test", "redirect_uris": []string{redirect}})
	resp, err := browser.Post(base+"/register", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	var reg map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	clientID, _ := reg["client_id"].(string)

	vb := make([]byte, 32)
	_, _ = rand.Read(vb)
	verifier := base64.RawURLEncoding.EncodeToString(vb)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "state": {"s"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {resource}}
	resp, err = browser.Get(base + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	pageBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	req, action := hiddenRequest.FindSubmatch(pageBody), formTarget.FindSubmatch(pageBody)
	if resp.StatusCode != http.StatusOK || req == nil || action == nil {
		t.Fatalf("sign-in page %d:\n%s", resp.StatusCode, pageBody)
	}
	resp, err = browser.PostForm(html.UnescapeString(string(action[1])), url.Values{"request": {html.UnescapeString(string(req[1]))}, "email": {email}, "password": {sandbox.DemoPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in answered %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = browser.PostForm(base+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"code_verifier": {verifier}, "redirect_uri": {redirect}, "client_id": {clientID}, "resource": {resource}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	if resp.StatusCode != http.StatusOK || tok["access_token"] == nil {
		t.Fatalf("token: %d %v", resp.StatusCode, tok)
	}
	tok["client_id"] = clientID
	return tok
}
