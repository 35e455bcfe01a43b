package sandbox

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Provisioned routes: a tracking number of the account and the number its
// calls ring. Simulator choices ([I]): the number must be assigned to the
// route's own org unit; one number has at most one active route; a route
// with no number (its number was released) cannot be active; the org unit
// is fixed at creation; DELETE is a soft delete (status "deleted"), and
// lists leave deleted routes out unless asked for them.

type route struct {
	id                  int64
	Name, Status, Phone string
	RingTo              string
	ouID                int64
	created, modified   time.Time
}

func seedRoutes(st *state, base time.Time) {
	st.routes = map[int64]*route{}
	seeds := []struct {
		id          int64
		name, phone string
		ringTo      string
		ou          int64
		status      string
	}{
		{7001, "Denver Google Ads", "3035550100", "+13035559000", 1042, "active"},
		{7002, "Denver Billboard I-25", "3035550100", "+13035559000", 1042, "inactive"},
		{7003, "Denver Direct Mail", "3035550101", "+13035559001", 1042, "active"},
		{7004, "Phoenix Yelp Listing", "6025550110", "+16025559010", 1043, "active"},
		{7005, "NYC Inside Sales Main", "2125550120", "+12125559020", 1010, "active"},
		{7006, "Cambridge Clinic Front Desk", "6175550130", "+16175559030", 1051, "active"},
		{7007, "National Toll-Free", "8005550140", "+12125559040", 1001, "active"},
		{7008, "Austin Support Line", "5125550150", "+15125559050", 1060, "referral"},
		{7009, "Salt Lake Radio Spot", "8015550160", "+18015559060", 1044, "suspended"},
		{7010, "Miami Print Ad (old)", "3055550170", "+13055559070", 1061, "deleted"},
		{7011, "Hartford Auto Mall Sales", "8605550180", "+18605559080", 1053, "active"},
	}
	for i, x := range seeds {
		created := base.Add(time.Duration(i)*48*time.Hour + time.Hour)
		st.routes[x.id] = &route{id: x.id, Name: x.name, Status: x.status, Phone: x.phone, RingTo: x.ringTo,
			ouID: x.ou, created: created, modified: created.Add(10 * 24 * time.Hour)}
	}
	st.nextRoute = 7101
}

