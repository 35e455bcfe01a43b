// Package config loads the server's configuration from the environment
// (go-envconfig) and lets command-line flags override it.
package config

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/convirza/convirza-mcp/internal/store"
)

// Config is every setting of the server. Secrets are tagged so they never
// appear in String.
type Config struct {
	Convirza Convirza
	Talkdesk Talkdesk

	Sandbox   bool   `env:"CONVIRZA_MCP_SANDBOX"`
	Transport string `env:"CONVIRZA_MCP_TRANSPORT, default=stdio"`
	Addr      string `env:"CONVIRZA_MCP_ADDR, default=127.0.0.1:8080"`
	AuthToken string `env:"CONVIRZA_MCP_AUTH_TOKEN"`
	// Auth is how HTTP clients authenticate: bearer (the shared
	// CONVIRZA_MCP_AUTH_TOKEN) or oauth (each person signs in with their
	// Convirza account; internal/oauth).
	Auth            string        `env:"CONVIRZA_MCP_AUTH, default=bearer"`
	AllowedOrigins  []string      `env:"CONVIRZA_MCP_ALLOWED_ORIGINS"`
	Toolsets        []string      `env:"CONVIRZA_MCP_TOOLSETS"`
	ToolMode        string        `env:"CONVIRZA_MCP_TOOL_MODE, default=full"`
	ReadOnly        bool          `env:"CONVIRZA_MCP_READ_ONLY"`
	Policy          string        `env:"CONVIRZA_MCP_POLICY"`
	UpstreamTimeout time.Duration `env:"CONVIRZA_MCP_UPSTREAM_TIMEOUT, default=30s"`
	LogLevel        string        `env:"CONVIRZA_MCP_LOG_LEVEL, default=info"`
	LogFormat       string        `env:"CONVIRZA_MCP_LOG_FORMAT, default=text"`
	ConfirmMode     string        `env:"CONVIRZA_MCP_CONFIRMATION_MODE, default=auto"`
	ConfirmTTL      time.Duration `env:"CONVIRZA_MCP_CONFIRMATION_TTL, default=5m"`
	ConfirmKey      string        `env:"CONVIRZA_MCP_CONFIRMATION_KEY"`
	SessionIdleTTL  time.Duration `env:"CONVIRZA_MCP_SESSION_IDLE_TTL, default=30m"`
	// MediaDir is the one directory whose audio files upload_media_prompt
	// may read (symlinks are resolved, and a file that resolves outside it
	// is refused). Unset: file paths are refused and only base64 content
	// can be uploaded.
	MediaDir    string `env:"CONVIRZA_MCP_MEDIA_DIR"`
	MaxSessions int    `env:"CONVIRZA_MCP_MAX_SESSIONS, default=1000"`
	// MaxSessionsPerClient caps the open HTTP sessions of one client (one
	// bearer token; one IP address on a server without a token); 0 means
	// half of MaxSessions.
	MaxSessionsPerClient int `env:"CONVIRZA_MCP_MAX_SESSIONS_PER_CLIENT"`
	// MaxCallsPerClient caps the tool calls one client runs at once.
	MaxCallsPerClient int           `env:"CONVIRZA_MCP_MAX_CALLS_PER_CLIENT, default=8"`
	MaxBodyBytes      int64         `env:"CONVIRZA_MCP_MAX_BODY_BYTES, default=4194304"`
	ShutdownTimeout   time.Duration `env:"CONVIRZA_MCP_SHUTDOWN_TIMEOUT, default=10s"`
	// SandboxLatency delays every simulator answer (--sandbox only), to
	// try latency, shutdown with calls in flight, or load realistically.
	SandboxLatency time.Duration `env:"CONVIRZA_MCP_SANDBOX_LATENCY"`

	// StateDir is the embedded store's directory; empty: the user's state
	// directory (store.DefaultStateDir). --sandbox uses <state dir>/sandbox.
	StateDir string `env:"CONVIRZA_MCP_STATE_DIR"`
	// Store is empty for the embedded store, or redis://… / rediss://….
	Store string `env:"CONVIRZA_MCP_STORE"`
	// StoreKey (base64, 32 bytes) seals upstream credentials in the store.
	StoreKey string `env:"CONVIRZA_MCP_STORE_KEY"`
	// StoreKeyPrevious lists retired store keys (base64, 32 bytes each,
	// comma-separated): they still open what they sealed, never seal, so
	// rotating StoreKey signs nobody out (convirza-mcp rekey re-seals
	// everything with StoreKey; then they can go).
	StoreKeyPrevious string `env:"CONVIRZA_MCP_STORE_KEY_PREVIOUS"`
	// Replica names this process in audit lines (default the host name).
	Replica string `env:"CONVIRZA_MCP_REPLICA"`
	// PolicyGenerationValue is CONVIRZA_MCP_POLICY_GENERATION as set;
	// PolicyGeneration is its value (validate parses it). Replicas sharing
	// a store serve one policy: the one of the highest generation, which
	// an operator raises to roll a new policy or version out (see
	// internal/server/fence.go).
	PolicyGenerationValue string `env:"CONVIRZA_MCP_POLICY_GENERATION"`
	PolicyGeneration      uint64
	// PublicURL is the server's external base URL (approval links).
	PublicURL string `env:"CONVIRZA_MCP_PUBLIC_URL"`
	// ApproverToken is the secret an approver presents to the approval
	// pages (a comma list rotates); never the MCP bearer token.
	ApproverToken string `env:"CONVIRZA_MCP_APPROVER_TOKEN"`
	// ApprovalWebhook receives a JSON notice of each pending approval.
	ApprovalWebhook string `env:"CONVIRZA_MCP_APPROVAL_WEBHOOK"`
	// ApprovalBrowser: auto opens the approval page on a desktop (stdio),
	// never does not.
	ApprovalBrowser string `env:"CONVIRZA_MCP_APPROVAL_BROWSER, default=auto"`
	// TrustedProxies are addresses whose X-Forwarded-For is believed.
	TrustedProxies []string `env:"CONVIRZA_MCP_TRUSTED_PROXIES"`
	// OAuthRedirectHosts are the only https hosts sign-ins are sent to
	// under CONVIRZA_MCP_AUTH=oauth (empty: any); loopback http always.
	OAuthRedirectHosts []string `env:"CONVIRZA_MCP_OAUTH_REDIRECT_HOSTS"`
	// ApprovalWait bounds how long a redemption waits for a pending
	// approval (0: the default, 30 s); tests shorten it.
	ApprovalWait time.Duration `env:"CONVIRZA_MCP_APPROVAL_WAIT"`
}

