package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Conversations: GET /conversations/calls (call history, with optional
// blocks and signed recording URLs) and GET /conversations/sms (SMS
// threads). Simulator choices ([I] in API-NOTES): calls answer
// {calls:[...], total}; a call_id that matches nothing answers an empty
// list; recordings are served by the sandbox itself at /recordings/<id>.mp3
// with an expiry and an HMAC signature in the query.

const (
	callWindowDefault = 7 * 24 * time.Hour
	callWindowMax     = 31 * 24 * time.Hour
	// recordingTTL is how long a signed recording URL stays valid.
	recordingTTL = 7 * 24 * time.Hour
	// recordingKey signs recording URLs (a simulator, not a secret).
	recordingKey = "sandbox-recording-signing-key"
	// recordingExpired is the documented answer to an expired link.
	recordingExpired = "Recording URL has expired. Please re-fetch the call to get a fresh link."
)

var (
	callDispositions = []string{"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "VOICEMAIL", "ABANDONED", "TRANSFERRED"}
	callIncludes     = []string{"tags", "comments", "custom_sources", "call_flow", "recordings", "transcription"}
	smsE164          = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// trackingLine is a tracking number routed to a ring-to number, owned by an
// org unit and attributed to a campaign.
type trackingLine struct {
	routeID, ouID, campaignID int64
	name, number, ringTo      string
	source                    string
	weight                    int
}

type callTag struct {
	id   int64
	name string
}

type callComment struct {
	id      int64
	text    string
	user    string
	created time.Time
}

type call struct {
	id          int64
	started     time.Time
	duration    int
	callerID    string
	disposition string
	line        *trackingLine
	tags        []callTag
	comments    []callComment
	recorded    bool
	transcript  string
}

type smsThread struct {
	id                 int64
	phone              string
	line               *trackingLine
	smsType            string
	firstResp, avgResp string
	started, updated   time.Time
	closedAt           time.Time
	status             string
	userID             int64
	agent              string
	pin                bool
	message            string
	unread             int
}

func (s *Server) routeConversations(mux *http.ServeMux) {
	mux.HandleFunc("GET /v3/conversations/calls", s.api(roleStandard, s.listCalls))
	mux.HandleFunc("GET /v3/conversations/sms", s.api(roleStandard, s.listSMS))
	mux.HandleFunc("GET /recordings/{file}", s.serveRecording)
}

// qDateTime reads an optional ISO-8601 date-time query parameter.
func qDateTime(r *http.Request, name string) (time.Time, *fieldError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, &fieldError{Field: name, Message: "must be an ISO 8601 date-time, e.g. 2026-01-01T00:00:00.000Z"}
	}
	return t, nil
}

// qMulti reads an array parameter sent repeated (a=x&a=y) or
// comma-separated (a=x,y), each value one of allowed.
func qMulti(r *http.Request, name string, allowed []string) ([]string, *fieldError) {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			found := false
			for _, a := range allowed {
				if part == a {
					found = true
				}
			}
			if !found {
				return nil, &fieldError{Field: name, Message: fmt.Sprintf("%q is not one of %s", part, strings.Join(allowed, ", "))}
			}
			out = append(out, part)
		}
	}
	return out, nil
}

