package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/tools"
)

// Prompts, resources and completions. Everything they read goes through a
// served tool's handler (its validation, org-unit scope, audit), so a
// scoped server's prompts and resources show only the scope, and what a
// policy withholds is never read: a prompt, resource or completion whose
// tools are not served is not offered.

const (
	orgTreeURI         = "convirza://org-tree"
	transcriptTemplate = "convirza://calls/{id}/transcript"
	recordingTemplate  = "convirza://calls/{id}/recording"
	// maxCompletions is the most values completion/complete may answer.
	maxCompletions = 100
)

// extras registers the progress middleware, prompts, resources and
// completions of the tools the plan serves.
func (a *App) extras(plan *Plan, g tools.Guards) {
	x := &extras{served: map[string]tools.Tool{}, deps: a.Deps, guards: g, asPerson: a.personMiddleware, may: a.mayUse}
	for _, t := range plan.Tools {
		x.served[t.Name] = t
	}
	a.MCP.Use(progressMiddleware, x.resourceLinks)
	x.prompts(a.MCP)
	x.resources(a.MCP)
	server.WithCompletions()(a.MCP)
	server.WithPromptCompletionProvider(x)(a.MCP)
	server.WithResourceCompletionProvider(x)(a.MCP)
}

// progressMiddleware hands a tool call's progress token to its handler.
func progressMiddleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return next(tools.WithProgressToken(ctx, req), req)
	}
}

type extras struct {
	served map[string]tools.Tool
	deps   *tools.Deps
	guards tools.Guards
	// asPerson makes a call act as the request's person, as tool calls do
	// (CONVIRZA_MCP_AUTH=oauth; a no-op otherwise).
	asPerson func(server.ToolHandlerFunc) server.ToolHandlerFunc
	// may says whether the request's person may use a tool (tools.MayUse;
	// nil: everyone may): a prompt or resource reading through a tool that
	// is not theirs says why, and a completion offers nothing.
	may func(ctx context.Context, name string) (string, bool)
}

// mayUse is x.may, or true without one.
func (x *extras) mayUse(ctx context.Context, name string) (string, bool) {
	if x.may == nil {
		return "", true
	}
	return x.may(ctx, name)
}

// has reports whether every named tool is served.
func (x *extras) has(names ...string) bool {
	for _, n := range names {
		if _, ok := x.served[n]; !ok {
			return false
		}
	}
	return true
}

// call runs a served tool through its handler and decodes its structured
// result; a tool error is an error carrying its message.
func (x *extras) call(ctx context.Context, name string, args map[string]any) (map[string]any, error) {
	t, ok := x.served[name]
	if !ok {
		return nil, fmt.Errorf("%s is not served by this server", name)
	}
	if why, ok := x.mayUse(ctx, name); !ok {
		return nil, errors.New(tools.RefusedText(why))
	}
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	h := t.Handler(x.deps, x.guards)
	if x.asPerson != nil {
		h = x.asPerson(h)
	}
	res, err := h(ctx, req)
	if err != nil {
		return nil, err
	}
	text := ""
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			text += tc.Text
		}
	}
	if res.IsError {
		return nil, errors.New(text)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return nil, fmt.Errorf("%s answered no JSON object: %w", name, err)
	}
	return out, nil
}

// orgUnits lists the units of the group tree as served (trimmed to the
// scope on a scoped server), in tree order.
func (x *extras) orgUnits(ctx context.Context) ([]orgUnit, error) {
	tree, err := x.call(ctx, "get_group_tree", map[string]any{})
	if err != nil {
		return nil, err
	}
	var out []orgUnit
	var walk func(any)
	walk = func(v any) {
		nodes, _ := v.([]any)
		for _, n := range nodes {
			m, _ := n.(map[string]any)
			id, _ := m["org_unit_id"].(float64)
			name, _ := m["name"].(string)
			out = append(out, orgUnit{int64(id), name})
			walk(m["children"])
		}
	}
	walk(tree["groups"])
	return out, nil
}

type orgUnit struct {
	id   int64
	name string
}

// unitRef resolves what a person typed for an org unit (a name as
// completion offered it, or an id) to "Name (org unit ID)"; unknown: the
// text as typed, for the assistant to look up.
func (x *extras) unitRef(ctx context.Context, typed string) string {
	typed = strings.TrimSpace(typed)
	units, err := x.orgUnits(ctx)
	if err == nil {
		for _, u := range units {
			if strings.EqualFold(u.name, typed) || strconv.FormatInt(u.id, 10) == typed {
				return fmt.Sprintf("%s (org unit %d)", u.name, u.id)
			}
		}
	}
	return fmt.Sprintf("%q (find its org unit id with get_group_tree)", typed)
}

