package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// The Redis store keeps every record under its own key,
// "convirza-mcp:" + [prefix + ":"] + "r:" + key, and every lock under
// "…l:" + key, each with its expiry (PX). Every operation that changes
// something is one atomic command or one script over one key, so nothing
// holds a lock across requests and nothing needs a cluster-wide lock:
// Create is SET NX PX, Swap and Add are scripts, Lock is SET NX PX with a
// random owner and its release a delete-if-owner script. List is SCAN +
// MGET (a snapshot, not atomic, which listing does not need). One server
// or a primary with replicas; Redis Cluster is not supported (List scans
// one node).
type redisStore struct {
	c     *redis.Client
	base  string // key namespace
	where string // host:port/db, for messages
}

// Defaults that make an unreachable server a quick, clear error rather
// than a long wait; a URL's own dial_timeout, read_timeout, write_timeout
// and max_retries win.
const (
	redisDialTimeout  = 2 * time.Second
	redisIOTimeout    = 2 * time.Second
	redisMaxRetries   = 1
	redisDialAttempts = 2
	redisKeyBase      = "convirza-mcp:"
)

var validPrefix = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func openRedis(raw string) (*redisStore, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the URL, password included
		}
		return nil, fmt.Errorf("%s: not a valid URL: %v", EnvStore, err)
	}
	q := u.Query()
	ns := q.Get("prefix")
	if q.Has("prefix") && !validPrefix.MatchString(ns) {
		return nil, fmt.Errorf("%s: ?prefix= must be 1 to 64 letters, digits, '.', '_' or '-'", EnvStore)
	}
	q.Del("prefix")
	u.RawQuery = q.Encode()
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		shown := *u // what the message may show: no password, no query
		shown.RawQuery = ""
		return nil, fmt.Errorf("%s (%s): %v", EnvStore, shown.Redacted(), err)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = redisDialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = redisIOTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = redisIOTimeout
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = redisMaxRetries
	}
	// go-redis dials 5 times 100ms apart per attempt by default, so a
	// server that is down took about a second per operation to report.
	opts.DialerRetries = redisDialAttempts
	opts.DialerRetryTimeout = 50 * time.Millisecond
	// No CLIENT SETINFO and no Redis Enterprise maintenance notifications:
	// plain commands that Redis 6.2+ and Valkey answer alike.
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}

	base := redisKeyBase
	if ns != "" {
		base += ns + ":"
	}
	return &redisStore{
		c:     redis.NewClient(opts),
		base:  base,
		where: fmt.Sprintf("%s/%d", opts.Addr, opts.DB),
	}, nil
}

// fail wraps a failure to talk to Redis: ErrUnavailable, where, what; the
// password is never part of it (go-redis errors do not carry it).
func (s *redisStore) fail(op string, err error) error {
	return fmt.Errorf("%w: redis at %s: %s: %w", ErrUnavailable, s.where, op, err)
}

func (s *redisStore) rkey(key string) string { return s.base + recordNS + key }

// px is ttl in whole milliseconds, at least 1 (Redis's precision).
func px(ttl time.Duration) time.Duration {
	if ttl > 0 && ttl < time.Millisecond {
		return time.Millisecond
	}
	return ttl.Round(time.Millisecond)
}

func (s *redisStore) Create(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := checkTTL(ttl); err != nil {
		return err
	}
	args := redis.SetArgs{Mode: "NX"}
	if ttl > 0 {
		args.TTL = px(ttl)
	}
	err := s.c.SetArgs(ctx, s.rkey(key), value, args).Err()
	switch {
	case errors.Is(err, redis.Nil):
		return ErrExists
	case err != nil:
		return s.fail("SET NX", err)
	}
	return nil
}

func (s *redisStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	b, err := s.c.Get(ctx, s.rkey(key)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, ErrNotFound
	case err != nil:
		return nil, s.fail("GET", err)
	}
	return b, nil
}

func (s *redisStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := checkTTL(ttl); err != nil {
		return err
	}
	if err := s.c.Set(ctx, s.rkey(key), value, px(ttl)).Err(); err != nil {
		return s.fail("SET", err)
	}
	return nil
}

