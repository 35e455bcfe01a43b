package talkdesksim

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// bulkArray checks that v is an array of 1 to 100 items.
func bulkArray(v any, name string) ([]any, *apiError) {
	arr, ok := v.([]any)
	switch {
	case !ok:
		return nil, invalid(field{Name: name, Description: "must be an array"})
	case len(arr) == 0:
		return nil, invalid(field{Name: name, Description: "must have at least 1 item"})
	case len(arr) > maxBulk:
		return nil, invalid(field{Name: name, Description: fmt.Sprintf("must have at most %d items; got %d", maxBulk, len(arr))})
	}
	return arr, nil
}

// conflict says why rec cannot be in l (its unique identifier is taken by

func bulkLinks(base, listID string) map[string]any {
	return map[string]any{
		"self":        map[string]string{"href": listHref(base, listID) + "/records/bulks"},
		"record_list": map[string]string{"href": listHref(base, listID)},
	}
}

func (s *Sim) bulkCreate(w http.ResponseWriter, r *http.Request) *apiError {
	l, err := s.st.list(r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := readBody(r)
	if err != nil {
		return err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return invalid(field{Name: "body", Description: `must be an object {"records": [...]}`})
	}
	for k := range m {
		if k != "records" {
			return invalid(field{Name: k, Description: "is not a known field"})
		}
	}
	arr, err := bulkArray(m["records"], "records")
	if err != nil {
		return err
	}
	var fields []field
	recs := make([]*record, len(arr))
	for i, it := range arr {
		at := fmt.Sprintf("records[%d]", i)
		rm, ok := it.(map[string]any)
		if !ok {
			fields = append(fields, field{Name: at, Description: "must be an object"})
			continue
		}
		recs[i] = &record{}
		fields = append(fields, recordFields(rm, at+".", recs[i], false)...)
	}
	if fields != nil {
		return invalid(fields...)
	}
	now := s.opts.Now()
	var failed []map[string]any
	var added []*record
	for i, rec := range recs {
		if why := l.conflict(rec, added); why != "" {
			failed = append(failed, map[string]any{"index": i, "code": codeDuplicate, "message": why})
			continue
		}
		rec.id, rec.created, rec.modified = s.st.newID("2b7f5e90"), now, now
		added = append(added, rec)
	}
	l.records = append(l.records, added...)
	if len(added) > 0 {
		l.modified = now
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"record_list_id": l.id,
		"has_errors":     len(failed) > 0,
		"total_created":  len(added),
		"total_errors":   len(failed),
		"_links":         bulkLinks(requestBase(r), l.id),
		"_embedded":      map[string]any{"failed_records": nonNil(failed)},
	})
	return nil
}

var recordPath = regexp.MustCompile(`^/records/([^/]+)$`)

