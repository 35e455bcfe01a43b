package server_test

// The approval page of a stdio server on a desktop: served on loopback,
// opened with $BROWSER through a single-use link that never reaches a tool
// result or a log line.

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/syncbuf"
)

// stdioClient serves app over stdio (App.ServeStdio, as serve does) on
// pipes and connects an mcp-go client to it; both stop when the test ends.
func stdioClient(t *testing.T, app *server.App, protocol string, caps *mcp.ElicitationCapability, opts ...client.ClientOption) *client.Client {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := app.ServeStdio(ctx, inR, outW)
		_ = outW.Close()
		done <- err
	}()
	if protocol != "" {
		opts = append(opts, client.WithProtocolVersion(protocol))
	}
	c := client.NewClient(transport.NewIO(outR, inW, io.NopCloser(strings.NewReader(""))), opts...)
	t.Cleanup(func() {
		_ = c.Close()
		cancel()
		_ = inW.Close()
		if err := testenv.Recv(t, done, "ServeStdio to return"); err != nil {
			t.Errorf("ServeStdio: %v", err)
		}
	})
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "desktop-test", Version: "1"}
	if protocol != "" {
		init.Params.ProtocolVersion = protocol
	}
	init.Params.Capabilities.Elicitation = caps
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeBrowser is a $BROWSER that writes the link it is given to a file
// (or, with fail, exits 1), and returns the script and the file.
func fakeBrowser(t *testing.T, fail bool) (script, opened string) {
	t.Helper()
	dir := t.TempDir()
	opened = filepath.Join(dir, "opened")
	body := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '" + opened + "'\n"
	if fail {
		body = "#!/bin/sh\nexit 1\n"
	}
	script = filepath.Join(dir, "browser")
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, opened
}

var (
	loopbackLink = regexp.MustCompile(`https?://127\.0\.0\.1:\d+|[?&]s=`)
	// linkSecret is a desktop link's secret, wherever it is written.
	linkSecret = regexp.MustCompile(`[?&]s=[A-Za-z0-9_-]{20,}`)
)

