package sandbox

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Phone numbers.
//
// Simulator choices ([I]): a number is 10 digits on the wire. The carrier
// offers a fixed stock of 555-01XX numbers in a dozen exchanges. Searching
// returns the account's numbers that no route uses (with their number_id,
// source "inventory") and the carrier's (number_id null, source "carrier").
// Ordering assigns a carrier number to an org unit and gives it an id; a
// route provisions it. Releasing takes it out of the account for good (the
// carrier does not offer it again) and every route that used it loses the
// number and becomes inactive. Release reads the number from the query
// (?number=) or from a JSON body {"number": ...}.

type phoneNumber struct {
	id                       int64 // 0 while only the carrier offers it
	digits                   string
	ocn, rc, city, stateCode string
	ouID                     int64
	status                   string // available, assigned or released
	assigned                 time.Time
}

func (p *phoneNumber) npa() string { return p.digits[:3] }
func (p *phoneNumber) nxx() string { return p.digits[3:6] }

type exchange struct{ npa, nxx, rc, city, state, ocn string }

var exchanges = []exchange{
	{"303", "555", "DENVER", "Denver", "CO", "7510"},
	{"720", "555", "DENVER", "Denver", "CO", "6214"},
	{"602", "555", "PHOENIX", "Phoenix", "AZ", "9740"},
	{"212", "555", "NEW YORK", "New York", "NY", "9104"},
	{"617", "555", "BOSTON", "Boston", "MA", "6306"},
	{"512", "555", "AUSTIN", "Austin", "TX", "9761"},
	{"312", "555", "CHICAGO", "Chicago", "IL", "2983"},
	{"801", "555", "SALT LAKE CITY", "Salt Lake City", "UT", "5380"},
	{"860", "555", "HARTFORD", "Hartford", "CT", "9206"},
	{"305", "555", "MIAMI", "Miami", "FL", "6112"},
	{"415", "555", "SAN FRANCISCO", "San Francisco", "CA", "6129"},
	{"800", "555", "TOLL FREE", "", "", ""},
}

func exchangeOf(digits string) exchange {
	for _, e := range exchanges {
		if e.npa == digits[:3] && e.nxx == digits[3:6] {
			return e
		}
	}
	return exchange{npa: digits[:3], nxx: digits[3:6]}
}

func newNumber(digits string) *phoneNumber {
	e := exchangeOf(digits)
	return &phoneNumber{digits: digits, ocn: e.ocn, rc: e.rc, city: e.city, stateCode: e.state, status: "available"}
}

// seedNumbersAndRoutes gives the account its numbers and routes, and the
// carrier its stock (12 numbers per exchange, picked by a fixed-seed PCG).
func seedNumbersAndRoutes(st *state) {
	st.numbers = map[string]*phoneNumber{}
	base := time.Date(2025, 2, 3, 15, 0, 0, 0, time.UTC)
	owned := []struct {
		id     int64
		digits string
		ou     int64
		status string
	}{
		{5001, "3035550100", 1042, "assigned"},
		{5002, "3035550101", 1042, "assigned"},
		{5003, "3035550102", 1042, "assigned"},
		{5004, "6025550110", 1043, "assigned"},
		{5005, "2125550120", 1010, "assigned"},
		{5006, "2125550121", 1010, "assigned"},
		{5007, "6175550130", 1051, "assigned"},
		{5008, "8005550140", 1001, "assigned"},
		{5009, "5125550150", 1060, "assigned"},
		{5010, "8015550160", 1044, "assigned"},
		{5011, "8605550180", 1053, "assigned"},
		{5012, "3055550170", 1061, "released"},
	}
	for i, o := range owned {
		n := newNumber(o.digits)
		n.id, n.ouID, n.status, n.assigned = o.id, o.ou, o.status, base.Add(time.Duration(i)*48*time.Hour)
		st.numbers[o.digits] = n
	}
	rng := rand.New(rand.NewPCG(303, 555))
	for _, e := range exchanges {
		for added := 0; added < 12; {
			d := fmt.Sprintf("%s%s01%02d", e.npa, e.nxx, rng.IntN(100))
			if _, taken := st.numbers[d]; !taken {
				st.numbers[d] = newNumber(d)
				added++
			}
		}
	}
	// The number of the documentation's example is always on offer.
	if n := st.numbers["3035550142"]; n == nil {
		st.numbers["3035550142"] = newNumber("3035550142")
	}
	st.nextNumber = 5101
	seedRoutes(st, base)
}

