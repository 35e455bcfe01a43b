package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// adSource is a marketing channel calls are attributed to. Field names are
// a simulator choice ([I] in API-NOTES).
type adSource struct {
	id      int64
	Name    string
	ouID    int64
	Status  string
	created time.Time
}

// tag labels calls. System tags belong to the account (its top unit) and
// show in every unit's list; user tags belong to one unit. callCount is how
// many calls carry the tag.
type tag struct {
	id                int64
	Name, Type        string // Type: user | system
	ouID              int64
	Status            string // active | inactive
	callCount         int
	created, modified time.Time
}

func (s *Server) routeAccount(mux *http.ServeMux) {
	mux.HandleFunc("GET /v3/auth/profile", s.api(roleReadOnly, s.profile))
	mux.HandleFunc("GET /v3/industry", s.api(roleStandard, s.listIndustries))
	mux.HandleFunc("GET /v3/ad-source", s.api(roleStandard, s.listAdSources))
	mux.HandleFunc("GET /v3/tag/{org_unit_id}", s.api(roleStandard, s.listTags))
	mux.HandleFunc("POST /v3/tag", s.api(roleStandard, s.createTag))
	mux.HandleFunc("PUT /v3/tag", s.api(roleStandard, s.updateTag))
	mux.HandleFunc("DELETE /v3/tag", s.api(roleStandard, s.deleteTags))
}

// profile answers GET /auth/profile, which the endpoints reference does not
// list (assumed; the client asks it only when it was given tokens instead of
// logging in): modelled as the logged-in user (named as in the login answer) and
// their org unit (named as in the groups list).
func (s *Server) profile(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	data := map[string]any{
		"user": map[string]any{
			"user_id":     c.id,
			"email":       c.Email,
			"first_name":  c.FirstName,
			"last_name":   c.LastName,
			"role_id":     c.roleID,
			"role":        roleNames[c.roleID],
			"org_unit_id": c.ouID,
			"status":      c.Status,
			"timezone":    c.Timezone,
		},
	}
	if g := s.st.units[c.ouID]; g != nil {
		data["org_unit"] = s.groupJSON(g)
	}
	writeOK(w, "", data)
	return nil
}

func (s *Server) listIndustries(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	id, e1 := qInt(r, "industry_id", 0, 1, 0)
	if err := collect(e1); err != nil {
		return err
	}
	name := strings.ToLower(r.URL.Query().Get("industry_name"))
	group := strings.ToLower(r.URL.Query().Get("industry_group"))
	out := []industry{}
	for _, in := range s.st.industries {
		switch {
		case id != 0 && in.ID != id:
		case name != "" && !strings.Contains(strings.ToLower(in.Name), name):
		case group != "" && !strings.Contains(strings.ToLower(in.Group), group):
		default:
			out = append(out, in)
		}
	}
	writeOK(w, "", map[string]any{"industries": out, "total": len(out)})
	return nil
}

// listAdSources answers the ad sources of the caller's unit, its sub-groups
// and its ancestors (account-wide sources live on the top unit).
func (s *Server) listAdSources(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	out := []map[string]any{}
	for _, a := range s.st.adSources {
		if !s.st.within(c.ouID, a.ouID) && !s.st.within(a.ouID, c.ouID) {
			continue
		}
		out = append(out, map[string]any{
			"ad_source_id":      a.id,
			"ad_source_name":    a.Name,
			"org_unit_id":       a.ouID,
			"status":            a.Status,
			"ad_source_created": iso(a.created),
		})
	}
	writeOK(w, "", map[string]any{"ad_sources": out, "total": len(out)})
	return nil
}

func tagJSON(t *tag) map[string]any {
	return map[string]any{
		"tag_id":       t.id,
		"tag_name":     t.Name,
		"tag_type":     t.Type,
		"org_unit_id":  t.ouID,
		"status":       t.Status,
		"call_count":   t.callCount,
		"tag_created":  iso(t.created),
		"tag_modified": iso(t.modified),
	}
}

