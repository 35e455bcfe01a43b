package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The embedded store is a directory of files, <state dir>/store, one per
// record: its name is the SHA-256 of the namespaced key (so any key is a
// safe file name on every system), its content the key, the expiry and
// the value. Writes go to a temporary file that is flushed and renamed
// over the record, so a reader sees the old record or the new one, never
// half of one, and a crash loses at most the write in progress.
//
// Several processes share it through a lock file, <dir>/.lock, held for
// one operation at most (microseconds; a write adds one fsync): shared for
// reads, exclusive for writes and read-modify-writes (Create, Swap, Add,
// Lock), so Swap and Create are atomic across processes. Nobody holds it
// between operations, so a server, a second server and the approvals
// command all work at once.
//
// Expired records read as missing; they are removed when met and by a
// sweep at most once a minute.
//
// Limits: one machine. Advisory locks on network filesystems (NFS, SMB)
// are unreliable, so the directory must be local; replicas on several
// machines use Redis. List reads every record file, which suits the few
// hundred records a server keeps.
type embedded struct {
	dir string
	// mu orders this process's goroutines before they take the file lock,
	// so waiting happens here rather than in polling.
	mu        sync.RWMutex
	closed    atomic.Bool
	lastSweep atomic.Int64
}

const (
	embeddedSubdir = "store"
	lockFileName   = ".lock"
	tmpPrefix      = ".tmp-"
	// lockWait bounds the wait for the file lock when the context has no
	// earlier deadline: a process stopped while holding it must not hang
	// every other one.
	lockWait   = 10 * time.Second
	sweepEvery = time.Minute
	// recordMagic starts every record file (format version 1).
	recordMagic = "cvz1"
)

var errClosed = fmt.Errorf("%w: store closed", ErrUnavailable)

func openEmbedded(ctx context.Context, stateDir string) (*embedded, error) {
	if stateDir == "" {
		return nil, fmt.Errorf("no state directory for the embedded store: set %s", EnvStateDir)
	}
	dir := filepath.Join(stateDir, embeddedSubdir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: state directory (%s): %w", ErrUnavailable, EnvStateDir, err)
	}
	s := &embedded{dir: dir}
	if err := s.sweep(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *embedded) fail(what string, err error) error {
	return fmt.Errorf("%w: state directory %s: %s: %w", ErrUnavailable, s.dir, what, err)
}

// lock takes this process's lock, then the file lock, and returns what
// releases both. It waits at most until ctx's deadline or lockWait.
func (s *embedded) lock(ctx context.Context, exclusive bool) (func(), error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	if exclusive {
		s.mu.Lock()
	} else {
		s.mu.RLock()
	}
	unlockMu := s.mu.RUnlock
	if exclusive {
		unlockMu = s.mu.Unlock
	}
	f, err := os.OpenFile(filepath.Join(s.dir, lockFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		unlockMu()
		return nil, s.fail("open lock file", err)
	}
	release := func() {
		_ = unlockFile(f)
		_ = f.Close()
		unlockMu()
	}
	deadline, timeout := time.Now().Add(lockWait), errors.New("held by another process for too long")
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, timeout = d, context.DeadlineExceeded
	}
	var timer *time.Timer
	for wait := 50 * time.Microsecond; ; wait = min(2*wait, 5*time.Millisecond) {
		ok, err := tryLockFile(f, exclusive)
		if err != nil {
			_ = f.Close()
			unlockMu()
			return nil, s.fail("lock", err)
		}
		if ok {
			return release, nil
		}
		if time.Now().Add(wait).After(deadline) {
			_ = f.Close()
			unlockMu()
			return nil, s.fail("waiting for the lock", timeout)
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			unlockMu()
			return nil, s.fail("waiting for the lock", ctx.Err())
		case <-timer.C:
		}
	}
}

type record struct {
	key     string // namespaced
	expires int64  // Unix nanoseconds; 0: never
	value   []byte
}

func (r record) expired(now time.Time) bool {
	return r.expires != 0 && now.UnixNano() >= r.expires
}

func expiry(now time.Time, ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return now.Add(ttl).UnixNano()
}

func encodeRecord(r record) []byte {
	b := make([]byte, 0, len(recordMagic)+8+4+len(r.key)+len(r.value))
	b = append(b, recordMagic...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.expires))
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.key)))
	b = append(b, r.key...)
	return append(b, r.value...)
}

