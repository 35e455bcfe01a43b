// Package oauth gives the HTTP server per-person identity
// (CONVIRZA_MCP_AUTH=oauth): it is an OAuth 2.1 authorization server whose
// sign-in page is the Convirza login, and the resource server check of the
// MCP endpoints, per the MCP authorization specification.
//
// Endpoints (Server.ServeHTTP):
//
//	GET  /.well-known/oauth-protected-resource[/mcp|/sse]  RFC 9728
//	GET  /.well-known/oauth-authorization-server            RFC 8414
//	GET  /authorize   the sign-in page (code flow, PKCE S256, RFC 8707 resource)
//	POST /authorize   fields email and password (and the page's request id)
//	POST /token       authorization_code and refresh_token (rotated) grants
//	POST /register    RFC 7591 dynamic registration, for older clients
//	POST /revoke      RFC 7009: a person's sign-out from one client
//
// Clients register by Client ID Metadata Document (a client_id that is an
// https URL, fetched over https from a public address only) or by dynamic
// registration; redirect URIs are loopback http (any port, RFC 8252) or
// https, and match exactly otherwise.
//
// The person types their Convirza email and password into the page; the
// server signs them in at Convirza (never keeping the password), keeps
// their Convirza tokens sealed in the state store, and issues its own
// access tokens: ten minutes, bound to the person, the client, the resource
// (audience) and the scope.
//
// Access and refresh tokens are opaque: random, stored only as their
// SHA-256 under a record with an expiry. Not signed tokens, because every
// request must see a revocation at once (sign-out, an operator removing a
// person, Convirza refusing the person's refresh token), so the store is
// read on every request anyway; an opaque token then costs nothing more,
// and there is no signing key to leak, share between replicas or rotate:
// replacing one cannot log anyone out. Refresh tokens rotate on every use;
// presenting a spent one revokes the grant (RFC 9700 §4.14.2).
//
// Records (all in the state store, all with an expiry): oauth/client/ID
// (dynamic registrations), oauth/req/ID (a sign-in page's pending request),
// oauth/code/HASH (single use through Swap), oauth/grant/ID (one person's
// authorization of one client; holds the current refresh token's hash),
// oauth/at/GRANT/HASH (access tokens, under their grant: revoking it deletes them), oauth/person/UID/grant/ID (a person's
// grants), oauth/person/UID/convirza (their Convirza tokens, sealed), and
// rate-limit counters under oauth/rl/.
package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
)

// Scope is the one scope this server grants: act in Convirza as the person
// who signed in (their Convirza role decides what that allows).
const Scope = "convirza"

// Paths the Server answers; the HTTP transport hands them to it before its
// own authentication.
const (
	PathResourceMetadata = "/.well-known/oauth-protected-resource"
	PathServerMetadata   = "/.well-known/oauth-authorization-server"
	PathAuthorize        = "/authorize"
	PathToken            = "/token"
	PathRegister         = "/register"
	PathRevoke           = "/revoke"
)

// The MCP endpoints this server protects.
const (
	endpointMCP     = "/mcp"
	endpointSSE     = "/sse"
	endpointMessage = "/message"
)

// Identity is who a Convirza login says a person is.
type Identity struct {
	UserID    int64  `json:"user_id"`
	Email     string `json:"email"`
	RoleID    int    `json:"role_id,omitempty"`
	Role      string `json:"role,omitempty"`
	OrgUnitID int64  `json:"org_unit_id,omitempty"`
}

// Tokens are a person's Convirza tokens. A zero expiry means unknown.
type Tokens struct {
	Access        string    `json:"access"`
	Refresh       string    `json:"refresh"`
	AccessExpiry  time.Time `json:"access_expiry,omitzero"`
	RefreshExpiry time.Time `json:"refresh_expiry,omitzero"`
}

// Upstream is the Convirza OAuth service as the sign-in uses it
// (ConvirzaUpstream is the real one).
type Upstream interface {
	// Login signs a person in. ErrBadCredentials: wrong email or password
	// (the same for an unknown email); ErrUpstreamLimited: Convirza's own
	// rate limit.
	Login(ctx context.Context, email, password string) (Identity, Tokens, error)
	// Refresh renews a person's tokens (the refresh token rotates).
	// ErrRefreshRejected: the refresh token is dead (expired, revoked, the
	// person removed); the Identity is zero when the answer did not say.
	Refresh(ctx context.Context, refresh string) (Identity, Tokens, error)
	// Revoke revokes one token, kind "access" or "refresh".
	Revoke(ctx context.Context, token, kind string) error
}

