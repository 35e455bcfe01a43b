package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
)

// Token formats: a prefix secret scanners can recognise, then the secret.
// A refresh token names its grant, so rotation finds the grant's record.
const (
	accessPrefix  = "cmcp_at_"
	refreshPrefix = "cmcp_rt_"
	codePrefix    = "cmcp_ac_"
)

// grant is one person's authorization of one client: what their access
// tokens are bound to, and the hash of the one refresh token that is live.
type grant struct {
	ID       string    `json:"id"`
	Person   Identity  `json:"person"`
	ClientID string    `json:"client_id"`
	Resource string    `json:"resource"`
	Scope    string    `json:"scope"`
	Created  time.Time `json:"created"`
	Refresh  string    `json:"refresh"` // digest of the live refresh token
	// Rotations counts refreshes, so two rotations never write the same
	// value (Swap compares values).
	Rotations int `json:"rotations"`
}

// accessRecord is what an access token stands for.
type accessRecord struct {
	GrantID  string    `json:"grant_id"`
	ClientID string    `json:"client_id"`
	Person   Identity  `json:"person"`
	Resource string    `json:"resource"`
	Scope    string    `json:"scope"`
	Expires  time.Time `json:"expires"`
}

// personGrant indexes a grant under its person.
type personGrant struct {
	ClientID string    `json:"client_id"`
	Created  time.Time `json:"created"`
}

const personsPrefix = "oauth/person/"

func grantKey(id string) string          { return "oauth/grant/" + id }
func grantAccessPrefix(id string) string { return "oauth/at/" + id + "/" }

// accessKey is where an access token's record is: under its grant (the
// token names it), so revoking the grant finds and deletes its access
// tokens and checking a token needs no read of the grant. ok is false for
// a token not of that shape.
func accessKey(token string) (string, bool) {
	gid, secret, ok := strings.Cut(strings.TrimPrefix(token, accessPrefix), ".")
	if !ok || !grantID.MatchString(gid) || secret == "" {
		return "", false
	}
	return grantAccessPrefix(gid) + digest(token), true
}

// grantID is the shape of a grant's id (randomHex(16)).
var grantID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func personPrefix(uid int64) string              { return personsPrefix + strconv.FormatInt(uid, 10) + "/" }
func personGrantKey(uid int64, id string) string { return personPrefix(uid) + "grant/" + id }
func upstreamKey(uid int64) string               { return personPrefix(uid) + upstreamName }

// upstreamName ends the key of a person's Convirza tokens.
const upstreamName = "convirza"

// SealedRecords are the records this package seals: each person's
// Convirza tokens (upstreamKey), among the grants indexed beside them.
var SealedRecords = store.SealedRecords{Prefix: personsPrefix, Match: func(key string) bool {
	uid, name, ok := strings.Cut(strings.TrimPrefix(key, personsPrefix), "/")
	n, err := strconv.ParseInt(uid, 10, 64)
	return ok && err == nil && name == upstreamName && key == upstreamKey(n)
}}

// issued is a token response.
type issued struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// newGrant creates a grant with id and its first tokens.
func (s *Server) newGrant(ctx context.Context, id string, person Identity, clientID, resource, scope string) (*issued, error) {
	refresh := refreshPrefix + id + "." + random(32)
	g := grant{ID: id, Person: person, ClientID: clientID, Resource: resource, Scope: scope, Created: s.now().UTC(), Refresh: digest(refresh)}
	b, err := json.Marshal(g)
	if err != nil {
		return nil, err
	}
	idx, err := json.Marshal(personGrant{ClientID: clientID, Created: g.Created})
	if err != nil {
		return nil, err
	}
	if err := s.st.Create(ctx, grantKey(id), b, s.grantTTL); err != nil {
		return nil, fmt.Errorf("recording the grant: %w", err)
	}
	if err := s.st.Put(ctx, personGrantKey(person.UserID, id), idx, s.grantTTL); err != nil {
		_ = s.st.Delete(ctx, grantKey(id))
		return nil, fmt.Errorf("recording the grant: %w", err)
	}
	access, ttl, err := s.newAccess(ctx, g, person)
	if err != nil {
		return nil, err
	}
	return &issued{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(ttl / time.Second), RefreshToken: refresh, Scope: scope}, nil
}

