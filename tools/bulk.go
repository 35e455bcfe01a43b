package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

// Bulk forms of the destructive tools operators run in bulk
// (release_phone_number numbers, delete_provisioned_route, delete_user and
// delete_webhook ids): one preview over every item, one confirmation, one
// outcome per item.
//
// A confirmation covers exactly what runs: when any item is blocked (gone,
// already deleted, refused by its preview), the whole call is refused
// before anyone is asked, naming each blocked item and why, so that a
// person never approves a list of which only some will be tried.

// Item outcomes of a bulk call.
const (
	itemDone    = "done"
	itemFailed  = "failed"
	itemNotDone = "not_done"
)

// bulkItem is the outcome of one item of a bulk call.
type bulkItem struct {
	Item   any    `json:"item"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// bulkResult is a bulk call's answer: done (every item), partly done, or
// none done, and each item's outcome.
type bulkResult struct {
	Status  string     `json:"status"`
	Summary string     `json:"summary"`
	Items   []bulkItem `json:"items"`
}

// runBulk runs do on each item in order. An item the upstream refuses is
// failed and the next is tried; after a failure whose outcome is unknown or
// that says the upstream is unreachable (or the call was cancelled), the
// remaining items are not tried (not_done): what changed is then exactly
// the items marked done, and the failed one may need checking.
func runBulk[K any](ctx context.Context, items []K, label func(K) any, do func(context.Context, K) error) *bulkResult {
	out := &bulkResult{Items: make([]bulkItem, 0, len(items))}
	stop := false
	done, failed := 0, 0
	for _, it := range items {
		r := bulkItem{Item: label(it)}
		switch {
		case stop || ctx.Err() != nil:
			r.Status = itemNotDone
		default:
			if err := do(ctx, it); err != nil {
				r.Status, r.Error = itemFailed, itemError(err)
				failed++
				var ae *upstream.APIError
				stop = !errors.As(err, &ae)
			} else {
				r.Status = itemDone
				done++
			}
		}
		out.Items = append(out.Items, r)
	}
	switch {
	case done == len(items):
		out.Status = "done"
	case done == 0:
		out.Status = "none done"
	default:
		out.Status = "partly done"
	}
	out.Summary = fmt.Sprintf("%d of %d done", done, len(items))
	if failed > 0 {
		out.Summary += fmt.Sprintf(", %d failed", failed)
	}
	if n := len(items) - done - failed; n > 0 {
		out.Summary += fmt.Sprintf(", %d not tried (stopped after a failure whose outcome is unknown or an unreachable upstream)", n)
	}
	return out
}

// itemError says why one item failed, saying when its outcome is unknown.
func itemError(err error) string {
	var te *upstream.TransportError
	if errors.As(err, &te) && te.OutcomeUnknown() {
		return fmt.Sprintf("sent, but no answer came back (%v): it may or may not have been done; check it", te)
	}
	return err.Error()
}

// bulkPreview is one preview over every item: each item's own preview,
// run in order. Any blocked item blocks the whole call, naming every
// blocked item and why; otherwise the action lists every item.
func bulkPreview[K any](ctx context.Context, verb, past, noun string, items []K, one func(context.Context, K) (*policy.Preview, error)) (*policy.Preview, error) {
	if len(items) == 1 {
		return one(ctx, items[0])
	}
	var actions, blocked []string
	details := make([]any, 0, len(items))
	var snaps []any
	for _, it := range items {
		p, err := one(ctx, it)
		if err != nil {
			return nil, err
		}
		if p.Blocked != "" {
			blocked = append(blocked, "- "+p.Blocked)
			continue
		}
		actions = append(actions, "- "+p.Action)
		details = append(details, p.Details)
		if p.Snapshot != nil {
			snaps = append(snaps, p.Snapshot)
		}
	}
	if len(blocked) > 0 {
		return &policy.Preview{Blocked: fmt.Sprintf("%d of the %d %s cannot be %s, so none is (a confirmation covers exactly what runs); call again without them:\n%s",
			len(blocked), len(items), noun, past, strings.Join(blocked, "\n"))}, nil
	}
	p := &policy.Preview{
		Action:  fmt.Sprintf("%s %d %s, each one after the other:\n%s", verb, len(items), noun, strings.Join(actions, "\n")),
		Details: details,
	}
	if snaps != nil {
		p.Snapshot = snaps
	}
	return p, nil
}

// ownedIDs declares a call on one or more existing resources (schemas.IDs):
// owner finds the org unit of each, all of which must be in the scope.
func ownedIDs(owner func(ctx context.Context, d *Deps, id int64) (int64, error)) Option {
	return Resolves(func(ctx context.Context, d *Deps, a schemas.IDs) ([]int64, error) {
		out := make([]int64, 0, len(a.List()))
		for _, id := range a.List() {
			u, err := owner(ctx, d, id)
			if err != nil {
				return nil, err
			}
			out = append(out, u)
		}
		return out, nil
	})
}

// byIDs runs one, the single form of a tool, on the one id of a call, or
// on each of its ids with an outcome per id.
func byIDs(one func(ctx context.Context, d *Deps, id int64) (any, error)) func(context.Context, *Deps, schemas.IDs) (any, error) {
	return func(ctx context.Context, d *Deps, a schemas.IDs) (any, error) {
		if a.ID != 0 {
			return one(ctx, d, a.ID)
		}
		return runBulk(ctx, a.IDs, func(id int64) any { return id }, func(ctx context.Context, id int64) error {
			_, err := one(ctx, d, id)
			return err
		}), nil
	}
}

// previewIDs is the preview of a call naming one id or several: one's
// preview, or bulkPreview over each.
func previewIDs(verb, past, noun string, one func(ctx context.Context, d *Deps, a schemas.ID) (*policy.Preview, error)) func(context.Context, *Deps, schemas.IDs) (*policy.Preview, error) {
	return func(ctx context.Context, d *Deps, a schemas.IDs) (*policy.Preview, error) {
		return bulkPreview(ctx, verb, past, noun, a.List(), func(ctx context.Context, id int64) (*policy.Preview, error) {
			return one(ctx, d, schemas.ID{ID: id})
		})
	}
}
