package policy

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestTokens(t *testing.T) (*Tokens, *time.Time) {
	t.Helper()
	tk, err := NewTokens([]byte(strings.Repeat("k", 32)), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tk.now = func() time.Time { return now }
	return tk, &now
}

var b = Binding{Tool: "delete_group", Args: []byte(`{"id":1042}`), Principal: "alice|s1"}

func TestTokenRedeemedOnce(t *testing.T) {
	tk, _ := newTestTokens(t)
	tok, exp := tk.Issue(PurposeToken, b)
	if exp.Sub(tk.now()) != 5*time.Minute {
		t.Fatalf("expiry %v", exp)
	}
	if err := tk.Redeem(PurposeToken, tok, b); err != nil {
		t.Fatal(err)
	}
	if err := tk.Redeem(PurposeToken, tok, b); !errors.Is(err, ErrTokenUsed) {
		t.Fatalf("replay: %v", err)
	}
}

func TestTokenRefusals(t *testing.T) {
	tk, now := newTestTokens(t)
	tok, _ := tk.Issue(PurposeToken, b)
	other, _ := NewTokens([]byte(strings.Repeat("x", 32)), time.Minute)
	foreign, _ := other.Issue(PurposeToken, b)
	elicit, _ := tk.Issue(PurposeElicit, b)
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
		if err := tk.Redeem(PurposeToken, c.tok, c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	// None of the refusals consumed the real token.
	*now = now.Add(5*time.Minute + time.Second)
	if err := tk.Redeem(PurposeToken, tok, b); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired: %v", err)
	}
}

func TestTokenRedeemedOnceUnderConcurrency(t *testing.T) {
	tk, _ := newTestTokens(t)
	tok, _ := tk.Issue(PurposeToken, b)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tk.Redeem(PurposeToken, tok, b) == nil {
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
	key := []byte(strings.Repeat("r", 40))
	a, _ := NewTokens(key, time.Minute)
	bb, _ := NewTokens(key, time.Minute)
	tok, _ := a.Issue(PurposeToken, b)
	if err := bb.Redeem(PurposeToken, tok, b); err != nil {
		t.Fatalf("a replica with the same key must verify: %v", err)
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