// recordLists lists the record list names (first pages).
func (x *extras) recordLists(ctx context.Context) ([]string, error) {
	out, err := x.call(ctx, "list_record_lists", map[string]any{"per_page": 50})
	if err != nil {
		return nil, err
	}
	lists, _ := out["record_lists"].([]any)
	var names []string
	for _, l := range lists {
		m, _ := l.(map[string]any)
		if n, _ := m["name"].(string); n != "" {
			names = append(names, n)
		}
	}
	return names, nil
}

type promptDef struct {
	prompt mcp.Prompt
	needs  []string
	text   func(ctx context.Context, args map[string]string) (string, error)
}

func (x *extras) promptDefs() []promptDef {
	orgUnitArg := mcp.WithArgument("org_unit", mcp.ArgumentDescription("Org unit name (completion offers them) or id"), mcp.RequiredArgument())
	return []promptDef{
		{
			prompt: mcp.NewPrompt("missed_calls_report", mcp.WithPromptTitle("Missed-calls report"),
				mcp.WithPromptDescription("Missed calls by office and day, with the worst hours and the callers to call back"),
				mcp.WithArgument("org_unit", mcp.ArgumentDescription("Org unit name or id; default the whole account")),
				mcp.WithArgument("days", mcp.ArgumentDescription("How many days back, default 7 (at most 400)"))),
			needs: []string{"summarize_calls", "list_calls"},
			text: func(ctx context.Context, args map[string]string) (string, error) {
				days := 7
				if v := strings.TrimSpace(args["days"]); v != "" {
					n, err := strconv.Atoi(v)
					if err != nil || n < 1 || n > 400 {
						return "", fmt.Errorf("days must be a whole number from 1 to 400, got %q", v)
					}
					days = n
				}
				where := "the whole account"
				if u := strings.TrimSpace(args["org_unit"]); u != "" {
					where = x.unitRef(ctx, u)
				}
				return fmt.Sprintf("Write a missed-calls report for %s over the last %d days.\n"+
					"1. Call summarize_calls with start %d days ago, group_by [\"org_unit\", \"disposition\"] (and org_unit_id if a unit is named) to get each office's calls and answered rate.\n"+
					"2. Call summarize_calls again with disposition [\"NO ANSWER\", \"BUSY\", \"VOICEMAIL\", \"ABANDONED\"] and group_by [\"hour\"] in my time zone to find the hours calls are missed.\n"+
					"3. List the missed calls of the last 7 days with list_calls (same disposition filter) and name the callers who never got through, with their numbers and the office they called.\n"+
					"Answer with a short table per office (calls, missed, answered rate), the three worst hours, and the call-back list. Change nothing.", where, days, days), nil
			},
		},
		{
			prompt: mcp.NewPrompt("number_cleanup", mcp.WithPromptTitle("Number clean-up for an office"),
				mcp.WithPromptDescription("Find an office's tracking numbers with no calls or no active route, and propose which to release"),
				orgUnitArg,
				mcp.WithArgument("days", mcp.ArgumentDescription("Quiet period in days, default 90"))),
			needs: []string{"list_assigned_numbers", "list_provisioned_routes", "summarize_calls"},
			text: func(ctx context.Context, args map[string]string) (string, error) {
				days := "90"
				if v := strings.TrimSpace(args["days"]); v != "" {
					if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 400 {
						return "", fmt.Errorf("days must be a whole number from 1 to 400, got %q", v)
					}
					days = v
				}
				return fmt.Sprintf("Clean up the tracking numbers of %s.\n"+
					"1. List its numbers with list_assigned_numbers (org_unit_id) and its routes with list_provisioned_routes.\n"+
					"2. Count each number's calls over the last %s days with summarize_calls, group_by [\"tracking_number\"].\n"+
					"3. Show me a table: number, routes and their status, calls in the period. Mark as candidates to release the numbers with no calls and no active route.\n"+
					"Release nothing until I pick the numbers; then use release_phone_number, which asks me to confirm.", x.unitRef(ctx, args["org_unit"]), days), nil
			},
		},
		{
			prompt: mcp.NewPrompt("dialer_opt_out", mcp.WithPromptTitle("Dialer opt-out removal"),
				mcp.WithPromptDescription("Remove people who asked not to be called from a Talkdesk record list"),
				mcp.WithArgument("record_list", mcp.ArgumentDescription("Record list name (completion offers them)"), mcp.RequiredArgument()),
				mcp.WithArgument("phone_numbers", mcp.ArgumentDescription("Numbers to remove, comma-separated"), mcp.RequiredArgument())),
			needs: []string{"list_record_lists", "delete_records"},
			text: func(_ context.Context, args map[string]string) (string, error) {
				return fmt.Sprintf("Remove these opted-out numbers from the Talkdesk record list %q: %s.\n"+
					"1. Find the list's id with list_record_lists.\n"+
					"2. Call delete_records with that list and the phone numbers; it shows me the contacts it would remove and asks me to confirm.\n"+
					"3. Report, per number, whether it was removed or not on the list.", strings.TrimSpace(args["record_list"]), strings.TrimSpace(args["phone_numbers"])), nil
			},
		},
		{
			prompt: mcp.NewPrompt("new_office_setup", mcp.WithPromptTitle("New office set-up"),
				mcp.WithPromptDescription("Create an office group, order a local tracking number, route it, and add its users"),
				mcp.WithArgument("office_name", mcp.ArgumentDescription("Name of the new office"), mcp.RequiredArgument()),
				mcp.WithArgument("parent", mcp.ArgumentDescription("Parent org unit name (completion offers them) or id"), mcp.RequiredArgument()),
				mcp.WithArgument("area_code", mcp.ArgumentDescription("Area code for its tracking number, e.g. 303")),
				mcp.WithArgument("ring_to", mcp.ArgumentDescription("The office's phone number that calls ring to"))),
			needs: []string{"create_group", "search_available_numbers", "order_phone_number", "create_provisioned_route"},
			text: func(ctx context.Context, args map[string]string) (string, error) {
				area := strings.TrimSpace(args["area_code"])
				if area == "" {
					area = "the office's local area code (ask me)"
				}
				ringTo := strings.TrimSpace(args["ring_to"])
				if ringTo == "" {
					ringTo = "the office's main number (ask me)"
				}
				return fmt.Sprintf("Set up a new office %q under %s.\n"+
					"1. Create the group with create_group.\n"+
					"2. Find a tracking number in %s with search_available_numbers and order it with order_phone_number for the new group (it costs money: it asks me to confirm).\n"+
					"3. Route it to %s with create_provisioned_route.\n"+
					"4. Ask me who works there and add them with create_user.\n"+
					"Tell me each step's result before the next.", strings.TrimSpace(args["office_name"]), x.unitRef(ctx, args["parent"]), area, ringTo), nil
			},
		},
	}
}

