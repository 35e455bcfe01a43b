package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/convirza/convirza-mcp/internal/talkdesk"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

// previewRecordLimit bounds how many records a delete_records preview reads
// to count the matches (100 pages of 100).
const previewRecordLimit = 10000

// Talkdesk record lists are a separate upstream, which has no org units: its
// tools are AccountWide, so a policy's org-unit scope does not limit them
// (a scoped policy leaves the toolset out to keep them from its assistant).
func recordListTools() []Tool {
	return []Tool{
		Define(Spec{Name: "list_record_lists", Title: "List Talkdesk record lists", Class: policy.Read,
			Description: "List the Talkdesk record lists (the outbound dialer's contact lists): id, name, status, records_count. Pages: page from 1, per_page ≤ 100 (our cap)."},
			withTalkdesk(func(ctx context.Context, c *talkdesk.Client, a schemas.ListRecordListsArgs) (*Page[talkdesk.RecordList], error) {
				p, err := c.RecordLists.List(ctx, a.HALPage)
				if err != nil {
					return nil, err
				}
				return halPage("record_lists", p), nil
			}), AccountWide()),
		Define(Spec{Name: "get_record_list", Title: "Get Talkdesk record list", Class: policy.Read,
			Description: "Get one Talkdesk record list by id: name, status, unique_identifier_type, records_count, dates."},
			withTalkdesk(func(ctx context.Context, c *talkdesk.Client, a schemas.RecordListIDArgs) (any, error) {
				return c.RecordLists.Get(ctx, a.ID)
			}), AccountWide()),
		Define(Spec{Name: "list_records", Title: "List records of a Talkdesk record list", Class: policy.Read,
			Description: "List the records (contacts) of a Talkdesk record list: id, phone_numbers, names, priority, external ids. Pages: page from 1, per_page ≤ 100 (our cap)."},
			withTalkdesk(func(ctx context.Context, c *talkdesk.Client, a schemas.ListRecordsArgs) (*Page[talkdesk.Record], error) {
				p, err := c.Records.List(ctx, a.RecordListID, a.HALPage)
				if err != nil {
					return nil, err
				}
				return halPage("records", p).with("record_list_id", a.RecordListID), nil
			}), AccountWide()),
		Define(Spec{Name: "create_record_list", Title: "Create Talkdesk record list", Class: policy.Write,
			Description: "Create an empty Talkdesk record list with a name. Returns its id; add contacts with create_records."},
			withTalkdesk(func(ctx context.Context, c *talkdesk.Client, a schemas.RecordListCreate) (any, error) {
				l, err := c.RecordLists.Create(ctx, a)
				if err != nil {
					return nil, err
				}
				return map[string]any{"status": "created", "record_list": l}, nil
			}), AccountWide()),
		Define(Spec{Name: "create_records", Title: "Add records to a Talkdesk record list", Class: policy.Write,
			Description: "Add up to 100 records (contacts) to a record list. Returns total_created and each refused record's index and reason."},
			withTalkdesk(func(ctx context.Context, c *talkdesk.Client, a schemas.CreateRecordsArgs) (any, error) {
				res, err := c.Records.Create(ctx, a.RecordListID, a.Records)
				if err != nil {
					return nil, err
				}
				return bulkOutcome(res, "created", deref(res.TotalCreated), len(a.Records)), nil
			}), AccountWide()),
		Define(Spec{Name: "update_records", Title: "Update records of a Talkdesk record list", Class: policy.Write, Idempotent: true,
			Description: "Change up to 100 records of a record list: each item a record id plus the fields to change (phone_numbers and extra_data replaced whole). Returns total_updated and failures."},
			withTalkdesk(func(ctx context.Context, c *talkdesk.Client, a schemas.UpdateRecordsArgs) (any, error) {
				res, err := c.Records.Update(ctx, a.RecordListID, a.Ops())
				if err != nil {
					return nil, err
				}
				return bulkOutcome(res, "updated", deref(res.TotalUpdated), len(a.Records)), nil
			}), AccountWide()),
		Define(Spec{Name: "delete_record_list", Title: "Delete Talkdesk record list", Class: policy.Destructive, Idempotent: true,
			Description: "Delete a Talkdesk record list and all its records; not reversible. Needs the user's confirmation."},
			withTalkdesk(func(ctx context.Context, c *talkdesk.Client, a schemas.RecordListIDArgs) (any, error) {
				goneAfterRetry, err := c.RecordLists.Delete(ctx, a.ID)
				if err != nil {
					return nil, err
				}
				out := map[string]any{"status": "deleted", "id": a.ID}
				if goneAfterRetry {
					// A GET of the list would answer 404 either way.
					out["note"] = "already gone after a retry: the first attempt's answer was lost, and it most likely did the delete"
				}
				return out, nil
			}), Confirm(withTalkdesk(previewDeleteRecordList)), AccountWide()),
		Define(Spec{Name: "delete_records", Title: "Delete records from a Talkdesk record list", Class: policy.Destructive, Idempotent: true,
			Description: "Delete up to 100 records of a Talkdesk record list by exactly one of ids, phone_numbers (any spelling) or external_ids; not reversible; needs the user's confirmation. Returns total_deleted and what matched nothing."},
			withTalkdesk(func(ctx context.Context, c *talkdesk.Client, a schemas.DeleteRecordsArgs) (any, error) {
				if a.Kind() == schemas.ByPhoneNumber {
					return deleteRecordsByPhone(ctx, c, a)
				}
				res, err := c.Records.Delete(ctx, a.RecordListID, a.Body())
				if err != nil {
					return nil, err
				}
				if res.Accepted && res.TotalDeleted == nil {
					return map[string]any{"status": "accepted", "record_list_id": res.RecordListID,
						"message": fmt.Sprintf("Talkdesk accepted the deletion of %d named records and may still be carrying it out: list_records shows what is left.", a.Count())}, nil
				}
				return bulkOutcome(res, "deleted", deref(res.TotalDeleted), a.Count()), nil
			}), Confirm(withTalkdesk(previewDeleteRecords)), AccountWide()),
	}
}

