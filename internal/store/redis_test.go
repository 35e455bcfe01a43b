package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The Redis tests run a real redis-server (Debian's package; .ci/run
// installs it): no mock. Without it they fail, unless
// CONVIRZA_MCP_NO_REDIS=1 says to skip them.
const noRedisEnv = "CONVIRZA_MCP_NO_REDIS"

type redisServer struct {
	t        *testing.T
	bin      string
	port     int
	password string
	dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
}

func redisServerBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err == nil {
		return bin
	}
	if os.Getenv(noRedisEnv) == "1" {
		t.Skipf("%s=1: the Redis store is not tested", noRedisEnv)
	}
	t.Fatalf("redis-server is not installed, so the Redis store cannot be tested: install it (apt-get install redis-server; .ci/run does), or set %s=1 to skip these tests knowingly", noRedisEnv)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis runs a redis-server without persistence on a free loopback
// port; it is stopped when the test ends.
func startRedis(t *testing.T, password string) *redisServer {
	t.Helper()
	r := &redisServer{t: t, bin: redisServerBin(t), password: password, dir: t.TempDir()}
	var err error
	for range 3 { // another process may take the free port first
		r.port = freePort(t)
		if err = r.start(); err == nil {
			t.Cleanup(r.stop)
			return r
		}
	}
	t.Fatal(err)
	return nil
}

func (r *redisServer) start() error {
	args := []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--logfile", "redis.log"}
	if r.password != "" {
		args = append(args, "--requirepass", r.password)
	}
	r.cmd = exec.Command(r.bin, args...)
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	r.exited = make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(r.exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r.ready() {
			return nil
		}
		select {
		case <-r.exited:
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			return fmt.Errorf("redis-server on port %d exited at start:\n%s", r.port, log)
		default:
		}
		if time.Now().After(deadline) {
			r.stop()
			return fmt.Errorf("redis-server on port %d not ready within 10s", r.port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ready: the server answers PING (or asks for the password).
func (r *redisServer) ready() bool {
	c, err := net.DialTimeout("tcp", r.addr(), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && (strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH"))
}

func (r *redisServer) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	select {
	case <-r.exited:
		return
	default:
	}
	_ = r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

func (r *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

func (r *redisServer) url(query string) string {
	auth := ""
	if r.password != "" {
		auth = ":" + r.password + "@"
	}
	return "redis://" + auth + r.addr() + "/0" + query
}

func openRedisT(t *testing.T, url string) Store {
	t.Helper()
	s, err := Open(t.Context(), url, "")
	if err != nil {
		t.Fatalf("Open redis: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestRedisContract(t *testing.T) {
	r := startRedis(t, "")
	var ns atomic.Int64
	runContract(t, func(t *testing.T) (Store, Store) {
		url := r.url(fmt.Sprintf("?prefix=contract-%d", ns.Add(1)))
		return openRedisT(t, url), openRedisT(t, url)
	})
}

// Namespaces keep deployments sharing one server apart; keys live under
// "convirza-mcp:".
func TestRedisNamespaces(t *testing.T) {
	r := startRedis(t, "")
	ctx := t.Context()
	one, two, none := openRedisT(t, r.url("?prefix=one")), openRedisT(t, r.url("?prefix=two")), openRedisT(t, r.url(""))
	if err := one.Create(ctx, "token/t", []byte("issued"), time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, s := range []Store{two, none} {
		wantNotFound(t, s, "token/t")
		if l, err := s.List(ctx, ""); err != nil || len(l) != 0 {
			t.Fatalf("List in another namespace = %q, %v", l, err)
		}
	}
	if err := none.Put(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	raw := redisCommand(t, r, "KEYS", "*")
	for _, want := range []string{"convirza-mcp:one:r:token/t", "convirza-mcp:r:k"} {
		if !strings.Contains(raw, want) {
			t.Errorf("KEYS * = %q, want %q in it", raw, want)
		}
	}
	if ttl := redisCommand(t, r, "PTTL", "convirza-mcp:one:r:token/t"); !strings.HasPrefix(ttl, ":") || ttl == ":-1" {
		t.Errorf("PTTL of a record created with a ttl = %q, want a positive expiry", ttl)
	}
}

// redisCommand sends one inline command and returns the raw answer.
func redisCommand(t *testing.T, r *redisServer, args ...string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", r.addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(strings.Join(args, " ") + "\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(buf[:n]))
}

// While Redis is down every operation fails quickly with ErrUnavailable
// (nothing executes unconfirmed); after it restarts without its data a
// token redeemed before is not honoured again: the record is gone, so the
// redemption is refused (fail closed).
func TestRedisRestart(t *testing.T) {
	const password = "s3cret-redis-password"
	r := startRedis(t, password)
	s := openRedisT(t, r.url(""))
	ctx := t.Context()
	if err := s.Create(ctx, "token/redeemed", []byte("issued"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "token/pending", []byte("issued"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Swap(ctx, "token/redeemed", []byte("issued"), []byte("redeemed")); !ok || err != nil {
		t.Fatalf("redeeming = %v, %v", ok, err)
	}

	r.stop()
	checks := map[string]func() error{
		"Swap": func() error { _, err := s.Swap(ctx, "token/pending", []byte("issued"), []byte("redeemed")); return err },
		"Get":  func() error { _, err := s.Get(ctx, "token/pending"); return err },
		"Create": func() error {
			return s.Create(ctx, "token/new", []byte("issued"), time.Minute)
		},
		"Add":  func() error { _, err := s.Add(ctx, "counter", 1, time.Minute); return err },
		"List": func() error { _, err := s.List(ctx, "token/"); return err },
		"Lock": func() error { _, _, err := s.Lock(ctx, "renew", time.Minute); return err },
		"Ping": func() error { return s.Ping(ctx) },
	}
	for name, op := range checks {
		start := time.Now()
		err := op()
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s with Redis down took %v", name, d)
		}
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("%s with Redis down = %v, want ErrUnavailable", name, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "redis at "+r.addr()) || strings.Contains(msg, password) {
			t.Fatalf("%s error %q: want it to name the server and not the password", name, msg)
		}
	}

	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the store answers again after Redis restarts", func() bool { return s.Ping(ctx) == nil })
	for _, key := range []string{"token/redeemed", "token/pending"} {
		if ok, err := s.Swap(ctx, key, []byte("issued"), []byte("redeemed")); ok || !errors.Is(err, ErrNotFound) {
			t.Fatalf("redeeming %s after a restart that lost the data = %v, %v; want false, ErrNotFound", key, ok, err)
		}
	}
	if err := s.Create(ctx, "token/after", []byte("issued"), time.Minute); err != nil {
		t.Fatalf("Create after the restart: %v", err)
	}
}

func TestRedisWrongPassword(t *testing.T) {
	r := startRedis(t, "the-right-one")
	s := openRedisT(t, strings.Replace(r.url(""), "the-right-one", "a-wrong-password", 1))
	err := s.Ping(t.Context())
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ping with a wrong password = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "a-wrong-password") || strings.Contains(err.Error(), "the-right-one") {
		t.Fatalf("error shows a password: %v", err)
	}
	if _, err := s.Get(t.Context(), "k"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get with a wrong password = %v, want ErrUnavailable", err)
	}
}

// The database number in the URL path selects the database.
func TestRedisDatabase(t *testing.T) {
	r := startRedis(t, "")
	ctx := t.Context()
	db0 := openRedisT(t, "redis://"+r.addr()+"/0")
	db5 := openRedisT(t, "redis://"+r.addr()+"/5")
	if err := db5.Put(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, db0, "k")
	wantValue(t, db5, "k", "v")
}

// go-redis's own log lines go to the logger main gives, not to stderr.
func TestRouteRedisLogs(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	RouteRedisLogs(slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer RouteRedisLogs(slog.New(slog.DiscardHandler))
	s := openRedisT(t, fmt.Sprintf("redis://127.0.0.1:%d", freePort(t))) // nothing listens there
	if err := s.Ping(t.Context()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ping of a closed port = %v, want ErrUnavailable", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if out := buf.String(); !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "component=redis") || !strings.Contains(out, "failed to dial") {
		t.Fatalf("logged %q; want go-redis's dial failure at debug level", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
