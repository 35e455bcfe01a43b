package tools_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
	"github.com/convirza/convirza-mcp/tools"
)

var update = flag.Bool("update", false, "rewrite schemas/generated from the tool declarations")

const (
	snapshotDir  = "../schemas/generated"
	servedSource = "../schemas/served_gen.go"
)

// TestSchemaSnapshots keeps schemas/generated equal to what the declarations
// generate. Regenerate: go test ./tools -run TestSchemaSnapshots -update
func TestSchemaSnapshots(t *testing.T) {
	want := map[string]bool{}
	served := map[string]json.RawMessage{}
	check := func(tl tools.Tool, toolset string, withClass bool, ann *mcp.ToolAnnotation) {
		t.Helper()
		// The schema as the argument type generates it: what the server
		// serves is the snapshot, so the two must agree.
		s, err := tl.ReflectSchema()
		if err != nil {
			t.Fatal(err)
		}
		if ann == nil {
			a := tl.Annotations()
			ann = &a
		}
		snap := map[string]any{
			"name":        tl.Name,
			"title":       tl.Title,
			"description": tl.Description,
			"toolset":     toolset,
			"annotations": *ann,
			"inputSchema": s,
		}
		if withClass {
			snap["class"] = tl.Class.String()
		}
		got, err := json.MarshalIndent(snap, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		if served[tl.Name], err = json.Marshal(s); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(snapshotDir, tl.Name+".json")
		want[tl.Name+".json"] = true
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: no snapshot (run: go test ./tools -run TestSchemaSnapshots -update): %v", tl.Name, err)
			return
		}
		if !bytes.Equal(old, got) {
			t.Errorf("%s: schema differs from %s (review, then run: go test ./tools -run TestSchemaSnapshots -update)\n--- got ---\n%s", tl.Name, path, got)
		}
	}
	for _, tl := range tools.All() {
		check(tl, tl.Toolset, true, nil)
	}
	// Compact mode's two tools are snapshotted too, with the annotations
	// they are served with.
	compact, err := tools.Compact(nil, nil, nil, tools.Guards{})
	if err != nil && !*update {
		t.Fatal(err)
	}
	for _, tl := range tools.CompactTools() {
		var ann *mcp.ToolAnnotation
		for _, st := range compact {
			if st.Tool.Name == tl.Name {
				ann = &st.Tool.Annotations
			}
		}
		check(tl, "compact (--tool-mode compact)", false, ann)
	}
	// What the server serves: the same schemas, compact, in Go source.
	src := schemas.ServedSource(served)
	if *update {
		if err := os.WriteFile(servedSource, src, 0o644); err != nil {
			t.Fatal(err)
		}
	} else if old, err := os.ReadFile(servedSource); err != nil || !bytes.Equal(old, src) {
		t.Errorf("%s is not what the declarations generate (run: go test ./tools -run TestSchemaSnapshots -update)", servedSource)
	}
	entries, err := os.ReadDir(snapshotDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") && !want[e.Name()] {
			if *update {
				_ = os.Remove(filepath.Join(snapshotDir, e.Name()))
				continue
			}
			t.Errorf("stale snapshot %s: no such tool", e.Name())
		}
	}
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// TestCatalogRules holds every tool to the catalog's rules: names, titles,
// descriptions, explicit and truthful annotations, and the confirmation
// argument on exactly the confirmable tools.
func TestCatalogRules(t *testing.T) {
	seen := map[string]bool{}
	for _, tl := range tools.All() {
		mt, err := tl.MCPTool()
		if err != nil {
			t.Fatal(err)
		}
		if !namePattern.MatchString(mt.Name) {
			t.Errorf("%s: name does not match %s", mt.Name, namePattern)
		}
		if seen[mt.Name] {
			t.Errorf("%s: declared twice", mt.Name)
		}
		seen[mt.Name] = true
		a := mt.Annotations
		if a.Title == "" || mt.Description == "" {
			t.Errorf("%s: needs a title and a description", mt.Name)
		}
		if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
			t.Fatalf("%s: every annotation hint must be set explicitly: %+v", mt.Name, a)
		}
		ro, de, id := *a.ReadOnlyHint, *a.DestructiveHint, *a.IdempotentHint
		switch tl.Class {
		case policy.Read:
			if !ro || de || !id {
				t.Errorf("%s: a read tool must be readOnly, not destructive, idempotent", mt.Name)
			}
		case policy.Write, policy.Costly:
			if ro || de {
				t.Errorf("%s: a write tool must be neither readOnly nor destructive", mt.Name)
			}
		case policy.Destructive:
			if ro || !de {
				t.Errorf("%s: a destructive tool must be destructive and not readOnly", mt.Name)
			}
		}
		if !*a.OpenWorldHint {
			t.Errorf("%s: every tool talks to an upstream API: openWorldHint must be true", mt.Name)
		}
		var schema map[string]any
		if err := json.Unmarshal(mt.RawInputSchema, &schema); err != nil {
			t.Fatalf("%s: schema: %v", mt.Name, err)
		}
		if schema["type"] != "object" || schema["additionalProperties"] != false {
			t.Errorf("%s: schema must be a closed object", mt.Name)
		}
		for _, k := range []string{"$ref", "$defs", "$id", "$schema"} {
			if bytes.Contains(mt.RawInputSchema, []byte(`"`+k+`"`)) {
				t.Errorf("%s: schema must be inline, found %s", mt.Name, k)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		_, hasTok := props["confirmation_token"]
		if hasTok != (tl.Class.NeedsConfirmation() || tl.ConfirmsSome()) {
			t.Errorf("%s: confirmation_token present=%v, but class %s", mt.Name, hasTok, tl.Class)
		}
	}
}

// TestPlan covers what is served: toolsets, read-only mode, unknown
// toolsets, the default set, and the policy's extra confirmations.
func TestPlan(t *testing.T) {
	plan := func(p *policy.Policy, s policy.Settings) (*tools.Plan, error) {
		eff, err := p.Combine(s, tools.Catalog())
		if err != nil {
			return nil, err
		}
		return tools.NewPlan(eff)
	}
	all, err := plan(&policy.Policy{}, policy.Settings{Toolsets: []string{"all"}})
	if err != nil || len(all.Tools) != len(tools.All()) || len(all.Withheld) != 0 {
		t.Fatalf("all: %v, err %v", all, err)
	}
	ro, err := plan(&policy.Policy{}, policy.Settings{Toolsets: []string{"all"}, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range ro.Tools {
		if tl.Class != policy.Read {
			t.Errorf("read-only selected %s (%s)", tl.Name, tl.Class)
		}
		names = append(names, tl.Name)
	}
	sort.Strings(names)
	if len(names) == 0 || len(names) >= len(all.Tools) || len(ro.Withheld)+len(ro.Tools) != len(all.Tools) {
		t.Errorf("read-only selection: %v", names)
	}
	if w := ro.Withheld["delete_group"]; !strings.Contains(w.Why, "read-only") {
		t.Errorf("delete_group withheld because %q", w.Why)
	}
	if _, err := plan(&policy.Policy{}, policy.Settings{Toolsets: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "unknown toolset") {
		t.Errorf("unknown toolset: %v", err)
	}
	def, err := plan(&policy.Policy{}, policy.Settings{})
	if err != nil || len(def.Tools) == 0 || len(def.Tools) >= len(all.Tools) {
		t.Fatalf("default: %v, %v", def, err)
	}
	req, err := plan(&policy.Policy{Require: []string{"update_group"}}, policy.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range req.Tools {
		if tl.Name == "update_group" && !tl.Confirmable() {
			t.Error("update_group is required to be confirmed but is not confirmable")
		}
	}
	scoped, err := plan(&policy.Policy{OrgUnits: []int64{1003}}, policy.Settings{Toolsets: []string{"all"}})
	if err != nil || len(scoped.Tools) != len(all.Tools) {
		t.Errorf("a scoped plan serves every tool (each declares its org units): %v, %v", scoped, err)
	}
}

// TestReadmeToolTable keeps the README's tool table equal to the registry.
// Regenerate: go test ./tools -run TestReadmeToolTable -update
func TestReadmeToolTable(t *testing.T) {
	const path = "../README.md"
	const start, end = "<!-- tools:start -->\n", "<!-- tools:end -->"
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(readme, []byte(start)), bytes.Index(readme, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q markers", start, end)
	}
	table := tools.MarkdownTable()
	got := string(readme[i+len(start) : j])
	if got == table {
		return
	}
	if *update {
		out := append(append(append([]byte{}, readme[:i+len(start)]...), table...), readme[j:]...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README tool table is stale (run: go test ./tools -run TestReadmeToolTable -update); want:\n%s", table)
}
