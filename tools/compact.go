package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/invopop/jsonschema"
)

// Compact mode exposes three tools instead of the catalog: search_tools
// finds tools by what they do and returns their full input schemas, and
// call_read_tool (the R tools) and call_write_tool (every other) run one of
// them, each with annotations true of what it runs. A dispatcher calls the
// very handler the tool has in full mode, so validation, policy and
// confirmation are the same.

// SearchToolsArgs are the arguments of search_tools.
type SearchToolsArgs struct {
	Query string `json:"query" jsonschema:"required,minLength=1,maxLength=200,description=What you want to do\\, e.g. release a tracking number"`
	Limit int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=10,description=Default 5"`
}

// CallToolArgs are the arguments of the dispatchers.
type CallToolArgs struct {
	Name      string         `json:"name" jsonschema:"required,pattern=^[a-z][a-z0-9_]{0\\,39}$,description=A tool name from search_tools"`
	Arguments map[string]any `json:"arguments,omitempty" jsonschema:"description=The tool's arguments per its input_schema"`
}

// JSONSchemaExtend lets arguments be any object: the named tool's own
// schema checks them.
func (CallToolArgs) JSONSchemaExtend(s *jsonschema.Schema) {
	if p, ok := s.Properties.Get("arguments"); ok {
		p.AdditionalProperties = jsonschema.TrueSchema
	}
}

// CompactTools are the declarations of compact mode's tools, for the
// schema snapshots.
func CompactTools() []Tool { return compactTools(nil, nil) }

// The compact dispatchers: reads apart from everything else, so each
// carries annotations that are true of every tool it runs.
const (
	callReadTool  = "call_read_tool"
	callWriteTool = "call_write_tool"
)

// compactTools declares search_tools over the enabled tools, and the two
// dispatchers, whose handlers Compact gives.
func compactTools(enabled []Tool, eff *policy.Effective) []Tool {
	search := Define(Spec{Name: "search_tools", Title: "Search tools", Class: policy.Read, Toolset: "compact", Local: true,
		Description: "Find tools for a task: each match's name, class (R read, W write, D destructive, W$ costs money), input_schema and run_with (call_read_tool or call_write_tool)."},
		func(ctx context.Context, _ *Deps, a SearchToolsArgs) (map[string]any, error) {
			limit := a.Limit
			if limit == 0 {
				limit = 5
			}
			return searchTools(mayRun(ctx, eff, enabled), a.Query, limit), nil
		}, AccountWide())
	unused := func(context.Context, *Deps, CallToolArgs) (any, error) {
		return nil, errors.New("the dispatchers run through Compact's handler")
	}
	read := Define(Spec{Name: callReadTool, Title: "Run a read tool", Class: policy.Read, Toolset: "compact",
		Description: "Run a read-only tool (class R) found with search_tools: name plus arguments. Changes nothing."},
		unused, AccountWide())
	write := Define(Spec{Name: callWriteTool, Title: "Run a write tool", Class: policy.Write, Toolset: "compact",
		Description: "Run a tool that changes something (class W, D or W$) found with search_tools: name plus arguments. Destructive or costly ones need a person's confirmation, exactly as when called directly."},
		unused, AccountWide())
	return []Tool{search, read, write}
}

// mayRun narrows the tools to what the request's person may run
// (CONVIRZA_MCP_AUTH=oauth, MayUse): a ReadOnly Convirza user finds only
// reads, as their tools/list holds only call_read_tool, a Standard user no
// Admin-only tool, and no one what the policy withholds from their role
// (tools.deny_for).
func mayRun(ctx context.Context, eff *policy.Effective, enabled []Tool) []Tool {
	c, ok := convirza.CallerFrom(ctx)
	if !ok {
		return enabled
	}
	out := make([]Tool, 0, len(enabled))
	for _, t := range enabled {
		if _, may := MayUse(c.User.RoleID, eff, &t); may {
			out = append(out, t)
		}
	}
	return out
}

