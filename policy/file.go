package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Catalog is what a policy file is checked against: every tool the program
// declares (enabled or not) and every toolset. The tools package provides it;
// policy never imports tools.
type Catalog struct {
	Tools    []ToolInfo
	Toolsets []ToolsetInfo
}

// ToolInfo describes one declared tool.
type ToolInfo struct {
	Name    string
	Toolset string
	Class   Class
	// Scoped: the tool declares how its calls relate to org units, which a
	// server limited to some (scope.org_units) needs to serve it.
	Scoped bool
}

// ToolsetInfo describes one toolset.
type ToolsetInfo struct {
	Name    string
	Default bool
}

// Policy is a validated policy file. The zero value is the default policy:
// it restricts nothing beyond what flags and environment ask.
type Policy struct {
	// Source is the file it was read from ("" for the default policy).
	Source string
	// ReadOnly is mode: read-only.
	ReadOnly bool
	// Toolsets are the names from the file (nil: not restricted by the file).
	Toolsets []string
	// Allow and Deny are tool names or path.Match globs.
	Allow, Deny []string
	// DenyFor withholds tools (names or globs) from people of a Convirza
	// role (tools.deny_for), keyed by role name: Admin, Standard, ReadOnly.
	// It applies to people signed in with CONVIRZA_MCP_AUTH=oauth.
	DenyFor map[string][]string `json:",omitempty"`
	// ConfirmMode and ConfirmTTL are "" and 0 when the file leaves them out.
	ConfirmMode Mode
	ConfirmTTL  time.Duration
	// TrustClientElicitation: HTTP clients' form elicitation is taken as a
	// person's answer (confirmation.client_elicitation: trusted). Off by
	// default: anything holding the bearer token could answer it itself.
	TrustClientElicitation bool
	// OtherApprover: the approver must be another person than the one
	// whose assistant asked (confirmation.approver: other).
	OtherApprover bool
	// Require are extra tools (names or globs) to confirm.
	Require []string
	// OrgUnits limits calls to these units and their descendants (nil: no limit).
	OrgUnits []int64
	// AuditFile is where the audit log goes ("" : no audit log). A relative
	// path in the file is resolved against the file's directory.
	AuditFile string
	// Limits are the daily spend guards (limits:).
	Limits Limits
}

// Limits on values in a policy file.
const (
	minTTL = time.Second
	maxTTL = time.Hour
)

// Load reads and validates a policy file.
func Load(file string, cat Catalog) (*Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p, err := Parse(file, data, cat)
	if err != nil {
		return nil, err
	}
	if p.AuditFile != "" && !filepath.IsAbs(p.AuditFile) {
		// Relative to the policy file, not to wherever the server starts.
		abs, err := filepath.Abs(filepath.Join(filepath.Dir(file), p.AuditFile))
		if err != nil {
			return nil, fmt.Errorf("policy %s: audit.file: %w", file, err)
		}
		p.AuditFile = abs
	}
	return p, nil
}

// FileError lists every problem found in a policy file, each with its line.
type FileError struct {
	File     string
	Problems []Problem
}

// Problem is one mistake in a policy file.
type Problem struct {
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		if p.Line > 0 {
			lines = append(lines, fmt.Sprintf("%s line %d: %s", e.File, p.Line, p.Msg))
		} else {
			lines = append(lines, fmt.Sprintf("%s: %s", e.File, p.Msg))
		}
	}
	return strings.Join(lines, "\n")
}

// at is a value from the file and the line it was on.
type at[T any] struct {
	V    T
	Line int
	Set  bool
}

func (a *at[T]) UnmarshalYAML(n *yaml.Node) error {
	a.Line, a.Set = n.Line, true
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a single value, found %s", kindName(n))
	}
	if err := n.Decode(&a.V); err != nil {
		var zero T
		switch any(zero).(type) {
		case int64:
			return fmt.Errorf("expected a whole number; got %q", n.Value)
		}
		return fmt.Errorf("expected %T; got %q", zero, n.Value)
	}
	return nil
}

// list is a YAML sequence of values, or a single value standing for a
// one-item list ("toolsets: all").
type list[T any] struct {
	Items []at[T]
	Line  int
	Set   bool
}

