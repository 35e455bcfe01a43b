package policy

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testCatalog = Catalog{
	Toolsets: []ToolsetInfo{{Name: "groups", Default: true}, {Name: "users"}},
	Tools: []ToolInfo{
		{Name: "list_groups", Toolset: "groups", Class: Read},
		{Name: "get_group", Toolset: "groups", Class: Read},
		{Name: "update_group", Toolset: "groups", Class: Write},
		{Name: "delete_group", Toolset: "groups", Class: Destructive},
		{Name: "list_users", Toolset: "users", Class: Read},
		{Name: "delete_user", Toolset: "users", Class: Destructive},
	},
}

func TestParseEveryKey(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`
mode: read-only
toolsets: [groups, users]
tools:
  allow: [list_*, get_group]
  deny: [delete_user]
  deny_for:
    standard: [update_*]
    read_only: [get_group]
confirmation:
  mode: token
  ttl: 90s
  require: [update_group]
scope:
  org_units: [1042, 1003, 1042]
audit:
  file: /var/log/audit.jsonl
limits:
  numbers_per_day: 5
  broadcast_recipients_per_day: 2000
`), testCatalog)
	if err != nil {
		t.Fatal(err)
	}
	want := &Policy{Source: "p.yaml", ReadOnly: true, Toolsets: []string{"groups", "users"},
		Allow: []string{"list_*", "get_group"}, Deny: []string{"delete_user"},
		DenyFor:     map[string][]string{RoleStandard: {"update_*"}, RoleReadOnly: {"get_group"}},
		ConfirmMode: ModeToken, ConfirmTTL: 90 * time.Second, Require: []string{"update_group"},
		OrgUnits: []int64{1042, 1003}, AuditFile: "/var/log/audit.jsonl",
		Limits: Limits{NumbersPerDay: 5, BroadcastRecipientsPerDay: 2000}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got  %+v\nwant %+v", p, want)
	}

	// A single value stands for a one-item list.
	p, err = Parse("p.yaml", []byte("toolsets: all\n"), testCatalog)
	if err != nil || !reflect.DeepEqual(p.Toolsets, []string{"all"}) {
		t.Fatalf("scalar toolsets: %v %v", p, err)
	}
}

