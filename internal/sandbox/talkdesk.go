package sandbox

// The Talkdesk side of the simulator: the Record Lists API under /talkdesk
// and its identity service's token endpoint under /talkdesk-id, restated
// from the documentation (api-docs/API-NOTES.md Part B and the bulk-delete
// page): HAL pages and links, the {code,message,description,fields} error
// body, the client-credentials grant with 10-minute tokens and a scope, and
// bulk create, update and delete of at most 100 items.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Demo Talkdesk account and client credentials.
const (
	TalkdeskAccount      = "summit-demo"
	TalkdeskClientID     = "sbx-talkdesk-client"
	TalkdeskClientSecret = "sbx-talkdesk-secret"
	// Ids of the two seeded record lists.
	SpringCampaignListID = "1ec0a7d4-5b1e-4c2a-9f00-000000000001"
	WinBackListID        = "1ec0a7d4-5b1e-4c2a-9f00-000000000002"
)

const (
	talkdeskPrefix    = "/talkdesk"
	talkdeskTokenPath = "/talkdesk-id/oauth/token"
	talkdeskScope     = "record-lists:manage"
	tdMaxBulk         = 100
	tdMaxPerPage      = 100
	tdDefaultPerPage  = 50
)

// Error codes of the simulated API (the documented form: a string of digits).
const (
	tdCodeInvalid      = "0331001"
	tdCodeUnauthorized = "0331002"
	tdCodeForbidden    = "0331003"
	tdCodeNotFound     = "0331004"
	tdCodeDuplicate    = "0331005"
	tdCodeNoRecord     = "0331006"
)

type tdPhone struct {
	number, kind string
}

type tdRecord struct {
	id                string
	phones            []tdPhone
	first, last, tz   string
	priority          int64 // 0: unset
	extProvider       string
	extID, extURL     string
	syncExtID         *bool
	extra             map[string]any
	created, modified time.Time
}

type tdList struct {
	id, name          string
	uniqueType        string // PHONE_NUMBER, EXTERNAL or NOTHING
	status            string
	created, modified time.Time
	records           []*tdRecord
}

type tdGrant struct {
	exp   time.Time
	scope []string
}

type tdState struct {
	lists  map[string]*tdList
	order  []string // list ids, oldest first
	tokens map[string]*tdGrant
	issued int
	nextID int
}

// tdField is one entry of an error body's "fields".
type tdField struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// tdError is a failure written as the documented error body.
type tdError struct {
	status      int
	code        string
	message     string
	description string
	fields      []tdField
}

func tdInvalid(fields ...tdField) *tdError {
	return &tdError{status: http.StatusBadRequest, code: tdCodeInvalid, message: "Invalid request", description: "The request has invalid fields", fields: fields}
}

func tdNotFound(what string) *tdError {
	return &tdError{status: http.StatusNotFound, code: tdCodeNotFound, message: "Resource not found", description: what + " not found"}
}

func writeTDError(w http.ResponseWriter, e *tdError) {
	fields := e.fields
	if fields == nil {
		fields = []tdField{}
	}
	writeJSON(w, e.status, map[string]any{"code": e.code, "message": e.message, "description": e.description, "fields": fields})
}

