package talkdesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/convirza/convirza-mcp/schemas"
)

// Page is one HAL page of a collection.
type Page[T any] struct {
	Items      []T
	Total      int
	Count      int
	Page       int
	PerPage    int
	TotalPages int
	// Next is the absolute URL of the next page, from _links.next.href;
	// empty on the last page.
	Next string
}

// halPage is a page as the API sends it.
type halPage struct {
	Total      int                        `json:"total"`
	Count      int                        `json:"count"`
	Page       int                        `json:"page"`
	PerPage    int                        `json:"per_page"`
	TotalPages int                        `json:"total_pages"`
	Embedded   map[string]json.RawMessage `json:"_embedded"`
	Links      struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
}

// getPage fetches the page at u and reads the collection under
// _embedded.<key>.
func getPage[T any](ctx context.Context, c *Client, u, key string) (*Page[T], error) {
	var hp halPage
	if err := c.do(ctx, http.MethodGet, u, nil, &hp); err != nil {
		return nil, err
	}
	p := &Page[T]{Total: hp.Total, Count: hp.Count, Page: hp.Page, PerPage: hp.PerPage, TotalPages: hp.TotalPages, Items: []T{}}
	if raw, ok := hp.Embedded[key]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &p.Items); err != nil {
			return nil, malformed(http.MethodGet, pathOf(u), http.StatusOK, fmt.Errorf("_embedded.%s: %w", key, err))
		}
	}
	if hp.Links.Next != nil && hp.Links.Next.Href != "" {
		next, err := c.resolve(hp.Links.Next.Href)
		if err != nil {
			return nil, malformed(http.MethodGet, pathOf(u), http.StatusOK, err)
		}
		p.Next = next
	}
	return p, nil
}

func pageQuery(p schemas.HALPage) url.Values {
	q := url.Values{}
	if p.Page > 0 {
		q.Set("page", strconv.Itoa(p.Page))
	}
	if p.PerPage > 0 {
		q.Set("per_page", strconv.Itoa(p.PerPage))
	}
	return q
}

func listPath(id string) string { return "/record-lists/" + url.PathEscape(id) }

// RecordListsService calls the /record-lists endpoints.
type RecordListsService service

// List returns one page of record lists (GET /record-lists).
func (s *RecordListsService) List(ctx context.Context, p schemas.HALPage) (*Page[RecordList], error) {
	return getPage[RecordList](ctx, s.c, s.c.path("/record-lists", pageQuery(p)), "record_lists")
}

// Next returns the page after p by following its next link; nil on the
// last page.
func (s *RecordListsService) Next(ctx context.Context, p *Page[RecordList]) (*Page[RecordList], error) {
	if p.Next == "" {
		return nil, nil
	}
	return getPage[RecordList](ctx, s.c, p.Next, "record_lists")
}

