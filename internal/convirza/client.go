// Package convirza is a client of the Convirza Platform API v3: OAuth token
// management, the {code,message,data,request_id,timestamp} envelope, typed
// errors, and one service per resource on a shared client.
package convirza

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

// Default base URLs of the two hosts.
const (
	DefaultAPIURL   = "https://platform-api.convirza.com/v3"
	DefaultOAuthURL = "https://platform-oauth.convirza.com"
)

// Config says where the API is and how to authenticate.
type Config struct {
	APIURL       string
	OAuthURL     string
	Email        string
	Password     string
	AccessToken  string
	RefreshToken string
	// Store and Sealer, when both are set, keep the tokens the client
	// obtains in the state store, sealed: they survive restarts, and every
	// process using the store shares them and renews them once. Unset:
	// in memory only.
	Store  store.Store
	Sealer *store.Sealer
}

// Client is a Convirza v3 API client. It is safe for concurrent use.
type Client struct {
	http   *upstream.Client
	api    string
	tokens *tokenSource
	log    *slog.Logger

	Groups   *GroupsService
	Users    *UsersService
	Webhooks *WebhooksService
	Account  *AccountService
	Tags     *TagsService

	Conversations *ConversationsService
	Broadcasts    *BroadcastsService
	Numbers       *NumbersService
	Routes        *RoutesService
	VoiceAgents   *VoiceAgentsService
	Media         *MediaService
}

// New returns a client. It makes no request: the first call logs in.
func New(cfg Config, hc *upstream.Client, log *slog.Logger) *Client {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.OAuthURL == "" {
		cfg.OAuthURL = DefaultOAuthURL
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		http: hc,
		api:  strings.TrimRight(cfg.APIURL, "/"),
		log:  log,
	}
	c.tokens = newTokenSource(cfg, hc, log)
	c.Groups = &GroupsService{r: resource[Group]{c: c, path: "/groups", listPath: "/groups/list", listKey: "groups"}}
	c.Users = &UsersService{r: resource[User]{c: c, path: "/users", listPath: "/users/list", listKey: "users"}}
	c.Webhooks = &WebhooksService{r: resource[Webhook]{c: c, path: "/webhooks", listPath: "/webhooks/list", listKey: "webhooks"},
		fillID: func(w *Webhook, id int64) {
			if w.WebhookID == 0 {
				w.WebhookID = id
			}
		}}
	c.Account = &AccountService{c: c}
	c.Tags = &TagsService{c: c}
	c.Conversations = &ConversationsService{calls: resource[Call]{c: c, path: "/conversations/calls", listKey: "calls"}, sms: resource[SMSConversation]{c: c, path: "/conversations/sms", listKey: "conversation"}}
	c.Broadcasts = &BroadcastsService{r: resource[Broadcast]{c: c, path: "/broadcast", listKey: "broadcasts"}}
	c.Numbers = &NumbersService{c: c}
	c.Routes = &RoutesService{r: resource[Route]{c: c, path: "/provisioned-routes", listKey: "provisioned_routes"}}
	c.VoiceAgents = &VoiceAgentsService{r: resource[VoiceAgent]{c: c, path: "/ai-voice-agents", listKey: "voice_agents"},
		fillID: func(v *VoiceAgent, id int64) {
			if v.VoiceAgentID == 0 {
				v.VoiceAgentID = id
			}
		}}
	c.Media = &MediaService{r: resource[MediaPrompt]{c: c, path: "/media-prompts", listKey: "media_prompts"}}
	return c
}

// Configured reports whether the client has any way to authenticate, and if
// not, what to set.
func (c *Client) Configured() error { return c.tokens.configured() }

// Logout revokes the tokens the client obtained and stored (never one the
// environment gave) and forgets them. Nothing else revokes them: not a
// shutdown, since other processes and replicas share them.
func (c *Client) Logout(ctx context.Context) (LogoutResult, error) {
	return c.tokens.logout(ctx)
}

// upstreamName names the API in errors.
const upstreamName = "Convirza"

// fieldError is one validation problem as the API reports it.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func fieldErrors(fs []fieldError) []upstream.FieldError {
	if len(fs) == 0 {
		return nil
	}
	out := make([]upstream.FieldError, len(fs))
	for i, f := range fs {
		out[i] = upstream.FieldError{Field: f.Field, Message: f.Message}
	}
	return out
}

// malformed is a 2xx answer that is not the documented shape.
func malformed(method, path string, status int, requestID string, err error) *upstream.MalformedError {
	return &upstream.MalformedError{Upstream: upstreamName, Method: method, Path: path, Status: status, RequestID: requestID, Err: err}
}

