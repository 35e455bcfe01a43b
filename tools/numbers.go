package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

func numberTools() []Tool {
	return []Tool{
		Define(Spec{Name: "search_available_numbers", Title: "Search available phone numbers", Class: policy.Read,
			Description: "Find numbers to provision by area code, exchange, state, rate center or pattern. needs_order: true = the carrier's, buy it with order_phone_number first; others are the account's unused ones."},
			func(ctx context.Context, d *Deps, a schemas.SearchNumbersArgs) (*Page[searchedNumber], error) {
				out, err := d.Convirza.Numbers.Search(ctx, a)
				if err != nil {
					return nil, err
				}
				items := make([]searchedNumber, 0, len(out.Items))
				for _, n := range e164Numbers(out.Items) {
					items = append(items, searchedNumber{PhoneNumber: n, NeedsOrder: n.NumberID == nil})
				}
				return limitedList("numbers", items, out.Total), nil
			}, ScopedList(func(n searchedNumber) (int64, bool) {
				// The carrier's stock is no org unit's; the account's own
				// unused numbers are.
				return n.OrgUnitID, !n.NeedsOrder
			}, func(a *schemas.SearchNumbersArgs) (*int, *int) { return nil, &a.Limit }, 100, 100)),
		Define(Spec{Name: "list_assigned_numbers", Title: "List assigned phone numbers", Class: policy.Read,
			Description: "List the phone numbers the account holds: org unit, status (assigned; provisioned = used by routes), route ids. org_unit_id: that unit and its sub-groups."},
			func(ctx context.Context, d *Deps, a schemas.ListNumbersArgs) (*Page[convirza.PhoneNumber], error) {
				return listNumbers(ctx, d, a, d.Convirza.Numbers.Assigned)
			}, ScopedList(numberUnit, numberPaging, 100, maxNumberLimit), Names(numberListUnit)),
		Define(Spec{Name: "list_provisioned_numbers", Title: "List provisioned phone numbers", Class: policy.Read,
			Description: "List the account's phone numbers that provisioned routes use, with their route ids. org_unit_id: that unit and its sub-groups."},
			func(ctx context.Context, d *Deps, a schemas.ListNumbersArgs) (*Page[convirza.PhoneNumber], error) {
				return listNumbers(ctx, d, a, d.Convirza.Numbers.Provisioned)
			}, ScopedList(numberUnit, numberPaging, 100, maxNumberLimit), Names(numberListUnit)),
		Define(Spec{Name: "order_phone_number", Title: "Order phone number", Class: policy.Costly,
			Description: "Buy a carrier number (needs_order: true in search_available_numbers) for an org unit, for create_provisioned_route. Costs money; needs the user's confirmation."},
			func(ctx context.Context, d *Deps, a schemas.NumberOrder) (any, error) {
				type ordered struct {
					id   int64
					meta convirza.Meta
				}
				o, err := spending(ctx, d, policy.LimitNumbers, 1, func() (ordered, error) {
					id, meta, err := d.Convirza.Numbers.Order(ctx, a)
					return ordered{id, meta}, err
				})
				if err != nil {
					return nil, err
				}
				id, meta := o.id, o.meta
				return map[string]any{"status": "ordered", "number_id": id, "number": schemas.PhoneOut(a.Number), "org_unit_id": a.OrgUnitID, "request_id": meta.RequestID}, nil
			}, Confirm(previewOrderNumber), Names(func(a schemas.NumberOrder) []int64 { return units(a.OrgUnitID) })),
		Define(Spec{Name: "release_phone_number", Title: "Release phone number", Class: policy.Destructive, Idempotent: true,
			Description: "Give up a number the account holds, or up to 50 (numbers), with one confirmation listing the routes using each. Not reversible."},
			func(ctx context.Context, d *Deps, a schemas.NumberArgs) (any, error) {
				if a.Number != "" {
					return releaseNumber(ctx, d, a.Number)
				}
				return runBulk(ctx, a.Numbers, func(n string) any { return schemas.PhoneOut(n) }, func(ctx context.Context, n string) error {
					_, err := releaseNumber(ctx, d, n)
					return err
				}), nil
			}, Confirm(func(ctx context.Context, d *Deps, a schemas.NumberArgs) (*policy.Preview, error) {
				return bulkPreview(ctx, "Release", "released", "numbers", a.List(), func(ctx context.Context, n string) (*policy.Preview, error) {
					return previewReleaseNumber(ctx, d, n)
				})
			}), Resolves(numberOwners)),
	}
}

