// Command loadtest starts the convirza-mcp binary with --sandbox --transport
// http on loopback and drives it with N concurrent Streamable HTTP sessions
// of M tool calls each (mcp-go's client), then reports throughput, latency
// percentiles, errors and the server's peak RSS. It is not part of the
// server binary nor of CI: run it through scripts/load.
//
// With -upload, every call is an upload_media_prompt of the largest body the
// server accepts by default, the simulator runs in this process (so the
// server's RSS is its own), and the report adds the server's memory per
// upload in flight.
//
// With -url, it drives a server that is already running instead (a
// deployment behind a balancer: deploy/bench.sh), with the bearer token in
// CONVIRZA_MCP_AUTH_TOKEN, and reports the client's side only.
//
// It only ever talks to the server it started on 127.0.0.1, or the one
// -url names, and stops by itself: at the end of the calls or at -timeout,
// whichever comes first.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/sandbox"
)

type options struct {
	bin      string
	sessions int
	calls    int
	timeout  time.Duration
	latency  time.Duration
	rounds   int
	modern   bool
	upload   bool
	url      string
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/convirza-mcp", "server binary to start")
	flag.IntVar(&o.sessions, "sessions", 200, "concurrent sessions")
	flag.IntVar(&o.calls, "calls", 50, "tool calls per session")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Minute, "bound on the whole run; calls not done by then are abandoned")
	flag.DurationVar(&o.latency, "latency", 0, "simulated upstream latency per request (CONVIRZA_MCP_SANDBOX_LATENCY)")
	flag.IntVar(&o.rounds, "rounds", 1, "rounds of sessions x calls against the same server (memory should stay flat)")
	flag.BoolVar(&o.modern, "modern", false, "use the stateless 2026-07-28 protocol instead of sessions (2025-06-18)")
	flag.StringVar(&o.url, "url", "", "drive this running server (base URL, e.g. http://127.0.0.1:18080) instead of starting one; the token is CONVIRZA_MCP_AUTH_TOKEN")
	flag.BoolVar(&o.upload, "upload", false, "every call is an upload_media_prompt of the largest body the server accepts by default (4 MiB), to a simulator in this process, so the server's RSS is its own")
	flag.Parse()
	if o.url != "" && (o.upload || o.latency != 0) {
		fmt.Fprintln(os.Stderr, "loadtest: -upload and -latency start a server of their own: not with -url")
		os.Exit(2)
	}
	if o.sessions < 1 || o.calls < 1 || o.timeout <= 0 || o.rounds < 1 {
		fmt.Fprintln(os.Stderr, "loadtest: -sessions, -calls, -rounds and -timeout must be positive")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// call is one tool call of the mix.
type call struct {
	tool string
	args map[string]any
}

// mix is what each session cycles through: reads only, so the run can be
// repeated and the sandbox does not grow.
var mix = []call{
	{"get_group", map[string]any{"id": 1042}},
	{"list_groups", map[string]any{}},
	{"get_group", map[string]any{"id": 1003}},
	{"get_group_tree", map[string]any{}},
}

// maxBody is the server's default CONVIRZA_MCP_MAX_BODY_BYTES.
const maxBody = 4 << 20

// uploadCall is an upload_media_prompt whose JSON-RPC message is just under
// maxBody: a WAV header and zeros, base64-encoded (the message's envelope
// and the other arguments take less than 1 KiB).
func uploadCall() call {
	raw := make([]byte, (maxBody-1024)/4*3)
	copy(raw, "RIFF\x00\x00\x00\x00WAVEfmt ")
	return call{"upload_media_prompt", map[string]any{"name": "Load test greeting", "type": "prompt",
		"filename": "greeting.wav", "content": base64.StdEncoding.EncodeToString(raw)}}
}

type server struct {
	cmd      *exec.Cmd
	upstream *sandbox.Running // -upload: the simulator, in this process
	base     string
	token    string
	exited   chan error
	stderr   *tailBuffer
}

func run(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()

	if o.url != "" {
		return runExternal(ctx, o)
	}
	srv, err := startServer(ctx, o)
	if err != nil {
		return err
	}
	defer srv.kill()
	calls := mix
	if o.upload {
		calls = []call{uploadCall()}
		fmt.Printf("uploads:  upload_media_prompt, %d bytes of base64 content (%d of audio) in a message under %d bytes\n",
			len(calls[0].args["content"].(string)), len(calls[0].args["content"].(string))/4*3, maxBody)
	}

	fmt.Printf("server:   %s (pid %d) on %s, sandbox latency %s, protocol %s\n", o.bin, srv.cmd.Process.Pid, srv.base, o.latency, protocolName(o.modern))
	fmt.Printf("machine:  %s/%s, %d CPUs (GOMAXPROCS %d)\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Printf("load:     %d sessions x %d calls, bounded by %s\n", o.sessions, o.calls, o.timeout)

	var (
		latencies                                  []time.Duration
		connectErrs, callErrs, toolErrs, abandoned int64
		elapsed, connectTime                       time.Duration
		firstErr                                   string
		rssConnected                               int64 // before the first round's calls
	)
	for r := 1; r <= o.rounds; r++ {
		res := round(ctx, srv, o, calls)
		if r == 1 {
			rssConnected = res.rssConnected
		}
		latencies = append(latencies, res.latencies...)
		connectErrs += res.connectErrs
		callErrs += res.callErrs
		toolErrs += res.toolErrs
		abandoned += res.abandoned
		elapsed += res.elapsed
		connectTime += res.connectTime
		if firstErr == "" {
			firstErr = res.firstErr
		}
		if o.rounds > 1 {
			_, rssNow := memOf(srv.cmd.Process.Pid)
			slices.Sort(res.latencies)
			fmt.Printf("round %d:  %d calls, %.0f calls/s, p50 %s p99 %s, %d errors, server RSS after %s\n", r, len(res.latencies),
				float64(len(res.latencies))/res.elapsed.Seconds(), pct(res.latencies, 50), pct(res.latencies, 99),
				res.connectErrs+res.callErrs+res.toolErrs+res.abandoned, mib(rssNow))
		}
	}

	hwm, rss := memOf(srv.cmd.Process.Pid)
	cpu := cpuOf(srv.cmd.Process.Pid)
	shutStart := time.Now()
	exit := srv.stop(15 * time.Second)
	shutTime := time.Since(shutStart)

	slices.Sort(latencies)
	ok := len(latencies) - int(toolErrs)
	fmt.Printf("connect:  %d sessions in %s (%d failed)\n", o.sessions*o.rounds-int(connectErrs), connectTime.Round(time.Millisecond), connectErrs)
	fmt.Printf("calls:    %d completed in %s: %.0f calls/s\n", len(latencies), elapsed.Round(time.Millisecond), float64(len(latencies))/elapsed.Seconds())
	fmt.Printf("latency:  p50 %s  p90 %s  p99 %s  max %s\n", pct(latencies, 50), pct(latencies, 90), pct(latencies, 99), pct(latencies, 100))
	fmt.Printf("errors:   %d transport/protocol, %d tool errors, %d abandoned at the time bound (ok %d)\n", callErrs, toolErrs, abandoned, ok)
	if firstErr != "" {
		fmt.Printf("first error: %s\n", trim(firstErr, 300))
	}
	fmt.Printf("server:   peak RSS (VmHWM) %s, RSS at end %s, CPU time %s\n", mib(hwm), mib(rss), cpu.Round(time.Millisecond))
	if o.upload && hwm > 0 && rssConnected > 0 {
		fmt.Printf("memory:   RSS with the sessions open, before the calls %s; peak %s above it: %s per call in flight (%d at once)\n",
			mib(rssConnected), mib(hwm-rssConnected), mib((hwm-rssConnected)/int64(o.sessions)), o.sessions)
	}
	fmt.Printf("shutdown: SIGTERM to exit in %s, %s\n", shutTime.Round(time.Millisecond), exit)

	if connectErrs > 0 || callErrs > 0 || toolErrs > 0 || abandoned > 0 {
		return errors.New("the run had errors")
	}
	return nil
}

// runExternal drives the server at o.url: the client's figures only (the
// server's memory and shutdown are not this program's to see).
func runExternal(ctx context.Context, o options) error {
	srv := &server{base: strings.TrimRight(o.url, "/"), token: os.Getenv("CONVIRZA_MCP_AUTH_TOKEN")}
	fmt.Printf("server:   %s (running), protocol %s\n", srv.base, protocolName(o.modern))
	fmt.Printf("machine:  %s/%s, %d CPUs (GOMAXPROCS %d)\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Printf("load:     %d sessions x %d calls, bounded by %s\n", o.sessions, o.calls, o.timeout)
	for r := 1; r <= o.rounds; r++ {
		res := round(ctx, srv, o, mix)
		slices.Sort(res.latencies)
		fmt.Printf("round %d:  %d calls in %s: %.0f calls/s, p50 %s p90 %s p99 %s, %d errors\n", r, len(res.latencies), res.elapsed.Round(time.Millisecond),
			float64(len(res.latencies))/res.elapsed.Seconds(), pct(res.latencies, 50), pct(res.latencies, 90), pct(res.latencies, 99),
			res.connectErrs+res.callErrs+res.toolErrs+res.abandoned)
		if res.firstErr != "" {
			fmt.Printf("first error: %s\n", trim(res.firstErr, 300))
		}
		if res.connectErrs+res.callErrs+res.toolErrs+res.abandoned > 0 {
			return errors.New("the run had errors")
		}
	}
	return nil
}

func protocolName(modern bool) string {
	if modern {
		return mcp.ProtocolVersion20260728 + " (stateless)"
	}
	return mcp.ProtocolVersion20250618 + " (sessions)"
}

func startServer(ctx context.Context, o options) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	s := &server{base: "http://127.0.0.1:" + strconv.Itoa(port), token: hex.EncodeToString(tok), exited: make(chan error, 1), stderr: &tailBuffer{}}
	args := []string{"serve", "--transport", "http", "--addr", "127.0.0.1:" + strconv.Itoa(port)}
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONVIRZA_") && !strings.HasPrefix(kv, "TALKDESK_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"CONVIRZA_MCP_AUTH_TOKEN="+s.token,
		"CONVIRZA_MCP_LOG_LEVEL=warn",
		"CONVIRZA_MCP_MAX_SESSIONS="+strconv.Itoa(max(1000, o.sessions+10)),
		// Every session uses the one token: no per-client caps.
		"CONVIRZA_MCP_MAX_SESSIONS_PER_CLIENT="+strconv.Itoa(max(1000, o.sessions+10)),
		"CONVIRZA_MCP_MAX_CALLS_PER_CLIENT="+strconv.Itoa(max(1000, o.sessions+10)),
	)
	if o.upload {
		// The simulator runs here, so what it buffers is not counted
		// in the server's RSS; the latency holds every upload in flight.
		sb, err := sandbox.New(sandbox.Options{}).Start()
		if err != nil {
			return nil, err
		}
		if o.latency > 0 {
			sb.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: "/v3/media-prompts", Latency: o.latency})
		}
		s.upstream = sb
		args = append(args, "--toolsets", "default,media")
		env = append(env, "CONVIRZA_API_URL="+sb.APIURL, "CONVIRZA_OAUTH_URL="+sb.OAuthURL,
			"CONVIRZA_EMAIL="+sandbox.DemoEmail, "CONVIRZA_PASSWORD="+sandbox.DemoPassword)
	} else {
		args = append(args, "--sandbox")
		env = append(env, "CONVIRZA_MCP_SANDBOX_LATENCY="+o.latency.String())
	}
	s.cmd = exec.Command(o.bin, args...)
	s.cmd.Env = env
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w (build it with: go build -o bin/convirza-mcp ./cmd/convirza-mcp)", o.bin, err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case err := <-s.exited:
			s.exited <- err
			return nil, fmt.Errorf("server exited at start (%v): %s", err, s.stderr)
		default:
		}
		res, err := http.Get(s.base + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.kill()
	return nil, fmt.Errorf("server not healthy in time: %s", s.stderr)
}

