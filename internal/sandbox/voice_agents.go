package sandbox

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AI voice agents. The body fields are not public; simulator choices ([I]):
// voice_agent_id, name, org_unit_id, status (active|inactive|deleted),
// greeting, instructions, voice, language, created_on, modified_on. Lists
// default to newest first and leave deleted agents out unless asked.

type voiceAgent struct {
	id                     int64
	Name, Status           string
	ouID                   int64
	Greeting, Instructions string
	Voice, Language        string
	created, modified      time.Time
}

func seedVoiceAgents(st *state) {
	st.voiceAgents = map[int64]*voiceAgent{}
	base := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	seeds := []struct {
		id       int64
		name     string
		ou       int64
		status   string
		greeting string
		voice    string
	}{
		{801, "Denver After-Hours Receptionist", 1042, "active", "Thanks for calling Denver Office. We're closed, but I can help.", "aria"},
		{802, "Phoenix Scheduling Assistant", 1043, "active", "Hi! I can book or move your appointment.", "verse"},
		{803, "Clinic Appointment Line", 1051, "active", "Cambridge Clinic, how can I help you today?", "sage"},
		{804, "Support Triage Bot", 1060, "inactive", "Tier 1 Support. Tell me briefly what's wrong.", "aria"},
		{805, "Legacy IVR Agent", 1001, "deleted", "Press or say one for sales.", "alloy"},
		{806, "Inside Sales Qualifier", 1010, "active", "Thanks for your interest in Summit! A few quick questions.", "verse"},
	}
	for i, x := range seeds {
		created := base.Add(time.Duration(i) * 72 * time.Hour)
		st.voiceAgents[x.id] = &voiceAgent{
			id: x.id, Name: x.name, Status: x.status, ouID: x.ou, Greeting: x.greeting,
			Instructions: "Be brief and friendly. Collect the caller's name and reason for calling; transfer to a person on request.",
			Voice:        x.voice, Language: "en-US", created: created, modified: created.Add(5 * 24 * time.Hour),
		}
	}
	st.nextVoiceAgent = 901
}

func (s *Server) routeVoiceAgents(mux *http.ServeMux) {
	mux.HandleFunc("GET /v3/ai-voice-agents", s.api(roleStandard, s.listVoiceAgents))
	mux.HandleFunc("GET /v3/ai-voice-agents/{id}", s.api(roleStandard, s.getVoiceAgent))
	mux.HandleFunc("POST /v3/ai-voice-agents", s.api(roleStandard, s.createVoiceAgent))
	mux.HandleFunc("PUT /v3/ai-voice-agents/{id}", s.api(roleStandard, s.replaceVoiceAgent))
	mux.HandleFunc("PATCH /v3/ai-voice-agents/{id}", s.api(roleStandard, s.patchVoiceAgent))
	mux.HandleFunc("DELETE /v3/ai-voice-agents/{id}", s.api(roleStandard, s.deleteVoiceAgent))
}

func voiceAgentJSON(a *voiceAgent) map[string]any {
	return map[string]any{
		"voice_agent_id": a.id,
		"name":           a.Name,
		"org_unit_id":    a.ouID,
		"status":         a.Status,
		"greeting":       a.Greeting,
		"instructions":   a.Instructions,
		"voice":          a.Voice,
		"language":       a.Language,
		"created_on":     iso(a.created),
		"modified_on":    iso(a.modified),
	}
}

