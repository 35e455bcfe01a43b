package tools

import (
	"context"
	"errors"

	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/policy"
)

// Spend guards (the policy's limits:): a call over a daily limit is
// refused by its preview, before anyone is asked, saying what is left
// today; the count is taken when the call runs (atomically in the state
// store, so replicas count together) and given back when the upstream
// refused the call.

// overLimit is the preview of a call that would pass a daily limit, or nil.
func overLimit(ctx context.Context, d *Deps, name string, n int64) (*policy.Preview, error) {
	err := d.Spend.Check(ctx, name, n)
	var le *policy.LimitError
	if errors.As(err, &le) {
		return &policy.Preview{Blocked: capitalize(le.Error()) + "."}, nil
	}
	return nil, err
}

// spending runs f with n of name counted against today's limit: refused
// when over it, given back when the upstream refused the call (an answer
// whose outcome is unknown stays counted).
func spending[R any](ctx context.Context, d *Deps, name string, n int64, f func() (R, error)) (R, error) {
	undo, err := d.Spend.Take(ctx, name, n)
	if err != nil {
		var zero R
		return zero, err
	}
	r, err := f()
	var ae *upstream.APIError
	if err != nil && errors.As(err, &ae) {
		undo(ctx)
	}
	return r, err
}