// Get returns one record list (GET /record-lists/{id}).
func (s *RecordListsService) Get(ctx context.Context, id string) (*RecordList, error) {
	var out RecordList
	if err := s.c.do(ctx, http.MethodGet, s.c.path(listPath(id), nil), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Create makes an empty record list (POST /record-lists).
func (s *RecordListsService) Create(ctx context.Context, body schemas.RecordListCreate) (*RecordList, error) {
	var out RecordList
	if err := s.c.do(ctx, http.MethodPost, s.c.path("/record-lists", nil), body, &out); err != nil {
		return nil, err
	}
	if out.ID == "" {
		return nil, malformed(http.MethodPost, "/record-lists", http.StatusCreated, fmt.Errorf("no id in the answer"))
	}
	return &out, nil
}

// Delete deletes a record list and its records (DELETE /record-lists/{id}).
// goneAfterRetry reports a delete counted as done although its last answer
// was 404: an earlier attempt, whose answer was lost (dropped connection,
// 502, 503 or 504), most likely deleted the list, and a retry found it
// gone.
func (s *RecordListsService) Delete(ctx context.Context, id string) (goneAfterRetry bool, err error) {
	u := s.c.path(listPath(id), nil)
	resp, err := s.c.send(ctx, http.MethodDelete, u, nil)
	if err != nil {
		return false, err
	}
	if resp.GoneAfterRetry(http.MethodDelete) {
		return true, nil
	}
	return false, decode(http.MethodDelete, pathOf(u), resp, nil)
}

// RecordsService calls the /record-lists/{id}/records endpoints.
type RecordsService service

// List returns one page of a list's records (GET /record-lists/{id}/records).
func (s *RecordsService) List(ctx context.Context, listID string, p schemas.HALPage) (*Page[Record], error) {
	return getPage[Record](ctx, s.c, s.c.path(listPath(listID)+"/records", pageQuery(p)), "records")
}

// Next returns the page after p by following its next link; nil on the
// last page.
func (s *RecordsService) Next(ctx context.Context, p *Page[Record]) (*Page[Record], error) {
	if p.Next == "" {
		return nil, nil
	}
	return getPage[Record](ctx, s.c, p.Next, "records")
}

// Walk calls fn with every record of a list, page by page, following the
// next links, until the last page or until limit records were seen. It
// reports whether it saw them all.
func (s *RecordsService) Walk(ctx context.Context, listID string, limit int, fn func(Record)) (complete bool, err error) {
	p, err := s.List(ctx, listID, schemas.HALPage{Page: 1, PerPage: schemas.MaxPerPage})
	seen, visited := 0, map[string]bool{}
	for err == nil && p != nil {
		for _, r := range p.Items {
			if seen >= limit {
				return false, nil
			}
			fn(r)
			seen++
		}
		if p.Next == "" {
			return true, nil
		}
		switch {
		case visited[p.Next]:
			return false, malformed(http.MethodGet, pathOf(p.Next), http.StatusOK, fmt.Errorf("the next links go round in circles"))
		case len(p.Items) == 0:
			return false, malformed(http.MethodGet, pathOf(p.Next), http.StatusOK, fmt.Errorf("an empty page links to a next page"))
		}
		visited[p.Next] = true
		p, err = s.Next(ctx, p)
	}
	return false, err
}

// bulkAnswer is the answer of the bulk endpoints.
type bulkAnswer struct {
	BulkResult
	Embedded struct {
		FailedRecords []map[string]any `json:"failed_records"`
	} `json:"_embedded"`
}

func (s *RecordsService) bulk(ctx context.Context, method, listID string, body any) (*BulkResult, error) {
	u := s.c.path(listPath(listID)+"/records/bulks", nil)
	resp, err := s.c.send(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	var out bulkAnswer
	// A bulk delete may answer 202 (documented beside 200): taken, perhaps
	// not done yet, with or without a body. It is a success whatever the
	// body; the body's figures are kept when it has readable ones.
	accepted := method == http.MethodDelete && resp.Status == http.StatusAccepted
	if accepted {
		var sent bulkAnswer
		if json.Unmarshal(resp.Body, &sent) == nil {
			out = sent
		}
	} else if err := decode(method, pathOf(u), resp, &out); err != nil {
		return nil, err
	}
	res := out.BulkResult
	res.Accepted = accepted
	if res.RecordListID == "" {
		res.RecordListID = listID
	}
	for _, f := range out.Embedded.FailedRecords {
		delete(f, "_links")
		res.FailedRecords = append(res.FailedRecords, f)
	}
	return &res, nil
}

// Create adds up to 100 records (POST /record-lists/{id}/records/bulks).
// Records the API refused one by one are in FailedRecords.
func (s *RecordsService) Create(ctx context.Context, listID string, records []schemas.RecordInput) (*BulkResult, error) {
	return s.bulk(ctx, http.MethodPost, listID, struct {
		Records []schemas.RecordInput `json:"records"`
	}{records})
}

// Update changes up to 100 records (PATCH /record-lists/{id}/records/bulks,
// a JSON-Patch array of replace operations).
func (s *RecordsService) Update(ctx context.Context, listID string, ops []schemas.RecordPatchOp) (*BulkResult, error) {
	return s.bulk(ctx, http.MethodPatch, listID, ops)
}

// Delete deletes up to 100 records named by one kind of identifier
// (DELETE /record-lists/{id}/records/bulks). Identifiers that match nothing
// are in FailedRecords, not an error. A 202 answer is a success with
// Accepted set (the totals only if the answer had them). The request is
// never repeated: a lost answer is an unknown outcome.
func (s *RecordsService) Delete(ctx context.Context, listID string, ids []schemas.RecordIdentifier) (*BulkResult, error) {
	return s.bulk(ctx, http.MethodDelete, listID, ids)
}

// BulkResult is the answer of a bulk create, update or delete. Exactly one
// of the totals is set, by the operation. FailedRecords are the items that
// were not done, as the API describes them (links left out).
type BulkResult struct {
	RecordListID  string           `json:"record_list_id"`
	HasErrors     bool             `json:"has_errors"`
	TotalCreated  *int             `json:"total_created,omitempty"`
	TotalUpdated  *int             `json:"total_updated,omitempty"`
	TotalDeleted  *int             `json:"total_deleted,omitempty"`
	TotalErrors   int              `json:"total_errors"`
	FailedRecords []map[string]any `json:"failed_records,omitempty"`
	// Accepted reports a bulk delete answered 202: Talkdesk took it and
	// may still be carrying it out. Its totals are set only if the answer
	// had them.
	Accepted bool `json:"accepted,omitempty"`
}

// RecordList is a record list as the API returns it.
type RecordList struct {
	ID                   string `json:"id"`
	Name                 string `json:"name"`
	UniqueIdentifierType string `json:"unique_identifier_type,omitempty"`
	Status               string `json:"status,omitempty"`
	RecordsCount         int    `json:"records_count"`
	Teams                []any  `json:"teams,omitempty"`
	CreatedAt            string `json:"created_at,omitempty"`
	UpdatedAt            string `json:"updated_at,omitempty"`
}

// Record is a record as the API returns it.
type Record struct {
	ID               string                `json:"id"`
	RecordListID     string                `json:"record_list_id,omitempty"`
	PhoneNumbers     []schemas.RecordPhone `json:"phone_numbers"`
	FirstName        string                `json:"first_name,omitempty"`
	LastName         string                `json:"last_name,omitempty"`
	Timezone         string                `json:"timezone,omitempty"`
	Priority         int                   `json:"priority,omitempty"`
	ExternalProvider string                `json:"external_provider,omitempty"`
	ExternalID       string                `json:"external_id,omitempty"`
	ExternalURL      string                `json:"external_url,omitempty"`
	SyncExternalID   *bool                 `json:"sync_external_id,omitempty"`
	ExtraData        map[string]any        `json:"extra_data,omitempty"`
	CreatedAt        string                `json:"created_at,omitempty"`
	UpdatedAt        string                `json:"updated_at,omitempty"`
}