// digits keeps the digits of a phone number, dropping a leading US 1 from
// 11-digit numbers, so +13035550100, 13035550100 and 3035550100 compare equal.
func digits(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	return d
}

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	q := r.URL.Query()
	include, eInc := qMulti(r, "include", callIncludes)
	if q.Get("call_id") != "" {
		id, e := qInt(r, "call_id", 0, 1, 0)
		if err := collect(e, eInc); err != nil {
			return err
		}
		// Single-record mode: range and paging are ignored.
		items := []map[string]any{}
		for _, cl := range s.st.calls {
			if cl.id == id && s.st.within(c.ouID, cl.line.ouID) {
				items = append(items, s.callJSON(r, cl, include))
			}
		}
		writeOK(w, "", map[string]any{"calls": items, "total": len(items)})
		return nil
	}
	limit, e1 := qInt(r, "limit", 50, 1, 200)
	offset, e2 := qInt(r, "offset", 0, 0, 0)
	ou, e3 := qInt(r, "org_unit_id", 0, 1, 0)
	campaign, e4 := qInt(r, "campaign_id", 0, 1, 0)
	route, e5 := qInt(r, "provisioned_route_id", 0, 1, 0)
	disp, e6 := qMulti(r, "disposition", callDispositions)
	start, e7 := qDateTime(r, "start")
	end, e8 := qDateTime(r, "end")
	var e9 *fieldError
	// E.164, as the docs' example (+18005551234); refusing other spellings
	// is the simulator's choice ([I]): the client sends E.164.
	callerID := q.Get("caller_id")
	if callerID != "" && !smsE164.MatchString(callerID) {
		e9 = &fieldError{Field: "caller_id", Message: "must be an E.164 number, e.g. +18005551234"}
	}
	if err := collect(e1, e2, e3, e4, e5, e6, e7, e8, e9, eInc); err != nil {
		return err
	}
	now := s.opts.Now()
	switch {
	case start.IsZero() && end.IsZero():
		end, start = now, now.Add(-callWindowDefault)
	case end.IsZero():
		end = now
	case start.IsZero():
		start = end.Add(-callWindowDefault)
	}
	if !end.After(start) {
		return invalid(fieldError{Field: "end", Message: "must be after start"})
	}
	if end.Sub(start) > callWindowMax {
		return invalid(fieldError{Field: "end", Message: "the range from start to end may span at most 31 days"})
	}
	if ou != 0 && (s.st.units[ou] == nil || !s.st.within(c.ouID, ou)) {
		return errf(http.StatusForbidden, "Org unit %d is outside your scope", ou)
	}
	phone, ringTo := digits(q.Get("phone_number")), digits(q.Get("ring_to"))
	var list []*call
	for _, cl := range s.st.calls {
		switch {
		case !s.st.within(c.ouID, cl.line.ouID):
		case ou != 0 && !s.st.within(ou, cl.line.ouID):
		case cl.started.Before(start) || cl.started.After(end):
		case campaign != 0 && cl.line.campaignID != campaign:
		case route != 0 && cl.line.routeID != route:
		case callerID != "" && cl.callerID != callerID:
		case phone != "" && digits(cl.line.number) != phone:
		case ringTo != "" && digits(cl.line.ringTo) != ringTo:
		case len(disp) > 0 && !containsStr(disp, cl.disposition):
		default:
			list = append(list, cl)
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].started.After(list[j].started) })
	items := make([]map[string]any, 0, limit)
	for _, cl := range paginate(list, offset, limit) {
		items = append(items, s.callJSON(r, cl, include))
	}
	writeOK(w, "", map[string]any{"calls": items, "total": len(list)})
	return nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Server) callJSON(r *http.Request, cl *call, include []string) map[string]any {
	out := map[string]any{
		"call_id":              cl.id,
		"call_started":         iso(cl.started),
		"duration":             cl.duration,
		"caller_id":            cl.callerID,
		"phone_number":         cl.line.number,
		"ring_to":              cl.line.ringTo,
		"disposition":          cl.disposition,
		"org_unit_id":          cl.line.ouID,
		"campaign_id":          cl.line.campaignID,
		"provisioned_route_id": cl.line.routeID,
	}
	for _, inc := range include {
		switch inc {
		case "tags":
			tags := []map[string]any{}
			for _, t := range cl.tags {
				tags = append(tags, map[string]any{"tag_id": t.id, "tag_name": t.name})
			}
			out["tags"] = tags
		case "comments":
			cs := []map[string]any{}
			for _, cm := range cl.comments {
				cs = append(cs, map[string]any{"comment_id": cm.id, "comment": cm.text, "user_name": cm.user, "created_at": iso(cm.created)})
			}
			out["comments"] = cs
		case "custom_sources":
			out["custom_sources"] = []map[string]any{
				{"custom_source_type": "CS1", "custom_source_name": cl.line.source},
				{"custom_source_type": "CS2", "custom_source_name": s.st.units[cl.line.ouID].Name},
			}
		case "call_flow":
			out["call_flow"] = callFlow(cl)
		case "recordings":
			if cl.recorded {
				exp := s.opts.Now().Add(recordingTTL).Unix()
				out["recording_url"] = fmt.Sprintf("http://%s/recordings/%d.mp3?expires=%d&signature=%s", r.Host, cl.id, exp, recordingSignature(cl.id, exp))
				out["recording_details"] = map[string]any{"expires_at": exp, "duration": cl.duration, "format": "mp3"}
			} else {
				out["recording_url"] = nil
			}
		case "transcription":
			if cl.transcript != "" {
				out["transcription"] = map[string]any{"language": "en-US", "text": cl.transcript}
			} else {
				out["transcription"] = nil
			}
		}
	}
	return out
}

