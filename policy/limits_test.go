package policy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
)

func TestSpendCountsPerUTCDayAcrossHolders(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	day := time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)
	now := func() time.Time { return day }
	// Two replicas sharing one store count together.
	a := &Spend{Store: st, Limits: Limits{NumbersPerDay: 3}, Now: now}
	b := &Spend{Store: st, Limits: Limits{NumbersPerDay: 3}, Now: now}
	if err := a.Check(ctx, LimitNumbers, 3); err != nil {
		t.Fatalf("check 3 of 3: %v", err)
	}
	if _, err := a.Take(ctx, LimitNumbers, 2); err != nil {
		t.Fatal(err)
	}
	err = b.Check(ctx, LimitNumbers, 2)
	var le *LimitError
	if !errors.As(err, &le) || le.Left != 1 || !strings.Contains(err.Error(), "1 is left today") {
		t.Fatalf("check over the limit: %v", err)
	}
	if _, err := b.Take(ctx, LimitNumbers, 2); !errors.As(err, &le) {
		t.Fatalf("take over the limit: %v", err)
	}
	undo, err := b.Take(ctx, LimitNumbers, 1)
	if err != nil {
		t.Fatal(err)
	}
	undo(ctx) // the upstream refused: given back
	if err := a.Check(ctx, LimitNumbers, 1); err != nil {
		t.Fatalf("after the give-back: %v", err)
	}
	// The next UTC day starts again.
	day = day.Add(2 * time.Hour)
	if err := a.Check(ctx, LimitNumbers, 3); err != nil {
		t.Fatalf("next day: %v", err)
	}
	// No limit set, or no Spend: nothing is counted or refused.
	var none *Spend
	if err := none.Check(ctx, LimitRecipients, 1e9); err != nil {
		t.Fatal(err)
	}
	if err := a.Check(ctx, LimitRecipients, 1e9); err != nil {
		t.Fatal(err)
	}

	// Concurrent takes never pass the limit together.
	day = day.Add(48 * time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Take(ctx, LimitNumbers, 1); err == nil {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if taken != 3 {
		t.Fatalf("%d concurrent takes succeeded, want 3", taken)
	}
}
