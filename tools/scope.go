package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

// How a tool declares its org units for a scoped policy (scope.org_units):
//
//   - its argument type implements policy.OrgUnitArgs (OrgUnits() []int64)
//     when the arguments name org units directly;
//   - or it is declared with OrgUnitsOf(resolver) when they name other
//     resources, whose org units the resolver finds (a GET where needed);
//     both may be declared (an update naming the unit it moves a resource
//     to): the named units are checked first, before the resolver reads;
//   - a list whose org unit is optional also implements policy.OrgUnitPinner
//     on the argument pointer, so calls without one are pinned to the scope;
//   - a tool returning many units' data without naming one is declared with
//     ScopeResult(filter), which trims the result to the scope;
//   - a tool touching no org unit's data sets Spec.AccountWide.
//
// A scoped server does not serve a tool that declares none of these.
// Example (users toolset):
//
//	Define(Spec{Name: "get_user", ...}, getUser,
//		OrgUnitsOf(func(ctx context.Context, d *Deps, a schemas.ID) ([]int64, error) {
//			u, err := d.Convirza.Users.Get(ctx, a.ID)
//			if err != nil {
//				return nil, err
//			}
//			return []int64{u.GroupOrgUnitID}, nil
//		}))

// Option adds to a tool's declaration.
type Option[A any] func(*options[A])

type options[A any] struct {
	units  func(ctx context.Context, d *Deps, a A) ([]int64, error)
	filter func(a A, result any, inScope func(int64) bool) (any, error)
}

// OrgUnitsOf declares which org units a call acts on or in, for arguments
// that name other resources. When the argument type also names org units
// (OrgUnits, e.g. the unit an update moves a resource to), those are checked
// first, so a call naming a unit outside the scope is refused before the
// resolver reads anything upstream; then the resolver's units are checked.
func OrgUnitsOf[A any](f func(ctx context.Context, d *Deps, a A) ([]int64, error)) Option[A] {
	return func(o *options[A]) { o.units = f }
}

// ScopeResult declares a filter that trims a successful result to the
// scope; inScope reports whether an org unit is in it.
func ScopeResult[A any](f func(a A, result any, inScope func(int64) bool) (any, error)) Option[A] {
	return func(o *options[A]) { o.filter = f }
}

// scoping is a tool's org-unit declaration, its argument type erased.
type scoping struct {
	declared bool
	named    func(raw []byte) ([]int64, error)                               // policy.OrgUnitArgs; nil: names none
	resolve  func(ctx context.Context, d *Deps, raw []byte) ([]int64, error) // OrgUnitsOf; nil: none
	pin      func(raw []byte, id int64) ([]byte, error)                      // nil: cannot be pinned
	filter   func(raw []byte, result any, in func(int64) bool) (any, error)
}

func scopingFor[A any](spec Spec, opts []Option[A]) scoping {
	var o options[A]
	for _, opt := range opts {
		opt(&o)
	}
	var zero A
	s := scoping{declared: spec.AccountWide}
	if implements[policy.OrgUnitArgs](zero) {
		s.named = func(raw []byte) ([]int64, error) {
			a, err := decodeTyped[A](raw)
			if err != nil {
				return nil, err
			}
			return any(a).(policy.OrgUnitArgs).OrgUnits(), nil
		}
	}
	if o.units != nil {
		s.resolve = func(ctx context.Context, d *Deps, raw []byte) ([]int64, error) {
			a, err := decodeTyped[A](raw)
			if err != nil {
				return nil, err
			}
			return o.units(ctx, d, a)
		}
	}
	if implements[policy.OrgUnitPinner](&zero) {
		s.pin = func(raw []byte, id int64) ([]byte, error) {
			a, err := decodeTyped[A](raw)
			if err != nil {
				return nil, err
			}
			any(&a).(policy.OrgUnitPinner).PinOrgUnit(id)
			return json.Marshal(a)
		}
	}
	if o.filter != nil {
		s.filter = func(raw []byte, result any, in func(int64) bool) (any, error) {
			a, err := decodeTyped[A](raw)
			if err != nil {
				return nil, err
			}
			return o.filter(a, result, in)
		}
	}
	s.declared = s.declared || s.named != nil || s.resolve != nil || s.pin != nil || s.filter != nil
	return s
}

func implements[I any](v any) bool {
	_, ok := v.(I)
	return ok
}

// ScopeDeclared reports whether the tool says how its calls relate to org
// units, which a scoped server needs to serve it.
func (t *Tool) ScopeDeclared() bool { return t.scope.declared }