func (x *extras) prompts(s *server.MCPServer) {
	for _, p := range x.promptDefs() {
		if !x.has(p.needs...) {
			continue
		}
		def := p
		s.AddPrompt(def.prompt, func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			for _, n := range def.needs {
				if why, ok := x.mayUse(ctx, n); !ok {
					return nil, fmt.Errorf("prompt %s uses %s, which is not yours to use: %s", def.prompt.Name, n, why)
				}
			}
			for _, a := range def.prompt.Arguments {
				if a.Required && strings.TrimSpace(req.Params.Arguments[a.Name]) == "" {
					return nil, fmt.Errorf("prompt %s needs the argument %s", def.prompt.Name, a.Name)
				}
			}
			text, err := def.text(ctx, req.Params.Arguments)
			if err != nil {
				return nil, err
			}
			return mcp.NewGetPromptResult(def.prompt.Description,
				[]mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(text))}), nil
		})
	}
}

// CompletePromptArgument offers org unit names and record list names that
// start with (or else contain) what was typed.
func (x *extras) CompletePromptArgument(ctx context.Context, prompt string, arg mcp.CompleteArgument, _ mcp.CompleteContext) (*mcp.Completion, error) {
	var names []string
	switch arg.Name {
	case "org_unit", "parent":
		units, err := x.orgUnits(ctx)
		if err != nil {
			return &mcp.Completion{Values: []string{}}, nil
		}
		for _, u := range units {
			names = append(names, u.name)
		}
	case "record_list":
		lists, err := x.recordLists(ctx)
		if err != nil {
			return &mcp.Completion{Values: []string{}}, nil
		}
		names = lists
	}
	return complete(names, arg.Value), nil
}

// CompleteResourceArgument: call ids are not worth offering.
func (x *extras) CompleteResourceArgument(context.Context, string, mcp.CompleteArgument, mcp.CompleteContext) (*mcp.Completion, error) {
	return &mcp.Completion{Values: []string{}}, nil
}

