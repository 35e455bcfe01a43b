package policy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
)

// testStore is an embedded store of the test's own.
func testStore(t testing.TB) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newTestTokens(t *testing.T) (*Tokens, *time.Time) {
	t.Helper()
	tk, err := NewTokens([]byte(strings.Repeat("k", 32)), 5*time.Minute, testStore(t))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tk.now = func() time.Time { return now }
	return tk, &now
}

var ctx = context.Background()

var b = Binding{Tool: "delete_group", Args: []byte(`{"id":1042}`), Principal: "alice|s1"}

func TestTokenRedeemedOnce(t *testing.T) {
	tk, _ := newTestTokens(t)
	tok, exp, _ := tk.Issue(ctx, PurposeToken, b)
	if exp.Sub(tk.now()) != 5*time.Minute {
		t.Fatalf("expiry %v", exp)
	}
	if err := tk.Redeem(ctx, PurposeToken, tok, b); err != nil {
		t.Fatal(err)
	}
	if err := tk.Redeem(ctx, PurposeToken, tok, b); !errors.Is(err, ErrTokenUsed) {
		t.Fatalf("replay: %v", err)
	}
}

func TestTokenRefusals(t *testing.T) {
	tk, now := newTestTokens(t)
	tok, _, _ := tk.Issue(ctx, PurposeToken, b)
	other, _ := NewTokens([]byte(strings.Repeat("x", 32)), time.Minute, testStore(t))
	foreign, _, _ := other.Issue(ctx, PurposeToken, b)
	elicit, _, _ := tk.Issue(ctx, PurposeElicit, b)
	cases := []struct {
		name string
		tok  string
		b    Binding
		want error
	}{
		{"forged signature", tok[:strings.LastIndexByte(tok, '.')] + ".AAAA", b, ErrTokenInvalid},
		{"other key", foreign, b, ErrTokenInvalid},
		{"garbage", "not-a-token", b, ErrTokenInvalid},
		{"empty", "", b, ErrTokenInvalid},
		{"huge", strings.Repeat("a", 5000), b, ErrTokenInvalid},
		{"elicitation state as token", elicit, b, ErrTokenInvalid},
		{"other tool", tok, Binding{Tool: "delete_user", Args: b.Args, Principal: b.Principal}, ErrTokenMismatch},
		{"other args", tok, Binding{Tool: b.Tool, Args: []byte(`{"id":1043}`), Principal: b.Principal}, ErrTokenMismatch},
		{"other principal", tok, Binding{Tool: b.Tool, Args: b.Args, Principal: "mallory|s2"}, ErrTokenMismatch},
	}
	for _, c := range cases {
		if err := tk.Redeem(ctx, PurposeToken, c.tok, c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	// None of the refusals consumed the real token.
	*now = now.Add(5*time.Minute + time.Second)
	if err := tk.Redeem(ctx, PurposeToken, tok, b); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired: %v", err)
	}
}

func TestTokenRedeemedOnceUnderConcurrency(t *testing.T) {
	tk, _ := newTestTokens(t)
	tok, _, _ := tk.Issue(ctx, PurposeToken, b)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tk.Redeem(ctx, PurposeToken, tok, b) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d redemptions succeeded, want 1", ok.Load())
	}
}

func TestReplicasShareKey(t *testing.T) {
	// Replicas share the key and the store.
	key := []byte(strings.Repeat("r", 40))
	st := testStore(t)
	a, _ := NewTokens(key, time.Minute, st)
	bb, _ := NewTokens(key, time.Minute, st)
	tok, _, _ := a.Issue(ctx, PurposeToken, b)
	if err := bb.Redeem(ctx, PurposeToken, tok, b); err != nil {
		t.Fatalf("a replica with the same key must verify: %v", err)
	}
	// And the token is spent for every replica.
	if err := a.Redeem(ctx, PurposeToken, tok, b); !errors.Is(err, ErrTokenUsed) {
		t.Fatalf("redeemed again at the issuing replica: %v", err)
	}
}

// TestTokenNotOnRecordIsRefused: a token that verifies but whose record is
// gone (a store that lost its data) is refused: records are positive.
func TestTokenNotOnRecordIsRefused(t *testing.T) {
	key := []byte(strings.Repeat("r", 40))
	a, _ := NewTokens(key, time.Minute, testStore(t))
	tok, _, _ := a.Issue(ctx, PurposeToken, b)
	fresh, _ := NewTokens(key, time.Minute, testStore(t)) // same key, empty store
	if err := fresh.Redeem(ctx, PurposeToken, tok, b); !errors.Is(err, ErrTokenUnknown) {
		t.Fatalf("a token with no record: %v", err)
	}
}

