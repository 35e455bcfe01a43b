package policy

import (
	"strings"
	"testing"
	"time"
)

// TestApprovalByNonce: a token's approval is found by its nonce, also one
// opened before approvals were indexed by nonce (found by listing).
func TestApprovalByNonce(t *testing.T) {
	st := testStore(t)
	tk, _ := NewTokens([]byte(strings.Repeat("k", 32)), time.Minute, st)
	aps := NewApprovals(st)
	for _, indexed := range []bool{true, false} {
		_, exp, nonce, err := tk.IssuePending(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		ap := &Approval{ID: newApprovalID(), Tool: b.Tool, Requested: time.Now(), Expires: exp, Nonce: nonce}
		if err := aps.open(ctx, ap); err != nil {
			t.Fatal(err)
		}
		if !indexed {
			if err := st.Delete(ctx, approvalNonceKey(nonce)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := aps.byNonce(ctx, nonce)
		if err != nil || got.ID != ap.ID || got.State != statePending {
			t.Fatalf("indexed %v: %+v %v", indexed, got, err)
		}
	}
	if _, err := aps.byNonce(ctx, "nosuchnonce"); err == nil {
		t.Fatal("an unknown nonce was found")
	}
}
