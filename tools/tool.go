// Package tools declares every MCP tool of the server, one file per toolset.
//
// A tool is one declaration: its Spec (name, class, description), a handler
// taking its typed arguments and returning its typed result, and options
// that say the rest of its contract where the tool is declared: how its
// calls relate to org units (Names, Pins, Resolves, Owned, ScopedList,
// Trims, AccountWide, Unscopable) and, for a confirmable tool, the preview
// that says what a call would do (Confirm). Everything else is done once
// for all tools by the pipeline in call.go: arguments decoded and validated
// once, every hook handed the typed value, the canonical bytes that
// confirmation binds to computed once, and the typed result rendered.
//
// Adding a tool: an argument type in schemas/, one Define in the toolset's
// file here, its simulator route in internal/sandbox, and its schema
// snapshot (go test ./tools -run 'TestSchemaSnapshots|TestReadmeToolTable' -update).
package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/argcheck"
	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/talkdesk"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

// Deps are what handlers call.
type Deps struct {
	Convirza *convirza.Client
	Talkdesk *talkdesk.Client
	Log      *slog.Logger
	// MediaDir is the only directory upload_media_prompt may read files
	// from (CONVIRZA_MCP_MEDIA_DIR); empty: file paths are refused.
	MediaDir string
	// Spend counts the policy's daily limits (nil: none).
	Spend *policy.Spend
}

// Spec describes a tool.
type Spec struct {
	Name        string
	Title       string
	Description string
	Toolset     string
	Class       policy.Class
	// Idempotent: calling twice with the same arguments has no further
	// effect. Reads always are; PUT, PATCH and DELETE are; POST is not.
	Idempotent bool
	// Local: the tool reaches no upstream (it reads this server's own
	// catalog), so its openWorldHint is false.
	Local bool
	// AdminOnly: only a Convirza Admin (role_id 1) may use the tool, reads
	// included; Convirza refuses everyone else. MayUse applies it to a
	// signed-in person (CONVIRZA_MCP_AUTH=oauth).
	AdminOnly bool
}

// Validator is implemented by argument types with rules a schema cannot say.
type Validator interface{ Validate() error }

// Tool is a declared tool, its argument and result types erased.
type Tool struct {
	Spec
	// bind decodes and validates raw arguments into one typed call.
	bind func(raw []byte, v *argcheck.Validator) (call, error)
	// reflect generates the input schema from the argument type; only the
	// snapshot test does: at run time the checked-in snapshot is the schema.
	reflect func() (schemas.Schema, error)
	scope   scopeDecl
	preview bool // declared with Confirm
	// confirmSome: some calls need confirmation (ConfirmWhen).
	confirmSome bool
	// confirmAlso: the policy makes this tool confirmable beyond its class.
	confirmAlso bool
	schema      *toolSchema
}

// Confirmable reports whether every call needs a human's yes: its class
// does, or the policy requires it (confirmation.require).
func (t *Tool) Confirmable() bool { return t.Class.NeedsConfirmation() || t.confirmAlso }

// ConfirmsSome reports whether some calls need a human's yes (ConfirmWhen):
// its schema accepts confirmation_token.
func (t *Tool) ConfirmsSome() bool { return t.confirmSome && !t.Confirmable() }

// WithConfirmation returns a copy of t whose calls need confirmation, and
// whose schema accepts confirmation_token.
func (t Tool) WithConfirmation() Tool {
	if t.Confirmable() {
		return t
	}
	t.confirmAlso = true
	t.schema = t.schema.withConfirmationToken()
	return t
}

// Option completes a tool's declaration. Each option is typed by what it
// takes (the argument type A, the result type R); Define checks that they
// are the tool's own, so a mismatch fails the first test run.
type Option func(*optionSet)

type optionSet struct {
	accountWide, unscopable bool
	names, pins             any   // func(A) []int64, func(*A, int64)
	resolve                 []any // resolvers of A, in order
	trim                    any   // func(R, func(int64) bool) (R, error)
	list                    any   // ScopedList's reader of A and R
	preview                 any   // PreviewFunc of A
	confirmWhen             any   // func(A) bool
}

