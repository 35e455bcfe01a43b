package schemas

import (
	"errors"
	"fmt"
	"strings"
)

// Talkdesk Record Lists: the arguments of the record_lists tools and the
// bodies of the Record Lists API (api-docs/API-NOTES.md, Part B).

// Limits of the Record Lists API.
const (
	// MaxBulkRecords is the most items one bulk create, update or delete takes.
	MaxBulkRecords = 100
	// MaxPerPage is the largest page this server asks the list endpoints
	// for. Talkdesk documents no maximum (API-NOTES: [I], the simulator's
	// choice), so the cap is ours, not a fact about the API.
	MaxPerPage = 100
)

// Phone types a record's phone number may have.
const (
	PhoneTypeHome   = "HOME"
	PhoneTypeOffice = "OFFICE"
	PhoneTypeMobile = "MOBILE"
	PhoneTypeExtra1 = "EXTRA_1"
	PhoneTypeExtra2 = "EXTRA_2"
	PhoneTypeExtra3 = "EXTRA_3"
)

// HALPage is the page/per_page pair of the Record Lists list endpoints.
type HALPage struct {
	Page    int `json:"page,omitempty" jsonschema:"minimum=1,description=1-based page number; default 1"`
	PerPage int `json:"per_page,omitempty" jsonschema:"minimum=1,maximum=100,description=Items per page; default 50"`
}

// ListRecordListsArgs are the arguments of list_record_lists.
type ListRecordListsArgs struct {
	HALPage
}

// RecordListIDArgs names one record list by its own id (get_record_list,
// delete_record_list).
type RecordListIDArgs struct {
	ID string `json:"id" jsonschema:"required,minLength=1,maxLength=36,pattern=^[A-Za-z0-9_-]+$,description=Record list id (a UUID)"`
}

// ListRecordsArgs are the arguments of list_records.
type ListRecordsArgs struct {
	RecordListID string `json:"record_list_id" jsonschema:"required,minLength=1,maxLength=36,pattern=^[A-Za-z0-9_-]+$,description=Record list id (a UUID)"`
	HALPage
}

// RecordListCreate is the body of POST /record-lists and the arguments of
// create_record_list. Lists made this way (without a CSV upload) start
// ACCEPTED and empty; add records with create_records.
type RecordListCreate struct {
	Name string `json:"name" jsonschema:"required,minLength=1,description=Name shown in Talkdesk"`
}

// RecordPhone is one of a record's phone numbers.
type RecordPhone struct {
	PhoneNumber string `json:"phone_number" jsonschema:"required,maxLength=24,description=Any spelling; sent in E.164"`
	PhoneType   string `json:"phone_type,omitempty" jsonschema:"enum=HOME,enum=OFFICE,enum=MOBILE,enum=EXTRA_1,enum=EXTRA_2,enum=EXTRA_3"`
}

// RecordInput is one record to create: an item of POST
// /record-lists/{id}/records/bulks.
type RecordInput struct {
	PhoneNumbers     []RecordPhone  `json:"phone_numbers" jsonschema:"required,minItems=1"`
	FirstName        string         `json:"first_name" jsonschema:"required,minLength=1,maxLength=80"`
	LastName         string         `json:"last_name" jsonschema:"required,minLength=1,maxLength=80"`
	Timezone         string         `json:"timezone,omitempty" jsonschema:"minLength=1,maxLength=35,description=IANA name: America/New_York"`
	Priority         int            `json:"priority,omitempty" jsonschema:"minimum=1,maximum=10,description=Dialing priority"`
	ExternalProvider string         `json:"external_provider,omitempty" jsonschema:"minLength=1,description=e.g. salesforce"`
	ExternalID       string         `json:"external_id,omitempty" jsonschema:"minLength=1"`
	ExternalURL      string         `json:"external_url,omitempty" jsonschema:"minLength=1"`
	SyncExternalID   *bool          `json:"sync_external_id,omitempty"`
	ExtraData        map[string]any `json:"extra_data,omitempty" jsonschema:"description=Shown to the agent"`
}

