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
//   - TrimsPage(unit) or Trims(f): a tool returning many units' data
//     without naming one has its result trimmed to the scope;
//   - AccountWide(): it touches no org unit's data;
//   - Unscopable(): its calls cannot be limited to org units; a scoped
//     server refuses them.
//
// A scoped server does not serve a tool that declares none of these.
// Example (users toolset):
//
//	Define(Spec{Name: "get_user", ...}, getUser, Owned(userOwner, idOf))

// Names declares the org units a call's arguments name directly.
func Names[A any](f func(A) []int64) Option { return func(o *optionSet) { o.names = f } }

// Pins declares how a call naming no org unit is limited to one.
func Pins[A any](f func(*A, int64)) Option { return func(o *optionSet) { o.pins = f } }

// Resolves declares which org units a call acts on or in, for arguments
// that name other resources.
func Resolves[A any](f func(ctx context.Context, d *Deps, a A) ([]int64, error)) Option {
	return func(o *optionSet) { o.resolve = f }
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

// TrimsPage declares a list whose items each belong to one org unit: unit
// returns it, or false for an item that is no org unit's (a carrier's
// number on offer). Items outside the scope are left out.
func TrimsPage[T any](unit func(T) (int64, bool)) Option {
	return Trims(func(p *Page[T], in func(int64) bool) (*Page[T], error) {
		p.keepOnly(func(it T) bool {
			ou, owned := unit(it)
			return !owned || ou != 0 && in(ou)
		})
		return p, nil
	})
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
	accountWide, unscopable      bool
	names, resolves, pins, trims bool
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
	}{{s.names, "names"}, {s.resolves, "resolves"}, {s.pins, "pins"}, {s.trims, "filters"}} {
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
	}
	resolved, err := c.resolve(ctx, d)
	if err != nil {
		return err
	}
	if len(named) == 0 && len(resolved) == 0 {
		switch {
		case t.scope.pins:
			root, ok := s.Root()
			if !ok {
				return &policy.NeedOrgUnitError{Roots: s.Roots()}
			}
			c.pin(root)
			resolved = []int64{root}
		case t.scope.trims, t.scope.accountWide:
			return nil
		default:
			return &policy.UnscopedCallError{Tool: t.Name, Roots: s.Roots()}
		}
	}
	return s.Check(ctx, resolved)
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
