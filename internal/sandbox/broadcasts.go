package sandbox

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// SMS broadcasts: /broadcast and /broadcast/{broadcast_id}. Body fields are
// not public; simulator choices ([I] in API-NOTES): broadcast_id,
// broadcast_name, agent_name, status (scheduled|pending|cancelled|sent),
// scheduled_at, message (1-1600 characters), recipients (1-10000 distinct
// E.164 numbers), from_number, org_unit_id, broadcast_created,
// broadcast_modified; lists carry recipient_count instead of recipients.
// A broadcast created without scheduled_at is "pending" (queued) and goes
// out pendingDelay later; a scheduled one goes out at scheduled_at. Only
// scheduled and pending broadcasts can be edited or cancelled (409 after).
// Admin and Standard users may write.

const (
	pendingDelay       = 10 * time.Minute
	maxBroadcastText   = 1600
	maxBroadcastPeople = 10000
)

type broadcast struct {
	id                  int64
	name, agent, status string
	message, from       string
	recipients          []string
	scheduledAt, sentAt time.Time
	ouID                int64
	created, modified   time.Time
}

func (s *Server) routeBroadcasts(mux *http.ServeMux) {
	mux.HandleFunc("GET /v3/broadcast", s.api(roleStandard, s.listBroadcasts))
	mux.HandleFunc("GET /v3/broadcast/{broadcast_id}", s.api(roleStandard, s.getBroadcast))
	mux.HandleFunc("POST /v3/broadcast", s.api(roleStandard, s.createBroadcast))
	mux.HandleFunc("PUT /v3/broadcast/{broadcast_id}", s.api(roleStandard, s.replaceBroadcast))
	mux.HandleFunc("PATCH /v3/broadcast/{broadcast_id}", s.api(roleStandard, s.patchBroadcast))
	mux.HandleFunc("DELETE /v3/broadcast/{broadcast_id}", s.api(roleStandard, s.deleteBroadcast))
}

// settleBroadcasts sends every broadcast whose time has come.
func (s *Server) settleBroadcasts() {
	now := s.opts.Now()
	for _, b := range s.st.broadcasts {
		switch {
		case b.status == "scheduled" && !b.scheduledAt.After(now):
			b.status, b.sentAt = "sent", b.scheduledAt
		case b.status == "pending" && !b.created.Add(pendingDelay).After(now):
			b.status, b.sentAt = "sent", b.created.Add(pendingDelay)
		}
	}
}

// due is when a broadcast goes (or went) out, for filters and order.
func (b *broadcast) due() time.Time {
	switch {
	case !b.sentAt.IsZero():
		return b.sentAt
	case !b.scheduledAt.IsZero():
		return b.scheduledAt
	}
	return b.created.Add(pendingDelay)
}

func broadcastJSON(b *broadcast, full bool) map[string]any {
	out := map[string]any{
		"broadcast_id":       b.id,
		"broadcast_name":     b.name,
		"agent_name":         b.agent,
		"status":             b.status,
		"scheduled_at":       nil,
		"message":            b.message,
		"from_number":        b.from,
		"recipient_count":    len(b.recipients),
		"org_unit_id":        b.ouID,
		"broadcast_created":  iso(b.created),
		"broadcast_modified": iso(b.modified),
	}
	if !b.scheduledAt.IsZero() {
		out["scheduled_at"] = iso(b.scheduledAt)
	}
	if !b.sentAt.IsZero() {
		out["sent_at"] = iso(b.sentAt)
	}
	if full {
		out["recipients"] = b.recipients
	}
	return out
}

