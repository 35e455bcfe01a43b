package convirza

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
	"github.com/convirza/convirza-mcp/internal/testenv/syncbuf"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

// These tests run the client against the simulator with the embedded
// store. Each store.Open of one directory is what a separate process has
// (its own in-memory locks; the file lock shared), so several clients on
// several openings of one directory are several processes sharing a
// store; TestRenewalStormAcrossProcesses runs real ones.

func newKey(t testing.TB) []byte {
	t.Helper()
	key := make([]byte, store.KeySize)
	_, _ = rand.Read(key)
	return key
}

func sealerOf(t testing.TB, key []byte) *store.Sealer {
	t.Helper()
	s, err := store.NewSealer(key, "test key")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openStore(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// storedHTTP is an upstream client whose idle connections are closed when
// the test ends, before the simulator's graceful Close waits on them.
func storedHTTP(t testing.TB) *upstream.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := upstream.New(&http.Client{Transport: tr}, upstream.Policy{Timeout: 5 * time.Second}, nil)
	c.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return c
}

// storedClient is a client keeping its tokens in the store in dir, sealed
// with key; cfg says how it signs in (the sandbox's URLs are filled in).
func storedClient(t testing.TB, sb *sandbox.Running, dir string, key []byte, cfg Config) *Client {
	t.Helper()
	cfg.APIURL, cfg.OAuthURL = sb.APIURL, sb.OAuthURL
	cfg.Store, cfg.Sealer = openStore(t, dir), sealerOf(t, key)
	return New(cfg, storedHTTP(t), nil)
}

var demoLogin = Config{Email: sandbox.DemoEmail, Password: sandbox.DemoPassword}

// stored returns the record the client keeps (nil when none).
func stored(t testing.TB, c *Client) *record {
	t.Helper()
	raw, err := c.tokens.shared.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if raw == nil {
		return nil
	}
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// bootTokens logs in the way another tool would and returns the tokens.
func bootTokens(t testing.TB, sb *sandbox.Running) (access, refresh string) {
	t.Helper()
	boot := demoClient(sb)
	if _, err := boot.Groups.Get(context.Background(), 1002); err != nil {
		t.Fatal(err)
	}
	boot.tokens.mu.Lock()
	defer boot.tokens.mu.Unlock()
	return boot.tokens.access, boot.tokens.refresh
}

// sandboxAccepts reports whether the simulator takes an access token now.
func sandboxAccepts(t testing.TB, sb *sandbox.Running, access string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, sb.APIURL+"/groups/1002", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// sandboxRefreshes reports whether the simulator takes a refresh token
// (and so uses it up).
func sandboxRefreshes(t testing.TB, sb *sandbox.Running, refresh string) bool {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"refresh_token": refresh})
	resp, err := http.Post(sb.OAuthURL+"/oauth/refresh-token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestRotatedRefreshTokenSurvivesRestart: a process given
// CONVIRZA_REFRESH_TOKEN uses it up at its first refresh; a process started
// later with the same variable and store uses the rotated successor, not
// the dead original (which would be a 401).
func TestRotatedRefreshTokenSurvivesRestart(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	dir, key := t.TempDir(), newKey(t)
	_, seed := bootTokens(t, sb)
	ctx := context.Background()

	first := storedClient(t, sb, dir, key, Config{RefreshToken: seed})
	if _, err := first.Groups.Get(ctx, 1002); err != nil {
		t.Fatalf("first process: %v", err)
	}
	if sb.Refreshes() != 1 {
		t.Fatalf("%d refreshes, want 1", sb.Refreshes())
	}
	// The first process stops; the second starts with the same variable.
	second := storedClient(t, sb, dir, key, Config{RefreshToken: seed})
	if _, err := second.Groups.Get(ctx, 1002); err != nil {
		t.Fatalf("second process: %v", err)
	}
	if sb.Refreshes() != 1 {
		t.Fatalf("the stored access token was not reused: %d refreshes", sb.Refreshes())
	}
	// Its access token expires: it refreshes with the stored successor.
	sb.ExpireAccessTokens()
	if _, err := second.Groups.Get(ctx, 1002); err != nil {
		t.Fatalf("second process after expiry: %v", err)
	}
	if sb.Refreshes() != 2 || sb.Logins() != 1 {
		t.Fatalf("refreshes %d, logins %d; want 2 and 1 (the boot's)", sb.Refreshes(), sb.Logins())
	}
}

// TestNewSeedReplacesTheStoredLineage: an operator who sets another
// CONVIRZA_REFRESH_TOKEN means it: the client refreshes with it, not with
// the stored successor of the previous one.
func TestNewSeedReplacesTheStoredLineage(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	dir, key := t.TempDir(), newKey(t)
	ctx := context.Background()
	_, seed1 := bootTokens(t, sb)
	_, seed2 := bootTokens(t, sb)
	// The identity is the email: both configurations share one record.
	first := storedClient(t, sb, dir, key, Config{Email: sandbox.DemoEmail, RefreshToken: seed1})
	if _, err := first.Groups.Get(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	lineage := stored(t, first).Refresh
	second := storedClient(t, sb, dir, key, Config{Email: sandbox.DemoEmail, RefreshToken: seed2})
	if _, err := second.Groups.Get(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	if sandboxRefreshes(t, sb, seed2) {
		t.Fatal("the new CONVIRZA_REFRESH_TOKEN was not used")
	}
	if !sandboxRefreshes(t, sb, lineage) {
		t.Fatal("the stored refresh token of the old seed was used instead of the new seed")
	}
}

// TestRenewalStormAcrossClients: three clients (three processes' worth:
// each its own store opening) share one store; every expiry of the access
// token, by the clock or by the upstream's 401, under many concurrent
// calls, makes exactly one refresh, and no call fails.
func TestRenewalStormAcrossClients(t *testing.T) {
	clk := sandbox.NewClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	sb := sandboxenv.Start(t, sandbox.Options{Now: clk.Now, AccessTTL: time.Hour})
	dir, key := t.TempDir(), newKey(t)
	clients := make([]*Client, 3)
	for i := range clients {
		clients[i] = storedClient(t, sb, dir, key, demoLogin)
		clients[i].tokens.now = clk.Now
	}
	storm := func(what string) {
		t.Helper()
		n := sandboxenv.Storm(t, 60, func(i int) error {
			_, err := clients[i%3].Groups.Get(context.Background(), 1042)
			return err
		})
		if n != 0 {
			t.Fatalf("%s: %d calls failed", what, n)
		}
	}
	storm("first use")
	if sb.Logins() != 1 || sb.Refreshes() != 0 {
		t.Fatalf("first use: %d logins, %d refreshes; want 1 and 0", sb.Logins(), sb.Refreshes())
	}
	for round := 1; round <= 3; round++ {
		if round%2 == 1 {
			clk.Advance(time.Hour) // expired, and every client knows it
		} else {
			sb.ExpireAccessTokens() // the upstream refuses it: 401s
		}
		storm(fmt.Sprintf("round %d", round))
		if got := sb.Refreshes(); got != round {
			t.Fatalf("round %d: %d refreshes in all, want %d", round, got, round)
		}
	}
	if sb.Logins() != 1 {
		t.Fatalf("%d logins, want 1", sb.Logins())
	}
}

// TestRenewalStormAcrossProcesses runs the storm in three real processes
// (this test binary, run again): the stored access token is refused, each
// process sends many calls at once, and one refresh serves them all.
func TestRenewalStormAcrossProcesses(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	dir, key := t.TempDir(), newKey(t)
	first := storedClient(t, sb, dir, key, demoLogin)
	if _, err := first.Groups.Get(context.Background(), 1002); err != nil {
		t.Fatal(err)
	}
	sb.ExpireAccessTokens()
	procs := make([]*exec.Cmd, 3)
	outs := make([]bytes.Buffer, len(procs))
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			stormEnv+"=1", "STORM_DIR="+dir, "STORM_KEY="+fmt.Sprintf("%x", key),
			"STORM_API="+sb.APIURL, "STORM_OAUTH="+sb.OAuthURL)
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		procs[i] = cmd
	}
	for i, cmd := range procs {
		if err := cmd.Start(); err != nil {
			t.Fatalf("process %d: %v", i, err)
		}
	}
	for i, cmd := range procs {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, outs[i].String())
		}
	}
	if sb.Refreshes() != 1 || sb.Logins() != 1 {
		t.Fatalf("%d refreshes and %d logins across the processes; want 1 and 1 (the first's)", sb.Refreshes(), sb.Logins())
	}
}

const stormEnv = "CONVIRZA_TEST_STORM_CHILD"

// TestMain runs a storm child when TestRenewalStormAcrossProcesses asks.
func TestMain(m *testing.M) {
	if os.Getenv(stormEnv) == "1" {
		os.Exit(stormChild())
	}
	os.Exit(m.Run())
}

// stormChild is one process of the storm: 40 concurrent calls with the
// client the server builds (embedded store, sealed tokens).
func stormChild() int {
	var key []byte
	if _, err := fmt.Sscanf(os.Getenv("STORM_KEY"), "%x", &key); err != nil {
		fmt.Println("key:", err)
		return 2
	}
	sealer, err := store.NewSealer(key, "test key")
	if err != nil {
		fmt.Println(err)
		return 2
	}
	st, err := store.Open(context.Background(), "", os.Getenv("STORM_DIR"))
	if err != nil {
		fmt.Println(err)
		return 2
	}
	defer func() { _ = st.Close() }()
	c := New(Config{APIURL: os.Getenv("STORM_API"), OAuthURL: os.Getenv("STORM_OAUTH"),
		Email: sandbox.DemoEmail, Password: sandbox.DemoPassword, Store: st, Sealer: sealer},
		upstream.New(nil, upstream.Policy{Timeout: 5 * time.Second}, nil), nil)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Groups.Get(context.Background(), 1042); err != nil {
				failed.Add(1)
				fmt.Println("call:", err)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		return 1
	}
	return 0
}

// TestLoginRateLimitAcrossClients: the upstream allows 10 logins a minute
// per IP; clients sharing a store count together and refuse the 11th
// with a clear error instead of calling.
func TestLoginRateLimitAcrossClients(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	dir, key := t.TempDir(), newKey(t)
	clients := []*Client{storedClient(t, sb, dir, key, demoLogin), storedClient(t, sb, dir, key, demoLogin)}
	ctx := context.Background()
	// forceLogin makes a client log in again: nothing stored, nothing held.
	forceLogin := func(c *Client) error {
		if err := c.tokens.shared.Forget(ctx); err != nil {
			t.Fatal(err)
		}
		c.tokens.mu.Lock()
		c.tokens.access, c.tokens.refresh = "", ""
		c.tokens.mu.Unlock()
		_, err := c.tokens.Token(ctx)
		return err
	}
	for i := 0; i < loginLimit; i++ {
		if err := forceLogin(clients[i%2]); err != nil {
			t.Fatalf("login %d: %v", i+1, err)
		}
	}
	err := forceLogin(clients[1])
	if err == nil || !strings.Contains(err.Error(), "allows 10 logins a minute") || !strings.Contains(err.Error(), "retry in") {
		t.Fatalf("11th login: %v", err)
	}
	if sb.Logins() != loginLimit {
		t.Fatalf("the upstream saw %d logins, want %d (the 11th must not be sent)", sb.Logins(), loginLimit)
	}
}

// TestLoginWindowArithmetic: a login is allowed while this minute's and
// the last minute's counts stay within the limit, so no 60 seconds hold
// more than 10; the wait named is until that is true again.
func TestLoginWindowArithmetic(t *testing.T) {
	st := openStore(t, t.TempDir())
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 10, 0, 50, 0, time.UTC) // 10 s before a minute ends
	ts := &tokenSource{now: func() time.Time { return at }, loginKey: "ratelimit/test/",
		shared: &upstream.Shared{Store: st, Sealer: sealerOf(t, newKey(t)), Key: "upstream/test", Hold: time.Second}}
	for i := 0; i < 7; i++ {
		if err := ts.allowLogin(ctx); err != nil {
			t.Fatal(err)
		}
	}
	at = at.Add(15 * time.Second) // the next minute: 7 in the last, 3 more allowed
	for i := 0; i < 3; i++ {
		if err := ts.allowLogin(ctx); err != nil {
			t.Fatalf("login %d of the next minute: %v", i+1, err)
		}
	}
	if err := ts.allowLogin(ctx); err == nil || !strings.Contains(err.Error(), "retry in 55 s") {
		t.Fatalf("want a refusal until the minute ends: %v", err)
	}
	at = at.Add(55 * time.Second) // the 7 are two minutes old: 7 more allowed
	for i := 0; i < 7; i++ {
		if err := ts.allowLogin(ctx); err != nil {
			t.Fatalf("login %d after the minute: %v", i+1, err)
		}
	}
	if err := ts.allowLogin(ctx); err == nil {
		t.Fatal("an 11th login within 60 s")
	}
}

