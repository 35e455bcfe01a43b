package tools

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/argcheck"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/policy"
)

// typedDecodes counts how often countedArgs is decoded from JSON.
var typedDecodes atomic.Int32

type countedArgs struct {
	OrgUnitID int64 `json:"org_unit_id,omitempty" jsonschema:"minimum=1"`
}

func (a *countedArgs) UnmarshalJSON(b []byte) error {
	typedDecodes.Add(1)
	type plain countedArgs
	return json.Unmarshal(b, (*plain)(a))
}

// servedFromReflection gives a test tool, which has no checked-in
// snapshot, the schema its argument type generates.
func servedFromReflection(t *testing.T, tl Tool) Tool {
	t.Helper()
	s, err := tl.ReflectSchema()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	v, err := argcheck.Compile(tl.Name, s)
	if err != nil {
		t.Fatal(err)
	}
	tl.schema = &toolSchema{name: tl.Name, raw: raw, validator: v}
	tl.schema.rawOnce.Do(func() {})
	tl.schema.valOnce.Do(func() {})
	return tl
}

// TestArgumentsDecodedOncePerCall: a call runs every hook (scope names,
// pin, resolver, preview, confirmation, handler, trim) on one typed value;
// the arguments are decoded into it once per call.
func TestArgumentsDecodedOncePerCall(t *testing.T) {
	var hooks []string
	tl := servedFromReflection(t, Define(Spec{Name: "count_decodes", Class: policy.Destructive},
		func(_ context.Context, _ *Deps, a countedArgs) (*Page[countedArgs], error) {
			hooks = append(hooks, "run")
			return offsetPage("items", []countedArgs{a}, 1, 0), nil
		},
		Confirm(func(_ context.Context, _ *Deps, a countedArgs) (*policy.Preview, error) {
			hooks = append(hooks, "preview")
			return &policy.Preview{Action: "Count."}, nil
		}),
		Names(func(a countedArgs) []int64 { hooks = append(hooks, "names"); return units(a.OrgUnitID) }),
		Pins(func(a *countedArgs, root int64) { hooks = append(hooks, "pin"); a.OrgUnitID = root }),
		Resolves(func(context.Context, *Deps, countedArgs) ([]int64, error) {
			hooks = append(hooks, "resolve")
			return nil, nil
		}),
		Trims(func(p *Page[countedArgs], _ func(int64) bool) (*Page[countedArgs], error) {
			hooks = append(hooks, "trim")
			return p, nil
		}),
	))
	st, err := store.Open(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	toks, err := policy.NewTokens(nil, time.Minute, st)
	if err != nil {
		t.Fatal(err)
	}
	scope := policy.NewScope([]int64{7}, func(context.Context, int64) ([]int64, error) { return []int64{7, 8}, nil }, time.Minute)
	h := tl.Handler(&Deps{}, Guards{Confirm: &policy.Confirmer{Tokens: toks, Mode: policy.ModeToken}, Scope: scope})
	call := func(args string, wantDecodes int32) map[string]any {
		t.Helper()
		req := mcp.CallToolRequest{}
		req.Params.Name = tl.Name
		req.Params.RawArguments = json.RawMessage(args)
		before := typedDecodes.Load()
		res, err := h(context.Background(), req)
		if err != nil || res.IsError {
			t.Fatalf("%s: %v %v", args, err, res)
		}
		if n := typedDecodes.Load() - before; n != wantDecodes {
			t.Errorf("%s: arguments decoded %d times, want %d", args, n, wantDecodes)
		}
		b, err := json.Marshal(res.StructuredContent)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := call(`{}`, 0) // nothing to decode
	tok, _ := first["confirmation_token"].(string)
	if tok == "" {
		t.Fatalf("first call: %v", first)
	}
	// The token is bound to the pinned arguments, which the second call
	// names itself.
	second := call(`{"org_unit_id":7,"confirmation_token":"`+tok+`"}`, 1)
	if second["count"] != 1.0 {
		t.Fatalf("second call: %v", second)
	}
	want := []string{"names", "pin", "resolve", "preview", "names", "resolve", "run", "trim"}
	if len(hooks) != len(want) {
		t.Fatalf("hooks ran %v, want %v", hooks, want)
	}
	for i := range want {
		if hooks[i] != want[i] {
			t.Fatalf("hooks ran %v, want %v", hooks, want)
		}
	}
}