func (l *list[T]) UnmarshalYAML(n *yaml.Node) error {
	l.Line, l.Set = n.Line, true
	switch n.Kind {
	case yaml.ScalarNode:
		var one at[T]
		if err := one.UnmarshalYAML(n); err != nil {
			return err
		}
		l.Items = []at[T]{one}
		return nil
	case yaml.SequenceNode:
		var errs []*yaml.UnmarshalError
		for _, c := range n.Content {
			var one at[T]
			if err := one.UnmarshalYAML(c); err != nil {
				errs = append(errs, &yaml.UnmarshalError{Err: err, Line: c.Line, Column: c.Column})
				continue
			}
			l.Items = append(l.Items, one)
		}
		if len(errs) > 0 {
			return &yaml.TypeError{Errors: errs}
		}
		return nil
	}
	return fmt.Errorf("expected a list like [a, b], found %s", kindName(n))
}

// fileDoc is the shape of a policy file. Every key must be one of these.
type fileDoc struct {
	Mode     at[string]   `yaml:"mode"`
	Toolsets list[string] `yaml:"toolsets"`
	Tools    struct {
		Allow   list[string] `yaml:"allow"`
		Deny    list[string] `yaml:"deny"`
		DenyFor struct {
			Admin    list[string] `yaml:"admin"`
			Standard list[string] `yaml:"standard"`
			ReadOnly list[string] `yaml:"read_only"`
		} `yaml:"deny_for"`
	} `yaml:"tools"`
	Confirmation struct {
		Mode              at[string]   `yaml:"mode"`
		TTL               at[string]   `yaml:"ttl"`
		Require           list[string] `yaml:"require"`
		ClientElicitation at[string]   `yaml:"client_elicitation"`
		Approver          at[string]   `yaml:"approver"`
	} `yaml:"confirmation"`
	Scope struct {
		OrgUnits list[int64] `yaml:"org_units"`
	} `yaml:"scope"`
	Audit struct {
		File at[string] `yaml:"file"`
	} `yaml:"audit"`
	Limits struct {
		NumbersPerDay             at[int64] `yaml:"numbers_per_day"`
		BroadcastRecipientsPerDay at[int64] `yaml:"broadcast_recipients_per_day"`
	} `yaml:"limits"`
}

