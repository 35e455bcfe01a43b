package tools

import (
	"context"
	"fmt"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

func routeTools() []Tool {
	return []Tool{
		Define(Spec{Name: "list_provisioned_routes", Title: "List provisioned routes", Class: policy.Read,
			Description: "List provisioned routes (tracking number → ring_to number). Paged."},
			func(ctx context.Context, d *Deps, a schemas.ListRoutesArgs) (*Page[convirza.Route], error) {
				out, err := d.Convirza.Routes.List(ctx, a)
				if err == nil {
					e164Routes(out.Items)
				}
				return pageOf("provisioned_routes", a.Offset, out, err)
			}, Names(func(a schemas.ListRoutesArgs) []int64 { return units(a.OrgUnitID) }), Pins(func(a *schemas.ListRoutesArgs, root int64) { a.OrgUnitID = root })),
		Define(Spec{Name: "get_provisioned_route", Title: "Get provisioned route", Class: policy.Read,
			Description: "Get one provisioned route by id: name, status, tracking number, ring_to, org unit."},
			func(ctx context.Context, d *Deps, a schemas.ID) (any, error) {
				r, err := d.Convirza.Routes.Get(ctx, a.ID)
				if err != nil {
					return nil, err
				}
				e164Route(r)
				return r, nil
			}, Owned(routeRecord.owner, idOf)),
		Define(Spec{Name: "create_provisioned_route", Title: "Create provisioned route", Class: policy.Write,
			Description: "Route a tracking number the org unit holds (list_assigned_numbers; order_phone_number buys one) to a ring_to number. Returns provisioned_route_id."},
			func(ctx context.Context, d *Deps, a schemas.RouteCreate) (any, error) {
				id, meta, err := d.Convirza.Routes.Create(ctx, a)
				return created("provisioned_route_id", id, "provisioned_route_name", a.ProvisionedRouteName, meta, err)
			}, Names(func(a schemas.RouteCreate) []int64 { return units(a.OrgUnitID) })),
		Define(Spec{Name: "replace_provisioned_route", Title: "Replace provisioned route", Class: policy.Write, Idempotent: true,
			Description: "Replace all editable fields of a route (PUT). Use update_provisioned_route to change only some."},
			func(ctx context.Context, d *Deps, a schemas.ReplaceRouteArgs) (any, error) {
				meta, err := d.Convirza.Routes.Replace(ctx, a.ID, a.RouteReplace)
				return written("replaced", "provisioned_route_id", a.ID, meta, err)
			}, Owned(routeRecord.owner, func(a schemas.ReplaceRouteArgs) int64 { return a.ID })),
		Define(Spec{Name: "update_provisioned_route", Title: "Update provisioned route", Class: policy.Write, Idempotent: true,
			Description: "Change some fields of a route (PATCH); fields left out stay as they are."},
			func(ctx context.Context, d *Deps, a schemas.UpdateRouteArgs) (any, error) {
				meta, err := d.Convirza.Routes.Update(ctx, a.ID, a.RoutePatch)
				return written("updated", "provisioned_route_id", a.ID, meta, err)
			}, Owned(routeRecord.owner, func(a schemas.UpdateRouteArgs) int64 { return a.ID })),
		Define(Spec{Name: "delete_provisioned_route", Title: "Delete provisioned route", Class: policy.Destructive, Idempotent: true,
			Description: "Soft-delete a route: its number stops ringing ring_to but stays the account's. Not reversible through the API. Needs the user's confirmation."},
			byIDs(func(ctx context.Context, d *Deps, id int64) (any, error) {
				meta, err := d.Convirza.Routes.Delete(ctx, id)
				return deleted(ctx, "provisioned_route_id", id, meta, err, routeRecord.statusOf(d, id))
			}), Confirm(previewIDs("Delete", "deleted", "routes", previewDeleteRoute)), ownedIDs(routeRecord.owner)),
	}
}

// previewDeleteRoute names the route, its number and where it rings.
func previewDeleteRoute(ctx context.Context, d *Deps, a schemas.ID) (*policy.Preview, error) {
	r, label, blocked, err := routeRecord.deletable(ctx, d, a.ID, func(r *convirza.Route) string {
		return fmt.Sprintf("route %d %q", a.ID, r.ProvisionedRouteName)
	})
	if r == nil {
		return blocked, err
	}
	number := "no tracking number"
	if r.PhoneNumber != "" {
		number = phoneLabel(schemas.Digits(r.PhoneNumber))
	}
	return &policy.Preview{
		Action: fmt.Sprintf("Delete %s (%s, %s, ringing %s): calls to the number will no longer be routed there. Soft delete, not reversible through the API.",
			label, r.ProvisionedRouteStatus, number, r.RingTo),
		Details:  r,
		Snapshot: r,
	}, nil
}
