package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

// How a tool declares its org units for a scoped policy (scope.org_units),
// with options at its Define:
//
//   - Names(func(A) []int64): the org units its arguments name directly
//     (org_unit_id, a parent, the unit an update moves a resource to);
//   - Resolves(resolver) or Owned(owner, id): the org units of the other
//     resources the arguments name (a GET where needed). Both may be
//     declared: the named units are checked first, before the resolver
//     reads anything upstream;
//   - Pins(func(*A, int64)): a list whose org unit is optional is pinned
//     to the scope's root when a call names none;
//   - ScopedList(unit, paging, ...): a list of many units' items whose
//     upstream cannot filter by org unit is read whole and paged by the
//     server under a scope; Trims(f): another result of many units' data
//     (the group tree) is trimmed to the scope;
//   - AccountWide(): it touches no org unit's data;
//   - Unscopable(): its calls cannot be limited to org units; a scoped
//     server refuses them.
//
// A scoped server does not serve a tool that declares none of these.
// Example (users toolset):
//
//	Define(Spec{Name: "get_user", ...}, getUser, Owned(userRecord.owner, idOf))

// Names declares the org units a call's arguments name directly.
func Names[A any](f func(A) []int64) Option { return func(o *optionSet) { o.names = f } }

// Pins declares how a call naming no org unit is limited to one.
func Pins[A any](f func(*A, int64)) Option { return func(o *optionSet) { o.pins = f } }

// Resolves declares which org units a call acts on or in, for arguments
// that name other resources.
func Resolves[A any](f func(ctx context.Context, d *Deps, a A) ([]int64, error)) Option {
	return func(o *optionSet) { o.resolve = append(o.resolve, f) }
}

// Owned declares a call on one existing resource: owner finds the org unit
// the resource with that id belongs to (one upstream read), which must be
// in the scope. A write that moves the resource also Names the unit it
// moves to, which is checked first: a resource is neither touched outside
// the scope nor moved out of it.
func Owned[A any](owner func(ctx context.Context, d *Deps, id int64) (int64, error), id func(A) int64) Option {
	return Resolves(func(ctx context.Context, d *Deps, a A) ([]int64, error) {
		unit, err := owner(ctx, d, id(a))
		if err != nil {
			return nil, err
		}
		return []int64{unit}, nil
	})
}

// Trims declares a filter that limits a successful result to the scope;
// in reports whether an org unit is in it.
func Trims[R any](f func(r R, in func(int64) bool) (R, error)) Option {
	return func(o *optionSet) { o.trim = f }
}

// ScopedList declares a list whose items each belong to one org unit
// (unit returns it, or false for an item that is no org unit's, such as a
// carrier's number on offer) and whose upstream cannot filter by org unit.
// Under a scope, a call that names no org unit reads the whole upstream
// list, keeps the scope's items and pages those itself, so that counts,
// totals and offsets are the scope's list alone: the answer an account
// without the other units would give, never an oracle of their data.
// paging points at the call's offset and limit (offset nil for an endpoint
// with a limit only; both nil for one without paging); defaultLimit is the
// page size when the call gives none, maxLimit the upstream's largest.
func ScopedList[A, T any](unit func(T) (int64, bool), paging func(*A) (offset, limit *int), defaultLimit, maxLimit int) Option {
	return func(o *optionSet) {
		o.list = func(ctx context.Context, d *Deps, a A, run func(context.Context, *Deps, A) (*Page[T], error), in func(int64) bool) (*Page[T], error) {
			return readScoped(ctx, d, a, run, in, scopedList[A, T]{unit, paging, defaultLimit, maxLimit})
		}
	}
}

// noPaging: a list whose endpoint answers it whole.
func noPaging[A any](*A) (*int, *int) { return nil, nil }

type scopedList[A, T any] struct {
	unit                   func(T) (int64, bool)
	paging                 func(*A) (offset, limit *int)
	defaultLimit, maxLimit int
}

// maxScopedPages bounds the upstream pages one scoped list call reads.
const maxScopedPages = 50

// scopedNote is said of every scoped list whose upstream has no offset: it
// cannot always be read whole, and saying when would tell of other units.
const scopedNote = "Limited to this server's org-unit scope; this list has no offset upstream, so it may hold more than shown: narrow the filters to see the rest."