// TestParseErrors: every mistake is named with its line, and the file is
// refused as a whole.
func TestParseErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown top key", "mode: read-write\ntool:\n  deny: [delete_group]\n", `p.yaml line 2: unknown key "tool"; did you mean tools?`},
		{"unknown nested key", "confirmation:\n  mode: auto\n  modes: token\n", `p.yaml line 3: unknown key "modes" under confirmation; did you mean mode?`},
		{"bad mode", "mode: readonly\n", `line 1: mode must be read-only or read-write; got "readonly"; did you mean read-only?`},
		{"unknown toolset", "toolsets: [grups]\n", `line 1: unknown toolset "grups"; did you mean groups?`},
		{"empty toolsets", "toolsets: []\n", "line 1: toolsets is empty"},
		{"unknown tool", "tools:\n  deny:\n    - delete_grop\n", `line 3: tools.deny: unknown tool "delete_grop"; did you mean delete_group?`},
		{"glob matching nothing", "tools:\n  allow: [create_*]\n", `line 2: tools.allow: the pattern "create_*" matches no tool`},
		{"bad glob", "tools:\n  allow: [\"list_[\"]\n", `line 2: tools.allow: "list_[" is not a tool name or a glob`},
		{"unknown required tool", "confirmation:\n  require: [update_gruop]\n", `line 2: confirmation.require: unknown tool "update_gruop"; did you mean update_group?`},
		{"bad confirmation mode", "confirmation:\n  mode: tokn\n", `line 2: confirmation.mode must be auto, elicitation, approval or token; got "tokn"; did you mean token?`},
		{"ttl without unit", "confirmation:\n  ttl: 300\n", `line 2: confirmation.ttl must be a duration like 5m or 90s; got "300"`},
		{"ttl too long", "confirmation:\n  ttl: 2h\n", "line 2: confirmation.ttl must be between 1s and 1h0m0s; got 2h0m0s"},
		{"org unit not a number", "scope:\n  org_units: [West]\n", `line 2: scope.org_units: expected a whole number; got "West"`},
		{"org unit zero", "scope:\n  org_units: [0]\n", "line 2: scope.org_units: 0 is not an org unit id"},
		{"empty scope", "scope:\n  org_units: []\n", "line 2: scope.org_units is empty"},
		{"key without value", "mode: read-write\naudit:\n  file:\n", "line 3: audit.file has no value"},
		{"section not a mapping", "tools: [list_groups]\n", "line 1: tools must be a mapping of keys (allow, deny, deny_for), found a list"},
		{"unknown role", "tools:\n  deny_for:\n    standrd: [update_group]\n", `line 3: unknown key "standrd" under tools.deny_for; did you mean standard?`},
		{"unknown tool for a role", "tools:\n  deny_for:\n    admin: [delete_grop]\n", `line 3: tools.deny_for: unknown tool "delete_grop"; did you mean delete_group?`},
		{"list where a value belongs", "mode: [read-only]\n", "line 1: mode: expected a single value, found a list"},
		{"duplicate key", "mode: read-only\nmode: read-write\n", `mapping key "mode" already defined at line 1`},
		{"syntax", "mode: read-only\n  toolsets: [\n", "p.yaml line 2:"},
		{"not a mapping", "- mode\n", "the policy must be a mapping"},
		{"empty file", "# nothing\n", "p.yaml: the file is empty"},
		{"limit not a number", "limits:\n  numbers_per_day: ten\n", `line 2: limits.numbers_per_day: expected a whole number; got "ten"`},
		{"limit zero", "mode: read-write\nlimits:\n  broadcast_recipients_per_day: 0\n", "line 3: limits.broadcast_recipients_per_day must be 1 or more; got 0"},
		{"unknown limit", "limits:\n  number_per_day: 3\n", `line 2: unknown key "number_per_day" under limits; did you mean numbers_per_day?`},
		{"two documents", "mode: read-only\n---\nmode: read-write\n", "line 2: only one YAML document"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(c.yaml), testCatalog)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %q\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// TestParseReportsEveryProblem: one run names all the mistakes, each once.
func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse("p.yaml", []byte("mode: rw\ntool: {}\nconfirmation:\n  ttl: soon\nscope:\n  org_units: [x, 5]\n"), testCatalog)
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	for i, want := range []string{"line 1: mode", "line 2: unknown key", "line 4: confirmation.ttl", "line 6: scope.org_units"} {
		if i >= len(lines) || !strings.Contains(lines[i], want) {
			t.Fatalf("problem %d should be %q:\n%s", i, want, err)
		}
	}
	if len(lines) != 4 {
		t.Fatalf("each problem once:\n%s", err)
	}
}

func TestLoadResolvesAuditPathAgainstTheFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(file, []byte("audit:\n  file: logs/audit.jsonl\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Load(file, testCatalog)
	if err != nil {
		t.Fatal(err)
	}
	if p.AuditFile != filepath.Join(dir, "logs", "audit.jsonl") {
		t.Fatalf("audit file %q", p.AuditFile)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), testCatalog); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

// TestCombine: flags and environment narrow a policy, never widen it.
func TestCombine(t *testing.T) {
	parse := func(y string) *Policy {
		t.Helper()
		p, err := Parse("p.yaml", []byte(y), testCatalog)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name     string
		policy   *Policy
		settings Settings
		readOnly bool
		toolsets []string
		mode     Mode
		ttl      time.Duration
		err      string
	}{
		{name: "no file, no flags", policy: nil, settings: Settings{ConfirmTTL: 5 * time.Minute},
			toolsets: []string{"groups"}, mode: ModeAuto, ttl: 5 * time.Minute},
		{name: "flag read-only narrows a read-write policy", policy: parse("mode: read-write\n"), settings: Settings{ReadOnly: true},
			readOnly: true, toolsets: []string{"groups"}, mode: ModeAuto},
		{name: "a read-only policy stays read-only", policy: parse("mode: read-only\n"), settings: Settings{ReadOnly: false},
			readOnly: true, toolsets: []string{"groups"}, mode: ModeAuto},
		{name: "--toolsets all cannot widen the policy's toolsets", policy: parse("toolsets: [groups]\n"), settings: Settings{Toolsets: []string{"all"}},
			toolsets: []string{"groups"}, mode: ModeAuto},
		{name: "--toolsets narrows the policy's", policy: parse("toolsets: [all]\n"), settings: Settings{Toolsets: []string{"users"}},
			toolsets: []string{"users"}, mode: ModeAuto},
		{name: "policy toolsets apply without flags", policy: parse("toolsets: [all]\n"), settings: Settings{},
			toolsets: []string{"groups", "users"}, mode: ModeAuto},
		{name: "disjoint toolsets", policy: parse("toolsets: [groups]\n"), settings: Settings{Toolsets: []string{"users"}},
			err: "no toolset is in both"},
		{name: "unknown flag toolset", policy: nil, settings: Settings{Toolsets: []string{"nope"}}, err: `unknown toolset "nope"`},
		{name: "file mode over auto env", policy: parse("confirmation:\n  mode: token\n"), settings: Settings{ConfirmMode: "auto"},
			toolsets: []string{"groups"}, mode: ModeToken},
		{name: "env mode over auto file", policy: parse("confirmation:\n  mode: auto\n"), settings: Settings{ConfirmMode: "elicitation"},
			toolsets: []string{"groups"}, mode: ModeElicitation},
		{name: "conflicting modes", policy: parse("confirmation:\n  mode: token\n"), settings: Settings{ConfirmMode: "elicitation"},
			err: "choose one"},
		{name: "file ttl over env ttl", policy: parse("confirmation:\n  ttl: 2m\n"), settings: Settings{ConfirmTTL: 5 * time.Minute},
			toolsets: []string{"groups"}, mode: ModeAuto, ttl: 2 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := c.policy.Combine(c.settings, testCatalog)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.ReadOnly != c.readOnly || !reflect.DeepEqual(e.Toolsets, c.toolsets) || e.ConfirmMode != c.mode || e.ConfirmTTL != c.ttl {
				t.Fatalf("got read-only %v toolsets %v mode %s ttl %s", e.ReadOnly, e.Toolsets, e.ConfirmMode, e.ConfirmTTL)
			}
		})
	}
}

func TestServes(t *testing.T) {
	p, err := Parse("p.yaml", []byte("toolsets: [all]\ntools:\n  allow: [list_*, delete_*]\n  deny: [delete_user]\nconfirmation:\n  require: [list_g*]\n"), testCatalog)
	if err != nil {
		t.Fatal(err)
	}
	e, err := p.Combine(Settings{}, testCatalog)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range testCatalog.Tools {
		ok, why := e.Serves(tl)
		want := map[string]string{
			"list_groups": "", "list_users": "", "delete_group": "",
			"get_group":    "not in the policy's tools.allow",
			"update_group": "not in the policy's tools.allow",
			"delete_user":  "denied by the policy (tools.deny: delete_user)",
		}[tl.Name]
		if ok != (want == "") || why != want {
			t.Errorf("%s: served %v (%q), want %q", tl.Name, ok, why, want)
		}
	}
	if !e.ConfirmAlso("list_groups") || e.ConfirmAlso("list_users") {
		t.Errorf("require glob")
	}
	ro, _ := p.Combine(Settings{ReadOnly: true}, testCatalog)
	if ok, why := ro.Serves(ToolInfo{Name: "delete_group", Toolset: "groups", Class: Destructive}); ok || !strings.Contains(why, "read-only") {
		t.Errorf("read-only: %v %s", ok, why)
	}
}
