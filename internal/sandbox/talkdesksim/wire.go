package talkdesksim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// field is one entry of an error body's "fields".
type field struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// apiError is a failure written as the documented error body.
type apiError struct {
	status      int
	code        string
	message     string
	description string
	fields      []field
}

func invalid(fields ...field) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeInvalid, message: "Invalid request", description: "The request has invalid fields", fields: fields}
}

func notFound(what string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeNotFound, message: "Resource not found", description: what + " not found"}
}

func writeError(w http.ResponseWriter, e *apiError) {
	fields := e.fields
	if fields == nil {
		fields = []field{}
	}
	writeJSON(w, e.status, map[string]any{"code": e.code, "message": e.message, "description": e.description, "fields": fields})
}

// JSON renderings. base is scheme://host of the request, for links.

func listHref(base, id string) string { return base + Prefix + "/record-lists/" + id }

func listJSON(base string, l *recordList) map[string]any {
	return map[string]any{
		"id":                     l.id,
		"name":                   l.name,
		"unique_identifier_type": l.uniqueType,
		"status":                 l.status,
		"records_count":          len(l.records),
		"teams":                  []any{},
		"created_at":             iso(l.created),
		"updated_at":             iso(l.modified),
		"_links":                 map[string]any{"self": map[string]string{"href": listHref(base, l.id)}},
	}
}

func recordJSON(base, listID string, rec *record) map[string]any {
	phones := make([]map[string]string, 0, len(rec.phones))
	for _, p := range rec.phones {
		ph := map[string]string{"phone_number": p.number}
		if p.kind != "" {
			ph["phone_type"] = p.kind
		}
		phones = append(phones, ph)
	}
	out := map[string]any{
		"id":             rec.id,
		"record_list_id": listID,
		"phone_numbers":  phones,
		"first_name":     rec.first,
		"last_name":      rec.last,
		"created_at":     iso(rec.created),
		"updated_at":     iso(rec.modified),
		"_links": map[string]any{
			"self":        map[string]string{"href": listHref(base, listID) + "/records/" + rec.id},
			"record_list": map[string]string{"href": listHref(base, listID)},
		},
	}
	opt := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	opt("timezone", rec.tz)
	opt("external_provider", rec.extProvider)
	opt("external_id", rec.extID)
	opt("external_url", rec.extURL)
	if rec.priority != 0 {
		out["priority"] = rec.priority
	}
	if rec.syncExtID != nil {
		out["sync_external_id"] = *rec.syncExtID
	}
	if rec.extra != nil {
		out["extra_data"] = rec.extra
	}
	return out
}

func requestBase(r *http.Request) string { return "http://" + r.Host }

// paging reads page (1-based) and per_page (at most 100).
func paging(r *http.Request) (page, perPage int, err *apiError) {
	var fields []field
	read := func(name string, def, hi int) int {
		v := r.URL.Query().Get(name)
		if v == "" {
			return def
		}
		n, e := strconv.Atoi(v)
		if e != nil || n < 1 || (hi > 0 && n > hi) {
			d := "must be an integer of at least 1"
			if hi > 0 {
				d = fmt.Sprintf("must be an integer between 1 and %d", hi)
			}
			fields = append(fields, field{Name: name, Description: d})
		}
		return n
	}
	page = read("page", 1, 0)
	perPage = read("per_page", defaultPerPage, maxPerPage)
	if fields != nil {
		return 0, 0, invalid(fields...)
	}
	return page, perPage, nil
}

// halPage writes one page of a collection with its links: self, first,
// last, prev (not on the first page) and next (not on the last).
func halPage(w http.ResponseWriter, r *http.Request, path, key string, items []map[string]any, page, perPage int) {
	total := len(items)
	totalPages := (total + perPage - 1) / perPage
	start := min((page-1)*perPage, total)
	end := min(start+perPage, total)
	pageItems := items[start:end]
	if pageItems == nil {
		pageItems = []map[string]any{}
	}
	href := func(p int) map[string]string {
		return map[string]string{"href": fmt.Sprintf("%s%s?page=%d&per_page=%d", requestBase(r), path, p, perPage)}
	}
	last := max(totalPages, 1)
	links := map[string]any{"self": href(page), "first": href(1), "last": href(last)}
	if page > 1 {
		links["prev"] = href(min(page-1, last))
	}
	if page < totalPages {
		links["next"] = href(page + 1)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"total":       total,
		"count":       len(pageItems),
		"page":        page,
		"per_page":    perPage,
		"total_pages": totalPages,
		"_embedded":   map[string]any{key: pageItems},
		"_links":      links,
	})
}

// readBody decodes a JSON body, keeping numbers exact.
func readBody(r *http.Request) (any, *apiError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, invalid(field{Name: "body", Description: "could not be read"})
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, invalid(field{Name: "body", Description: "must be JSON"})
	}
	return v, nil
}

func nonNil(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
