package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// A test binary started with childEnv set serves a store in the directory
// childDirEnv names over stdin/stdout instead of running tests: the second
// process of TestEmbeddedContractAcrossProcesses.
const (
	childEnv    = "CONVIRZA_MCP_STORE_TEST_CHILD"
	childDirEnv = "CONVIRZA_MCP_STORE_TEST_DIR"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "serve" {
		os.Exit(serveChild(os.Getenv(childDirEnv)))
	}
	// go-redis's own lines about failed dials (TestRedisRestart stops the
	// server on purpose) would only repeat the errors the tests check.
	RouteRedisLogs(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

func openEmbeddedT(t *testing.T, dir string) Store {
	t.Helper()
	s, err := Open(t.Context(), "", dir)
	if err != nil {
		t.Fatalf("Open embedded: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestEmbeddedContract(t *testing.T) {
	runContract(t, func(t *testing.T) (Store, Store) {
		dir := t.TempDir()
		return openEmbeddedT(t, dir), openEmbeddedT(t, dir)
	})
}

// The same suite with the second handle in another process: every "exactly
// one" race runs half its goroutines here and half there.
func TestEmbeddedContractAcrossProcesses(t *testing.T) {
	runContract(t, func(t *testing.T) (Store, Store) {
		dir := t.TempDir()
		return openEmbeddedT(t, dir), startChild(t, dir)
	})
}

func TestEmbeddedFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := openEmbeddedT(t, dir)
	ctx := t.Context()
	if err := s.Put(ctx, "token/secret-id", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "short", []byte("v"), 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	storeDir := filepath.Join(dir, embeddedSubdir)
	entries, err := os.ReadDir(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		for _, d := range []string{dir, storeDir} {
			if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: mode %v, %v; want 0700", d, fi.Mode().Perm(), err)
			}
		}
	}
	records := 0
	for _, e := range entries {
		if strings.Contains(e.Name(), "token") || strings.Contains(e.Name(), "secret") {
			t.Errorf("file name %q shows the key", e.Name())
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
		if !strings.HasPrefix(e.Name(), ".") {
			records++
		}
	}
	if records != 2 {
		t.Fatalf("%d record files, want 2", records)
	}
	eventually(t, 5*time.Second, "the short record expires", func() bool { return gone(s, ctx, "short") })
	if n := countRecordFiles(t, storeDir); n != 1 {
		t.Fatalf("%d record files after an expired record was read, want 1 (expired ones are removed)", n)
	}

	// A temporary file a crashed writer left is removed by the next Open.
	stale := filepath.Join(storeDir, tmpPrefix+"crashed")
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	openEmbeddedT(t, dir)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale temporary file still there after Open: %v", err)
	}
}

func countRecordFiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

func TestEmbeddedDamagedRecordFailsClosed(t *testing.T) {
	dir := t.TempDir()
	s := openEmbeddedT(t, dir)
	ctx := t.Context()
	if err := s.Create(ctx, "token/t", []byte("issued"), 0); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, embeddedSubdir, fileName(recordNS+"token/t"))
	for _, content := range []string{"", "garbage", recordMagic + "\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.Swap(ctx, "token/t", []byte("issued"), []byte("redeemed")); ok || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Swap of a damaged record (%q) = %v, %v; want false, ErrUnavailable", content, ok, err)
		}
		if _, err := s.List(ctx, ""); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("List with a damaged record = %v, want ErrUnavailable", err)
		}
	}
}

// A process that holds the lock (stopped, say) makes others fail within
// their deadline, not hang.
func TestEmbeddedLockWaitIsBounded(t *testing.T) {
	dir := t.TempDir()
	s := openEmbeddedT(t, dir)
	f, err := os.OpenFile(filepath.Join(dir, embeddedSubdir, lockFileName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ok, err := tryLockFile(f, true); !ok || err != nil {
		t.Fatalf("taking the lock: %v, %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Get(ctx, "k")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get while another holds the lock = %v; want ErrUnavailable and the deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Get took %v", d)
	}
	if err := unlockFile(f); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after the lock was released = %v, want ErrNotFound", err)
	}
}

func TestEmbeddedNeedsStateDir(t *testing.T) {
	_, err := Open(t.Context(), "", "")
	if err == nil || !strings.Contains(err.Error(), EnvStateDir) {
		t.Fatalf("Open without a state directory = %v; want an error naming %s", err, EnvStateDir)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), "", file); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Open on a file = %v, want ErrUnavailable", err)
	}
}