// releaseNumber releases one number (10 digits).
func releaseNumber(ctx context.Context, d *Deps, number string) (any, error) {
	meta, err := d.Convirza.Numbers.Release(ctx, number)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"status": "released", "number": schemas.PhoneOut(number), "request_id": meta.RequestID}
	if meta.GoneAfterRetry {
		out["note"] = meta.Message
	}
	return out, nil
}

// numberListUnit is the org unit a number list names, if any.
func numberListUnit(a schemas.ListNumbersArgs) []int64 { return units(a.OrgUnitID) }

// defaultNumberPage is a number list's page size when the call gives none.
const defaultNumberPage = 100

// listNumbers reads a number list. The endpoints have a limit and no
// org-unit filter or offset: given either, the server reads the list whole
// (up to maxNumberLimit), keeps the unit's numbers and those of its
// sub-groups, and pages them by offset itself.
func listNumbers(ctx context.Context, d *Deps, a schemas.ListNumbersArgs, read func(context.Context, schemas.ListNumbersArgs) (*convirza.List[convirza.PhoneNumber], error)) (*Page[convirza.PhoneNumber], error) {
	if a.OrgUnitID == 0 && a.Offset == 0 {
		out, err := read(ctx, a)
		if err != nil {
			return nil, err
		}
		return offsetPage("numbers", e164Numbers(out.Items), out.Total, 0), nil
	}
	q := a
	q.OrgUnitID, q.Offset, q.Limit = 0, 0, maxNumberLimit
	out, err := read(ctx, q)
	if err != nil {
		return nil, err
	}
	items := out.Items
	if a.OrgUnitID != 0 {
		ids, err := d.Convirza.Groups.Hierarchy(ctx, a.OrgUnitID)
		if err != nil {
			return nil, fmt.Errorf("reading the sub-groups of org unit %d: %w", a.OrgUnitID, err)
		}
		under := make(map[int64]bool, len(ids))
		for _, id := range ids {
			under[id] = true
		}
		kept := items[:0:0]
		for _, n := range items {
			if under[n.OrgUnitID] {
				kept = append(kept, n)
			}
		}
		items = kept
	}
	limit := a.Limit
	if limit == 0 {
		limit = defaultNumberPage
	}
	var page []convirza.PhoneNumber
	if a.Offset < len(items) {
		page = items[a.Offset:min(len(items), a.Offset+limit)]
	}
	p := offsetPage("numbers", e164Numbers(page), len(items), a.Offset)
	if out.Total > len(out.Items) {
		p.truncated = fmt.Sprintf("The account holds more than the %d numbers this server reads at once: narrow the filters (npa, nxx, match).", maxNumberLimit)
	}
	return p, nil
}

// searchedNumber is one search_available_numbers answer: needs_order is
// true for the carrier's numbers, which must be bought first.
type searchedNumber struct {
	convirza.PhoneNumber
	NeedsOrder bool `json:"needs_order"`
}

// numberPaging: the number lists take a limit upstream, and an offset the
// server applies (listNumbers).
func numberPaging(a *schemas.ListNumbersArgs) (*int, *int) { return &a.Offset, &a.Limit }

// maxNumberLimit is the limit a scoped number list asks for, to read the
// account's numbers whole (the endpoint documents no maximum).
const maxNumberLimit = 10000

func numberUnit(n convirza.PhoneNumber) (int64, bool) { return n.OrgUnitID, true }