func decodeRecord(b []byte) (record, error) {
	const head = len(recordMagic) + 8 + 4
	if len(b) < head || string(b[:len(recordMagic)]) != recordMagic {
		return record{}, errors.New("not a record file")
	}
	exp := int64(binary.BigEndian.Uint64(b[len(recordMagic):]))
	n := binary.BigEndian.Uint32(b[len(recordMagic)+8:])
	if uint64(n) > uint64(len(b)-head) {
		return record{}, errors.New("truncated record file")
	}
	return record{key: string(b[head : head+int(n)]), expires: exp, value: b[head+int(n):]}, nil
}

// fileName is the record file of a namespaced key.
func fileName(nsKey string) string {
	sum := sha256.Sum256([]byte(nsKey))
	return hex.EncodeToString(sum[:])
}

// read returns the record in file name; ok is false when there is none.
func (s *embedded) read(name, nsKey string) (record, bool, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return record{}, false, nil
	}
	if err != nil {
		return record{}, false, s.fail("read", err)
	}
	r, err := decodeRecord(b)
	if err == nil && nsKey != "" && r.key != nsKey {
		err = errors.New("record file holds another key")
	}
	if err != nil {
		return record{}, false, s.fail("record file "+name, err)
	}
	return r, true, nil
}

// write replaces the record's file atomically. The caller holds the
// exclusive lock.
func (s *embedded) write(r record) error {
	tmp, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return s.fail("write", err)
	}
	_, err = tmp.Write(encodeRecord(r))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(s.dir, fileName(r.key)))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return s.fail("write", err)
	}
	if err := syncDir(s.dir); err != nil {
		return s.fail("write", err)
	}
	return nil
}

func (s *embedded) remove(name string) error {
	if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return s.fail("remove", err)
	}
	return nil
}

// removeExpired removes the named record files that are still expired,
// under the exclusive lock; a record rewritten since it was seen stays.
func (s *embedded) removeExpired(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	now := time.Now()
	for _, name := range names {
		r, ok, err := s.read(name, "")
		if err != nil || !ok || !r.expired(now) {
			continue
		}
		if err := s.remove(name); err != nil {
			return err
		}
	}
	return nil
}

// sweep removes expired records and temporary files a crashed writer left.
func (s *embedded) sweep(ctx context.Context) error {
	s.lastSweep.Store(time.Now().UnixNano())
	_, expired, err := s.scan(ctx, "")
	if err != nil {
		return err
	}
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	// Under the exclusive lock no write is in progress, so every
	// temporary file is a crashed writer's.
	entries, err := os.ReadDir(s.dir)
	if err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tmpPrefix) {
				_ = os.Remove(filepath.Join(s.dir, e.Name()))
			}
		}
	}
	unlock()
	if err != nil {
		return s.fail("list", err)
	}
	return s.removeExpired(ctx, expired)
}

// maybeSweep sweeps when the last sweep of this process is a minute old.
func (s *embedded) maybeSweep(ctx context.Context) {
	last := s.lastSweep.Load()
	if time.Since(time.Unix(0, last)) < sweepEvery || !s.lastSweep.CompareAndSwap(last, time.Now().UnixNano()) {
		return
	}
	_ = s.sweep(ctx) // best effort: expired records read as missing anyway
}

// beginWrite checks the key and ttl of a write that may add a record and
// takes the exclusive lock; done releases it, then sweeps expired records
// when a sweep is due.
func (s *embedded) beginWrite(ctx context.Context, key string, ttl time.Duration) (done func(), err error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return nil, err
	}
	return func() {
		unlock()
		s.maybeSweep(ctx)
	}, nil
}

// scan reads every record whose namespaced key starts with nsPrefix (all
// records for ""), returning the live ones and the files of expired ones.
func (s *embedded) scan(ctx context.Context, nsPrefix string) (map[string][]byte, []string, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, nil, s.fail("list", err)
	}
	now := time.Now()
	live := map[string][]byte{}
	var expired []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, s.fail("list", err)
		}
		r, ok, err := s.read(e.Name(), "")
		if err != nil {
			return nil, nil, err
		}
		switch {
		case !ok:
		case r.expired(now):
			expired = append(expired, e.Name())
		case strings.HasPrefix(r.key, nsPrefix):
			live[r.key] = r.value
		}
	}
	return live, expired, nil
}