// newAccess issues an access token of grant g for person (the person's
// latest identity: a role changed at Convirza shows in the next token).
// The grant is read again after the token is recorded: a revocation that
// listed the grant's tokens before this one was written has deleted the
// grant first, so the token is withdrawn here and never outlives it.
func (s *Server) newAccess(ctx context.Context, g grant, person Identity) (string, time.Duration, error) {
	// An access token never outlives its grant (a sign-in of GrantTTL).
	ttl := min(s.accessTTL, g.Created.Add(s.grantTTL).Sub(s.now()))
	if ttl < time.Second {
		return "", 0, fmt.Errorf("%w (the sign-in expired)", ErrSignedOut)
	}
	tok := accessPrefix + g.ID + "." + random(32)
	key, _ := accessKey(tok)
	rec := accessRecord{GrantID: g.ID, ClientID: g.ClientID, Person: person, Resource: g.Resource, Scope: g.Scope, Expires: s.now().Add(ttl).UTC()}
	b, err := json.Marshal(rec)
	if err != nil {
		return "", 0, err
	}
	if err := s.st.Create(ctx, key, b, ttl); err != nil {
		return "", 0, fmt.Errorf("recording the access token: %w", err)
	}
	if _, err := s.st.Get(ctx, grantKey(g.ID)); err != nil {
		_ = s.st.Delete(context.WithoutCancel(ctx), key)
		if errors.Is(err, store.ErrNotFound) {
			return "", 0, fmt.Errorf("%w (the sign-in was revoked meanwhile)", ErrSignedOut)
		}
		return "", 0, fmt.Errorf("recording the access token: %w", err)
	}
	return tok, ttl, nil
}

// endGrant deletes grant id and its access tokens. The tokens go first, so
// a store failure leaves the grant whole (the revocation fails and can be
// tried again) rather than live tokens of a deleted grant; once the grant
// is gone they are looked for again, for one issued meanwhile (newAccess
// withdraws such a token itself, too).
func (s *Server) endGrant(ctx context.Context, id string) error {
	if err := s.dropAccess(ctx, id); err != nil {
		return err
	}
	if err := s.st.Delete(ctx, grantKey(id)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return s.dropAccess(ctx, id)
}

// dropAccess deletes the access tokens of grant id (revoked: they die with
// it, at once on every replica).
func (s *Server) dropAccess(ctx context.Context, id string) error {
	toks, err := s.st.List(ctx, grantAccessPrefix(id))
	if err != nil {
		return fmt.Errorf("listing the sign-in's access tokens: %w", err)
	}
	var errs []error
	for key := range toks {
		if err := s.st.Delete(ctx, key); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Authenticate checks the request's bearer token for the MCP endpoint it
// is sent to: a live access token of this server, issued for that
// endpoint's resource (or the whole server), whose grant was not revoked.
// Errors: ErrNoToken, ErrInvalidToken, ErrWrongAudience, or one wrapping
// store.ErrUnavailable (the caller answers 503, never lets it through).
// Challenge writes the answer to any of them.
func (s *Server) Authenticate(r *http.Request) (Subject, error) {
	tok, ok := bearer(r)
	if !ok {
		return Subject{}, ErrNoToken
	}
	if !strings.HasPrefix(tok, accessPrefix) || len(tok) > 200 {
		return Subject{}, ErrInvalidToken
	}
	key, ok := accessKey(tok)
	if !ok {
		return Subject{}, ErrInvalidToken
	}
	// One read: revoking a grant deletes its access tokens.
	b, err := s.st.Get(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		return Subject{}, ErrInvalidToken
	}
	if err != nil {
		return Subject{}, fmt.Errorf("checking the access token: %w", err)
	}
	var rec accessRecord
	if err := json.Unmarshal(b, &rec); err != nil || !s.now().Before(rec.Expires) {
		return Subject{}, ErrInvalidToken
	}
	if !slices.Contains(s.audiences(r.URL.Path), rec.Resource) {
		return Subject{}, ErrWrongAudience
	}
	return Subject{Identity: rec.Person, ClientID: rec.ClientID, GrantID: rec.GrantID, Resource: rec.Resource, Scope: rec.Scope}, nil
}

// Challenge answers a request Authenticate refused: 401 with
// WWW-Authenticate: Bearer resource_metadata="…" (RFC 9728 §5.1), with
// error="invalid_token" when a token was sent; 503 when the store could not
// be asked.
func (s *Server) Challenge(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrUnavailable) || !(errors.Is(err, ErrNoToken) || errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrWrongAudience) || errors.Is(err, ErrSignedOut)) {
		s.log.WarnContext(r.Context(), "access token check failed", "err", err)
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the state store is unavailable; retry shortly"})
		return
	}
	v := fmt.Sprintf(`Bearer resource_metadata=%q, scope=%q`, s.ResourceMetadataURL(r.URL.Path), Scope)
	if !errors.Is(err, ErrNoToken) {
		v += fmt.Sprintf(`, error="invalid_token", error_description=%q`, err.Error())
	}
	w.Header().Set("WWW-Authenticate", v)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
}

// refreshGrant rotates grant g's refresh token: presented must be the live
// one. Presenting a spent one (or any other) revokes the grant.
func (s *Server) refreshGrant(ctx context.Context, presented, clientID, resource string) (*issued, *tokenError) {
	rest, ok := strings.CutPrefix(presented, refreshPrefix)
	id, _, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || id == "" || len(presented) > 200 {
		return nil, errGrant("unknown refresh token")
	}
	old, err := s.st.Get(ctx, grantKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errGrant("the refresh token is unknown, expired or revoked: sign in again")
	}
	if err != nil {
		return nil, errServer(err)
	}
	var g grant
	if err := json.Unmarshal(old, &g); err != nil {
		return nil, errServer(err)
	}
	if subtle.ConstantTimeCompare([]byte(digest(presented)), []byte(g.Refresh)) != 1 {
		// A spent refresh token came back: whoever holds the live one may
		// be a thief, or the thief is here. End the grant (RFC 9700).
		s.log.WarnContext(ctx, "spent refresh token presented: grant revoked", "user", g.Person.UserID, "client", g.ClientID)
		_ = s.revokeGrant(ctx, g)
		return nil, errGrant("the refresh token was already used: the sign-in is revoked, sign in again")
	}
	if clientID != g.ClientID {
		return nil, errGrant("the refresh token was issued to another client")
	}
	if resource != "" {
		if r, ok := s.resource(resource); !ok || r != g.Resource {
			return nil, &tokenError{status: http.StatusBadRequest, code: "invalid_target", desc: "the resource differs from the one signed in for"}
		}
	}
	// The person's Convirza sign-in must still be alive: a refresh token
	// Convirza refused ends their access here (and revokes the grant). And
	// the new access token carries the person as Convirza confirmed them
	// lately (IdentityMaxAge): a role changed at Convirza shows now.
	person := g.Person
	if cur, err := s.confirmed(ctx, g.Person, IdentityMaxAge); err != nil {
		if errors.Is(err, ErrSignedOut) {
			return nil, errGrant(ErrSignedOut.Error())
		}
		s.log.WarnContext(ctx, "could not check the person's Convirza sign-in; refreshing anyway", "user", g.Person.UserID, "err", err)
	} else if cur.Person.UserID == g.Person.UserID {
		person = cur.Person
	}
	refresh := refreshPrefix + g.ID + "." + random(32)
	next := g
	next.Refresh = digest(refresh)
	next.Person = person
	next.Rotations++
	nb, err := json.Marshal(next)
	if err != nil {
		return nil, errServer(err)
	}
	swapped, err := s.st.Swap(ctx, grantKey(g.ID), old, nb)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errGrant("the sign-in was revoked: sign in again")
	case err != nil:
		return nil, errServer(err)
	case !swapped:
		// Another request rotated it first with the same token.
		_ = s.revokeGrant(ctx, g)
		return nil, errGrant("the refresh token was already used: the sign-in is revoked, sign in again")
	}
	access, ttl, err := s.newAccess(ctx, next, person)
	if err != nil {
		return nil, errServer(err)
	}
	return &issued{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(ttl / time.Second), RefreshToken: refresh, Scope: g.Scope}, nil
}