// RecordFields are the editable fields of a record, each optional: the
// value of one bulk-update operation.
type RecordFields struct {
	PhoneNumbers     []RecordPhone  `json:"phone_numbers,omitempty" jsonschema:"minItems=1"`
	FirstName        *string        `json:"first_name,omitempty" jsonschema:"minLength=1,maxLength=80"`
	LastName         *string        `json:"last_name,omitempty" jsonschema:"minLength=1,maxLength=80"`
	Timezone         *string        `json:"timezone,omitempty" jsonschema:"minLength=1,maxLength=35"`
	Priority         *int           `json:"priority,omitempty" jsonschema:"minimum=1,maximum=10"`
	ExternalProvider *string        `json:"external_provider,omitempty" jsonschema:"minLength=1"`
	ExternalID       *string        `json:"external_id,omitempty" jsonschema:"minLength=1"`
	ExternalURL      *string        `json:"external_url,omitempty" jsonschema:"minLength=1"`
	SyncExternalID   *bool          `json:"sync_external_id,omitempty"`
	ExtraData        map[string]any `json:"extra_data,omitempty"`
}

// empty reports whether f changes nothing.
func (f RecordFields) empty() bool {
	return f.PhoneNumbers == nil && f.FirstName == nil && f.LastName == nil && f.Timezone == nil &&
		f.Priority == nil && f.ExternalProvider == nil && f.ExternalID == nil && f.ExternalURL == nil &&
		f.SyncExternalID == nil && f.ExtraData == nil
}

// RecordChange is one record to update: its id and the fields to change.
type RecordChange struct {
	ID string `json:"id" jsonschema:"required,minLength=1,maxLength=36,pattern=^[A-Za-z0-9_-]+$,description=Record id"`
	RecordFields
}

// CreateRecordsArgs are the arguments of create_records.
type CreateRecordsArgs struct {
	RecordListID string        `json:"record_list_id" jsonschema:"required,minLength=1,maxLength=36,pattern=^[A-Za-z0-9_-]+$,description=Record list id (a UUID)"`
	Records      []RecordInput `json:"records" jsonschema:"required,minItems=1,maxItems=100"`
}

// UpdateRecordsArgs are the arguments of update_records.
type UpdateRecordsArgs struct {
	RecordListID string         `json:"record_list_id" jsonschema:"required,minLength=1,maxLength=36,pattern=^[A-Za-z0-9_-]+$,description=Record list id (a UUID)"`
	Records      []RecordChange `json:"records" jsonschema:"required,minItems=1,maxItems=100,description=Each: the record id and only the fields to change"`
}

// Validate reads every record's phone numbers into E.164.
func (a *CreateRecordsArgs) Validate() error {
	var errs []error
	for i := range a.Records {
		errs = append(errs, recordPhones(fmt.Sprintf("records[%d]", i), a.Records[i].PhoneNumbers))
	}
	return errors.Join(errs...)
}

// recordPhones rewrites a record's phone numbers to E.164.
func recordPhones(name string, phones []RecordPhone) error {
	for i := range phones {
		if err := normalisePhone(fmt.Sprintf("%s.phone_numbers[%d]", name, i), &phones[i].PhoneNumber); err != nil {
			return err
		}
	}
	return nil
}

