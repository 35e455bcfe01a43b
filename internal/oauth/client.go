package oauth

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/convirza/convirza-mcp/internal/store"
)

const (
	// registrationTTL: a dynamically registered client that long unused
	// must register again (clients do so by themselves on invalid_client).
	registrationTTL = 180 * 24 * time.Hour
	// maxMetadataBytes bounds a Client ID Metadata Document (the draft's
	// recommended limit).
	maxMetadataBytes = 5 << 10
	// fetchTimeout bounds fetching one.
	fetchTimeout = 5 * time.Second
	// maxRedirectURIs a client may register.
	maxRedirectURIs = 10
	// maxRequestBytes bounds the form and JSON bodies of the endpoints.
	maxRequestBytes = 16 << 10
)

// client is a registered client, or one known by its metadata document.
type client struct {
	ID           string    `json:"client_id"`
	Name         string    `json:"client_name,omitempty"`
	RedirectURIs []string  `json:"redirect_uris"`
	Created      time.Time `json:"created"`
	// Document: known by a Client ID Metadata Document (its client_id is
	// the document's https URL), not by a registration anyone may make.
	Document bool `json:"-"`
}

func clientKey(id string) string { return "oauth/client/" + digest(id) }

// lookupClient finds the client an authorization request names: a Client
// ID Metadata Document for an https URL, a registration otherwise. The
// error is for the person's eyes (it is never sent to a redirect URI).
func (s *Server) lookupClient(ctx context.Context, r *http.Request, id string) (*client, error) {
	// Every authorization request may fetch a document and writes a
	// pending request: both are limited per client address.
	ok, err := s.allow(ctx, "authorize/"+s.clientIP(r), s.authorizations, time.Minute)
	if err != nil {
		return nil, fmt.Errorf("the server cannot check its limits right now (%w); try again shortly", err)
	}
	if !ok {
		return nil, errors.New("too many sign-ins started from your address; wait a minute")
	}
	if strings.HasPrefix(id, "https://") {
		return s.fetchClient(ctx, id)
	}
	b, err := s.st.Get(ctx, clientKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("this application is not registered here (unknown client_id): start the sign-in again from the application")
	}
	if err != nil {
		return nil, fmt.Errorf("the server cannot read its registrations right now (%w); try again shortly", err)
	}
	var c client
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, errors.New("this application's registration is damaged: register it again")
	}
	return &c, nil
}

