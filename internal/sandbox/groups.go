package sandbox

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

func (s *Server) routeGroups(mux *http.ServeMux) {
	mux.HandleFunc("GET /v3/groups/list", s.api(roleAdmin, s.listGroups))
	mux.HandleFunc("GET /v3/groups/tree", s.api(roleAdmin, s.groupTree))
	mux.HandleFunc("GET /v3/groups/org-list/{ouid}", s.api(roleAdmin, s.orgList))
	mux.HandleFunc("GET /v3/groups/{id}", s.api(roleAdmin, s.getGroup))
	mux.HandleFunc("POST /v3/groups", s.api(roleAdmin, s.createGroup))
	mux.HandleFunc("PUT /v3/groups/{id}", s.api(roleAdmin, s.replaceGroup))
	mux.HandleFunc("PATCH /v3/groups/{id}", s.api(roleAdmin, s.patchGroup))
	mux.HandleFunc("DELETE /v3/groups/{id}", s.api(roleAdmin, s.deleteGroup))
}

func (s *Server) groupJSON(u *orgUnit) map[string]any {
	return map[string]any{
		"org_unit_id":        u.id,
		"org_unit_ext_id":    u.ExtID,
		"org_unit_name":      u.Name,
		"org_unit_parent_id": u.parentID,
		"top_ou_id":          u.topID,
		"org_unit_status":    u.Status,
		"billing_id":         u.billingID,
		"address":            u.Address,
		"city":               u.City,
		"state":              u.State,
		"zip":                u.Zip,
		"phone_number":       u.Phone,
		"industry_id":        u.IndustryID,
		"industry_name":      s.st.industryName(u.IndustryID),
		"org_unit_created":   iso(u.created),
		"org_unit_modified":  iso(u.modified),
	}
}

// unitInScope returns the unit if it exists and the caller may see it.
func (s *Server) unitInScope(c caller, id int64) (*orgUnit, *apiError) {
	u := s.st.units[id]
	if u == nil || !s.st.within(c.ouID, id) {
		return nil, errf(http.StatusNotFound, "Group %d not found", id)
	}
	return u, nil
}

// listGroups answers a unit's children. The docs give limit no maximum or
// default: the default page of 100 is the simulator's choice ([I]).
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	parent, e1 := qInt(r, "org_unit_id", c.ouID, 1, 0)
	limit, e2 := qInt(r, "limit", 100, 1, 0)
	offset, e3 := qInt(r, "offset", 0, 0, 0)
	status, e4 := qEnum(r, "status", "active", "inactive", "deleted")
	if err := collect(e1, e2, e3, e4); err != nil {
		return err
	}
	if _, err := s.unitInScope(c, parent); err != nil {
		return err
	}
	name := strings.ToLower(r.URL.Query().Get("group_name"))
	var items []map[string]any
	for _, u := range s.st.children(parent) {
		if status == "" && u.Status == "deleted" || status != "" && u.Status != status {
			continue
		}
		if name != "" && !strings.Contains(strings.ToLower(u.Name), name) {
			continue
		}
		items = append(items, s.groupJSON(u))
	}
	page := paginate(items, offset, limit)
	writeOK(w, "", map[string]any{"groups": page, "total": len(items)})
	return nil
}

// groupTree answers the documented flat shape: every unit with a dotted
// code giving its place ("1.2.1") and its level.
func (s *Server) groupTree(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	active := r.URL.Query().Get("active")
	if active != "" && active != "true" && active != "false" {
		return invalid(fieldError{Field: "active", Message: "must be true or false"})
	}
	var out []map[string]any
	var walk func(u *orgUnit, code string, level int)
	walk = func(u *orgUnit, code string, level int) {
		out = append(out, map[string]any{"org_unit_id": u.id, "text": u.Name, "code": code, "group_level": level})
		i := 0
		for _, ch := range s.st.children(u.id) {
			if ch.Status == "deleted" || active == "true" && ch.Status != "active" {
				continue
			}
			i++
			walk(ch, fmt.Sprintf("%s.%d", code, i), level+1)
		}
	}
	if root := s.st.units[c.ouID]; root != nil {
		walk(root, "1", 1)
	}
	writeOK(w, "", map[string]any{"groups": out})
	return nil
}