func (s *embedded) Create(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	done, err := s.beginWrite(ctx, key, ttl)
	if err != nil {
		return err
	}
	defer done()
	nsKey := recordNS + key
	now := time.Now()
	r, ok, err := s.read(fileName(nsKey), nsKey)
	if err != nil {
		return err
	}
	if ok && !r.expired(now) {
		return ErrExists
	}
	return s.write(record{key: nsKey, expires: expiry(now, ttl), value: value})
}

func (s *embedded) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	nsKey := recordNS + key
	name := fileName(nsKey)
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	r, ok, err := s.read(name, nsKey)
	unlock()
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, ErrNotFound
	case r.expired(time.Now()):
		_ = s.removeExpired(ctx, []string{name})
		return nil, ErrNotFound
	}
	return r.value, nil
}

func (s *embedded) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	done, err := s.beginWrite(ctx, key, ttl)
	if err != nil {
		return err
	}
	defer done()
	return s.write(record{key: recordNS + key, expires: expiry(time.Now(), ttl), value: value})
}

func (s *embedded) Swap(ctx context.Context, key string, old, next []byte) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return false, err
	}
	defer unlock()
	nsKey := recordNS + key
	name := fileName(nsKey)
	r, ok, err := s.read(name, nsKey)
	switch {
	case err != nil:
		return false, err
	case !ok:
		return false, ErrNotFound
	case r.expired(time.Now()):
		if err := s.remove(name); err != nil {
			return false, err
		}
		return false, ErrNotFound
	case !bytes.Equal(r.value, old):
		return false, nil
	}
	r.value = next
	if err := s.write(r); err != nil {
		return false, err
	}
	return true, nil
}

func (s *embedded) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	return s.remove(fileName(recordNS + key))
}

func (s *embedded) Add(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	done, err := s.beginWrite(ctx, key, ttl)
	if err != nil {
		return 0, err
	}
	defer done()
	nsKey := recordNS + key
	now := time.Now()
	r, ok, err := s.read(fileName(nsKey), nsKey)
	if err != nil {
		return 0, err
	}
	var n int64
	if ok && !r.expired(now) {
		if n, err = strconv.ParseInt(string(r.value), 10, 64); err != nil {
			return 0, notCounter(key)
		}
	} else {
		r = record{key: nsKey, expires: expiry(now, ttl)}
	}
	if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
		return 0, fmt.Errorf("store: counter %q would overflow", key)
	}
	n += delta
	r.value = strconv.AppendInt(nil, n, 10)
	if err := s.write(r); err != nil {
		return 0, err
	}
	return n, nil
}

func notCounter(key string) error {
	return fmt.Errorf("store: record %q is not a counter", key)
}

func (s *embedded) List(ctx context.Context, prefix string) (map[string][]byte, error) {
	live, expired, err := s.scan(ctx, recordNS+prefix)
	if err != nil {
		return nil, err
	}
	_ = s.removeExpired(ctx, expired)
	out := make(map[string][]byte, len(live))
	for k, v := range live {
		out[strings.TrimPrefix(k, recordNS)] = v
	}
	return out, nil
}

func (s *embedded) Lock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	if ttl <= 0 {
		return nil, false, fmt.Errorf("store: lock %q needs a positive ttl", key)
	}
	owner := make([]byte, 16)
	_, _ = rand.Read(owner)
	nsKey := lockNS + key
	name := fileName(nsKey)
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	now := time.Now()
	r, ok, err := s.read(name, nsKey)
	if err != nil {
		return nil, false, err
	}
	if ok && !r.expired(now) {
		return nil, false, nil
	}
	if err := s.write(record{key: nsKey, expires: expiry(now, ttl), value: owner}); err != nil {
		return nil, false, err
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), lockUnlockTimeout)
			defer cancel()
			unlock, err := s.lock(ctx, true)
			if err != nil {
				return // closed or unreachable: the lock expires by itself
			}
			defer unlock()
			if r, ok, err := s.read(name, nsKey); err == nil && ok && bytes.Equal(r.value, owner) {
				_ = s.remove(name)
			}
		})
	}
	return release, true, nil
}

func (s *embedded) Ping(ctx context.Context) error {
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	f, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return s.fail("not writable", err)
	}
	_ = f.Close()
	return s.remove(filepath.Base(f.Name()))
}

func (s *embedded) Close() error {
	s.closed.Store(true)
	return nil
}