func (st *state) voiceAgentIDs() []int64 {
	ids := make([]int64, 0, len(st.voiceAgents))
	for id := range st.voiceAgents {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// orgUnitIDs reads org_unit_ids given repeated, as org_unit_ids[], or comma-separated.
func orgUnitIDs(r *http.Request) (map[int64]bool, *fieldError) {
	q := r.URL.Query()
	raw := append(q["org_unit_ids"], q["org_unit_ids[]"]...)
	if len(raw) == 0 {
		return nil, nil
	}
	set := map[int64]bool{}
	for _, v := range raw {
		for _, p := range strings.Split(v, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
			if err != nil || n < 1 {
				return nil, &fieldError{Field: "org_unit_ids", Message: "must be positive integers"}
			}
			set[n] = true
		}
	}
	return set, nil
}

func (s *Server) listVoiceAgents(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	id, e1 := qInt(r, "id", 0, 1, 0)
	limit, e2 := qInt(r, "limit", 10, 1, 0)
	offset, e3 := qInt(r, "offset", 0, 0, 0)
	status, e4 := qEnum(r, "status", "active", "inactive", "deleted")
	// The docs name only sortBy's default, created_on; the other fields
	// are the simulator's choice ([I]).
	sortBy, e5 := qEnum(r, "sortBy", "created_on", "modified_on", "name")
	order, e6 := qEnum(r, "sortOrder", "ASC", "DESC")
	units, e7 := orgUnitIDs(r)
	if err := collect(e1, e2, e3, e4, e5, e6, e7); err != nil {
		return err
	}
	search := strings.ToLower(r.URL.Query().Get("search"))
	var list []*voiceAgent
	for _, aid := range s.st.voiceAgentIDs() {
		a := s.st.voiceAgents[aid]
		switch {
		case !s.st.within(c.ouID, a.ouID):
		case id != 0 && a.id != id:
		case units != nil && !units[a.ouID]:
		case status == "" && a.Status == "deleted", status != "" && a.Status != status:
		case search != "" && !strings.Contains(strings.ToLower(a.Name+" "+a.Greeting+" "+a.Instructions), search):
		default:
			list = append(list, a)
		}
	}
	less := func(a, b *voiceAgent) bool { return a.created.Before(b.created) }
	switch sortBy {
	case "modified_on":
		less = func(a, b *voiceAgent) bool { return a.modified.Before(b.modified) }
	case "name":
		less = func(a, b *voiceAgent) bool { return strings.ToLower(a.Name) < strings.ToLower(b.Name) }
	}
	sort.SliceStable(list, func(i, j int) bool {
		if order == "ASC" {
			return less(list[i], list[j])
		}
		return less(list[j], list[i])
	})
	items := make([]map[string]any, 0, len(list))
	for _, a := range paginate(list, offset, limit) {
		items = append(items, voiceAgentJSON(a))
	}
	writeOK(w, "", map[string]any{"voice_agents": items, "total": len(list)})
	return nil
}

func (s *Server) voiceAgentInScope(c caller, r *http.Request) (*voiceAgent, *apiError) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	a := s.st.voiceAgents[id]
	if a == nil || !s.st.within(c.ouID, a.ouID) {
		return nil, errf(http.StatusNotFound, "Voice agent %d not found", id)
	}
	return a, nil
}

func (s *Server) getVoiceAgent(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	a, err := s.voiceAgentInScope(c, r)
	if err != nil {
		return err
	}
	writeOK(w, "", voiceAgentJSON(a))
	return nil
}

var languageTag = regexp.MustCompile(`^[a-z]{2}-[A-Z]{2}$`)

var voiceAgentEditable = []string{"name", "org_unit_id", "status", "greeting", "instructions", "voice", "language"}

func (s *Server) voiceAgentFields(c caller, m map[string]any, a *voiceAgent, required []string) *apiError {
	var errs []*fieldError
	for _, f := range required {
		if _, ok := m[f]; !ok {
			errs = append(errs, &fieldError{Field: f, Message: "is required"})
		}
	}
	str := func(name string, min, max int, dst *string) {
		v, ok, e := bStr(m, name)
		switch {
		case e != nil:
			errs = append(errs, e)
		case ok && (len(strings.TrimSpace(v)) < min || len(v) > max):
			errs = append(errs, &fieldError{Field: name, Message: fmt.Sprintf("must be %d to %d characters", min, max)})
		case ok:
			*dst = v
		}
	}
	str("name", 1, 100, &a.Name)
	str("greeting", 0, 500, &a.Greeting)
	str("instructions", 0, 10000, &a.Instructions)
	str("voice", 0, 64, &a.Voice)
	if v, ok, e := bStr(m, "language"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if !languageTag.MatchString(v) {
			errs = append(errs, &fieldError{Field: "language", Message: "must be a language tag like en-US"})
		} else {
			a.Language = v
		}
	}
	if v, ok, e := bStr(m, "status"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if v != "active" && v != "inactive" {
			errs = append(errs, &fieldError{Field: "status", Message: "must be active or inactive"})
		} else {
			a.Status = v
		}
	}
	if v, ok, e := bInt(m, "org_unit_id"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if u := s.st.units[v]; u == nil || !s.st.within(c.ouID, v) || u.Status == "deleted" {
			errs = append(errs, &fieldError{Field: "org_unit_id", Message: fmt.Sprintf("org unit %d does not exist or is outside your hierarchy", v)})
		} else {
			a.ouID = v
		}
	}
	return collect(errs...)
}

func (s *Server) createVoiceAgent(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	m, err := readBody(r)
	if err != nil {
		return err
	}
	now := s.opts.Now()
	a := &voiceAgent{Status: "active", Voice: "aria", Language: "en-US", created: now, modified: now}
	if err := s.voiceAgentFields(c, m, a, []string{"name", "org_unit_id"}); err != nil {
		return err
	}
	a.id = s.st.nextVoiceAgent
	s.st.nextVoiceAgent++
	s.st.voiceAgents[a.id] = a
	writeOK(w, "Voice agent created successfully", map[string]any{"voiceAgentId": a.id})
	return nil
}

func (s *Server) replaceVoiceAgent(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.editVoiceAgent(w, r, c, voiceAgentEditable)
}

func (s *Server) patchVoiceAgent(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.editVoiceAgent(w, r, c, nil)
}

func (s *Server) editVoiceAgent(w http.ResponseWriter, r *http.Request, c caller, required []string) *apiError {
	a, err := s.voiceAgentInScope(c, r)
	if err != nil {
		return err
	}
	if a.Status == "deleted" {
		return errf(http.StatusNotFound, "Voice agent %d not found", a.id)
	}
	m, err := readBody(r)
	if err != nil {
		return err
	}
	draft := *a
	if err := s.voiceAgentFields(c, m, &draft, required); err != nil {
		return err
	}
	draft.modified = s.opts.Now()
	*a = draft
	writeOK(w, "Voice agent updated successfully", nil)
	return nil
}

func (s *Server) deleteVoiceAgent(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	a, err := s.voiceAgentInScope(c, r)
	if err != nil {
		return err
	}
	if a.Status == "deleted" {
		return errf(http.StatusNotFound, "Voice agent %d not found", a.id)
	}
	a.Status, a.modified = "deleted", s.opts.Now()
	writeOK(w, "Resource deleted successfully", nil)
	return nil
}