func (s *Server) orgList(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	id, err := pathID(r, "ouid")
	if err != nil {
		return err
	}
	if u := s.st.units[id]; u == nil || !s.st.within(c.ouID, id) {
		// Documented: an out-of-scope unit answers 401.
		return errf(http.StatusUnauthorized, "Org unit %d is not in your hierarchy", id)
	}
	ids := []int64{id}
	for _, uid := range s.st.unitIDs() {
		if uid != id && s.st.units[uid].Status != "deleted" && s.st.within(id, uid) {
			ids = append(ids, uid)
		}
	}
	writeOK(w, "", map[string]any{"orgUnits": ids})
	return nil
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.unitInScope(c, id)
	if err != nil {
		return err
	}
	writeOK(w, "", map[string]any{
		"org_unit_id":        u.id,
		"org_unit_name":      u.Name,
		"org_unit_ext_id":    u.ExtID,
		"org_unit_parent_id": u.parentID,
		"org_unit_status":    u.Status,
		"top_ou_id":          u.topID,
		"billing_id":         u.billingID,
		"address":            u.Address,
		"city":               u.City,
		"state":              u.State,
		"zip":                u.Zip,
		"phone_number":       u.Phone,
		"industry_id":        u.IndustryID,
		"group_created":      iso(u.created),
		"group_modified":     iso(u.modified),
	})
	return nil
}

// stateCode is a group's state as the docs' example writes it ("NY"); that
// a group's state must be such a code is the simulator's choice ([I]).
var stateCode = regexp.MustCompile(`^[A-Z]{2}$`)

// groupFields reads the editable fields present in a body into u, checking
// each. required lists fields that must be present.
func (s *Server) groupFields(c caller, m map[string]any, u *orgUnit, required []string) *apiError {
	var errs []*fieldError
	for _, f := range required {
		if _, ok := m[f]; !ok {
			if f == "org_unit_parent_id" {
				if _, alt := m["parent_org_unit_id"]; alt {
					continue
				}
			}
			errs = append(errs, &fieldError{Field: f, Message: "is required"})
		}
	}
	str := func(name string, max int, dst *string) {
		v, ok, e := bStr(m, name)
		switch {
		case e != nil:
			errs = append(errs, e)
		case ok && len(v) > max:
			errs = append(errs, &fieldError{Field: name, Message: fmt.Sprintf("must be at most %d characters", max)})
		case ok:
			*dst = v
		}
	}
	if v, ok, e := bStr(m, "org_unit_name"); e != nil {
		errs = append(errs, e)
	} else if ok {
		v = strings.TrimSpace(v)
		if v == "" || len(v) > 255 {
			errs = append(errs, &fieldError{Field: "org_unit_name", Message: "must be 1 to 255 characters"})
		} else {
			u.Name = v
		}
	}
	str("org_unit_ext_id", 255, &u.ExtID)
	str("address", 255, &u.Address)
	str("city", 100, &u.City)
	str("zip", 10, &u.Zip)
	str("phone_number", 20, &u.Phone)
	str("timezone", 64, &u.Timezone)
	if v, ok, e := bStr(m, "state"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if v != "" && !stateCode.MatchString(v) {
			errs = append(errs, &fieldError{Field: "state", Message: "must be a 2-letter state code"})
		} else {
			u.State = v
		}
	}
	if v, ok, e := bInt(m, "industry_id"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if s.st.industryName(v) == "" {
			errs = append(errs, &fieldError{Field: "industry_id", Message: fmt.Sprintf("unknown industry %d", v)})
		} else {
			u.IndustryID = v
		}
	}
	parentKey := "org_unit_parent_id"
	if _, ok := m[parentKey]; !ok {
		parentKey = "parent_org_unit_id"
	}
	if v, ok, e := bInt(m, parentKey); e != nil {
		errs = append(errs, e)
	} else if ok {
		p := s.st.units[v]
		switch {
		case p == nil || !s.st.within(c.ouID, v):
			errs = append(errs, &fieldError{Field: parentKey, Message: fmt.Sprintf("parent %d does not exist or is outside your hierarchy", v)})
		case p.Status != "active":
			errs = append(errs, &fieldError{Field: parentKey, Message: fmt.Sprintf("parent %d is not active", v)})
		case u.id != 0 && s.st.within(u.id, v):
			errs = append(errs, &fieldError{Field: parentKey, Message: "a group cannot be moved under itself or its descendants"})
		case u.id != 0 && u.parentID == 0:
			errs = append(errs, &fieldError{Field: parentKey, Message: "the root unit cannot be moved"})
		default:
			u.parentID = v
		}
	}
	if err := collect(errs...); err != nil {
		return err
	}
	for _, sib := range s.st.children(u.parentID) {
		if sib.id != u.id && sib.Status != "deleted" && strings.EqualFold(sib.Name, u.Name) {
			return invalid(fieldError{Field: "org_unit_name", Message: fmt.Sprintf("a sibling group (%d) is already named %q", sib.id, sib.Name)})
		}
	}
	return nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	m, err := readBody(r)
	if err != nil {
		return err
	}
	now := s.opts.Now()
	u := &orgUnit{topID: 1001, billingID: 1001, Status: "active", created: now, modified: now}
	if err := s.groupFields(c, m, u, []string{"org_unit_name", "org_unit_parent_id"}); err != nil {
		return err
	}
	u.id = s.st.nextUnit
	s.st.nextUnit++
	if p := s.st.units[u.parentID]; p != nil {
		u.topID, u.billingID = p.topID, p.billingID
	}
	s.st.units[u.id] = u
	writeOK(w, "Group created successfully", map[string]any{"orgUnitId": u.id})
	return nil
}