// revokeGrant ends one grant; when it was the person's last, their Convirza
// tokens are revoked and forgotten too.
func (s *Server) revokeGrant(ctx context.Context, g grant) error {
	if err := s.endGrant(ctx, g.ID); err != nil {
		return err
	}
	_ = s.st.Delete(ctx, personGrantKey(g.Person.UserID, g.ID))
	left, err := s.st.List(ctx, personPrefix(g.Person.UserID)+"grant/")
	if err != nil {
		return err
	}
	if len(left) == 0 {
		s.forgetUpstream(ctx, g.Person.UserID)
	}
	return nil
}

// RevokeSubject ends every grant of the person with this Convirza user id
// and revokes and forgets their Convirza tokens: their next request gets
// 401 (an operator offboarding someone, or Convirza refusing their refresh
// token).
func (s *Server) RevokeSubject(ctx context.Context, userID int64) (int, error) {
	grants, err := s.st.List(ctx, personPrefix(userID)+"grant/")
	if err != nil {
		return 0, fmt.Errorf("listing the person's grants: %w", err)
	}
	var errs []error
	for key := range grants {
		id := key[strings.LastIndexByte(key, '/')+1:]
		if err := s.endGrant(ctx, id); err != nil {
			errs = append(errs, err)
			continue
		}
		_ = s.st.Delete(ctx, key)
	}
	s.forgetUpstream(ctx, userID)
	s.log.InfoContext(ctx, "person's access revoked", "user", userID, "grants", len(grants))
	return len(grants) - len(errs), errors.Join(errs...)
}

// tokenError is an OAuth error answer of the token endpoint.
type tokenError struct {
	status int
	code   string
	desc   string
}

func errGrant(desc string) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: "invalid_grant", desc: desc}
}

func errRequest(desc string) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: "invalid_request", desc: desc}
}

// errServer answers a failure to record or read the grant's state; a
// sign-in revoked meanwhile (ErrSignedOut) is the client's invalid_grant.
func errServer(err error) *tokenError {
	if errors.Is(err, ErrSignedOut) {
		return errGrant("the sign-in was revoked: sign in again")
	}
	return &tokenError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", desc: "the server cannot reach its state store: " + err.Error()}
}

func (e *tokenError) write(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

// bearer returns the token of an "Authorization: Bearer" header (the scheme
// is case-insensitive). Tokens in the query string are never read.
func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", false
	}
	t := strings.TrimSpace(v[7:])
	return t, t != ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
