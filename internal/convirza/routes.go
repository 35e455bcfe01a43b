package convirza

import (
	"github.com/convirza/convirza-mcp/schemas"
)

// RoutesService calls the /provisioned-routes endpoints.
type RoutesService = Records[Route, schemas.ListRoutesArgs, schemas.RouteCreate, schemas.RouteReplace, schemas.RoutePatch]

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
