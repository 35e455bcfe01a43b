package policy

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
)

// Settings are what the flags and the environment ask for.
type Settings struct {
	ReadOnly bool
	// Toolsets: nil when neither --toolsets nor CONVIRZA_MCP_TOOLSETS is set.
	Toolsets []string
	// ConfirmMode: "" or auto means no preference.
	ConfirmMode string
	// ConfirmTTL applies when the policy file leaves ttl out.
	ConfirmTTL time.Duration
}

// Effective is a policy combined with flags and environment: what the server
// serves and how. Flags and environment narrow a policy, never widen it.
type Effective struct {
	Policy      *Policy
	ReadOnly    bool
	Toolsets    []string // concrete toolset names, sorted
	ConfirmMode Mode
	ConfirmTTL  time.Duration
}

// Combine applies the flags and environment to p:
//   - read-only if either says so;
//   - toolsets: those both allow (the file's, or the flags', when only one
//     names any; "default" when neither does);
//   - confirmation mode: the one that is not auto; two different non-auto
//     modes are a conflict the operator must resolve;
//   - confirmation ttl: the file's, else the environment's.
func (p *Policy) Combine(s Settings, cat Catalog) (*Effective, error) {
	if p == nil {
		p = &Policy{}
	}
	e := &Effective{Policy: p, ReadOnly: p.ReadOnly || s.ReadOnly}

	var sets map[string]bool
	if len(p.Toolsets) > 0 {
		m, err := expandToolsets(p.Toolsets, cat)
		if err != nil {
			return nil, err
		}
		sets = m
	}
	if len(s.Toolsets) > 0 {
		m, err := expandToolsets(s.Toolsets, cat)
		if err != nil {
			return nil, err
		}
		if sets == nil {
			sets = m
		} else {
			for n := range sets {
				if !m[n] {
					delete(sets, n)
				}
			}
			if len(sets) == 0 {
				return nil, fmt.Errorf("the policy %s allows toolsets %s and --toolsets / CONVIRZA_MCP_TOOLSETS asks for %s: no toolset is in both",
					p.Source, strings.Join(p.Toolsets, ", "), strings.Join(s.Toolsets, ", "))
			}
		}
	}
	if sets == nil {
		sets, _ = expandToolsets([]string{"default"}, cat)
	}
	for n := range sets {
		e.Toolsets = append(e.Toolsets, n)
	}
	sort.Strings(e.Toolsets)

	envMode, err := ParseMode(s.ConfirmMode)
	if err != nil {
		return nil, fmt.Errorf("CONVIRZA_MCP_CONFIRMATION_MODE: %w", err)
	}
	switch fileMode := p.ConfirmMode; {
	case fileMode == "" || fileMode == ModeAuto:
		e.ConfirmMode = envMode
	case envMode == ModeAuto || envMode == fileMode:
		e.ConfirmMode = fileMode
	default:
		return nil, fmt.Errorf("the policy %s sets confirmation.mode %s but CONVIRZA_MCP_CONFIRMATION_MODE is %s: choose one", p.Source, fileMode, envMode)
	}

	e.ConfirmTTL = s.ConfirmTTL
	if p.ConfirmTTL > 0 {
		e.ConfirmTTL = p.ConfirmTTL
	}
	return e, nil
}

// expandToolsets turns names, "default" and "all" into toolset names.
func expandToolsets(names []string, cat Catalog) (map[string]bool, error) {
	out := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		switch n {
		case "":
		case "all":
			for _, ts := range cat.Toolsets {
				out[ts.Name] = true
			}
		case "default":
			for _, ts := range cat.Toolsets {
				if ts.Default {
					out[ts.Name] = true
				}
			}
		default:
			found := false
			for _, ts := range cat.Toolsets {
				if ts.Name == n {
					out[n], found = true, true
				}
			}
			if !found {
				known := []string{"all", "default"}
				for _, ts := range cat.Toolsets {
					known = append(known, ts.Name)
				}
				return nil, fmt.Errorf("unknown toolset %q; known: %s", n, strings.Join(known, ", "))
			}
		}
	}
	return out, nil
}

// Serves reports whether the tool is served, and if not, why: the one
// place that decides it.
func (e *Effective) Serves(t ToolInfo) (bool, string) {
	if !contains(e.Toolsets, t.Toolset) {
		return false, fmt.Sprintf("its toolset %s is not enabled", t.Toolset)
	}
	if e.ReadOnly && t.Class != Read {
		return false, "read-only mode serves only tools that change nothing"
	}
	if pat, ok := firstMatch(e.Policy.Deny, t.Name); ok {
		return false, fmt.Sprintf("denied by the policy (tools.deny: %s)", pat)
	}
	if len(e.Policy.Allow) > 0 {
		if _, ok := firstMatch(e.Policy.Allow, t.Name); !ok {
			return false, "not in the policy's tools.allow"
		}
	}
	if len(e.Policy.OrgUnits) > 0 && !t.Scoped {
		return false, "it does not declare which org units it touches, so the policy's scope could not be enforced on it"
	}
	return true, ""
}

// Convirza's role names, as tools.deny_for keys them.
const (
	RoleAdmin    = "Admin"
	RoleStandard = "Standard"
	RoleReadOnly = "ReadOnly"
)

// DeniedFor reports whether the policy withholds the tool from people of
// the Convirza role (tools.deny_for), and the pattern that does.
func (e *Effective) DeniedFor(role, name string) (string, bool) {
	if e == nil || e.Policy == nil {
		return "", false
	}
	return firstMatch(e.Policy.DenyFor[role], name)
}

// ConfirmAlso reports whether the policy makes the tool confirmable beyond
// its class (confirmation.require).
func (e *Effective) ConfirmAlso(name string) bool {
	_, ok := firstMatch(e.Policy.Require, name)
	return ok
}

func firstMatch(patterns []string, name string) (string, bool) {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return p, true
		}
	}
	return "", false
}
