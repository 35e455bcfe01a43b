package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/internal/argcheck"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

// decl is a tool's declaration with its types: what Define was given.
type decl[A, R any] struct {
	name    string
	run     func(ctx context.Context, d *Deps, a A) (R, error)
	preview func(ctx context.Context, d *Deps, a A) (*policy.Preview, error)
	// confirmWhen: some calls of a tool whose class needs no confirmation do.
	confirmWhen func(A) bool
	names       func(A) []int64
	pins        func(*A, int64)
	resolve     []func(ctx context.Context, d *Deps, a A) ([]int64, error)
	trim        func(R, func(int64) bool) (R, error)
	list        func(ctx context.Context, d *Deps, a A, run func(context.Context, *Deps, A) (R, error), in func(int64) bool) (R, error)
}

// call is one tool call whose arguments were decoded and validated once;
// every step of the pipeline works on its typed value through these methods.
type call interface {
	// canonical is the typed arguments encoded again: one form whatever key
	// order or number spelling the client used, which confirmation binds to
	// and the audit log records. A string field longer than
	// policy.MaxAuditString (base64 audio) is in it as its size and digest
	// (policy.Omitted), so megabytes are not encoded again to be recorded.
	// Computed once, when first needed.
	canonical() []byte
	// token is the confirmation_token argument, if any.
	token() string
	// needsConfirmation: this call does, whatever its tool's class (ConfirmWhen).
	needsConfirmation() bool
	// named are the org units the arguments name (Names).
	named() []int64
	// resolve finds the org units of the resources the call names
	// (Resolves), one resolver after the other, each one's units checked
	// before the next reads anything; it returns them all.
	resolve(ctx context.Context, d *Deps, check func([]int64) error) ([]int64, error)
	// pin limits a call naming no org unit to one (Pins); false when the
	// tool cannot be pinned.
	pin(root int64) bool
	preview(ctx context.Context, d *Deps) (*policy.Preview, error)
	run(ctx context.Context, d *Deps) (any, error)
	// trim limits a result to the scope (Trims).
	trim(v any, in func(int64) bool) (any, error)
	// runScoped runs a ScopedList call under a scope: the whole upstream
	// list read, limited to the scope and paged here. ok is false for a
	// tool that is no such list, or a call that names its org units.
	runScoped(ctx context.Context, d *Deps, in func(int64) bool) (v any, ok bool, err error)
}

// typedCall is a call of one declaration.
type typedCall[A, R any] struct {
	d     *decl[A, R]
	args  A
	tok   string
	canon []byte
}

// bind decodes raw arguments once: the generic value is checked against the
// tool's schema (unknown fields, types, ranges, formats), then the same
// bytes are decoded into A and A's own rules applied.
func (de *decl[A, R]) bind(raw []byte, v *argcheck.Validator) (call, error) {
	m, err := schemas.DecodeArguments(raw)
	if err != nil {
		return nil, err
	}
	c := &typedCall[A, R]{d: de}
	if tok, ok := m[schemas.ConfirmationTokenProperty]; ok {
		s, isStr := tok.(string)
		if !isStr {
			return nil, &schemas.ValidationError{Problems: []string{"confirmation_token must be a string"}}
		}
		c.tok = s
	}
	if err := v.Validate(m); err != nil {
		return nil, err
	}
	if len(m) > 0 {
		// The schema refused unknown properties; confirmation_token, which
		// A does not have, is skipped by the decoder.
		if err := json.Unmarshal(raw, &c.args); err != nil {
			return nil, &schemas.ValidationError{Problems: []string{decodeProblem(err)}}
		}
	}
	if val, ok := any(&c.args).(Validator); ok {
		if err := val.Validate(); err != nil {
			return nil, &schemas.ValidationError{Problems: []string{err.Error()}}
		}
	}
	return c, nil
}

func decodeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must be a %s that fits; got %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

func (c *typedCall[A, R]) canonical() []byte {
	if c.canon == nil {
		b, err := json.Marshal(boundStrings(c.args))
		if err != nil {
			// A decoded from JSON encodes again; keep a form that binds
			// to nothing a real call could produce.
			b = []byte(fmt.Sprintf("<unencodable: %v>", err))
		}
		c.canon = b
	}
	return c.canon
}

// boundStrings returns v, or, when a string field of the struct v (or of a
// struct inside it) is longer than policy.MaxAuditString, a copy of v with
// each such field replaced by policy.Omitted's size and digest. The copy
// shares everything else with v.
func boundStrings(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Struct || !longStrings(rv, false) {
		return v
	}
	cp := reflect.New(rv.Type()).Elem()
	cp.Set(rv)
	longStrings(cp, true)
	return cp.Interface()
}

