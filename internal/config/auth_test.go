package config

import (
	"strings"
	"testing"
)

// CONVIRZA_MCP_AUTH: bearer by default, oauth on request; oauth over HTTP
// needs a public URL people can type their password into (https, or http
// on loopback) unless the server itself listens on loopback, and needs no
// shared token on a public address.
func TestAuthMode(t *testing.T) {
	c, err := load(t, nil)
	if err != nil || c.Auth != AuthBearer {
		t.Fatalf("default: %q %v", c.Auth, err)
	}
	for _, ok := range []map[string]string{
		{"CONVIRZA_MCP_AUTH": "OAuth"},
		{"CONVIRZA_MCP_AUTH": "oauth", "CONVIRZA_MCP_ADDR": "0.0.0.0:8080", "CONVIRZA_MCP_PUBLIC_URL": "https://mcp.example.com/"},
		{"CONVIRZA_MCP_AUTH": "oauth", "CONVIRZA_MCP_PUBLIC_URL": "http://localhost:8080"},
	} {
		c, err := load(t, ok, "--transport", "http")
		if err != nil || c.Auth != AuthOAuth {
			t.Errorf("%v: %q %v", ok, c.Auth, err)
		}
	}
	c, _ = load(t, map[string]string{"CONVIRZA_MCP_AUTH": "oauth", "CONVIRZA_MCP_ADDR": "127.0.0.1:9123"}, "--transport", "http")
	if c.PublicBase() != "http://127.0.0.1:9123" {
		t.Errorf("loopback public base = %q", c.PublicBase())
	}
	c, _ = load(t, map[string]string{"CONVIRZA_MCP_AUTH": "oauth", "CONVIRZA_MCP_PUBLIC_URL": "https://mcp.example.com/"}, "--transport", "http")
	if c.PublicBase() != "https://mcp.example.com" {
		t.Errorf("public base = %q", c.PublicBase())
	}
	for _, bad := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"CONVIRZA_MCP_AUTH": "saml"}, "CONVIRZA_MCP_AUTH must be bearer or oauth"},
		{map[string]string{"CONVIRZA_MCP_AUTH": "oauth", "CONVIRZA_MCP_ADDR": "0.0.0.0:8080"}, "CONVIRZA_MCP_PUBLIC_URL"},
		{map[string]string{"CONVIRZA_MCP_AUTH": "oauth", "CONVIRZA_MCP_PUBLIC_URL": "http://mcp.example.com"}, "must be an https URL"},
		{map[string]string{"CONVIRZA_MCP_AUTH": "oauth", "CONVIRZA_MCP_PUBLIC_URL": "https://mcp.example.com/?x=1"}, "must be an https URL"},
		{map[string]string{"CONVIRZA_MCP_AUTH": "bearer", "CONVIRZA_MCP_ADDR": "0.0.0.0:8080"}, "without CONVIRZA_MCP_AUTH_TOKEN"},
	} {
		if _, err := load(t, bad.env, "--transport", "http"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want an error saying %q", bad.env, err, bad.want)
		}
	}
	// stdio has no use for it, and is not stopped by it.
	if _, err := load(t, map[string]string{"CONVIRZA_MCP_AUTH": "oauth", "CONVIRZA_MCP_PUBLIC_URL": "http://x.example"}); err != nil {
		t.Errorf("stdio with oauth: %v", err)
	}
}
