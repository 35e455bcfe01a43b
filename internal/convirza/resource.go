package convirza

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// resource is one REST collection of the v3 API with its standard verbs, so
// each service declares paths and types, not plumbing.
type resource[T any] struct {
	c *Client
	// path is the collection, e.g. "/webhooks"; items are path + "/:id".
	path string
	// listPath is where the list lives when it is not path (e.g. "/webhooks/list").
	listPath string
	// listKey names the array in a list answer's data (e.g. "webhooks");
	// empty when data is the array itself.
	listKey string
}

// List is one page of a list answer.
type List[T any] struct {
	Items []T
	Total int
}

func (r resource[T]) itemPath(id any) string { return fmt.Sprintf("%s/%v", r.path, id) }

// list fetches one page. A total missing from the answer is the page length.
func (r resource[T]) list(ctx context.Context, q url.Values) (*List[T], Meta, error) {
	p := r.listPath
	if p == "" {
		p = r.path
	}
	var raw json.RawMessage
	meta, err := r.c.do(ctx, http.MethodGet, p, q, nil, &raw)
	if err != nil {
		return nil, meta, err
	}
	out, err := decodeList[T](raw, r.listKey)
	if err != nil {
		return nil, meta, malformed(http.MethodGet, p, 200, meta.RequestID, err)
	}
	return out, meta, nil
}

func decodeList[T any](raw json.RawMessage, key string) (*List[T], error) {
	out := &List[T]{Items: []T{}}
	if key == "" {
		if err := json.Unmarshal(raw, &out.Items); err != nil {
			return nil, err
		}
		out.Total = len(out.Items)
		return out, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		// Some endpoints answer the bare array.
		if err2 := json.Unmarshal(raw, &out.Items); err2 == nil {
			out.Total = len(out.Items)
			return out, nil
		}
		return nil, err
	}
	if items, ok := obj[key]; ok && string(items) != "null" {
		if err := json.Unmarshal(items, &out.Items); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	out.Total = len(out.Items)
	if t, ok := obj["total"]; ok {
		var n json.Number
		if err := json.Unmarshal(t, &n); err == nil {
			if v, err := n.Int64(); err == nil {
				out.Total = int(v)
			}
		} else {
			var s string
			if json.Unmarshal(t, &s) == nil {
				if err := json.Unmarshal([]byte(s), &n); err == nil {
					if v, err := n.Int64(); err == nil {
						out.Total = int(v)
					}
				}
			}
		}
	}
	return out, nil
}

func (r resource[T]) get(ctx context.Context, id any) (*T, Meta, error) {
	var out T
	meta, err := r.c.do(ctx, http.MethodGet, r.itemPath(id), nil, nil, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

// create posts body and returns the new id from the answer's data, which the
// API names in camelCase after the resource ({"userId": 1}, {"orgUnitId": 2}).
func (r resource[T]) create(ctx context.Context, body any) (int64, Meta, error) {
	var data map[string]json.RawMessage
	meta, err := r.c.do(ctx, http.MethodPost, r.path, nil, body, &data)
	if err != nil {
		return 0, meta, err
	}
	id, err := newID(data)
	if err != nil {
		return 0, meta, malformed(http.MethodPost, r.path, 200, meta.RequestID, err)
	}
	return id, meta, nil
}

// newID finds the id in a create answer: the only key ending in "Id"/"_id"
// or named "id".
func newID(data map[string]json.RawMessage) (int64, error) {
	for k, v := range data {
		if k == "id" || strings.HasSuffix(k, "Id") || strings.HasSuffix(k, "_id") {
			var n json.Number
			if err := json.Unmarshal(v, &n); err != nil {
				var s string
				if json.Unmarshal(v, &s) != nil {
					continue
				}
				n = json.Number(s)
			}
			if id, err := n.Int64(); err == nil && id > 0 {
				return id, nil
			}
		}
	}
	return 0, errors.New("no new id in the answer")
}

func (r resource[T]) replace(ctx context.Context, id any, body any) (Meta, error) {
	return r.c.do(ctx, http.MethodPut, r.itemPath(id), nil, body, nil)
}

func (r resource[T]) update(ctx context.Context, id any, body any) (Meta, error) {
	return r.c.do(ctx, http.MethodPatch, r.itemPath(id), nil, body, nil)
}

func (r resource[T]) delete(ctx context.Context, id any) (Meta, error) {
	return r.c.do(ctx, http.MethodDelete, r.itemPath(id), nil, nil, nil)
}

// Records are the calls of one resource kept by id, with a list filtered
// by F: list, get, create (body C), replace (PUT, body R), update (PATCH,
// body P) and delete. The users, webhooks, routes and voice agents
// services are Records of their types.
type Records[T, F, C, R, P any] struct {
	r resource[T]
	// fillID sets a record's id from the path when the answer leaves it out.
	fillID func(*T, int64)
}

// List returns the records matching the filter (GET <list path>).
func (s *Records[T, F, C, R, P]) List(ctx context.Context, f F) (*List[T], error) {
	out, _, err := s.r.list(ctx, Query(f))
	return out, err
}

// Get returns one record (GET <path>/:id).
func (s *Records[T, F, C, R, P]) Get(ctx context.Context, id int64) (*T, error) {
	out, _, err := s.r.get(ctx, id)
	if err == nil && s.fillID != nil {
		s.fillID(out, id)
	}
	return out, err
}

// Create makes a record (POST <path>) and returns its id.
func (s *Records[T, F, C, R, P]) Create(ctx context.Context, body C) (int64, Meta, error) {
	return s.r.create(ctx, body)
}

// Replace sets every editable field (PUT <path>/:id).
func (s *Records[T, F, C, R, P]) Replace(ctx context.Context, id int64, body R) (Meta, error) {
	return s.r.replace(ctx, id, body)
}

// Update changes some fields (PATCH <path>/:id).
func (s *Records[T, F, C, R, P]) Update(ctx context.Context, id int64, patch P) (Meta, error) {
	return s.r.update(ctx, id, patch)
}

// Delete deletes a record (DELETE <path>/:id); the API soft-deletes most.
func (s *Records[T, F, C, R, P]) Delete(ctx context.Context, id int64) (Meta, error) {
	return s.r.delete(ctx, id)
}