func connect(ctx context.Context, s *server, modern bool) (*client.Client, error) {
	// The token goes in through the HTTP client, not WithHTTPHeaders: mcp-go
	// v1.2.1's transport leaves custom headers off the DELETE that ends a
	// session, so the server would refuse it (401) and keep the session
	// until its idle TTL.
	hc := &http.Client{Timeout: 60 * time.Second, Transport: bearer{token: s.token, next: http.DefaultTransport}}
	tr, err := transport.NewStreamableHTTP(s.base+"/mcp", transport.WithHTTPBasicClient(hc))
	if err != nil {
		return nil, err
	}
	var opts []client.ClientOption
	if !modern {
		opts = append(opts, client.WithProtocolVersion(mcp.ProtocolVersion20250618))
	}
	c := client.NewClient(tr, opts...)
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "convirza-mcp-loadtest", Version: "1"}
	if !modern {
		init.Params.ProtocolVersion = mcp.ProtocolVersion20250618
	}
	if _, err := c.Initialize(ctx, init); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// stop sends SIGTERM and waits up to d for the exit.
func (s *server) stop(d time.Duration) string {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		s.exited <- err
		if err != nil {
			return fmt.Sprintf("exit: %v; stderr: %s", err, trim(s.stderr.String(), 500))
		}
		return "exit status 0"
	case <-time.After(d):
		s.kill()
		return "did not exit in time: killed"
	}
}