// callFlow describes the steps a call went through, from its disposition.
func callFlow(cl *call) []map[string]any {
	steps := []map[string]any{
		{"event": "Inbound call", "detail": cl.line.number + " (" + cl.line.name + ")", "offset_seconds": 0},
		{"event": "Whisper", "detail": "Call from " + cl.line.source, "offset_seconds": 1},
		{"event": "Ring", "detail": cl.line.ringTo, "offset_seconds": 3},
	}
	end := map[string]any{"offset_seconds": cl.duration}
	switch cl.disposition {
	case "ANSWERED":
		end["event"], end["detail"] = "Answered", "Connected to "+cl.line.ringTo
	case "TRANSFERRED":
		end["event"], end["detail"] = "Transferred", "Transferred to the main office line"
	case "VOICEMAIL":
		end["event"], end["detail"] = "Voicemail", "Caller left a voicemail"
	case "NO ANSWER":
		end["event"], end["detail"], end["offset_seconds"] = "No answer", "Rang 30 seconds without an answer", 33
	case "BUSY":
		end["event"], end["detail"], end["offset_seconds"] = "Busy", "Ring-to line was busy", 4
	case "FAILED":
		end["event"], end["detail"], end["offset_seconds"] = "Failed", "Carrier could not complete the call", 2
	case "ABANDONED":
		end["event"], end["detail"] = "Abandoned", "Caller hung up before an answer"
	}
	steps = append(steps, end)
	for i, st := range steps {
		st["step"] = i + 1
	}
	return steps
}

