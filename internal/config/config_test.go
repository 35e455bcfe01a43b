package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
)

func load(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := NewFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(t.Context(), envconfig.MapLookuper(env), f)
}

func TestDefaults(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Transport != "stdio" || c.Addr != "127.0.0.1:8080" || c.UpstreamTimeout != 30*time.Second ||
		c.Convirza.APIURL != "https://platform-api.convirza.com/v3" || c.Convirza.OAuthURL != "https://platform-oauth.convirza.com" ||
		c.Talkdesk.Region != "us" || c.ConfirmTTL != 5*time.Minute ||
		c.MaxSessions != 1000 || c.MaxBodyBytes != 4<<20 || c.ShutdownTimeout != 10*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	env := map[string]string{"CONVIRZA_MCP_TRANSPORT": "http", "CONVIRZA_MCP_TOOLSETS": "groups,users", "CONVIRZA_MCP_ADDR": "127.0.0.1:9000"}
	c, err := load(t, env, "--transport", "stdio", "--toolsets", "all", "--sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if c.Transport != "stdio" || strings.Join(c.Toolsets, ",") != "all" || !c.Sandbox || c.Addr != "127.0.0.1:9000" {
		t.Fatalf("%+v", c)
	}
	c, _ = load(t, env)
	if strings.Join(c.Toolsets, ",") != "groups,users" {
		t.Fatalf("env toolsets: %v", c.Toolsets)
	}
}

func TestReadOnlyNeverWidened(t *testing.T) {
	c, err := load(t, map[string]string{"CONVIRZA_MCP_READ_ONLY": "true"}, "--read-only=false")
	if err != nil || !c.ReadOnly {
		t.Fatalf("a flag widened read-only: %+v %v", c, err)
	}
}

func TestInvalidValuesNamed(t *testing.T) {
	for env, want := range map[string]string{
		"CONVIRZA_MCP_TRANSPORT=ftp":          "transport must be",
		"CONVIRZA_MCP_LOG_LEVEL=loud":         "CONVIRZA_MCP_LOG_LEVEL",
		"CONVIRZA_MCP_LOG_FORMAT=xml":         "CONVIRZA_MCP_LOG_FORMAT",
		"TALKDESK_REGION=mars":                "TALKDESK_REGION",
		"CONVIRZA_MCP_UPSTREAM_TIMEOUT=-1s":   "CONVIRZA_MCP_UPSTREAM_TIMEOUT",
		"CONVIRZA_MCP_UPSTREAM_TIMEOUT=soon":  "CONVIRZA_MCP_UPSTREAM_TIMEOUT",
		"CONVIRZA_MCP_CONFIRMATION_KEY=short": "at least 32",
		"CONVIRZA_MCP_MAX_SESSIONS=0":         "CONVIRZA_MCP_MAX_SESSIONS",
		"CONVIRZA_MCP_MAX_SESSIONS=many":      "CONVIRZA_MCP_MAX_SESSIONS",
		"CONVIRZA_MCP_MAX_BODY_BYTES=10":      "CONVIRZA_MCP_MAX_BODY_BYTES",
		"CONVIRZA_MCP_SHUTDOWN_TIMEOUT=0s":    "CONVIRZA_MCP_SHUTDOWN_TIMEOUT",
		"CONVIRZA_MCP_SANDBOX_LATENCY=-1s":    "CONVIRZA_MCP_SANDBOX_LATENCY",
	} {
		k, v, _ := strings.Cut(env, "=")
		if _, err := load(t, map[string]string{k: v}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", env, err)
		}
	}
}

// TestBlankAuthTokenRefused: a CONVIRZA_MCP_AUTH_TOKEN that is set but names
// no token (spaces, commas, two unset variables joined by a comma) must not
// turn authentication off: the server refuses to start, on any address.
func TestBlankAuthTokenRefused(t *testing.T) {
	for _, tok := range []string{" ", ",", " , ", ",,", "\t"} {
		for _, addr := range []string{"0.0.0.0:8080", "127.0.0.1:8080"} {
			_, err := load(t, map[string]string{"CONVIRZA_MCP_AUTH_TOKEN": tok, "CONVIRZA_MCP_ADDR": addr}, "--transport", "http")
			if err == nil || !strings.Contains(err.Error(), "CONVIRZA_MCP_AUTH_TOKEN") {
				t.Errorf("token %q on %s: %v", tok, addr, err)
			}
		}
	}
	// Empty entries in a list are ignored, never tokens themselves.
	c, err := load(t, map[string]string{"CONVIRZA_MCP_AUTH_TOKEN": " one, ,two,", "CONVIRZA_MCP_ADDR": "0.0.0.0:8080"}, "--transport", "http")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.AuthTokens(), "|"); got != "one|two" {
		t.Errorf("tokens %q, want one|two", got)
	}
	// Unset: loopback serves without a token, anything else is refused.
	if _, err := load(t, map[string]string{"CONVIRZA_MCP_ADDR": "127.0.0.1:8080"}, "--transport", "http"); err != nil {
		t.Errorf("loopback without a token: %v", err)
	}
}

