package schemas

import "errors"

// ListRoutesArgs filters GET /provisioned-routes.
type ListRoutesArgs struct {
	OrgUnitID              int64  `json:"org_unit_id,omitempty" jsonschema:"minimum=1,description=Includes sub-groups"`
	ProvisionedRouteName   string `json:"provisioned_route_name,omitempty" jsonschema:"maxLength=255,description=Partial match"`
	ProvisionedRouteStatus string `json:"provisioned_route_status,omitempty" jsonschema:"enum=active,enum=inactive,enum=referral,enum=deleted,enum=suspended,description=Default: all but deleted"`
	PhoneNumber            string `json:"phone_number,omitempty" jsonschema:"maxLength=24,description=Whole number or some of its digits"`
	OrderBy                string `json:"orderBy,omitempty" jsonschema:"enum=provisioned_route_name,enum=provisioned_route_status,enum=phone_number"`
	Order                  string `json:"order,omitempty" jsonschema:"enum=ASC,enum=DESC"`
	Limit                  int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=500,default=100"`
	Offset                 int    `json:"offset,omitempty" jsonschema:"minimum=0"`
}

// Route statuses a write may set; "deleted" is only reached through DELETE.
const routeStatuses = "active, inactive, referral, suspended"

// RouteCreate is the body of POST /provisioned-routes.
type RouteCreate struct {
	ProvisionedRouteName   string `json:"provisioned_route_name" jsonschema:"required,minLength=1,maxLength=255"`
	PhoneNumber            string `json:"phone_number" jsonschema:"required,maxLength=24,description=Tracking number assigned to org_unit_id"`
	RingTo                 string `json:"ring_to" jsonschema:"required,maxLength=24,description=Where calls ring"`
	OrgUnitID              int64  `json:"org_unit_id" jsonschema:"required,minimum=1"`
	ProvisionedRouteStatus string `json:"provisioned_route_status,omitempty" jsonschema:"enum=active,enum=inactive,enum=referral,enum=suspended,description=Default active"`
}

// RouteReplace is the body of PUT /provisioned-routes/:id: every editable
// field (the org unit is fixed at creation).
type RouteReplace struct {
	ProvisionedRouteName   string `json:"provisioned_route_name" jsonschema:"required,minLength=1,maxLength=255"`
	PhoneNumber            string `json:"phone_number" jsonschema:"required,maxLength=24"`
	RingTo                 string `json:"ring_to" jsonschema:"required,maxLength=24"`
	ProvisionedRouteStatus string `json:"provisioned_route_status" jsonschema:"required,enum=active,enum=inactive,enum=referral,enum=suspended"`
}

// RoutePatch is the body of PATCH /provisioned-routes/:id.
type RoutePatch struct {
	ProvisionedRouteName   *string `json:"provisioned_route_name,omitempty" jsonschema:"minLength=1,maxLength=255"`
	PhoneNumber            *string `json:"phone_number,omitempty" jsonschema:"maxLength=24"`
	RingTo                 *string `json:"ring_to,omitempty" jsonschema:"maxLength=24"`
	ProvisionedRouteStatus *string `json:"provisioned_route_status,omitempty" jsonschema:"enum=active,enum=inactive,enum=referral,enum=suspended"`
}

// ReplaceRouteArgs are the arguments of replace_provisioned_route.
type ReplaceRouteArgs struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
	RouteReplace
}

// UpdateRouteArgs are the arguments of update_provisioned_route.
type UpdateRouteArgs struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
	RoutePatch
}

// Validate refuses a patch that changes nothing and reads the numbers.
func (a *UpdateRouteArgs) Validate() error {
	if a.RoutePatch == (RoutePatch{}) {
		return errors.New("give at least one field to change besides id (provisioned_route_name, phone_number, ring_to, provisioned_route_status: " + routeStatuses + ")")
	}
	return errors.Join(trackingNumber("phone_number", a.PhoneNumber), ringTo("ring_to", a.RingTo))
}

// Validate sends the number filter as digits.
func (a *ListRoutesArgs) Validate() error {
	digitFilter(&a.PhoneNumber)
	return nil
}

// Validate reads the numbers: the tracking number sent as its 10 digits,
// ring_to in E.164.
func (a *RouteCreate) Validate() error {
	return errors.Join(trackingNumber("phone_number", &a.PhoneNumber), ringTo("ring_to", &a.RingTo))
}

// Validate reads the numbers as RouteCreate's do.
func (a *RouteReplace) Validate() error {
	return errors.Join(trackingNumber("phone_number", &a.PhoneNumber), ringTo("ring_to", &a.RingTo))
}