func recordingSignature(id, exp int64) string {
	m := hmac.New(sha256.New, []byte(recordingKey))
	fmt.Fprintf(m, "%d:%d", id, exp)
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// serveRecording answers a signed recording URL: no bearer token, the
// signature and the expiry in the query are the authorisation.
func (s *Server) serveRecording(w http.ResponseWriter, r *http.Request) {
	idS, ok := strings.CutSuffix(r.PathValue("file"), ".mp3")
	id, err := strconv.ParseInt(idS, 10, 64)
	if !ok || err != nil {
		writeError(w, http.StatusNotFound, "Recording not found", nil)
		return
	}
	exp, err := strconv.ParseInt(r.URL.Query().Get("expires"), 10, 64)
	sig := r.URL.Query().Get("signature")
	if err != nil || !hmac.Equal([]byte(sig), []byte(recordingSignature(id, exp))) {
		writeError(w, http.StatusForbidden, "Invalid recording signature", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Now().Unix() > exp {
		writeError(w, http.StatusGone, recordingExpired, nil)
		return
	}
	for _, cl := range s.st.calls {
		if cl.id == id && cl.recorded {
			w.Header().Set("Content-Type", "audio/mpeg")
			w.WriteHeader(http.StatusOK)
			// An MPEG audio frame header followed by silence.
			_, _ = w.Write(append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 413)...))
			return
		}
	}
	writeError(w, http.StatusNotFound, "Recording not found", nil)
}

func (s *Server) listSMS(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	typ, e1 := qEnum(r, "type", "close", "unassigned", "allOpen", "assignedToYou")
	order, e2 := qEnum(r, "order", "asc", "desc")
	limit, e3 := qInt(r, "limit", 7, 1, 200)
	offset, e4 := qInt(r, "offset", 0, 0, 0)
	start, e5 := qDateTime(r, "start")
	end, e6 := qDateTime(r, "end")
	search := strings.ToLower(r.URL.Query().Get("search"))
	var e7 *fieldError
	if len([]rune(search)) > 255 {
		e7 = &fieldError{Field: "search", Message: "must be at most 255 characters"}
	}
	if err := collect(e1, e2, e3, e4, e5, e6, e7); err != nil {
		return err
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		return invalid(fieldError{Field: "end", Message: "must be after start"})
	}
	if typ == "" {
		typ = "allOpen"
	}
	var list []*smsThread
	for _, t := range s.st.smsThreads {
		open := t.status == "open"
		switch {
		case !s.st.within(c.ouID, t.line.ouID):
		case typ == "close" && open, typ != "close" && !open:
		case typ == "unassigned" && t.userID != 0:
		case typ == "assignedToYou" && t.userID != c.id:
		case !start.IsZero() && t.updated.Before(start), !end.IsZero() && t.updated.After(end):
		case search != "" && !strings.Contains(strings.ToLower(strings.Join([]string{t.phone, t.line.number, t.line.name, t.message, t.agent}, "\n")), search):
		default:
			list = append(list, t)
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		if order == "asc" {
			return list[i].updated.Before(list[j].updated)
		}
		return list[i].updated.After(list[j].updated)
	})
	items := make([]map[string]any, 0, limit)
	for _, t := range paginate(list, offset, limit) {
		items = append(items, smsJSON(t))
	}
	writeOK(w, "", map[string]any{"total": len(list), "conversation": items})
	return nil
}

func smsJSON(t *smsThread) map[string]any {
	out := map[string]any{
		"conversation_id":      t.id,
		"phone_number":         t.phone,
		"source":               t.line.number,
		"source_name":          t.line.name,
		"sms_type":             t.smsType,
		"first_response_time":  nil,
		"avg_response_time":    nil,
		"conversation_started": iso(t.started),
		"conversation_updated": iso(t.updated),
		"closed_at":            nil,
		"conversation_status":  t.status,
		"ct_user_id":           nil,
		"pin":                  t.pin,
		"message":              t.message,
		"unread_count":         t.unread,
		"agent":                nil,
	}
	if t.firstResp != "" {
		out["first_response_time"], out["avg_response_time"] = t.firstResp, t.avgResp
	}
	if !t.closedAt.IsZero() {
		out["closed_at"] = iso(t.closedAt)
	}
	if t.userID != 0 {
		out["ct_user_id"], out["agent"] = t.userID, t.agent
	}
	return out
}

// demoLines are the demo account's tracking numbers (fictional 555-01xx
// numbers). Route ids 601-612 and campaign ids 301-308 are simulator choices.
var demoLines = []*trackingLine{
	{601, 1010, 301, "Inside Sales - Google Ads", "+12125550141", "+12125550100", "Google Ads", 9},
	{602, 1010, 304, "Inside Sales - Website", "+12125550142", "+12125550100", "Website", 6},
	{603, 1011, 305, "Enterprise Sales - LinkedIn", "+13125550143", "+13125550110", "LinkedIn", 4},
	{604, 1042, 301, "Denver Office - Google Ads", "+13035550144", "+13035550120", "Google Ads", 8},
	{605, 1042, 306, "Denver Office - Yelp", "+17205550145", "+13035550120", "Yelp", 4},
	{606, 1043, 303, "Phoenix Office - Direct Mail", "+14805550146", "+14805550130", "Direct Mail", 5},
	{607, 1051, 301, "Cambridge Clinic - Google Ads", "+16175550147", "+16175550140", "Google Ads", 6},
	{608, 1052, 302, "Quincy Clinic - Facebook", "+16175550148", "+16175550150", "Facebook", 4},
	{609, 1053, 307, "Hartford Auto Mall - Radio", "+18605550149", "+18605550160", "Radio", 6},
	{610, 1060, 308, "Support Line", "+15125550150", "+15125550170", "Organic", 7},
	{611, 1002, 304, "Sales Division - Main", "+12125550151", "+12125550180", "Website", 3},
	{612, 1050, 302, "Boston Clinic Group - Main", "+16175550152", "+16175550190", "Facebook", 2},
}

var demoAreaCodes = []string{"212", "303", "617", "480", "512", "860", "312", "801", "720", "646"}

func weighted[T any](rng *rand.Rand, items []T, weight func(T) int) T {
	total := 0
	for _, it := range items {
		total += weight(it)
	}
	n := rng.IntN(total)
	for _, it := range items {
		if n -= weight(it); n < 0 {
			return it
		}
	}
	return items[len(items)-1]
}

// seedConversations adds a few hundred calls over the last 30 days and a
// few dozen SMS threads, reproducibly (fixed-seed PCG) relative to now.
func seedConversations(st *state, now time.Time) {
	rng := rand.New(rand.NewPCG(20260301, 7))
	now = now.UTC()
	callers := make([]string, 150)
	for i := range callers {
		callers[i] = "+1" + demoAreaCodes[rng.IntN(len(demoAreaCodes))] + "55501" + twoDigits(rng.IntN(100))
	}
	type disp struct {
		name   string
		weight int
	}
	disps := []disp{{"ANSWERED", 55}, {"NO ANSWER", 12}, {"VOICEMAIL", 10}, {"ABANDONED", 8}, {"TRANSFERRED", 8}, {"BUSY", 4}, {"FAILED", 3}}
	tags := map[string]callTag{}
	for i, n := range []string{"Qualified Lead", "Appointment Set", "Sale", "Missed Opportunity", "Spam", "Existing Customer", "Follow Up"} {
		tags[n] = callTag{id: int64(i + 1), name: n}
	}
	agents := []string{"Avery Admin", "Sam Standard", "John Smith", "Maria Garcia", "Priya Patel", "Grace Kim"}
	notes := []string{
		"Asked about pricing; sent a quote by email.",
		"Wants a call back tomorrow morning.",
		"Booked a visit for next week.",
		"Existing customer with a billing question; resolved.",
		"Compared us with a competitor; follow up Friday.",
		"Wrong number.",
	}
	midnight := now.Truncate(24 * time.Hour)
	var calls []*call
	for range 360 {
		line := weighted(rng, demoLines, func(l *trackingLine) int { return l.weight })
		t := midnight.Add(-time.Duration(rng.IntN(29))*24*time.Hour + 13*time.Hour + time.Duration(rng.IntN(11*3600))*time.Second)
		if !t.Before(now) {
			t = t.Add(-24 * time.Hour)
		}
		cl := &call{started: t, line: line, callerID: callers[rng.IntN(len(callers))]}
		cl.disposition = weighted(rng, disps, func(d disp) int { return d.weight }).name
		switch cl.disposition {
		case "ANSWERED":
			cl.duration = 20 + rng.IntN(880)
		case "TRANSFERRED":
			cl.duration = 60 + rng.IntN(540)
		case "VOICEMAIL":
			cl.duration = 15 + rng.IntN(75)
		case "ABANDONED":
			cl.duration = 5 + rng.IntN(35)
		}
		answered := cl.disposition == "ANSWERED" || cl.disposition == "TRANSFERRED"
		switch {
		case answered && cl.duration > 180 && rng.IntN(2) == 0:
			cl.tags = append(cl.tags, tags["Qualified Lead"])
			if rng.IntN(5) < 2 {
				cl.tags = append(cl.tags, tags["Appointment Set"])
			}
			if rng.IntN(7) == 0 {
				cl.tags = append(cl.tags, tags["Sale"])
			}
		case answered && cl.duration < 60 && rng.IntN(4) == 0:
			cl.tags = append(cl.tags, tags["Spam"])
		case !answered && rng.IntN(5) < 2:
			cl.tags = append(cl.tags, tags["Missed Opportunity"])
		}
		if answered && rng.IntN(10) == 0 {
			cl.tags = append(cl.tags, tags["Existing Customer"])
		}
		if answered && rng.IntN(100) < 15 {
			when := t.Add(time.Duration(cl.duration)*time.Second + time.Duration(5+rng.IntN(120))*time.Minute)
			if when.Before(now) {
				cl.comments = append(cl.comments, callComment{text: notes[rng.IntN(len(notes))], user: agents[rng.IntN(len(agents))], created: when})
				cl.tags = append(cl.tags, tags["Follow Up"])
			}
		}
		cl.recorded = (answered || cl.disposition == "VOICEMAIL") && rng.IntN(10) != 0
		if cl.recorded && rng.IntN(10) < 6 {
			cl.transcript = transcript(st, cl, rng)
		}
		calls = append(calls, cl)
	}
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].started.Before(calls[j].started) })
	commentID := int64(70001)
	for i, cl := range calls {
		cl.id = int64(900001 + i)
		for j := range cl.comments {
			cl.comments[j].id = commentID
			commentID++
		}
	}
	st.calls = calls
	seedSMS(st, now, rng, callers)
}