func (s *Server) listBroadcasts(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	s.settleBroadcasts()
	status, e1 := qEnum(r, "status", "scheduled", "pending", "cancelled", "sent")
	limit, e2 := qInt(r, "limit", 100, 1, 200)
	offset, e3 := qInt(r, "offset", 0, 0, 0)
	start, e4 := qDateTime(r, "start")
	end, e5 := qDateTime(r, "end")
	if err := collect(e1, e2, e3, e4, e5); err != nil {
		return err
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		return invalid(fieldError{Field: "end", Message: "must be after start"})
	}
	name := strings.ToLower(r.URL.Query().Get("broadcast_name"))
	agent := strings.ToLower(r.URL.Query().Get("agent_name"))
	var list []*broadcast
	for _, b := range s.st.broadcasts {
		switch {
		case !s.st.within(c.ouID, b.ouID):
		case status != "" && b.status != status:
		case name != "" && !strings.Contains(strings.ToLower(b.name), name):
		case agent != "" && !strings.Contains(strings.ToLower(b.agent), agent):
		case !start.IsZero() && b.due().Before(start), !end.IsZero() && b.due().After(end):
		default:
			list = append(list, b)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if di, dj := list[i].due(), list[j].due(); !di.Equal(dj) {
			return di.After(dj)
		}
		return list[i].id > list[j].id
	})
	items := make([]map[string]any, 0, limit)
	for _, b := range paginate(list, offset, limit) {
		items = append(items, broadcastJSON(b, false))
	}
	writeOK(w, "", map[string]any{"broadcasts": items, "total": len(list)})
	return nil
}

// broadcastInScope returns the broadcast if it exists and the caller may see it.
func (s *Server) broadcastInScope(r *http.Request, c caller) (*broadcast, *apiError) {
	id, err := pathID(r, "broadcast_id")
	if err != nil {
		return nil, err
	}
	s.settleBroadcasts()
	b := s.st.broadcasts[id]
	if b == nil || !s.st.within(c.ouID, b.ouID) {
		return nil, errf(http.StatusNotFound, "Broadcast %d not found", id)
	}
	return b, nil
}

func (s *Server) getBroadcast(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	b, err := s.broadcastInScope(r, c)
	if err != nil {
		return err
	}
	writeOK(w, "", broadcastJSON(b, true))
	return nil
}

// broadcastFields reads the fields present in m into b, checking each;
// required lists fields that must be present.
func (s *Server) broadcastFields(m map[string]any, b *broadcast, required []string) *apiError {
	var errs []*fieldError
	for _, f := range required {
		if v, ok := m[f]; !ok || v == nil {
			errs = append(errs, &fieldError{Field: f, Message: "is required"})
		}
	}
	if v, ok, e := bStr(m, "broadcast_name"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if v = strings.TrimSpace(v); v == "" || utf8.RuneCountInString(v) > 255 {
			errs = append(errs, &fieldError{Field: "broadcast_name", Message: "must be 1 to 255 characters"})
		} else {
			b.name = v
		}
	}
	if v, ok, e := bStr(m, "agent_name"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if utf8.RuneCountInString(v) > 255 {
			errs = append(errs, &fieldError{Field: "agent_name", Message: "must be at most 255 characters"})
		} else {
			b.agent = v
		}
	}
	if v, ok, e := bStr(m, "message"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if n := utf8.RuneCountInString(v); strings.TrimSpace(v) == "" || n > maxBroadcastText {
			errs = append(errs, &fieldError{Field: "message", Message: fmt.Sprintf("must be 1 to %d characters; got %d", maxBroadcastText, n)})
		} else {
			b.message = v
		}
	}
	if v, ok, e := bStr(m, "from_number"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if !smsE164.MatchString(v) {
			errs = append(errs, &fieldError{Field: "from_number", Message: "must be an E.164 number, e.g. +13035550100"})
		} else {
			b.from = v
		}
	}
	if v, ok := m["recipients"]; ok && v != nil {
		if list, e := recipientList(v); e != nil {
			errs = append(errs, e)
		} else {
			b.recipients = list
		}
	}
	if v, ok, e := bStr(m, "scheduled_at"); e != nil {
		errs = append(errs, e)
	} else if ok {
		t, err := time.Parse(time.RFC3339Nano, v)
		switch {
		case err != nil:
			errs = append(errs, &fieldError{Field: "scheduled_at", Message: "must be an ISO 8601 date-time, e.g. 2026-12-01T15:00:00.000Z"})
		case !t.After(s.opts.Now()):
			errs = append(errs, &fieldError{Field: "scheduled_at", Message: "must be in the future"})
		default:
			b.scheduledAt = t.UTC()
			b.status = "scheduled"
		}
	}
	return collect(errs...)
}

