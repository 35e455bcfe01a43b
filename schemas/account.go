package schemas

// Tag types and sort keys of GET /tag/:org_unit_id.
const (
	TagTypeUser   = "user"
	TagTypeSystem = "system"
	TagTypeAll    = "all"
)

// NoArgs is the argument of tools that take none.
type NoArgs struct{}

// ListIndustriesArgs filters GET /industry.
type ListIndustriesArgs struct {
	IndustryName  string `json:"industry_name,omitempty" jsonschema:"maxLength=255,description=Partial match"`
	IndustryGroup string `json:"industry_group,omitempty" jsonschema:"maxLength=255"`
	IndustryID    int64  `json:"industry_id,omitempty" jsonschema:"minimum=1"`
}

// ListTagsArgs is the path parameter and filters of GET /tag/:org_unit_id.
type ListTagsArgs struct {
	OrgUnitID int64  `json:"org_unit_id" jsonschema:"required,minimum=1"`
	Search    string `json:"search,omitempty" jsonschema:"maxLength=255,description=Partial name match"`
	TagType   string `json:"tag_type,omitempty" jsonschema:"enum=user,enum=system,enum=all"`
	Status    string `json:"status,omitempty" jsonschema:"enum=active,enum=inactive,default=active"`
	Sort      string `json:"sort,omitempty" jsonschema:"enum=tag_name,enum=call_count"`
	Direction string `json:"direction,omitempty" jsonschema:"enum=ASC,enum=DESC"`
	Page
}

// TagCreate is the body of POST /tag: a user tag on an org unit.
type TagCreate struct {
	TagName   string `json:"tag_name" jsonschema:"required,minLength=1,maxLength=100"`
	OrgUnitID int64  `json:"org_unit_id" jsonschema:"required,minimum=1"`
}

// TagUpdate is the body of PUT /tag, which names the tag in the body. Being
// a PUT, it carries every editable field.
type TagUpdate struct {
	TagID   int64  `json:"tag_id" jsonschema:"required,minimum=1"`
	TagName string `json:"tag_name" jsonschema:"required,minLength=1,maxLength=100"`
	Status  string `json:"status" jsonschema:"required,enum=active,enum=inactive"`
}

// UpdateTagArgs are the arguments of update_tag: the body of PUT /tag, and
// the unit whose tag it is, which a server limited to org units needs to
// check the tag against its scope (the API has no GET of one tag). The unit
// is not sent upstream.
type UpdateTagArgs struct {
	TagUpdate
	OrgUnitID int64 `json:"org_unit_id,omitempty" jsonschema:"minimum=1,description=The unit whose tag this is (list_tags); needed when the server is limited to org units"`
}

// DeleteTagsArgs is the body of DELETE /tag: the tags to delete and the org
// unit they belong to (which the preview lists them from).
type DeleteTagsArgs struct {
	OrgUnitID int64   `json:"org_unit_id" jsonschema:"required,minimum=1,description=The unit whose tags these are"`
	TagIDs    []int64 `json:"tag_ids" jsonschema:"required,minItems=1,maxItems=100,uniqueItems=true,minimum=1"`
}
