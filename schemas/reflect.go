// Package schemas holds the Go types of tool arguments and upstream bodies
// and the reflector that turns them into MCP input schemas; the engine that
// checks arguments against those schemas is internal/argcheck.
//
// The generated schema of every tool is checked into schemas/generated and
// compared by a test in package tools (regenerate: go test ./tools -run
// TestSchemaSnapshots -update).
package schemas

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/invopop/jsonschema"
)

// Schema is a JSON Schema document as a plain map, the form compiled by
// argcheck and the form written to the wire.
type Schema = map[string]any

// ConfirmationTokenProperty is the optional argument every confirmable tool
// accepts: the token returned by the first, unconfirmed call.
const ConfirmationTokenProperty = "confirmation_token"

// For reflects the input schema of an argument type: a root object with
// every property inline (no $ref, $defs, $id or $schema), additionalProperties
// false, and only the fields tagged `jsonschema:"required"` required.
func For(args any) (Schema, error) {
	r := &jsonschema.Reflector{
		DoNotReference:             true,
		ExpandedStruct:             true,
		Anonymous:                  true,
		RequiredFromJSONSchemaTags: true,
		AllowAdditionalProperties:  false,
	}
	s := r.Reflect(args)
	s.Version = ""
	s.ID = ""
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("marshal schema of %s: %w", reflect.TypeOf(args), err)
	}
	var m Schema
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode schema of %s: %w", reflect.TypeOf(args), err)
	}
	if m["type"] != "object" {
		return nil, fmt.Errorf("arguments of %s must be a struct, got schema type %v", reflect.TypeOf(args), m["type"])
	}
	if _, ok := m["properties"]; !ok {
		m["properties"] = map[string]any{}
	}
	return m, nil
}

// WithConfirmationToken returns a copy of s that also accepts the optional
// confirmation_token argument.
func WithConfirmationToken(s Schema) Schema {
	out := make(Schema, len(s))
	for k, v := range s {
		out[k] = v
	}
	props := map[string]any{}
	if p, ok := s["properties"].(map[string]any); ok {
		for k, v := range p {
			props[k] = v
		}
	}
	props[ConfirmationTokenProperty] = map[string]any{
		"type":        "string",
		"description": "From confirmation_required, once approved",
	}
	out["properties"] = props
	return out
}

// pageLimit sets the documented maximum and default of the limit a list
// argument type has from an embedded Page (0: none documented). It is
// called from the type's JSONSchemaExtend, which the reflector runs.
func pageLimit(s *jsonschema.Schema, maximum, def int) {
	p, ok := s.Properties.Get("limit")
	if !ok {
		return
	}
	if maximum > 0 {
		p.Maximum = json.Number(strconv.Itoa(maximum))
	}
	if def > 0 {
		p.Default = def
	}
}