func readScoped[A, T any](ctx context.Context, d *Deps, a A, run func(context.Context, *Deps, A) (*Page[T], error), in func(int64) bool, l scopedList[A, T]) (*Page[T], error) {
	off, lim := l.paging(&a)
	start, want := 0, l.defaultLimit
	if off != nil {
		start = *off
	}
	if lim != nil && *lim > 0 {
		want = *lim
	}
	var kept []T
	var last *Page[T]
	for upstreamOffset, pages := 0, 0; ; pages++ {
		if pages == maxScopedPages {
			return nil, fmt.Errorf("under this server's org-unit scope this list is read whole and limited here, and it is longer than %d pages: narrow the filters", maxScopedPages)
		}
		req := a
		if o, l2 := l.paging(&req); l2 != nil {
			*l2 = l.maxLimit
			if o != nil {
				*o = upstreamOffset
			}
		}
		p, err := run(ctx, d, req)
		if err != nil {
			return nil, err
		}
		last = p
		for _, it := range p.Items {
			if ou, owned := l.unit(it); !owned || ou != 0 && in(ou) {
				kept = append(kept, it)
			}
		}
		upstreamOffset += len(p.Items)
		if off == nil || len(p.Items) == 0 || upstreamOffset >= p.Total {
			break
		}
	}
	out := &Page[T]{Key: last.Key, extra: last.extra, paging: paging{kind: last.kind}}
	switch {
	case off == nil && lim == nil:
		// Answered whole upstream: the scope's list is exact.
		out.Items, out.Total = kept, len(kept)
	case off != nil:
		out.Total, out.offset = len(kept), start
		if start < len(kept) {
			out.Items = kept[start:min(len(kept), start+want)]
		}
		if next := start + len(out.Items); len(out.Items) > 0 && next < len(kept) {
			out.next = next
		}
	default:
		// A limit and no offset: the list cannot always be read whole, and
		// saying when would tell of other units' items. Always the same
		// note, never a total.
		out.Items, out.Total, out.scope = kept[:min(len(kept), want)], -1, scopedNote
	}
	return out, nil
}

// AccountWide declares a tool that touches no org unit's data (reference
// lists, the caller's profile, another upstream without org units), so an
// org-unit scope does not limit it.
func AccountWide() Option { return func(o *optionSet) { o.accountWide = true } }

// Unscopable declares a tool whose calls cannot be limited to org units:
// its arguments name none, the upstream has no org-unit filter for it, and
// its answer does not say which unit an item belongs to. A scoped server
// refuses every call (out_of_scope) rather than guess; an unscoped one
// serves it as usual.
func Unscopable() Option { return func(o *optionSet) { o.unscopable = true } }

// scopeDecl is what a tool declared about org units.
type scopeDecl struct {
	accountWide, unscopable             bool
	names, resolves, pins, trims, lists bool
}

// ScopeDeclared reports whether the tool says how its calls relate to org
// units, which a scoped server needs to serve it.
func (t *Tool) ScopeDeclared() bool { return t.ScopeRelation() != "" }

// ScopeRelation says how the tool's calls relate to org units: "account-wide",
// "unscopable", or a "+"-joined list of "names" (its arguments name org
// units), "resolves" (it finds the org units of the resources it names),
// "pins" (a call naming none is pinned to the scope) and "filters" (its
// result is trimmed to the scope); "" when it declares nothing, so a scoped
// server withholds it.
func (t *Tool) ScopeRelation() string {
	s := t.scope
	switch {
	case s.accountWide:
		return "account-wide"
	case s.unscopable:
		return "unscopable"
	}
	var kinds []string
	for _, k := range []struct {
		on   bool
		name string
	}{{s.names, "names"}, {s.resolves, "resolves"}, {s.pins, "pins"}, {s.trims || s.lists, "filters"}} {
		if k.on {
			kinds = append(kinds, k.name)
		}
	}
	return strings.Join(kinds, "+")
}

// AccountWide reports whether the tool touches no org unit's data.
func (t *Tool) AccountWide() bool { return t.scope.accountWide }

// limitToScope refuses a call naming org units outside the scope, and pins
// a call naming none to the scope's root when the tool allows it. Units the
// arguments name are checked before a resolver reads anything upstream.
func (t *Tool) limitToScope(ctx context.Context, d *Deps, s *policy.Scope, c call) error {
	if t.scope.unscopable {
		return &policy.UnscopedCallError{Tool: t.Name, Roots: s.Roots()}
	}
	named := c.named()
	if len(named) > 0 {
		if err := s.Check(ctx, named); err != nil {
			return err
		}
	} else if t.scope.pins {
		// A call naming no org unit acts in the scope's, not the caller's.
		root, ok := s.Root()
		if !ok {
			return &policy.NeedOrgUnitError{Roots: s.Roots()}
		}
		c.pin(root)
		named = []int64{root}
	}
	resolved, err := c.resolve(ctx, d, func(u []int64) error { return s.Check(ctx, u) })
	if err != nil {
		return err
	}
	if len(named) == 0 && len(resolved) == 0 && !t.scope.trims && !t.scope.lists && !t.scope.accountWide {
		return &policy.UnscopedCallError{Tool: t.Name, Roots: s.Roots()}
	}
	return nil
}

// idOf is the id of the one resource a call names.
func idOf(a schemas.ID) int64 { return a.ID }

// knownUnit is the org unit an ownership lookup found, or an error when the
// upstream's answer does not say: what cannot be checked is refused.
func knownUnit(what string, unit int64) (int64, error) {
	if unit == 0 {
		return 0, fmt.Errorf("the upstream does not say which org unit %s belongs to", what)
	}
	return unit, nil
}

// units lists the non-zero org unit ids among ids: the units a call names.
func units(ids ...int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id != 0 {
			out = append(out, id)
		}
	}
	return out
}

// unitPtr is the org unit an optional field names, if any.
func unitPtr(id *int64) []int64 {
	if id == nil {
		return nil
	}
	return units(*id)
}
