package sandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// webhook is an HTTP callback on an org unit, inherited by its sub-groups.
// Field names are a simulator choice ([I] in API-NOTES).
type webhook struct {
	id                int64
	Name, URL, Method string
	Type              string // pre_call | post_call
	ouID              int64
	params            []webhookParam
	Status            string
	created, modified time.Time
}

type webhookParam struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (s *Server) routeWebhooks(mux *http.ServeMux) {
	mux.HandleFunc("GET /v3/webhooks/list", s.api(roleAdmin, s.listWebhooks))
	mux.HandleFunc("GET /v3/webhooks/{id}", s.api(roleAdmin, s.getWebhook))
	mux.HandleFunc("POST /v3/webhooks", s.api(roleAdmin, s.createWebhook))
	mux.HandleFunc("PUT /v3/webhooks/{id}", s.api(roleAdmin, s.replaceWebhook))
	mux.HandleFunc("PATCH /v3/webhooks/{id}", s.api(roleAdmin, s.patchWebhook))
	mux.HandleFunc("DELETE /v3/webhooks/{id}", s.api(roleAdmin, s.deleteWebhook))
}

func (s *Server) webhookJSON(h *webhook) map[string]any {
	params := append([]webhookParam{}, h.params...)
	out := map[string]any{
		"webhook_id":       h.id,
		"webhook_name":     h.Name,
		"webhook_url":      h.URL,
		"method":           h.Method,
		"webhook_type":     h.Type,
		"org_unit_id":      h.ouID,
		"static_params":    params,
		"status":           h.Status,
		"webhook_created":  iso(h.created),
		"webhook_modified": iso(h.modified),
	}
	if g := s.st.units[h.ouID]; g != nil {
		out["org_unit_name"] = g.Name
	}
	return out
}

func (st *state) webhookIDs() []int64 {
	ids := make([]int64, 0, len(st.webhooks))
	for id := range st.webhooks {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// listWebhooks answers the webhooks of a unit and its sub-groups. The docs
// give limit a minimum of 0 and no maximum or default: 0 means the default
// page, of 100 by the simulator's choice ([I]).
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	ou, e1 := qInt(r, "org_unit_id", c.ouID, 1, 0)
	limit, e2 := qInt(r, "limit", 100, 0, 0)
	offset, e3 := qInt(r, "offset", 0, 0, 0)
	status, e4 := qEnum(r, "status", "active", "inactive", "deleted")
	if err := collect(e1, e2, e3, e4); err != nil {
		return err
	}
	if limit == 0 {
		limit = 100
	}
	if _, err := s.unitInScope(c, ou); err != nil {
		return err
	}
	name := strings.ToLower(r.URL.Query().Get("webhook_name"))
	filter := strings.ToLower(r.URL.Query().Get("filter"))
	var items []map[string]any
	for _, id := range s.st.webhookIDs() {
		h := s.st.webhooks[id]
		switch {
		case !s.st.within(ou, h.ouID):
		case status == "" && h.Status == "deleted", status != "" && h.Status != status:
		case name != "" && !strings.Contains(strings.ToLower(h.Name), name):
		case filter != "" && !strings.Contains(strings.ToLower(h.Name+" "+h.URL), filter):
		default:
			items = append(items, s.webhookJSON(h))
		}
	}
	writeOK(w, "", map[string]any{"webhooks": paginate(items, offset, limit), "total": len(items)})
	return nil
}

// webhookInScope returns a webhook the caller may see (deleted ones too).
func (s *Server) webhookInScope(r *http.Request, c caller) (*webhook, *apiError) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	h := s.st.webhooks[id]
	if h == nil || !s.st.within(c.ouID, h.ouID) {
		return nil, errf(http.StatusNotFound, "Webhook %d not found", id)
	}
	return h, nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	h, err := s.webhookInScope(r, c)
	if err != nil {
		return err
	}
	writeOK(w, "", s.webhookJSON(h))
	return nil
}

var editableWebhookFields = []string{"webhook_name", "webhook_url", "method", "webhook_type", "org_unit_id", "static_params", "status"}