// swapScript: -1 no record, 0 another value, 1 swapped (expiry kept).
var swapScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
if v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1`)

func (s *redisStore) Swap(ctx context.Context, key string, old, next []byte) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	n, err := swapScript.Run(ctx, s.c, []string{s.rkey(key)}, old, next).Int()
	switch {
	case err != nil:
		return false, s.fail("swap script", err)
	case n < 0:
		return false, ErrNotFound
	}
	return n == 1, nil
}

func (s *redisStore) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.c.Del(ctx, s.rkey(key)).Err(); err != nil {
		return s.fail("DEL", err)
	}
	return nil
}

// addScript: INCRBY, and the expiry only on a counter it created.
var addScript = redis.NewScript(`
local existed = redis.call('EXISTS', KEYS[1])
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if existed == 0 and tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return v`)

func (s *redisStore) Add(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if err := checkTTL(ttl); err != nil {
		return 0, err
	}
	n, err := addScript.Run(ctx, s.c, []string{s.rkey(key)}, delta, px(ttl).Milliseconds()).Int64()
	if err != nil {
		var rerr redis.Error
		if errors.As(err, &rerr) {
			switch msg := rerr.Error(); {
			case strings.Contains(msg, "not an integer"):
				return 0, notCounter(key)
			case strings.Contains(msg, "overflow"):
				return 0, fmt.Errorf("store: counter %q would overflow", key)
			}
		}
		return 0, s.fail("add script", err)
	}
	return n, nil
}

// globEscape makes s match itself in a SCAN MATCH pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *redisStore) List(ctx context.Context, prefix string) (map[string][]byte, error) {
	pattern := globEscape(s.rkey(prefix)) + "*"
	seen := map[string]bool{}
	var keys []string
	var cursor uint64
	for {
		batch, next, err := s.c.Scan(ctx, cursor, pattern, 500).Result()
		if err != nil {
			return nil, s.fail("SCAN", err)
		}
		for _, k := range batch {
			if !seen[k] { // SCAN may return a key twice
				seen[k] = true
				keys = append(keys, k)
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	out := make(map[string][]byte, len(keys))
	const chunk = 500
	for i := 0; i < len(keys); i += chunk {
		part := keys[i:min(i+chunk, len(keys))]
		vals, err := s.c.MGet(ctx, part...).Result()
		if err != nil {
			return nil, s.fail("MGET", err)
		}
		for j, v := range vals {
			str, ok := v.(string)
			if !ok { // expired or deleted since SCAN
				continue
			}
			out[strings.TrimPrefix(part[j], s.base+recordNS)] = []byte(str)
		}
	}
	return out, nil
}

var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

func (s *redisStore) Lock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	if ttl <= 0 {
		return nil, false, fmt.Errorf("store: lock %q needs a positive ttl", key)
	}
	owner := make([]byte, 16)
	_, _ = rand.Read(owner)
	token := hex.EncodeToString(owner)
	lkey := s.base + lockNS + key
	err := s.c.SetArgs(ctx, lkey, token, redis.SetArgs{Mode: "NX", TTL: px(ttl)}).Err()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, s.fail("SET NX (lock)", err)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), lockUnlockTimeout)
			defer cancel()
			// A release that fails leaves the lock to expire.
			_ = unlockScript.Run(ctx, s.c, []string{lkey}, token).Err()
		})
	}
	return release, true, nil
}

func (s *redisStore) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return s.fail("PING", err)
	}
	return nil
}

func (s *redisStore) Close() error { return s.c.Close() }

// RouteRedisLogs sends the lines go-redis logs by itself (to stderr by
// default: failed dials, pool events) to l at debug level. go-redis keeps
// one logger for the whole process, so main calls this once. The same
// failures reach callers as ErrUnavailable errors, which say more.
func RouteRedisLogs(l *slog.Logger) {
	redis.SetLogger(redisLogger{l})
}

type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.DebugContext(ctx, strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "), "component", "redis")
}