var editableGroupFields = []string{"org_unit_name", "org_unit_ext_id", "org_unit_parent_id", "address", "city", "state", "zip", "phone_number", "industry_id"}

func (s *Server) replaceGroup(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.editGroup(w, r, c, editableGroupFields)
}

func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.editGroup(w, r, c, nil)
}

func (s *Server) editGroup(w http.ResponseWriter, r *http.Request, c caller, required []string) *apiError {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.unitInScope(c, id)
	if err != nil {
		return err
	}
	if u.Status == "deleted" {
		return errf(http.StatusNotFound, "Group %d not found", id)
	}
	m, err := readBody(r)
	if err != nil {
		return err
	}
	draft := *u
	if err := s.groupFields(c, m, &draft, required); err != nil {
		return err
	}
	draft.modified = s.opts.Now()
	*u = draft
	writeOK(w, "Group updated successfully", nil)
	return nil
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.unitInScope(c, id)
	if err != nil {
		return err
	}
	switch {
	case u.Status == "deleted":
		return errf(http.StatusNotFound, "Group %d not found", id)
	case u.parentID == 0 || u.billingID == u.id:
		return errf(http.StatusBadRequest, "Group %d is a root/billing-level organization unit and cannot be deleted via the API", id)
	}
	var active []string
	for _, ch := range s.st.children(id) {
		if ch.Status == "active" {
			active = append(active, fmt.Sprint(ch.id))
		}
	}
	if len(active) > 0 {
		return errf(http.StatusBadRequest, "Group %d has active child sub-groups (%s); delete or reassign them first", id, strings.Join(active, ", "))
	}
	for _, uid := range s.st.userIDs() {
		if usr := s.st.users[uid]; usr.ouID == id && usr.Status != "deleted" {
			return errf(http.StatusBadRequest, "Group %d has users assigned; reassign or delete them first", id)
		}
	}
	now := s.opts.Now()
	u.Status, u.deletedAt, u.deletedBy, u.modified = "deleted", now, c.id, now
	writeOK(w, "Resource deleted successfully", nil)
	return nil
}