// Convirza is the upstream login.
type Convirza struct {
	Email        string `env:"CONVIRZA_EMAIL"`
	Password     string `env:"CONVIRZA_PASSWORD"`
	AccessToken  string `env:"CONVIRZA_ACCESS_TOKEN"`
	RefreshToken string `env:"CONVIRZA_REFRESH_TOKEN"`
	APIURL       string `env:"CONVIRZA_API_URL, default=https://platform-api.convirza.com/v3"`
	OAuthURL     string `env:"CONVIRZA_OAUTH_URL, default=https://platform-oauth.convirza.com"`
}

// Talkdesk is the Record Lists login.
type Talkdesk struct {
	Account      string `env:"TALKDESK_ACCOUNT"`
	Region       string `env:"TALKDESK_REGION, default=us"`
	ClientID     string `env:"TALKDESK_CLIENT_ID"`
	ClientSecret string `env:"TALKDESK_CLIENT_SECRET"`
	APIURL       string `env:"TALKDESK_API_URL"`
	TokenURL     string `env:"TALKDESK_TOKEN_URL"`
}

// Flags are the command-line overrides.
type Flags struct {
	fs        *flag.FlagSet
	sandbox   bool
	transport string
	addr      string
	toolsets  string
	toolMode  string
	readOnly  bool
	policy    string
}