func (s *Server) routeNumbers(mux *http.ServeMux) {
	mux.HandleFunc("GET /v3/phone-numbers/search", s.api(roleStandard, s.searchNumbers))
	mux.HandleFunc("GET /v3/phone-numbers/assigned", s.api(roleStandard, s.assignedNumbers))
	mux.HandleFunc("GET /v3/phone-numbers/provisioned", s.api(roleStandard, s.provisionedNumbers))
	mux.HandleFunc("POST /v3/phone-numbers/order", s.api(roleStandard, s.orderNumber))
	mux.HandleFunc("DELETE /v3/phone-numbers/number", s.api(roleStandard, s.releaseNumber))
}

var (
	threeDigits = regexp.MustCompile(`^[0-9]{3}$`)
	fourDigits  = regexp.MustCompile(`^[0-9]{4}$`)
	tenDigits   = regexp.MustCompile(`^[0-9]{10}$`)
	matchChars  = regexp.MustCompile(`^[0-9_*%]{1,20}$`)
)

// numberQuery is the filter shared by the three number lists.
type numberQuery struct {
	npa, nxx, ocn string
	match         *regexp.Regexp
	limit         int64
}

func readNumberQuery(r *http.Request, defLimit, maxLimit int64) (numberQuery, []*fieldError) {
	q := r.URL.Query()
	var nq numberQuery
	var errs []*fieldError
	pat := func(name string, re *regexp.Regexp, msg string) string {
		v := q.Get(name)
		if v != "" && !re.MatchString(v) {
			errs = append(errs, &fieldError{Field: name, Message: msg})
		}
		return v
	}
	nq.npa = pat("npa", threeDigits, "must be 3 digits")
	nq.nxx = pat("nxx", threeDigits, "must be 3 digits")
	nq.ocn = pat("ocn", fourDigits, "must be 4 digits")
	if m := pat("match", matchChars, "must be at most 20 characters of digits and the wildcards _ * %"); m != "" && matchChars.MatchString(m) {
		var b strings.Builder
		b.WriteString("^")
		for _, c := range m {
			switch c {
			case '_':
				b.WriteString("[0-9]")
			case '*', '%':
				b.WriteString("[0-9]*")
			default:
				b.WriteRune(c)
			}
		}
		b.WriteString("$")
		nq.match = regexp.MustCompile(b.String())
	}
	limit, e := qInt(r, "limit", defLimit, 1, maxLimit)
	nq.limit = limit
	errs = append(errs, e)
	return nq, errs
}

func (nq numberQuery) matches(n *phoneNumber) bool {
	return (nq.npa == "" || n.npa() == nq.npa) &&
		(nq.nxx == "" || n.nxx() == nq.nxx) &&
		(nq.ocn == "" || n.ocn == nq.ocn) &&
		(nq.match == nil || nq.match.MatchString(n.digits))
}

// sortedNumbers returns every number in digit order.
func (st *state) sortedNumbers() []*phoneNumber {
	out := make([]*phoneNumber, 0, len(st.numbers))
	for _, n := range st.numbers {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].digits < out[j].digits })
	return out
}

// routesOf returns the ids of the routes, deleted ones excepted, that use
// the number.
func (st *state) routesOf(digits string) []int64 {
	var ids []int64
	for _, id := range st.routeIDs() {
		if rt := st.routes[id]; rt.Phone == digits && rt.Status != "deleted" {
			ids = append(ids, id)
		}
	}
	return ids
}

func (s *Server) numberJSON(n *phoneNumber) map[string]any {
	out := map[string]any{
		"number_id": n.id, "number": n.digits, "npa": n.npa(), "nxx": n.nxx(), "ocn": n.ocn,
		"rc": n.rc, "city": n.city, "state": n.stateCode,
	}
	if n.id == 0 {
		out["number_id"] = nil
		return out
	}
	routes := s.st.routesOf(n.digits)
	out["org_unit_id"] = n.ouID
	if u := s.st.units[n.ouID]; u != nil {
		out["org_unit_name"] = u.Name
	}
	out["status"] = "assigned"
	if len(routes) > 0 {
		out["status"] = "provisioned"
	}
	out["provisioned_route_ids"] = routes
	out["assigned_on"] = iso(n.assigned)
	return out
}