// webhookFields reads the editable fields present in a body into h.
func (s *Server) webhookFields(c caller, m map[string]any, h *webhook, required []string) *apiError {
	var errs []*fieldError
	for _, f := range required {
		if _, ok := m[f]; !ok {
			errs = append(errs, &fieldError{Field: f, Message: "is required"})
		}
	}
	enum := func(name string, dst *string, allowed ...string) {
		v, ok, e := bStr(m, name)
		switch {
		case e != nil:
			errs = append(errs, e)
		case !ok:
		case !slices.Contains(allowed, v):
			errs = append(errs, &fieldError{Field: name, Message: "must be one of " + strings.Join(allowed, ", ")})
		default:
			*dst = v
		}
	}
	if v, ok, e := bStr(m, "webhook_name"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if v = strings.TrimSpace(v); v == "" || len(v) > 255 {
			errs = append(errs, &fieldError{Field: "webhook_name", Message: "must be 1 to 255 characters"})
		} else {
			h.Name = v
		}
	}
	if v, ok, e := bStr(m, "webhook_url"); e != nil {
		errs = append(errs, e)
	} else if ok {
		u, perr := url.Parse(v)
		if perr != nil || u.Scheme != "https" || u.Host == "" || len(v) > 2048 {
			errs = append(errs, &fieldError{Field: "webhook_url", Message: "must be an absolute https:// URL of at most 2048 characters"})
		} else {
			h.URL = v
		}
	}
	enum("method", &h.Method, "GET", "POST")
	enum("webhook_type", &h.Type, "pre_call", "post_call")
	enum("status", &h.Status, "active", "inactive")
	if raw, ok := m["static_params"]; ok {
		params, e := webhookParams(raw)
		if e != nil {
			errs = append(errs, e)
		} else {
			h.params = params
		}
	}
	if v, ok, e := bInt(m, "org_unit_id"); e != nil {
		errs = append(errs, e)
	} else if ok {
		g := s.st.units[v]
		switch {
		case g == nil || !s.st.within(c.ouID, v):
			errs = append(errs, &fieldError{Field: "org_unit_id", Message: fmt.Sprintf("group %d does not exist or is outside your hierarchy", v)})
		case g.Status == "deleted":
			errs = append(errs, &fieldError{Field: "org_unit_id", Message: fmt.Sprintf("group %d is deleted", v)})
		default:
			h.ouID = v
		}
	}
	return collect(errs...)
}

func webhookParams(raw any) ([]webhookParam, *fieldError) {
	bad := &fieldError{Field: "static_params", Message: "must be an array of at most 20 {name, value} objects with unique names of 1 to 100 characters and string values of at most 1000"}
	if raw == nil {
		return nil, nil
	}
	arr, ok := raw.([]any)
	if !ok || len(arr) > 20 {
		return nil, bad
	}
	out := make([]webhookParam, 0, len(arr))
	seen := map[string]bool{}
	for _, it := range arr {
		obj, ok := it.(map[string]any)
		if !ok || len(obj) != 2 {
			return nil, bad
		}
		n, _ := obj["name"].(string)
		v, okV := obj["value"].(string)
		if n == "" || len(n) > 100 || !okV || len(v) > 1000 || seen[n] {
			return nil, bad
		}
		seen[n] = true
		out = append(out, webhookParam{Name: n, Value: v})
	}
	return out, nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	m, err := readBody(r)
	if err != nil {
		return err
	}
	now := s.opts.Now()
	h := &webhook{Method: "POST", Status: "active", created: now, modified: now}
	if err := s.webhookFields(c, m, h, []string{"webhook_name", "webhook_url", "webhook_type", "org_unit_id"}); err != nil {
		return err
	}
	h.id = s.st.nextWebhook
	s.st.nextWebhook++
	s.st.webhooks[h.id] = h
	writeOK(w, "Webhook created successfully", map[string]any{"webhookId": h.id})
	return nil
}

func (s *Server) replaceWebhook(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.editWebhook(w, r, c, editableWebhookFields)
}

func (s *Server) patchWebhook(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.editWebhook(w, r, c, nil)
}

func (s *Server) editWebhook(w http.ResponseWriter, r *http.Request, c caller, required []string) *apiError {
	h, err := s.webhookInScope(r, c)
	if err != nil {
		return err
	}
	if h.Status == "deleted" {
		return errf(http.StatusNotFound, "Webhook %d not found", h.id)
	}
	m, err := readBody(r)
	if err != nil {
		return err
	}
	if len(m) == 0 {
		return invalid(fieldError{Field: "body", Message: "give at least one field to change"})
	}
	draft := *h
	if err := s.webhookFields(c, m, &draft, required); err != nil {
		return err
	}
	draft.modified = s.opts.Now()
	*h = draft
	writeOK(w, "Webhook updated successfully", nil)
	return nil
}

// deleteWebhook soft-deletes: the webhook stops firing for its unit and
// every sub-group, and can no longer be edited.
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	h, err := s.webhookInScope(r, c)
	if err != nil {
		return err
	}
	if h.Status == "deleted" {
		return errf(http.StatusNotFound, "Webhook %d not found", h.id)
	}
	h.Status, h.modified = "deleted", s.opts.Now()
	writeOK(w, "Webhook deleted successfully", nil)
	return nil
}