// Confirm declares the preview of a confirmable tool (class D or W$): what
// a call would do, fetched upstream before a person is asked.
func Confirm[A any](preview func(ctx context.Context, d *Deps, a A) (*policy.Preview, error)) Option {
	return func(o *optionSet) { o.preview = preview }
}

// ConfirmWhen makes the calls of a tool whose class needs no confirmation
// confirmable when f says so: an edit of a broadcast that changes who
// receives it or what it says costs as much as sending one. The tool is
// declared with Confirm too, for the preview.
func ConfirmWhen[A any](f func(A) bool) Option {
	return func(o *optionSet) { o.confirmWhen = f }
}

// Define declares a tool: spec, handler, and the options that complete its
// contract. It is called at start-up with the program's own declarations;
// a bad declaration is a programming error caught by the first test run, so
// it panics rather than return an error every caller would have to thread.
func Define[A, R any](spec Spec, h func(ctx context.Context, d *Deps, a A) (R, error), opts ...Option) Tool {
	var o optionSet
	for _, opt := range opts {
		opt(&o)
	}
	if reflect.TypeFor[A]().Kind() != reflect.Struct {
		panic(fmt.Sprintf("tool %s: arguments must be a struct", spec.Name))
	}
	de := &decl[A, R]{name: spec.Name, run: h}
	bad := func(opt string, want string, got any) {
		panic(fmt.Sprintf("tool %s: option %s takes %s, got %T", spec.Name, opt, want, got))
	}
	var ok bool
	if o.preview != nil {
		if de.preview, ok = o.preview.(func(context.Context, *Deps, A) (*policy.Preview, error)); !ok {
			bad("Confirm", "a preview of "+reflect.TypeFor[A]().String(), o.preview)
		}
	}
	if o.confirmWhen != nil {
		if de.confirmWhen, ok = o.confirmWhen.(func(A) bool); !ok {
			bad("ConfirmWhen", "func("+reflect.TypeFor[A]().String()+") bool", o.confirmWhen)
		}
	}
	if (spec.Class.NeedsConfirmation() || de.confirmWhen != nil) != (de.preview != nil) || spec.Class.NeedsConfirmation() && de.confirmWhen != nil {
		panic(fmt.Sprintf("tool %s: Confirm goes with a confirmable class (every call) or with ConfirmWhen on a class that is not (some calls)", spec.Name))
	}
	if o.names != nil {
		if de.names, ok = o.names.(func(A) []int64); !ok {
			bad("Names", "func("+reflect.TypeFor[A]().String()+") []int64", o.names)
		}
	}
	if o.pins != nil {
		if de.pins, ok = o.pins.(func(*A, int64)); !ok {
			bad("Pins", "func(*"+reflect.TypeFor[A]().String()+", int64)", o.pins)
		}
	}
	for _, r := range o.resolve {
		f, ok := r.(func(context.Context, *Deps, A) ([]int64, error))
		if !ok {
			bad("Resolves", "a resolver of "+reflect.TypeFor[A]().String(), r)
		}
		de.resolve = append(de.resolve, f)
	}
	if o.trim != nil {
		if de.trim, ok = o.trim.(func(R, func(int64) bool) (R, error)); !ok {
			bad("Trims", "a trimmer of "+reflect.TypeFor[R]().String(), o.trim)
		}
	}
	if o.list != nil {
		if de.list, ok = o.list.(func(context.Context, *Deps, A, func(context.Context, *Deps, A) (R, error), func(int64) bool) (R, error)); !ok {
			bad("ScopedList", "a list of "+reflect.TypeFor[A]().String()+" answered by "+reflect.TypeFor[R]().String(), o.list)
		}
	}
	if spec.Class == policy.Read {
		spec.Idempotent = true
	}
	return Tool{
		Spec:    spec,
		bind:    de.bind,
		reflect: func() (schemas.Schema, error) { return reflectSchema[A](de.preview != nil) },
		scope: scopeDecl{
			accountWide: o.accountWide, unscopable: o.unscopable,
			names: de.names != nil, resolves: len(de.resolve) > 0, pins: de.pins != nil, trims: de.trim != nil, lists: de.list != nil,
		},
		preview:     de.preview != nil,
		confirmSome: de.confirmWhen != nil,
		schema:      &toolSchema{name: spec.Name},
	}
}