func (s *Server) searchNumbers(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	nq, errs := readNumberQuery(r, 20, 100)
	st := strings.ToUpper(r.URL.Query().Get("state"))
	if st != "" && !stateCode.MatchString(st) {
		errs = append(errs, &fieldError{Field: "state", Message: "must be a 2-letter state code"})
	}
	if err := collect(errs...); err != nil {
		return err
	}
	rc := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("rc")))
	var items []map[string]any
	for _, n := range s.st.sortedNumbers() {
		if !nq.matches(n) || (st != "" && n.stateCode != st) || (rc != "" && n.rc != rc) {
			continue
		}
		var item map[string]any
		switch {
		case n.status == "available":
			item = s.numberJSON(n)
			item["source"] = "carrier"
		case n.status == "assigned" && s.st.within(c.ouID, n.ouID) && len(s.st.routesOf(n.digits)) == 0:
			item = s.numberJSON(n)
			item["source"] = "inventory"
		default:
			continue
		}
		items = append(items, item)
	}
	writeOK(w, "", map[string]any{"numbers": paginate(items, 0, nq.limit), "total": len(items)})
	return nil
}

func (s *Server) assignedNumbers(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.accountNumbers(w, r, c, false)
}

func (s *Server) provisionedNumbers(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.accountNumbers(w, r, c, true)
}

// accountNumbers lists the numbers the caller's units hold; provisioned:
// only those a route uses.
func (s *Server) accountNumbers(w http.ResponseWriter, r *http.Request, c caller, provisioned bool) *apiError {
	nq, errs := readNumberQuery(r, 100, 0)
	if err := collect(errs...); err != nil {
		return err
	}
	var items []map[string]any
	for _, n := range s.st.sortedNumbers() {
		if n.status != "assigned" || !s.st.within(c.ouID, n.ouID) || !nq.matches(n) {
			continue
		}
		if provisioned && len(s.st.routesOf(n.digits)) == 0 {
			continue
		}
		items = append(items, s.numberJSON(n))
	}
	writeOK(w, "", map[string]any{"numbers": paginate(items, 0, nq.limit), "total": len(items)})
	return nil
}

func (s *Server) orderNumber(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	m, err := readBody(r)
	if err != nil {
		return err
	}
	var errs []*fieldError
	digits, ok, e := bStr(m, "number")
	switch {
	case e != nil:
		errs = append(errs, e)
	case !ok:
		errs = append(errs, &fieldError{Field: "number", Message: "is required"})
	case !tenDigits.MatchString(digits):
		errs = append(errs, &fieldError{Field: "number", Message: "must be 10 digits"})
	}
	ou, ok, e := bInt(m, "org_unit_id")
	switch {
	case e != nil:
		errs = append(errs, e)
	case !ok:
		errs = append(errs, &fieldError{Field: "org_unit_id", Message: "is required"})
	default:
		if u := s.st.units[ou]; u == nil || !s.st.within(c.ouID, ou) {
			errs = append(errs, &fieldError{Field: "org_unit_id", Message: fmt.Sprintf("org unit %d does not exist or is outside your hierarchy", ou)})
		} else if u.Status != "active" {
			errs = append(errs, &fieldError{Field: "org_unit_id", Message: fmt.Sprintf("org unit %d is %s", ou, u.Status)})
		}
	}
	if err := collect(errs...); err != nil {
		return err
	}
	n := s.st.numbers[digits]
	switch {
	case n == nil || n.status == "released":
		return errf(http.StatusNotFound, "Number %s is not available from the carrier", digits)
	case n.status == "assigned":
		return errf(http.StatusConflict, "Number %s is already assigned (number_id %d); it needs no order", digits, n.id)
	}
	n.id, n.ouID, n.status, n.assigned = s.st.nextNumber, ou, "assigned", s.opts.Now()
	s.st.nextNumber++
	writeOK(w, "Number ordered successfully", map[string]any{"numberId": n.id, "number": n.digits})
	return nil
}

func (s *Server) releaseNumber(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	digits := r.URL.Query().Get("number")
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		m, err := readBody(r)
		if err != nil {
			return err
		}
		b, ok, e := bStr(m, "number")
		switch {
		case e != nil:
			return invalid(*e)
		case ok && digits != "" && b != digits:
			return invalid(fieldError{Field: "number", Message: "the query and the body name different numbers"})
		case ok:
			digits = b
		}
	}
	if !tenDigits.MatchString(digits) {
		return invalid(fieldError{Field: "number", Message: "is required: 10 digits, in the query (?number=) or a JSON body"})
	}
	n := s.st.numbers[digits]
	if n == nil || n.status != "assigned" || !s.st.within(c.ouID, n.ouID) {
		return errf(http.StatusNotFound, "Number %s is not assigned to your account", digits)
	}
	now := s.opts.Now()
	deactivated := []int64{}
	for _, id := range s.st.routesOf(digits) {
		rt := s.st.routes[id]
		rt.Phone, rt.Status, rt.modified = "", "inactive", now
		deactivated = append(deactivated, id)
	}
	n.status = "released"
	writeOK(w, "Number released", map[string]any{"number": digits, "deactivated_routes": deactivated})
	return nil
}
