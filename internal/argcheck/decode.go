package argcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxArgumentBytes bounds the size of one tool call's arguments.
const MaxArgumentBytes = 4 << 20

// DecodeArguments parses raw JSON arguments into the generic value Validate
// takes, numbers kept exact as json.Number (the same decoding as the
// engine's jsonschema.UnmarshalJSON). Empty input and null are an empty
// object; anything but one JSON object is refused with an *Error. Duplicate
// keys are accepted, the last one winning, as encoding/json does: the value
// validated is the value used.
func DecodeArguments(raw []byte) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]any{}, nil
	}
	if len(raw) > MaxArgumentBytes {
		return nil, &Error{Problems: []string{fmt.Sprintf("arguments are %d bytes; the limit is %d", len(raw), MaxArgumentBytes)}}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &Error{Problems: []string{"arguments are not valid JSON: " + err.Error()}}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &Error{Problems: []string{"arguments must be one JSON object"}}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Problems: []string{fmt.Sprintf("arguments must be a JSON object; got %s", jsonType(v))}}
	}
	return m, nil
}