func (s *Server) routeTalkdesk(mux *http.ServeMux) {
	mux.HandleFunc("POST "+talkdeskTokenPath, s.tdToken)
	p := talkdeskPrefix
	mux.HandleFunc("GET "+p+"/record-lists", s.tdAPI(s.tdListLists))
	mux.HandleFunc("POST "+p+"/record-lists", s.tdAPI(s.tdCreateList))
	mux.HandleFunc("GET "+p+"/record-lists/{id}", s.tdAPI(s.tdGetList))
	mux.HandleFunc("DELETE "+p+"/record-lists/{id}", s.tdAPI(s.tdDeleteList))
	mux.HandleFunc("GET "+p+"/record-lists/{id}/records", s.tdAPI(s.tdListRecords))
	mux.HandleFunc("POST "+p+"/record-lists/{id}/records/bulks", s.tdAPI(s.tdBulkCreate))
	mux.HandleFunc("PATCH "+p+"/record-lists/{id}/records/bulks", s.tdAPI(s.tdBulkUpdate))
	mux.HandleFunc("DELETE "+p+"/record-lists/{id}/records/bulks", s.tdAPI(s.tdBulkDelete))
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeTDError(w, &tdError{status: http.StatusNotFound, code: tdCodeNotFound, message: "Not found", description: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
	}
	mux.HandleFunc(p+"/", notFound)
	mux.HandleFunc("/talkdesk-id/", notFound)
}

// tdToken is the client-credentials grant: HTTP Basic client
// authentication, a form body, 10-minute tokens limited to the scopes asked.
func (s *Server) tdToken(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		oauthErr(http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "unreadable form body")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		// RFC 6749 2.3.1: both are form-encoded before Basic encoding.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if !ok || id != TalkdeskClientID || secret != TalkdeskClientSecret {
		w.Header().Set("WWW-Authenticate", `Basic realm="talkdesk"`)
		oauthErr(http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported; use client_credentials", gt))
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	for _, sc := range scopes {
		if sc != talkdeskScope {
			oauthErr(http.StatusBadRequest, "invalid_scope", fmt.Sprintf("scope %q is not granted to this client", sc))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := "sbx_td_" + randomHex(24)
	s.td.tokens[tok] = &tdGrant{exp: s.opts.Now().Add(s.opts.TalkdeskTokenTTL), scope: scopes}
	s.td.issued++
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int(s.opts.TalkdeskTokenTTL / time.Second),
		"scope":        strings.Join(scopes, " "),
	})
}

type tdHandler func(w http.ResponseWriter, r *http.Request) *tdError

// tdAPI checks the bearer token (known, unexpired, with the scope) and runs
// h under the lock.
func (s *Server) tdAPI(h tdHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		defer s.mu.Unlock()
		g := s.td.tokens[tok]
		if !ok || g == nil || !s.opts.Now().Before(g.exp) {
			writeTDError(w, &tdError{status: http.StatusUnauthorized, code: tdCodeUnauthorized, message: "Unauthorized", description: "Invalid or expired access token"})
			return
		}
		has := false
		for _, sc := range g.scope {
			has = has || sc == talkdeskScope
		}
		if !has {
			writeTDError(w, &tdError{status: http.StatusForbidden, code: tdCodeForbidden, message: "Forbidden", description: "The access token lacks the scope " + talkdeskScope})
			return
		}
		if err := h(w, r); err != nil {
			writeTDError(w, err)
		}
	}
}

// ExpireTalkdeskTokens makes every issued Talkdesk token invalid, as if
// their ten minutes had passed.
func (s *Server) ExpireTalkdeskTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.td.tokens {
		delete(s.td.tokens, k)
	}
}

// TalkdeskTokensIssued counts the Talkdesk tokens granted so far.
func (s *Server) TalkdeskTokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.td.issued
}

// TalkdeskList describes a record list for tests.
type TalkdeskList struct {
	ID, Name string
	Records  int
}

// TalkdeskLists returns every record list, oldest first.
func (s *Server) TalkdeskLists() []TalkdeskList {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []TalkdeskList
	for _, id := range s.td.order {
		l := s.td.lists[id]
		out = append(out, TalkdeskList{ID: l.id, Name: l.name, Records: len(l.records)})
	}
	return out
}

// TalkdeskPhones returns the first phone number of every record of a list,
// in list order (nil for an unknown list).
func (s *Server) TalkdeskPhones(listID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.td.lists[listID]
	if l == nil {
		return nil
	}
	out := []string{}
	for _, rec := range l.records {
		if len(rec.phones) > 0 {
			out = append(out, rec.phones[0].number)
		}
	}
	return out
}

