package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/sethvargo/go-envconfig"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
)

func newStoreKey() string {
	k := make([]byte, store.KeySize)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// with returns a copy of vars with more set ("" unsets).
func with(vars map[string]string, more ...string) map[string]string {
	out := maps.Clone(vars)
	for i := 0; i+1 < len(more); i += 2 {
		if more[i+1] == "" {
			delete(out, more[i])
		} else {
			out[more[i]] = more[i+1]
		}
	}
	return out
}

// callOK runs `convirza-mcp call TOOL` (the service account) and fails the
// test unless it succeeds.
func callOK(t *testing.T, vars map[string]string, tool string) {
	t.Helper()
	if code, out, errs := runWithEnv(t, vars, "call", tool); code != 0 {
		t.Fatalf("call %s: exit %d\n%s%s", tool, code, out, errs)
	}
}

// sealedRecords opens the store in dir and returns its sealed records
// (every kind the server writes) as stored.
func sealedRecords(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	st, err := store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string][]byte{}
	for _, set := range server.SealedRecords() {
		recs, err := st.List(context.Background(), set.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range recs {
			if set.Holds(k) {
				out[k] = v
			}
		}
	}
	return out
}

// openWith fails the test unless every record opens with the store key
// keyB64 alone.
func openWith(t *testing.T, recs map[string][]byte, keyB64 string) {
	t.Helper()
	s, err := store.OpenSealer(keyB64, "", "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range recs {
		if _, err := s.Open(v, []byte(k)); err != nil {
			t.Errorf("%s does not open with the current key alone: %v", k, err)
		}
	}
}

// oauthHost serves, on one address (the public URL people's tokens are
// bound to), whichever server it was last given: a restart that keeps the
// address.
type oauthHost struct {
	base string
	vars map[string]string
	h    atomic.Pointer[server.App]
}

func newOAuthHost(t *testing.T, vars map[string]string) *oauthHost {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &oauthHost{base: "http://" + ln.Addr().String()}
	o.vars = with(vars, "CONVIRZA_MCP_TRANSPORT", "http", "CONVIRZA_MCP_AUTH", "oauth",
		"CONVIRZA_MCP_ADDR", ln.Addr().String(), "CONVIRZA_MCP_PUBLIC_URL", o.base)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app := o.h.Load()
		if app == nil {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		app.NewHTTP().ServeHTTP(w, r)
	}))
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return o
}

// start (re)starts the server with the host's settings and more; the one
// it replaces stops.
func (o *oauthHost) start(t *testing.T, more ...string) {
	t.Helper()
	cfg, err := config.Load(t.Context(), envconfig.MapLookuper(with(o.vars, more...)), config.NewFlags(flag.NewFlagSet("t", flag.ContinueOnError)))
	if err != nil {
		t.Fatal(err)
	}
	app, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	if old := o.h.Swap(app); old != nil {
		old.Close()
	}
}

type bearer string

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

// profile calls get_profile as the person whose access token tok is, in a
// session of its own, and returns the answer's text and whether it is an
// error.
func (o *oauthHost) profile(t *testing.T, tok string) (string, bool) {
	t.Helper()
	tr, err := transport.NewStreamableHTTP(o.base+"/mcp", transport.WithHTTPBasicClient(&http.Client{Transport: bearer(tok)}))
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr)
	defer c.Close()
	ctx := t.Context()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "rekey-test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		return err.Error(), true
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "get_profile"
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return err.Error(), true
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// personKey is where the server keeps the Convirza tokens of the person
// whose get_profile answered text.
func personKey(t *testing.T, text string) string {
	t.Helper()
	i := strings.Index(text, `"user_id":`)
	if i < 0 {
		t.Fatalf("get_profile names no user: %s", text)
	}
	digits := strings.TrimLeft(text[i+len(`"user_id":`):], " ")
	n := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' })
	if _, err := strconv.Atoi(digits[:n]); err != nil {
		t.Fatalf("get_profile's user_id: %s", text)
	}
	return "oauth/person/" + digits[:n] + "/convirza"
}