func (st *state) routeIDs() []int64 {
	ids := make([]int64, 0, len(st.routes))
	for id := range st.routes {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func (s *Server) routeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v3/provisioned-routes", s.api(roleStandard, s.listRoutes))
	mux.HandleFunc("GET /v3/provisioned-routes/{id}", s.api(roleStandard, s.getRoute))
	mux.HandleFunc("POST /v3/provisioned-routes", s.api(roleStandard, s.createRoute))
	mux.HandleFunc("PUT /v3/provisioned-routes/{id}", s.api(roleStandard, s.replaceRoute))
	mux.HandleFunc("PATCH /v3/provisioned-routes/{id}", s.api(roleStandard, s.patchRoute))
	mux.HandleFunc("DELETE /v3/provisioned-routes/{id}", s.api(roleStandard, s.deleteRoute))
}

func routeJSON(rt *route) map[string]any {
	return map[string]any{
		"provisioned_route_id":     rt.id,
		"provisioned_route_name":   rt.Name,
		"provisioned_route_status": rt.Status,
		"phone_number":             rt.Phone,
		"ring_to":                  rt.RingTo,
		"org_unit_id":              rt.ouID,
		"created_on":               iso(rt.created),
		"modified_on":              iso(rt.modified),
	}
}

var digitsOnly = regexp.MustCompile(`^[0-9]{1,15}$`)

func (s *Server) listRoutes(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	ou, e1 := qInt(r, "org_unit_id", c.ouID, 1, 0)
	limit, e2 := qInt(r, "limit", 100, 1, 500)
	offset, e3 := qInt(r, "offset", 0, 0, 0)
	status, e4 := qEnum(r, "provisioned_route_status", "active", "inactive", "referral", "deleted", "suspended")
	orderBy, e5 := qEnum(r, "orderBy", "provisioned_route_name", "provisioned_route_status", "phone_number")
	order, e6 := qEnum(r, "order", "ASC", "DESC")
	var e7 *fieldError
	phone := r.URL.Query().Get("phone_number")
	if phone != "" && !digitsOnly.MatchString(phone) {
		e7 = &fieldError{Field: "phone_number", Message: "must be digits only"}
	}
	if err := collect(e1, e2, e3, e4, e5, e6, e7); err != nil {
		return err
	}
	if _, err := s.unitInScope(c, ou); err != nil {
		return err
	}
	name := strings.ToLower(r.URL.Query().Get("provisioned_route_name"))
	var list []*route
	for _, id := range s.st.routeIDs() {
		rt := s.st.routes[id]
		switch {
		case !s.st.within(ou, rt.ouID):
		case status == "" && rt.Status == "deleted", status != "" && rt.Status != status:
		case name != "" && !strings.Contains(strings.ToLower(rt.Name), name):
		case phone != "" && !strings.Contains(rt.Phone, phone):
		default:
			list = append(list, rt)
		}
	}
	key := func(rt *route) string { return fmt.Sprintf("%012d", rt.id) }
	switch orderBy {
	case "provisioned_route_name":
		key = func(rt *route) string { return strings.ToLower(rt.Name) }
	case "provisioned_route_status":
		key = func(rt *route) string { return rt.Status }
	case "phone_number":
		key = func(rt *route) string { return rt.Phone }
	}
	sort.SliceStable(list, func(i, j int) bool {
		if order == "DESC" {
			return key(list[i]) > key(list[j])
		}
		return key(list[i]) < key(list[j])
	})
	items := make([]map[string]any, 0, len(list))
	for _, rt := range paginate(list, offset, limit) {
		items = append(items, routeJSON(rt))
	}
	writeOK(w, "", map[string]any{"provisioned_routes": items, "total": len(list)})
	return nil
}

// routeInScope returns the route if it exists and the caller may see it.
func (s *Server) routeInScope(c caller, r *http.Request) (*route, *apiError) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	rt := s.st.routes[id]
	if rt == nil || !s.st.within(c.ouID, rt.ouID) {
		return nil, errf(http.StatusNotFound, "Provisioned route %d not found", id)
	}
	return rt, nil
}

func (s *Server) getRoute(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	rt, err := s.routeInScope(c, r)
	if err != nil {
		return err
	}
	writeOK(w, "", routeJSON(rt))
	return nil
}

var ringTo = regexp.MustCompile(`^\+?[0-9]{10,15}$`)

// routeFields reads the editable fields present in m into rt, then checks
// the rules that tie a route to its number.
func (s *Server) routeFields(m map[string]any, rt *route, required []string) *apiError {
	var errs []*fieldError
	for _, f := range required {
		if _, ok := m[f]; !ok {
			errs = append(errs, &fieldError{Field: f, Message: "is required"})
		}
	}
	if v, ok, e := bStr(m, "provisioned_route_name"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if v = strings.TrimSpace(v); v == "" || len(v) > 255 {
			errs = append(errs, &fieldError{Field: "provisioned_route_name", Message: "must be 1 to 255 characters"})
		} else {
			rt.Name = v
		}
	}
	if v, ok, e := bStr(m, "phone_number"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if !tenDigits.MatchString(v) {
			errs = append(errs, &fieldError{Field: "phone_number", Message: "must be 10 digits"})
		} else {
			rt.Phone = v
		}
	}
	if v, ok, e := bStr(m, "ring_to"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if !ringTo.MatchString(v) {
			errs = append(errs, &fieldError{Field: "ring_to", Message: "must be 10 to 15 digits, optionally with a leading +"})
		} else {
			rt.RingTo = v
		}
	}
	if v, ok, e := bStr(m, "provisioned_route_status"); e != nil {
		errs = append(errs, e)
	} else if ok {
		switch v {
		case "active", "inactive", "referral", "suspended":
			rt.Status = v
		case "deleted":
			errs = append(errs, &fieldError{Field: "provisioned_route_status", Message: "deleted is set by DELETE only"})
		default:
			errs = append(errs, &fieldError{Field: "provisioned_route_status", Message: "must be one of active, inactive, referral, suspended"})
		}
	}
	if err := collect(errs...); err != nil {
		return err
	}
	if rt.Phone == "" {
		if rt.Status == "active" {
			return invalid(fieldError{Field: "phone_number", Message: "an active route needs a tracking number"})
		}
		return nil
	}
	n := s.st.numbers[rt.Phone]
	if n == nil || n.status != "assigned" || n.ouID != rt.ouID {
		msg := fmt.Sprintf("number %s is not assigned to org unit %d: order it with POST /phone-numbers/order first", rt.Phone, rt.ouID)
		if n != nil && n.status == "assigned" {
			msg = fmt.Sprintf("number %s is assigned to org unit %d, not %d", rt.Phone, n.ouID, rt.ouID)
		}
		return invalid(fieldError{Field: "phone_number", Message: msg})
	}
	if rt.Status == "active" {
		for _, id := range s.st.routesOf(rt.Phone) {
			if other := s.st.routes[id]; id != rt.id && other.Status == "active" {
				return invalid(fieldError{Field: "phone_number", Message: fmt.Sprintf("number %s already has an active route (%d %q)", rt.Phone, id, other.Name)})
			}
		}
	}
	return nil
}

