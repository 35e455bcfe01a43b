package store

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
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
	fromEnv, err := OpenSealer(key, "", "redis://cache.example", dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !os.IsNotExist(err) {
		t.Fatalf("a key file was written although %s is set: %v", EnvStoreKey, err)
	}
	if _, err := OpenSealer("", "", "redis://cache.example", dir); err == nil || !strings.Contains(err.Error(), EnvStoreKey) {
		t.Fatalf("OpenSealer with Redis and no key = %v; want an error naming %s", err, EnvStoreKey)
	}
	embedded, err := OpenSealer("", "", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := OpenSealer("", "", "", dir)
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

// A key ring: the current key seals, a previous key still opens what it
// sealed (and says it is stale, so the reader re-seals it), a key in
// neither does not open, and its error names both variables, never a key.
func TestSealerPreviousKeysOpen(t *testing.T) {
	oldKey, err := NewSealer(testKey(1), EnvStoreKey)
	if err != nil {
		t.Fatal(err)
	}
	sealedOld := oldKey.Seal([]byte("old"), []byte("k"))
	cur, err := NewSealer(testKey(2), EnvStoreKey)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cur.WithPrevious(EnvStoreKeyPrevious, testKey(3), testKey(1), testKey(1), testKey(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(ring.keys) != 3 {
		t.Fatalf("%d keys in the ring, want 3 (a key listed twice, or equal to the current one, is kept once)", len(ring.keys))
	}
	got, stale, err := ring.Unseal(sealedOld, []byte("k"))
	if err != nil || string(got) != "old" || !stale {
		t.Fatalf("a value sealed with a previous key: %q stale=%v %v; want it opened and stale", got, stale, err)
	}
	if _, err := ring.Open(sealedOld, []byte("elsewhere")); err == nil {
		t.Fatal("a previous key's value opened under another name")
	}
	fresh := ring.Seal([]byte("new"), []byte("k"))
	if got, stale, err := ring.Unseal(fresh, []byte("k")); err != nil || string(got) != "new" || stale {
		t.Fatalf("a value the ring sealed: %q stale=%v %v; want it opened and current", got, stale, err)
	}
	if got, err := cur.Open(fresh, []byte("k")); err != nil || string(got) != "new" {
		t.Fatalf("the ring does not seal with the current key: %q %v", got, err)
	}
	if _, err := oldKey.Open(fresh, []byte("k")); err == nil {
		t.Fatal("a value the ring sealed opens with the previous key: it sealed with the wrong one")
	}
	stranger, _ := NewSealer(testKey(9), EnvStoreKey)
	_, _, err = ring.Unseal(stranger.Seal([]byte("x"), nil), nil)
	if err == nil || !strings.Contains(err.Error(), "key other than "+EnvStoreKey+" or "+EnvStoreKeyPrevious) {
		t.Fatalf("a value sealed with an unknown key = %v; want it refused, naming both variables", err)
	}
	// Without the ring, the previous key's value does not open: what the
	// ring adds.
	if _, err := cur.Open(sealedOld, []byte("k")); err == nil {
		t.Fatal("the current key alone opened a previous key's value")
	}
}

// CONVIRZA_MCP_STORE_KEY_PREVIOUS: a comma list of base64 keys; a wrong
// one is refused naming the variable and the item, never showing a value.
func TestParsePreviousKeys(t *testing.T) {
	k1, k2 := base64.StdEncoding.EncodeToString(testKey(1)), base64.RawURLEncoding.EncodeToString(testKey(2))
	keys, err := ParsePreviousKeys(" " + k1 + " ,, " + k2 + ",")
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], testKey(1)) || !bytes.Equal(keys[1], testKey(2)) {
		t.Fatalf("ParsePreviousKeys = %d keys, %v", len(keys), err)
	}
	if keys, err := ParsePreviousKeys("  "); err != nil || keys != nil {
		t.Fatalf("blank: %v %v; want none and no error", keys, err)
	}
	short := base64.StdEncoding.EncodeToString(testKey(3)[:16])
	for _, bad := range []string{k1 + "," + short, "not*base64!", short, " , ", k1 + ",c2VjcmV0LXRoYXQtaXMtdG9vLXNob3J0"} {
		_, err := ParsePreviousKeys(bad)
		if err == nil || !strings.Contains(err.Error(), EnvStoreKeyPrevious) {
			t.Errorf("ParsePreviousKeys(%q) = %v; want an error naming %s", bad, err, EnvStoreKeyPrevious)
			continue
		}
		for _, item := range strings.Split(bad, ",") {
			if item = strings.TrimSpace(item); len(item) > 3 && strings.Contains(err.Error(), item) {
				t.Errorf("ParsePreviousKeys(%q): the error shows a value: %v", bad, err)
			}
		}
	}
	if _, err := ParsePreviousKeys(k1 + "," + short); err == nil || !strings.Contains(err.Error(), "item 2") {
		t.Errorf("the second item wrong: %v; want the error to say which", err)
	}
}

// The embedded store's generated key file stays the current key when
// previous keys are given; a previous key's values open alongside.
func TestOpenSealerWithPreviousKeys(t *testing.T) {
	dir := t.TempDir()
	oldKey := base64.StdEncoding.EncodeToString(testKey(4))
	before, err := OpenSealer(oldKey, "", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	sealed := before.Seal([]byte("v"), []byte("k"))
	after, err := OpenSealer("", oldKey, "", dir) // the key file now, the variable's key retired
	if err != nil {
		t.Fatal(err)
	}
	if got, stale, err := after.Unseal(sealed, []byte("k")); err != nil || string(got) != "v" || !stale {
		t.Fatalf("the retired key's value: %q stale=%v %v", got, stale, err)
	}
	file, err := OpenSealer("", "", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := file.Open(after.Seal([]byte("w"), nil), nil); err != nil || string(got) != "w" {
		t.Fatalf("with previous keys, the key file does not seal: %q %v", got, err)
	}
	if _, err := OpenSealer("", "short", "", dir); err == nil || !strings.Contains(err.Error(), EnvStoreKeyPrevious) {
		t.Fatalf("a wrong previous key = %v; want an error naming %s", err, EnvStoreKeyPrevious)
	}
}

// Reseal writes a stale record back with the current key only if it still
// holds what was read: a write in between (a renewal) is never overwritten,
// and a deleted record is not brought back.
func TestResealNeverOverwritesAConcurrentWrite(t *testing.T) {
	st := openEmbeddedT(t, t.TempDir())
	ctx := t.Context()
	a, _ := NewSealer(testKey(1), "A")
	b, _ := NewSealer(testKey(2), "B")
	ring, err := b.WithPrevious(EnvStoreKeyPrevious, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	old := a.Seal([]byte("old"), []byte("rec"))
	if err := st.Put(ctx, "rec", old, time.Hour); err != nil {
		t.Fatal(err)
	}
	plain, stale, err := ring.Unseal(old, []byte("rec"))
	if err != nil || !stale {
		t.Fatalf("Unseal: %v stale=%v", err, stale)
	}
	renewed := ring.Seal([]byte("renewed"), []byte("rec"))
	if err := st.Put(ctx, "rec", renewed, time.Hour); err != nil { // the renewal lands first
		t.Fatal(err)
	}
	if _, ok, err := ring.Reseal(ctx, st, "rec", old, plain); ok || err != nil {
		t.Fatalf("Reseal over a renewal: ok=%v %v; want it to leave the record", ok, err)
	}
	if got, _ := st.Get(ctx, "rec"); !bytes.Equal(got, renewed) {
		t.Fatal("Reseal overwrote the renewal")
	}
	if err := st.Put(ctx, "rec", old, time.Hour); err != nil {
		t.Fatal(err)
	}
	next, ok, err := ring.Reseal(ctx, st, "rec", old, plain)
	if !ok || err != nil {
		t.Fatalf("Reseal of an unchanged record: ok=%v %v", ok, err)
	}
	if got, err := b.Open(mustGet(t, st, "rec"), []byte("rec")); err != nil || string(got) != "old" || !bytes.Equal(mustGet(t, st, "rec"), next) {
		t.Fatalf("the re-sealed record: %q %v; want it opened by B alone", got, err)
	}
	_ = st.Delete(ctx, "rec")
	if _, ok, err := ring.Reseal(ctx, st, "rec", next, plain); ok || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Reseal of a deleted record: ok=%v %v; want ErrNotFound", ok, err)
	}
	if _, err := st.Get(ctx, "rec"); !errors.Is(err, ErrNotFound) {
		t.Fatal("Reseal brought a deleted record back")
	}
}
