package distribution

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// registryModule holds the MCP registry's published server.json schema
// (internal/validators/schemas), fetched through the Go module proxy.
const registryModule = "github.com/modelcontextprotocol/registry@v1.8.9"

// server.json validates against the registry's 2025-12-11 schema.
func TestServerJSONValidatesAgainstRegistrySchema(t *testing.T) {
	out, err := exec.Command("go", "mod", "download", "-json", registryModule).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", registryModule, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download: %v %s", err, out)
	}
	schemaFile := filepath.Join(mod.Dir, "internal", "validators", "schemas", "2025-12-11.json")
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("registry-server.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("registry-server.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	sj, err := os.Open("../../server.json")
	if err != nil {
		t.Fatal(err)
	}
	defer sj.Close()
	inst, err := jsonschema.UnmarshalJSON(sj)
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("server.json does not validate against %s:\n%v", schemaFile, err)
	}
	if s, _ := inst.(map[string]any)["$schema"].(string); !strings.Contains(s, "2025-12-11") {
		t.Errorf("$schema %q, want the 2025-12-11 schema", s)
	}
}

type serverJSON struct {
	Name     string `json:"name"`
	Packages []struct {
		RegistryType string `json:"registryType"`
		Identifier   string `json:"identifier"`
		Transport    struct {
			Type string `json:"type"`
		} `json:"transport"`
		EnvironmentVariables []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			IsSecret    bool   `json:"isSecret"`
		} `json:"environmentVariables"`
	} `json:"packages"`
}

// notForUsers are README variables a user of a published package does not
// set: they only shape tests and the sandbox.
var notForUsers = map[string]string{
	"CONVIRZA_MCP_SANDBOX":         "the simulator; a package user runs the real thing",
	"CONVIRZA_MCP_SANDBOX_LATENCY": "--sandbox only, for latency and shutdown experiments",
}

// Every variable the README's configuration and flag tables name is
// described in server.json (for the package that uses it), and every
// secret is marked secret. Packages: the mcpb bundles and the OCI image.
func TestServerJSONDescribesEveryVariable(t *testing.T) {
	raw, err := os.ReadFile("../../server.json")
	if err != nil {
		t.Fatal(err)
	}
	var sj serverJSON
	if err := json.Unmarshal(raw, &sj); err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	described := map[string]bool{}
	secretish := regexp.MustCompile(`PASSWORD|SECRET|_TOKEN$|_KEY$`)
	for _, p := range sj.Packages {
		types[p.RegistryType] = true
		for _, v := range p.EnvironmentVariables {
			if strings.TrimSpace(v.Description) == "" {
				t.Errorf("%s %s: no description", p.RegistryType, v.Name)
			}
			if secretish.MatchString(v.Name) && !v.IsSecret {
				t.Errorf("%s %s: a secret, not marked isSecret", p.RegistryType, v.Name)
			}
			if p.RegistryType == "oci" || p.RegistryType == "mcpb" {
				described[v.Name] = true
			}
		}
	}
	if !types["mcpb"] || !types["oci"] {
		t.Errorf("packages %v, want mcpb and oci", types)
	}
	for _, v := range readmeVariables(t) {
		if _, skip := notForUsers[v]; skip || described[v] {
			continue
		}
		t.Errorf("README variable %s is not described in server.json", v)
	}
}

// readmeVariables are the variables the README's "Command line" flag table
// and "Configuration" table name.
func readmeVariables(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	seen := map[string]bool{}
	name := regexp.MustCompile("`((?:CONVIRZA|TALKDESK|OTEL)_[A-Z0-9_]+)`")
	section := ""
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "## ") {
			section = line
			continue
		}
		if (section != "## Command line" && section != "## Configuration") || !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		col := cells[1]
		if section == "## Command line" {
			col = cells[2] // | flag | variable | meaning |
		}
		for _, m := range name.FindAllStringSubmatch(col, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("found only %d variables in the README tables: %v", len(out), out)
	}
	return out
}
