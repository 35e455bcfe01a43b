package argcheck_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/argcheck"
	"github.com/convirza/convirza-mcp/schemas"
)

type sample struct {
	ID     int64    `json:"id" jsonschema:"required,minimum=1"`
	Limit  int      `json:"limit,omitempty" jsonschema:"minimum=1,maximum=200"`
	NPA    string   `json:"npa,omitempty" jsonschema:"pattern=^[0-9]{3}$"`
	Name   string   `json:"name,omitempty" jsonschema:"minLength=1,maxLength=5"`
	Kind   string   `json:"kind,omitempty" jsonschema:"enum=a,enum=b"`
	Start  string   `json:"start,omitempty" jsonschema:"format=date-time"`
	Tags   []string `json:"tags,omitempty" jsonschema:"maxItems=2"`
	Ratio  float64  `json:"ratio,omitempty"`
	Nested *struct {
		X int `json:"x" jsonschema:"required,maximum=3"`
	} `json:"nested,omitempty"`
}

func compileFor(tb testing.TB, args any) *argcheck.Validator {
	tb.Helper()
	s, err := schemas.For(args)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := argcheck.Compile("sample", s)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// validate decodes raw arguments and validates them, as a tool call does.
func validate(v *argcheck.Validator, raw string) error {
	m, err := argcheck.DecodeArguments([]byte(raw))
	if err != nil {
		return err
	}
	return v.Validate(m)
}

// TestValidateMessages: the sentences of the former schemas validator,
// word for word, now from the engine's errors.
func TestValidateMessages(t *testing.T) {
	v := compileFor(t, &sample{})
	cases := map[string]string{
		`{"id":1}`:                       "",
		`{"id":1,"ratio":0.5}`:           "",
		`{}`:                             "invalid arguments: id is required",
		`{"id":"1"}`:                     `invalid arguments: id must be an integer; got the string "1"`,
		`{"id":0}`:                       "invalid arguments: id must be at least 1; got 0",
		`{"id":1,"limit":500}`:           "invalid arguments: limit must be between 1 and 200; got 500",
		`{"id":1,"npa":"80"}`:            `invalid arguments: npa must match ^[0-9]{3}$; got "80"`,
		`{"id":1,"name":""}`:             "invalid arguments: name must not be empty",
		`{"id":1,"name":"toolong"}`:      "invalid arguments: name must be 1 to 5 characters; got 7",
		`{"id":1,"kind":"c"}`:            `invalid arguments: kind must be one of "a", "b"; got the string "c"`,
		`{"id":1,"start":"yesterday"}`:   `invalid arguments: start must be an ISO-8601 date-time with a time zone, e.g. 2026-01-01T00:00:00.000Z; got "yesterday"`,
		`{"id":1,"tags":["a","b","c"]}`:  "invalid arguments: tags must have at most 2 items; got 3",
		`{"id":1,"tags":"a"}`:            `invalid arguments: tags must be an array; got the string "a"`,
		`{"id":1,"nested":{"x":4}}`:      "invalid arguments: nested.x must be at most 3; got 4",
		`{"id":1,"nested":{}}`:           "invalid arguments: nested.x is required",
		`{"id":1,"bogus":true}`:          "invalid arguments: bogus is not a known argument (known: id, kind, limit, name, nested, npa, ratio, start, tags)",
		`{"id":1,"limit":1e400}`:         "invalid arguments: limit must be between 1 and 200; got 1e400",
		`{"id":12345678901234567890123}`: "",
		`{"id":1.0}`:                     "",
		`{"id":0,"bogus":1,"limit":0}`:   "invalid arguments: bogus is not a known argument (known: id, kind, limit, name, nested, npa, ratio, start, tags); id must be at least 1; got 0; limit must be between 1 and 200; got 0",
	}
	for in, want := range cases {
		err := validate(v, in)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: unexpected %v", in, err)
		case want != "" && (err == nil || err.Error() != want):
			t.Errorf("%s:\n got %v\nwant %s", in, err, want)
		}
		var ae *argcheck.Error
		if err != nil && !errors.As(err, &ae) {
			t.Errorf("%s: %T is not an *argcheck.Error", in, err)
		}
	}
}

// TestMultipleOfIsEnforced: a rule the former validator advertised in the
// schema but ignored (it accepted 7 for multipleOf=5) is now enforced.
func TestMultipleOfIsEnforced(t *testing.T) {
	v := compileFor(t, &struct {
		Step int `json:"step" jsonschema:"multipleOf=5"`
	}{})
	if err := validate(v, `{"step":10}`); err != nil {
		t.Errorf("10: %v", err)
	}
	err := validate(v, `{"step":7}`)
	if err == nil || err.Error() != "invalid arguments: step must be a multiple of 5; got 7" {
		t.Errorf("7: %v", err)
	}
}