// tagsOf returns the tags a unit's list shows: its own user tags and the
// account's system tags, in id order.
func (s *Server) tagsOf(ou int64) []*tag {
	top := int64(0)
	if g := s.st.units[ou]; g != nil {
		top = g.topID
	}
	ids := make([]int64, 0, len(s.st.tags))
	for id := range s.st.tags {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []*tag
	for _, id := range ids {
		t := s.st.tags[id]
		if t.Type == "user" && t.ouID == ou || t.Type == "system" && t.ouID == top {
			out = append(out, t)
		}
	}
	return out
}

func (s *Server) listTags(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	ou, err := pathID(r, "org_unit_id")
	if err != nil {
		return err
	}
	// The docs give limit no maximum or default: 100 is the simulator's ([I]).
	limit, e1 := qInt(r, "limit", 100, 1, 0)
	offset, e2 := qInt(r, "offset", 0, 0, 0)
	kind, e3 := qEnum(r, "tag_type", "user", "system", "all")
	status, e4 := qEnum(r, "status", "active", "inactive")
	sortBy, e5 := qEnum(r, "sort", "tag_name", "call_count")
	dir, e6 := qEnum(r, "direction", "ASC", "DESC")
	if err := collect(e1, e2, e3, e4, e5, e6); err != nil {
		return err
	}
	if _, err := s.unitInScope(c, ou); err != nil {
		return err
	}
	if status == "" {
		status = "active"
	}
	search := strings.ToLower(r.URL.Query().Get("search"))
	var list []*tag
	for _, t := range s.tagsOf(ou) {
		switch {
		case kind != "" && kind != "all" && t.Type != kind:
		case t.Status != status:
		case search != "" && !strings.Contains(strings.ToLower(t.Name), search):
		default:
			list = append(list, t)
		}
	}
	less := func(a, b *tag) bool { return strings.ToLower(a.Name) < strings.ToLower(b.Name) }
	if sortBy == "call_count" {
		less = func(a, b *tag) bool { return a.callCount < b.callCount }
	}
	sort.SliceStable(list, func(i, j int) bool {
		if dir == "DESC" {
			return less(list[j], list[i])
		}
		return less(list[i], list[j])
	})
	items := make([]map[string]any, 0, len(list))
	for _, t := range paginate(list, offset, limit) {
		items = append(items, tagJSON(t))
	}
	writeOK(w, "", map[string]any{"tags": items, "total": len(list)})
	return nil
}

// tagName checks a tag name and that no other tag the unit sees has it.
func (s *Server) tagName(m map[string]any, ou, self int64) (string, *apiError) {
	v, ok, e := bStr(m, "tag_name")
	switch {
	case e != nil:
		return "", invalid(*e)
	case !ok:
		return "", invalid(fieldError{Field: "tag_name", Message: "is required"})
	}
	if v = strings.TrimSpace(v); v == "" || len(v) > 100 {
		return "", invalid(fieldError{Field: "tag_name", Message: "must be 1 to 100 characters"})
	}
	for _, t := range s.tagsOf(ou) {
		if t.id != self && strings.EqualFold(t.Name, v) {
			return "", invalid(fieldError{Field: "tag_name", Message: fmt.Sprintf("tag %d is already named %q", t.id, t.Name)})
		}
	}
	return v, nil
}

func (s *Server) createTag(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	m, err := readBody(r)
	if err != nil {
		return err
	}
	ou, err := reqInt(m, "org_unit_id")
	if err != nil {
		return err
	}
	if g := s.st.units[ou]; g == nil || !s.st.within(c.ouID, ou) || g.Status == "deleted" {
		return invalid(fieldError{Field: "org_unit_id", Message: fmt.Sprintf("group %d does not exist or is outside your hierarchy", ou)})
	}
	name, err := s.tagName(m, ou, 0)
	if err != nil {
		return err
	}
	now := s.opts.Now()
	t := &tag{id: s.st.nextTag, Name: name, Type: "user", ouID: ou, Status: "active", created: now, modified: now}
	s.st.nextTag++
	s.st.tags[t.id] = t
	writeOK(w, "Tag created successfully", map[string]any{"tagId": t.id})
	return nil
}

// tagInScope finds a tag the caller may see.
func (s *Server) tagInScope(c caller, id int64) *tag {
	t := s.st.tags[id]
	if t == nil || !s.st.within(c.ouID, t.ouID) && !s.st.within(t.ouID, c.ouID) {
		return nil
	}
	return t
}

// updateTag is PUT /tag: the tag is named in the body, and being a PUT it
// takes every editable field (tag_name, status).
func (s *Server) updateTag(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	m, err := readBody(r)
	if err != nil {
		return err
	}
	id, err := reqInt(m, "tag_id")
	if err != nil {
		return err
	}
	t := s.tagInScope(c, id)
	if t == nil {
		return errf(http.StatusNotFound, "Tag %d not found", id)
	}
	if t.Type == "system" {
		return errf(http.StatusBadRequest, "Tag %d %q is a system tag and cannot be changed", id, t.Name)
	}
	name, err := s.tagName(m, t.ouID, t.id)
	if err != nil {
		return err
	}
	status, ok, e := bStr(m, "status")
	switch {
	case e != nil:
		return invalid(*e)
	case !ok:
		return invalid(fieldError{Field: "status", Message: "is required"})
	case status != "active" && status != "inactive":
		return invalid(fieldError{Field: "status", Message: "must be active or inactive"})
	}
	t.Name, t.Status, t.modified = name, status, s.opts.Now()
	writeOK(w, "Tag updated successfully", nil)
	return nil
}

// deleteTags is DELETE /tag with {"tag_ids": [...]} (and optionally the
// org_unit_id they must belong to). All or nothing: an unknown id, a system
// tag or a tag of another unit fails the whole request. Tags are removed,
// not soft-deleted (their status has no "deleted").
func (s *Server) deleteTags(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	m, err := readBody(r)
	if err != nil {
		return err
	}
	raw, ok := m["tag_ids"].([]any)
	if !ok || len(raw) == 0 || len(raw) > 100 {
		return invalid(fieldError{Field: "tag_ids", Message: "must be an array of 1 to 100 tag ids"})
	}
	ou, hasOU, e := bInt(m, "org_unit_id")
	if e != nil {
		return invalid(*e)
	}
	var del []*tag
	seen := map[int64]bool{}
	for i := range raw {
		id, _, e := bInt(map[string]any{"id": raw[i]}, "id")
		if e != nil || id < 1 {
			return invalid(fieldError{Field: fmt.Sprintf("tag_ids[%d]", i), Message: "must be a positive integer"})
		}
		t := s.tagInScope(c, id)
		switch {
		case t == nil:
			return errf(http.StatusNotFound, "Tag %d not found", id)
		case t.Type == "system":
			return errf(http.StatusBadRequest, "Tag %d %q is a system tag and cannot be deleted", id, t.Name)
		case hasOU && t.ouID != ou:
			return invalid(fieldError{Field: fmt.Sprintf("tag_ids[%d]", i), Message: fmt.Sprintf("tag %d belongs to org unit %d, not %d", id, t.ouID, ou)})
		}
		if !seen[id] {
			seen[id] = true
			del = append(del, t)
		}
	}
	for _, t := range del {
		delete(s.st.tags, t.id)
	}
	writeOK(w, fmt.Sprintf("%d tag(s) deleted successfully", len(del)), nil)
	return nil
}