// limitToScope refuses a call naming org units outside the scope, and pins a
// call naming none to the scope's root when the tool allows it. Units the
// arguments name are checked before a resolver reads anything upstream. It
// may rewrite p.canonical.
func (t *Tool) limitToScope(ctx context.Context, d *Deps, s *policy.Scope, p *prepared) error {
	var named, resolved []int64
	if t.scope.named != nil {
		u, err := t.scope.named(p.canonical)
		if err != nil {
			return err
		}
		if err := s.Check(ctx, u); err != nil {
			return err
		}
		named = u
	}
	if t.scope.resolve != nil {
		u, err := t.scope.resolve(ctx, d, p.canonical)
		if err != nil {
			return err
		}
		resolved = u
	}
	if len(named) == 0 && len(resolved) == 0 {
		switch {
		case t.scope.pin != nil:
			root, ok := s.Root()
			if !ok {
				return &policy.NeedOrgUnitError{Roots: s.Roots()}
			}
			canon, err := t.scope.pin(p.canonical, root)
			if err != nil {
				return err
			}
			p.canonical = canon
			resolved = []int64{root}
		case t.scope.filter != nil, t.AccountWide:
			return nil
		default:
			return &policy.UnscopedCallError{Tool: t.Name, Roots: s.Roots()}
		}
	}
	return s.Check(ctx, resolved)
}

// scopeResult trims a result to the scope when the tool has a filter.
func (t *Tool) scopeResult(ctx context.Context, s *policy.Scope, canonical []byte, v any) (any, error) {
	if t.scope.filter == nil {
		return v, nil
	}
	in, err := s.Members(ctx)
	if err != nil {
		return nil, err
	}
	return t.scope.filter(canonical, v, in)
}

// ScopeRelation says how the tool's calls relate to org units: "account-wide"
// or a "+"-joined list of "names" (its arguments name org units), "resolves"
// (a resolver finds the org units of the resources it names), "pins" (a call
// naming none is pinned to the scope) and "filters" (its result is trimmed to
// the scope); "" when it declares nothing, so a scoped server withholds it.
func (t *Tool) ScopeRelation() string {
	if t.AccountWide {
		return "account-wide"
	}
	var kinds []string
	if t.scope.named != nil {
		kinds = append(kinds, "names")
	}
	if t.scope.resolve != nil {
		kinds = append(kinds, "resolves")
	}
	if t.scope.pin != nil {
		kinds = append(kinds, "pins")
	}
	if t.scope.filter != nil {
		kinds = append(kinds, "filters")
	}
	return strings.Join(kinds, "+")
}

// ownedBy declares a call on one existing resource: owner finds the org unit
// the resource with that id belongs to (one upstream read), which must be in
// the scope. A write that moves the resource also names the unit it moves to
// (policy.OrgUnitArgs on its argument type), which is checked first: a
// resource is neither touched outside the scope nor moved out of it.
func ownedBy[A any](owner func(ctx context.Context, d *Deps, id int64) (int64, error), id func(A) int64) Option[A] {
	return OrgUnitsOf(func(ctx context.Context, d *Deps, a A) ([]int64, error) {
		unit, err := owner(ctx, d, id(a))
		if err != nil {
			return nil, err
		}
		return []int64{unit}, nil
	})
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

// scopeList is the ScopeResult filter of a list answer whose items, under
// key, each belong to one org unit; unit returns it, or false for an item
// that is no org unit's (a carrier's number on offer). Items outside the
// scope, or whose unit is not known, are left out. count follows; total is
// corrected when the whole list was in the answer and otherwise dropped (it
// would count other units' items); a "scope" note says what was done.
func scopeList[A, T any](key string, unit func(T) (int64, bool)) func(A, any, func(int64) bool) (any, error) {
	return func(_ A, result any, in func(int64) bool) (any, error) {
		m, ok := result.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("cannot limit an unexpected result (%T) to the org-unit scope", result)
		}
		items, ok := m[key].([]T)
		if !ok {
			return nil, fmt.Errorf("cannot limit an unexpected list (%T) to the org-unit scope", m[key])
		}
		kept := make([]T, 0, len(items))
		for _, it := range items {
			if ou, owned := unit(it); !owned || ou != 0 && in(ou) {
				kept = append(kept, it)
			}
		}
		out := make(map[string]any, len(m)+1)
		for k, v := range m {
			out[k] = v
		}
		out[key], out["count"] = kept, len(kept)
		left := ""
		if n := len(items) - len(kept); n > 0 {
			left = fmt.Sprintf(": %d %s of other org units left out", n, strings.ReplaceAll(key, "_", " "))
		}
		if total, ok := m["total"].(int); ok && total == len(items) {
			out["total"] = len(kept)
			if left != "" {
				out[scopeNote] = "Limited to this server's org-unit scope" + left + "."
			}
			return out, nil
		}
		delete(out, "total")
		note := "Limited to this server's org-unit scope" + left + "; the total within the scope is not known"
		if _, ok := out["next_offset"]; ok {
			note += " (page on with next_offset)"
		}
		out[scopeNote] = note + "."
		return out, nil
	}
}

// scopeNote is the key of the note a result trimmed to the scope carries.
const scopeNote = "scope"

// namesNoOrgUnit declares a tool whose calls cannot be limited to org units:
// its arguments name none, the upstream has no org-unit filter for it, and
// its answer does not say which unit an item belongs to. A scoped server
// refuses every call (out_of_scope) rather than guess; an unscoped one
// serves it as usual.
func namesNoOrgUnit[A any](context.Context, *Deps, A) ([]int64, error) { return nil, nil }
