package store

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// swapInterceptor runs before each Swap: a write that lands between
// Rekey's read and its Swap.
type swapInterceptor struct {
	Store
	before func(key string)
}

func (s swapInterceptor) Swap(ctx context.Context, key string, old, next []byte) (bool, error) {
	if s.before != nil {
		s.before(key)
	}
	return s.Store.Swap(ctx, key, old, next)
}

// testRekey: Rekey re-seals with the current key (B) what a previous key
// (A) sealed, counts what was current already and what no key opens
// (left as it was), touches nothing outside the sealed records, keeps a
// renewal that lands meanwhile, and finds nothing left to do afterwards.
func testRekey(t *testing.T, st Store) {
	ctx := t.Context()
	a, _ := NewSealer(testKey(1), "A")
	b, _ := NewSealer(testKey(2), "B")
	c, _ := NewSealer(testKey(3), "C")
	ring, err := b.WithPrevious(EnvStoreKeyPrevious, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	put := func(key string, value []byte) {
		t.Helper()
		if err := st.Put(ctx, key, value, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	seal := func(s *Sealer, key string) []byte { return s.Seal([]byte("plain "+key), []byte(key)) }
	put("upstream/x/stale1", seal(a, "upstream/x/stale1"))
	put("upstream/x/stale2", seal(a, "upstream/x/stale2"))
	put("upstream/x/renewed", seal(a, "upstream/x/renewed"))
	put("upstream/x/current", seal(b, "upstream/x/current"))
	put("upstream/x/unknown", seal(c, "upstream/x/unknown"))
	put("people/7/tokens", seal(a, "people/7/tokens"))
	notSealed := []byte("a grant, not sealed")
	put("people/7/grant/g", notSealed)
	outside := seal(a, "elsewhere/k")
	put("elsewhere/k", outside)
	unknown := mustGet(t, st, "upstream/x/unknown")

	renewal := seal(b, "upstream/x/renewed")
	racing := swapInterceptor{Store: st, before: func(key string) {
		if key == "upstream/x/renewed" && !bytes.Equal(mustGet(t, st, key), renewal) {
			put(key, renewal) // a renewal lands between Rekey's read and its Swap
		}
	}}
	sets := []SealedRecords{
		{Prefix: "upstream/x/"},
		{Prefix: "people/", Match: func(k string) bool { return strings.HasSuffix(k, "/tokens") }},
		{Prefix: "upstream/"}, // overlapping: each record counted once
	}
	res, err := Rekey(ctx, racing, ring, sets...)
	if err != nil {
		t.Fatal(err)
	}
	if want := (RekeyResult{Resealed: 3, Current: 2, Unopenable: 1}); res != want {
		t.Fatalf("Rekey = %+v, want %+v", res, want)
	}
	for _, key := range []string{"upstream/x/stale1", "upstream/x/stale2", "people/7/tokens", "upstream/x/current"} {
		if got, err := b.Open(mustGet(t, st, key), []byte(key)); err != nil || string(got) != "plain "+key {
			t.Errorf("%s after Rekey: %q %v; want it opened by B alone", key, got, err)
		}
	}
	if !bytes.Equal(mustGet(t, st, "upstream/x/renewed"), renewal) {
		t.Error("Rekey overwrote a renewal that landed meanwhile")
	}
	if !bytes.Equal(mustGet(t, st, "upstream/x/unknown"), unknown) {
		t.Error("Rekey changed a record no key opens")
	}
	if !bytes.Equal(mustGet(t, st, "people/7/grant/g"), notSealed) || !bytes.Equal(mustGet(t, st, "elsewhere/k"), outside) {
		t.Error("Rekey changed a record outside the sealed records")
	}
	res, err = Rekey(ctx, st, b, sets...)
	if want := (RekeyResult{Current: 5, Unopenable: 1}); err != nil || res != want {
		t.Fatalf("Rekey again, with B alone = %+v %v, want %+v", res, err, want)
	}
}

func TestRekeyEmbedded(t *testing.T) {
	testRekey(t, openEmbeddedT(t, t.TempDir()))
}

func TestRekeyRedis(t *testing.T) {
	r := startRedis(t, "")
	testRekey(t, openRedisT(t, r.URL("?prefix=rekey")))
}

// A store that cannot be reached is Rekey's one error.
func TestRekeyStoreDown(t *testing.T) {
	st := openEmbeddedT(t, t.TempDir())
	b, _ := NewSealer(testKey(2), "B")
	_ = st.Close()
	if _, err := Rekey(t.Context(), st, b, SealedRecords{Prefix: "upstream/"}); err == nil {
		t.Fatal("Rekey on a closed store: no error")
	}
}