func (s *server) kill() {
	select {
	case err := <-s.exited:
		s.exited <- err // already gone
	default:
		_ = s.cmd.Process.Kill()
	}
	if s.upstream != nil {
		_ = s.upstream.Close()
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// memOf reads the peak and current resident set (bytes) of pid.
func memOf(pid int) (hwm, rss int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1, -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch k {
		case "VmHWM":
			hwm = n << 10
		case "VmRSS":
			rss = n << 10
		}
	}
	return hwm, rss
}

// cpuOf reads the user+system CPU time of pid.
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return -1
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clkTck
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	i = min(max(i-1, 0), len(sorted)-1)
	return sorted[i].Round(10 * time.Microsecond)
}

func mib(b int64) string {
	if b < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// tailBuffer keeps the last 8 KiB written (the server's stderr).
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 8<<10 {
		t.b = t.b[len(t.b)-8<<10:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// roundResult is what one round of sessions measured.
type roundResult struct {
	latencies                                  []time.Duration
	connectErrs, callErrs, toolErrs, abandoned int64
	elapsed, connectTime                       time.Duration
	firstErr                                   string
	rssConnected                               int64 // the server's RSS once the sessions are open
}

// round connects o.sessions sessions, runs o.calls calls on each, and
// closes them.
func round(ctx context.Context, srv *server, o options, mix []call) roundResult {
	// Connect every session first, so the call phase measures calls.
	connectStart := time.Now()
	clients := make([]*client.Client, o.sessions)
	var connectErrs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			c, err := connect(ctx, srv, o.modern)
			if err != nil {
				connectErrs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	connectTime := time.Since(connectStart)
	rssConnected := int64(-1)
	if srv.cmd != nil {
		_, rssConnected = memOf(srv.cmd.Process.Pid)
	}
	defer func() {
		for _, c := range clients {
			if c != nil {
				_ = c.Close()
			}
		}
	}()

	// The call phase.
	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, o.sessions*o.calls)
		callErrs  atomic.Int64
		toolErrs  atomic.Int64
		abandoned atomic.Int64
	)
	start := time.Now()
	for _, c := range clients {
		if c == nil {
			continue
		}
		wg.Go(func() {
			local := make([]time.Duration, 0, o.calls)
			for j := range o.calls {
				if ctx.Err() != nil {
					abandoned.Add(int64(o.calls - j))
					break
				}
				m := mix[j%len(mix)]
				req := mcp.CallToolRequest{}
				req.Params.Name = m.tool
				req.Params.Arguments = m.args
				t0 := time.Now()
				res, err := c.CallTool(ctx, req)
				d := time.Since(t0)
				switch {
				case err != nil:
					callErrs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				case res.IsError:
					toolErrs.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: %v", m.tool, res.Content))
				}
				local = append(local, d)
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	fe, _ := firstErr.Load().(string)
	return roundResult{latencies: latencies, connectErrs: connectErrs.Load(), callErrs: callErrs.Load(), toolErrs: toolErrs.Load(),
		abandoned: abandoned.Load(), elapsed: elapsed, connectTime: connectTime, firstErr: fe, rssConnected: rssConnected}
}

// bearer adds the server's token to every request the client makes.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}