// The service account's stored tokens survive a rotation of the store
// key: the server restarted with key B and key A as the previous key uses
// the Convirza and Talkdesk tokens A sealed (no new login at Convirza, no
// new Talkdesk token) and re-seals them with B as it reads them.
func TestStoreKeyRotationKeepsTheServiceAccountsTokens(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	dir := t.TempDir()
	keyA, keyB := newStoreKey(), newStoreKey()
	varsA := with(upstreamEnv(sb, dir), "CONVIRZA_MCP_STORE_KEY", keyA)
	callOK(t, varsA, "get_group_tree")
	callOK(t, varsA, "list_record_lists")
	logins, talkdesk := sb.Logins(), sb.TalkdeskTokensIssued()
	if logins != 1 || talkdesk != 1 {
		t.Fatalf("%d logins and %d Talkdesk tokens before the rotation, want 1 and 1", logins, talkdesk)
	}
	if n := len(sealedRecords(t, dir)); n != 2 {
		t.Fatalf("%d sealed records, want 2 (Convirza, Talkdesk)", n)
	}

	varsBA := with(varsA, "CONVIRZA_MCP_STORE_KEY", keyB, "CONVIRZA_MCP_STORE_KEY_PREVIOUS", keyA)
	callOK(t, varsBA, "get_group_tree")
	callOK(t, varsBA, "list_record_lists")
	if sb.Logins() != logins || sb.TalkdeskTokensIssued() != talkdesk {
		t.Fatalf("after the rotation: %d logins and %d Talkdesk tokens, want %d and %d (the stored tokens reused)",
			sb.Logins(), sb.TalkdeskTokensIssued(), logins, talkdesk)
	}
	openWith(t, sealedRecords(t, dir), keyB)
}

// A person signed in under key A keeps working when the server restarts
// with key B and key A as the previous key: their next tool call
// succeeds, without signing in again, and their record is re-sealed with
// B. Another person, whose record is sealed with a key the server was not
// given, is told to sign in again, alone.
func TestStoreKeyRotationKeepsPeopleSignedIn(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	dir := t.TempDir()
	keyA, keyB := newStoreKey(), newStoreKey()
	host := newOAuthHost(t, with(upstreamEnv(sb, dir), "CONVIRZA_MCP_STORE_KEY", keyA))
	host.start(t)
	kept := testenv.SignIn(t, host.base, sandbox.StandardEmail, host.base+"/mcp")["access_token"].(string)
	lost := testenv.SignIn(t, host.base, sandbox.ReadOnlyEmail, host.base+"/mcp")["access_token"].(string)
	text, isErr := host.profile(t, kept)
	if isErr {
		t.Fatalf("before the rotation: %s", text)
	}
	keptKey := personKey(t, text)
	text, isErr = host.profile(t, lost)
	if isErr {
		t.Fatalf("before the rotation: %s", text)
	}
	lostKey := personKey(t, text)

	// The second person's record, sealed with a key nobody gives the server.
	st, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := store.OpenSealer(newStoreKey(), "", "", t.TempDir())
	if err := st.Put(t.Context(), lostKey, stranger.Seal([]byte(`{}`), []byte(lostKey)), 0); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()

	logins := sb.Logins()
	host.start(t, "CONVIRZA_MCP_STORE_KEY", keyB, "CONVIRZA_MCP_STORE_KEY_PREVIOUS", keyA)
	if text, isErr := host.profile(t, kept); isErr || !strings.Contains(text, sandbox.StandardEmail) {
		t.Fatalf("after the rotation, the person signed in under key A: %s", text)
	}
	if sb.Logins() != logins {
		t.Fatalf("%d logins at Convirza after the rotation, want %d", sb.Logins(), logins)
	}
	recs := sealedRecords(t, dir)
	openWith(t, map[string][]byte{keptKey: recs[keptKey]}, keyB)

	if text, isErr := host.profile(t, lost); !isErr || !strings.Contains(text, "sign in again") {
		t.Fatalf("the person whose record no key opens: %v %s; want to be told to sign in again", isErr, text)
	}
	if text, isErr := host.profile(t, kept); isErr {
		t.Fatalf("the first person after the other's sign-out: %s", text)
	}
}