// NewFlags registers the shared flags on fs.
func NewFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	fs.BoolVar(&f.sandbox, "sandbox", false, "run against the built-in simulator with a demo account (no credentials, no network)")
	fs.StringVar(&f.transport, "transport", "", "stdio (default), http, or sse (a synonym of http)")
	fs.StringVar(&f.addr, "addr", "", "listen address for --transport http (default 127.0.0.1:8080)")
	fs.StringVar(&f.toolsets, "toolsets", "", "comma list of toolsets, \"default\" or \"all\"")
	fs.StringVar(&f.toolMode, "tool-mode", "", "full (default: every tool listed) or compact (search_tools, call_read_tool, call_write_tool)")
	fs.BoolVar(&f.readOnly, "read-only", false, "expose and allow read-only tools only")
	fs.StringVar(&f.policy, "policy", "", "policy file (YAML)")
	return f
}

// Load reads the environment through lookup and applies the flags that were
// set on the command line.
func Load(ctx context.Context, lookup envconfig.Lookuper, f *Flags) (*Config, error) {
	var c Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: lookup}); err != nil {
		return nil, fmt.Errorf("configuration: %s", nameVariable(err.Error()))
	}
	if f != nil {
		f.fs.Visit(func(fl *flag.Flag) {
			switch fl.Name {
			case "sandbox":
				c.Sandbox = f.sandbox
			case "transport":
				c.Transport = f.transport
			case "addr":
				c.Addr = f.addr
			case "toolsets":
				c.Toolsets = splitList(f.toolsets)
			case "tool-mode":
				c.ToolMode = f.toolMode
			case "read-only":
				// A flag can narrow what the environment allows, never widen it.
				c.ReadOnly = c.ReadOnly || f.readOnly
			case "policy":
				c.Policy = f.policy
			}
		})
	}
	return &c, c.validate()
}