func (s *Server) createRoute(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	m, err := readBody(r)
	if err != nil {
		return err
	}
	ou, err := reqInt(m, "org_unit_id")
	if err != nil {
		return err
	}
	if u := s.st.units[ou]; u == nil || !s.st.within(c.ouID, ou) || u.Status == "deleted" {
		return invalid(fieldError{Field: "org_unit_id", Message: fmt.Sprintf("org unit %d does not exist or is outside your hierarchy", ou)})
	}
	now := s.opts.Now()
	rt := &route{ouID: ou, Status: "active", created: now, modified: now}
	if err := s.routeFields(m, rt, []string{"provisioned_route_name", "phone_number", "ring_to"}); err != nil {
		return err
	}
	rt.id = s.st.nextRoute
	s.st.nextRoute++
	s.st.routes[rt.id] = rt
	writeOK(w, "Provisioned route created successfully", map[string]any{"provisionedRouteId": rt.id})
	return nil
}

func (s *Server) replaceRoute(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.editRoute(w, r, c, []string{"provisioned_route_name", "phone_number", "ring_to", "provisioned_route_status"})
}

func (s *Server) patchRoute(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.editRoute(w, r, c, nil)
}

func (s *Server) editRoute(w http.ResponseWriter, r *http.Request, c caller, required []string) *apiError {
	rt, err := s.routeInScope(c, r)
	if err != nil {
		return err
	}
	if rt.Status == "deleted" {
		return errf(http.StatusNotFound, "Provisioned route %d not found", rt.id)
	}
	m, err := readBody(r)
	if err != nil {
		return err
	}
	if ou, ok, _ := bInt(m, "org_unit_id"); ok && ou != rt.ouID {
		return invalid(fieldError{Field: "org_unit_id", Message: "a route's org unit cannot change; create a route in the other unit"})
	}
	editable := false
	for _, f := range []string{"provisioned_route_name", "phone_number", "ring_to", "provisioned_route_status"} {
		if _, ok := m[f]; ok {
			editable = true
		}
	}
	if !editable && required == nil {
		return invalid(fieldError{Field: "body", Message: "nothing to change"})
	}
	draft := *rt
	if err := s.routeFields(m, &draft, required); err != nil {
		return err
	}
	draft.modified = s.opts.Now()
	*rt = draft
	writeOK(w, "Provisioned route updated successfully", nil)
	return nil
}

func (s *Server) deleteRoute(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	rt, err := s.routeInScope(c, r)
	if err != nil {
		return err
	}
	if rt.Status == "deleted" {
		return errf(http.StatusNotFound, "Provisioned route %d not found", rt.id)
	}
	rt.Status, rt.modified = "deleted", s.opts.Now()
	writeOK(w, "Resource deleted successfully", nil)
	return nil
}