// Errors of Upstream.
var (
	ErrBadCredentials  = errors.New("wrong email or password")
	ErrUpstreamLimited = errors.New("Convirza refused more sign-ins for now (its rate limit)")
	ErrRefreshRejected = errors.New("Convirza refused the refresh token")
)

// Errors of Authenticate and UpstreamTokens.
var (
	// ErrNoToken: the request carries no bearer token.
	ErrNoToken = errors.New("no access token: sign in")
	// ErrInvalidToken: unknown, expired or revoked token.
	ErrInvalidToken = errors.New("the access token is unknown, expired or revoked: sign in again")
	// ErrWrongAudience: a token of this server, issued for another of its
	// resources (RFC 8707).
	ErrWrongAudience = errors.New("the access token was issued for another resource")
	// ErrSignedOut: the person's access ended (signed out, revoked by an
	// operator, or Convirza refused their refresh token); their grants are
	// revoked and their next request gets 401.
	ErrSignedOut = errors.New("signed out of Convirza: sign in again")
	// ErrUnconfirmed: Convirza renewed the person's tokens without saying
	// who they are, so their current role is not known (Identify).
	ErrUnconfirmed = errors.New("Convirza did not confirm who the person is (its renewal answer named no user), so their current role is not known")
)

// Subject is the person an access token speaks for.
type Subject struct {
	Identity
	ClientID string `json:"client_id"`
	GrantID  string `json:"grant_id"`
	Resource string `json:"resource"`
	Scope    string `json:"scope"`
}

// ID is the person's stable id: their Convirza user id.
func (s Subject) ID() string { return strconv.FormatInt(s.UserID, 10) }

// Principal names the person for the policy layer (confirmation tokens,
// approvals, audit): "user:<Convirza user id>".
func (s Subject) Principal() string { return "user:" + s.ID() }

type subjectKey struct{}

// WithSubject records the authenticated person in ctx.
func WithSubject(ctx context.Context, s Subject) context.Context {
	return context.WithValue(ctx, subjectKey{}, s)
}

// SubjectFrom returns the person WithSubject recorded.
func SubjectFrom(ctx context.Context) (Subject, bool) {
	s, ok := ctx.Value(subjectKey{}).(Subject)
	return s, ok
}

// Options are a Server's dependencies and settings; Store, Sealer,
// Upstream and PublicURL are required.
type Options struct {
	Store    store.Store
	Sealer   *store.Sealer
	Upstream Upstream
	// PublicURL is the server's external base URL (CONVIRZA_MCP_PUBLIC_URL):
	// https, or http on a loopback host.
	PublicURL string
	// TrustedProxies are addresses or CIDR ranges whose X-Forwarded-For is
	// believed (CONVIRZA_MCP_TRUSTED_PROXIES), for per-IP limits.
	TrustedProxies []string
	// ClientIP, when set, replaces the TrustedProxies rule.
	ClientIP func(*http.Request) string
	Log      *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time

	// AccessTTL (default 10m) of access tokens; GrantTTL (default 30 days)
	// of a sign-in, refreshes included; CodeTTL (default 2m); RequestTTL
	// (default 10m): how long a sign-in page stays valid.
	AccessTTL, GrantTTL, CodeTTL, RequestTTL time.Duration
	// Sign-in attempts per minute: per client IP (default 5), per account
	// (default 5), and in all (default 10: Convirza allows 10 logins a
	// minute from one IP, and every sign-in leaves from this server).
	SignInsPerIP, SignInsPerAccount, SignInsTotal int
	// UpstreamLogins, when set, replaces the SignInsTotal count: it admits
	// one login to Convirza (0) or says how many seconds until one may go,
	// counting with every other login the deployment makes to Convirza
	// (its service account's), as Convirza's limit is per address.
	UpstreamLogins func(ctx context.Context) (wait int64, err error)
	// RegistrationsPerIP per hour (default 20); AuthorizationsPerIP per
	// minute (default 30): sign-in pages opened, each of which may fetch a
	// Client ID Metadata Document and writes a pending request.
	RegistrationsPerIP, AuthorizationsPerIP int

	// FetchTLS is the TLS configuration for fetching Client ID Metadata
	// Documents (default: the system's roots). Tests trust their own
	// server's certificate here.
	FetchTLS *tls.Config
	// AddrAllowed says whether a metadata document may be fetched from an
	// address; default PublicAddr (never loopback, private, link-local or
	// otherwise special). Tests allow 127.0.0.1 here.
	AddrAllowed func(netip.Addr) bool
	// RedirectHosts, when set (CONVIRZA_MCP_OAUTH_REDIRECT_HOSTS), are the
	// only hosts an https redirect URI may name: "claude.ai", or
	// "*.example.com" for its subdomains. Loopback http redirect URIs (the
	// desktop clients') are always accepted. Empty: any https host, so
	// anyone may register an application that receives a person's sign-in.
	RedirectHosts []string
}

