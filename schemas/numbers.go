package schemas

import (
	"errors"
	"fmt"
)

// NumberFilter is the filter shared by GET /phone-numbers/search, /assigned
// and /provisioned.
type NumberFilter struct {
	NPA   string `json:"npa,omitempty" jsonschema:"pattern=^[0-9]{3}$,description=Area code"`
	NXX   string `json:"nxx,omitempty" jsonschema:"pattern=^[0-9]{3}$,description=Exchange code"`
	OCN   string `json:"ocn,omitempty" jsonschema:"pattern=^[0-9]{4}$,description=Operating company number"`
	Match string `json:"match,omitempty" jsonschema:"maxLength=20,pattern=^[0-9_*%]+$,description=10-digit pattern: _ one digit, * or % any run"`
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
// The endpoints take a limit only: org_unit_id and offset are the
// server's (it reads the list whole and keeps that unit and its sub-groups).
type ListNumbersArgs struct {
	NumberFilter
	OrgUnitID int64 `json:"org_unit_id,omitempty" jsonschema:"minimum=1,description=This unit and its sub-groups"`
	Limit     int   `json:"limit,omitempty" jsonschema:"minimum=1"`
	Offset    int   `json:"offset,omitempty" jsonschema:"minimum=0"`
}

// NumberArgs names one phone number of the account, or up to 50.
type NumberArgs struct {
	Number  string   `json:"number,omitempty" jsonschema:"maxLength=24,description=e.g. +13035550142 or (303) 555-0142"`
	Numbers []string `json:"numbers,omitempty" jsonschema:"minItems=1,maxItems=50,uniqueItems=true,maxLength=24,description=Several numbers: one confirmation"`
}

// Validate asks for exactly one of number and numbers and rewrites each to
// the 10 digits the upstream takes.
func (a *NumberArgs) Validate() error {
	if (a.Number == "") == (len(a.Numbers) == 0) {
		return errors.New("give exactly one of number (one phone number) or numbers (1 to 50)")
	}
	if a.Number != "" {
		return trackingNumber("number", &a.Number)
	}
	seen := make(map[string]int, len(a.Numbers))
	for i := range a.Numbers {
		if err := trackingNumber(fmt.Sprintf("numbers[%d]", i), &a.Numbers[i]); err != nil {
			return err
		}
		if j, dup := seen[a.Numbers[i]]; dup {
			return fmt.Errorf("numbers[%d] is numbers[%d] again (+1%s); list each number once", i, j, a.Numbers[i])
		}
		seen[a.Numbers[i]] = i
	}
	return nil
}

// List is the numbers named, 10 digits each.
func (a NumberArgs) List() []string {
	if a.Number != "" {
		return []string{a.Number}
	}
	return a.Numbers
}

// NumberOrder is the body of POST /phone-numbers/order.
type NumberOrder struct {
	Number    string `json:"number" jsonschema:"required,maxLength=24,description=From search_available_numbers (any spelling)"`
	OrgUnitID int64  `json:"org_unit_id" jsonschema:"required,minimum=1,description=Org unit the number is assigned to"`
}

// Validate rewrites the number to the 10 digits the upstream takes.
func (a *NumberOrder) Validate() error { return trackingNumber("number", &a.Number) }
