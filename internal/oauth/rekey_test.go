package oauth_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

func randomKey() []byte {
	k := make([]byte, store.KeySize)
	_, _ = rand.Read(k)
	return k
}

// After the store key rotates (the server restarts with key B and key A
// as a previous key), a person who signed in under A keeps their access:
// their Convirza tokens open, are not renewed for it, and are re-sealed
// with B at this first read. A person whose record no key opens (sealed
// with a key the server was not given) is signed out, alone: the other
// keeps working.
func TestUpstreamTokensSurviveAStoreKeyRotation(t *testing.T) {
	keyA, keyB := randomKey(), randomKey()
	sealerA, _ := store.NewSealer(keyA, "key A")
	e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) { o.Sealer = sealerA })
	_, kept := e.login(sandbox.ReadOnlyEmail)
	_, lost := e.login(sandbox.StandardEmail)
	subject := func(access string) oauth.Subject {
		t.Helper()
		var s oauth.Subject
		s.UserID = int64(e.call("/mcp", access).json(t)["user_id"].(float64))
		return s
	}
	keptSub, lostSub := subject(kept.Access), subject(lost.Access)
	ctx := context.Background()
	before, err := e.srv.UpstreamTokens(ctx, keptSub)
	if err != nil {
		t.Fatal(err)
	}

	sealerB, _ := store.NewSealer(keyB, "key B")
	ring, err := sealerB.WithPrevious(store.EnvStoreKeyPrevious, keyA)
	if err != nil {
		t.Fatal(err)
	}
	restarted, err := oauth.New(oauth.Options{
		Store: e.st, Sealer: ring, PublicURL: e.base, Now: e.clock.Now,
		Upstream: oauth.ConvirzaUpstream(upstream.New(nil, upstream.Policy{Timeout: 10 * time.Second}, nil), e.sb.OAuthURL),
	})
	if err != nil {
		t.Fatal(err)
	}
	// The other person's record sealed with a key the server does not hold.
	lostKey := "oauth/person/" + strconv.FormatInt(lostSub.UserID, 10) + "/convirza"
	stranger, _ := store.NewSealer(randomKey(), "key C")
	if err := e.st.Put(ctx, lostKey, stranger.Seal([]byte(`{}`), []byte(lostKey)), time.Hour); err != nil {
		t.Fatal(err)
	}

	refreshes := e.sb.Refreshes()
	after, err := restarted.UpstreamTokens(ctx, keptSub)
	if err != nil {
		t.Fatalf("after the rotation, the person signed in under the previous key: %v; want their tokens", err)
	}
	if after.Access != before.Access || e.sb.Refreshes() != refreshes {
		t.Fatal("the person's tokens were renewed instead of opened")
	}
	keptKey := "oauth/person/" + strconv.FormatInt(keptSub.UserID, 10) + "/convirza"
	raw, err := e.st.Get(ctx, keptKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sealerB.Open(raw, []byte(keptKey)); err != nil {
		t.Fatalf("the person's record is not re-sealed with the current key: %v", err)
	}

	if _, err := restarted.UpstreamTokens(ctx, lostSub); !errors.Is(err, oauth.ErrSignedOut) {
		t.Fatalf("a record no key opens: %v; want ErrSignedOut", err)
	}
	if n := e.count("oauth/person/" + strconv.FormatInt(lostSub.UserID, 10) + "/grant/"); n != 0 {
		t.Fatalf("%d grants left to the person whose record does not open", n)
	}
	if a := e.call("/mcp", lost.Access); a.status != http.StatusUnauthorized {
		t.Fatalf("the signed-out person's token answers %d, want 401", a.status)
	}
	if a := e.call("/mcp", kept.Access); a.status != http.StatusOK {
		t.Fatalf("the other person's token answers %d after someone else's sign-out", a.status)
	}
	if _, err := restarted.UpstreamTokens(ctx, keptSub); err != nil {
		t.Fatalf("the other person after someone else's sign-out: %v", err)
	}
}
