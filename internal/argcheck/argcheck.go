// Package argcheck checks tool arguments against their JSON Schema and
// explains every failure in a sentence a model can act on.
//
// Validation is done by github.com/santhosh-tekuri/jsonschema/v6 (draft
// 2020-12, format assertions on), so every keyword a schema uses is enforced.
// argcheck adds two things: Compile refuses a schema using a keyword whose
// failures it cannot explain (so a new struct tag fails the first test run,
// not a user), and Validate renders the engine's error tree as short
// problems naming the argument, the rule and the value received.
package argcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Error lists every problem found in a set of arguments, each a sentence
// naming the argument, the rule and the value received.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "invalid arguments: " + e.Problems[0]
	}
	return "invalid arguments: " + strings.Join(e.Problems, "; ")
}

// Validator checks values against one compiled schema. It is safe for
// concurrent use.
type Validator struct {
	name   string // the schema's, for errors
	schema *jsonschema.Schema
}

// Compile prepares a validator for a schema given as JSON text ([]byte,
// json.RawMessage, string) or as a decoded map (map[string]any, the form
// schemas.For returns). name identifies the schema in errors. A schema that
// is not valid draft 2020-12, has a bad pattern, refers outside itself, or
// uses a keyword or format argcheck cannot explain is refused.
func Compile(name string, schema any) (*Validator, error) {
	doc, err := document(schema)
	if err != nil {
		return nil, fmt.Errorf("argcheck: schema %s: %w", name, err)
	}
	if err := checkKeywords(doc, ""); err != nil {
		return nil, fmt.Errorf("argcheck: schema %s: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "uri", Validate: absoluteURL})
	c.UseLoader(noLoader{})
	loc := "https://argcheck.invalid/" + url.PathEscape(name) + ".json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("argcheck: schema %s: %w", name, err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("argcheck: schema %s: %w", name, err)
	}
	return &Validator{name: name, schema: sch}, nil
}

// document turns the accepted schema forms into the engine's generic value,
// numbers as json.Number. A map is re-encoded so the compiled schema shares
// nothing with the caller's map and its numbers are exact.
func document(schema any) (any, error) {
	var raw []byte
	switch s := schema.(type) {
	case []byte:
		raw = s
	case json.RawMessage:
		raw = s
	case string:
		raw = []byte(s)
	case map[string]any:
		b, err := json.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
		raw = b
	default:
		return nil, fmt.Errorf("unsupported schema form %T", schema)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return doc, nil
}

// absoluteURL is the "uri" format as tools need it: RFC 3986 alone accepts
// "https://" or "mailto:x", which no webhook or media URL can be, so a URL
// must also name a host.
func absoluteURL(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme == "" || u.Host == "" {
		return errors.New("not an absolute URL with a host")
	}
	return nil
}

// noLoader refuses every external reference: a tool schema is self-contained,
// and compiling one must never read a file or the network.
type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("external reference %s: schemas must be self-contained", u)
}

// Validate checks a generic JSON value (as DecodeArguments returns it:
// objects map[string]any, arrays []any, numbers json.Number) and returns an
// *Error naming every problem, or nil. It never accepts a value the engine
// refuses: a failure argcheck cannot explain still refuses, with the
// engine's own words. A number literal longer than 100 characters or with
// an exponent beyond ±1000 is refused before the engine converts it.
func (v *Validator) Validate(value any) error {
	if problem := hugeNumber(value, ""); problem != "" {
		return &Error{Problems: []string{problem}}
	}
	err := v.schema.Validate(value)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &Error{Problems: []string{fmt.Sprintf("arguments could not be checked against the %s schema: %v", v.name, err)}}
	}
	problems := render(v.schema, value, ve)
	if len(problems) == 0 {
		problems = []string{"arguments are not valid: " + ve.Error()}
	}
	return &Error{Problems: problems}
}
