package schemas

import "errors"

// Group statuses accepted by list filters.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
	StatusDeleted  = "deleted"
)

// ID is the argument of tools that act on one resource by its numeric id.
type ID struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
}

// Page is the limit/offset pair of Convirza list endpoints. The docs give
// groups and tags no maximum, so none is set here; lists with a documented
// maximum or default add theirs with pageLimit.
type Page struct {
	Limit  int `json:"limit,omitempty" jsonschema:"minimum=1"`
	Offset int `json:"offset,omitempty" jsonschema:"minimum=0"`
}

// ListGroupsArgs filters GET /groups/list (immediate children of a unit).
type ListGroupsArgs struct {
	OrgUnitID int64  `json:"org_unit_id,omitempty" jsonschema:"minimum=1,description=Parent unit; default the account's own unit"`
	GroupName string `json:"group_name,omitempty" jsonschema:"maxLength=255,description=Partial name match"`
	Status    string `json:"status,omitempty" jsonschema:"enum=active,enum=inactive,enum=deleted"`
	Page
}

// GroupTreeArgs is the argument of GET /groups/tree.
type GroupTreeArgs struct {
	Active *bool `json:"active,omitempty" jsonschema:"description=true: only active groups"`
}

// OrgUnitArgs names an org unit that is the parent or subject of a call.
type OrgUnitArgs struct {
	OrgUnitID int64 `json:"org_unit_id" jsonschema:"required,minimum=1"`
}

// GroupCreate is the body of POST /groups.
type GroupCreate struct {
	OrgUnitName     string `json:"org_unit_name" jsonschema:"required,minLength=1,maxLength=255,description=Unique among siblings"`
	OrgUnitParentID int64  `json:"org_unit_parent_id" jsonschema:"required,minimum=1"`
	OrgUnitExtID    string `json:"org_unit_ext_id,omitempty" jsonschema:"maxLength=255"`
	TopOUID         int64  `json:"top_ou_id,omitempty" jsonschema:"minimum=1"`
	BillingID       int64  `json:"billing_id,omitempty" jsonschema:"minimum=1"`
	Address         string `json:"address,omitempty" jsonschema:"maxLength=255"`
	City            string `json:"city,omitempty" jsonschema:"maxLength=100"`
	State           string `json:"state,omitempty" jsonschema:"pattern=^[A-Za-z]{2}$"`
	Zip             string `json:"zip,omitempty" jsonschema:"maxLength=10"`
	PhoneNumber     string `json:"phone_number,omitempty" jsonschema:"maxLength=24"`
	IndustryID      int64  `json:"industry_id,omitempty" jsonschema:"minimum=1"`
	Timezone        string `json:"timezone,omitempty" jsonschema:"maxLength=64,description=IANA name"`
}

// Validate sends a state code in upper case, as the docs write it.
func (a *GroupCreate) Validate() error {
	upperState(&a.State)
	return normalisePhone("phone_number", &a.PhoneNumber)
}

// GroupReplace is the body of PUT /groups/:id: every editable field.
type GroupReplace struct {
	OrgUnitName     string `json:"org_unit_name" jsonschema:"required,minLength=1,maxLength=255"`
	OrgUnitExtID    string `json:"org_unit_ext_id" jsonschema:"required,maxLength=255"`
	OrgUnitParentID int64  `json:"org_unit_parent_id" jsonschema:"required,minimum=1"`
	Address         string `json:"address" jsonschema:"required,maxLength=255"`
	City            string `json:"city" jsonschema:"required,maxLength=100"`
	State           string `json:"state" jsonschema:"required,pattern=^([A-Za-z]{2})?$"`
	Zip             string `json:"zip" jsonschema:"required,maxLength=10"`
	PhoneNumber     string `json:"phone_number" jsonschema:"required,maxLength=24"`
	IndustryID      int64  `json:"industry_id" jsonschema:"required,minimum=1"`
}

// GroupPatch is the body of PATCH /groups/:id: any subset of the editable fields.
type GroupPatch struct {
	OrgUnitName     *string `json:"org_unit_name,omitempty" jsonschema:"minLength=1,maxLength=255"`
	OrgUnitExtID    *string `json:"org_unit_ext_id,omitempty" jsonschema:"maxLength=255"`
	OrgUnitParentID *int64  `json:"org_unit_parent_id,omitempty" jsonschema:"minimum=1"`
	Address         *string `json:"address,omitempty" jsonschema:"maxLength=255"`
	City            *string `json:"city,omitempty" jsonschema:"maxLength=100"`
	State           *string `json:"state,omitempty" jsonschema:"pattern=^([A-Za-z]{2})?$"`
	Zip             *string `json:"zip,omitempty" jsonschema:"maxLength=10"`
	PhoneNumber     *string `json:"phone_number,omitempty" jsonschema:"maxLength=24"`
	IndustryID      *int64  `json:"industry_id,omitempty" jsonschema:"minimum=1"`
}

// ReplaceGroupArgs are the arguments of replace_group.
type ReplaceGroupArgs struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
	GroupReplace
}

// Validate sends a state code in upper case, as the docs write it.
func (a *ReplaceGroupArgs) Validate() error {
	upperState(&a.State)
	return normalisePhone("phone_number", &a.PhoneNumber)
}

// UpdateGroupArgs are the arguments of update_group.
type UpdateGroupArgs struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
	GroupPatch
}

// Validate refuses a patch that changes nothing and sends a state code in
// upper case.
func (a *UpdateGroupArgs) Validate() error {
	if a.GroupPatch == (GroupPatch{}) {
		return errors.New("give at least one field to change besides id (org_unit_name, org_unit_ext_id, org_unit_parent_id, address, city, state, zip, phone_number, industry_id)")
	}
	upperState(a.State)
	return normalisePhone("phone_number", a.PhoneNumber)
}