// TalkdeskSnapshot renders every list and record as JSON, so a test can
// check that a refused call changed nothing.
func (s *Server) TalkdeskSnapshot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []any
	for _, id := range s.td.order {
		l := s.td.lists[id]
		recs := make([]any, 0, len(l.records))
		for _, rec := range l.records {
			recs = append(recs, recordJSON("", l.id, rec))
		}
		out = append(out, map[string]any{"list": listJSON("", l), "records": recs})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func (st *tdState) newID(prefix string) string {
	st.nextID++
	return fmt.Sprintf("%s-0000-4000-8000-%012d", prefix, st.nextID)
}

func (st *tdState) list(id string) (*tdList, *tdError) {
	l := st.lists[id]
	if l == nil {
		return nil, tdNotFound("Record list " + id)
	}
	return l, nil
}

// JSON renderings. base is scheme://host of the request, for links.

func listHref(base, id string) string { return base + talkdeskPrefix + "/record-lists/" + id }

func listJSON(base string, l *tdList) map[string]any {
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

func recordJSON(base, listID string, rec *tdRecord) map[string]any {
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

// tdPaging reads page (1-based) and per_page (at most 100).
func tdPaging(r *http.Request) (page, perPage int, err *tdError) {
	var fields []tdField
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
			fields = append(fields, tdField{Name: name, Description: d})
		}
		return n
	}
	page = read("page", 1, 0)
	perPage = read("per_page", tdDefaultPerPage, tdMaxPerPage)
	if fields != nil {
		return 0, 0, tdInvalid(fields...)
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

func (s *Server) tdListLists(w http.ResponseWriter, r *http.Request) *tdError {
	page, perPage, err := tdPaging(r)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(s.td.order))
	for _, id := range s.td.order {
		items = append(items, listJSON(requestBase(r), s.td.lists[id]))
	}
	halPage(w, r, talkdeskPrefix+"/record-lists", "record_lists", items, page, perPage)
	return nil
}

func (s *Server) tdGetList(w http.ResponseWriter, r *http.Request) *tdError {
	l, err := s.td.list(r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listJSON(requestBase(r), l))
	return nil
}

func (s *Server) tdCreateList(w http.ResponseWriter, r *http.Request) *tdError {
	v, err := tdReadBody(r)
	if err != nil {
		return err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return tdInvalid(tdField{Name: "body", Description: "must be a JSON object"})
	}
	var fields []tdField
	name, hasName := m["name"].(string)
	if !hasName || strings.TrimSpace(name) == "" {
		fields = append(fields, tdField{Name: "name", Description: "is required and must be a non-empty string"})
	}
	status := "ACCEPTED"
	for k, val := range m {
		switch k {
		case "name":
		case "csv_metadata":
			if _, isObj := val.(map[string]any); !isObj {
				fields = append(fields, tdField{Name: "csv_metadata", Description: "must be an object"})
			}
			status = "UPLOADED"
		default:
			fields = append(fields, tdField{Name: k, Description: "is not a known field"})
		}
	}
	if fields != nil {
		return tdInvalid(sortFields(fields)...)
	}
	now := s.opts.Now()
	l := &tdList{id: s.td.newID("1ec0a7d4"), name: name, uniqueType: "NOTHING", status: status, created: now, modified: now}
	s.td.lists[l.id] = l
	s.td.order = append(s.td.order, l.id)
	writeJSON(w, http.StatusCreated, listJSON(requestBase(r), l))
	return nil
}

func (s *Server) tdDeleteList(w http.ResponseWriter, r *http.Request) *tdError {
	l, err := s.td.list(r.PathValue("id"))
	if err != nil {
		return err
	}
	delete(s.td.lists, l.id)
	for i, id := range s.td.order {
		if id == l.id {
			s.td.order = append(s.td.order[:i], s.td.order[i+1:]...)
			break
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) tdListRecords(w http.ResponseWriter, r *http.Request) *tdError {
	l, err := s.td.list(r.PathValue("id"))
	if err != nil {
		return err
	}
	page, perPage, err := tdPaging(r)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(l.records))
	for _, rec := range l.records {
		items = append(items, recordJSON(requestBase(r), l.id, rec))
	}
	halPage(w, r, talkdeskPrefix+"/record-lists/"+l.id+"/records", "records", items, page, perPage)
	return nil
}

// tdReadBody decodes a JSON body, keeping numbers exact.
func tdReadBody(r *http.Request) (any, *tdError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, tdInvalid(tdField{Name: "body", Description: "could not be read"})
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, tdInvalid(tdField{Name: "body", Description: "must be JSON"})
	}
	return v, nil
}

var phoneTypes = map[string]bool{"HOME": true, "OFFICE": true, "MOBILE": true, "EXTRA_1": true, "EXTRA_2": true, "EXTRA_3": true}

// tdRecordFields checks a record object and copies its fields into rec.
// partial (a bulk update) checks only the fields present; otherwise
// phone_numbers, first_name and last_name are required.
func tdRecordFields(m map[string]any, at string, rec *tdRecord, partial bool) []tdField {
	var fields []tdField
	bad := func(name, desc string) { fields = append(fields, tdField{Name: at + name, Description: desc}) }
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
		var phones []tdPhone
		for i, it := range arr {
			pat := fmt.Sprintf("phone_numbers[%d].", i)
			pm, ok := it.(map[string]any)
			if !ok {
				bad(pat[:len(pat)-1], "must be an object")
				continue
			}
			var p tdPhone
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

func sortFields(f []tdField) []tdField {
	sort.SliceStable(f, func(i, j int) bool { return f[i].Name < f[j].Name })
	return f
}

// bulkArray checks that v is an array of 1 to 100 items.
func bulkArray(v any, name string) ([]any, *tdError) {
	arr, ok := v.([]any)
	switch {
	case !ok:
		return nil, tdInvalid(tdField{Name: name, Description: "must be an array"})
	case len(arr) == 0:
		return nil, tdInvalid(tdField{Name: name, Description: "must have at least 1 item"})
	case len(arr) > tdMaxBulk:
		return nil, tdInvalid(tdField{Name: name, Description: fmt.Sprintf("must have at most %d items; got %d", tdMaxBulk, len(arr))})
	}
	return arr, nil
}

// conflict says why rec cannot be in l (its unique identifier is taken by
// another record), or "".
func (l *tdList) conflict(rec *tdRecord, others []*tdRecord) string {
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

func bulkLinks(base, listID string) map[string]any {
	return map[string]any{
		"self":        map[string]string{"href": listHref(base, listID) + "/records/bulks"},
		"record_list": map[string]string{"href": listHref(base, listID)},
	}
}

func (s *Server) tdBulkCreate(w http.ResponseWriter, r *http.Request) *tdError {
	l, err := s.td.list(r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := tdReadBody(r)
	if err != nil {
		return err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return tdInvalid(tdField{Name: "body", Description: `must be an object {"records": [...]}`})
	}
	for k := range m {
		if k != "records" {
			return tdInvalid(tdField{Name: k, Description: "is not a known field"})
		}
	}
	arr, err := bulkArray(m["records"], "records")
	if err != nil {
		return err
	}
	var fields []tdField
	recs := make([]*tdRecord, len(arr))
	for i, it := range arr {
		at := fmt.Sprintf("records[%d]", i)
		rm, ok := it.(map[string]any)
		if !ok {
			fields = append(fields, tdField{Name: at, Description: "must be an object"})
			continue
		}
		recs[i] = &tdRecord{}
		fields = append(fields, tdRecordFields(rm, at+".", recs[i], false)...)
	}
	if fields != nil {
		return tdInvalid(fields...)
	}
	now := s.opts.Now()
	var failed []map[string]any
	var added []*tdRecord
	for i, rec := range recs {
		if why := l.conflict(rec, added); why != "" {
			failed = append(failed, map[string]any{"index": i, "code": tdCodeDuplicate, "message": why})
			continue
		}
		rec.id, rec.created, rec.modified = s.td.newID("2b7f5e90"), now, now
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

// tdBulkRequest reads what every bulk PATCH and DELETE starts with: the
// list named in the path and the array that is the whole body.
func (s *Server) tdBulkRequest(r *http.Request) (*tdList, []any, *tdError) {
	l, err := s.td.list(r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	v, err := tdReadBody(r)
	if err != nil {
		return nil, nil, err
	}
	arr, err := bulkArray(v, "body")
	if err != nil {
		return nil, nil, err
	}
	return l, arr, nil
}

func (s *Server) tdBulkUpdate(w http.ResponseWriter, r *http.Request) *tdError {
	l, arr, err := s.tdBulkRequest(r)
	if err != nil {
		return err
	}
	type change struct {
		id     string
		fields map[string]any
	}
	var fields []tdField
	changes := make([]change, 0, len(arr))
	for i, it := range arr {
		at := fmt.Sprintf("[%d]", i)
		op, ok := it.(map[string]any)
		if !ok {
			fields = append(fields, tdField{Name: at, Description: "must be an object {op, path, value}"})
			continue
		}
		for k := range op {
			if k != "op" && k != "path" && k != "value" {
				fields = append(fields, tdField{Name: at + "." + k, Description: "is not a known field"})
			}
		}
		if op["op"] != "replace" {
			fields = append(fields, tdField{Name: at + ".op", Description: `must be "replace"`})
		}
		p, _ := op["path"].(string)
		match := recordPath.FindStringSubmatch(p)
		if match == nil {
			fields = append(fields, tdField{Name: at + ".path", Description: "must be /records/{record_id}"})
		}
		val, ok := op["value"].(map[string]any)
		if !ok || len(val) == 0 {
			fields = append(fields, tdField{Name: at + ".value", Description: "must be an object with the fields to change"})
			continue
		}
		fields = append(fields, tdRecordFields(val, at+".value.", &tdRecord{}, true)...)
		if match != nil {
			changes = append(changes, change{id: match[1], fields: val})
		}
	}
	if fields != nil {
		return tdInvalid(fields...)
	}
	now := s.opts.Now()
	var failed []map[string]any
	updated := 0
	for _, ch := range changes {
		var rec *tdRecord
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
			fail(tdCodeNoRecord, "no record with this id in the list")
			continue
		}
		draft := *rec
		tdRecordFields(ch.fields, "", &draft, true)
		if why := l.conflict(&draft, nil); why != "" {
			fail(tdCodeDuplicate, why)
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

func (s *Server) tdBulkDelete(w http.ResponseWriter, r *http.Request) *tdError {
	l, arr, err := s.tdBulkRequest(r)
	if err != nil {
		return err
	}
	allowed := map[string]bool{"id": true, "phone_number": true, "external_id+external_provider": true}
	style := ""
	var fields []tdField
	items := make([]map[string]any, 0, len(arr))
	for i, it := range arr {
		at := fmt.Sprintf("[%d]", i)
		m, ok := it.(map[string]any)
		if !ok {
			fields = append(fields, tdField{Name: at, Description: "must be an object"})
			continue
		}
		st := identifierStyle(m)
		switch {
		case !allowed[st]:
			fields = append(fields, tdField{Name: at, Description: "must be {id}, {phone_number} or {external_provider, external_id}"})
			continue
		case style == "":
			style = st
		case st != style:
			fields = append(fields, tdField{Name: at, Description: fmt.Sprintf("uses %s but the first item uses %s: one bulk delete uses one identifier type", st, style)})
			continue
		}
		for k, val := range m {
			if sv, ok := val.(string); !ok || sv == "" {
				fields = append(fields, tdField{Name: at + "." + k, Description: "must be a non-empty string"})
			}
		}
		items = append(items, m)
	}
	if fields != nil {
		return tdInvalid(fields...)
	}
	base := requestBase(r)
	var failed []map[string]any
	deleted := 0
	for _, m := range items {
		match := func(rec *tdRecord) bool {
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

func nonNil(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}

// seedTalkdesk builds the two demo record lists: "Spring Campaign" (records
// unique by phone number, five records) and "Win-back Q3" (records unique by
// Salesforce id, 120 records: more than one page).
func seedTalkdesk() *tdState {
	st := &tdState{lists: map[string]*tdList{}, tokens: map[string]*tdGrant{}}
	base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	spring := &tdList{id: SpringCampaignListID, name: "Spring Campaign", uniqueType: "PHONE_NUMBER", status: "ACCEPTED", created: base, modified: base.Add(2 * time.Hour)}
	people := []struct{ first, last, phone, kind, tz string }{
		{"Ava", "Thompson", "+13035550101", "MOBILE", "America/Denver"},
		{"Ben", "Carter", "+13035550102", "HOME", "America/Denver"},
		{"Chloe", "Nguyen", "+13035550103", "MOBILE", "America/Chicago"},
		{"Daniel", "Ortiz", "+13035550104", "OFFICE", "America/New_York"},
		{"Ella", "Fischer", "+13035550105", "MOBILE", "America/Los_Angeles"},
	}
	for i, p := range people {
		t := base.Add(time.Duration(i+1) * time.Minute)
		rec := &tdRecord{id: st.newID("2b7f5e90"), phones: []tdPhone{{p.phone, p.kind}}, first: p.first, last: p.last, tz: p.tz,
			priority: int64(5 + i%3), extra: map[string]any{"campaign": "spring"}, created: t, modified: t}
		if i == 2 {
			rec.phones = append(rec.phones, tdPhone{"+13035550113", "OFFICE"})
		}
		spring.records = append(spring.records, rec)
	}
	winback := &tdList{id: WinBackListID, name: "Win-back Q3", uniqueType: "EXTERNAL", status: "ACCEPTED", created: base.Add(24 * time.Hour), modified: base.Add(26 * time.Hour)}
	firsts := []string{"Liam", "Mia", "Noah", "Zoe", "Omar", "Iris", "Hugo", "Lena", "Ravi", "Nora"}
	lasts := []string{"Baker", "Silva", "Kowalski", "Haddad", "Moreau", "Tanaka", "Okafor", "Larsen", "Rossi", "Quinn", "Patel", "Novak"}
	sync := true
	for i := 0; i < 120; i++ {
		t := winback.created.Add(time.Duration(i) * time.Second)
		winback.records = append(winback.records, &tdRecord{
			id:     st.newID("2b7f5e90"),
			phones: []tdPhone{{fmt.Sprintf("+1720555%04d", 1000+i), "MOBILE"}},
			first:  firsts[i%len(firsts)], last: lasts[i%len(lasts)], tz: "America/Denver",
			extProvider: "salesforce", extID: fmt.Sprintf("003DL%010dAAA", 4200+i),
			extURL: fmt.Sprintf("https://summit-demo.my.salesforce.com/003DL%010dAAA", 4200+i), syncExtID: &sync,
			created: t, modified: t,
		})
	}
	for _, l := range []*tdList{spring, winback} {
		st.lists[l.id] = l
		st.order = append(st.order, l.id)
	}
	return st
}