func (c *Config) validate() error {
	var errs []error
	c.Transport = strings.ToLower(strings.TrimSpace(c.Transport))
	switch c.Transport {
	case "stdio":
	case "http", "sse":
		c.Transport = "http"
	default:
		errs = append(errs, fmt.Errorf("transport must be stdio, http or sse; got %q", c.Transport))
	}
	if c.Transport == "http" {
		host, _, err := net.SplitHostPort(c.Addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("CONVIRZA_MCP_ADDR / --addr must be host:port; got %q", c.Addr))
		} else if !isLoopback(host) && len(c.AuthTokens()) == 0 && c.Auth != AuthOAuth {
			errs = append(errs, fmt.Errorf("refusing to listen on %s without CONVIRZA_MCP_AUTH_TOKEN: anyone who can reach it could operate the account", c.Addr))
		}
		// A variable that is set but names no token (" ", ",", or
		// "${A},${B}" with both unset) is a mistake, never "no auth".
		if c.AuthToken != "" && len(c.AuthTokens()) == 0 {
			errs = append(errs, errors.New("CONVIRZA_MCP_AUTH_TOKEN is set but holds no token (only spaces and commas); set one, or unset it to serve loopback without a token"))
		}
	}
	errs = append(errs, c.validateAuth()...)
	c.ToolMode = strings.ToLower(strings.TrimSpace(c.ToolMode))
	if c.ToolMode != "full" && c.ToolMode != "compact" {
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_TOOL_MODE / --tool-mode must be full or compact; got %q", c.ToolMode))
	}
	if c.UpstreamTimeout <= 0 {
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_UPSTREAM_TIMEOUT must be positive; got %s", c.UpstreamTimeout))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_LOG_LEVEL must be debug, info, warn or error; got %q", c.LogLevel))
	}
	if s := strings.ToLower(strings.TrimSpace(c.Store)); strings.HasPrefix(s, "redis://") || strings.HasPrefix(s, "rediss://") {
		// Replicas share the store: they must share the keys too.
		if c.StoreKey == "" {
			errs = append(errs, errors.New("CONVIRZA_MCP_STORE is Redis, so CONVIRZA_MCP_STORE_KEY (32 bytes, base64) must be set, the same on every replica"))
		}
		if len(c.ConfirmKey) < 32 {
			errs = append(errs, errors.New("CONVIRZA_MCP_STORE is Redis, so CONVIRZA_MCP_CONFIRMATION_KEY (32 characters or more) must be set, the same on every replica"))
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			errs = append(errs, fmt.Errorf("CONVIRZA_MCP_PUBLIC_URL must be the server's external base URL, http(s)://host[:port][/path], without query or credentials; got %q", c.PublicURL))
		}
	}
	if c.ApprovalWebhook != "" {
		// The value may hold a secret (Slack's webhook URLs do): never
		// repeated in the message.
		if u, err := url.Parse(c.ApprovalWebhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("CONVIRZA_MCP_APPROVAL_WEBHOOK must be an absolute http or https URL"))
		}
	}
	if c.ApproverToken != "" && len(c.ApproverTokens()) == 0 {
		errs = append(errs, errors.New("CONVIRZA_MCP_APPROVER_TOKEN is set but holds no token (only spaces and commas); set one, or unset it"))
	}
	for _, a := range c.ApproverTokens() {
		// A token the MCP client holds would let the assistant approve its
		// own calls: the two secrets must differ.
		if slices.Contains(c.AuthTokens(), a) {
			errs = append(errs, errors.New("CONVIRZA_MCP_APPROVER_TOKEN must differ from every CONVIRZA_MCP_AUTH_TOKEN: whoever holds the MCP client's token must not be able to approve"))
			break
		}
	}
	switch c.ApprovalBrowser = strings.ToLower(strings.TrimSpace(c.ApprovalBrowser)); c.ApprovalBrowser {
	case "auto", "never":
	default:
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_APPROVAL_BROWSER must be auto or never; got %q", c.ApprovalBrowser))
	}
	switch strings.ToLower(c.LogFormat) {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_LOG_FORMAT must be text or json; got %q", c.LogFormat))
	}
	switch strings.ToLower(c.Talkdesk.Region) {
	case "us", "eu", "ca":
	default:
		errs = append(errs, fmt.Errorf("TALKDESK_REGION must be us, eu or ca; got %q", c.Talkdesk.Region))
	}
	if c.ConfirmTTL <= 0 || c.ConfirmTTL > time.Hour {
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_CONFIRMATION_TTL must be between 1s and 1h; got %s", c.ConfirmTTL))
	}
	if c.MediaDir != "" {
		if fi, err := os.Stat(c.MediaDir); err != nil || !fi.IsDir() {
			errs = append(errs, fmt.Errorf("CONVIRZA_MCP_MEDIA_DIR must be an existing directory; got %q", c.MediaDir))
		}
	}
	if c.MaxSessions < 1 {
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_MAX_SESSIONS must be at least 1; got %d", c.MaxSessions))
	}
	if c.MaxSessionsPerClient < 0 {
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_MAX_SESSIONS_PER_CLIENT must be at least 1 (0 or unset: half of CONVIRZA_MCP_MAX_SESSIONS); got %d", c.MaxSessionsPerClient))
	}
	if c.MaxCallsPerClient < 1 {
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_MAX_CALLS_PER_CLIENT must be at least 1; got %d", c.MaxCallsPerClient))
	}
	if c.MaxBodyBytes < 64<<10 {
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_MAX_BODY_BYTES must be at least 65536; got %d", c.MaxBodyBytes))
	}
	if c.SandboxLatency < 0 || c.SandboxLatency > time.Minute {
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_SANDBOX_LATENCY must be between 0 and 1m; got %s", c.SandboxLatency))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_SHUTDOWN_TIMEOUT must be positive; got %s", c.ShutdownTimeout))
	}
	if c.ApprovalWait < 0 || c.ApprovalWait > 10*time.Minute {
		errs = append(errs, fmt.Errorf("CONVIRZA_MCP_APPROVAL_WAIT must be between 0 (the default, 30s) and 10m; got %s", c.ApprovalWait))
	}
	if v := strings.TrimSpace(c.PolicyGenerationValue); v != "" {
		// Decimal digits only: no sign, no base prefix, no fraction.
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("CONVIRZA_MCP_POLICY_GENERATION must be a non-negative integer (0, the default, 1, 2, …; raise it with each change of policy or version you roll out); got %q", c.PolicyGenerationValue))
		} else {
			c.PolicyGeneration = n
		}
	}
	if c.ConfirmKey != "" && len(c.ConfirmKey) < 32 {
		errs = append(errs, errors.New("CONVIRZA_MCP_CONFIRMATION_KEY must be at least 32 characters"))
	}
	// The store's own rule (the message names the variable and the key's
	// position, never a value), checked here so a bad list stops every
	// command before it starts.
	if _, err := store.ParsePreviousKeys(c.StoreKeyPrevious); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// The values of CONVIRZA_MCP_AUTH.
