package sandbox

import (
	"net/http"
	"sort"
	"strings"
)

func (s *Server) routeUsers(mux *http.ServeMux) {
	mux.HandleFunc("GET /v3/users/list", s.api(roleAdmin, s.listUsers))
	mux.HandleFunc("GET /v3/users/{id}", s.api(roleAdmin, s.getUser))
	mux.HandleFunc("POST /v3/users", s.api(roleAdmin, s.createUser))
	mux.HandleFunc("PUT /v3/users/{id}", s.api(roleAdmin, s.replaceUser))
	mux.HandleFunc("PATCH /v3/users/{id}", s.api(roleAdmin, s.patchUser))
	mux.HandleFunc("DELETE /v3/users/{id}", s.api(roleAdmin, s.deleteUser))
}

func (s *Server) userJSON(u *user) map[string]any {
	out := map[string]any{
		"ct_user_id":       u.id,
		"first_name":       u.FirstName,
		"last_name":        u.LastName,
		"email":            u.Email,
		"user_ext_id":      u.ExtID,
		"status":           u.Status,
		"role":             roleNames[u.roleID] + " User",
		"user_created":     iso(u.created),
		"agent_ring_to":    u.AgentRingTo,
		"agent_id":         u.AgentID,
		"access_audio":     yesNo(u.AccessAudio),
		"group_access":     "Full",
		"report_access":    "Full",
		"assign_scorecard": "No",
		// Not in the documented field list: the simulator also returns the
		// settings create takes, so a full replace can start from a read.
		"timezone":   u.Timezone,
		"agent_code": u.AgentCode,
		"score_call": yesNo(u.ScoreCall),
	}
	if g := s.st.units[u.ouID]; g != nil {
		out["group"], out["group_org_unit_id"], out["group_external_id"] = g.Name, g.id, g.ExtID
		if p := s.st.units[g.parentID]; p != nil {
			out["parent_group"], out["parent_group_org_unit_id"], out["parent_group_external_id"] = p.Name, p.id, p.ExtID
		}
		if a := s.st.units[g.topID]; a != nil {
			out["account"], out["account_org_unit_id"], out["account_external_id"] = a.Name, a.id, a.ExtID
		}
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	ou, e1 := qInt(r, "org_unit_id", c.ouID, 1, 0)
	limit, e2 := qInt(r, "limit", 100, 1, 200)
	offset, e3 := qInt(r, "offset", 0, 0, 0)
	role, e4 := qInt(r, "role_id", 0, 1, 3)
	status, e5 := qEnum(r, "user_status", "active", "inactive", "deleted")
	sortBy, e6 := qEnum(r, "sort_by", "created_on", "name", "email")
	order, e7 := qEnum(r, "sort_order", "asc", "desc")
	if err := collect(e1, e2, e3, e4, e5, e6, e7); err != nil {
		return err
	}
	if _, err := s.unitInScope(c, ou); err != nil {
		return err
	}
	name := strings.ToLower(r.URL.Query().Get("name"))
	email := strings.ToLower(r.URL.Query().Get("email"))
	var list []*user
	for _, id := range s.st.userIDs() {
		u := s.st.users[id]
		switch {
		case !s.st.within(ou, u.ouID):
		case role != 0 && int64(u.roleID) != role:
		case status == "" && u.Status == "deleted", status != "" && u.Status != status:
		case name != "" && !strings.Contains(strings.ToLower(u.FirstName+" "+u.LastName), name):
		case email != "" && !strings.Contains(strings.ToLower(u.Email), email):
		default:
			list = append(list, u)
		}
	}
	less := func(a, b *user) bool { return a.created.Before(b.created) }
	switch sortBy {
	case "name":
		less = func(a, b *user) bool { return a.LastName+a.FirstName < b.LastName+b.FirstName }
	case "email":
		less = func(a, b *user) bool { return a.Email < b.Email }
	}
	sort.SliceStable(list, func(i, j int) bool {
		if order == "asc" {
			return less(list[i], list[j])
		}
		return less(list[j], list[i])
	})
	items := make([]map[string]any, 0, len(list))
	for _, u := range paginate(list, offset, limit) {
		items = append(items, s.userJSON(u))
	}
	writeOK(w, "", map[string]any{"users": items, "total": len(list)})
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u := s.st.users[id]
	if u == nil || !s.st.within(c.ouID, u.ouID) {
		return errf(http.StatusNotFound, "User %d not found", id)
	}
	writeOK(w, "", s.userJSON(u))
	return nil
}