// TestDesktopApprovalPage: a stdio server opens the approval page with
// $BROWSER; the person's browser trades the single-use link for a cookie,
// approves, and the assistant's call executes once; a second load of the
// link is refused; the link is in no result and no log line.
// Not parallel: it sets BROWSER, and mcp-go's stdio session is one per
// process.
func TestDesktopApprovalPage(t *testing.T) {
	script, opened := fakeBrowser(t, false)
	t.Setenv("BROWSER", script)
	log := &syncbuf.Buffer{}
	app := testenv.Start(t, testenv.Options{Log: logTo(log)})
	c := stdioClient(t, app, "", nil)

	res := callTool(t, c, "delete_group", map[string]any{"id": 1042})
	first := structured(t, res)
	if first["status"] != "confirmation_required" || !strings.Contains(first["approve"].(string), "opened in the browser") {
		t.Fatalf("first call: %v", first)
	}
	var link string
	testenv.WaitFor(t, "the browser to be given the link", func() bool {
		b, _ := os.ReadFile(opened)
		link = strings.TrimSpace(string(b))
		return link != ""
	})
	id, tok := first["approval_id"].(string), first["confirmation_token"].(string)
	u := mustURL(t, link)
	if u.Hostname() != "127.0.0.1" || u.Path != "/approvals/"+id || len(u.Query().Get("s")) < 32 {
		t.Fatalf("the opened link %q", link)
	}
	if m := loopbackLink.FindString(testenv.Text(res)); m != "" {
		t.Fatalf("the result names the desktop link (%q): %s", m, testenv.Text(res))
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: testenv.Patience}
	resp, err := browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.RawQuery != "" || !strings.Contains(string(body), ">pending<") ||
		!strings.Contains(string(body), "Denver Office") {
		t.Fatalf("first load: %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
	}
	base := u.Scheme + "://" + u.Host
	resp, err = browser.PostForm(base+"/approvals/"+id+"/approve", url.Values{"csrf": {csrf(t, string(body))}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), ">approved<") || !strings.Contains(string(body), "desktop page") {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}

	// The link is spent: another browser (or the same link again) is refused.
	again, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusForbidden {
		t.Errorf("second load of the link: %d", again.StatusCode)
	}
	// Nor does the page open without a session.
	if r, err := http.Get(base + "/approvals/" + id); err != nil || r.StatusCode != http.StatusUnauthorized {
		t.Errorf("the page without the cookie: %v %v", r, err)
	} else {
		r.Body.Close()
	}

	before := deletes(app)
	done := callTool(t, c, "delete_group", map[string]any{"id": 1042, "confirmation_token": tok})
	if done.IsError || structured(t, done)["status"] != "deleted" {
		t.Fatalf("the approved call: %+v", done)
	}
	if n := deletes(app) - before; n != 1 {
		t.Errorf("%d DELETEs, want 1", n)
	}
	secret := u.Query().Get("s")
	if strings.Contains(log.String(), secret) || strings.Contains(log.String(), link) {
		t.Errorf("the link reached the log:\n%s", log.String())
	}
}

// TestDesktopLinkNeverInResult: when no browser is opened (never, or an
// opener that fails), the answer names the approvals command, never a
// desktop link (which would let the model approve by fetching it).
func TestDesktopLinkNeverInResult(t *testing.T) {
	failing, _ := fakeBrowser(t, true)
	for _, tc := range []struct {
		name, browser, env string
	}{
		{"never", "never", ""},
		{"failing opener", "auto", failing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("BROWSER", tc.env)
			log := &syncbuf.Buffer{}
			app := testenv.Start(t, testenv.Options{Log: logTo(log), Configure: func(c *config.Config) { c.ApprovalBrowser = tc.browser }})
			c := stdioClient(t, app, "", nil)
			res := callTool(t, c, "delete_group", map[string]any{"id": 1042})
			first := structured(t, res)
			if first["status"] != "confirmation_required" {
				t.Fatalf("first call: %v", first)
			}
			if m := loopbackLink.FindString(testenv.Text(res)); m != "" {
				t.Fatalf("the result names a desktop link (%q): %s", m, testenv.Text(res))
			}
			if !strings.Contains(first["approve"].(string), "convirza-mcp approvals approve "+first["approval_id"].(string)) ||
				strings.Contains(first["approve"].(string), "opened in the browser") {
				t.Errorf("approve: %v", first["approve"])
			}
			if linkSecret.MatchString(log.String()) {
				t.Errorf("a desktop link reached the log:\n%s", log.String())
			}
		})
	}
}

// TestURLElicitationStdio: a stdio client that declares URL elicitation is
// handed a single-use desktop link (for its person, through its own UI);
// the person's browser trades it, approves, and the call executes. Both
// protocol eras.
func TestURLElicitationStdio(t *testing.T) {
	t.Setenv("BROWSER", "")
	for _, era := range []struct{ name, version string }{{"modern", ""}, {"legacy", mcp.ProtocolVersion20250618}} {
		t.Run(era.name, func(t *testing.T) {
			log := &syncbuf.Buffer{}
			app := testenv.Start(t, testenv.Options{Log: logTo(log), Configure: func(c *config.Config) { c.ApprovalBrowser = "never" }})
			jar, _ := cookiejar.New(nil)
			person := &urlPerson{t: t, approve: true, jar: jar, done: make(chan error, 1)}
			c := stdioClient(t, app, era.version, &mcp.ElicitationCapability{URL: &struct{}{}}, client.WithElicitationHandler(person))
			before := deletes(app)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			req := mcp.CallToolRequest{}
			req.Params.Name, req.Params.Arguments = "delete_group", map[string]any{"id": 1042}
			res, err := c.CallTool(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if err := testenv.Recv(t, person.done, "the person's decision"); err != nil {
				t.Fatal(err)
			}
			if u := mustURL(t, person.url); u.Hostname() != "127.0.0.1" || u.Query().Get("s") == "" {
				t.Errorf("the link handed to the client: %q", person.url)
			}
			if res.IsError || structured(t, res)["status"] != "deleted" {
				t.Fatalf("approved on the desktop page: %+v", res)
			}
			if n := deletes(app) - before; n != 1 {
				t.Errorf("%d DELETEs, want 1", n)
			}
			if strings.Contains(testenv.Text(res), person.url) || strings.Contains(log.String(), mustURL(t, person.url).Query().Get("s")) {
				t.Error("the link reached the result or the log")
			}
		})
	}
}
