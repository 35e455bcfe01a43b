package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/schemas"
)

// Result renders v as structured content plus the same compact JSON as
// text. Null and empty fields are dropped; a value that is not an object is
// wrapped as {"result": v}, since structured content must be an object. An
// answer over MaxResultBytes is cut at a record boundary.
func Result(v any) (*mcp.CallToolResult, error) {
	text, err := render(v)
	if err != nil {
		return mcp.NewToolResultError(fmt.Sprintf("internal error encoding the result: %v", err)), nil
	}
	if len(text) > MaxResultBytes {
		text, err = fitted(v, text)
		if err != nil {
			return mcp.NewToolResultError(fmt.Sprintf("internal error encoding the result: %v", err)), nil
		}
	}
	return mcp.NewToolResultStructured(json.RawMessage(text), string(text)), nil
}

// render encodes v once and prunes the encoding.
func render(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out, ok := pruneJSON(b)
	if !ok {
		// Not the compact JSON encoding/json writes: take the long way.
		var generic any
		if err := json.Unmarshal(b, &generic); err != nil {
			return nil, err
		}
		if out, err = json.Marshal(prune(generic)); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 || out[0] != '{' {
		out = append(append([]byte(`{"result":`), out...), '}')
	}
	return out, nil
}

// MaxResultBytes bounds one result's JSON: about 20,000 tokens, so a single
// answer cannot crowd the conversation out of the assistant's context.
const MaxResultBytes = 64 << 10

// fitted cuts an oversized answer at a record boundary so that the whole
// fits in MaxResultBytes, and says how to get the rest: a page is cut
// through its own type (its next offset corrected), anything else at its
// largest top-level list.
func fitted(v any, text []byte) ([]byte, error) {
	if p, ok := v.(pager); ok {
		return largestFit(p.length(), len(text), func(k int) ([]byte, error) { return render(p.cutAt(k)) })
	}
	var obj map[string]any
	if err := json.Unmarshal(text, &obj); err != nil {
		return text, nil // not an object: nothing to cut at a record boundary
	}
	key, n := "", 0
	for k, v := range obj {
		if items, ok := v.([]any); ok && len(items) > n {
			key, n = k, len(items)
		}
	}
	if key == "" {
		return text, nil
	}
	all := obj[key].([]any)
	return largestFit(n, len(text), func(k int) ([]byte, error) {
		out := make(map[string]any, len(obj)+1)
		for kk, vv := range obj {
			out[kk] = vv
		}
		out[key] = all[:k]
		if _, ok := obj["count"]; ok {
			out["count"] = k
		}
		// The next page's offset is not known here.
		delete(out, "next_offset")
		out["truncated"] = fmt.Sprintf("Only %d of the %d %s fit in one answer. Ask for fewer (a smaller limit or narrower filters).", k, n, key)
		return json.Marshal(out)
	})
}

// largestFit renders the largest k < n whose rendering fits, given the
// size of the whole (k = n). Rendering is the cost, and a rendering costs
// about its k, so k is guessed by interpolation between the largest size
// known to fit and the smallest known not to (records of similar size land
// within a few records of the answer at the first guess), and a run of
// guesses on one side gallops (1, 2, 4… records further) so the answer is
// bracketed from both sides in a few small renderings rather than halving
// down from n. Wildly uneven records fall back to halving after log₂(n)+4
// guesses.
func largestFit(n, whole int, renderK func(k int) ([]byte, error)) ([]byte, error) {
	fit, err := renderK(0)
	if err != nil {
		return nil, err
	}
	lo, loSize := 0, len(fit) // fits
	hi, hiSize := n, whole    // does not fit
	side, step := 0, 1        // side: +1 the last guess fitted, -1 it did not
	for guesses := 0; hi-lo > 1; guesses++ {
		k := lo + (hi-lo)/2
		if guesses < bits.Len(uint(n))+4 && hiSize > loSize {
			k = lo + int(int64(MaxResultBytes-loSize)*int64(hi-lo)/int64(hiSize-loSize))
			switch side {
			case +1:
				k = max(k, lo+step)
			case -1:
				k = min(k, hi-step)
			}
		}
		k = max(lo+1, min(hi-1, k))
		b, err := renderK(k)
		if err != nil {
			return nil, err
		}
		now := -1
		if len(b) <= MaxResultBytes {
			now, lo, loSize, fit = +1, k, len(b), b
		} else {
			hi, hiSize = k, len(b)
		}
		if now == side {
			step *= 2
		} else {
			side, step = now, 1
		}
	}
	return fit, nil
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
		if ae.OutcomeUnknown() {
			return mcp.NewToolResultError(ae.Error() + ". A gateway answered, so the change may or may not have been made: check with a read tool before retrying.")
		}
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
