// Package talkdesk is a client of Talkdesk's Record Lists API (the contact
// lists of the outbound dialer): regions, the client-credentials grant with a
// shared token renewal, HAL pages followed by their links, typed errors, and
// one service per resource on a shared client.
package talkdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

// Region is where a Talkdesk account lives: its API gateway and its
// identity service (whose host carries the account name).
type Region struct {
	Name     string
	APIURL   string
	TokenURL string // with %s for the account
}

// Regions are the documented regions, by their TALKDESK_REGION name.
var Regions = map[string]Region{
	"us": {Name: "US", APIURL: "https://api.talkdeskapp.com", TokenURL: "https://%s.talkdeskid.com/oauth/token"},
	"eu": {Name: "EU", APIURL: "https://api.talkdeskapp.eu", TokenURL: "https://%s.talkdeskid.eu/oauth/token"},
	"ca": {Name: "CA", APIURL: "https://api.talkdeskappca.com", TokenURL: "https://%s.talkdeskidca.com/oauth/token"},
}

// ErrNoCredentials means the client has no way to authenticate.
var ErrNoCredentials = errors.New("no Talkdesk credentials: set TALKDESK_ACCOUNT, TALKDESK_CLIENT_ID and TALKDESK_CLIENT_SECRET (a client-credentials app with scope record-lists:manage; TALKDESK_REGION if not us), or run with --sandbox")

// accountName is a Talkdesk account as it appears in a host name.
var accountName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// Config says where the API is and how to authenticate. APIURL and TokenURL
// override the region's.
type Config struct {
	Account      string
	Region       string // us (default), eu, ca
	ClientID     string
	ClientSecret string
	APIURL       string
	TokenURL     string
	// Store and Sealer, when both are set, keep the access token in the
	// state store, sealed: every process using the store shares it and
	// renews it once. Unset: in memory only.
	Store  store.Store
	Sealer *store.Sealer
}

// Client is a Record Lists API client. It is safe for concurrent use.
type Client struct {
	http   *upstream.Client
	api    string   // base URL without a trailing slash
	base   *url.URL // api with a trailing slash: what links resolve against
	tokens *tokenSource
	log    *slog.Logger
	setup  error // why the client cannot work, if it cannot

	RecordLists *RecordListsService
	Records     *RecordsService
}

type service struct{ c *Client }

// New returns a client. It makes no request: the first call gets a token.
// A configuration that cannot work is reported by Configured and by every
// call, never here, so the server starts regardless.
func New(cfg Config, hc *upstream.Client, log *slog.Logger) *Client {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{http: hc, log: log}
	c.RecordLists = (*RecordListsService)(&service{c})
	c.Records = (*RecordsService)(&service{c})

	region := strings.ToLower(strings.TrimSpace(cfg.Region))
	if region == "" {
		region = "us"
	}
	reg, known := Regions[region]
	var missing []string
	switch {
	case !known:
		c.setup = fmt.Errorf("TALKDESK_REGION must be us, eu or ca; got %q", cfg.Region)
	default:
		if cfg.Account == "" && cfg.TokenURL == "" {
			missing = append(missing, "TALKDESK_ACCOUNT")
		}
		if cfg.ClientID == "" {
			missing = append(missing, "TALKDESK_CLIENT_ID")
		}
		if cfg.ClientSecret == "" {
			missing = append(missing, "TALKDESK_CLIENT_SECRET")
		}
		if len(missing) > 0 {
			c.setup = fmt.Errorf("%w (missing: %s)", ErrNoCredentials, strings.Join(missing, ", "))
		} else if cfg.TokenURL == "" && !accountName.MatchString(cfg.Account) {
			c.setup = fmt.Errorf("TALKDESK_ACCOUNT must be the account name as in https://NAME.mytalkdesk.com (letters, digits, hyphens); got %q", cfg.Account)
		}
	}

	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = reg.APIURL
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" && reg.TokenURL != "" {
		tokenURL = fmt.Sprintf(reg.TokenURL, cfg.Account)
	}
	c.api = strings.TrimRight(apiURL, "/")
	base, err := url.Parse(c.api + "/")
	if c.setup == nil && (err != nil || base.Scheme == "" || base.Host == "") {
		c.setup = fmt.Errorf("TALKDESK_API_URL must be an absolute URL; got %q", apiURL)
	}
	if base == nil {
		base = &url.URL{}
	}
	c.base = base
	c.tokens = newTokenSource(cfg, tokenURL, hc, log)
	return c
}