// TestLogoutRevokesAndForgets: logout revokes the stored access and
// refresh tokens at the upstream and deletes the record; a running client
// then signs in again.
func TestLogoutRevokesAndForgets(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	dir, key := t.TempDir(), newKey(t)
	ctx := context.Background()
	c := storedClient(t, sb, dir, key, demoLogin)
	if _, err := c.Groups.Get(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	r := stored(t, c)
	if r == nil || r.Access == "" || r.Refresh == "" {
		t.Fatalf("stored: %+v", r)
	}
	// The logout command is another process with the same configuration.
	out := storedClient(t, sb, dir, key, demoLogin)
	res, err := out.Logout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stored || strings.Join(res.Revoked, ",") != "access,refresh" || len(res.Kept) != 0 {
		t.Fatalf("logout: %+v", res)
	}
	if sandboxAccepts(t, sb, r.Access) {
		t.Fatal("the stored access token still works")
	}
	if sandboxRefreshes(t, sb, r.Refresh) {
		t.Fatal("the stored refresh token still works")
	}
	if stored(t, c) != nil {
		t.Fatal("the record is still there")
	}
	// The running client's token was revoked: it signs in again.
	if _, err := c.Groups.Get(ctx, 1002); err != nil {
		t.Fatalf("after logout: %v", err)
	}
	if sb.Logins() != 2 {
		t.Fatalf("%d logins, want 2", sb.Logins())
	}
	if res, err := out.Logout(ctx); err != nil || !res.Stored {
		t.Fatalf("second logout: %+v %v", res, err)
	}
	if res, err := out.Logout(ctx); err != nil || res.Stored || len(res.Revoked) != 0 {
		t.Fatalf("nothing stored: %+v %v", res, err)
	}
}

// TestLogoutNeverRevokesTheGivenAccessToken: CONVIRZA_ACCESS_TOKEN is the
// operator's; logout revokes only what the server obtained.
func TestLogoutNeverRevokesTheGivenAccessToken(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	dir, key := t.TempDir(), newKey(t)
	ctx := context.Background()
	given, _ := bootTokens(t, sb)
	cfg := demoLogin
	cfg.AccessToken = given
	c := storedClient(t, sb, dir, key, cfg)
	if _, err := c.Groups.Get(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Logout(ctx); err != nil || res.Stored || len(res.Revoked) != 0 {
		t.Fatalf("nothing obtained yet: %+v %v", res, err)
	}
	if !sandboxAccepts(t, sb, given) {
		t.Fatal("the given access token was revoked")
	}
	// The server obtains tokens of its own (the given one was refused once).
	c.tokens.Invalidate(given)
	if _, err := c.Groups.Get(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	obtained := stored(t, c)
	if obtained == nil || obtained.Access == given {
		t.Fatalf("stored: %+v", obtained)
	}
	res, err := c.Logout(ctx)
	if err != nil || len(res.Revoked) != 2 {
		t.Fatalf("logout: %+v %v", res, err)
	}
	if sandboxAccepts(t, sb, obtained.Access) || !sandboxAccepts(t, sb, given) {
		t.Fatal("logout must revoke the obtained token and only it")
	}
}

// TestRecordSealedWithAnotherKeyFailsClosed: tokens stored under another
// store key do not open; the client signs in again and stores anew.
func TestRecordSealedWithAnotherKeyFailsClosed(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	dir := t.TempDir()
	ctx := context.Background()
	a := storedClient(t, sb, dir, newKey(t), demoLogin)
	if _, err := a.Groups.Get(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	b := storedClient(t, sb, dir, newKey(t), demoLogin)
	if _, err := b.Groups.Get(ctx, 1002); err != nil {
		t.Fatal(err)
	}
	if sb.Logins() != 2 {
		t.Fatalf("%d logins, want 2 (the other key's record is unusable)", sb.Logins())
	}
	if r := stored(t, b); r == nil || r.Access == "" {
		t.Fatal("the new key's record was not stored")
	}
}

// TestStoreDownKeepsReadsWorking: with the store unreachable the client
// keeps its tokens in memory (one login, reused), and warns once.
func TestStoreDownKeepsReadsWorking(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	st := openStore(t, t.TempDir())
	_ = st.Close() // every operation now fails with ErrUnavailable
	var logged syncbuf.Buffer
	c := New(Config{APIURL: sb.APIURL, OAuthURL: sb.OAuthURL, Email: sandbox.DemoEmail, Password: sandbox.DemoPassword,
		Store: st, Sealer: sealerOf(t, newKey(t))}, storedHTTP(t), slog.New(slog.NewTextHandler(&logged, nil)))
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := c.Groups.Get(ctx, 1002); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	sb.ExpireAccessTokens()
	if _, err := c.Groups.Get(ctx, 1002); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if sb.Logins() != 1 || sb.Refreshes() != 1 {
		t.Fatalf("%d logins, %d refreshes; want 1 and 1", sb.Logins(), sb.Refreshes())
	}
	if n := strings.Count(logged.String(), "cannot be reached"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logged.String())
	}
}

// People's sign-ins (LoginAdmitted) and the token source count logins to
// one Convirza OAuth service together, however its URL is spelled at the
// end: ten in all, then a wait.
func TestLoginAdmittedIsOneCount(t *testing.T) {
	st, err := store.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	now := time.Date(2026, 11, 30, 12, 0, 10, 0, time.UTC)
	for i := range 10 {
		url := "https://platform-oauth.example"
		if i%2 == 1 {
			url += "/"
		}
		if wait, err := LoginAdmitted(context.Background(), st, url, now); err != nil || wait != 0 {
			t.Fatalf("login %d: wait %d, %v", i, wait, err)
		}
	}
	if wait, err := LoginAdmitted(context.Background(), st, "https://platform-oauth.example/", now); err != nil || wait <= 0 {
		t.Fatalf("the eleventh login: wait %d, %v", wait, err)
	}
}