// dispatcherOf names the compact dispatcher that runs t.
func dispatcherOf(t *Tool) string {
	if t.Class == policy.Read {
		return callReadTool
	}
	return callWriteTool
}

// Compact returns compact mode's tools over the planned tools and their
// full-mode handlers; a call naming a withheld tool is audited as in full
// mode. A nil plan serves nothing.
func Compact(p *Plan, handlers map[string]server.ToolHandlerFunc, d *Deps, g Guards) ([]server.ServerTool, error) {
	if p == nil {
		p = &Plan{}
	}
	decl := compactTools(p.Tools, p.Policy)
	byName := make(map[string]*Tool, len(p.Tools))
	for i := range p.Tools {
		byName[p.Tools[i].Name] = &p.Tools[i]
	}
	out := make([]server.ServerTool, 0, len(decl))
	for i := range decl {
		t := &decl[i]
		mt, err := t.MCPTool()
		if err != nil {
			return nil, err
		}
		if t.Name == "search_tools" {
			out = append(out, server.ServerTool{Tool: mt, Handler: t.Handler(nil, Guards{})}) // reads the catalog only
			continue
		}
		if t.Name == callWriteTool {
			// It runs destructive tools, and tools that are not idempotent.
			mt.Annotations.DestructiveHint = mcp.ToBoolPtr(true)
		}
		out = append(out, server.ServerTool{Tool: mt, Handler: dispatcher(t, p, byName, handlers, d, g)})
	}
	return out, nil
}

// dispatcher runs the named tool of its kind through that tool's own
// full-mode handler: the same validation, policy and confirmation.
func dispatcher(self *Tool, p *Plan, byName map[string]*Tool, handlers map[string]server.ToolHandlerFunc, d *Deps, g Guards) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		c, err := self.newCall(rawArguments(req))
		if err != nil {
			return errorResult(self.Name, err), nil
		}
		a := c.(*typedCall[CallToolArgs, any]).args
		h, ok := handlers[a.Name]
		if c, person := convirza.CallerFrom(ctx); ok && person {
			if why, may := MayUse(c.User.RoleID, p.Policy, byName[a.Name]); !may {
				args, _ := json.Marshal(a.Arguments)
				g.Refused(ctx, d, byName[a.Name], args, why)
				return mcp.NewToolResultError(RefusedText(why)), nil
			}
		}
		if !ok {
			if w, withheld := p.Withheld[a.Name]; withheld {
				args, _ := json.Marshal(a.Arguments)
				g.Withheld(ctx, d, a.Name, w, args)
			}
			return mcp.NewToolResultError(fmt.Sprintf("No tool named %q is enabled here. Use search_tools to find one.", a.Name)), nil
		}
		if want := dispatcherOf(byName[a.Name]); want != self.Name {
			return mcp.NewToolResultError(fmt.Sprintf("%s is class %s: run it with %s. Nothing was done.", a.Name, byName[a.Name].Class, want)), nil
		}
		inner := req
		inner.Params.Name = a.Name
		inner.Params.Arguments = a.Arguments
		inner.Params.RawArguments = nil
		if b, err := json.Marshal(a.Arguments); err == nil && a.Arguments != nil {
			inner.Params.RawArguments = b
		}
		res, err := h(ctx, inner)
		if err != nil || res == nil {
			return res, err
		}
		return viaDispatcher(self.Name, a.Name, res), nil
	}
}