const (
	AuthBearer = "bearer"
	AuthOAuth  = "oauth"
)

// validateAuth checks CONVIRZA_MCP_AUTH and, for oauth over HTTP, the
// public URL people's browsers reach the sign-in page at.
func (c *Config) validateAuth() []error {
	c.Auth = strings.ToLower(strings.TrimSpace(c.Auth))
	switch c.Auth {
	case AuthBearer:
		return nil
	case AuthOAuth:
	default:
		return []error{fmt.Errorf("CONVIRZA_MCP_AUTH must be bearer or oauth; got %q", c.Auth)}
	}
	if c.Transport != "http" {
		return nil // stdio has one user, who set the credentials
	}
	if strings.TrimSpace(c.PublicURL) == "" {
		if host, _, err := net.SplitHostPort(c.Addr); err == nil && !isLoopback(host) {
			return []error{errors.New("CONVIRZA_MCP_AUTH=oauth on a non-loopback address needs CONVIRZA_MCP_PUBLIC_URL: the https URL people's browsers reach this server at")}
		}
		return nil
	}
	u, err := url.Parse(strings.TrimSpace(c.PublicURL))
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
		!(strings.EqualFold(u.Scheme, "https") || (strings.EqualFold(u.Scheme, "http") && isLoopback(u.Hostname()))) {
		return []error{fmt.Errorf("CONVIRZA_MCP_PUBLIC_URL must be an https URL without query or fragment (http only on a loopback address): people type their Convirza password into its sign-in page; got %q", c.PublicURL)}
	}
	return nil
}

// PublicBase is the server's external base URL: CONVIRZA_MCP_PUBLIC_URL
// without a trailing slash, else, on a loopback address, http://ADDR.
func (c *Config) PublicBase() string {
	if p := strings.TrimSpace(c.PublicURL); p != "" {
		return strings.TrimRight(p, "/")
	}
	return "http://" + c.Addr
}

// AuthTokens returns the bearer tokens CONVIRZA_MCP_AUTH_TOKEN accepts: its
// comma-separated entries, trimmed, empty ones left out.
func (c *Config) AuthTokens() []string {
	return splitList(c.AuthToken)
}

// ApproverTokens returns the secrets CONVIRZA_MCP_APPROVER_TOKEN accepts on
// the approval pages: its comma-separated entries, trimmed, empty ones
// left out.
func (c *Config) ApproverTokens() []string {
	return splitList(c.ApproverToken)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// nameVariable rewrites go-envconfig's "Field: problem" so the message names
// the environment variable a user sets.
func nameVariable(msg string) string {
	field, rest, ok := strings.Cut(msg, ": ")
	if !ok {
		return msg
	}
	var find func(t reflect.Type) string
	find = func(t reflect.Type) string {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
				if v := find(f.Type); v != "" {
					return v
				}
			}
			if f.Name == field {
				name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
				return name
			}
		}
		return ""
	}
	if v := find(reflect.TypeOf(Config{})); v != "" {
		return v + ": " + rest
	}
	return msg
}
