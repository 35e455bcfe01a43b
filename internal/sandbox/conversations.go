package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
