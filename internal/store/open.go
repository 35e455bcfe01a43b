package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// The environment variables this package's errors name.
const (
	EnvStore    = "CONVIRZA_MCP_STORE"
	EnvStoreKey = "CONVIRZA_MCP_STORE_KEY"
	// EnvStoreKeyPrevious lists retired store keys that still open what
	// they sealed (rotation).
	EnvStoreKeyPrevious = "CONVIRZA_MCP_STORE_KEY_PREVIOUS"
	EnvStateDir         = "CONVIRZA_MCP_STATE_DIR"
)

// Open opens the store storeURL (CONVIRZA_MCP_STORE) names: "" is the
// embedded store in stateDir (created 0700 when missing); redis://… or
// rediss://… is Redis or Valkey (user and password in the URL, the
// database number as its path, an optional ?prefix=NAME that namespaces
// the keys so several deployments can share one server, and go-redis's
// own query options such as dial_timeout). Anything else is an error
// naming CONVIRZA_MCP_STORE, and so is a URL Redis cannot be configured
// from; errors never contain the password.
//
// Open makes no network call: an unreachable Redis is reported by Ping and
// by every operation (ErrUnavailable), so a server can start and refuse
// only what needs the store.
func Open(ctx context.Context, storeURL, stateDir string) (Store, error) {
	storeURL = strings.TrimSpace(storeURL)
	if storeURL == "" {
		return openEmbedded(ctx, stateDir)
	}
	scheme, _, ok := strings.Cut(storeURL, "://")
	switch {
	case ok && (strings.EqualFold(scheme, "redis") || strings.EqualFold(scheme, "rediss")):
		return openRedis(storeURL)
	default:
		return nil, fmt.Errorf("%s: expected empty (the embedded store) or a redis:// or rediss:// URL, got a value starting %q",
			EnvStore, schemeForMessage(storeURL))
	}
}

// schemeForMessage returns what an error may show of a wrong store URL: its
// scheme, never the rest (it may hold a password).
func schemeForMessage(raw string) string {
	if scheme, _, ok := strings.Cut(raw, "://"); ok && len(scheme) <= 16 {
		return scheme + "://"
	}
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && len(u.Scheme) <= 16 {
		return u.Scheme + ":"
	}
	return "(not a URL)"
}

// DefaultStateDir is where the embedded store lives when
// CONVIRZA_MCP_STATE_DIR is unset: $XDG_STATE_HOME/convirza-mcp (else
// ~/.local/state/convirza-mcp) on Linux and other Unix systems,
// ~/Library/Application Support/convirza-mcp on macOS and
// %LocalAppData%\convirza-mcp on Windows.
func DefaultStateDir() (string, error) {
	return defaultStateDir(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

func defaultStateDir(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	const name = "convirza-mcp"
	switch goos {
	case "windows":
		if d := getenv("LocalAppData"); d != "" {
			return filepath.Join(d, name), nil
		}
		return "", fmt.Errorf("%%LocalAppData%% is not set: set %s", EnvStateDir)
	case "darwin", "ios":
		h, err := home()
		if err != nil || h == "" {
			return "", fmt.Errorf("no home directory (set %s): %w", EnvStateDir, errOrEmpty(err))
		}
		return filepath.Join(h, "Library", "Application Support", name), nil
	default:
		// The XDG base directory specification ignores relative paths.
		if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
			return filepath.Join(d, name), nil
		}
		h, err := home()
		if err != nil || h == "" {
			return "", fmt.Errorf("no home directory (set %s or XDG_STATE_HOME): %w", EnvStateDir, errOrEmpty(err))
		}
		return filepath.Join(h, ".local", "state", name), nil
	}
}

func errOrEmpty(err error) error {
	if err != nil {
		return err
	}
	return errors.New("$HOME is empty")
}

// checkKey rejects what no implementation stores: an empty key.
func checkKey(key string) error {
	if key == "" {
		return errors.New("store: empty key")
	}
	return nil
}

// checkTTL rejects a negative lifetime (0 means the record does not expire).
func checkTTL(ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("store: negative ttl %v", ttl)
	}
	return nil
}

// Keys are namespaced by kind so that a lock never reads as a record and
// List never returns a lock: records under "r:", locks under "l:".
const (
	recordNS = "r:"
	lockNS   = "l:"
)

// lockUnlockTimeout bounds the release of a lock (unlock has no context):
// a release that cannot reach the store leaves the lock to expire.
const lockUnlockTimeout = 5 * time.Second