func recipientList(v any) ([]string, *fieldError) {
	arr, ok := v.([]any)
	if !ok {
		return nil, &fieldError{Field: "recipients", Message: "must be an array of E.164 numbers"}
	}
	if len(arr) < 1 || len(arr) > maxBroadcastPeople {
		return nil, &fieldError{Field: "recipients", Message: fmt.Sprintf("must have 1 to %d numbers; got %d", maxBroadcastPeople, len(arr))}
	}
	seen := make(map[string]bool, len(arr))
	out := make([]string, 0, len(arr))
	for i, x := range arr {
		p, ok := x.(string)
		switch {
		case !ok || !smsE164.MatchString(p):
			return nil, &fieldError{Field: fmt.Sprintf("recipients[%d]", i), Message: "must be an E.164 number, e.g. +13035550100"}
		case seen[p]:
			return nil, &fieldError{Field: fmt.Sprintf("recipients[%d]", i), Message: fmt.Sprintf("%s is listed twice", p)}
		}
		seen[p] = true
		out = append(out, p)
	}
	return out, nil
}

func (s *Server) createBroadcast(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	m, err := readBody(r)
	if err != nil {
		return err
	}
	now := s.opts.Now()
	b := &broadcast{status: "pending", agent: c.FirstName + " " + c.LastName, ouID: c.ouID, created: now, modified: now}
	if err := s.broadcastFields(m, b, []string{"broadcast_name", "message", "recipients", "from_number"}); err != nil {
		return err
	}
	if v, ok, e := bInt(m, "org_unit_id"); e != nil {
		return invalid(*e)
	} else if ok {
		u := s.st.units[v]
		if u == nil || !s.st.within(c.ouID, v) || u.Status != "active" {
			return invalid(fieldError{Field: "org_unit_id", Message: fmt.Sprintf("org unit %d does not exist, is not active, or is outside your hierarchy", v)})
		}
		b.ouID = v
	}
	b.id = s.st.nextBroadcast
	s.st.nextBroadcast++
	s.st.broadcasts[b.id] = b
	writeOK(w, "Broadcast created successfully", map[string]any{"broadcastId": b.id})
	return nil
}

func (s *Server) replaceBroadcast(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.editBroadcast(w, r, c, []string{"broadcast_name", "agent_name", "message", "recipients", "from_number", "scheduled_at"})
}

func (s *Server) patchBroadcast(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.editBroadcast(w, r, c, nil)
}

func (s *Server) editBroadcast(w http.ResponseWriter, r *http.Request, c caller, required []string) *apiError {
	b, err := s.broadcastInScope(r, c)
	if err != nil {
		return err
	}
	if b.status != "scheduled" && b.status != "pending" {
		return errf(http.StatusConflict, "Broadcast %d is %s; only scheduled or pending broadcasts can be changed", b.id, b.status)
	}
	m, err := readBody(r)
	if err != nil {
		return err
	}
	draft := *b
	if err := s.broadcastFields(m, &draft, required); err != nil {
		return err
	}
	draft.modified = s.opts.Now()
	*b = draft
	writeOK(w, "Broadcast updated successfully", nil)
	return nil
}

func (s *Server) deleteBroadcast(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	b, err := s.broadcastInScope(r, c)
	if err != nil {
		return err
	}
	if b.status != "scheduled" && b.status != "pending" {
		return errf(http.StatusConflict, "Broadcast %d is %s; only scheduled or pending broadcasts can be cancelled", b.id, b.status)
	}
	b.status, b.modified = "cancelled", s.opts.Now()
	writeOK(w, "Broadcast cancelled successfully", nil)
	return nil
}

// demoRecipients returns n distinct fictional numbers (555-01xx) starting
// at offset k of a fixed sequence.
func demoRecipients(n, k int) []string {
	out := make([]string, n)
	for i := range out {
		j := k + i
		out[i] = fmt.Sprintf("+1%s55501%02d", demoAreaCodes[(j/100)%len(demoAreaCodes)], j%100)
	}
	return out
}