// TestApprovalFlow: a pending token executes nothing until a person
// approves it, then once; a declined one never; one decision wins.
func TestApprovalFlow(t *testing.T) {
	st := testStore(t)
	tk, _ := NewTokens([]byte(strings.Repeat("k", 32)), time.Minute, st)
	ap := NewApprovals(st)
	open := func() (string, *Approval) {
		t.Helper()
		tok, exp, nonce, err := tk.IssuePending(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		a := &Approval{ID: newApprovalID(), Tool: b.Tool, Action: "Delete group 1042.", Requested: time.Now(), Expires: exp, Nonce: nonce}
		if err := ap.open(ctx, a); err != nil {
			t.Fatal(err)
		}
		return tok, a
	}
	tok, a := open()
	if err := tk.Redeem(ctx, PurposeToken, tok, b); !errors.Is(err, ErrPending) {
		t.Fatalf("before approval: %v", err)
	}
	if list, err := ap.List(ctx); err != nil || len(list) != 1 || list[0].State != statePending || list[0].ID != a.ID {
		t.Fatalf("list: %+v %v", list, err)
	}
	// Many approvers at once: one decision.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := ap.Decide(ctx, a.ID, i%2 == 0, "approver", ChannelCLI); err == nil {
				wins.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d decisions won", wins.Load())
	}
	got, _ := ap.Get(ctx, a.ID)
	switch got.State {
	case stateApproved:
		if err := tk.Redeem(ctx, PurposeToken, tok, b); err != nil {
			t.Fatalf("approved: %v", err)
		}
		if err := tk.Redeem(ctx, PurposeToken, tok, b); !errors.Is(err, ErrTokenUsed) {
			t.Fatalf("approved, twice: %v", err)
		}
	case stateDeclined:
		if err := tk.Redeem(ctx, PurposeToken, tok, b); !errors.Is(err, ErrDeclined) {
			t.Fatalf("declined: %v", err)
		}
	default:
		t.Fatalf("state %q", got.State)
	}
	if _, err := ap.Decide(ctx, a.ID, true, "late", ChannelCLI); !errors.Is(err, ErrDecided) {
		t.Fatalf("a second decision: %v", err)
	}
	// A declined one stays declined.
	tok2, a2 := open()
	if _, err := ap.Decide(ctx, a2.ID, false, "bob", ChannelPage); err != nil {
		t.Fatal(err)
	}
	if err := tk.Redeem(ctx, PurposeToken, tok2, b); !errors.Is(err, ErrDeclined) {
		t.Fatalf("declined: %v", err)
	}
	if _, err := ap.Decide(ctx, "nosuchid", true, "x", ChannelCLI); !errors.Is(err, ErrNoApproval) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeAuto, "AUTO": ModeAuto, "token": ModeToken, " elicitation ": ModeElicitation} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseMode("always"); err == nil {
		t.Error("bad mode accepted")
	}
}

// TestTokenBoundToPolicy: replicas sharing the store and the key honour a
// token only under the policy (generation and digest) it was issued under:
// one issued under generation 1 is refused under generation 2, naming
// both, and under another digest of the same generation; it stays on
// record untouched, so the replicas of its own policy still honour it.
func TestTokenBoundToPolicy(t *testing.T) {
	st := testStore(t)
	key := []byte(strings.Repeat("k", 32))
	replica := func(policy string) *Tokens {
		tk, err := NewTokens(key, time.Minute, st)
		if err != nil {
			t.Fatal(err)
		}
		tk.Policy = policy
		return tk
	}
	old := replica("1/" + strings.Repeat("a", 64))
	tok, _, err := old.Issue(ctx, PurposeToken, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"2/" + strings.Repeat("b", 64), "1/" + strings.Repeat("c", 64), "2/" + strings.Repeat("a", 64), ""} {
		err := replica(p).Redeem(ctx, PurposeToken, tok, b)
		if !errors.Is(err, ErrTokenPolicy) {
			t.Fatalf("redeemed under %q: %v", p, err)
		}
		if p == "2/"+strings.Repeat("b", 64) {
			for _, want := range []string{"policy generation 1 (digest aaaaaaaaaaaa)", "serves policy generation 2 (digest bbbbbbbbbbbb)", "nothing was done"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q does not say %q", err, want)
				}
			}
		}
	}
	if err := replica(old.Policy).Redeem(ctx, PurposeToken, tok, b); err != nil {
		t.Fatalf("another replica of the token's own policy: %v", err)
	}
}

// TestTokenGate: a replica whose gate says it no longer serves redeems
// nothing, and the token stays redeemable where the policy is served.
func TestTokenGate(t *testing.T) {
	tk, _ := newTestTokens(t)
	tok, _, _ := tk.Issue(ctx, PurposeToken, b)
	stop := errors.New("a newer policy generation took over")
	tk.Gate = func() error { return stop }
	if err := tk.Redeem(ctx, PurposeToken, tok, b); !errors.Is(err, stop) {
		t.Fatalf("redeemed past the gate: %v", err)
	}
	tk.Gate = nil
	if err := tk.Redeem(ctx, PurposeToken, tok, b); err != nil {
		t.Fatalf("after the gate opened: %v", err)
	}
}
