package tools

import (
	"context"
	"encoding/json"

	"github.com/convirza/convirza-mcp/policy"
)

// How a tool declares its org units for a scoped policy (scope.org_units):
//
//   - its argument type implements policy.OrgUnitArgs (OrgUnits() []int64)
//     when the arguments name org units directly;
//   - or it is declared with OrgUnitsOf(resolver) when they name other
//     resources, whose org units the resolver finds (a GET where needed);
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
// that name other resources. It takes precedence over an OrgUnits method of
// the argument type.
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
	units    func(ctx context.Context, d *Deps, raw []byte) ([]int64, error) // nil: names none
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
	switch {
	case o.units != nil:
		s.units = func(ctx context.Context, d *Deps, raw []byte) ([]int64, error) {
			a, err := decodeTyped[A](raw)
			if err != nil {
				return nil, err
			}
			return o.units(ctx, d, a)
		}
	case implements[policy.OrgUnitArgs](zero):
		s.units = func(_ context.Context, _ *Deps, raw []byte) ([]int64, error) {
			a, err := decodeTyped[A](raw)
			if err != nil {
				return nil, err
			}
			return any(a).(policy.OrgUnitArgs).OrgUnits(), nil
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
	s.declared = s.declared || s.units != nil || s.pin != nil || s.filter != nil
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
// call naming none to the scope's root when the tool allows it. It may
// rewrite p.canonical.
func (t *Tool) limitToScope(ctx context.Context, d *Deps, s *policy.Scope, p *prepared) error {
	var units []int64
	if t.scope.units != nil {
		u, err := t.scope.units(ctx, d, p.canonical)
		if err != nil {
			return err
		}
		units = u
	}
	if len(units) == 0 {
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
			units = []int64{root}
		case t.scope.filter != nil, t.AccountWide:
			return nil
		default:
			return &policy.UnscopedCallError{Tool: t.Name, Roots: s.Roots()}
		}
	}
	return s.Check(ctx, units)
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
