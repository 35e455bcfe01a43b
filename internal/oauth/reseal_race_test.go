package oauth_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

// hookStore runs after on the first Get of a key once armed.
type hookStore struct {
	store.Store
	armed atomic.Bool
	after func(key string, val []byte)
}

func (h *hookStore) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := h.Store.Get(ctx, key)
	if err == nil && strings.HasSuffix(key, "/convirza") && h.armed.CompareAndSwap(true, false) {
		h.after(key, b)
	}
	return b, err
}

// A renewal whose record another reader re-sealed with the current store
// key between its read and its write (a key rotation under way, with a
// parallel call of the same person) keeps the renewed tokens: the refresh
// token it spent is not left in the store to sign the person out at the
// next renewal.
func TestRenewalSurvivesAConcurrentReseal(t *testing.T) {
	keyA, keyB := randomKey(), randomKey()
	sealerA, _ := store.NewSealer(keyA, "key A")
	e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) { o.Sealer = sealerA })
	_, tok := e.login(sandbox.StandardEmail)
	var sub oauth.Subject
	sub.UserID = int64(e.call("/mcp", tok.Access).json(t)["user_id"].(float64))
	ctx := context.Background()
	before, err := e.srv.UpstreamTokens(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	sealerB, _ := store.NewSealer(keyB, "key B")
	ring, _ := sealerB.WithPrevious(store.EnvStoreKeyPrevious, keyA)
	hs := &hookStore{Store: e.st}
	// Another replica's plain read re-seals the record right after this
	// replica's renewer read it.
	hs.after = func(key string, val []byte) {
		plain, _, err := ring.Unseal(val, []byte(key))
		if err != nil {
			t.Errorf("unseal: %v", err)
			return
		}
		if _, ok, err := ring.Reseal(ctx, e.st, key, val, plain); !ok || err != nil {
			t.Errorf("other replica's reseal: ok=%v err=%v", ok, err)
		}
	}
	restarted, err := oauth.New(oauth.Options{
		Store: hs, Sealer: ring, PublicURL: e.base, Now: e.clock.Now,
		Upstream: oauth.ConvirzaUpstream(upstream.New(nil, upstream.Policy{Timeout: 10 * time.Second}, nil), e.sb.OAuthURL),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs.armed.Store(true)
	got, err := restarted.RenewUpstream(ctx, sub, before.Access)
	if err != nil || got.Access == before.Access || e.sb.Refreshes() != 1 {
		t.Fatalf("renewal racing a re-seal: %v, same access %v, %d refreshes", err, got.Access == before.Access, e.sb.Refreshes())
	}
	stored, err := restarted.UpstreamTokens(ctx, sub)
	if err != nil || stored.Access != got.Access {
		t.Fatalf("the renewed tokens were not kept: %v", err)
	}
	if _, err := restarted.RenewUpstream(ctx, sub, got.Access); err != nil {
		t.Fatalf("the next renewal: %v (signed out: %v)", err, errors.Is(err, oauth.ErrSignedOut))
	}
}
