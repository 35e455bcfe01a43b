package talkdesksim

import (
	"encoding/json"
	"fmt"
	"sort"
	"unicode/utf8"
)

var phoneTypes = map[string]bool{"HOME": true, "OFFICE": true, "MOBILE": true, "EXTRA_1": true, "EXTRA_2": true, "EXTRA_3": true}

// recordFields checks a record object and copies its fields into rec.
// partial (a bulk update) checks only the fields present; otherwise
// phone_numbers, first_name and last_name are required.
func recordFields(m map[string]any, at string, rec *record, partial bool) []field {
	var fields []field
	bad := func(name, desc string) { fields = append(fields, field{Name: at + name, Description: desc}) }
	str := func(name string, lo, hi int, dst *string) {
		v, present := m[name]
		if !present {
			if !partial && lo > 0 {
				bad(name, "is required")
			}
			return
		}
		s, ok := v.(string)
		n := utf8.RuneCountInString(s)
		switch {
		case !ok:
			bad(name, "must be a string")
		case n < lo || (hi > 0 && n > hi):
			if hi > 0 {
				bad(name, fmt.Sprintf("must be between %d and %d characters", lo, hi))
			} else {
				bad(name, fmt.Sprintf("must be at least %d character(s)", lo))
			}
		default:
			*dst = s
		}
	}
	for k := range m {
		switch k {
		case "phone_numbers", "first_name", "last_name", "timezone", "priority",
			"external_provider", "external_id", "external_url", "sync_external_id", "extra_data":
		default:
			bad(k, "is not a known field")
		}
	}
	if v, present := m["phone_numbers"]; !present {
		if !partial {
			bad("phone_numbers", "is required")
		}
	} else if arr, ok := v.([]any); !ok || len(arr) == 0 {
		bad("phone_numbers", "must be an array of at least 1 phone number")
	} else {
		var phones []phone
		for i, it := range arr {
			pat := fmt.Sprintf("phone_numbers[%d].", i)
			pm, ok := it.(map[string]any)
			if !ok {
				bad(pat[:len(pat)-1], "must be an object")
				continue
			}
			var p phone
			for k := range pm {
				if k != "phone_number" && k != "phone_type" {
					bad(pat+k, "is not a known field")
				}
			}
			if num, ok := pm["phone_number"].(string); !ok || num == "" || utf8.RuneCountInString(num) > 20 {
				bad(pat+"phone_number", "is required and must be between 1 and 20 characters")
			} else {
				p.number = num
			}
			if t, present := pm["phone_type"]; present {
				if ts, ok := t.(string); !ok || !phoneTypes[ts] {
					bad(pat+"phone_type", "must be one of HOME, OFFICE, MOBILE, EXTRA_1, EXTRA_2, EXTRA_3")
				} else {
					p.kind = ts
				}
			}
			phones = append(phones, p)
		}
		rec.phones = phones
	}
	str("first_name", 1, 80, &rec.first)
	str("last_name", 1, 80, &rec.last)
	if _, present := m["timezone"]; present {
		str("timezone", 1, 35, &rec.tz)
	}
	for _, k := range []string{"external_provider", "external_id", "external_url"} {
		if _, present := m[k]; present {
			dst := map[string]*string{"external_provider": &rec.extProvider, "external_id": &rec.extID, "external_url": &rec.extURL}[k]
			str(k, 1, 0, dst)
		}
	}
	if v, present := m["priority"]; present {
		n, ok := v.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil || i < 1 || i > 10 {
			bad("priority", "must be an integer between 1 and 10")
		} else {
			rec.priority = i
		}
	}
	if v, present := m["sync_external_id"]; present {
		if b, ok := v.(bool); !ok {
			bad("sync_external_id", "must be a boolean")
		} else {
			rec.syncExtID = &b
		}
	}
	if v, present := m["extra_data"]; present {
		if o, ok := v.(map[string]any); !ok {
			bad("extra_data", "must be an object")
		} else {
			rec.extra = o
		}
	}
	return fields
}

func sortFields(f []field) []field {
	sort.SliceStable(f, func(i, j int) bool { return f[i].Name < f[j].Name })
	return f
}

// another record), or "".
func (l *recordList) conflict(rec *record, others []*record) string {
	switch l.uniqueType {
	case "PHONE_NUMBER":
		for _, o := range append(l.records, others...) {
			if o == rec || o.id != "" && o.id == rec.id {
				continue
			}
			for _, p := range rec.phones {
				for _, q := range o.phones {
					if p.number == q.number {
						return fmt.Sprintf("phone number %s is already on another record of this list", p.number)
					}
				}
			}
		}
	case "EXTERNAL":
		if rec.extProvider == "" || rec.extID == "" {
			return "this list identifies records by external id: external_provider and external_id are required"
		}
		for _, o := range append(l.records, others...) {
			if o != rec && (o.id == "" || o.id != rec.id) && o.extProvider == rec.extProvider && o.extID == rec.extID {
				return fmt.Sprintf("external id %s/%s is already on another record of this list", rec.extProvider, rec.extID)
			}
		}
	}
	return ""
}
