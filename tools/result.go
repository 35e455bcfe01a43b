package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

// Handler returns the MCP handler of t: arguments decoded and validated,
// limited to the policy's org-unit scope, confirmation asked where the class
// or the policy needs it, the call put on the audit record, the tool run, and
// its result or error turned into a tool result. It never returns a Go
// error: every failure is an isError result the model can read.
func (t *Tool) Handler(d *Deps, g Guards) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		p, err := t.prepare(rawArguments(req))
		if err != nil {
			return errorResult(t.Name, err), nil
		}
		call := g.begin(ctx, d, t, p)
		if refused := call.scope(p); refused != nil {
			return refused, nil
		}
		decision := policy.DecisionAllowed
		if t.Confirmable() {
			out, err := g.Confirm.Check(ctx, policy.Call{Tool: t.Name, Args: p.canonical, Token: p.token, Request: req},
				func(ctx context.Context) (*policy.Preview, error) { return t.Preview(ctx, d, p.canonical) })
			if err != nil {
				return errorResult(t.Name, err), nil
			}
			if !out.Proceed {
				call.confirmStep(out)
				return out.Result, nil
			}
			decision = out.Decision
		}
		if refused := call.beforeRun(decision); refused != nil {
			return refused, nil
		}
		v, err := t.run(ctx, d, p.canonical)
		call.afterRun(v, err)
		if err == nil {
			v, err = call.filter(v)
		}
		if err != nil {
			return errorResult(t.Name, err), nil
		}
		return Result(v)
	}
}

// Preview runs the tool's preview, or describes the call plainly when the
// tool has none.
func (t *Tool) Preview(ctx context.Context, d *Deps, canonical []byte) (*policy.Preview, error) {
	if t.preview != nil {
		return t.preview(ctx, d, canonical)
	}
	return &policy.Preview{Action: fmt.Sprintf("Run %s with %s.", t.Name, canonical)}, nil
}

func rawArguments(req mcp.CallToolRequest) []byte {
	if len(req.Params.RawArguments) > 0 {
		return req.Params.RawArguments
	}
	if req.Params.Arguments == nil {
		return nil
	}
	b, err := json.Marshal(req.Params.Arguments)
	if err != nil {
		return []byte("<unencodable>")
	}
	return b
}

// Result renders v as structured content plus the same compact JSON as
// text. Null and empty fields are dropped; a value that is not an object is
// wrapped as {"result": v}, since structured content must be an object.
func Result(v any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return mcp.NewToolResultError(fmt.Sprintf("internal error encoding the result: %v", err)), nil
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return mcp.NewToolResultError(fmt.Sprintf("internal error encoding the result: %v", err)), nil
	}
	generic = prune(generic)
	obj, ok := generic.(map[string]any)
	if !ok {
		obj = map[string]any{"result": generic}
	}
	text, err := json.Marshal(obj)
	if err != nil {
		return mcp.NewToolResultError(fmt.Sprintf("internal error encoding the result: %v", err)), nil
	}
	if len(text) > MaxResultBytes {
		obj, text = truncate(obj, text)
	}
	return mcp.NewToolResultStructured(obj, string(text)), nil
}

// MaxResultBytes bounds one result's JSON: about 20,000 tokens, so a single
// answer cannot crowd the conversation out of the assistant's context.
const MaxResultBytes = 64 << 10

// truncate cuts the largest top-level list of an oversized result at a
// record boundary so that the whole fits in MaxResultBytes, and says how to
// get the rest (the page's next_offset is corrected).
func truncate(obj map[string]any, text []byte) (map[string]any, []byte) {
	key, n := "", 0
	for k, v := range obj {
		if items, ok := v.([]any); ok && len(items) > n {
			key, n = k, len(items)
		}
	}
	if key == "" {
		return obj, text // nothing to cut at a record boundary
	}
	all := obj[key].([]any)
	origin, haveOrigin := pageOrigin(obj)
	fit := func(k int) (map[string]any, []byte) {
		out := make(map[string]any, len(obj)+1)
		for kk, vv := range obj {
			out[kk] = vv
		}
		out[key] = all[:k]
		if _, ok := obj["count"]; ok {
			out["count"] = k
		}
		note := fmt.Sprintf("Only %d of the %d %s fit in one answer. Ask for fewer (a smaller limit or narrower filters)", k, n, key)
		switch {
		case haveOrigin:
			out["next_offset"] = origin + k
			note += fmt.Sprintf(", or page on with offset=%d", origin+k)
		default:
			// The next page's offset is not known: the upstream's would
			// skip the records cut here.
			delete(out, "next_offset")
		}
		out["truncated"] = note + "."
		b, _ := json.Marshal(out)
		return out, b
	}
	// The largest k whose rendering fits.
	lo, hi := 0, n-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if _, b := fit(mid); len(b) <= MaxResultBytes {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return fit(lo)
}

// pageOrigin finds the offset a page started at from its count and
// next_offset or total; not for a page trimmed to the scope.
func pageOrigin(obj map[string]any) (int, bool) {
	if _, filtered := obj[scopeNote]; filtered {
		// Trimmed to the org-unit scope: count no longer says how many
		// upstream records the page spans.
		return 0, false
	}
	if _, paged := obj["page"]; paged {
		// Page-numbered (Talkdesk): there is no offset to resume from; the
		// note asks for a smaller per_page instead.
		return 0, false
	}
	count, ok := number(obj["count"])
	if !ok {
		return 0, false
	}
	if next, ok := number(obj["next_offset"]); ok {
		return next - count, true
	}
	if total, ok := number(obj["total"]); ok {
		return total - count, true
	}
	return 0, false
}

func number(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		return int(x), true
	case int:
		return x, true
	}
	return 0, false
}

// prune drops nulls, empty strings, empty arrays and empty objects from
// objects (array items are kept, so positions stay meaningful).
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			val = prune(val)
			if empty(val) {
				delete(x, k)
				continue
			}
			x[k] = val
		}
		return x
	case []any:
		for i, val := range x {
			x[i] = prune(val)
		}
		return x
	}
	return v
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// errorResult turns any failure into a message a model can act on.
func errorResult(tool string, err error) *mcp.CallToolResult {
	var (
		ve *schemas.ValidationError
		ae *upstream.APIError
		me *upstream.MalformedError
		te *upstream.TransportError
	)
	switch {
	case errors.As(err, &ve):
		return mcp.NewToolResultError(ve.Error() + ". Nothing was sent upstream.")
	case errors.As(err, &ae):
		return mcp.NewToolResultError(ae.Error())
	case errors.As(err, &me):
		return mcp.NewToolResultError(me.Error())
	case errors.As(err, &te):
		if te.OutcomeUnknown() {
			return mcp.NewToolResultError(fmt.Sprintf("%s: the request was sent but no answer came back (%v). The change may or may not have been made: check with a read tool before retrying.", tool, te))
		}
		if te.Timeout {
			return mcp.NewToolResultError(fmt.Sprintf("%s: the upstream did not answer in time (%v). Nothing is known to have changed; retry later.", tool, te))
		}
		return mcp.NewToolResultError(fmt.Sprintf("%s: the upstream could not be reached (%v).", tool, te))
	case errors.Is(err, context.Canceled):
		return mcp.NewToolResultError(tool + ": cancelled.")
	case errors.Is(err, context.DeadlineExceeded):
		return mcp.NewToolResultError(tool + ": timed out.")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, tool) {
		msg = tool + ": " + msg
	}
	return mcp.NewToolResultError(msg)
}
