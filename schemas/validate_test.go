package schemas

import (
	"strings"
	"testing"
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

func validator(t *testing.T) *Validator {
	t.Helper()
	s, err := For(&sample{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewValidator(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestValidateMessages(t *testing.T) {
	v := validator(t)
	cases := map[string]string{
		`{"id":1}`:                       "",
		`{"id":1,"ratio":0.5}`:           "",
		`{}`:                             "id is required",
		`{"id":"1"}`:                     `id must be an integer; got the string "1"`,
		`{"id":0}`:                       "id must be at least 1; got 0",
		`{"id":1,"limit":500}`:           "limit must be between 1 and 200; got 500",
		`{"id":1,"npa":"80"}`:            `npa must match ^[0-9]{3}$; got "80"`,
		`{"id":1,"name":""}`:             "name must not be empty",
		`{"id":1,"name":"toolong"}`:      "name must be 1 to 5 characters; got 7",
		`{"id":1,"kind":"c"}`:            `kind must be one of "a", "b"; got the string "c"`,
		`{"id":1,"start":"yesterday"}`:   "start must be an ISO-8601 date-time",
		`{"id":1,"tags":["a","b","c"]}`:  "tags must have at most 2 items; got 3",
		`{"id":1,"tags":"a"}`:            "tags must be an array",
		`{"id":1,"nested":{"x":4}}`:      "nested.x must be at most 3; got 4",
		`{"id":1,"nested":{}}`:           "nested.x is required",
		`{"id":1,"bogus":true}`:          "bogus is not a known argument",
		`{"id":1,"limit":1e400}`:         "limit must be between 1 and 200",
		`{"id":12345678901234567890123}`: "",
	}
	for in, want := range cases {
		m, err := DecodeArguments([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		err = v.Validate(m)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: unexpected %v", in, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
}

func TestDecodeArgumentsRejectsNonObjects(t *testing.T) {
	for _, in := range []string{`[]`, `"x"`, `1`, `{"a":1} {"b":2}`, `{`, `{"a":}`} {
		if _, err := DecodeArguments([]byte(in)); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
	if m, err := DecodeArguments(nil); err != nil || len(m) != 0 {
		t.Errorf("empty arguments: %v %v", m, err)
	}
}

func TestSchemaIsInlineClosedObject(t *testing.T) {
	s, err := For(&sample{})
	if err != nil {
		t.Fatal(err)
	}
	if s["type"] != "object" || s["additionalProperties"] != false {
		t.Fatalf("root: %v", s)
	}
	for _, k := range []string{"$ref", "$defs", "$schema", "$id"} {
		if _, ok := s[k]; ok {
			t.Errorf("schema has %s", k)
		}
	}
	req, _ := s["required"].([]any)
	if len(req) != 1 || req[0] != "id" {
		t.Errorf("required: %v", req)
	}
	if _, err := For(&[]int{}); err == nil {
		t.Error("non-struct arguments accepted")
	}
}

func TestBadPatternFailsAtStartup(t *testing.T) {
	if _, err := NewValidator(Schema{"type": "string", "pattern": "("}); err == nil {
		t.Fatal("bad pattern accepted")
	}
}