// Logout forgets the stored access token. Talkdesk documents no way to
// revoke one; it expires by itself (within 10 minutes). It reports whether
// one was stored.
func (c *Client) Logout(ctx context.Context) (stored bool, err error) {
	return c.tokens.forget(ctx)
}

// Configured reports whether the client can authenticate, and if not, what
// to set.
func (c *Client) Configured() error { return c.setup }

// upstreamName names the API in errors.
const upstreamName = "Talkdesk"

// fieldError is one invalid field as the API names it.
type fieldError struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// malformed is a 2xx answer that is not the documented shape.
func malformed(method, path string, status int, err error) *upstream.MalformedError {
	return &upstream.MalformedError{Upstream: upstreamName, Method: method, Path: path, Status: status, Err: err}
}

// AuthError is a refusal of the token endpoint, OAuth style
// {error, error_description}.
type AuthError struct {
	Status      int
	Code        string // the OAuth error: invalid_client, invalid_scope, ...
	Description string
}

func (e *AuthError) Error() string {
	s := fmt.Sprintf("Talkdesk token endpoint answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	switch e.Code {
	case "invalid_client", "unauthorized_client":
		s += " (check TALKDESK_CLIENT_ID and TALKDESK_CLIENT_SECRET, and the account and region)"
	case "invalid_scope":
		s += " (the app needs the scope " + Scope + ")"
	}
	return s
}

// errorBody is the API's documented error answer.
type errorBody struct {
	Code        json.RawMessage `json:"code"`
	Message     string          `json:"message"`
	Description string          `json:"description"`
	Fields      []fieldError    `json:"fields"`
}

// path returns the API URL of an API path (starting with "/").
func (c *Client) path(p string, query url.Values) string {
	u := c.api + p
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// resolve turns a HAL link into an absolute URL: relative links resolve
// against the API base. A link to another host is refused: the bearer token
// is never sent anywhere but the configured API.
func (c *Client) resolve(href string) (string, error) {
	ref, err := url.Parse(href)
	if err != nil {
		return "", fmt.Errorf("link %q: %w", href, err)
	}
	u := c.base.ResolveReference(ref)
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return "", fmt.Errorf("link %q leads away from the Talkdesk API at %s://%s; not following it", href, c.base.Scheme, c.base.Host)
	}
	return u.String(), nil
}

// do sends one API call to the absolute URL u and decodes a 2xx JSON answer
// into out (which may be nil). A 401 is answered once by a new token and a
// second attempt. Retries on 429/5xx are upstream's, for GET/PUT/DELETE only.
func (c *Client) do(ctx context.Context, method, u string, body, out any) error {
	resp, err := c.send(ctx, method, u, body)
	if err != nil {
		return err
	}
	return decode(method, pathOf(u), resp, out)
}

// send sends one API call to the absolute URL u and returns the answer
// whatever its status.
func (c *Client) send(ctx context.Context, method, u string, body any) (*upstream.Response, error) {
	if c.setup != nil {
		return nil, c.setup
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("encode %s %s body: %w", method, pathOf(u), err)
		}
	}
	h := http.Header{"Accept": {"application/json"}}
	if payload != nil {
		h.Set("Content-Type", "application/json")
	}
	return c.http.DoAuthorized(ctx, upstream.Request{Method: method, URL: u, Header: h, Body: payload}, c.tokens)
}

func decode(method, path string, resp *upstream.Response, out any) error {
	body := bytes.TrimSpace(resp.Body)
	if resp.Status < 200 || resp.Status > 299 {
		e := &upstream.APIError{Upstream: upstreamName, Method: method, Path: path, Status: resp.Status, RetryAfter: resp.Header.Get("Retry-After"), Unsafe: resp.Unsafe}
		var eb errorBody
		if err := json.Unmarshal(body, &eb); err == nil && (eb.Message != "" || len(eb.Code) > 0 || len(eb.Fields) > 0) {
			e.Code, e.Message, e.Description = rawString(eb.Code), eb.Message, eb.Description
			for _, f := range eb.Fields {
				e.Fields = append(e.Fields, upstream.FieldError{Field: f.Name, Message: f.Description})
			}
		} else {
			e.Message = snippet(body)
		}
		return e
	}
	if out == nil {
		return nil
	}
	if len(body) == 0 {
		return malformed(method, path, resp.Status, errors.New("empty answer"))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return malformed(method, path, resp.Status, err)
	}
	return nil
}

// pathOf drops the scheme, host and query of a URL for messages.
func pathOf(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Path
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// rawString reads a code sent as a string or a number.
func rawString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