// withTalkdesk adapts a handler or preview of the Talkdesk client to the
// Deps every tool is called with: without a usable client the call fails
// with why there is none.
func withTalkdesk[A, R any](f func(ctx context.Context, c *talkdesk.Client, a A) (R, error)) func(context.Context, *Deps, A) (R, error) {
	return func(ctx context.Context, d *Deps, a A) (R, error) {
		c, err := talkdeskClient(d)
		if err != nil {
			var zero R
			return zero, err
		}
		return f(ctx, c, a)
	}
}

// talkdeskClient returns the Talkdesk client, or why there is none.
func talkdeskClient(d *Deps) (*talkdesk.Client, error) {
	if d.Talkdesk == nil {
		return nil, errors.New("Talkdesk is not set up in this server: " + talkdesk.ErrNoCredentials.Error())
	}
	if err := d.Talkdesk.Configured(); err != nil {
		return nil, err
	}
	return d.Talkdesk, nil
}

func deref(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}

// bulkOutcome reports a bulk call: how many of the items sent were done,
// and each failure as the API described it.
func bulkOutcome(res *talkdesk.BulkResult, verb string, done, sent int) map[string]any {
	status := verb
	switch {
	case done == 0 && sent > 0:
		status = "none " + verb
	case res.HasErrors || res.TotalErrors > 0 || done < sent:
		status = "partly " + verb
	}
	msg := fmt.Sprintf("%s %d of %d.", capitalize(verb), done, sent)
	if res.TotalErrors > 0 {
		msg += fmt.Sprintf(" %d failed: see failed_records.", res.TotalErrors)
	}
	return map[string]any{
		"status":         status,
		"message":        msg,
		"record_list_id": res.RecordListID,
		"total_" + verb:  done,
		"total_errors":   res.TotalErrors,
		"has_errors":     res.HasErrors,
		"failed_records": res.FailedRecords,
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// previewDeleteRecordList names the list and how many records go with it.
func previewDeleteRecordList(ctx context.Context, c *talkdesk.Client, a schemas.RecordListIDArgs) (*policy.Preview, error) {
	l, err := c.RecordLists.Get(ctx, a.ID)
	if err != nil {
		if upstream.IsNotFound(err) {
			return &policy.Preview{Blocked: fmt.Sprintf("Record list %s does not exist.", a.ID)}, nil
		}
		return nil, err
	}
	return &policy.Preview{
		Action: fmt.Sprintf("Delete record list '%s' (%s, id %s) and all its records. Not reversible through the API.",
			l.Name, plural(l.RecordsCount, "record", "records"), l.ID),
		Details: map[string]any{"id": l.ID, "name": l.Name, "status": l.Status, "records_count": l.RecordsCount},
		// The list as it was; its records are not read (there may be
		// thousands).
		Snapshot: l,
	}, nil
}

// previewDeleteRecords reads the list and pages through its records (by
// their next links) to say how many of the named identifiers match, and
// blocks a call that would delete nothing.
func previewDeleteRecords(ctx context.Context, c *talkdesk.Client, a schemas.DeleteRecordsArgs) (*policy.Preview, error) {
	l, err := c.RecordLists.Get(ctx, a.RecordListID)
	if err != nil {
		if upstream.IsNotFound(err) {
			return &policy.Preview{Blocked: fmt.Sprintf("Record list %s does not exist.", a.RecordListID)}, nil
		}
		return nil, err
	}
	keys := identifierKeys(a)
	hits := make(map[string]int, len(keys)) // identifier -> records it matches
	affected := 0                           // records matched by any identifier
	var matchedRecords []talkdesk.Record    // as they are, for the audit record
	var contacts []map[string]any           // the records matched, by phone number
	complete, err := c.Records.Walk(ctx, a.RecordListID, previewRecordLimit, func(r talkdesk.Record) {
		matched := false
		for _, k := range recordKeys(a.Kind(), r) {
			if _, named := keys[k]; named {
				hits[k]++
				matched = true
			}
		}
		if matched {
			affected++
			matchedRecords = append(matchedRecords, r)
			if a.Kind() == schemas.ByPhoneNumber {
				contacts = append(contacts, contact(r))
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading the records of record list '%s': %w", l.Name, err)
	}
	var unmatched []string
	for _, k := range orderedKeys(a) {
		if hits[k] == 0 {
			unmatched = append(unmatched, k)
		}
	}
	named, found := a.Count(), len(hits)
	listLabel := fmt.Sprintf("record list '%s' (%s)", l.Name, plural(l.RecordsCount, "record", "records"))
	details := map[string]any{
		"record_list_id":    l.ID,
		"record_list_name":  l.Name,
		"records_count":     l.RecordsCount,
		"identifier_kind":   a.Kind(),
		"named":             named,
		"matched":           found,
		"records_to_delete": affected,
		"checked_all":       complete,
	}
	if len(unmatched) > 0 {
		shown := unmatched
		if len(shown) > 20 {
			shown = shown[:20]
		}
		details["unmatched"] = shown
	}
	snapshot := map[string]any{"record_list_id": l.ID, "record_list_name": l.Name, "records": matchedRecords}
	if contacts != nil {
		details["contacts"] = contacts
	}
	if !complete {
		return &policy.Preview{
			Action: fmt.Sprintf("Delete up to %d named records (by %s) from %s. Only the first %d records were checked, where %d of the %d identifiers were found. Not reversible through the API.",
				named, a.Kind(), listLabel, previewRecordLimit, found, named),
			Details:  details,
			Snapshot: snapshot,
		}, nil
	}
	if found == 0 {
		return &policy.Preview{
			Details: details,
			Blocked: fmt.Sprintf("None of the %s (by %s) matches a record of %s: there is nothing to delete.", plural(named, "named record", "named records"), a.Kind(), listLabel),
		}, nil
	}
	action := fmt.Sprintf("Delete %d of %d named records (by %s) from %s.", found, named, a.Kind(), listLabel)
	if n := len(unmatched); n > 0 {
		verb := "match"
		if n == 1 {
			verb = "matches"
		}
		action += fmt.Sprintf(" %s %s nothing.", plural(n, "identifier", "identifiers"), verb)
	}
	if affected != found {
		// A phone number can be on several records, and a record can have
		// several of the named phone numbers.
		action += fmt.Sprintf(" They are on %s in all.", plural(affected, "record", "records"))
	}
	if contacts != nil {
		action += " Contacts: " + contactList(contacts) + "."
	}
	if a.Kind() == schemas.ByPhoneNumber && len(unmatched) > 0 {
		action += " No record has " + strings.Join(unmatched, ", ") + "."
	}
	action += " Not reversible through the API."
	return &policy.Preview{Action: action, Details: details, Snapshot: snapshot}, nil
}

// contact is a record as a delete_records preview names it.
func contact(r talkdesk.Record) map[string]any {
	nums := make([]string, 0, len(r.PhoneNumbers))
	for _, p := range r.PhoneNumbers {
		nums = append(nums, schemas.PhoneOut(p.PhoneNumber))
	}
	return map[string]any{"id": r.ID, "name": strings.TrimSpace(r.FirstName + " " + r.LastName), "phone_numbers": nums}
}

// contactList is "Ana Ruiz (+13035550100), ..." for at most 20 contacts.
func contactList(cs []map[string]any) string {
	parts := make([]string, 0, min(len(cs), 21))
	for i, c := range cs {
		if i == 20 {
			parts = append(parts, fmt.Sprintf("and %d more", len(cs)-20))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", c["name"], strings.Join(c["phone_numbers"].([]string), ", ")))
	}
	return strings.Join(parts, "; ")
}

// deleteRecordsByPhone deletes the records having any of the named numbers.
// The upstream matches numbers as stored, in whatever spelling the list
// has them: the server reads the list, matches the normalised numbers, and
// deletes the records it found by id, 100 at a time.
func deleteRecordsByPhone(ctx context.Context, c *talkdesk.Client, a schemas.DeleteRecordsArgs) (any, error) {
	keys := identifierKeys(a)
	hits := map[string]bool{}
	var ids []string
	complete, err := c.Records.Walk(ctx, a.RecordListID, previewRecordLimit, func(r talkdesk.Record) {
		matched := false
		for _, k := range recordKeys(schemas.ByPhoneNumber, r) {
			if _, named := keys[k]; named {
				hits[k], matched = true, true
			}
		}
		if matched {
			ids = append(ids, r.ID)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading the records to find the numbers: %w", err)
	}
	var unmatched []string
	for _, k := range a.PhoneNumbers {
		if !hits[k] {
			unmatched = append(unmatched, k)
		}
	}
	out := map[string]any{"record_list_id": a.RecordListID, "records_matched": len(ids)}
	if len(ids) == 0 {
		out["status"], out["message"] = "none deleted", "No record has any of the numbers: nothing was deleted."
	}
	deletedCount, errs, accepted := 0, 0, 0
	var failed []map[string]any
	for start := 0; start < len(ids); start += maxRecordsPerBulk {
		batch := ids[start:min(len(ids), start+maxRecordsPerBulk)]
		res, err := c.Records.Delete(ctx, a.RecordListID, schemas.DeleteRecordsArgs{IDs: batch}.Body())
		if err != nil {
			if deletedCount == 0 && start == 0 {
				return nil, err
			}
			out["status"] = "partly deleted"
			out["message"] = fmt.Sprintf("Deleted %d of the %d matched records, then: %v. The rest (record ids from %s on) were not deleted.", deletedCount, len(ids), err, batch[0])
			return out, nil
		}
		if res.TotalDeleted == nil && res.Accepted {
			accepted += len(batch)
		} else {
			deletedCount += deref(res.TotalDeleted)
		}
		errs += res.TotalErrors
		failed = append(failed, res.FailedRecords...)
	}
	switch {
	case accepted > 0 && accepted == len(ids):
		out["status"] = "accepted"
		out["message"] = fmt.Sprintf("Talkdesk accepted the deletion of the %d matched records and may still be carrying it out: list_records shows what is left.", accepted)
	case len(ids) > 0:
		out = bulkOutcome(&talkdesk.BulkResult{RecordListID: a.RecordListID, TotalErrors: errs, HasErrors: errs > 0, FailedRecords: failed}, "deleted", deletedCount, len(ids))
		out["records_matched"] = len(ids)
		if accepted > 0 {
			out["accepted"] = accepted
		}
	}
	if len(unmatched) > 0 {
		out["unmatched"] = unmatched
	}
	if !complete {
		out["note"] = fmt.Sprintf("Only the first %d records of the list were searched for the numbers.", previewRecordLimit)
	}
	return out, nil
}

// identifierKeys are the named identifiers as comparable strings.
func identifierKeys(a schemas.DeleteRecordsArgs) map[string]struct{} {
	keys := map[string]struct{}{}
	for _, k := range orderedKeys(a) {
		keys[k] = struct{}{}
	}
	return keys
}

func orderedKeys(a schemas.DeleteRecordsArgs) []string {
	switch a.Kind() {
	case schemas.ByPhoneNumber:
		return a.PhoneNumbers
	case schemas.ByExternalID:
		out := make([]string, 0, len(a.ExternalIDs))
		for _, e := range a.ExternalIDs {
			out = append(out, externalKey(e.ExternalProvider, e.ExternalID))
		}
		return out
	}
	return a.IDs
}

// recordKeys are the identifiers of kind under which r can be named.
func recordKeys(kind string, r talkdesk.Record) []string {
	switch kind {
	case schemas.ByPhoneNumber:
		out := make([]string, 0, len(r.PhoneNumbers))
		seen := map[string]bool{}
		for _, p := range r.PhoneNumbers {
			// Named numbers are E.164; stored ones as the list has them.
			n := schemas.PhoneOut(p.PhoneNumber)
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		return out
	case schemas.ByExternalID:
		if r.ExternalProvider == "" && r.ExternalID == "" {
			return nil
		}
		return []string{externalKey(r.ExternalProvider, r.ExternalID)}
	}
	return []string{r.ID}
}

func externalKey(provider, id string) string { return provider + "/" + id }

// maxRecordsPerBulk is the most records one bulk call names (documented).
const maxRecordsPerBulk = 100