// bulkRequest reads what every bulk PATCH and DELETE starts with: the
// list named in the path and the array that is the whole body.
func (s *Sim) bulkRequest(r *http.Request) (*recordList, []any, *apiError) {
	l, err := s.st.list(r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	v, err := readBody(r)
	if err != nil {
		return nil, nil, err
	}
	arr, err := bulkArray(v, "body")
	if err != nil {
		return nil, nil, err
	}
	return l, arr, nil
}

func (s *Sim) bulkUpdate(w http.ResponseWriter, r *http.Request) *apiError {
	l, arr, err := s.bulkRequest(r)
	if err != nil {
		return err
	}
	type change struct {
		id     string
		fields map[string]any
	}
	var fields []field
	changes := make([]change, 0, len(arr))
	for i, it := range arr {
		at := fmt.Sprintf("[%d]", i)
		op, ok := it.(map[string]any)
		if !ok {
			fields = append(fields, field{Name: at, Description: "must be an object {op, path, value}"})
			continue
		}
		for k := range op {
			if k != "op" && k != "path" && k != "value" {
				fields = append(fields, field{Name: at + "." + k, Description: "is not a known field"})
			}
		}
		if op["op"] != "replace" {
			fields = append(fields, field{Name: at + ".op", Description: `must be "replace"`})
		}
		p, _ := op["path"].(string)
		match := recordPath.FindStringSubmatch(p)
		if match == nil {
			fields = append(fields, field{Name: at + ".path", Description: "must be /records/{record_id}"})
		}
		val, ok := op["value"].(map[string]any)
		if !ok || len(val) == 0 {
			fields = append(fields, field{Name: at + ".value", Description: "must be an object with the fields to change"})
			continue
		}
		fields = append(fields, recordFields(val, at+".value.", &record{}, true)...)
		if match != nil {
			changes = append(changes, change{id: match[1], fields: val})
		}
	}
	if fields != nil {
		return invalid(fields...)
	}
	now := s.opts.Now()
	var failed []map[string]any
	updated := 0
	for _, ch := range changes {
		var rec *record
		for _, x := range l.records {
			if x.id == ch.id {
				rec = x
			}
		}
		fail := func(code, msg string) {
			failed = append(failed, map[string]any{"id": ch.id, "code": code, "message": msg,
				"_links": map[string]any{"self": map[string]string{"href": listHref(requestBase(r), l.id) + "/records/" + ch.id}}})
		}
		if rec == nil {
			fail(codeNoRecord, "no record with this id in the list")
			continue
		}
		draft := *rec
		recordFields(ch.fields, "", &draft, true)
		if why := l.conflict(&draft, nil); why != "" {
			fail(codeDuplicate, why)
			continue
		}
		draft.modified = now
		*rec = draft
		updated++
	}
	if updated > 0 {
		l.modified = now
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"record_list_id": l.id,
		"has_errors":     len(failed) > 0,
		"total_updated":  updated,
		"total_errors":   len(failed),
		"_links":         bulkLinks(requestBase(r), l.id),
		"_embedded":      map[string]any{"failed_records": nonNil(failed)},
	})
	return nil
}

// identifierStyle names the keys of one bulk-delete item.
func identifierStyle(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, "+")
}

func (s *Sim) bulkDelete(w http.ResponseWriter, r *http.Request) *apiError {
	l, arr, err := s.bulkRequest(r)
	if err != nil {
		return err
	}
	allowed := map[string]bool{"id": true, "phone_number": true, "external_id+external_provider": true}
	style := ""
	var fields []field
	items := make([]map[string]any, 0, len(arr))
	for i, it := range arr {
		at := fmt.Sprintf("[%d]", i)
		m, ok := it.(map[string]any)
		if !ok {
			fields = append(fields, field{Name: at, Description: "must be an object"})
			continue
		}
		st := identifierStyle(m)
		switch {
		case !allowed[st]:
			fields = append(fields, field{Name: at, Description: "must be {id}, {phone_number} or {external_provider, external_id}"})
			continue
		case style == "":
			style = st
		case st != style:
			fields = append(fields, field{Name: at, Description: fmt.Sprintf("uses %s but the first item uses %s: one bulk delete uses one identifier type", st, style)})
			continue
		}
		for k, val := range m {
			if sv, ok := val.(string); !ok || sv == "" {
				fields = append(fields, field{Name: at + "." + k, Description: "must be a non-empty string"})
			}
		}
		items = append(items, m)
	}
	if fields != nil {
		return invalid(fields...)
	}
	base := requestBase(r)
	var failed []map[string]any
	deleted := 0
	for _, m := range items {
		match := func(rec *record) bool {
			switch style {
			case "id":
				return rec.id == m["id"]
			case "phone_number":
				for _, p := range rec.phones {
					if p.number == m["phone_number"] {
						return true
					}
				}
				return false
			}
			return rec.extProvider == m["external_provider"] && rec.extID == m["external_id"]
		}
		kept := l.records[:0]
		n := 0
		for _, rec := range l.records {
			if match(rec) {
				n++
				continue
			}
			kept = append(kept, rec)
		}
		l.records = kept
		if n == 0 {
			f := map[string]any{"message": "matches no record of the list"}
			for k, val := range m {
				f[k] = val
			}
			if id, ok := m["id"].(string); ok {
				f["_links"] = map[string]any{"self": map[string]string{"href": listHref(base, l.id) + "/records/" + id}}
			}
			failed = append(failed, f)
		}
		deleted += n
	}
	if deleted > 0 {
		l.modified = s.opts.Now()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"record_list_id": l.id,
		"has_errors":     len(failed) > 0,
		"total_deleted":  deleted,
		"total_errors":   len(failed),
		"_links":         bulkLinks(base, l.id),
		"_embedded":      map[string]any{"failed_records": nonNil(failed)},
	})
	return nil
}
