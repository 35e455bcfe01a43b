package policy

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// How a tool opts into org-unit scope (scope.org_units in a policy file).
//
// A scoped server must know, for every call, which org units it acts on or
// in, before anything is sent upstream. Tools say so in one generic way,
// declared with the tool (see tools.Define):
//
//   - The argument type implements OrgUnitArgs when its fields name org units
//     directly (org_unit_id, a parent id, ct_user_ou_id ...).
//   - Otherwise the tool is declared with tools.OrgUnitsOf, a resolver that
//     finds the org units of ids of other resources (a group id is itself an
//     org unit; a user id needs a GET to find the user's group). A write
//     that moves a resource declares both: its arguments name the new unit,
//     checked first, and the resolver finds the current one.
//   - List arguments whose org unit is optional, defaulting to the whole
//     account, implement OrgUnitPinner (on the pointer): a call without one
//     is pinned to the scope root, or refused when the scope has several.
//   - Tools that return data of many units without naming one filter their
//     result with tools.ScopeResult (get_group_tree keeps only the scope's
//     subtrees).
//   - Tools that touch no org unit's data (reference lists, the caller's
//     profile) set Spec.AccountWide.
//
// A tool that declares none of these is not served by a scoped server:
// a scope it cannot enforce would be a false promise.

// OrgUnitArgs is implemented by argument types that name org units directly.
// OrgUnits returns every org unit the call acts on or in (none when the
// arguments name none).
type OrgUnitArgs interface {
	OrgUnits() []int64
}

// OrgUnitPinner is implemented (on the pointer) by list arguments whose org
// unit is optional and defaults to the whole account.
type OrgUnitPinner interface {
	PinOrgUnit(id int64)
}

// HierarchyFunc returns an org unit's id followed by its descendants' ids.
type HierarchyFunc func(ctx context.Context, orgUnit int64) ([]int64, error)

// OutOfScopeError says a call names org units outside the scope.
type OutOfScopeError struct {
	Units []int64 // the offending units
	Roots []int64
}

func (e *OutOfScopeError) Error() string {
	what := "org unit " + orgUnitList(e.Units) + " is"
	if len(e.Units) > 1 {
		what = "org units " + orgUnitList(e.Units) + " are"
	}
	return fmt.Sprintf("%s outside this server's scope (org unit %s and its descendants). Nothing was done.", what, orgUnitList(e.Roots))
}

// NeedOrgUnitError says a call that names no org unit cannot be pinned to
// one scope root because there are several.
type NeedOrgUnitError struct{ Roots []int64 }

func (e *NeedOrgUnitError) Error() string {
	return fmt.Sprintf("this server is limited to org units %s and their descendants: give org_unit_id (one of them or a descendant). Nothing was done.", orgUnitList(e.Roots))
}

// UnscopedCallError says a call names no org unit and its tool has no way to
// be limited otherwise.
type UnscopedCallError struct {
	Tool  string
	Roots []int64
}

func (e *UnscopedCallError) Error() string {
	return fmt.Sprintf("%s names no org unit here, so it cannot be limited to this server's scope (org unit %s and its descendants). Nothing was done.", e.Tool, orgUnitList(e.Roots))
}

// Scope limits calls to org units and their descendants, resolved through
// the hierarchy endpoint and cached briefly per root.
type Scope struct {
	roots []int64
	fetch HierarchyFunc
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	cache map[int64]*scopeEntry
}

type scopeEntry struct {
	ready chan struct{} // closed once ids/err are set
	ids   map[int64]bool
	err   error
	at    time.Time
}

// DefaultScopeTTL is how long a root's hierarchy is trusted.
const DefaultScopeTTL = 60 * time.Second

// NewScope limits calls to roots and their descendants. ttl <= 0 means
// DefaultScopeTTL.
func NewScope(roots []int64, fetch HierarchyFunc, ttl time.Duration) *Scope {
	if ttl <= 0 {
		ttl = DefaultScopeTTL
	}
	return &Scope{roots: append([]int64(nil), roots...), fetch: fetch, ttl: ttl, now: time.Now, cache: map[int64]*scopeEntry{}}
}