// seedBroadcasts adds sent, cancelled, scheduled and pending broadcasts
// around now.
func seedBroadcasts(st *state, now time.Time) {
	now = now.UTC()
	day := now.Truncate(24 * time.Hour)
	type bc struct {
		id      int64
		name    string
		agent   string
		ou      int64
		from    string
		n, k    int
		status  string
		when    time.Time // scheduled or sent time
		created time.Time
		message string
	}
	list := []bc{
		{3001, "Holiday Hours Notice", "Avery Admin", 1001, "+12125550151", 180, 0, "sent", day.Add(-35*24*time.Hour + 15*time.Hour), day.Add(-38 * 24 * time.Hour),
			"Summit Marketing: our offices close early on Friday at 3pm. Reply STOP to opt out."},
		{3002, "Spring Sale Kickoff", "John Smith", 1002, "+12125550141", 250, 200, "sent", day.Add(-20*24*time.Hour + 14*time.Hour), day.Add(-23 * 24 * time.Hour),
			"Spring sale starts today: 20% off all plans through the end of the month. Call +12125550141. Reply STOP to opt out."},
		{3003, "Denver Open House", "Sam Standard", 1042, "+13035550144", 60, 500, "sent", day.Add(-9*24*time.Hour + 16*time.Hour), day.Add(-12 * 24 * time.Hour),
			"Join us Saturday 10-2 at our Denver office open house. Coffee's on us! Reply STOP to opt out."},
		{3004, "Clinic Flu Shot Reminder", "Grace Kim", 1050, "+16175550152", 120, 600, "cancelled", day.Add(-5*24*time.Hour + 13*time.Hour), day.Add(-10 * 24 * time.Hour),
			"Flu shots are available at Boston Clinic Group this week, no appointment needed. Reply STOP to opt out."},
		{3005, "Service Special - Oil Change", "Emma Johnson", 1053, "+18605550149", 90, 750, "sent", day.Add(-3*24*time.Hour + 17*time.Hour), day.Add(-4 * 24 * time.Hour),
			"Hartford Auto Mall: $29.99 oil change this week only. Book at +18605550149. Reply STOP to opt out."},
		{3006, "Spring Sale Final Days", "John Smith", 1002, "+12125550141", 250, 200, "scheduled", day.Add(3*24*time.Hour + 15*time.Hour), day.Add(-2 * 24 * time.Hour),
			"Last 3 days of the spring sale: 20% off all plans ends Sunday. Call +12125550141. Reply STOP to opt out."},
		{3007, "Phoenix Office Grand Opening", "Priya Patel", 1043, "+14805550146", 75, 850, "scheduled", day.Add(10*24*time.Hour + 17*time.Hour), day.Add(-1 * 24 * time.Hour),
			"Our new Phoenix office opens next Monday! Stop by for a free consultation. Reply STOP to opt out."},
		{3008, "Appointment Reminder Batch", "Grace Kim", 1051, "+16175550147", 40, 930, "pending", time.Time{}, now.Add(-2 * time.Minute),
			"Reminder: you have an appointment at Cambridge Clinic tomorrow. Reply C to confirm or call +16175550147 to reschedule."},
		{3009, "Quincy Clinic Survey", "Omar Haddad", 1052, "+16175550148", 150, 300, "scheduled", day.Add(6*24*time.Hour + 14*time.Hour), day.Add(-3 * 24 * time.Hour),
			"How was your visit to Quincy Clinic? Tell us in a 1-minute survey: https://example.com/s/quincy Reply STOP to opt out."},
		{3010, "Customer Appreciation Week", "Avery Admin", 1001, "+12125550151", 300, 0, "cancelled", day.Add(2*24*time.Hour + 15*time.Hour), day.Add(-6 * 24 * time.Hour),
			"It's customer appreciation week at Summit! Watch your inbox for a thank-you gift. Reply STOP to opt out."},
	}
	st.broadcasts = map[int64]*broadcast{}
	for _, x := range list {
		b := &broadcast{id: x.id, name: x.name, agent: x.agent, status: x.status, message: x.message, from: x.from,
			recipients: demoRecipients(x.n, x.k), ouID: x.ou, created: x.created, modified: x.created}
		switch x.status {
		case "sent":
			b.scheduledAt, b.sentAt, b.modified = x.when, x.when, x.when
		case "scheduled":
			b.scheduledAt = x.when
		case "cancelled":
			b.scheduledAt, b.modified = x.when, x.created.Add(24*time.Hour)
		}
		st.broadcasts[b.id] = b
	}
	st.nextBroadcast = 3101
}