// longStrings reports whether the struct rv has a long string field, and
// when replace is set (rv is settable), replaces each.
func longStrings(rv reflect.Value, replace bool) bool {
	found := false
	for i := range rv.NumField() {
		if !rv.Type().Field(i).IsExported() {
			continue
		}
		f := rv.Field(i)
		switch f.Kind() {
		case reflect.String:
			if f.Len() > policy.MaxAuditString {
				found = true
				if replace {
					f.SetString(policy.Omitted(f.String()))
				}
			}
		case reflect.Struct:
			found = longStrings(f, replace) || found
		}
	}
	return found
}

func (c *typedCall[A, R]) token() string { return c.tok }

func (c *typedCall[A, R]) needsConfirmation() bool {
	return c.d.confirmWhen != nil && c.d.confirmWhen(c.args)
}

func (c *typedCall[A, R]) named() []int64 {
	if c.d.names == nil {
		return nil
	}
	return c.d.names(c.args)
}

func (c *typedCall[A, R]) resolve(ctx context.Context, d *Deps, check func([]int64) error) ([]int64, error) {
	var all []int64
	for _, r := range c.d.resolve {
		u, err := r(ctx, d, c.args)
		if err != nil {
			return nil, err
		}
		if err := check(u); err != nil {
			return nil, err
		}
		all = append(all, u...)
	}
	return all, nil
}

func (c *typedCall[A, R]) pin(root int64) bool {
	if c.d.pins == nil {
		return false
	}
	c.d.pins(&c.args, root)
	c.canon = nil
	return true
}

func (c *typedCall[A, R]) preview(ctx context.Context, d *Deps) (*policy.Preview, error) {
	if c.d.preview == nil {
		// A tool the policy makes confirmable: describe the call plainly.
		return &policy.Preview{Action: fmt.Sprintf("Run %s with %s.", c.d.name, c.canonical())}, nil
	}
	return c.d.preview(ctx, d, c.args)
}

func (c *typedCall[A, R]) run(ctx context.Context, d *Deps) (any, error) {
	r, err := c.d.run(ctx, d, c.args)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (c *typedCall[A, R]) runScoped(ctx context.Context, d *Deps, in func(int64) bool) (any, bool, error) {
	if c.d.list == nil || len(c.named()) > 0 {
		return nil, false, nil
	}
	r, err := c.d.list(ctx, d, c.args, c.d.run, in)
	if err != nil {
		return nil, true, err
	}
	return r, true, nil
}

func (c *typedCall[A, R]) trim(v any, in func(int64) bool) (any, error) {
	if c.d.trim == nil {
		return v, nil
	}
	r, ok := v.(R)
	if !ok {
		return nil, fmt.Errorf("cannot limit an unexpected result (%T) to the org-unit scope", v)
	}
	return c.d.trim(r, in)
}

// Bind decodes and validates raw arguments as a call of t would, without
// running anything: what a test counts, and what `call` checks first.
func (t *Tool) Bind(raw []byte) error {
	_, err := t.newCall(raw)
	return err
}

func (t *Tool) newCall(raw []byte) (call, error) {
	_, v, err := t.schema.load()
	if err != nil {
		return nil, err
	}
	return t.bind(raw, v)
}

// Handler returns the MCP handler of t: arguments decoded and validated
// once, limited to the policy's org-unit scope, confirmation asked where the
// class or the policy needs it, the call put on the audit record, the tool
// run, and its result or error turned into a tool result. It never returns
// a Go error: every failure is an isError result the model can read.
func (t *Tool) Handler(d *Deps, g Guards) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		c, err := t.newCall(rawArguments(req))
		if err != nil {
			return errorResult(t.Name, err), nil
		}
		run := g.begin(ctx, d, t, c)
		if refused := run.scope(); refused != nil {
			return refused, nil
		}
		decision := policy.DecisionAllowed
		var conf *policy.Outcome // the confirmation that lets the call run, if it needed one
		if t.Confirmable() || c.needsConfirmation() {
			out, err := g.Confirm.Check(ctx, policy.Call{Tool: t.Name, Args: c.canonical(), Token: c.token(), Request: req, Masked: masked(c.canonical())},
				func(ctx context.Context) (*policy.Preview, error) { return c.preview(ctx, d) })
			if err != nil {
				return errorResult(t.Name, err), nil
			}
			if !out.Proceed {
				run.confirmStep(out)
				return out.Result, nil
			}
			decision, conf = out.Decision, &out
		}
		if refused := run.beforeRun(decision, conf); refused != nil {
			return refused, nil
		}
		snap, note := run.snapshot(conf)
		v, err := run.execute(c)
		run.afterRun(v, err, conf, snap, note)
		if err == nil {
			v, err = run.filter(v)
		}
		if err != nil {
			return errorResult(t.Name, err), nil
		}
		return Result(v)
	}
}

// masked is canonical arguments as an approver may see them: secrets and
// phone numbers masked as the audit log masks them.
func masked(canonical []byte) json.RawMessage {
	b, err := json.Marshal(policy.MaskArguments(canonical))
	if err != nil {
		return nil
	}
	return b
}

// rawArguments are the arguments as the client sent them.
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
