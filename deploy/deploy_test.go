package deploy_test

// Tests of the scaled-out deployment on the real parts: deploy/local.sh
// starts redis-server, the standalone simulator (`convirza-mcp sandbox`),
// three replicas and HAProxy on free loopback ports, and the tests drive
// them with mcp-go clients on the stateless 2026-07-28 protocol, reading
// the simulator's counters (GET /_sandbox/stats) to see what reached the
// upstream.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// optOut names the variable that skips these tests on purpose.
const optOut = "CONVIRZA_MCP_NO_DEPLOY_TEST"

// tokenMode is the replicas' setting for tests that redeem tokens
// themselves; the per-client cap is lifted because every test client
// holds the one bearer token.
var tokenMode = []string{
	"CONVIRZA_MCP_CONFIRMATION_MODE=token",
	"CONVIRZA_MCP_MAX_CALLS_PER_CLIENT=1000",
	"CONVIRZA_MCP_LOG_LEVEL=warn",
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// root is the repository's top directory (go test runs in deploy/).
func root(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// searchPath is PATH with the system directories Debian puts haproxy and
// redis-server in, which a non-root PATH may lack.
func searchPath() string {
	return os.Getenv("PATH") + string(os.PathListSeparator) + "/usr/sbin" + string(os.PathListSeparator) + "/sbin"
}

func lookPath(name string) bool {
	for _, dir := range filepath.SplitList(searchPath()) {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return true
		}
	}
	return false
}

// prerequisites fails the test, naming what is missing, unless the tests
// are opted out.
func prerequisites(t testing.TB) {
	t.Helper()
	if os.Getenv(optOut) == "1" {
		t.Skipf("%s=1: deployment tests opted out", optOut)
	}
	var missing []string
	for _, c := range []string{"bash", "curl", "redis-server", "haproxy"} {
		if !lookPath(c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("the deployment tests need %s (Debian: apt-get install redis-server haproxy curl; .ci/run installs them); set %s=1 to skip them on purpose",
			strings.Join(missing, ", "), optOut)
	}
}

// binary is the server binary: CONVIRZA_MCP_BIN, or one built for this run.
func binary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("CONVIRZA_MCP_BIN"); b != "" {
		return b
	}
	buildOnce.Do(func() {
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		buildDir, buildErr = os.MkdirTemp("", "convirza-mcp-deploy-bin-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "convirza-mcp")
		cmd := exec.Command(goTool, "build", "-o", builtBin, "./cmd/convirza-mcp")
		cmd.Dir = root(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// freePorts returns n loopback ports free at the time of asking.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// deployment is one run of deploy/local.sh.
type deployment struct {
	t        *testing.T
	script   string
	dir      string // RUN_DIR: pid files, logs, secrets
	env      []string
	front    string    // HAProxy's base URL
	replicas [3]string // the replicas' base URLs
	sandbox  string    // the simulator's base URL
	token    string    // the bearer token
}

type options struct {
	accessTTL string   // the simulator's access-token lifetime
	env       []string // NAME=value for every replica
}

// start runs local.sh start on free ports; local.sh stop runs when the test
// ends (after printing the logs' tails if it failed).
func start(t *testing.T, o options) *deployment {
	t.Helper()
	prerequisites(t)
	bin := binary(t)
	p := freePorts(t, 6)
	d := &deployment{t: t, script: filepath.Join(root(t), "deploy", "local.sh"), dir: t.TempDir(),
		front:   fmt.Sprintf("http://127.0.0.1:%d", p[0]),
		sandbox: fmt.Sprintf("http://127.0.0.1:%d", p[5])}
	for i := range d.replicas {
		d.replicas[i] = fmt.Sprintf("http://127.0.0.1:%d", p[1+i])
	}
	for _, kv := range os.Environ() {
		// The replicas' settings are the script's and the test's alone.
		if !strings.HasPrefix(kv, "CONVIRZA_") && !strings.HasPrefix(kv, "TALKDESK_") && !strings.HasPrefix(kv, "PATH=") {
			d.env = append(d.env, kv)
		}
	}
	d.env = append(d.env, "PATH="+searchPath(), "CONVIRZA_MCP_BIN="+bin, "RUN_DIR="+d.dir,
		"FRONT_PORT="+strconv.Itoa(p[0]), fmt.Sprintf("REPLICA_PORTS=%d %d %d", p[1], p[2], p[3]),
		"REDIS_PORT="+strconv.Itoa(p[4]), "SANDBOX_PORT="+strconv.Itoa(p[5]),
		"ACCESS_TTL="+o.accessTTL, "REPLICA_ENV="+strings.Join(o.env, " "))
	t.Cleanup(d.stop) // a start that failed half-way is torn down too
	if out, err := d.run("start"); err != nil {
		t.Fatalf("local.sh start: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(d.dir, "auth-token"))
	if err != nil {
		t.Fatal(err)
	}
	d.token = strings.NewReplacer("/", "", "+", "", "=", "").Replace(strings.TrimSpace(string(raw)))
	return d
}

// run runs local.sh with arg (and more), its output in a file (the
// daemons it starts must not hold a pipe of ours open).
func (d *deployment) run(arg string, more ...string) (string, error) {
	out := filepath.Join(d.dir, "local.sh-"+strings.Join(append([]string{arg}, more...), "-")+".out")
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{d.script, arg}, more...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = d.env, f, f
	err = cmd.Run()
	_ = f.Close()
	b, _ := os.ReadFile(out)
	return string(b), err
}

func (d *deployment) stop() {
	if d.t.Failed() {
		for _, name := range []string{"replica1", "replica2", "replica3", "sandbox", "redis"} {
			b, err := os.ReadFile(filepath.Join(d.dir, name+".log"))
			if err != nil {
				continue
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			d.t.Logf("%s.log, last lines:\n%s", name, strings.Join(lines[max(0, len(lines)-15):], "\n"))
		}
	}
	if out, err := d.run("stop"); err != nil {
		d.t.Errorf("local.sh stop: %v\n%s", err, out)
	}
}

// pid reads the pid file local.sh wrote for name (replica1, …).
func (d *deployment) pid(name string) int {
	d.t.Helper()
	b, err := os.ReadFile(filepath.Join(d.dir, name+".pid"))
	if err != nil {
		d.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		d.t.Fatalf("%s.pid: %v", name, err)
	}
	return pid
}

// sandboxStats are the simulator's counters.
type sandboxStats struct {
	Logins    int            `json:"logins"`
	Refreshes int            `json:"refreshes"`
	Writes    map[string]int `json:"writes"`
}

func (d *deployment) stats() sandboxStats {
	d.t.Helper()
	res, err := http.Get(d.sandbox + "/_sandbox/stats")
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	var s sandboxStats
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		d.t.Fatalf("stats: %v", err)
	}
	return s
}

// clientTransport is shared by every test client: enough idle connections
// that hundreds of concurrent clients reuse theirs.
var clientTransport = &http.Transport{
	DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	MaxIdleConns:        2048,
	MaxIdleConnsPerHost: 1024,
	IdleConnTimeout:     30 * time.Second,
}

type withBearer struct {
	token string
	next  http.RoundTripper
}

func (b withBearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// client connects an mcp-go client to base (the front or one replica) on
// the stateless 2026-07-28 protocol, its default.
func (d *deployment) client(base string) *client.Client {
	d.t.Helper()
	return d.dial(base, "http", "")
}

// dial connects an mcp-go client to base over kind ("http": Streamable
// HTTP, "sse": legacy SSE), pinned to protocol ("" is the client's
// default, the stateless 2026-07-28 revision).
func (d *deployment) dial(base, kind, protocol string, opts ...client.ClientOption) *client.Client {
	d.t.Helper()
	hc := &http.Client{Transport: withBearer{d.token, clientTransport}}
	var (
		tr  transport.Interface
		err error
	)
	switch kind {
	case "http":
		hc.Timeout = 30 * time.Second
		tr, err = transport.NewStreamableHTTP(base+"/mcp", transport.WithHTTPBasicClient(hc))
	case "sse":
		tr, err = transport.NewSSE(base+"/sse", transport.WithHTTPClient(hc))
	default:
		err = fmt.Errorf("unknown transport %q", kind)
	}
	if err != nil {
		d.t.Fatal(err)
	}
	if protocol != "" {
		opts = append(opts, client.WithProtocolVersion(protocol))
	}
	c := client.NewClient(tr, opts...)
	d.t.Cleanup(func() { _ = c.Close() })
	if err := c.Start(d.t.Context()); err != nil {
		d.t.Fatalf("start %s client of %s: %v", kind, base, err)
	}
	ctx, cancel := context.WithTimeout(d.t.Context(), 30*time.Second)
	defer cancel()
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "deploy-test", Version: "1"}
	init.Params.ProtocolVersion = protocol
	if _, err := c.Initialize(ctx, init); err != nil {
		d.t.Fatalf("initialize %s at %s: %v", kind, base, err)
	}
	return c
}

func call(ctx context.Context, c *client.Client, tool string, args map[string]any) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	return c.CallTool(ctx, req)
}

// retried calls an idempotent tool again after a transport error (a
// replica gone mid-call), as a client should, up to a bound.
func retried(ctx context.Context, c *client.Client, tool string, args map[string]any, retries *atomic.Int64) (*mcp.CallToolResult, error) {
	for try := 0; ; try++ {
		res, err := call(ctx, c, tool, args)
		if err == nil || try == 50 || ctx.Err() != nil {
			return res, err
		}
		retries.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func text(res *mcp.CallToolResult) string {
	if res == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func structured(res *mcp.CallToolResult) map[string]any {
	var m map[string]any
	if res == nil {
		return m
	}
	b, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(b, &m)
	return m
}

// createWebhook creates a webhook (a reversible write) and returns its id.
func createWebhook(ctx context.Context, c *client.Client, name string) (int64, error) {
	res, err := call(ctx, c, "create_webhook", map[string]any{"webhook_name": name, "webhook_url": "https://hooks.example.com/deploy-test",
		"webhook_type": "post_call", "org_unit_id": 1052})
	if err != nil {
		return 0, err
	}
	id, ok := structured(res)["webhook_id"].(float64)
	if res.IsError || !ok {
		return 0, fmt.Errorf("create_webhook: %s", text(res))
	}
	return int64(id), nil
}

// issue asks to delete webhook id and returns the confirmation token.
func issue(ctx context.Context, c *client.Client, id int64) (string, error) {
	res, err := call(ctx, c, "delete_webhook", map[string]any{"id": id})
	if err != nil {
		return "", err
	}
	sc := structured(res)
	tok, _ := sc["confirmation_token"].(string)
	if sc["status"] != "confirmation_required" || tok == "" {
		return "", fmt.Errorf("delete_webhook without a token: %s", text(res))
	}
	return tok, nil
}

func redeem(ctx context.Context, c *client.Client, id int64, tok string) (*mcp.CallToolResult, error) {
	return call(ctx, c, "delete_webhook", map[string]any{"id": id, "confirmation_token": tok})
}

func executed(res *mcp.CallToolResult) bool {
	return res != nil && !res.IsError && structured(res)["status"] == "deleted"
}

func deleteKey(id int64) string { return fmt.Sprintf("DELETE /v3/webhooks/%d", id) }

// TestTokenAcrossReplicas: a confirmation token issued by one replica is
// honoured once by another and refused everywhere after; one token
// redeemed 100 times at once over the three replicas executes once.
func TestTokenAcrossReplicas(t *testing.T) {
	d := start(t, options{env: tokenMode})
	ctx := t.Context()
	var r [3]*client.Client
	for i, base := range d.replicas {
		r[i] = d.client(base)
	}
	front := d.client(d.front)

	id, err := createWebhook(ctx, r[0], "across replicas")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := issue(ctx, r[0], id)
	if err != nil {
		t.Fatal(err)
	}
	res, err := redeem(ctx, r[1], id, tok)
	if err != nil || !executed(res) {
		t.Fatalf("a token issued by replica 1, redeemed at replica 2: %v %s", err, text(res))
	}
	for i, c := range []*client.Client{r[0], r[1], r[2], front} {
		res, err := redeem(ctx, c, id, tok)
		if err != nil || !res.IsError || !strings.Contains(text(res), "already used") {
			t.Errorf("the spent token again at %d (3: the front): %v %s", i, err, text(res))
		}
	}
	if n := d.stats().Writes[deleteKey(id)]; n != 1 {
		t.Errorf("%s: %d times upstream, want 1", deleteKey(id), n)
	}

	id, err = createWebhook(ctx, r[0], "raced token")
	if err != nil {
		t.Fatal(err)
	}
	if tok, err = issue(ctx, r[2], id); err != nil {
		t.Fatal(err)
	}
	const racers = 100
	results := make([]*mcp.CallToolResult, racers)
	errs := make([]error, racers)
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-ready
			results[i], errs[i] = redeem(ctx, r[i%3], id, tok)
		})
	}
	close(ready)
	wg.Wait()
	honoured := 0
	for i, res := range results {
		switch {
		case errs[i] != nil:
			t.Errorf("redemption %d: %v", i, errs[i])
		case executed(res):
			honoured++
		case !strings.Contains(text(res), "already used"):
			t.Errorf("redemption %d refused for another reason: %s", i, text(res))
		}
	}
	if honoured != 1 {
		t.Errorf("%d of %d concurrent redemptions of one token executed, want 1", honoured, racers)
	}
	if n := d.stats().Writes[deleteKey(id)]; n != 1 {
		t.Errorf("%s: %d times upstream after %d concurrent redemptions, want 1", deleteKey(id), n, racers)
	}
}

// accept answers every question with yes, as a person would.
type accept struct{ asked *atomic.Int64 }

func (a accept) Elicit(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	a.asked.Add(1)
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"confirm": true}}}, nil
}

// TestSessionsThroughBalancer: every client a replica can ask gets its
// deletions confirmed through the balancer, and every other one its calls
// answered, round after round over the three replicas. The stateless
// revision needs no affinity (its question and answer travel in the
// requests); a legacy Streamable HTTP session does (its answer is a request
// of its own that must reach the replica waiting for it: haproxy.cfg
// sticks to the replica that issued the Mcp-Session-Id), and so does a
// legacy SSE stream and its posts (balanced by client address).
func TestSessionsThroughBalancer(t *testing.T) {
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte("confirmation:\n  mode: elicitation\n  client_elicitation: trusted\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := start(t, options{env: []string{"CONVIRZA_MCP_POLICY=" + pol, "CONVIRZA_MCP_MAX_CALLS_PER_CLIENT=1000", "CONVIRZA_MCP_LOG_LEVEL=warn"}})
	for _, protocol := range []string{"", mcp.ProtocolVersion20250618, mcp.ProtocolVersion20251125} {
		var asked atomic.Int64
		c := d.dial(d.front, "http", protocol, client.WithElicitationHandler(accept{&asked}))
		for i := range 6 { // two rounds of the three replicas, two calls each
			ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
			id, err := createWebhook(ctx, c, fmt.Sprintf("affinity %s %d", protocol, i))
			var res *mcp.CallToolResult
			if err == nil {
				res, err = call(ctx, c, "delete_webhook", map[string]any{"id": id})
			}
			cancel()
			if err != nil || !executed(res) {
				t.Errorf("protocol %q: deletion %d confirmed through the balancer: %v %s", protocol, i, err, text(res))
				break
			}
		}
		if n := asked.Load(); n != 6 {
			t.Errorf("protocol %q: %d questions for 6 deletions", protocol, n)
		}
	}
	c := d.dial(d.front, "sse", mcp.ProtocolVersion20250618)
	for i := range 12 {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		res, err := call(ctx, c, "get_group", map[string]any{"id": 1042})
		cancel()
		if err != nil || res.IsError {
			t.Errorf("SSE: call %d through the balancer: %v %s", i, err, text(res))
			break
		}
	}
}

// TestRenewalStorm: the simulator's access tokens live 3 s; 200 clients
// call through the balancer without pause for 10 s. No call fails, and the
// upstream sees about one renewal per expiry for the whole deployment, not
// one per replica or per call.
func TestRenewalStorm(t *testing.T) {
	const (
		ttl      = 3 * time.Second
		clients  = 200
		duration = 10 * time.Second
	)
	d := start(t, options{accessTTL: ttl.String(), env: tokenMode})
	ctx := t.Context()
	cs := make([]*client.Client, clients)
	for i := range cs {
		cs[i] = d.client(d.front)
	}
	before := d.stats()
	var (
		ok, failed atomic.Int64
		firstErr   atomic.Value
		wg         sync.WaitGroup
	)
	begin := time.Now()
	deadline := begin.Add(duration)
	for _, c := range cs {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				res, err := call(ctx, c, "get_group", map[string]any{"id": 1042})
				switch {
				case err != nil:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				case res.IsError:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, text(res))
				default:
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	after := d.stats()
	refreshes, logins := after.Refreshes-before.Refreshes, after.Logins-before.Logins
	expiries := int(elapsed/ttl) + 1
	t.Logf("%d calls in %s (%.0f/s), %d failed; upstream: %d logins, %d refreshes for %d token lifetimes",
		ok.Load()+failed.Load(), elapsed.Round(time.Millisecond), float64(ok.Load())/elapsed.Seconds(), failed.Load(), logins, refreshes, expiries)
	if failed.Load() > 0 {
		t.Errorf("%d of %d calls failed; first: %v", failed.Load(), ok.Load()+failed.Load(), firstErr.Load())
	}
	if logins > 1 {
		t.Errorf("%d logins: the replicas did not share one", logins)
	}
	if renewals := refreshes + logins; renewals > 2*expiries+1 {
		t.Errorf("%d renewals (%d refreshes, %d logins) for %d token lifetimes: not shared by the replicas", renewals, refreshes, logins, expiries)
	}
	if refreshes < expiries-2 {
		t.Errorf("%d refreshes in %d token lifetimes: the tokens were not renewed as they expired", refreshes, expiries)
	}
}

// TestReplicaKilledUnderLoad: clients call through the balancer for 60 s,
// reads and confirmed deletions; after 20 s one replica is killed with
// SIGKILL. Calls keep succeeding (clients retry idempotent calls after a
// transport error), no write reaches the upstream twice, and no token is
// honoured twice.
func TestReplicaKilledUnderLoad(t *testing.T) {
	const (
		runFor  = 60 * time.Second
		killAt  = 20 * time.Second
		readers = 12
		writers = 4
	)
	d := start(t, options{env: tokenMode})
	ctx := t.Context()
	var (
		succeeded [int(runFor/time.Second) + 2]atomic.Int64 // per second of the run
		retries   atomic.Int64
		failed    atomic.Int64 // calls that failed for good
		firstErr  atomic.Value
		creates   atomic.Int64 // create_webhook sent
		created   atomic.Int64 // … and answered
		mu        sync.Mutex
		deleted   = map[int64]bool{} // webhooks whose deletion a redemption reported
		twice     []string           // tokens honoured a second time
		wg        sync.WaitGroup
	)
	begin := time.Now()
	deadline := begin.Add(runFor)
	tick := func() { succeeded[int(time.Since(begin)/time.Second)].Add(1) }
	fail := func(what string, err error, res *mcp.CallToolResult) {
		failed.Add(1)
		if err != nil {
			firstErr.CompareAndSwap(nil, what+": "+err.Error())
		} else {
			firstErr.CompareAndSwap(nil, what+": "+text(res))
		}
	}
	for range readers {
		c := d.client(d.front)
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				id := []int{1042, 1003, 1052}[i%3]
				res, err := retried(ctx, c, "get_group", map[string]any{"id": id}, &retries)
				if err != nil || res.IsError {
					fail("get_group", err, res)
					continue
				}
				tick()
			}
		})
	}
	for w := range writers {
		c := d.client(d.front)
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				creates.Add(1)
				id, err := createWebhook(ctx, c, fmt.Sprintf("load %d-%d", w, i))
				if err != nil {
					// Not idempotent: not retried; it may or may not have run.
					continue
				}
				created.Add(1)
				tick()
				var tok string
				for range 50 { // issuing is idempotent: a new token each time
					if tok, err = issue(ctx, c, id); err == nil || ctx.Err() != nil {
						break
					}
					retries.Add(1)
					select { // a replica just died: give the balancer a moment
					case <-ctx.Done():
					case <-time.After(50 * time.Millisecond):
					}
				}
				if tok == "" {
					fail("delete_webhook without a token", err, nil)
					continue
				}
				// A redemption whose answer was lost is sent again with the
				// same token: it executes at most once wherever it lands.
				res, err := retried(ctx, c, "delete_webhook", map[string]any{"id": id, "confirmation_token": tok}, &retries)
				switch {
				case err != nil:
					fail("delete_webhook with a token", err, nil)
					continue
				case executed(res):
					mu.Lock()
					deleted[id] = true
					mu.Unlock()
					tick()
				case !strings.Contains(text(res), "already used"):
					fail("delete_webhook with a token", nil, res)
					continue
				}
				// Spent either way: honoured nowhere again.
				res, err = retried(ctx, c, "delete_webhook", map[string]any{"id": id, "confirmation_token": tok}, &retries)
				if err == nil && !res.IsError {
					mu.Lock()
					twice = append(twice, fmt.Sprintf("webhook %d: %s", id, text(res)))
					mu.Unlock()
				}
			}
		})
	}
	victim := d.pid("replica2")
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(begin.Add(killAt))):
	}
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Errorf("kill replica 2: %v", err)
	}
	wg.Wait()
	elapsed := time.Since(begin)

	st := d.stats()
	var total int64
	for i := range succeeded {
		total += succeeded[i].Load()
	}
	t.Logf("%d calls succeeded in %s, %d retried after a transport error, %d failed for good; %d of %d creates answered, %d deletions",
		total, elapsed.Round(time.Millisecond), retries.Load(), failed.Load(), created.Load(), creates.Load(), len(deleted))
	if failed.Load() > 0 {
		t.Errorf("%d calls failed for good; first: %v", failed.Load(), firstErr.Load())
	}
	for s := range int(runFor / time.Second) {
		if succeeded[s].Load() == 0 {
			t.Errorf("no call succeeded in second %d of the run (replica killed at %s)", s, killAt)
		}
	}
	if lost := creates.Load() - created.Load(); lost > 2*writers {
		t.Errorf("%d creates lost: more than the calls in flight when the replica died", lost)
	}
	if posts := int64(st.Writes["POST /v3/webhooks"]); posts > creates.Load() || posts < created.Load() {
		t.Errorf("POST /v3/webhooks reached the upstream %d times for %d sent (%d answered)", posts, creates.Load(), created.Load())
	}
	for key, n := range st.Writes {
		if strings.HasPrefix(key, "DELETE /v3/webhooks/") && n > 1 {
			t.Errorf("%s reached the upstream %d times", key, n)
		}
	}
	for id := range deleted {
		if n := st.Writes[deleteKey(id)]; n != 1 {
			t.Errorf("webhook %d reported deleted, but %s reached the upstream %d times", id, deleteKey(id), n)
		}
	}
	for _, s := range twice {
		t.Errorf("a spent token was honoured again: %s", s)
	}
}