// complete keeps the names starting with typed (case-insensitive), then
// those containing it, at most maxCompletions.
func complete(names []string, typed string) *mcp.Completion {
	typed = strings.ToLower(strings.TrimSpace(typed))
	var first, then []string
	for _, n := range names {
		l := strings.ToLower(n)
		switch {
		case strings.HasPrefix(l, typed):
			first = append(first, n)
		case strings.Contains(l, typed):
			then = append(then, n)
		}
	}
	all := slices.Compact(append(first, then...))
	c := &mcp.Completion{Values: all, Total: len(all)}
	if len(all) > maxCompletions {
		c.Values, c.HasMore = all[:maxCompletions], true
	}
	if c.Values == nil {
		c.Values = []string{}
	}
	return c
}

func (x *extras) resources(s *server.MCPServer) {
	if x.has("get_group_tree") {
		s.AddResource(mcp.NewResource(orgTreeURI, "org-tree",
			mcp.WithResourceDescription("The account's org unit tree (ids, names, levels), as get_group_tree answers"),
			mcp.WithMIMEType("application/json")),
			func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
				out, err := x.call(ctx, "get_group_tree", map[string]any{})
				if err != nil {
					return nil, err
				}
				b, err := json.Marshal(out)
				if err != nil {
					return nil, err
				}
				return []mcp.ResourceContents{mcp.TextResourceContents{URI: orgTreeURI, MIMEType: "application/json", Text: string(b)}}, nil
			})
	}
	if !x.has("get_call") {
		return
	}
	s.AddResourceTemplate(mcp.NewResourceTemplate(transcriptTemplate, "call-transcript",
		mcp.WithTemplateDescription("A call's transcript (text), by call id"), mcp.WithTemplateMIMEType("text/plain")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			c, err := x.readCall(ctx, req, "transcription")
			if err != nil {
				return nil, err
			}
			tr, _ := c["transcription"].(map[string]any)
			text, _ := tr["text"].(string)
			if text == "" {
				return nil, fmt.Errorf("call %v has no transcript", c["call_id"])
			}
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "text/plain", Text: text}}, nil
		})
	s.AddResourceTemplate(mcp.NewResourceTemplate(recordingTemplate, "call-recording",
		mcp.WithTemplateDescription("A call's recording: its signed URL (valid 7 days), expiry and duration, by call id"),
		mcp.WithTemplateMIMEType("application/json")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			c, err := x.readCall(ctx, req, "recordings")
			if err != nil {
				return nil, err
			}
			url, _ := c["recording_url"].(string)
			if url == "" {
				return nil, fmt.Errorf("call %v has no recording", c["call_id"])
			}
			b, err := json.Marshal(map[string]any{"call_id": c["call_id"], "recording_url": url, "recording_details": c["recording_details"]})
			if err != nil {
				return nil, err
			}
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "application/json", Text: string(b)}}, nil
		})
}

// readCall reads the call a resource URI names through get_call.
func (x *extras) readCall(ctx context.Context, req mcp.ReadResourceRequest, include string) (map[string]any, error) {
	id, err := callID(req)
	if err != nil {
		return nil, err
	}
	return x.call(ctx, "get_call", map[string]any{"id": id, "include": []string{include}})
}

// callID reads the {id} of a call resource URI.
func callID(req mcp.ReadResourceRequest) (int64, error) {
	var raw string
	switch v := req.Params.Arguments["id"].(type) {
	case string:
		raw = v
	case []string:
		if len(v) == 1 {
			raw = v[0]
		}
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("%s names no call id (want convirza://calls/<call_id>/...)", req.Params.URI)
	}
	return id, nil
}

// resourceLinks adds to a successful get_call result links to the call's
// transcript and recording resources, for a client to attach.
func (x *extras) resourceLinks(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		res, err := next(ctx, req)
		if err != nil || res == nil || res.IsError || req.Params.Name != "get_call" {
			return res, err
		}
		var c struct {
			CallID        int64           `json:"call_id"`
			RecordingURL  string          `json:"recording_url"`
			Transcription json.RawMessage `json:"transcription"`
		}
		for _, content := range res.Content {
			if tc, ok := content.(mcp.TextContent); ok && json.Unmarshal([]byte(tc.Text), &c) == nil {
				break
			}
		}
		if c.CallID == 0 {
			return res, nil
		}
		id := strconv.FormatInt(c.CallID, 10)
		if len(c.Transcription) > 0 {
			res.Content = append(res.Content, mcp.NewResourceLink("convirza://calls/"+id+"/transcript", "call-"+id+"-transcript",
				"Transcript of call "+id, "text/plain"))
		}
		if c.RecordingURL != "" {
			res.Content = append(res.Content, mcp.NewResourceLink("convirza://calls/"+id+"/recording", "call-"+id+"-recording",
				"Recording of call "+id+" (signed URL)", "application/json"))
		}
		return res, nil
	}
}
