package argcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
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
	if len(raw) > copyWholeBelow {
		if m, ok := decodeByValue(raw); ok {
			return m, nil
		}
	}
	return decodeWhole(raw)
}

// decodeByValue decodes a JSON object value by value (argValue), from raw
// itself; false when raw is no valid JSON object.
func decodeByValue(raw []byte) (map[string]any, bool) {
	var top map[string]argValue
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &top) != nil {
		return nil, false
	}
	m := make(map[string]any, len(top))
	for k, v := range top {
		m[k] = v.v
	}
	return m, true
}

// copyWholeBelow: arguments shorter are decoded whole (decodeWhole), which
// is faster for them; longer ones (base64 audio) value by value (argValue),
// so they are not copied whole first (decodeByValue).
const copyWholeBelow = 64 << 10

// decodeWhole is DecodeArguments through a json.Decoder, which copies all
// of raw into a buffer it grows step by step (about 4 times raw allocated
// in all): for short arguments, and to say what is wrong with long ones
// that are no valid object.
func decodeWhole(raw []byte) (map[string]any, error) {
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

// argValue is one argument of an object decoded with json.Unmarshal,
// which hands it its own bytes (a part of the arguments, not a copy): a
// string is made straight from them, anything else is decoded as
// DecodeArguments does, numbers kept as json.Number.
type argValue struct{ v any }

func (a *argValue) UnmarshalJSON(b []byte) error {
	// json.Unmarshal checked the whole input first: b is one valid JSON
	// value. A string without escapes and with valid UTF-8 is its own
	// text; a number its own spelling.
	switch {
	case len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b):
		a.v = string(b[1 : len(b)-1])
		return nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		a.v = json.Number(b)
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(&a.v)
}

const (
	// maxNumberChars and maxExponent bound the number literals accepted.
	// Checking a number converts it to an exact rational, which costs time
	// quadratic in its digits and exponential in its exponent (20 seconds
	// for one number of 4 million digits); no argument needs either.
	maxNumberChars = 100
	maxExponent    = 1000
)

// hugeNumber finds the first number literal no argument can need and says
// where it is, or returns "".
func hugeNumber(v any, path string) string {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			if p := hugeNumber(sub, join(path, k)); p != "" {
				return p
			}
		}
	case []any:
		for i, sub := range x {
			if p := hugeNumber(sub, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case json.Number:
		s := x.String()
		if len(s) > maxNumberChars {
			return fmt.Sprintf("%s is a number of %d characters; the limit is %d", nameOf(path), len(s), maxNumberChars)
		}
		if i := strings.IndexAny(s, "eE"); i >= 0 {
			exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
			if err != nil || exp > maxExponent || exp < -maxExponent {
				return fmt.Sprintf("%s must be a number with an exponent between -%d and %d; got %s", nameOf(path), maxExponent, maxExponent, s)
			}
		}
	}
	return ""
}