// eventually polls cond until it holds, failing the test naming what it
// waited for after within.
func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readyz is a replica's /readyz answer.
func readyz(base string) (int, map[string]any) {
	res, err := http.Get(base + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// TestRollingUpdate: local.sh roll with a higher GENERATION and another
// policy. The first replica restarted takes over and is ready at once;
// the two still running the old policy stop serving and answer /readyz
// 503, and HAProxy takes them out (it checks /readyz), so every call
// through the front succeeds at the new replica; a confirmation token
// issued under the old policy is refused through the front and nothing
// is deleted upstream. Rolling the other two brings all three back, and a
// token of the new policy executes through the front.
func TestRollingUpdate(t *testing.T) {
	d := start(t, options{env: tokenMode})
	ctx := t.Context()
	front := d.client(d.front)
	id, err := createWebhook(ctx, front, "rolled over")
	if err != nil {
		t.Fatal(err)
	}
	oldTok, err := issue(ctx, front, id)
	if err != nil {
		t.Fatal(err)
	}

	// Generation 1, with another confirmation lifetime (another policy).
	d.env = append(d.env, "GENERATION=1", "REPLICA_ENV="+strings.Join(append(slices.Clone(tokenMode), "CONVIRZA_MCP_CONFIRMATION_TTL=4m"), " "))
	if out, err := d.run("roll", "1"); err != nil {
		t.Fatalf("local.sh roll 1: %v\n%s", err, out)
	}
	if code, m := readyz(d.replicas[0]); code != http.StatusOK {
		t.Fatalf("the replica rolled to generation 1: %d %v", code, m)
	}
	for _, base := range d.replicas[1:] {
		eventually(t, base+" superseded", 15*time.Second, func() bool {
			code, m := readyz(base)
			reason, _ := m["reason"].(string)
			return code == http.StatusServiceUnavailable && m["status"] == "superseded by a newer policy generation" &&
				strings.Contains(reason, "newer policy generation (1,") && strings.Contains(reason, "replica r1")
		})
	}
	// HAProxy takes the superseded replicas out: calls through the front
	// all land on the new one.
	eventually(t, "20 calls in a row through the front to succeed", 15*time.Second, func() bool {
		for range 20 {
			res, err := call(ctx, front, "get_group", map[string]any{"id": 1042})
			if err != nil || res.IsError {
				return false
			}
		}
		return true
	})
	res, err := redeem(ctx, front, id, oldTok)
	if err != nil || !res.IsError || !strings.Contains(text(res), "issued under another policy or version") {
		t.Errorf("the old policy's token through the front after the roll: %v %s", err, text(res))
	}
	if n := d.stats().Writes[deleteKey(id)]; n != 0 {
		t.Errorf("%s: %d times upstream, want none", deleteKey(id), n)
	}

	if out, err := d.run("roll", "2", "3"); err != nil {
		t.Fatalf("local.sh roll 2 3: %v\n%s", err, out)
	}
	for _, base := range d.replicas {
		if code, m := readyz(base); code != http.StatusOK {
			t.Errorf("%s after the roll: %d %v", base, code, m)
		}
	}
	tok, err := issue(ctx, front, id)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := redeem(ctx, front, id, tok); err != nil || !executed(res) {
		t.Errorf("a token of the new policy through the front: %v %s", err, text(res))
	}
}

// TestUpstreamDownKeepsReplicasIn: with the upstream unreachable every
// replica's /readyz answers 503 "upstream unreachable", yet HAProxy keeps
// them in (its check passes that status), so a client still gets the
// server's own answer through the front, not HAProxy's 503 for want of a
// server.
func TestUpstreamDownKeepsReplicasIn(t *testing.T) {
	d := start(t, options{env: tokenMode})
	ctx := t.Context()
	front := d.client(d.front)
	if res, err := call(ctx, front, "get_group", map[string]any{"id": 1042}); err != nil || res.IsError {
		t.Fatalf("a read before the upstream went away: %v %s", err, text(res))
	}
	p, err := os.FindProcess(d.pid("sandbox"))
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Kill()
	for _, base := range d.replicas {
		eventually(t, base+" reporting the upstream unreachable", 15*time.Second, func() bool {
			code, m := readyz(base)
			return code == http.StatusServiceUnavailable && m["status"] == "upstream unreachable"
		})
	}
	// Past HAProxy's verdict (a check a second, down after two failures),
	// every call still reaches a replica and gets its answer.
	until := time.Now().Add(4 * time.Second)
	for time.Now().Before(until) {
		res, err := call(ctx, front, "get_group", map[string]any{"id": 1042})
		if err != nil {
			t.Fatalf("a call through the front with the upstream down: %v (HAProxy took the replicas out?)", err)
		}
		if !res.IsError {
			t.Fatalf("a read with the upstream down succeeded: %s", text(res))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