// rekey re-seals every stored credential with the current key (the
// service account's and each person's), leaves what no key opens as it
// is, says how many of each; afterwards the server works with the new key
// alone: no login, no new Talkdesk token, the person still signed in.
func TestRekeyThenTheNewKeyAlone(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	dir := t.TempDir()
	keyA, keyB := newStoreKey(), newStoreKey()
	varsA := with(upstreamEnv(sb, dir), "CONVIRZA_MCP_STORE_KEY", keyA)
	callOK(t, varsA, "get_group_tree")
	callOK(t, varsA, "list_record_lists")
	host := newOAuthHost(t, varsA)
	host.start(t)
	person := testenv.SignIn(t, host.base, sandbox.StandardEmail, host.base+"/mcp")["access_token"].(string)
	if text, isErr := host.profile(t, person); isErr {
		t.Fatalf("before the rotation: %s", text)
	}
	host.h.Swap(nil).Close() // the server stops

	st, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := store.OpenSealer(newStoreKey(), "", "", t.TempDir())
	const strangerKey = "oauth/person/424242/convirza"
	strangerValue := stranger.Seal([]byte(`{}`), []byte(strangerKey))
	if err := st.Put(t.Context(), strangerKey, strangerValue, 0); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	before := sealedRecords(t, dir)
	if len(before) != 4 {
		t.Fatalf("%d sealed records, want 4 (Convirza, Talkdesk, two people)", len(before))
	}

	varsBA := with(varsA, "CONVIRZA_MCP_STORE_KEY", keyB, "CONVIRZA_MCP_STORE_KEY_PREVIOUS", keyA)
	code, out, errs := runWithEnv(t, varsBA, "rekey")
	if code != 0 || !strings.Contains(out, "re-sealed 3 record(s) with the current store key; 0 already current; 1 open with no key given (left untouched)") {
		t.Fatalf("rekey: exit %d\n%s%s", code, out, errs)
	}
	if strings.Contains(out+errs, keyA) || strings.Contains(out+errs, keyB) {
		t.Fatal("rekey printed a key")
	}
	after := sealedRecords(t, dir)
	if !bytes.Equal(after[strangerKey], strangerValue) {
		t.Fatal("rekey changed the record no key opens")
	}
	delete(after, strangerKey)
	openWith(t, after, keyB)
	code, out, errs = runWithEnv(t, varsBA, "rekey")
	if code != 0 || !strings.Contains(out, "re-sealed 0 record(s) with the current store key; 3 already current; 1 open with no key given") {
		t.Fatalf("rekey again: exit %d\n%s%s", code, out, errs)
	}

	logins, talkdesk := sb.Logins(), sb.TalkdeskTokensIssued()
	varsB := with(varsA, "CONVIRZA_MCP_STORE_KEY", keyB)
	callOK(t, varsB, "get_group_tree")
	callOK(t, varsB, "list_record_lists")
	if sb.Logins() != logins || sb.TalkdeskTokensIssued() != talkdesk {
		t.Fatalf("with the new key alone: %d logins and %d Talkdesk tokens, want %d and %d", sb.Logins(), sb.TalkdeskTokensIssued(), logins, talkdesk)
	}
	host.start(t, "CONVIRZA_MCP_STORE_KEY", keyB)
	if text, isErr := host.profile(t, person); isErr || !strings.Contains(text, sandbox.StandardEmail) {
		t.Fatalf("the person, with the new key alone: %s", text)
	}
}

// A wrong CONVIRZA_MCP_STORE_KEY_PREVIOUS stops every command before it
// starts, naming the variable and showing no key.
func TestBadPreviousStoreKeyStopsStartUp(t *testing.T) {
	good := newStoreKey()
	short := base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	for _, bad := range []string{short, good + "," + short, "garbage!*", good + ",garbage!*"} {
		for _, cmd := range []string{"serve", "rekey", "call"} {
			vars := map[string]string{"CONVIRZA_MCP_STATE_DIR": t.TempDir(), "CONVIRZA_MCP_STORE_KEY": good, "CONVIRZA_MCP_STORE_KEY_PREVIOUS": bad}
			code, out, errs := runWithEnv(t, vars, cmd, "--sandbox")
			if code != 2 || !strings.Contains(errs, "CONVIRZA_MCP_STORE_KEY_PREVIOUS") {
				t.Errorf("%s with %q: exit %d %s; want 2 and the variable named", cmd, bad, code, errs)
			}
			for _, v := range append(strings.Split(bad, ","), good) {
				if strings.Contains(out+errs, strings.TrimRight(v, "=")) {
					t.Errorf("%s with %q: the message shows key material: %s", cmd, bad, errs)
				}
			}
		}
	}
}
