// Package talkdesksim simulates Talkdesk's Record Lists API under /talkdesk
// and its identity service's token endpoint under /talkdesk-id, restated
// from the documentation (api-docs/API-NOTES.md Part B and the bulk-delete
// page): HAL pages and links, the {code,message,description,fields} error
// body, the client-credentials grant with 10-minute tokens and a scope, and
// bulk create, update and delete of at most 100 items.
//
// Package sandbox mounts it beside the Convirza simulator; like the rest of
// the sandbox it imports no API client, so it restates the wire format
// independently.
package talkdesksim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Demo Talkdesk account and client credentials.
const (
	Account  = "summit-demo"
	ClientID = "sbx-talkdesk-client"
	// ClientSecret has the characters form-encoding would change, as
	// real secrets do.
	ClientSecret = "sbx-talkdesk+secret/0="
	// Ids of the two seeded record lists.
	SpringCampaignListID = "1ec0a7d4-5b1e-4c2a-9f00-000000000001"
	WinBackListID        = "1ec0a7d4-5b1e-4c2a-9f00-000000000002"
)

// Where the simulator answers, and the scope its tokens carry.
const (
	Prefix         = "/talkdesk"                // the Record Lists API base path
	TokenPath      = "/talkdesk-id/oauth/token" // the token endpoint
	Scope          = "record-lists:manage"
	maxBulk        = 100
	maxPerPage     = 100
	defaultPerPage = 50
)

// Error codes of the simulated API (the documented form: a string of digits).
const (
	codeInvalid      = "0331001"
	codeUnauthorized = "0331002"
	codeForbidden    = "0331003"
	codeNotFound     = "0331004"
	codeDuplicate    = "0331005"
	codeNoRecord     = "0331006"
)

// Options tune a simulator.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// TokenTTL defaults to the documented 10 minutes.
	TokenTTL time.Duration
}

// Sim is the simulated Record Lists API. It is safe for concurrent use.
type Sim struct {
	opts Options

	mu sync.Mutex
	st *state
}

// New returns a simulator seeded with the demo record lists.
func New(opts Options) *Sim {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 10 * time.Minute
	}
	return &Sim{opts: opts, st: seed()}
}

// Register mounts the API under Prefix and the token endpoint at TokenPath
// on mux; any other path under them answers 404 in the API's error form.
func (s *Sim) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+TokenPath, s.token)
	p := Prefix
	mux.HandleFunc("GET "+p+"/record-lists", s.authorized(s.listLists))
	mux.HandleFunc("POST "+p+"/record-lists", s.authorized(s.createList))
	mux.HandleFunc("GET "+p+"/record-lists/{id}", s.authorized(s.getList))
	mux.HandleFunc("DELETE "+p+"/record-lists/{id}", s.authorized(s.deleteList))
	mux.HandleFunc("GET "+p+"/record-lists/{id}/records", s.authorized(s.listRecords))
	mux.HandleFunc("POST "+p+"/record-lists/{id}/records/bulks", s.authorized(s.bulkCreate))
	mux.HandleFunc("PATCH "+p+"/record-lists/{id}/records/bulks", s.authorized(s.bulkUpdate))
	mux.HandleFunc("DELETE "+p+"/record-lists/{id}/records/bulks", s.authorized(s.bulkDelete))
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, code: codeNotFound, message: "Not found", description: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
	}
	mux.HandleFunc(p+"/", notFound)
	mux.HandleFunc("/talkdesk-id/", notFound)
}

// token is the client-credentials grant: HTTP Basic client
// authentication, a form body, 10-minute tokens limited to the scopes asked.
func (s *Sim) token(w http.ResponseWriter, r *http.Request) {
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
	// Talkdesk documents Authorization: Basic base64(client_id:client_secret),
	// the two as they are. RFC 6749 2.3.1 would form-encode them first,
	// which this provider does not undo: a secret with +, / or = sent that
	// way is a wrong secret.
	id, secret, ok := r.BasicAuth()
	if !ok || id != ClientID || secret != ClientSecret {
		desc := "Client authentication failed"
		if ok && id == url.QueryEscape(ClientID) && secret == url.QueryEscape(ClientSecret) {
			desc += ": client_id and client_secret were form-encoded; send them as they are"
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="talkdesk"`)
		oauthErr(http.StatusUnauthorized, "invalid_client", desc)
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported; use client_credentials", gt))
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	for _, sc := range scopes {
		if sc != Scope {
			oauthErr(http.StatusBadRequest, "invalid_scope", fmt.Sprintf("scope %q is not granted to this client", sc))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := "sbx_td_" + randomHex(24)
	s.st.tokens[tok] = &grant{exp: s.opts.Now().Add(s.opts.TokenTTL), scope: scopes}
	s.st.issued++
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int(s.opts.TokenTTL / time.Second),
		"scope":        strings.Join(scopes, " "),
	})
}

type handler func(w http.ResponseWriter, r *http.Request) *apiError

// authorized checks the bearer token (known, unexpired, with the scope) and runs
// h under the lock.
func (s *Sim) authorized(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		defer s.mu.Unlock()
		g := s.st.tokens[tok]
		if !ok || g == nil || !s.opts.Now().Before(g.exp) {
			writeError(w, &apiError{status: http.StatusUnauthorized, code: codeUnauthorized, message: "Unauthorized", description: "Invalid or expired access token"})
			return
		}
		has := false
		for _, sc := range g.scope {
			has = has || sc == Scope
		}
		if !has {
			writeError(w, &apiError{status: http.StatusForbidden, code: codeForbidden, message: "Forbidden", description: "The access token lacks the scope " + Scope})
			return
		}
		if err := h(w, r); err != nil {
			writeError(w, err)
		}
	}
}

// ExpireTokens makes every issued token invalid, as if
// their ten minutes had passed.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.st.tokens {
		delete(s.st.tokens, k)
	}
}

// TokensIssued counts the tokens granted so far.
func (s *Sim) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.issued
}

// List describes a record list for tests.
type List struct {
	ID, Name string
	Records  int
}

// Lists returns every record list, oldest first.
func (s *Sim) Lists() []List {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []List
	for _, id := range s.st.order {
		l := s.st.lists[id]
		out = append(out, List{ID: l.id, Name: l.name, Records: len(l.records)})
	}
	return out
}

// Phones returns the first phone number of every record of a list,
// in list order (nil for an unknown list).
func (s *Sim) Phones(listID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.st.lists[listID]
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

// Snapshot renders every list and record as JSON, so a test can
// check that a refused call changed nothing.
func (s *Sim) Snapshot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []any
	for _, id := range s.st.order {
		l := s.st.lists[id]
		recs := make([]any, 0, len(l.records))
		for _, rec := range l.records {
			recs = append(recs, recordJSON("", l.id, rec))
		}
		out = append(out, map[string]any{"list": listJSON("", l), "records": recs})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// AddRecord adds a record with these phone numbers, stored exactly as
// given (a list may hold numbers in any spelling), to a list; false for an
// unknown list.
func (s *Sim) AddRecord(listID, first, last string, phones ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.st.lists[listID]
	if l == nil {
		return false
	}
	now := s.opts.Now()
	rec := &record{id: s.st.newID("2b7f5e90"), first: first, last: last, created: now, modified: now}
	for _, p := range phones {
		rec.phones = append(rec.phones, phone{p, "MOBILE"})
	}
	l.records = append(l.records, rec)
	return true
}