// Server is the authorization server and the resource server check.
type Server struct {
	st       store.Store
	seal     *store.Sealer
	up       Upstream
	log      *slog.Logger
	now      func() time.Time
	clientIP func(*http.Request) string

	public string // base URL, no trailing slash; the issuer
	origin string // scheme://host of public, for the Origin check
	// The resources (audiences) this server accepts: its MCP endpoint, its
	// SSE endpoint, and the whole server.
	resMCP, resSSE, resBase string

	accessTTL, grantTTL, codeTTL, requestTTL time.Duration
	perIP, perAccount, total                 int64
	upstreamLogins                           func(ctx context.Context) (int64, error)
	registrations, authorizations            int64

	fetch *http.Client
	page  *template.Template
	mux   *http.ServeMux

	// redirectHosts: the https hosts sign-ins may be sent to (nil: any).
	redirectHosts []string
}

// New builds a Server.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Sealer == nil || o.Upstream == nil {
		return nil, errors.New("oauth: Store, Sealer and Upstream are required")
	}
	public, err := checkPublicURL(o.PublicURL)
	if err != nil {
		return nil, err
	}
	hosts, err := redirectHostRule(o.RedirectHosts)
	if err != nil {
		return nil, err
	}
	s := &Server{st: o.Store, seal: o.Sealer, up: o.Upstream, log: o.Log, now: o.Now, clientIP: o.ClientIP, public: public, redirectHosts: hosts}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.clientIP == nil {
		ip, err := ClientIP(o.TrustedProxies)
		if err != nil {
			return nil, err
		}
		s.clientIP = ip
	}
	u, _ := url.Parse(public)
	s.origin = u.Scheme + "://" + u.Host
	s.resBase = public
	s.resMCP = public + endpointMCP
	s.resSSE = public + endpointSSE
	s.accessTTL = orDuration(o.AccessTTL, 10*time.Minute)
	s.grantTTL = orDuration(o.GrantTTL, 30*24*time.Hour)
	s.codeTTL = orDuration(o.CodeTTL, 2*time.Minute)
	s.requestTTL = orDuration(o.RequestTTL, 10*time.Minute)
	s.perIP = orInt(o.SignInsPerIP, 5)
	s.perAccount = orInt(o.SignInsPerAccount, 5)
	s.total = orInt(o.SignInsTotal, 10)
	s.upstreamLogins = o.UpstreamLogins
	s.registrations = orInt(o.RegistrationsPerIP, 20)
	s.authorizations = orInt(o.AuthorizationsPerIP, 30)
	allowed := o.AddrAllowed
	if allowed == nil {
		allowed = PublicAddr
	}
	s.fetch = newFetchClient(o.FetchTLS, allowed)
	s.page = signInPage
	s.routes()
	return s, nil
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func orInt(n, def int) int64 {
	if n > 0 {
		return int64(n)
	}
	return int64(def)
}

// checkPublicURL validates CONVIRZA_MCP_PUBLIC_URL and returns it without a
// trailing slash.
func checkPublicURL(raw string) (string, error) {
	const name = "CONVIRZA_MCP_PUBLIC_URL"
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("%s is required with CONVIRZA_MCP_AUTH=oauth: the server's external base URL, e.g. https://mcp.example.com", name)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s must be an absolute URL without user, query or fragment, e.g. https://mcp.example.com", name)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !loopbackHost(u.Hostname()) {
			return "", fmt.Errorf("%s must be https (plain http only on a loopback address): people type their Convirza password into its sign-in page", name)
		}
	default:
		return "", fmt.Errorf("%s must be an https URL", name)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return strings.TrimRight(u.String(), "/"), nil
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// Serves reports whether path is one of the Server's endpoints.
func (s *Server) Serves(path string) bool {
	switch path {
	case PathResourceMetadata, PathResourceMetadata + endpointMCP, PathResourceMetadata + endpointSSE,
		PathServerMetadata, PathAuthorize, PathToken, PathRegister, PathRevoke:
		return true
	}
	return false
}