// Roots are the scope's org units.
func (s *Scope) Roots() []int64 { return append([]int64(nil), s.roots...) }

// Root returns the scope's only root, when there is exactly one.
func (s *Scope) Root() (int64, bool) {
	if len(s.roots) == 1 {
		return s.roots[0], true
	}
	return 0, false
}

// Check returns nil when every unit is in the scope, an *OutOfScopeError
// when some are not, and another error when the scope cannot be resolved
// (the caller must then refuse: the scope fails closed). A unit missing from
// a cached hierarchy is looked up afresh once, so a unit created a moment
// ago is found.
func (s *Scope) Check(ctx context.Context, units []int64) error {
	if len(units) == 0 {
		return nil
	}
	in, err := s.members(ctx, false)
	if err != nil {
		return err
	}
	if outside(units, in) == nil {
		return nil
	}
	in, err = s.members(ctx, true)
	if err != nil {
		return err
	}
	if out := outside(units, in); out != nil {
		return &OutOfScopeError{Units: out, Roots: s.Roots()}
	}
	return nil
}

// Members returns a membership test for the scope's units.
func (s *Scope) Members(ctx context.Context) (func(int64) bool, error) {
	in, err := s.members(ctx, false)
	if err != nil {
		return nil, err
	}
	return func(id int64) bool {
		for _, m := range in {
			if m[id] {
				return true
			}
		}
		return false
	}, nil
}

// Forget drops the cached hierarchies (after a write that may have moved,
// created or deleted a unit).
func (s *Scope) Forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for root, e := range s.cache {
		select {
		case <-e.ready:
			delete(s.cache, root)
		default: // in flight: let it finish; it will be refreshed on a miss
		}
	}
}

func outside(units []int64, in []map[int64]bool) []int64 {
	var out []int64
	for _, u := range units {
		found := false
		for _, m := range in {
			if m[u] {
				found = true
				break
			}
		}
		if !found && !contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func (s *Scope) members(ctx context.Context, fresh bool) ([]map[int64]bool, error) {
	out := make([]map[int64]bool, 0, len(s.roots))
	for _, r := range s.roots {
		ids, err := s.hierarchy(ctx, r, fresh)
		if err != nil {
			return nil, fmt.Errorf("could not resolve the org-unit scope (org unit %d): %w", r, err)
		}
		out = append(out, ids)
	}
	return out, nil
}

// hierarchy returns root's units, from the cache when it is recent (and
// fresh is false). Concurrent callers share one upstream request.
func (s *Scope) hierarchy(ctx context.Context, root int64, fresh bool) (map[int64]bool, error) {
	s.mu.Lock()
	e := s.cache[root]
	reuse := false
	if e != nil {
		select {
		case <-e.ready:
			reuse = !fresh && e.err == nil && s.now().Sub(e.at) < s.ttl
		default:
			reuse = true // in flight, started after our decision to look: share it
		}
	}
	if !reuse {
		e = &scopeEntry{ready: make(chan struct{})}
		s.cache[root] = e
		// The lookup is shared: it runs on its own, so it neither dies with
		// the first asker's request nor keeps that asker waiting when it
		// gives up (the upstream timeout bounds it).
		go s.lookup(context.WithoutCancel(ctx), root, e)
	}
	s.mu.Unlock()
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return e.ids, e.err
}

func (s *Scope) lookup(ctx context.Context, root int64, e *scopeEntry) {
	ids, err := s.fetch(ctx, root)
	e.at, e.err = s.now(), err
	if err == nil {
		e.ids = make(map[int64]bool, len(ids)+1)
		e.ids[root] = true
		for _, id := range ids {
			e.ids[id] = true
		}
	}
	if err != nil {
		s.mu.Lock()
		if s.cache[root] == e {
			delete(s.cache, root) // failures are not cached
		}
		s.mu.Unlock()
	}
	close(e.ready)
}
