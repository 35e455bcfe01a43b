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