// Parse validates the policy in data; name is used in messages.
func Parse(name string, data []byte, cat Catalog) (*Policy, error) {
	fe := &FileError{File: name}
	// A line that had a problem in an earlier step (an unknown key, a value
	// of the wrong type) is not reported again by a later one.
	earlier, current := map[int]bool{}, map[int]bool{}
	nextStep := func() {
		for l := range current {
			earlier[l] = true
		}
	}
	bad := func(line int, format string, args ...any) {
		if line > 0 && earlier[line] {
			return
		}
		current[line] = true
		fe.Problems = append(fe.Problems, Problem{Line: line, Msg: fmt.Sprintf(format, args...)})
	}

	// 1. Syntax, one document, a mapping at the top.
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	switch err := dec.Decode(&root); {
	case errors.Is(err, io.EOF):
		bad(0, "the file is empty; write at least one key (mode, toolsets, tools, confirmation, scope, audit, limits), or leave out --policy")
		return nil, fe
	case err != nil:
		var pe *yaml.ParserError
		if errors.As(err, &pe) {
			bad(pe.Line, "%s", pe.Message)
		} else {
			bad(0, "%v", err)
		}
		return nil, fe
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		bad(extra.Line, "only one YAML document is allowed (found a second after ---)")
		return nil, fe
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		bad(doc.Line, "the policy must be a mapping of keys (mode, toolsets, tools, confirmation, scope, audit, limits), found %s", kindName(doc))
		return nil, fe
	}

	// 2. Every key known, every key with a value, before any typing, so a
	// misspelt key is named with a suggestion.
	keyAt := map[int]string{} // line of a value -> its key, for messages
	checkKeys(doc, reflect.TypeOf(fileDoc{}), "", keyAt, bad)
	nextStep()

	// 3. Types, with a strict decoder (a guard: step 2 already named
	// unknown keys). Decoding goes on past a bad value, so every problem
	// is reported at once; a line keeps its first, most precise, message.
	var f fileDoc
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&f); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			bad(0, "%v", err)
			return nil, fe
		}
		for _, e := range te.Errors {
			if k := keyAt[e.Line]; k != "" {
				bad(e.Line, "%s: %v", k, e.Err)
			} else {
				bad(e.Line, "%v", e.Err)
			}
		}
	}
	nextStep()

	// 4. Values.
	p := &Policy{Source: name}
	if f.Mode.Set {
		switch f.Mode.V {
		case "read-only":
			p.ReadOnly = true
		case "read-write":
		default:
			bad(f.Mode.Line, "mode must be read-only or read-write; got %q%s", f.Mode.V, suggest(f.Mode.V, []string{"read-only", "read-write"}))
		}
	}

	toolsetNames := []string{"all", "default"}
	for _, ts := range cat.Toolsets {
		toolsetNames = append(toolsetNames, ts.Name)
	}
	if f.Toolsets.Set {
		if len(f.Toolsets.Items) == 0 {
			bad(f.Toolsets.Line, "toolsets is empty; name at least one toolset, \"default\" or \"all\", or leave the key out")
		}
		for _, ts := range f.Toolsets.Items {
			n := strings.ToLower(strings.TrimSpace(ts.V))
			if !contains(toolsetNames, n) {
				bad(ts.Line, "unknown toolset %q%s (known: %s)", ts.V, suggest(n, toolsetNames), strings.Join(toolsetNames, ", "))
				continue
			}
			p.Toolsets = append(p.Toolsets, n)
		}
	}

	toolNames := make([]string, 0, len(cat.Tools))
	for _, t := range cat.Tools {
		toolNames = append(toolNames, t.Name)
	}
	patterns := func(key string, l list[string]) []string {
		var out []string
		for _, it := range l.Items {
			pat := strings.TrimSpace(it.V)
			if _, err := path.Match(pat, ""); err != nil || pat == "" {
				bad(it.Line, "%s: %q is not a tool name or a glob like list_*", key, it.V)
				continue
			}
			if matchAny(pat, toolNames) {
				out = append(out, pat)
				continue
			}
			if strings.ContainsAny(pat, "*?[") {
				bad(it.Line, "%s: the pattern %q matches no tool", key, pat)
			} else {
				bad(it.Line, "%s: unknown tool %q%s", key, pat, suggest(pat, toolNames))
			}
		}
		return out
	}
	p.Allow = patterns("tools.allow", f.Tools.Allow)
	p.Deny = patterns("tools.deny", f.Tools.Deny)
	for _, r := range []struct {
		role string
		l    list[string]
	}{{RoleAdmin, f.Tools.DenyFor.Admin}, {RoleStandard, f.Tools.DenyFor.Standard}, {RoleReadOnly, f.Tools.DenyFor.ReadOnly}} {
		if pats := patterns("tools.deny_for", r.l); len(pats) > 0 {
			if p.DenyFor == nil {
				p.DenyFor = map[string][]string{}
			}
			p.DenyFor[r.role] = pats
		}
	}
	p.Require = patterns("confirmation.require", f.Confirmation.Require)

	if c := f.Confirmation.Mode; c.Set {
		m, err := ParseMode(c.V)
		if err != nil || strings.TrimSpace(c.V) == "" {
			bad(c.Line, "confirmation.mode must be auto, elicitation, approval or token; got %q%s", c.V, suggest(c.V, []string{"auto", "elicitation", "approval", "token"}))
		}
		p.ConfirmMode = m
	}
	if c := f.Confirmation.ClientElicitation; c.Set {
		switch strings.TrimSpace(c.V) {
		case "trusted":
			p.TrustClientElicitation = true
		case "untrusted":
		default:
			bad(c.Line, "confirmation.client_elicitation must be trusted or untrusted; got %q%s", c.V, suggest(c.V, []string{"trusted", "untrusted"}))
		}
	}
	if c := f.Confirmation.Approver; c.Set {
		switch strings.TrimSpace(c.V) {
		case "other":
			p.OtherApprover = true
		case "any":
		default:
			bad(c.Line, "confirmation.approver must be any or other; got %q%s", c.V, suggest(c.V, []string{"any", "other"}))
		}
	}
	if c := f.Confirmation.TTL; c.Set {
		d, err := time.ParseDuration(strings.TrimSpace(c.V))
		switch {
		case err != nil:
			bad(c.Line, "confirmation.ttl must be a duration like 5m or 90s; got %q", c.V)
		case d < minTTL || d > maxTTL:
			bad(c.Line, "confirmation.ttl must be between %s and %s; got %s", minTTL, maxTTL, d)
		default:
			p.ConfirmTTL = d
		}
	}

	if ou := f.Scope.OrgUnits; ou.Set {
		if len(ou.Items) == 0 {
			bad(ou.Line, "scope.org_units is empty; list at least one org unit id, or remove scope to serve every org unit")
		}
		for _, id := range ou.Items {
			if id.V < 1 {
				bad(id.Line, "scope.org_units: %d is not an org unit id (ids are 1 or more)", id.V)
				continue
			}
			if !contains(p.OrgUnits, id.V) {
				p.OrgUnits = append(p.OrgUnits, id.V)
			}
		}
	}

	if a := f.Audit.File; a.Set {
		if strings.TrimSpace(a.V) == "" {
			bad(a.Line, "audit.file is empty; give a path, or remove audit")
		}
		p.AuditFile = strings.TrimSpace(a.V)
	}

	for _, l := range []struct {
		name string
		v    at[int64]
		dst  *int64
	}{{LimitNumbers, f.Limits.NumbersPerDay, &p.Limits.NumbersPerDay}, {LimitRecipients, f.Limits.BroadcastRecipientsPerDay, &p.Limits.BroadcastRecipientsPerDay}} {
		if !l.v.Set {
			continue
		}
		if l.v.V < 1 {
			bad(l.v.Line, "limits.%s must be 1 or more; got %d (to allow none, deny the tool in tools.deny)", l.name, l.v.V)
			continue
		}
		*l.dst = l.v.V
	}

	if len(fe.Problems) > 0 {
		sort.SliceStable(fe.Problems, func(i, j int) bool { return fe.Problems[i].Line < fe.Problems[j].Line })
		return nil, fe
	}
	return p, nil
}