// Validate refuses a change that changes nothing and a record named twice,
// and reads the phone numbers into E.164.
func (a *UpdateRecordsArgs) Validate() error {
	seen := map[string]int{}
	var problems []string
	for i, r := range a.Records {
		if err := recordPhones(fmt.Sprintf("records[%d]", i), r.PhoneNumbers); err != nil {
			problems = append(problems, err.Error())
		}
		if r.RecordFields.empty() {
			problems = append(problems, fmt.Sprintf("records[%d] (id %s) changes nothing: give at least one field besides id", i, r.ID))
		}
		if j, dup := seen[r.ID]; dup {
			problems = append(problems, fmt.Sprintf("records[%d] and records[%d] both change record %s: merge them into one", j, i, r.ID))
		}
		seen[r.ID] = i
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Ops renders the changes as the documented JSON-Patch bulk body:
// [{"op":"replace","path":"/records/{id}","value":{...}}].
func (a UpdateRecordsArgs) Ops() []RecordPatchOp {
	ops := make([]RecordPatchOp, 0, len(a.Records))
	for _, r := range a.Records {
		ops = append(ops, RecordPatchOp{Op: "replace", Path: "/records/" + r.ID, Value: r.RecordFields})
	}
	return ops
}

// RecordPatchOp is one item of PATCH /record-lists/{id}/records/bulks.
type RecordPatchOp struct {
	Op    string       `json:"op"`
	Path  string       `json:"path"`
	Value RecordFields `json:"value"`
}

// ExternalRef names a record by the CRM it comes from.
type ExternalRef struct {
	ExternalProvider string `json:"external_provider" jsonschema:"required,minLength=1,description=salesforce for example"`
	ExternalID       string `json:"external_id" jsonschema:"required,minLength=1"`
}

// Identifier kinds of a bulk delete.
const (
	ByID          = "id"
	ByPhoneNumber = "phone number"
	ByExternalID  = "external id"
)

// DeleteRecordsArgs are the arguments of delete_records: the list and
// exactly one kind of identifier.
type DeleteRecordsArgs struct {
	RecordListID string        `json:"record_list_id" jsonschema:"required,minLength=1,maxLength=36,pattern=^[A-Za-z0-9_-]+$,description=Record list id (a UUID)"`
	IDs          []string      `json:"ids,omitempty" jsonschema:"minItems=1,maxItems=100,uniqueItems=true,minLength=1,maxLength=36,description=Record ids"`
	PhoneNumbers []string      `json:"phone_numbers,omitempty" jsonschema:"minItems=1,maxItems=100,uniqueItems=true,maxLength=24,description=Any spelling: every record having one of them is deleted"`
	ExternalIDs  []ExternalRef `json:"external_ids,omitempty" jsonschema:"minItems=1,maxItems=100,uniqueItems=true"`
}

// Validate requires exactly one kind of identifier: one bulk delete uses
// one identifier style for the whole array. Phone numbers are read into
// E.164.
func (a *DeleteRecordsArgs) Validate() error {
	if err := normalisePhones("phone_numbers", a.PhoneNumbers); err != nil {
		return err
	}
	var kinds []string
	if len(a.IDs) > 0 {
		kinds = append(kinds, "ids")
	}
	if len(a.PhoneNumbers) > 0 {
		kinds = append(kinds, "phone_numbers")
	}
	if len(a.ExternalIDs) > 0 {
		kinds = append(kinds, "external_ids")
	}
	switch len(kinds) {
	case 0:
		return errors.New("name the records to delete with exactly one of ids, phone_numbers or external_ids")
	case 1:
		return nil
	}
	return fmt.Errorf("give exactly one of ids, phone_numbers or external_ids, not %s: one bulk delete uses one kind of identifier; make one call per kind", strings.Join(kinds, " and "))
}

// Kind is the identifier kind used: ByID, ByPhoneNumber or ByExternalID.
func (a DeleteRecordsArgs) Kind() string {
	switch {
	case len(a.PhoneNumbers) > 0:
		return ByPhoneNumber
	case len(a.ExternalIDs) > 0:
		return ByExternalID
	}
	return ByID
}

// Count is the number of identifiers named.
func (a DeleteRecordsArgs) Count() int {
	return len(a.IDs) + len(a.PhoneNumbers) + len(a.ExternalIDs)
}

// Body renders the documented bulk-delete body: an array of {id}, of
// {phone_number} or of {external_provider, external_id}.
func (a DeleteRecordsArgs) Body() []RecordIdentifier {
	out := make([]RecordIdentifier, 0, a.Count())
	for _, id := range a.IDs {
		out = append(out, RecordIdentifier{ID: id})
	}
	for _, p := range a.PhoneNumbers {
		out = append(out, RecordIdentifier{PhoneNumber: p})
	}
	for _, e := range a.ExternalIDs {
		out = append(out, RecordIdentifier{ExternalProvider: e.ExternalProvider, ExternalID: e.ExternalID})
	}
	return out
}

// RecordIdentifier is one item of DELETE /record-lists/{id}/records/bulks.
type RecordIdentifier struct {
	ID               string `json:"id,omitempty"`
	PhoneNumber      string `json:"phone_number,omitempty"`
	ExternalProvider string `json:"external_provider,omitempty"`
	ExternalID       string `json:"external_id,omitempty"`
}
