package convirza

import (
	"context"

	"github.com/convirza/convirza-mcp/schemas"
)

// RoutesService calls the /provisioned-routes endpoints. Admin and Standard.
type RoutesService struct{ r resource[Route] }

// List returns routes matching the filter (GET /provisioned-routes).
func (s *RoutesService) List(ctx context.Context, f schemas.ListRoutesArgs) (*List[Route], error) {
	out, _, err := s.r.list(ctx, Query(f))
	return out, err
}

// Get returns one route (GET /provisioned-routes/:id).
func (s *RoutesService) Get(ctx context.Context, id int64) (*Route, error) {
	out, _, err := s.r.get(ctx, id)
	return out, err
}

// Create makes a route (POST /provisioned-routes) and returns its id.
func (s *RoutesService) Create(ctx context.Context, b schemas.RouteCreate) (int64, Meta, error) {
	return s.r.create(ctx, b)
}

// Replace sets every editable field (PUT /provisioned-routes/:id).
func (s *RoutesService) Replace(ctx context.Context, id int64, b schemas.RouteReplace) (Meta, error) {
	return s.r.replace(ctx, id, b)
}

// Update changes some fields (PATCH /provisioned-routes/:id).
func (s *RoutesService) Update(ctx context.Context, id int64, p schemas.RoutePatch) (Meta, error) {
	return s.r.update(ctx, id, p)
}

// Delete soft-deletes a route (DELETE /provisioned-routes/:id).
func (s *RoutesService) Delete(ctx context.Context, id int64) (Meta, error) {
	return s.r.delete(ctx, id)
}

// Route is one provisioned route: a tracking number and where its calls ring.
type Route struct {
	ProvisionedRouteID     int64  `json:"provisioned_route_id"`
	ProvisionedRouteName   string `json:"provisioned_route_name"`
	ProvisionedRouteStatus string `json:"provisioned_route_status,omitempty"`
	PhoneNumber            string `json:"phone_number,omitempty"`
	RingTo                 string `json:"ring_to,omitempty"`
	OrgUnitID              int64  `json:"org_unit_id,omitempty"`
	CreatedOn              string `json:"created_on,omitempty"`
	ModifiedOn             string `json:"modified_on,omitempty"`
}
