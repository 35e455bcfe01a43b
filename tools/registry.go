package tools

import (
	"fmt"
	"slices"
	"sort"
	"strings"

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

// Select returns the tools of the named toolsets ("all", "default" or
// names); with readOnly, only tools that change nothing.
func Select(names []string, readOnly bool) ([]Tool, error) {
	sets := Toolsets()
	want := map[string]bool{}
	if len(names) == 0 {
		names = []string{"default"}
	}
	for _, n := range names {
		n = strings.TrimSpace(strings.ToLower(n))
		switch n {
		case "":
		case "all":
			for _, ts := range sets {
				want[ts.Name] = true
			}
		case "default":
			for _, ts := range sets {
				if ts.Default {
					want[ts.Name] = true
				}
			}
		default:
			if !slices.ContainsFunc(sets, func(ts Toolset) bool { return ts.Name == n }) {
				return nil, fmt.Errorf("unknown toolset %q; known: all, default, %s", n, strings.Join(ToolsetNames(), ", "))
			}
			want[n] = true
		}
	}
	var out []Tool
	for _, t := range All() {
		if want[t.Toolset] && (!readOnly || t.Class == policy.Read) {
			out = append(out, t)
		}
	}
	return out, nil
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

// RegisterCompact adds compact mode's two tools (search_tools, call_tool)
// to an MCP server. The tools are reachable only through call_tool, each
// behind the same guards as in full mode.
func RegisterCompact(s *server.MCPServer, ts []Tool, d *Deps, g Guards) error {
	enabled := make([]Tool, 0, len(ts))
	handlers := make(map[string]server.ToolHandlerFunc, len(ts))
	for _, t := range ts {
		if g.ConfirmAlso[t.Name] {
			t = t.WithConfirmation()
		}
		enabled = append(enabled, t)
		handlers[t.Name] = t.Handler(d, g)
	}
	compact, err := Compact(enabled, handlers)
	if err != nil {
		return err
	}
	s.AddTools(compact...)
	return nil
}

// Register adds the tools to an MCP server, each behind the guards. Tools
// named in g.ConfirmAlso become confirmable (and accept confirmation_token).
func Register(s *server.MCPServer, ts []Tool, d *Deps, g Guards) error {
	for _, t := range ts {
		if g.ConfirmAlso[t.Name] {
			t = t.WithConfirmation()
		}
		mt, err := t.MCPTool()
		if err != nil {
			return err
		}
		s.AddTool(mt, t.Handler(d, g))
	}
	return nil
}

// Catalog describes every declared tool and toolset, for checking a policy.
func Catalog() policy.Catalog {
	var c policy.Catalog
	for _, ts := range Toolsets() {
		c.Toolsets = append(c.Toolsets, policy.ToolsetInfo{Name: ts.Name, Default: ts.Default})
	}
	for _, t := range All() {
		c.Tools = append(c.Tools, policy.ToolInfo{Name: t.Name, Toolset: t.Toolset, Class: t.Class})
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