func TestPerClientLimits(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxSessionsPerClient != 0 || c.MaxCallsPerClient != 8 {
		t.Errorf("defaults: sessions %d, calls %d", c.MaxSessionsPerClient, c.MaxCallsPerClient)
	}
	c, err = load(t, map[string]string{"CONVIRZA_MCP_MAX_SESSIONS_PER_CLIENT": "3", "CONVIRZA_MCP_MAX_CALLS_PER_CLIENT": "2"})
	if err != nil || c.MaxSessionsPerClient != 3 || c.MaxCallsPerClient != 2 {
		t.Errorf("set: %+v %v", c, err)
	}
	for env, want := range map[string]string{
		"CONVIRZA_MCP_MAX_SESSIONS_PER_CLIENT=-1": "CONVIRZA_MCP_MAX_SESSIONS_PER_CLIENT",
		"CONVIRZA_MCP_MAX_CALLS_PER_CLIENT=0":     "CONVIRZA_MCP_MAX_CALLS_PER_CLIENT",
		"CONVIRZA_MCP_MAX_CALLS_PER_CLIENT=lots":  "CONVIRZA_MCP_MAX_CALLS_PER_CLIENT",
	} {
		k, v, _ := strings.Cut(env, "=")
		if _, err := load(t, map[string]string{k: v}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", env, err)
		}
	}
}

// TestApprovalSettings: the approver token never equals an MCP client's
// token (the client could approve its own calls), a webhook or public URL
// that is not one stops the server, and the webhook's value (which may
// hold a secret) is never repeated in the message.
func TestApprovalSettings(t *testing.T) {
	c, err := load(t, map[string]string{"CONVIRZA_MCP_APPROVER_TOKEN": " appr-1, ,appr-2", "CONVIRZA_MCP_AUTH_TOKEN": "mcp-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.ApproverTokens(), "|"); got != "appr-1|appr-2" {
		t.Errorf("approver tokens %q", got)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"CONVIRZA_MCP_APPROVER_TOKEN": "same", "CONVIRZA_MCP_AUTH_TOKEN": "other,same"}, "must differ"},
		{map[string]string{"CONVIRZA_MCP_APPROVER_TOKEN": " , "}, "CONVIRZA_MCP_APPROVER_TOKEN is set but holds no token"},
		{map[string]string{"CONVIRZA_MCP_APPROVAL_WEBHOOK": "hooks.example/T0/secret-part"}, "CONVIRZA_MCP_APPROVAL_WEBHOOK must be"},
		{map[string]string{"CONVIRZA_MCP_APPROVAL_WEBHOOK": "ftp://hooks.example/secret-part"}, "CONVIRZA_MCP_APPROVAL_WEBHOOK must be"},
		{map[string]string{"CONVIRZA_MCP_PUBLIC_URL": "mcp.example.com"}, "CONVIRZA_MCP_PUBLIC_URL"},
		{map[string]string{"CONVIRZA_MCP_PUBLIC_URL": "https://mcp.example.com/?a=b"}, "CONVIRZA_MCP_PUBLIC_URL"},
	} {
		_, err := load(t, tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.env, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret-part") {
			t.Errorf("the webhook URL was repeated: %v", err)
		}
	}
	for _, ok := range []map[string]string{
		{"CONVIRZA_MCP_PUBLIC_URL": "https://mcp.example.com"},
		{"CONVIRZA_MCP_PUBLIC_URL": "http://127.0.0.1:8080/base"},
		{"CONVIRZA_MCP_APPROVAL_WEBHOOK": "https://hooks.example/T0/secret-part"},
	} {
		if _, err := load(t, ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}

// CONVIRZA_MCP_STORE_KEY_PREVIOUS holds retired store keys (comma list,
// base64, 32 bytes each): a wrong one stops start-up with a message that
// names the variable and never shows a key (a valid key beside it
// included).
func TestStoreKeyPreviousValidated(t *testing.T) {
	good := "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" // 32 bytes
	if c, err := load(t, map[string]string{"CONVIRZA_MCP_STORE_KEY_PREVIOUS": good + ", " + good}); err != nil || c.StoreKeyPrevious == "" {
		t.Fatalf("two valid keys: %v", err)
	}
	for _, bad := range []string{
		"c2hvcnQta2V5LTE2Ynl0ZQ==",       // 16 bytes
		good + ",AQEBAQEBAQEBAQEBAQEBAQ", // the second too short
		"not base64 at all!!",
		" , ",
	} {
		_, err := load(t, map[string]string{"CONVIRZA_MCP_STORE_KEY_PREVIOUS": bad})
		if err == nil || !strings.Contains(err.Error(), "CONVIRZA_MCP_STORE_KEY_PREVIOUS") {
			t.Errorf("%q: %v; want an error naming CONVIRZA_MCP_STORE_KEY_PREVIOUS", bad, err)
			continue
		}
		for _, part := range append(strings.Split(bad, ","), strings.TrimRight(good, "=")[:12]) {
			if p := strings.TrimSpace(part); len(p) > 3 && strings.Contains(err.Error(), p) {
				t.Errorf("%q: the error shows key material: %v", bad, err)
			}
		}
	}
}

// TestPolicyGeneration: CONVIRZA_MCP_POLICY_GENERATION is 0 unless set, a
// non-negative decimal integer when set, and anything else stops the
// server naming the variable.
func TestPolicyGeneration(t *testing.T) {
	c, err := load(t, nil)
	if err != nil || c.PolicyGeneration != 0 {
		t.Fatalf("default: %v %v", c, err)
	}
	for v, want := range map[string]uint64{"0": 0, "7": 7, " 12 ": 12, "18446744073709551615": 1<<64 - 1} {
		c, err := load(t, map[string]string{"CONVIRZA_MCP_POLICY_GENERATION": v})
		if err != nil || c.PolicyGeneration != want {
			t.Errorf("%q: %v %v", v, c.PolicyGeneration, err)
		}
	}
	for _, v := range []string{"-1", "+1", "one", "1.5", "0x10", "1e3", "18446744073709551616"} {
		_, err := load(t, map[string]string{"CONVIRZA_MCP_POLICY_GENERATION": v})
		if err == nil || !strings.Contains(err.Error(), "CONVIRZA_MCP_POLICY_GENERATION must be a non-negative integer") {
			t.Errorf("%q: %v", v, err)
		}
	}
}
