package policy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
)

// Limits are the policy file's spend guards (limits:), per UTC day; 0 is
// no limit.
type Limits struct {
	NumbersPerDay             int64
	BroadcastRecipientsPerDay int64
}

// Names of the daily limits, as the policy file and messages spell them.
const (
	LimitNumbers    = "numbers_per_day"
	LimitRecipients = "broadcast_recipients_per_day"
)

// counterTTL keeps a day's counter past the end of its day, whatever the
// clock skew between replicas.
const counterTTL = 48 * time.Hour

// Spend counts what calls spend against the daily limits in the state
// store, so every replica sharing it counts together. A nil *Spend, or a
// limit of 0, limits nothing.
type Spend struct {
	Store  store.Store
	Limits Limits
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// LimitError refuses a call over a daily limit, saying what is left today.
type LimitError struct {
	Name        string
	Limit, Left int64
	Want        int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("refused by the policy's daily limit %s (%d per UTC day): this call needs %d and %d %s left today; nothing was done",
		e.Name, e.Limit, e.Want, e.Left, map[bool]string{true: "is", false: "are"}[e.Left == 1])
}

func (s *Spend) limit(name string) int64 {
	if s == nil {
		return 0
	}
	switch name {
	case LimitNumbers:
		return s.Limits.NumbersPerDay
	case LimitRecipients:
		return s.Limits.BroadcastRecipientsPerDay
	}
	return 0
}

func (s *Spend) key(name string) string {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return "limits/" + name + "/" + now().UTC().Format("2006-01-02")
}

// used is today's count for name.
func (s *Spend) used(ctx context.Context, name string) (int64, error) {
	b, err := s.Store.Get(ctx, s.key(name))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("reading today's count of %s: %w", name, err)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading today's count of %s: %w", name, err)
	}
	return n, nil
}

// Check refuses (*LimitError) a call that would spend n of name over
// today's limit; it counts nothing. It is asked before any preview.
func (s *Spend) Check(ctx context.Context, name string, n int64) error {
	limit := s.limit(name)
	if limit == 0 {
		return nil
	}
	used, err := s.used(ctx, name)
	if err != nil {
		return err
	}
	if used+n > limit {
		return &LimitError{Name: name, Limit: limit, Left: max(0, limit-used), Want: n}
	}
	return nil
}

// Take counts n of name for a call about to run, atomically across
// replicas, or refuses it (*LimitError) when that would pass today's
// limit. undo gives the n back: call it when the upstream refused the
// call, so that nothing was spent.
func (s *Spend) Take(ctx context.Context, name string, n int64) (undo func(context.Context), err error) {
	limit := s.limit(name)
	if limit == 0 {
		return func(context.Context) {}, nil
	}
	key := s.key(name)
	total, err := s.Store.Add(ctx, key, n, counterTTL)
	if err != nil {
		return nil, fmt.Errorf("counting %s: %w", name, err)
	}
	undo = func(ctx context.Context) {
		// Best effort: a failed give-back leaves the day's count high,
		// which limits more, never less.
		_, _ = s.Store.Add(context.WithoutCancel(ctx), key, -n, counterTTL)
	}
	if total > limit {
		undo(ctx)
		return nil, &LimitError{Name: name, Limit: limit, Left: max(0, limit-(total-n)), Want: n}
	}
	return undo, nil
}
