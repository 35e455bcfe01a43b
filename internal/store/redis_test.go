package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/testenv/redisenv"
)

// startRedis runs a real redis-server for the test (redisenv), asking
// for password when it is not empty; it stops when the test ends.
func startRedis(t *testing.T, password string) *redisenv.Server {
	t.Helper()
	return redisenv.Start(t, password)
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
		url := r.URL(fmt.Sprintf("?prefix=contract-%d", ns.Add(1)))
		return openRedisT(t, url), openRedisT(t, url)
	})
}

// Namespaces keep deployments sharing one server apart; keys live under
// "convirza-mcp:".
func TestRedisNamespaces(t *testing.T) {
	r := startRedis(t, "")
	ctx := t.Context()
	one, two, none := openRedisT(t, r.URL("?prefix=one")), openRedisT(t, r.URL("?prefix=two")), openRedisT(t, r.URL(""))
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
func redisCommand(t *testing.T, r *redisenv.Server, args ...string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
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
	s := openRedisT(t, r.URL(""))
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

	r.Stop()
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
		if msg := err.Error(); !strings.Contains(msg, "redis at "+r.Addr()) || strings.Contains(msg, password) {
			t.Fatalf("%s error %q: want it to name the server and not the password", name, msg)
		}
	}

	if err := r.Restart(); err != nil {
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
	s := openRedisT(t, strings.Replace(r.URL(""), "the-right-one", "a-wrong-password", 1))
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
	db0 := openRedisT(t, "redis://"+r.Addr()+"/0")
	db5 := openRedisT(t, "redis://"+r.Addr()+"/5")
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
	s := openRedisT(t, fmt.Sprintf("redis://127.0.0.1:%d", redisenv.FreePort(t))) // nothing listens there
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