// numberOwners finds the org unit holding each number among the account's;
// a number the account does not hold is refused.
func numberOwners(ctx context.Context, d *Deps, a schemas.NumberArgs) ([]int64, error) {
	var out []int64
	for _, n := range a.List() {
		u, err := heldNumberUnit(ctx, d, n, "")
		if err != nil {
			return nil, err
		}
		out = append(out, u...)
	}
	return out, nil
}

// heldNumberUnit finds the org unit holding a number (any spelling) among
// the account's; what names the argument in the refusal of a number the
// account does not hold.
func heldNumberUnit(ctx context.Context, d *Deps, number, what string) ([]int64, error) {
	digits := schemas.Digits(number)
	if len(digits) > 10 {
		digits = digits[len(digits)-10:]
	}
	held, err := d.Convirza.Numbers.Assigned(ctx, schemas.ListNumbersArgs{NumberFilter: schemas.NumberFilter{Match: digits}, Limit: 10})
	if err != nil {
		return nil, fmt.Errorf("reading the account's numbers: %w", err)
	}
	n := findPhone(held.Items, digits)
	if n == nil {
		return nil, fmt.Errorf("%s%s is not assigned to this account (list_assigned_numbers lists what is)", what, phoneLabel(number))
	}
	unit, err := knownUnit(phoneLabel(number), n.OrgUnitID)
	if err != nil {
		return nil, err
	}
	return []int64{unit}, nil
}

// findPhone returns the entry for exactly this number in a list, or nil.
func findPhone(items []convirza.PhoneNumber, digits string) *convirza.PhoneNumber {
	for i := range items {
		if strings.HasSuffix(schemas.Digits(items[i].Number), digits) {
			return &items[i]
		}
	}
	return nil
}

// phonePlace is "Denver, CO", or the rate center, or "".
func phonePlace(n *convirza.PhoneNumber) string {
	switch {
	case n.City != "" && n.State != "":
		return n.City + ", " + n.State
	case n.City != "":
		return n.City
	case n.RateCenter != "":
		return n.RateCenter
	}
	return n.State
}

// orgUnitLabel is `org unit 1042 "Denver Office"`, the name left out when it
// cannot be read (Standard users cannot read groups).
func orgUnitLabel(ctx context.Context, d *Deps, id int64) (string, *convirza.GroupDetails, error) {
	g, err := d.Convirza.Groups.Get(ctx, id)
	switch {
	case err == nil:
		return fmt.Sprintf("org unit %d %q", id, g.OrgUnitName), g, nil
	case upstream.IsNotFound(err):
		return "", nil, err
	}
	return fmt.Sprintf("org unit %d", id), nil, nil
}

// previewOrderNumber checks that the carrier offers the number and that the
// org unit can hold it, and says what ordering costs.
func previewOrderNumber(ctx context.Context, d *Deps, a schemas.NumberOrder) (*policy.Preview, error) {
	if p, err := overLimit(ctx, d, policy.LimitNumbers, 1); p != nil || err != nil {
		return p, err
	}
	label := phoneLabel(a.Number)
	found, err := d.Convirza.Numbers.Search(ctx, schemas.SearchNumbersArgs{
		NumberFilter: schemas.NumberFilter{NPA: a.Number[:3], NXX: a.Number[3:6], Match: a.Number}, Limit: 100})
	if err != nil {
		return nil, fmt.Errorf("checking that %s is available: %w", label, err)
	}
	n := findPhone(found.Items, a.Number)
	if n != nil && n.NumberID != nil {
		return &policy.Preview{Blocked: fmt.Sprintf("%s is already the account's (number_id %d, org unit %d): no order is needed; create_provisioned_route can use it.", label, *n.NumberID, n.OrgUnitID)}, nil
	}
	if n == nil {
		held, err := d.Convirza.Numbers.Assigned(ctx, schemas.ListNumbersArgs{NumberFilter: schemas.NumberFilter{Match: a.Number}, Limit: 10})
		if err == nil {
			if h := findPhone(held.Items, a.Number); h != nil {
				return &policy.Preview{Blocked: fmt.Sprintf("%s is already assigned to org unit %d (%s): it cannot be ordered again.", label, h.OrgUnitID, h.Status)}, nil
			}
		}
		return &policy.Preview{Blocked: fmt.Sprintf("%s is not available from the carrier; search_available_numbers lists the numbers that are.", label)}, nil
	}
	unit, g, err := orgUnitLabel(ctx, d, a.OrgUnitID)
	if err != nil {
		return &policy.Preview{Blocked: fmt.Sprintf("Org unit %d does not exist; get_group_tree lists the units.", a.OrgUnitID)}, nil
	}
	if g != nil && g.OrgUnitStatus != "" && g.OrgUnitStatus != schemas.StatusActive {
		return &policy.Preview{Blocked: fmt.Sprintf("Cannot order %s for %s: the unit is %s.", label, unit, g.OrgUnitStatus)}, nil
	}
	where := ""
	if p := phonePlace(n); p != "" {
		where = " (" + p + ")"
	}
	details := map[string]any{"number": schemas.PhoneOut(a.Number), "city": n.City, "state": n.State, "rc": n.RateCenter, "org_unit_id": a.OrgUnitID}
	if g != nil {
		details["org_unit_name"] = g.OrgUnitName
	}
	return &policy.Preview{
		Action:  fmt.Sprintf("Order %s%s for %s. This costs money.", label, where, unit),
		Details: details,
	}, nil
}

