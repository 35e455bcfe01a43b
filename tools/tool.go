// Package tools declares every MCP tool of the server, one file per toolset,
// through one generic mechanism: a typed argument struct (its JSON Schema is
// generated from the struct), a handler, a class, and for confirmable tools a
// preview. Decoding, validation, confirmation, results and errors are done
// here once for all tools.
package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"

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
	// AccountWide: the tool touches no org unit's data (reference lists,
	// the caller's profile), so an org-unit scope does not limit it. See
	// policy/scope.go for how other tools declare their org units.
	AccountWide bool
}

// Handler runs a tool whose arguments decoded and validated. Its result is
// returned as structured content.
type Handler[A any] func(ctx context.Context, d *Deps, args A) (any, error)

// PreviewFunc fetches what a confirmable call would affect.
type PreviewFunc[A any] func(ctx context.Context, d *Deps, args A) (*policy.Preview, error)

// Validator is implemented by argument types with rules a schema cannot say.
type Validator interface{ Validate() error }

// Tool is a declared tool, its argument type erased.
type Tool struct {
	Spec
	Schema    schemas.Schema
	validator *argcheck.Validator
	canon     func(args []byte) ([]byte, error)
	run       func(ctx context.Context, d *Deps, args []byte) (any, error)
	preview   func(ctx context.Context, d *Deps, args []byte) (*policy.Preview, error)
	scope     scoping
	// confirmAlso: the policy makes this tool confirmable beyond its class.
	confirmAlso bool
}

// Confirmable reports whether every call needs a human's yes: its class
// does, or the policy requires it (confirmation.require).
func (t *Tool) Confirmable() bool { return t.Class.NeedsConfirmation() || t.confirmAlso }

// WithConfirmation returns a copy of t whose calls need confirmation, and
// whose schema accepts confirmation_token.
func (t Tool) WithConfirmation() Tool {
	if t.Confirmable() {
		return t
	}
	t.confirmAlso = true
	t.Schema = schemas.WithConfirmationToken(t.Schema)
	return t
}

// Define declares a tool that needs no confirmation. Options say how its
// calls relate to org units (OrgUnitsOf, ScopeResult).
func Define[A any](spec Spec, h Handler[A], opts ...Option[A]) Tool {
	return define(spec, h, nil, opts)
}

// DefineConfirmable declares a destructive or costly tool: preview says what
// a call would do before a human is asked.
func DefineConfirmable[A any](spec Spec, preview PreviewFunc[A], h Handler[A], opts ...Option[A]) Tool {
	if !spec.Class.NeedsConfirmation() {
		panic(fmt.Sprintf("tool %s: DefineConfirmable needs class Destructive or Costly", spec.Name))
	}
	return define(spec, h, preview, opts)
}

// define is called at start-up with the program's own declarations; a bad
// declaration is a programming error caught by the first test run, so it
// panics rather than return an error every caller would have to thread.
func define[A any](spec Spec, h Handler[A], preview PreviewFunc[A], opts []Option[A]) Tool {
	var zero A
	if reflect.TypeOf(zero).Kind() != reflect.Struct {
		panic(fmt.Sprintf("tool %s: arguments must be a struct", spec.Name))
	}
	s, err := schemas.For(&zero)
	if err != nil {
		panic(fmt.Sprintf("tool %s: %v", spec.Name, err))
	}
	if spec.Class.NeedsConfirmation() {
		s = schemas.WithConfirmationToken(s)
	}
	v, err := argcheck.Compile(spec.Name, s)
	if err != nil {
		panic(fmt.Sprintf("tool %s: %v", spec.Name, err))
	}
	if spec.Class == policy.Read {
		spec.Idempotent = true
	}
	t := Tool{Spec: spec, Schema: s, validator: v}
	t.canon = func(raw []byte) ([]byte, error) {
		a, err := decodeTyped[A](raw)
		if err != nil {
			return nil, err
		}
		return json.Marshal(a)
	}
	t.run = func(ctx context.Context, d *Deps, raw []byte) (any, error) {
		a, err := decodeTyped[A](raw)
		if err != nil {
			return nil, err
		}
		return h(ctx, d, a)
	}
	if preview != nil {
		t.preview = func(ctx context.Context, d *Deps, raw []byte) (*policy.Preview, error) {
			a, err := decodeTyped[A](raw)
			if err != nil {
				return nil, err
			}
			return preview(ctx, d, a)
		}
	}
	t.scope = scopingFor(spec, opts)
	return t
}

// prepared is a call whose arguments passed every check.
type prepared struct {
	canonical []byte // the typed arguments re-encoded: what confirmation binds to
	token     string
}

// prepare decodes, validates and canonicalises raw arguments.
func (t *Tool) prepare(raw []byte) (*prepared, error) {
	m, err := schemas.DecodeArguments(raw)
	if err != nil {
		return nil, err
	}
	p := &prepared{}
	if t.Confirmable() {
		if tok, ok := m[schemas.ConfirmationTokenProperty]; ok {
			s, isStr := tok.(string)
			if !isStr {
				return nil, &schemas.ValidationError{Problems: []string{"confirmation_token must be a string"}}
			}
			p.token = s
			delete(m, schemas.ConfirmationTokenProperty)
		}
	}
	if err := t.validator.Validate(m); err != nil {
		return nil, err
	}
	clean, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("re-encode arguments: %w", err)
	}
	// Decoding into the typed struct and encoding it again gives one
	// canonical form, whatever key order or number spelling the client used.
	canon, err := t.canon(clean)
	if err != nil {
		return nil, err
	}
	p.canonical = canon
	return p, nil
}

// decodeTyped decodes validated arguments into A and applies A's own rules.
func decodeTyped[A any](raw []byte) (A, error) {
	var a A
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return a, &schemas.ValidationError{Problems: []string{decodeProblem(err)}}
	}
	if v, ok := any(a).(Validator); ok {
		if err := v.Validate(); err != nil {
			return a, &schemas.ValidationError{Problems: []string{err.Error()}}
		}
	}
	return a, nil
}

func decodeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must be a %s that fits; got %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

// MCPTool renders the tool's definition for tools/list, with all four
// annotation hints set explicitly.
func (t *Tool) MCPTool() (mcp.Tool, error) {
	raw, err := json.Marshal(t.Schema)
	if err != nil {
		return mcp.Tool{}, fmt.Errorf("tool %s schema: %w", t.Name, err)
	}
	mt := mcp.NewToolWithRawSchema(t.Name, t.Description, raw)
	readOnly := t.Class == policy.Read
	mt.Annotations = mcp.ToolAnnotation{
		Title:           t.Title,
		ReadOnlyHint:    mcp.ToBoolPtr(readOnly),
		DestructiveHint: mcp.ToBoolPtr(t.Class == policy.Destructive),
		IdempotentHint:  mcp.ToBoolPtr(t.Idempotent),
		OpenWorldHint:   mcp.ToBoolPtr(true),
	}
	return mt, nil
}