// viaDispatcher rewrites the retry instruction of a confirmation_required
// answer so that it names the dispatcher, the only way back to the tool
// here.
func viaDispatcher(dispatcher, name string, res *mcp.CallToolResult) *mcp.CallToolResult {
	body, ok := res.StructuredContent.(map[string]any)
	if !ok || body["status"] != "confirmation_required" {
		return res
	}
	js, err := json.Marshal(body)
	if err != nil {
		return res
	}
	exp, _ := body["expires_at"].(string)
	if t, err := time.Parse(time.RFC3339, exp); err == nil {
		exp = t.UTC().Format(time.RFC3339)
	}
	var text string
	if id, pending := body["approval_id"].(string); pending {
		text = fmt.Sprintf("Nothing was done yet. %s Tell the user: %q, approval %s. After a person approved it, call %s again with name %q and the same arguments plus confirmation_token in them (valid until %s, once); before that the call answers \"waiting for approval\".\n%s",
			body["approve"], body["action"], id, dispatcher, name, exp, js)
	} else {
		text = fmt.Sprintf("Nothing was done yet. Show this action to the user: %q. Only if they approve, call %s again with name %q and the same arguments plus confirmation_token in them (valid until %s, once).\n%s",
			body["action"], dispatcher, name, exp, js)
	}
	out := *res
	out.Content = []mcp.Content{mcp.NewTextContent(text)}
	return &out
}

