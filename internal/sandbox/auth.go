package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Roles as the API numbers them.
const (
	roleAdmin    = 1
	roleStandard = 2
	roleReadOnly = 3
)

var roleNames = map[int]string{roleAdmin: "Admin", roleStandard: "Standard", roleReadOnly: "ReadOnly"}

type grant struct {
	userID int64
	exp    time.Time
}

// caller is the authenticated user of a request.
type caller struct {
	*user
}

func (s *Server) routeAuth(mux *http.ServeMux) {
	mux.HandleFunc("POST /oauth/token", s.login)
	mux.HandleFunc("POST /oauth/refresh-token", s.refreshToken)
	mux.HandleFunc("POST /oauth/revoke-token", s.revokeToken)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	m, aerr := readBody(r)
	if aerr != nil {
		writeError(w, aerr.status, aerr.msg, nil)
		return
	}
	email, _, _ := bStr(m, "email")
	password, _, _ := bStr(m, "password")
	if email == "" || password == "" {
		writeError(w, http.StatusBadRequest, "email and password are required", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	// The documented limit: 10 logins per minute per IP.
	ip, _, _ := strings.Cut(r.RemoteAddr, ":")
	recent := s.st.logins[ip][:0]
	for _, t := range s.st.logins[ip] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	if len(recent) >= 10 {
		s.st.logins[ip] = recent
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusTooManyRequests, "Too many login attempts", nil)
		return
	}
	s.st.logins[ip] = append(recent, now)
	var u *user
	for _, cand := range s.st.users {
		if strings.EqualFold(cand.Email, email) && cand.Status == "active" && cand.password != "" && cand.password == password {
			u = cand
		}
	}
	if u == nil {
		writeError(w, http.StatusUnauthorized, "Invalid email or password", nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"code": 200, "message": "Login successful", "request_id": newRequestID(), "timestamp": timestamp(),
		"data": s.issueTokens(u, now),
	})
}

// issueTokens must be called with s.mu held.
func (s *Server) issueTokens(u *user, now time.Time) map[string]any {
	access, refresh := "sbx_at_"+randomHex(24), "sbx_rt_"+randomHex(24)
	aexp, rexp := now.Add(s.opts.AccessTTL), now.Add(s.opts.RefreshTTL)
	s.st.access[access] = &grant{userID: u.id, exp: aexp}
	s.st.refresh[refresh] = &grant{userID: u.id, exp: rexp}
	return map[string]any{
		"access_token":       access,
		"refresh_token":      refresh,
		"frontend_token":     "sbx_ft_" + randomHex(8),
		"token_type":         "Bearer",
		"expires_in":         aexp.UTC().Format("2006-01-02T15:04:05.000Z"),
		"refresh_expires_in": rexp.UTC().Format("2006-01-02T15:04:05.000Z"),
		"user":               map[string]any{"user_id": u.id, "email": u.Email, "role_id": u.roleID, "org_unit_id": u.ouID},
	}
}

func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request) {
	m, aerr := readBody(r)
	if aerr != nil {
		writeError(w, aerr.status, aerr.msg, nil)
		return
	}
	tok, _, _ := bStr(m, "refresh_token")
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	g, ok := s.st.refresh[tok]
	if !ok || now.After(g.exp) {
		writeError(w, http.StatusUnauthorized, "Invalid or expired refresh token", nil)
		return
	}
	// Single-use rotation: the old refresh token dies now.
	delete(s.st.refresh, tok)
	s.st.refreshes++
	u := s.st.users[g.userID]
	if u == nil || u.Status != "active" {
		writeError(w, http.StatusUnauthorized, "User is not active", nil)
		return
	}
	writeJSON(w, http.StatusOK, s.issueTokens(u, now)) // the raw (unwrapped) documented shape
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	m, aerr := readBody(r)
	if aerr != nil {
		writeError(w, aerr.status, aerr.msg, nil)
		return
	}
	tok, _, _ := bStr(m, "token")
	kind, _, _ := bStr(m, "token_type")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case "access":
		delete(s.st.access, tok)
	case "refresh":
		delete(s.st.refresh, tok)
	default:
		writeError(w, http.StatusBadRequest, "token_type must be access or refresh", nil)
		return
	}
	writeOK(w, "Token revoked", nil)
}

// ExpireAccessTokens makes every issued access token invalid, as if their
// seven days had passed.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.st.access {
		delete(s.st.access, k)
	}
}

// UserID is the user id of the user with this email (false: none).
func (s *Server) UserID(email string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.st.users {
		if strings.EqualFold(u.Email, email) {
			return u.id, true
		}
	}
	return 0, false
}

// SetRole gives the user with this email the Convirza role roleID (1
// Admin, 2 Standard, 3 ReadOnly), as an Admin's update_user would: the API
// holds their very next request to it, and their next login or refresh
// answer names it. False when no user has the email or the role is not one
// of the three.
func (s *Server) SetRole(email string, roleID int) bool {
	if roleNames[roleID] == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.st.users {
		if strings.EqualFold(u.Email, email) {
			u.roleID = roleID
			return true
		}
	}
	return false
}

// Refreshes counts refresh-token exchanges so far.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.refreshes
}

// Logins counts successful and failed login attempts so far.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ts := range s.st.logins {
		n += len(ts)
	}
	return n
}

// Stats are the simulator's counters a test of a separate process reads
// at GET /_sandbox/stats (not part of any upstream API).
type Stats struct {
	Logins    int `json:"logins"`
	Refreshes int `json:"refreshes"`
	// Writes counts the requests that change something (POST, PUT, PATCH,
	// DELETE) by method and path.
	Writes map[string]int `json:"writes"`
}

func (s *Server) serveStats(w http.ResponseWriter, _ *http.Request) {
	st := Stats{Logins: s.Logins(), Refreshes: s.Refreshes(), Writes: map[string]int{}}
	for _, c := range s.Calls() {
		if !strings.HasPrefix(c, http.MethodGet) {
			st.Writes[c]++
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st)
}

// handler is an API handler run with s.mu held for the authenticated caller.
type handler func(w http.ResponseWriter, r *http.Request, c caller) *apiError

// api authenticates the request, checks the role and runs h under the lock.
// minRole is the weakest role allowed: roleAdmin for Admin-only resources.
// Whatever the resource, ReadOnly users may only GET.
func (s *Server) api(minRole int, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		s.mu.Lock()
		defer s.mu.Unlock()
		g := s.st.access[tok]
		if !ok || g == nil || s.opts.Now().After(g.exp) {
			writeError(w, http.StatusUnauthorized, "Invalid or expired access token", nil)
			return
		}
		u := s.st.users[g.userID]
		if u == nil || u.Status != "active" {
			writeError(w, http.StatusUnauthorized, "User is not active", nil)
			return
		}
		// Sliding expiry.
		g.exp = s.opts.Now().Add(s.opts.AccessTTL)
		if u.roleID > minRole && !(r.Method == http.MethodGet && minRole != roleAdmin) {
			writeError(w, http.StatusForbidden, "Your role ("+roleNames[u.roleID]+") may not do this", nil)
			return
		}
		if u.roleID == roleReadOnly && r.Method != http.MethodGet {
			writeError(w, http.StatusForbidden, "ReadOnly users may only read", nil)
			return
		}
		if err := h(w, r, caller{u}); err != nil {
			writeError(w, err.status, err.msg, err.fields)
		}
	}
}