func transcript(st *state, cl *call, rng *rand.Rand) string {
	unit := st.units[cl.line.ouID].Name
	if cl.disposition == "VOICEMAIL" {
		return fmt.Sprintf("Hi, this is a message for %s. I found you through %s and I'd like someone to call me back about an appointment. My number is %s. Thanks.", unit, cl.line.source, cl.callerID)
	}
	lines := []string{
		"Agent: Thank you for calling %s, how can I help? Caller: Hi, I saw your listing on %s and wanted a quote. Agent: Of course, let me take a few details.",
		"Agent: %s, good afternoon. Caller: I'd like to book an appointment for next week; I found you on %s. Agent: Sure, Tuesday at ten works. Caller: Perfect.",
		"Agent: Thanks for calling %s. Caller: I have a question about my last invoice. I originally found you on %s. Agent: Let me pull up your account.",
		"Agent: %s, this is the front desk. Caller: Are you open on Saturdays? I heard about you on %s. Agent: Yes, from nine to one.",
	}
	return fmt.Sprintf(lines[rng.IntN(len(lines))], unit, cl.line.source)
}

func hms(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// seedSMS adds 36 SMS threads over the last 20 days.
func seedSMS(st *state, now time.Time, rng *rand.Rand, phones []string) {
	agents := []int64{1, 2, 12345, 12346, 12348, 12350}
	messages := []string{
		"Do you have any openings tomorrow afternoon?",
		"Thanks! See you Tuesday at 10.",
		"What are your hours this weekend?",
		"Can you send me the quote again? I can't find the email.",
		"Is the spring discount still available?",
		"Please call me back when you get a chance.",
		"STOP",
		"Got it, thank you for the reminder.",
		"Where do I park when I arrive?",
		"Can I reschedule my appointment to Friday?",
		"We have a 2pm slot open. Want me to book it?",
		"Your appointment is confirmed for Monday at 9am.",
	}
	for i := range 36 {
		t := &smsThread{id: int64(4001 + i), phone: phones[rng.IntN(len(phones))], line: demoLines[rng.IntN(len(demoLines))]}
		t.started = now.Add(-time.Duration(rng.IntN(20*24*60)+30) * time.Minute)
		t.updated = t.started.Add(time.Duration(rng.IntN(48*60)) * time.Minute)
		if !t.updated.Before(now) {
			t.updated = now.Add(-time.Duration(1+rng.IntN(30)) * time.Minute)
		}
		if t.updated.Before(t.started) {
			t.updated = t.started
		}
		t.smsType = "inbound"
		if rng.IntN(4) == 0 {
			t.smsType = "outbound"
		}
		t.message = messages[rng.IntN(len(messages))]
		t.pin = rng.IntN(10) == 0
		t.status = "open"
		if rng.IntN(10) < 3 {
			t.status = "closed"
			t.closedAt = t.updated.Add(time.Duration(1+rng.IntN(60)) * time.Minute)
			if t.closedAt.After(now) {
				t.closedAt = now
			}
		}
		if t.status == "closed" || rng.IntN(10) < 6 {
			t.userID = agents[rng.IntN(len(agents))]
			if u := st.users[t.userID]; u != nil {
				t.agent = u.FirstName + " " + u.LastName
			}
		}
		if t.userID != 0 || rng.IntN(2) == 0 {
			first := time.Duration(30+rng.IntN(3*3600)) * time.Second
			if span := t.updated.Sub(t.started); first > span {
				first = span/2 + 30*time.Second
			}
			t.firstResp, t.avgResp = hms(first), hms(first*time.Duration(2+rng.IntN(6))/4)
		}
		if t.status == "open" {
			t.unread = rng.IntN(4)
		}
		st.smsThreads = append(st.smsThreads, t)
	}
}
