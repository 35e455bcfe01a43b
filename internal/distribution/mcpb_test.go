package distribution

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/tools"
)

var update = flag.Bool("update", false, "rewrite the generated parts of mcpb/manifest.json")

const manifestPath = "../../mcpb/manifest.json"

type bundleTool struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// bundleTools are the tools a bundle serves as installed: the default
// toolsets (the user_config toolsets field may add others), in catalog
// order, each with the first sentence of its description.
func bundleTools() []bundleTool {
	var def []string
	for _, ts := range tools.Toolsets() {
		if ts.Default {
			def = append(def, ts.Name)
		}
	}
	var out []bundleTool
	for _, t := range tools.All() {
		if slices.Contains(def, t.Toolset) {
			out = append(out, bundleTool{Name: t.Name, Description: firstSentence(t.Description)})
		}
	}
	return out
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// The bundle manifest lists the tools from the registry (regenerate with
// go test ./internal/distribution -run TestBundleManifestTools -update).
func TestBundleManifestTools(t *testing.T) {
	raw, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(bundleTools())
	if err != nil {
		t.Fatal(err)
	}
	var got []bundleTool
	if err := json.Unmarshal(m["tools"], &got); err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(got)
	if bytes.Equal(gotJSON, want) {
		return
	}
	if !*update {
		t.Fatalf("mcpb/manifest.json tools are stale (run: go test ./internal/distribution -run TestBundleManifestTools -update)\nwant %s", want)
	}
	// Rewrite only the tools array, keeping the rest of the file as written.
	var indented bytes.Buffer
	if err := json.Indent(&indented, want, "  ", "  "); err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(raw, []byte(`"tools": [`))
	end := bytes.Index(raw[start:], []byte(`"tools_generated"`))
	if start < 0 || end < 0 {
		t.Fatal(`manifest lacks "tools": [...] followed by "tools_generated"`)
	}
	out := slices.Concat(raw[:start], []byte(`"tools": `), indented.Bytes(), []byte(",\n  "), raw[start+end:])
	if err := os.WriteFile(manifestPath, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The user's secrets are marked sensitive and reach the server only
// through its environment.
func TestBundleManifestUserConfig(t *testing.T) {
	raw, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Server struct {
			Type      string `json:"type"`
			MCPConfig struct {
				Args []string          `json:"args"`
				Env  map[string]string `json:"env"`
			} `json:"mcp_config"`
		} `json:"server"`
		UserConfig map[string]struct {
			Sensitive bool `json:"sensitive"`
			Required  bool `json:"required"`
		} `json:"user_config"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Server.Type != "binary" || !slices.Equal(m.Server.MCPConfig.Args, []string{"serve"}) {
		t.Errorf("server: %+v", m.Server)
	}
	if uc := m.UserConfig["password"]; !uc.Sensitive || !uc.Required {
		t.Errorf("password must be required and sensitive: %+v", uc)
	}
	if uc := m.UserConfig["email"]; !uc.Required || uc.Sensitive {
		t.Errorf("email: %+v", uc)
	}
	for k, v := range map[string]string{"CONVIRZA_EMAIL": "${user_config.email}", "CONVIRZA_PASSWORD": "${user_config.password}"} {
		if m.Server.MCPConfig.Env[k] != v {
			t.Errorf("env %s = %q, want %q", k, m.Server.MCPConfig.Env[k], v)
		}
	}
}