// ServeHTTP serves the metadata, authorization, token, registration and
// revocation endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET "+PathResourceMetadata, s.cors(s.resourceMetadata(s.resMCP)))
	m.HandleFunc("GET "+PathResourceMetadata+endpointMCP, s.cors(s.resourceMetadata(s.resMCP)))
	m.HandleFunc("GET "+PathResourceMetadata+endpointSSE, s.cors(s.resourceMetadata(s.resSSE)))
	m.HandleFunc("GET "+PathServerMetadata, s.cors(s.serverMetadata))
	m.HandleFunc("GET "+PathAuthorize, s.authorizePage)
	m.HandleFunc("POST "+PathAuthorize, s.signIn)
	m.HandleFunc("POST "+PathToken, s.cors(s.token))
	m.HandleFunc("POST "+PathRegister, s.cors(s.register))
	m.HandleFunc("POST "+PathRevoke, s.cors(s.revoke))
	for _, p := range []string{PathResourceMetadata, PathResourceMetadata + endpointMCP, PathResourceMetadata + endpointSSE,
		PathServerMetadata, PathToken, PathRegister, PathRevoke} {
		m.HandleFunc("OPTIONS "+p, s.cors(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	}
	s.mux = m
}

// cors lets browser-based clients read the metadata and use the token,
// registration and revocation endpoints: none of them reads a cookie, so
// any origin may call them.
func (s *Server) cors(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
			h.Set("Access-Control-Max-Age", "600")
		}
		next(w, r)
	}
}

func (s *Server) resourceMetadata(resource string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"resource":                 resource,
			"authorization_servers":    []string{s.public},
			"scopes_supported":         []string{Scope},
			"bearer_methods_supported": []string{"header"},
			"resource_name":            "Convirza MCP server",
		})
	}
}

func (s *Server) serverMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                         s.public,
		"authorization_endpoint":                         s.public + PathAuthorize,
		"token_endpoint":                                 s.public + PathToken,
		"registration_endpoint":                          s.public + PathRegister,
		"revocation_endpoint":                            s.public + PathRevoke,
		"scopes_supported":                               []string{Scope},
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"none"},
		"revocation_endpoint_auth_methods_supported":     []string{"none"},
		"client_id_metadata_document_supported":          true,
		"authorization_response_iss_parameter_supported": true,
	})
}

// ResourceMetadataURL is the metadata document a 401 on path points to.
func (s *Server) ResourceMetadataURL(path string) string {
	if path == endpointSSE || path == endpointMessage {
		return s.public + PathResourceMetadata + endpointSSE
	}
	return s.public + PathResourceMetadata
}

// audiences are the resources a token may be issued for to be used on path.
func (s *Server) audiences(path string) []string {
	switch path {
	case endpointMCP:
		return []string{s.resMCP, s.resBase}
	case endpointSSE, endpointMessage:
		return []string{s.resSSE, s.resBase}
	}
	return []string{s.resBase, s.resMCP, s.resSSE}
}

// resource resolves a request's RFC 8707 resource parameter to one of this
// server's resources: none given means the whole server (older clients send
// none); anything else must name one of them.
func (s *Server) resource(raw string) (string, bool) {
	if raw == "" {
		return s.resBase, true
	}
	c, ok := canonicalURL(raw)
	if !ok {
		return "", false
	}
	for _, r := range []string{s.resMCP, s.resSSE, s.resBase} {
		if c == r {
			return r, true
		}
	}
	return "", false
}

// canonicalURL normalises an absolute URL for comparison: lower-case scheme
// and host, no default port, no trailing slash; a fragment, a query or
// user information make it unusable as a resource indicator.
func canonicalURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	if (scheme == "https" && strings.HasSuffix(host, ":443")) || (scheme == "http" && strings.HasSuffix(host, ":80")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/"), true
}

// ClientIP returns the rule that finds a request's client address: the
// connection's peer, or, when the peer is a trusted proxy, the nearest
// address in X-Forwarded-For that is not one. trusted holds addresses and
// CIDR ranges.
func ClientIP(trusted []string) (func(*http.Request) string, error) {
	var nets []netip.Prefix
	for _, t := range trusted {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if p, err := netip.ParsePrefix(t); err == nil {
			nets = append(nets, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(t)
		if err != nil {
			return nil, fmt.Errorf("CONVIRZA_MCP_TRUSTED_PROXIES: %q is not an address or CIDR range", t)
		}
		nets = append(nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range nets {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		host := r.RemoteAddr
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		peer, err := netip.ParseAddr(host)
		if err != nil {
			return host
		}
		peer = peer.Unmap()
		if !isTrusted(peer) {
			return peer.String()
		}
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			peer = a.Unmap()
			if !isTrusted(peer) {
				return peer.String()
			}
		}
		return peer.String()
	}, nil
}

// random returns n random bytes in unpadded base64url.
func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// digest names a secret in the store: its SHA-256 in hex.
func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