// The child protocol: one JSON request per line on stdin, one JSON answer
// per line on stdout, matched by id, served concurrently.
type childReq struct {
	ID     int64  `json:"id"`
	Op     string `json:"op"`
	Key    string `json:"key,omitempty"`
	Value  []byte `json:"value,omitempty"`
	Old    []byte `json:"old,omitempty"`
	TTL    int64  `json:"ttl,omitempty"`
	Delta  int64  `json:"delta,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Lock   int64  `json:"lock,omitempty"`
}

type childResp struct {
	ID    int64             `json:"id"`
	OK    bool              `json:"ok,omitempty"`
	N     int64             `json:"n,omitempty"`
	Value []byte            `json:"value,omitempty"`
	List  map[string][]byte `json:"list,omitempty"`
	Lock  int64             `json:"lock,omitempty"`
	Kind  string            `json:"kind,omitempty"` // notfound, exists, unavailable, other
	Err   string            `json:"err,omitempty"`
}

func serveChild(dir string) int {
	ctx := context.Background()
	s, err := Open(ctx, "", dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open:", err)
		return 1
	}
	var (
		out     sync.Mutex
		enc     = json.NewEncoder(os.Stdout)
		locksMu sync.Mutex
		locks   = map[int64]func(){}
		lockID  int64
		wg      sync.WaitGroup
	)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 16<<20)
	for in.Scan() {
		var req childReq
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "child: bad request:", err)
			return 1
		}
		wg.Go(func() {
			resp := childResp{ID: req.ID}
			var err error
			ttl := time.Duration(req.TTL)
			switch req.Op {
			case "create":
				err = s.Create(ctx, req.Key, req.Value, ttl)
			case "get":
				resp.Value, err = s.Get(ctx, req.Key)
			case "put":
				err = s.Put(ctx, req.Key, req.Value, ttl)
			case "swap":
				resp.OK, err = s.Swap(ctx, req.Key, req.Old, req.Value)
			case "delete":
				err = s.Delete(ctx, req.Key)
			case "add":
				resp.N, err = s.Add(ctx, req.Key, req.Delta, ttl)
			case "list":
				resp.List, err = s.List(ctx, req.Prefix)
			case "lock":
				var unlock func()
				unlock, resp.OK, err = s.Lock(ctx, req.Key, ttl)
				if resp.OK {
					locksMu.Lock()
					lockID++
					resp.Lock = lockID
					locks[lockID] = unlock
					locksMu.Unlock()
				}
			case "unlock":
				locksMu.Lock()
				unlock := locks[req.Lock]
				locksMu.Unlock()
				if unlock != nil {
					unlock()
				}
			case "ping":
				err = s.Ping(ctx)
			case "close":
				err = s.Close()
			default:
				err = fmt.Errorf("unknown op %q", req.Op)
			}
			if err != nil {
				resp.Err = err.Error()
				switch {
				case errors.Is(err, ErrNotFound):
					resp.Kind = "notfound"
				case errors.Is(err, ErrExists):
					resp.Kind = "exists"
				case errors.Is(err, ErrUnavailable):
					resp.Kind = "unavailable"
				default:
					resp.Kind = "other"
				}
			}
			out.Lock()
			defer out.Unlock()
			_ = enc.Encode(resp)
		})
	}
	wg.Wait()
	return 0
}

// childStore is a Store whose operations run in a child process.
type childStore struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	wmu   sync.Mutex
	enc   *json.Encoder

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan childResp
	dead    chan struct{}
}

func startChild(t *testing.T, dir string) *childStore {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// Under -race a process waits a second at exit unless told not to.
	cmd.Env = append(os.Environ(), childEnv+"=serve", childDirEnv+"="+dir,
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childStore{cmd: cmd, stdin: stdin, enc: json.NewEncoder(stdin), pending: map[int64]chan childResp{}, dead: make(chan struct{})}
	go func() {
		defer close(c.dead)
		in := bufio.NewScanner(stdout)
		in.Buffer(make([]byte, 64<<10), 16<<20)
		for in.Scan() {
			var resp childResp
			if json.Unmarshal(in.Bytes(), &resp) != nil {
				return
			}
			c.mu.Lock()
			ch := c.pending[resp.ID]
			delete(c.pending, resp.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- resp
			}
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("child process: %v", err)
		}
	})
	return c
}

func (c *childStore) call(ctx context.Context, req childReq) (childResp, error) {
	ch := make(chan childResp, 1)
	c.mu.Lock()
	c.nextID++
	req.ID = c.nextID
	c.pending[req.ID] = ch
	c.mu.Unlock()
	c.wmu.Lock()
	err := c.enc.Encode(req)
	c.wmu.Unlock()
	if err != nil {
		return childResp{}, fmt.Errorf("child process: %w", err)
	}
	select {
	case resp := <-ch:
		switch resp.Kind {
		case "":
			return resp, nil
		case "notfound":
			return resp, ErrNotFound
		case "exists":
			return resp, ErrExists
		case "unavailable":
			return resp, fmt.Errorf("%w: in the child process: %s", ErrUnavailable, resp.Err)
		default:
			return resp, fmt.Errorf("in the child process: %s", resp.Err)
		}
	case <-c.dead:
		return childResp{}, errors.New("child process exited")
	case <-ctx.Done():
		return childResp{}, ctx.Err()
	}
}

func (c *childStore) Create(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	_, err := c.call(ctx, childReq{Op: "create", Key: key, Value: value, TTL: int64(ttl)})
	return err
}

func (c *childStore) Get(ctx context.Context, key string) ([]byte, error) {
	resp, err := c.call(ctx, childReq{Op: "get", Key: key})
	if err != nil {
		return nil, err
	}
	if resp.Value == nil {
		resp.Value = []byte{}
	}
	return resp.Value, nil
}

func (c *childStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	_, err := c.call(ctx, childReq{Op: "put", Key: key, Value: value, TTL: int64(ttl)})
	return err
}

func (c *childStore) Swap(ctx context.Context, key string, old, next []byte) (bool, error) {
	resp, err := c.call(ctx, childReq{Op: "swap", Key: key, Old: old, Value: next})
	return resp.OK, err
}

func (c *childStore) Delete(ctx context.Context, key string) error {
	_, err := c.call(ctx, childReq{Op: "delete", Key: key})
	return err
}

func (c *childStore) Add(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	resp, err := c.call(ctx, childReq{Op: "add", Key: key, Delta: delta, TTL: int64(ttl)})
	return resp.N, err
}

func (c *childStore) List(ctx context.Context, prefix string) (map[string][]byte, error) {
	resp, err := c.call(ctx, childReq{Op: "list", Prefix: prefix})
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for k, v := range resp.List {
		if v == nil {
			v = []byte{}
		}
		out[k] = v
	}
	return out, nil
}

func (c *childStore) Lock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	resp, err := c.call(ctx, childReq{Op: "lock", Key: key, TTL: int64(ttl)})
	if err != nil || !resp.OK {
		return nil, false, err
	}
	return func() { _, _ = c.call(context.Background(), childReq{Op: "unlock", Lock: resp.Lock}) }, true, nil
}

func (c *childStore) Ping(ctx context.Context) error {
	_, err := c.call(ctx, childReq{Op: "ping"})
	return err
}

func (c *childStore) Close() error {
	_, err := c.call(context.Background(), childReq{Op: "close"})
	return err
}
