package tools

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/policy"
)

// Toolset is a named group of tools that can be enabled together.
type Toolset struct {
	Name        string
	Description string
	// Default toolsets are enabled when none are named.
	Default bool
	tools   func() []Tool
}

// Toolsets lists every toolset in catalog order.
//
// The default set is what an operations session needs every day: find org
// units, look at calls, manage tracking numbers and their routes, tags. It
// must stay within the default catalog budget (6,000 tokens, checked by the
// interop test). Account administration (users, webhooks, media, voice
// agents), SMS broadcasts (they spend money) and Talkdesk record lists (a
// separate upstream with its own credentials) are enabled by name or "all".
func Toolsets() []Toolset {
	return []Toolset{
		{Name: "groups", Description: "Org units (groups): list, tree, details, create, edit, delete", Default: true, tools: groupTools},
		{Name: "users", Description: "Users: list, details, create, edit, delete", Default: false, tools: userTools},
		{Name: "webhooks", Description: "Pre-call and post-call webhooks: list, details, create, edit, delete", tools: webhookTools},
		{Name: "media", Description: "Media prompts (audio recordings): list, upload, delete", Default: false, tools: mediaTools},
		{Name: "voice_agents", Description: "AI voice agents: list, details, create, edit, delete", Default: false, tools: voiceAgentTools},
		{Name: "numbers", Description: "Tracking numbers: search, list, order (costs money), release", Default: true, tools: numberTools},
		{Name: "routes", Description: "Provisioned routes: tracking number to ring-to number", Default: true, tools: routeTools},
		{Name: "broadcasts", Description: "SMS broadcasts: list, details, send (costs money), edit, cancel", Default: false, tools: broadcastTools},
		{Name: "conversations", Description: "Call history (recordings, transcripts) and SMS conversation threads", Default: true, tools: conversationTools},
		{Name: "account", Description: "Your profile, industries, ad sources and call tags", Default: true, tools: accountTools},
		// Not default: Talkdesk is a separate upstream with its own
		// credentials, which most Convirza accounts do not have, and its
		// eight tools would cost every assistant turn about 2k tokens of
		// catalog. The server points at --toolsets when credentials are set.
		{Name: "record_lists", Description: "Talkdesk record lists (the outbound dialer's contact lists): list, read, create, delete; bulk add, update and delete records", Default: false, tools: recordListTools},
	}
}

// All returns every tool of every toolset, in catalog order.
func All() []Tool {
	var out []Tool
	for _, ts := range Toolsets() {
		for _, t := range ts.tools() {
			t.Toolset = ts.Name
			out = append(out, t)
		}
	}
	return out
}

// ToolsetNames lists the toolset names, sorted.
func ToolsetNames() []string {
	var names []string
	for _, ts := range Toolsets() {
		names = append(names, ts.Name)
	}
	sort.Strings(names)
	return names
}

// Register adds the planned tools to an MCP server, each behind the guards:
// the catalog in full mode, or compact mode's two tools over it.
func Register(s *server.MCPServer, p *Plan, compact bool, d *Deps, g Guards) error {
	if compact {
		handlers := make(map[string]server.ToolHandlerFunc, len(p.Tools))
		for i := range p.Tools {
			handlers[p.Tools[i].Name] = p.Tools[i].Handler(d, g)
		}
		st, err := Compact(p, handlers, d, g)
		if err != nil {
			return err
		}
		s.AddTools(st...)
		return nil
	}
	for i := range p.Tools {
		mt, err := p.Tools[i].MCPTool()
		if err != nil {
			return err
		}
		s.AddTool(mt, p.Tools[i].Handler(d, g))
	}
	return nil
}

// Plan is what an effective policy serves: the tools, each confirmable
// where the class or the policy says so, and why each other tool is not.
// Every command that needs to know (serve, tools, policy check, compact
// mode) asks NewPlan.
type Plan struct {
	Policy   *policy.Effective
	Tools    []Tool
	Withheld map[string]Withheld

	byNameOnce sync.Once
	byName     map[string]*Tool // Lookup's index, built on first use
}

// Withheld is a declared tool the plan does not serve.
type Withheld struct {
	Toolset string
	Class   policy.Class
	Why     string
}

// NewPlan decides, for every declared tool, whether the effective policy
// serves it (toolsets, read-only, allow/deny, org-unit scope support).
func NewPlan(eff *policy.Effective) (*Plan, error) {
	p := &Plan{Policy: eff, Withheld: map[string]Withheld{}}
	for _, t := range All() {
		if ok, why := eff.Serves(t.info()); !ok {
			p.Withheld[t.Name] = Withheld{Toolset: t.Toolset, Class: t.Class, Why: why}
			continue
		}
		if eff.ConfirmAlso(t.Name) {
			t = t.WithConfirmation()
		}
		p.Tools = append(p.Tools, t)
	}
	if len(p.Tools) == 0 {
		return nil, errors.New("the policy, flags and environment leave no tool to serve; run `convirza-mcp policy check FILE` to see why each tool is withheld")
	}
	return p, nil
}

func (t *Tool) info() policy.ToolInfo {
	return policy.ToolInfo{Name: t.Name, Toolset: t.Toolset, Class: t.Class, Scoped: t.ScopeDeclared()}
}

// Catalog describes every declared tool and toolset, for checking a policy.
func Catalog() policy.Catalog {
	var c policy.Catalog
	for _, ts := range Toolsets() {
		c.Toolsets = append(c.Toolsets, policy.ToolsetInfo{Name: ts.Name, Default: ts.Default})
	}
	for _, t := range All() {
		c.Tools = append(c.Tools, t.info())
	}
	return c
}

// MarkdownTable renders the catalog as the README's tool table: toolsets in
// order, default ones marked.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| tool | toolset | class | what it does |\n|---|---|---|---|\n")
	for _, ts := range Toolsets() {
		set := ts.Name
		if ts.Default {
			set += " (default)"
		}
		for _, t := range ts.tools() {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", t.Name, set, t.Class, strings.ReplaceAll(t.Description, "|", "\\|"))
		}
	}
	return b.String()
}
