package sandbox

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

var (
	userEmailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	userTZRE    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$`)
	userPhoneRE = regexp.MustCompile(`^(\+?[0-9]{10,15})?$`)
)

// editableUserFields are what PUT /users/:id must carry. "role" may be given
// as "role_id" instead (the docs name both).
var editableUserFields = []string{"username", "first_name", "last_name", "ct_user_ou_id", "role", "user_ext_id", "user_status", "timezone", "agent_ring_to", "agent_code", "score_call", "access_audio"}

// userBool reads a flag sent as a JSON boolean or as "Yes"/"No" (the form
// the API answers with).
func userBool(m map[string]any, name string) (bool, bool, *fieldError) {
	v, ok := m[name]
	if !ok || v == nil {
		return false, false, nil
	}
	switch x := v.(type) {
	case bool:
		return x, true, nil
	case string:
		switch strings.ToLower(x) {
		case "yes", "true":
			return true, true, nil
		case "no", "false":
			return false, true, nil
		}
	}
	return false, true, &fieldError{Field: name, Message: `must be a boolean (or "Yes"/"No")`}
}

// userFields reads the editable fields present in a body into u, checking
// each. required lists fields that must be present.
func (s *Server) userFields(c caller, m map[string]any, u *user, required []string) *apiError {
	var errs []*fieldError
	for _, f := range required {
		if _, ok := m[f]; ok {
			continue
		}
		if _, alt := m["role_id"]; f == "role" && alt {
			continue
		}
		errs = append(errs, &fieldError{Field: f, Message: "is required"})
	}
	str := func(name string, min, max int, re *regexp.Regexp, msg string, dst *string) {
		v, ok, e := bStr(m, name)
		switch {
		case e != nil:
			errs = append(errs, e)
		case !ok:
		case len(strings.TrimSpace(v)) < min || len(v) > max:
			errs = append(errs, &fieldError{Field: name, Message: fmt.Sprintf("must be %d to %d characters", min, max)})
		case re != nil && !re.MatchString(v):
			errs = append(errs, &fieldError{Field: name, Message: msg})
		default:
			*dst = strings.TrimSpace(v)
		}
	}
	str("username", 3, 255, userEmailRE, "must be an email address", &u.Email)
	str("first_name", 1, 100, nil, "", &u.FirstName)
	str("last_name", 1, 100, nil, "", &u.LastName)
	str("user_ext_id", 0, 255, nil, "", &u.ExtID)
	str("timezone", 1, 64, userTZRE, "must be an IANA time zone name such as America/Denver", &u.Timezone)
	str("agent_ring_to", 0, 16, userPhoneRE, "must be a phone number of 10 to 15 digits, optionally with a leading +", &u.AgentRingTo)
	str("agent_code", 0, 50, nil, "", &u.AgentCode)
	if v, ok, e := bStr(m, "user_status"); e != nil {
		errs = append(errs, e)
	} else if ok {
		if v != "active" && v != "inactive" {
			errs = append(errs, &fieldError{Field: "user_status", Message: "must be active or inactive (delete a user with DELETE)"})
		} else {
			u.Status = v
		}
	}
	role := 0
	if v, ok, e := bStr(m, "role"); e != nil {
		errs = append(errs, e)
	} else if ok {
		for id, name := range roleNames {
			if strings.EqualFold(v, name) {
				role = id
			}
		}
		if role == 0 {
			errs = append(errs, &fieldError{Field: "role", Message: "must be Admin, Standard or ReadOnly"})
		}
	}
	if v, ok, e := bInt(m, "role_id"); e != nil {
		errs = append(errs, e)
	} else if ok {
		switch {
		case v < 1 || v > 3:
			errs = append(errs, &fieldError{Field: "role_id", Message: "must be 1 (Admin), 2 (Standard) or 3 (ReadOnly)"})
		case role != 0 && int64(role) != v:
			errs = append(errs, &fieldError{Field: "role_id", Message: "disagrees with role"})
		default:
			role = int(v)
		}
	}
	if role != 0 {
		u.roleID = role
	}
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"score_call", &u.ScoreCall}, {"access_audio", &u.AccessAudio}} {
		if v, ok, e := userBool(m, f.name); e != nil {
			errs = append(errs, e)
		} else if ok {
			*f.dst = v
		}
	}
	if v, ok, e := bInt(m, "ct_user_ou_id"); e != nil {
		errs = append(errs, e)
	} else if ok {
		g := s.st.units[v]
		switch {
		case g == nil || !s.st.within(c.ouID, v):
			errs = append(errs, &fieldError{Field: "ct_user_ou_id", Message: fmt.Sprintf("group %d does not exist or is outside your hierarchy", v)})
		case g.Status != "active":
			errs = append(errs, &fieldError{Field: "ct_user_ou_id", Message: fmt.Sprintf("group %d is not active", v)})
		default:
			u.ouID = v
		}
	}
	if err := collect(errs...); err != nil {
		return err
	}
	for _, id := range s.st.userIDs() {
		if o := s.st.users[id]; id != u.id && o.Status != "deleted" && strings.EqualFold(o.Email, u.Email) {
			return invalid(fieldError{Field: "username", Message: fmt.Sprintf("%s is already the login of user %d", u.Email, id)})
		}
	}
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	m, err := readBody(r)
	if err != nil {
		return err
	}
	u := &user{Status: "active", created: s.opts.Now(), Timezone: "America/New_York", AccessAudio: true}
	if err := s.userFields(c, m, u, []string{"username", "first_name", "last_name", "ct_user_ou_id", "role"}); err != nil {
		return err
	}
	u.id = s.st.nextUser
	s.st.nextUser++
	u.AgentID = fmt.Sprintf("AG%d", u.id)
	s.st.users[u.id] = u
	writeOK(w, "User created successfully", map[string]any{"userId": u.id})
	return nil
}

func (s *Server) replaceUser(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.editUser(w, r, c, editableUserFields)
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	return s.editUser(w, r, c, nil)
}

// liveUser returns a user the caller may see that is not deleted.
func (s *Server) liveUser(r *http.Request, c caller) (*user, *apiError) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	u := s.st.users[id]
	if u == nil || !s.st.within(c.ouID, u.ouID) || u.Status == "deleted" {
		return nil, errf(http.StatusNotFound, "User %d not found", id)
	}
	return u, nil
}

func (s *Server) editUser(w http.ResponseWriter, r *http.Request, c caller, required []string) *apiError {
	u, err := s.liveUser(r, c)
	if err != nil {
		return err
	}
	m, err := readBody(r)
	if err != nil {
		return err
	}
	if len(m) == 0 {
		return invalid(fieldError{Field: "body", Message: "give at least one field to change"})
	}
	draft := *u
	if err := s.userFields(c, m, &draft, required); err != nil {
		return err
	}
	*u = draft
	writeOK(w, "User updated successfully", nil)
	return nil
}

// deleteUser soft-deletes. Deleting one's own account is refused (a
// simulator choice: it would lock the caller out mid-session).
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	u, err := s.liveUser(r, c)
	if err != nil {
		return err
	}
	if u.id == c.id {
		return errf(http.StatusBadRequest, "You cannot delete your own account (user %d)", u.id)
	}
	u.Status = "deleted"
	writeOK(w, "User deleted successfully", nil)
	return nil
}

// SeedUsers adds n active Standard users to org unit ou, each created one
// second after the last, for tests that need a crowded account.
func (s *Server) SeedUsers(ou int64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for i := 0; i < n; i++ {
		u := &user{Status: "active", created: now.Add(time.Duration(i) * time.Second), Timezone: "America/New_York",
			FirstName: "Seeded", LastName: fmt.Sprintf("User%d", i), roleID: 2, ouID: ou}
		u.id = s.st.nextUser
		s.st.nextUser++
		u.Email = fmt.Sprintf("seeded%d.%d@summit-demo.example", ou, u.id)
		s.st.users[u.id] = u
	}
}