// searchHit is one tool in a search_tools answer.
type searchHit struct {
	Name        string          `json:"name"`
	Class       string          `json:"class"`
	Toolset     string          `json:"toolset"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
	RunWith     string          `json:"run_with"`
}

// synonyms widen a query word to the catalog's vocabulary.
var synonyms = map[string][]string{
	"remove": {"delete", "release", "cancel"}, "cancel": {"delete", "broadcast"}, "release": {"delete"},
	"phone": {"number"}, "tracking": {"number"}, "buy": {"order"}, "purchase": {"order"},
	"org": {"group"}, "unit": {"group"}, "office": {"group"}, "account": {"group", "profile"},
	"contact": {"record"}, "dialer": {"record"}, "sms": {"broadcast", "conversation"}, "text": {"sms"},
	"history": {"call"}, "caller": {"call"}, "missed": {"call"}, "unanswered": {"call"},
	"recording": {"call", "media"}, "audio": {"media"}, "prompt": {"media"}, "agent": {"voice", "user"},
	"edit": {"update", "replace"}, "change": {"update"}, "rename": {"update"}, "add": {"create"}, "new": {"create"},
	"find": {"list", "search"}, "show": {"list", "get"}, "who": {"call"}, "label": {"tag"}, "yesterday": {"call"},
	"access": {"user"}, "login": {"user", "profile"}, "ring": {"route"}, "forward": {"route"}, "forwarding": {"route"},
	"blast": {"broadcast"}, "campaign": {"broadcast", "route"}, "receptionist": {"voice", "agent"},
	"many": {"summarize"}, "count": {"summarize"}, "report": {"summarize"}, "am": {"profile"},
	"market": {"ad", "source"}, "channel": {"ad", "source"},
}

// toolsetWords tie a word of a request to the toolset it is about, whatever
// other tools share its other words ("remove numbers from the dialer list"
// is about record lists, not phone numbers).
var toolsetWords = map[string]string{
	"dialer": "record_lists", "contact": "record_lists", "opt": "record_lists", "out": "record_lists",
	"ring": "routes", "forward": "routes", "forwarding": "routes", "route": "routes", "point": "routes",
	"access": "users", "login": "users", "person": "users", "people": "users",
	"blast": "broadcasts", "campaign": "broadcasts",
	"office": "groups", "hierarchy": "groups", "tree": "groups",
}

// verbs tie a request's verb to the operation a tool name starts with.
var verbs = map[string]string{
	"remove": "delete", "delete": "delete", "drop": "delete", "cancel": "delete",
	"release": "release", "give": "release",
	"change": "update", "update": "update", "rename": "update", "reschedule": "update", "deactivate": "update",
	"pause": "update", "point": "update", "move": "update", "edit": "update", "disable": "update",
	"add": "create", "create": "create", "new": "create", "set": "create", "upload": "upload",
	"show": "list", "list": "list", "which": "list", "who": "list", "find": "list",
	"buy": "order", "order": "order", "send": "create",
}

// weakWords are too common in the catalog's names to tell tools apart.
var weakWords = map[string]float64{"list": 0.3, "number": 0.5, "call": 0.7}

var stopwords = map[string]bool{"the": true, "a": true, "an": true, "of": true, "to": true, "for": true, "in": true,
	"on": true, "and": true, "or": true, "with": true, "by": true, "my": true, "me": true, "i": true, "what": true,
	"how": true, "all": true, "is": true, "are": true, "from": true, "that": true, "this": true, "it": true}

func words(s string) []string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	out := f[:0]
	for _, w := range f {
		if stopwords[w] {
			continue
		}
		switch { // a crude stem: calls, called, calling -> call
		case len(w) > 5 && strings.HasSuffix(w, "ing"):
			w = strings.TrimSuffix(w, "ing")
		case len(w) > 4 && strings.HasSuffix(w, "ed"):
			w = strings.TrimSuffix(w, "ed")
		case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
			w = strings.TrimSuffix(w, "s")
		}
		out = append(out, w)
	}
	return out
}

// searchTools ranks the enabled tools against a query: words of the name
// count most, then toolset and title, then description. With no match, it
// lists every tool name so the assistant can ask again.
func searchTools(enabled []Tool, query string, limit int) map[string]any {
	q := map[string]float64{}
	about := map[string]bool{} // toolsets the request names
	op := ""                   // the operation its first verb asks for
	for _, w := range words(query) {
		weight := 1.0
		if ww, ok := weakWords[w]; ok {
			weight = ww
		}
		if q[w] < weight {
			q[w] = weight
		}
		for _, syn := range synonyms[w] {
			if _, ok := q[syn]; !ok {
				q[syn] = 0.5
			}
		}
		if ts, ok := toolsetWords[w]; ok {
			about[ts] = true
		}
		if v, ok := verbs[w]; ok && op == "" {
			op = v
		}
	}
	type scored struct {
		t     *Tool
		score float64
	}
	var hits []scored
	for i := range enabled {
		t := &enabled[i]
		if strings.EqualFold(strings.TrimSpace(query), t.Name) {
			hits = append(hits, scored{t, 1e6})
			continue
		}
		// Words of the name count most, and a name the query covers
		// entirely ranks above a longer one it covers in part.
		score, nameWords, covered := 0.0, words(t.Name), 0.0
		for _, w := range nameWords {
			covered += q[w]
		}
		score += covered / float64(len(nameWords))
		for _, field := range []struct {
			text   string
			weight float64
		}{{t.Name, 3}, {t.Toolset + " " + t.Title, 2}, {t.Description, 1}} {
			seen := map[string]bool{}
			for _, w := range words(field.text) {
				if wq, ok := q[w]; ok && !seen[w] {
					seen[w] = true
					score += wq * field.weight
				}
			}
		}
		if score > 0 {
			if about[t.Toolset] {
				score += 3
			}
			if op != "" && strings.HasPrefix(t.Name, op+"_") {
				score += 2
			}
			hits = append(hits, scored{t, score})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	if len(hits) > limit {
		hits = hits[:limit]
	}
	if len(hits) == 0 {
		names := make([]string, 0, len(enabled))
		for _, t := range enabled {
			names = append(names, t.Name)
		}
		return map[string]any{"tools": []searchHit{}, "note": "No tool matched; the enabled tools are listed by name. Search again with one of them or other words.", "all_tools": names}
	}
	out := make([]searchHit, 0, len(hits))
	for _, h := range hits {
		out = append(out, searchHit{Name: h.t.Name, Class: h.t.Class.String(), Toolset: h.t.Toolset, Description: h.t.Description, InputSchema: h.t.inputSchema(), RunWith: dispatcherOf(h.t)})
	}
	return map[string]any{"tools": out}
}