// previewReleaseNumber finds the number among the account's and every
// route that uses it.
func previewReleaseNumber(ctx context.Context, d *Deps, number string) (*policy.Preview, error) {
	a := schemas.NumberArgs{Number: number}
	label := phoneLabel(a.Number)
	held, err := d.Convirza.Numbers.Assigned(ctx, schemas.ListNumbersArgs{NumberFilter: schemas.NumberFilter{Match: a.Number}, Limit: 10})
	if err != nil {
		return nil, fmt.Errorf("reading the account's numbers: %w", err)
	}
	n := findPhone(held.Items, a.Number)
	if n == nil {
		return &policy.Preview{Blocked: fmt.Sprintf("%s is not assigned to this account: there is nothing to release (list_assigned_numbers lists what is).", label)}, nil
	}
	routes, err := d.Convirza.Routes.List(ctx, schemas.ListRoutesArgs{PhoneNumber: a.Number, Limit: 500})
	if err != nil {
		return nil, fmt.Errorf("reading the routes that use %s: %w", label, err)
	}
	var using []convirza.Route
	var brief []map[string]any
	for _, r := range routes.Items {
		if strings.HasSuffix(schemas.Digits(r.PhoneNumber), a.Number) {
			using = append(using, r)
			brief = append(brief, map[string]any{"provisioned_route_id": r.ProvisionedRouteID, "provisioned_route_name": r.ProvisionedRouteName, "provisioned_route_status": r.ProvisionedRouteStatus, "ring_to": schemas.PhoneOut(r.RingTo)})
		}
	}
	unit := fmt.Sprintf("org unit %d", n.OrgUnitID)
	if n.OrgUnitName != "" {
		unit = fmt.Sprintf("org unit %d %q", n.OrgUnitID, n.OrgUnitName)
	}
	details := map[string]any{"number": schemas.PhoneOut(a.Number), "org_unit_id": n.OrgUnitID, "org_unit_name": n.OrgUnitName, "routes": brief}
	var action string
	if len(using) == 0 {
		action = fmt.Sprintf("Release %s (%s), used by no route: it leaves the account and cannot be got back through the API.", label, unit)
	} else {
		names := make([]string, 0, 6)
		for i, r := range using {
			if i == 5 {
				names = append(names, "...")
				break
			}
			names = append(names, fmt.Sprintf("%d %q", r.ProvisionedRouteID, r.ProvisionedRouteName))
		}
		action = fmt.Sprintf("Release %s (%s), used by %d route(s) (%s), which then have no number to track calls on; it cannot be got back through the API.",
			label, unit, len(using), strings.Join(names, ", "))
	}
	return &policy.Preview{Action: action, Details: details, Snapshot: map[string]any{"number": n, "routes": using}}, nil
}