func TestDecodeArgumentsRejectsNonObjects(t *testing.T) {
	for in, want := range map[string]string{
		`[]`:               "arguments must be a JSON object; got an array",
		`"x"`:              "arguments must be a JSON object; got a string",
		`1`:                "arguments must be a JSON object; got an integer",
		`1.5e999999`:       "arguments must be a JSON object; got a number",
		`{"a":1} {"b":2}`:  "arguments must be one JSON object",
		`{"a":1}}`:         "arguments must be one JSON object",
		`{"a":1}]`:         "arguments must be one JSON object",
		`{`:                "arguments are not valid JSON",
		`{"a":}`:           "arguments are not valid JSON",
		"{\"a\":\"\xff\"}": "", // invalid UTF-8 is replaced, as encoding/json does
	} {
		_, err := argcheck.DecodeArguments([]byte(in))
		var ae *argcheck.Error
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", in, err)
		case want != "" && (!errors.As(err, &ae) || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
	for _, in := range []string{"", "  ", "null", " null "} {
		if m, err := argcheck.DecodeArguments([]byte(in)); err != nil || m == nil || len(m) != 0 {
			t.Errorf("%q: %v %v", in, m, err)
		}
	}
	big := `{"s":"` + strings.Repeat("x", argcheck.MaxArgumentBytes) + `"}`
	if _, err := argcheck.DecodeArguments([]byte(big)); err == nil || !strings.Contains(err.Error(), "the limit is") {
		t.Errorf("oversized arguments: %v", err)
	}
	// Duplicate keys: the last wins, and that is the value validated.
	m, err := argcheck.DecodeArguments([]byte(`{"id":0,"id":5}`))
	if err != nil || m["id"].(interface{ String() string }).String() != "5" {
		t.Errorf("duplicate keys: %v %v", m, err)
	}
}

// TestHugeNumbersAreRefused: number literals no argument needs are refused
// before the engine converts them to exact rationals, which takes time
// quadratic in the digits (20 s for 4 million) and exponential in the
// exponent (50 ms for 1e999999, per rule checked).
func TestHugeNumbersAreRefused(t *testing.T) {
	v, err := argcheck.Compile("numbers", []byte(`{"type":"object","properties":{"n":{"type":"number"},"o":{"type":"object"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	// Numbers no argument needs, which would take seconds to check exactly.
	long := strings.Repeat("7", 101)
	for in, want := range map[string]string{
		`{"n":1e999999}`:                  "n must be a number with an exponent between -1000 and 1000; got 1e999999",
		`{"o":{"l":[1,2,-1E-1001]}}`:      "o.l[2] must be a number with an exponent between -1000 and 1000; got -1E-1001",
		`{"n":` + long + `}`:              "n is a number of 101 characters; the limit is 100",
		`{"n":1e99999999999999999999999}`: "n must be a number with an exponent between -1000 and 1000; got 1e99999999999999999999999",
	} {
		err := validate(v, in)
		if err == nil || err.Error() != "invalid arguments: "+want {
			t.Errorf("%.40s: got %v, want %q", in, err, want)
		}
	}
	for _, in := range []string{`{"n":1e1000}`, `{"n":-1.5E+308}`, `{"n":` + long[1:] + `}`, `{"o":{"l":[1e-1000]}}`} {
		if err := validate(v, in); err != nil {
			t.Errorf("%.40s: %v", in, err)
		}
	}
}

func TestBadPatternFailsAtCompile(t *testing.T) {
	if _, err := argcheck.Compile("bad", schemas.Schema{"type": "string", "pattern": "("}); err == nil {
		t.Fatal("bad pattern accepted")
	}
}

// FuzzValidate: any bytes as arguments give a value or an error, never a
// panic; an accepted value is an object, and a refusal is an *argcheck.Error
// with at least one problem.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{`{"id":1}`, `{"id":"x","limit":500}`, `{"nested":{"x":4},"tags":["a","b","c"]}`, `[]`, `{`, `{"id":1e999}`, `{"start":"2026-01-01T00:00:00Z"}`, "\x00", `{"npa":"\u0000"}`, `{"id":1,"kind":"c","bogus":[{}]}`, `{"name":"ééééééé"}`} {
		f.Add([]byte(s))
	}
	v := compileFor(f, &sample{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := argcheck.DecodeArguments(raw)
		if err != nil {
			return
		}
		if m == nil {
			t.Fatal("nil map without error")
		}
		err = v.Validate(m)
		var ae *argcheck.Error
		if err != nil && (!errors.As(err, &ae) || len(ae.Problems) == 0) {
			t.Fatalf("refusal without problems: %v", err)
		}
	})
}
