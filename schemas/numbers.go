package schemas

// NumberFilter is the filter shared by GET /phone-numbers/search, /assigned
// and /provisioned.
type NumberFilter struct {
	NPA   string `json:"npa,omitempty" jsonschema:"pattern=^[0-9]{3}$,description=Area code"`
	NXX   string `json:"nxx,omitempty" jsonschema:"pattern=^[0-9]{3}$,description=Exchange code"`
	OCN   string `json:"ocn,omitempty" jsonschema:"pattern=^[0-9]{4}$,description=Operating company number"`
	Match string `json:"match,omitempty" jsonschema:"maxLength=20,pattern=^[0-9_*%]+$,description=Pattern over the 10 digits: _ one digit; * or % any run (e.g. 303555____)"`
}

// SearchNumbersArgs filters GET /phone-numbers/search.
type SearchNumbersArgs struct {
	NumberFilter
	RC    string `json:"rc,omitempty" jsonschema:"maxLength=64,description=Rate center (e.g. DENVER)"`
	State string `json:"state,omitempty" jsonschema:"pattern=^[A-Za-z]{2}$"`
	Limit int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100"`
}

// Validate sends the state code in upper case, as the docs write it.
func (a *SearchNumbersArgs) Validate() error {
	upperState(&a.State)
	return nil
}

// ListNumbersArgs filters GET /phone-numbers/assigned and /provisioned.
type ListNumbersArgs struct {
	NumberFilter
	Limit int `json:"limit,omitempty" jsonschema:"minimum=1"`
}

// NumberArgs names one phone number of the account.
type NumberArgs struct {
	Number string `json:"number" jsonschema:"required,pattern=^[0-9]{10}$,description=10 digits (e.g. 3035550142)"`
}

// NumberOrder is the body of POST /phone-numbers/order.
type NumberOrder struct {
	Number    string `json:"number" jsonschema:"required,pattern=^[0-9]{10}$,description=10 digits from search_available_numbers"`
	OrgUnitID int64  `json:"org_unit_id" jsonschema:"required,minimum=1,description=Org unit the number is assigned to"`
}