// checkKeys refuses keys that are not fields of t (by yaml tag) and keys
// without a value, walking into nested structs.
func checkKeys(n *yaml.Node, t reflect.Type, prefix string, keyAt map[int]string, bad func(int, string, ...any)) {
	if n.Kind != yaml.MappingNode {
		what := strings.TrimSuffix(prefix, ".")
		bad(n.Line, "%s must be a mapping of keys (%s), found %s", what, strings.Join(yamlKeys(t), ", "), kindName(n))
		return
	}
	known := yamlKeys(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field, ok := fieldByKey(t, k.Value)
		if !ok {
			where := ""
			if prefix != "" {
				where = " under " + strings.TrimSuffix(prefix, ".")
			}
			bad(k.Line, "unknown key %q%s%s (known: %s)", k.Value, where, suggest(k.Value, known), strings.Join(known, ", "))
			continue
		}
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
			bad(k.Line, "%s%s has no value; give one or remove the key", prefix, k.Value)
			continue
		}
		if field.Kind() == reflect.Struct && !reflect.PointerTo(field).Implements(reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()) {
			checkKeys(v, field, prefix+k.Value+".", keyAt, bad)
			continue
		}
		keyAt[v.Line] = prefix + k.Value
		for _, item := range v.Content {
			keyAt[item.Line] = prefix + k.Value
		}
	}
}

func yamlKeys(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		out = append(out, name)
	}
	return out
}

func fieldByKey(t reflect.Type, key string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name == key {
			return t.Field(i).Type, true
		}
	}
	return nil, false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "nothing"
}

// suggest returns "; did you mean X?" for the closest of candidates, when
// one is close enough to be a likely typo.
func suggest(s string, candidates []string) string {
	s = strings.ToLower(s)
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := distance(s, strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(s) > 8 {
		limit = 3
	}
	if best == "" || bestD == 0 || bestD > limit {
		return ""
	}
	return "; did you mean " + best + "?"
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func matchAny(pattern string, names []string) bool {
	for _, n := range names {
		if ok, _ := path.Match(pattern, n); ok {
			return true
		}
	}
	return false
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// orgUnitList renders ids for messages: "1003", "1003 and 1004", "1003, 1004 and 1005".
func orgUnitList(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