// envelope is the documented wrapper of every answer.
type envelope struct {
	Code      json.RawMessage `json:"code"`
	Status    json.RawMessage `json:"status"` // "error" says the call failed
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data"`
	RequestID string          `json:"request_id"`
	Timestamp string          `json:"timestamp"`
	Errors    []fieldError    `json:"errors"`
}

// failure reports an envelope that says the call failed whatever the HTTP
// status: a code outside 2xx, or status "error". code is the envelope's
// code as sent ("" when it has none).
func (e *envelope) failure() (code string, failed bool) {
	code = rawCode(e.Code)
	if n, err := strconv.Atoi(code); err == nil && (n < 200 || n > 299) {
		return code, true
	}
	var status string
	_ = json.Unmarshal(e.Status, &status)
	return code, strings.EqualFold(strings.TrimSpace(status), "error")
}

// rawCode reads a code sent as a number or a string.
func rawCode(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(string(raw))
}

// Meta is what a call learnt besides its data.
type Meta struct {
	RequestID string
	Message   string
	// GoneAfterRetry reports a DELETE counted as done although its last
	// answer was 404: an earlier attempt, whose answer was lost (dropped
	// connection, 502, 503 or 504), may have deleted it, and a retry found
	// it gone. Message says so.
	GoneAfterRetry bool
}

// goneAfterRetryNote is Meta.Message of a DELETE done by a lost attempt.
const goneAfterRetryNote = "already gone after a retry: the first attempt's answer was lost, and it most likely did the delete"

// do sends one API call and decodes the envelope's data into out (which may
// be nil). A 401 is answered once by a token renewal and a second attempt.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) (Meta, error) {
	u := c.api + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	h := http.Header{"Accept": {"application/json"}}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return Meta{}, fmt.Errorf("encode %s %s body: %w", method, path, err)
		}
		h.Set("Content-Type", "application/json")
	}
	resp, err := c.http.DoAuthorized(ctx, upstream.Request{Method: method, URL: u, Header: h, Body: payload}, c.credentials(ctx))
	if err != nil {
		return Meta{}, err
	}
	return decode(method, path, resp, out)
}

// doStream is do for a streamed body that is not JSON (multipart uploads).
func (c *Client) doStream(ctx context.Context, method, path, contentType string, body *upstream.Stream, out any) (Meta, error) {
	h := http.Header{"Accept": {"application/json"}, "Content-Type": {contentType}}
	resp, err := c.http.DoAuthorized(ctx, upstream.Request{Method: method, URL: c.api + path, Header: h, Stream: body}, c.credentials(ctx))
	if err != nil {
		return Meta{}, err
	}
	return decode(method, path, resp, out)
}

func decode(method, path string, resp *upstream.Response, out any) (Meta, error) {
	var env envelope
	jsonErr := json.Unmarshal(bytes.TrimSpace(resp.Body), &env)
	meta := Meta{RequestID: env.RequestID, Message: env.Message}
	if meta.RequestID == "" {
		meta.RequestID = resp.Header.Get("X-Request-Id")
	}
	if out == nil && resp.GoneAfterRetry(method) {
		meta.Message, meta.GoneAfterRetry = goneAfterRetryNote, true
		return meta, nil
	}
	if resp.Status < 200 || resp.Status > 299 {
		e := &upstream.APIError{Upstream: upstreamName, Method: method, Path: path, Status: resp.Status, RequestID: meta.RequestID, RetryAfter: resp.Header.Get("Retry-After"), Unsafe: resp.Unsafe}
		if jsonErr == nil {
			e.Message, e.Fields = env.Message, fieldErrors(env.Errors)
		} else {
			e.Message = snippet(resp.Body)
		}
		return meta, e
	}
	if jsonErr == nil {
		if code, failed := env.failure(); failed {
			return meta, &upstream.APIError{Upstream: upstreamName, Method: method, Path: path, Status: resp.Status, Code: code,
				Message: env.Message, RequestID: meta.RequestID, Fields: fieldErrors(env.Errors)}
		}
	}
	if len(bytes.TrimSpace(resp.Body)) == 0 && out == nil {
		return meta, nil
	}
	if jsonErr != nil {
		return meta, malformed(method, path, resp.Status, meta.RequestID, fmt.Errorf("not JSON: %w", jsonErr))
	}
	if out == nil {
		return meta, nil
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return meta, malformed(method, path, resp.Status, meta.RequestID, errors.New("the envelope has no data"))
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return meta, malformed(method, path, resp.Status, meta.RequestID, err)
	}
	return meta, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