// reflectSchema generates the input schema of argument type A.
func reflectSchema[A any](confirmable bool) (schemas.Schema, error) {
	var zero A
	s, err := schemas.For(&zero)
	if err != nil {
		return nil, err
	}
	if confirmable {
		s = schemas.WithConfirmationToken(s)
	}
	return s, nil
}

// ReflectSchema generates the tool's input schema from its argument type,
// for the snapshot test; the server itself serves the checked-in snapshot.
func (t *Tool) ReflectSchema() (schemas.Schema, error) {
	s, err := t.reflect()
	if err == nil && t.confirmAlso {
		s = schemas.WithConfirmationToken(s)
	}
	return s, err
}

// toolSchema is a tool's input schema as served: the checked-in snapshot,
// read on first use (tools/list), and compiled into a validator on the
// first call, so that starting the server builds nothing the build already
// made.
type toolSchema struct {
	name      string
	withToken bool
	rawOnce   sync.Once
	raw       json.RawMessage
	rawErr    error
	valOnce   sync.Once
	validator *argcheck.Validator
	valErr    error
}

func (s *toolSchema) withConfirmationToken() *toolSchema {
	return &toolSchema{name: s.name, withToken: true}
}

// json is the served schema.
func (s *toolSchema) json() (json.RawMessage, error) {
	s.rawOnce.Do(func() {
		raw, err := schemas.Snapshot(s.name)
		if err == nil && s.withToken {
			raw, err = schemas.AddConfirmationToken(raw)
		}
		if err != nil {
			s.rawErr = fmt.Errorf("tool %s: %w", s.name, err)
			return
		}
		s.raw = raw
	})
	return s.raw, s.rawErr
}

// load is the served schema and its validator.
func (s *toolSchema) load() (json.RawMessage, *argcheck.Validator, error) {
	raw, err := s.json()
	if err != nil {
		return nil, nil, err
	}
	s.valOnce.Do(func() {
		if s.validator, err = argcheck.Compile(s.name, raw); err != nil {
			s.valErr = fmt.Errorf("tool %s: %w", s.name, err)
		}
	})
	return raw, s.validator, s.valErr
}

// InputSchema is the schema served in tools/list.
func (t *Tool) InputSchema() (json.RawMessage, error) { return t.schema.json() }

// inputSchema is the served schema, or an empty object schema if its
// snapshot cannot be read (which the snapshot test catches).
func (t *Tool) inputSchema() json.RawMessage {
	raw, err := t.InputSchema()
	if err != nil {
		return json.RawMessage(`{"type":"object"}`)
	}
	return raw
}

// MCPTool renders the tool's definition for tools/list, with all four
// annotation hints set explicitly.
func (t *Tool) MCPTool() (mcp.Tool, error) {
	raw, err := t.InputSchema()
	if err != nil {
		return mcp.Tool{}, err
	}
	mt := mcp.NewToolWithRawSchema(t.Name, t.Description, raw)
	mt.Annotations = t.Annotations()
	return mt, nil
}

// Annotations are the tool's title and all four hints, set explicitly.
func (t *Tool) Annotations() mcp.ToolAnnotation {
	return mcp.ToolAnnotation{
		Title:           t.Title,
		ReadOnlyHint:    mcp.ToBoolPtr(t.Class == policy.Read),
		DestructiveHint: mcp.ToBoolPtr(t.Class == policy.Destructive),
		IdempotentHint:  mcp.ToBoolPtr(t.Idempotent),
		OpenWorldHint:   mcp.ToBoolPtr(!t.Local),
	}
}
