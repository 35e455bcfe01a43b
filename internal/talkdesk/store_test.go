package talkdesk

import (
	"context"
	"crypto/rand"
	"net/http"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/schemas"
)

// storedClients are n clients keeping their token in one store directory,
// each through its own opening of it (what separate processes have).
func storedClients(t *testing.T, sb *sandbox.Running, n int) []*Client {
	t.Helper()
	dir := t.TempDir()
	key := make([]byte, store.KeySize)
	_, _ = rand.Read(key)
	sealer, err := store.NewSealer(key, "test key")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*Client, n)
	for i := range out {
		st, err := store.Open(context.Background(), "", dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		hc := upstream.New(&http.Client{Transport: tr}, upstream.Policy{Timeout: 10 * time.Second}, nil)
		out[i] = New(Config{
			ClientID: sandbox.TalkdeskClientID, ClientSecret: sandbox.TalkdeskClientSecret,
			APIURL: sb.TalkdeskAPIURL, TokenURL: sb.TalkdeskTokenURL, Store: st, Sealer: sealer,
		}, hc, nil)
	}
	return out
}

// TestTokenSharedAcrossProcessesThroughTheStore: clients sharing a store
// get one token among them, renew it once when the API refuses it, and a
// client started later uses the stored one.
func TestTokenSharedAcrossProcessesThroughTheStore(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	clients := storedClients(t, sb, 4)
	ctx := context.Background()
	storm := func(what string) {
		t.Helper()
		n := sandboxenv.Storm(t, 45, func(i int) error {
			_, err := clients[i%3].RecordLists.List(ctx, schemas.HALPage{})
			return err
		})
		if n != 0 {
			t.Fatalf("%s: %d calls failed", what, n)
		}
	}
	storm("first use")
	if n := sb.TalkdeskTokensIssued(); n != 1 {
		t.Fatalf("first use: %d tokens issued, want 1", n)
	}
	sb.ExpireTalkdeskTokens()
	storm("after expiry")
	if n := sb.TalkdeskTokensIssued(); n != 2 {
		t.Fatalf("after expiry: %d tokens issued, want 2", n)
	}
	// The fourth starts later: the stored token serves it.
	if _, err := clients[3].RecordLists.Get(ctx, sandbox.SpringCampaignListID); err != nil {
		t.Fatal(err)
	}
	if n := sb.TalkdeskTokensIssued(); n != 2 {
		t.Fatalf("a later process: %d tokens issued, want 2", n)
	}
}

// TestLogoutForgetsTheStoredToken: Talkdesk cannot revoke a token; logout
// deletes the stored one, and the next call gets a new one.
func TestLogoutForgetsTheStoredToken(t *testing.T) {
	sb := sandboxenv.Start(t, sandbox.Options{})
	clients := storedClients(t, sb, 2)
	ctx := context.Background()
	if _, err := clients[0].RecordLists.Get(ctx, sandbox.SpringCampaignListID); err != nil {
		t.Fatal(err)
	}
	if stored, err := clients[1].Logout(ctx); err != nil || !stored {
		t.Fatalf("logout: %v %v", stored, err)
	}
	if stored, err := clients[1].Logout(ctx); err != nil || stored {
		t.Fatalf("second logout: %v %v", stored, err)
	}
	if _, err := clients[1].RecordLists.Get(ctx, sandbox.SpringCampaignListID); err != nil {
		t.Fatal(err)
	}
	if n := sb.TalkdeskTokensIssued(); n != 2 {
		t.Fatalf("%d tokens issued, want 2: the forgotten one must not be reused", n)
	}
}
