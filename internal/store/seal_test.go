package store

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestSealer(t *testing.T) {
	s, err := NewSealer(testKey(1), EnvStoreKey)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"refresh_token":"r-123"}`)
	aad := []byte("cred/convirza")
	sealed := s.Seal(plain, aad)
	if bytes.Contains(sealed, plain) || bytes.Contains(sealed, []byte("r-123")) {
		t.Fatal("the sealed value shows the plaintext")
	}
	if again := s.Seal(plain, aad); bytes.Equal(again, sealed) {
		t.Fatal("sealing twice gave the same bytes (nonce reused)")
	}
	if got, err := s.Open(sealed, aad); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, []byte("cred/talkdesk")); err == nil {
		t.Fatal("a sealed value opened under another name")
	}
	damaged := bytes.Clone(sealed)
	damaged[len(damaged)-1] ^= 1
	if _, err := s.Open(damaged, aad); err == nil {
		t.Fatal("a damaged value opened")
	}
	for _, short := range [][]byte{nil, {1}, sealed[:20]} {
		if _, err := s.Open(short, aad); err == nil {
			t.Fatalf("Open(%d bytes) succeeded", len(short))
		}
	}
	other, err := NewSealer(testKey(2), EnvStoreKey)
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.Open(sealed, aad)
	if err == nil || !strings.Contains(err.Error(), "key other than "+EnvStoreKey) {
		t.Fatalf("Open with another key = %v; want it to say the key differs, naming %s", err, EnvStoreKey)
	}
	if _, err := NewSealer(testKey(1)[:16], EnvStoreKey); err == nil || !strings.Contains(err.Error(), EnvStoreKey) {
		t.Fatalf("NewSealer(16 bytes) = %v; want an error naming %s", err, EnvStoreKey)
	}
}

func TestParseKey(t *testing.T) {
	key := testKey(0xfb) // base64 of 0xfb… uses '+' and '/' (or '-' and '_')
	for _, enc := range []string{
		base64.StdEncoding.EncodeToString(key),
		base64.RawStdEncoding.EncodeToString(key),
		base64.URLEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key) + "\n",
	} {
		if got, err := ParseKey(enc); err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseKey(%q) = %x, %v", enc, got, err)
		}
	}
	const secretish = "c2VjcmV0LWJ1dC10b28tc2hvcnQ="
	for _, bad := range []string{"", "not base64 at all!", secretish} {
		_, err := ParseKey(bad)
		if err == nil || !strings.Contains(err.Error(), EnvStoreKey) || (bad != "" && strings.Contains(err.Error(), bad)) {
			t.Errorf("ParseKey(%q) = %v; want an error naming %s and not showing the value", bad, err, EnvStoreKey)
		}
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	// Processes starting at once agree on one key.
	keys := make([][]byte, 20)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadOrCreateKey(dir)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if len(k) != KeySize || !bytes.Equal(k, keys[0]) {
			t.Fatalf("concurrent LoadOrCreateKey gave different keys")
		}
	}
	path := filepath.Join(dir, KeyFileName)
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
		}
	}
	if again, err := LoadOrCreateKey(dir); err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("LoadOrCreateKey again = %x, %v; want the same key", again, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("state directory holds %d files, want only %s", len(entries), KeyFileName)
	}
	if runtime.GOOS != "windows" {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("LoadOrCreateKey with a world-readable key file = %v; want a refusal", err)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("LoadOrCreateKey with a damaged key file = %v; want an error naming the file", err)
	}
}

func TestOpenSealer(t *testing.T) {
	dir := t.TempDir()
	key := base64.StdEncoding.EncodeToString(testKey(7))
	fromEnv, err := OpenSealer(key, "redis://cache.example", dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !os.IsNotExist(err) {
		t.Fatalf("a key file was written although %s is set: %v", EnvStoreKey, err)
	}
	if _, err := OpenSealer("", "redis://cache.example", dir); err == nil || !strings.Contains(err.Error(), EnvStoreKey) {
		t.Fatalf("OpenSealer with Redis and no key = %v; want an error naming %s", err, EnvStoreKey)
	}
	embedded, err := OpenSealer("", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := OpenSealer("", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	sealed := embedded.Seal([]byte("v"), nil)
	if got, err := again.Open(sealed, nil); err != nil || string(got) != "v" {
		t.Fatalf("the generated key is not reused: %q, %v", got, err)
	}
	if _, err := fromEnv.Open(sealed, nil); err == nil || !strings.Contains(err.Error(), EnvStoreKey) {
		t.Fatalf("opening with the %s key a value sealed with the generated one = %v", EnvStoreKey, err)
	}
}