// register is RFC 7591 dynamic client registration, for clients without a
// metadata document: public clients only (no secret), redirect URIs on
// loopback http or https.
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	fail := func(code, desc string) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
	}
	ok, err := s.allow(r.Context(), "register/"+s.clientIP(r), s.registrations, time.Hour)
	if err != nil {
		errServer(err).write(w)
		return
	}
	if !ok {
		w.Header().Set("Retry-After", "3600")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too_many_requests", "error_description": "too many registrations from this address; try again later"})
		return
	}
	var req struct {
		RedirectURIs []string `json:"redirect_uris"`
		ClientName   string   `json:"client_name"`
		GrantTypes   []string `json:"grant_types"`
		Response     []string `json:"response_types"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		fail("invalid_client_metadata", "the body is missing or larger than 16 KiB")
		return
	}
	if err := json.Unmarshal(body, &req); err != nil {
		fail("invalid_client_metadata", "the body must be a JSON object of client metadata")
		return
	}
	if len(req.RedirectURIs) == 0 || len(req.RedirectURIs) > maxRedirectURIs {
		fail("invalid_redirect_uri", fmt.Sprintf("redirect_uris must list 1 to %d URIs", maxRedirectURIs))
		return
	}
	for _, u := range req.RedirectURIs {
		if err := s.checkRedirectURI(u); err != nil {
			fail("invalid_redirect_uri", err.Error())
			return
		}
	}
	for _, g := range req.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			fail("invalid_client_metadata", fmt.Sprintf("grant type %q is not supported: authorization_code and refresh_token are", g))
			return
		}
	}
	for _, t := range req.Response {
		if t != "code" {
			fail("invalid_client_metadata", fmt.Sprintf("response type %q is not supported: code is", t))
			return
		}
	}
	c := client{ID: "cmcp_c_" + randomHex(16), Name: cleanName(req.ClientName), RedirectURIs: req.RedirectURIs, Created: s.now().UTC()}
	b, err := json.Marshal(c)
	if err != nil {
		errServer(err).write(w)
		return
	}
	if err := s.st.Create(r.Context(), clientKey(c.ID), b, registrationTTL); err != nil {
		errServer(err).write(w)
		return
	}
	s.log.InfoContext(r.Context(), "oauth client registered", "client", c.ID, "name", c.Name)
	w.Header().Set("Cache-Control", "no-store")
	// Every client is public: whatever authentication method was asked
	// for, it is "none" (RFC 7591 §3.2.1 lets the server replace values).
	writeJSON(w, http.StatusCreated, map[string]any{
		"client_id":                  c.ID,
		"client_id_issued_at":        c.Created.Unix(),
		"client_name":                c.Name,
		"redirect_uris":              c.RedirectURIs,
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	})
}

// cleanName keeps a client's self-chosen name short and printable: it is
// shown on the sign-in page (escaped there as well).
func cleanName(n string) string {
	n = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, strings.TrimSpace(n))
	if r := []rune(n); len(r) > 80 {
		n = string(r[:80]) + "…"
	}
	return n
}

// checkRedirectURI accepts loopback http URIs (RFC 8252 §7.3) and https
// URIs, these on the allowed hosts when the server names some
// (CONVIRZA_MCP_OAUTH_REDIRECT_HOSTS): a redirect URI is where a person's
// sign-in is sent, so an open registration with any host would let anyone
// collect sign-ins through this server's own page.
func (s *Server) checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("redirect URI %q is not an absolute http(s) URL", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") || u.User != nil {
		return fmt.Errorf("redirect URI %q must have no fragment and no user information", raw)
	}
	switch u.Scheme {
	case "https":
		if !s.redirectHostAllowed(u.Hostname()) {
			return fmt.Errorf("redirect URI %q is on a host this server does not send sign-ins to (CONVIRZA_MCP_OAUTH_REDIRECT_HOSTS: %s)", raw, strings.Join(s.redirectHosts, ", "))
		}
		return nil
	case "http":
		if loopbackHost(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("redirect URI %q must be https, or http on a loopback address (127.0.0.1, [::1], localhost)", raw)
}

// redirectHostAllowed matches host against the allowed hosts: exactly, or
// "*.example.com" for any subdomain of example.com (not example.com itself).
func (s *Server) redirectHostAllowed(host string) bool {
	if len(s.redirectHosts) == 0 {
		return true
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range s.redirectHosts {
		if suffix, wild := strings.CutPrefix(h, "*"); wild {
			if strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
				return true
			}
		} else if host == h {
			return true
		}
	}
	return false
}

// redirectHostRule checks and normalises CONVIRZA_MCP_OAUTH_REDIRECT_HOSTS:
// host names, or "*." and a domain.
func redirectHostRule(hosts []string) ([]string, error) {
	var out []string
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
		if h == "" {
			continue
		}
		name := strings.TrimPrefix(h, "*.")
		if name == "" || strings.ContainsAny(name, "*/:@ ") || !strings.Contains(name, ".") && name != "localhost" {
			return nil, fmt.Errorf("CONVIRZA_MCP_OAUTH_REDIRECT_HOSTS: %q is not a host name or *.domain", h)
		}
		if h != name {
			h = "*." + name
		}
		out = append(out, h)
	}
	return out, nil
}

// redirectMatches compares a requested redirect URI with a registered one:
// exactly, except that a loopback http URI may use any port (RFC 8252 §7.3:
// native apps listen on a port of the moment).
func redirectMatches(registered, requested string) bool {
	if registered == requested {
		return true
	}
	a, err1 := url.Parse(registered)
	b, err2 := url.Parse(requested)
	if err1 != nil || err2 != nil || a.Scheme != "http" || b.Scheme != "http" || !loopbackHost(a.Hostname()) {
		return false
	}
	return a.Hostname() == b.Hostname() && a.EscapedPath() == b.EscapedPath() && a.RawQuery == b.RawQuery &&
		a.User == nil && b.User == nil && b.Fragment == "" && b.Port() != ""
}

// fetchClient fetches and checks a Client ID Metadata Document: over https
// from a public address only (the dialer checks every address it connects
// to), no redirects, at most 5 KiB, within 5 seconds; its client_id must be
// the URL itself, and it must describe a public client.
func (s *Server) fetchClient(ctx context.Context, id string) (*client, error) {
	u, err := url.Parse(id)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || u.Path == "" || u.Path == "/" {
		return nil, errors.New("the client_id is not a valid metadata document URL (https, with a path, no fragment)")
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, errors.New("the client_id is not a valid metadata document URL")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.fetch.Do(req)
	if err != nil {
		var blocked *blockedAddrError
		if errors.As(err, &blocked) {
			s.log.WarnContext(ctx, "client metadata document refused: not a public address", "client", id, "addr", blocked.addr.String())
		} else {
			s.log.InfoContext(ctx, "client metadata document not fetched", "client", id, "err", err)
		}
		return nil, fmt.Errorf("the application's metadata document could not be fetched from %s: %s", u.Host, fetchReason(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the application's metadata document at %s answered %d, not 200 (redirects are not followed)", u.Host, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, fmt.Errorf("the application's metadata document is %q, not JSON", ct)
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes+1))
	if err != nil {
		return nil, fmt.Errorf("the application's metadata document could not be read: %s", fetchReason(err))
	}
	if len(body) > maxMetadataBytes {
		return nil, errors.New("the application's metadata document is larger than 5 KiB")
	}
	var doc struct {
		ClientID     string   `json:"client_id"`
		ClientName   string   `json:"client_name"`
		RedirectURIs []string `json:"redirect_uris"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
		Secret       *string  `json:"client_secret"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errors.New("the application's metadata document is not a JSON object of client metadata")
	}
	switch {
	case doc.ClientID != id:
		return nil, errors.New("the application's metadata document names another client_id than its own URL")
	case doc.Secret != nil:
		return nil, errors.New("the application's metadata document holds a client_secret, which a public document must not")
	case doc.AuthMethod != "" && doc.AuthMethod != "none":
		return nil, fmt.Errorf("the application's metadata document asks for token endpoint authentication %q; this server has public clients only (none)", doc.AuthMethod)
	}
	c := &client{ID: id, Name: cleanName(doc.ClientName), Document: true, Created: s.now().UTC()}
	for _, ru := range doc.RedirectURIs {
		if s.checkRedirectURI(ru) == nil {
			c.RedirectURIs = append(c.RedirectURIs, ru)
		}
	}
	return c, nil
}

// fetchReason says why a fetch failed without the Go noise around it.
func fetchReason(err error) string {
	var blocked *blockedAddrError
	switch {
	case errors.As(err, &blocked):
		return blocked.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer within 5 seconds"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// newFetchClient is the HTTP client of metadata documents: no proxy (it
// would connect for us, past the address check), no redirects, every
// connection to an address allowed passes.
func newFetchClient(tlsConf *tls.Config, allowed func(netip.Addr) bool) *http.Client {
	if tlsConf == nil {
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	d := &net.Dialer{Timeout: fetchTimeout}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("%s has no address", host)
		}
		// Every address must be allowed, and the one connected to is one
		// of those checked (no second lookup a rebinding DNS could answer
		// differently).
		for _, ip := range ips {
			if !allowed(ip.Unmap()) {
				return nil, &blockedAddrError{host: host, addr: ip.Unmap()}
			}
		}
		var errs []error
		for _, ip := range ips {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			errs = append(errs, err)
		}
		return nil, errors.Join(errs...)
	}
	return &http.Client{
		Timeout: fetchTimeout,
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            dial,
			TLSClientConfig:        tlsConf,
			ForceAttemptHTTP2:      true,
			TLSHandshakeTimeout:    fetchTimeout,
			ResponseHeaderTimeout:  fetchTimeout,
			MaxResponseHeaderBytes: 16 << 10,
			MaxIdleConns:           10,
			IdleConnTimeout:        30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// blockedAddrError: a metadata document's host resolves to an address it
// may not be fetched from.
type blockedAddrError struct {
	host string
	addr netip.Addr
}

// Error names the host, not the address: the page that shows it must not
// tell a stranger what an internal name resolves to.
func (e *blockedAddrError) Error() string {
	return e.host + " resolves to an address that is not a public address"
}

// specialNets are ranges no metadata document is fetched from, beyond what
// netip's predicates name: shared address space, benchmarking,
// documentation, IETF and reserved ranges, NAT64 (which could reach any
// IPv4 address) and the discard and Teredo/6to4 relays.
var specialNets = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// PublicAddr is the default address policy of metadata document fetches: a
// global unicast address that is not private, loopback, link-local or in
// another special-purpose range.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range specialNets {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
