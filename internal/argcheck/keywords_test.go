package argcheck

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// keywordCase is one failing value for a keyword and the sentence expected.
type keywordCase struct {
	schema, args, want string
}

// keywordCases has, for every keyword that can fail, a schema using it, a
// value breaking it and the exact problem a model gets.
var keywordCases = map[string][]keywordCase{
	"$ref": {{`{"$defs":{"pos":{"type":"integer","minimum":1}},"properties":{"n":{"$ref":"#/$defs/pos"}}}`, `{"n":0}`,
		"n must be at least 1; got 0"}},
	"$defs": {{`{"$defs":{"s":{"type":"string"}},"properties":{"n":{"$ref":"#/$defs/s"}}}`, `{"n":1}`,
		"n must be a string; got 1"}},
	"type": {
		{`{"properties":{"n":{"type":"integer"}}}`, `{"n":"1"}`, `n must be an integer; got the string "1"`},
		{`{"properties":{"n":{"type":"integer"}}}`, `{"n":1.5}`, `n must be an integer; got 1.5`},
		{`{"properties":{"n":{"type":["string","null"]}}}`, `{"n":{}}`, `n must be a null or a string; got an object`},
		{`{"type":"object"}`, `[]`, `arguments must be an object; got an array`},
	},
	"enum": {{`{"properties":{"k":{"enum":["a","b",3]}}}`, `{"k":"c"}`,
		`k must be one of "a", "b", 3; got the string "c"`}},
	"const": {{`{"properties":{"k":{"const":"x"}}}`, `{"k":"y"}`,
		`k must be the string "x"; got the string "y"`}},
	"format": {
		{`{"properties":{"t":{"format":"date-time"}}}`, `{"t":"yesterday"}`,
			`t must be an ISO-8601 date-time with a time zone, e.g. 2026-01-01T00:00:00.000Z; got "yesterday"`},
		{`{"properties":{"t":{"format":"date"}}}`, `{"t":"31/01/2026"}`, `t must be a date like 2026-01-31; got "31/01/2026"`},
		{`{"properties":{"t":{"format":"time"}}}`, `{"t":"noon"}`, `t must be a time with a time zone like 15:04:05Z; got "noon"`},
		{`{"properties":{"e":{"format":"email"}}}`, `{"e":"someone"}`, `e must be an email address; got "someone"`},
		{`{"properties":{"u":{"format":"uri"}}}`, `{"u":"/relative/path"}`, `u must be an absolute URL; got "/relative/path"`},
		{`{"properties":{"u":{"format":"uri"}}}`, `{"u":"https://"}`, `u must be an absolute URL; got "https://"`},
		{`{"properties":{"u":{"format":"uri"}}}`, `{"u":"mailto:someone@example.com"}`, `u must be an absolute URL; got "mailto:someone@example.com"`},
		{`{"properties":{"u":{"format":"uuid"}}}`, `{"u":"123"}`, `u must be a UUID like 123e4567-e89b-12d3-a456-426614174000; got "123"`},
		{`{"properties":{"h":{"format":"hostname"}}}`, `{"h":"-bad-"}`, `h must be a host name; got "-bad-"`},
		{`{"properties":{"h":{"format":"ipv4"}}}`, `{"h":"1.2.3"}`, `h must be an IPv4 address; got "1.2.3"`},
		{`{"properties":{"h":{"format":"ipv6"}}}`, `{"h":"::g"}`, `h must be an IPv6 address; got "::g"`},
	},
	"not":   {{`{"properties":{"s":{"not":{"const":"x"}}}}`, `{"s":"x"}`, "s matches a form that is not allowed"}},
	"allOf": {{`{"properties":{"n":{"allOf":[{"minimum":1},{"maximum":3}]}}}`, `{"n":5}`, "n must be at most 3; got 5"}},
	"anyOf": {{`{"properties":{"n":{"anyOf":[{"type":"string"},{"type":"integer"}]}}}`, `{"n":true}`,
		"n does not match exactly one of the allowed forms"}},
	"oneOf": {
		{`{"properties":{"n":{"oneOf":[{"type":"integer"},{"minimum":0}]}}}`, `{"n":5}`, "n does not match exactly one of the allowed forms"},
		{`{"properties":{"n":{"oneOf":[{"type":"integer"},{"type":"string"}]}}}`, `{"n":null}`, "n does not match exactly one of the allowed forms"},
	},
	"properties": {{`{"properties":{"o":{"type":"object","properties":{"x":{"maximum":3}}}}}`, `{"o":{"x":4}}`,
		"o.x must be at most 3; got 4"}},
	"patternProperties": {{`{"patternProperties":{"^n_":{"type":"integer"}}}`, `{"n_a":"x"}`,
		`n_a must be an integer; got the string "x"`}},
	"additionalProperties": {
		{`{"properties":{"b":{},"a":{}},"additionalProperties":false}`, `{"zz":1}`, "zz is not a known argument (known: a, b)"},
		{`{"properties":{},"additionalProperties":false}`, `{"zz":1}`, "zz is not a known argument (this tool takes no arguments)"},
		{`{"properties":{"o":{"properties":{"x":{}},"additionalProperties":false}}}`, `{"o":{"y":1}}`, "o.y is not a known argument (known: x)"},
		{`{"additionalProperties":{"type":"integer"}}`, `{"z":"x"}`, `z must be an integer; got the string "x"`},
	},
	"propertyNames": {{`{"propertyNames":{"maxLength":3}}`, `{"toolong":1}`,
		`arguments has a field name that is not allowed: "toolong"`}},
	"required": {
		{`{"required":["id"]}`, `{}`, "id is required"},
		{`{"properties":{"o":{"required":["x"]}}}`, `{"o":{}}`, "o.x is required"},
	},
	"dependentRequired": {{`{"dependentRequired":{"a":["b"]}}`, `{"a":1}`, "b is required when a is given"}},
	"minProperties":     {{`{"minProperties":1}`, `{}`, "arguments needs at least 1 field(s)"}},
	"maxProperties":     {{`{"maxProperties":1}`, `{"a":1,"b":2}`, "arguments takes at most 1 field(s); got 2"}},
	"items": {
		{`{"properties":{"l":{"items":{"type":"integer"}}}}`, `{"l":[1,"x"]}`, `l[1] must be an integer; got the string "x"`},
		{`{"properties":{"l":{"items":{"properties":{"p":{"maxLength":2}}}}}}`, `{"l":[{},{},{"p":"abc"}]}`, "l[2].p must be at most 2 characters; got 3"},
		{`{"properties":{"l":{"items":false}}}`, `{"l":[1]}`, "l[0] is not allowed"},
	},
	"prefixItems": {{`{"properties":{"l":{"prefixItems":[{"type":"string"}]}}}`, `{"l":[1]}`, "l[0] must be a string; got 1"}},
	"minItems": {
		{`{"properties":{"l":{"minItems":2}}}`, `{"l":[1]}`, "l must have at least 2 item(s); got 1"},
		{`{"properties":{"l":{"minItems":1,"maxItems":3}}}`, `{"l":[]}`, "l must have between 1 and 3 items; got 0"},
	},
	"maxItems": {
		{`{"properties":{"l":{"maxItems":2}}}`, `{"l":[1,2,3]}`, "l must have at most 2 items; got 3"},
		{`{"properties":{"l":{"minItems":1,"maxItems":2}}}`, `{"l":[1,2,3]}`, "l must have between 1 and 2 items; got 3"},
	},
	"uniqueItems": {
		{`{"properties":{"l":{"uniqueItems":true}}}`, `{"l":["a","b","a"]}`, `l has a duplicate: items 0 and 2 are both the string "a"`},
		{`{"properties":{"l":{"uniqueItems":true}}}`, `{"l":[1,2,1.0]}`, `l has a duplicate: items 0 and 2 are both 1`},
	},
	"minLength": {
		{`{"properties":{"s":{"minLength":3}}}`, `{"s":"ab"}`, "s must be at least 3 characters; got 2"},
		{`{"properties":{"s":{"minLength":3}}}`, `{"s":""}`, "s must not be empty"},
		{`{"properties":{"s":{"minLength":2,"maxLength":2}}}`, `{"s":"a"}`, "s must be exactly 2 characters; got 1"},
	},
	"maxLength": {
		{`{"properties":{"s":{"maxLength":2}}}`, `{"s":"abc"}`, "s must be at most 2 characters; got 3"},
		{`{"properties":{"s":{"minLength":1,"maxLength":2}}}`, `{"s":"héé"}`, "s must be 1 to 2 characters; got 3"},
	},
	"pattern": {
		{`{"properties":{"s":{"pattern":"^[0-9]+$"}}}`, `{"s":"x"}`, `s must match ^[0-9]+$; got "x"`},
		{`{"properties":{"s":{"pattern":"^[0-9]+$","description":"digits only"}}}`, `{"s":"x"}`, `s must match ^[0-9]+$ (digits only); got "x"`},
	},
	"minimum": {
		{`{"properties":{"n":{"minimum":1}}}`, `{"n":0}`, "n must be at least 1; got 0"},
		{`{"properties":{"n":{"minimum":1,"maximum":200}}}`, `{"n":-1e400}`, "n must be between 1 and 200; got -1e400"},
	},
	"maximum": {
		{`{"properties":{"n":{"maximum":2.5}}}`, `{"n":3}`, "n must be at most 2.5; got 3"},
		{`{"properties":{"n":{"minimum":1,"maximum":200}}}`, `{"n":500}`, "n must be between 1 and 200; got 500"},
	},
	"exclusiveMinimum": {{`{"properties":{"n":{"exclusiveMinimum":0}}}`, `{"n":0}`, "n must be greater than 0; got 0"}},
	"exclusiveMaximum": {{`{"properties":{"n":{"exclusiveMaximum":10}}}`, `{"n":10}`, "n must be less than 10; got 10"}},
	"multipleOf": {
		{`{"properties":{"n":{"multipleOf":5}}}`, `{"n":7}`, "n must be a multiple of 5; got 7"},
		{`{"properties":{"n":{"multipleOf":0.5}}}`, `{"n":0.3}`, "n must be a multiple of 0.5; got 0.3"},
	},
}

// TestEveryKeywordIsExplained: every keyword Compile accepts that can fail
// has a case, and each case gets its own sentence, never the fallback.
func TestEveryKeywordIsExplained(t *testing.T) {
	for k, r := range keywordRoles {
		if r != annotation && len(keywordCases[k]) == 0 {
			t.Errorf("keyword %s is accepted by Compile but has no case in keywordCases", k)
		}
	}
	for k, cases := range keywordCases {
		if _, ok := keywordRoles[k]; !ok {
			t.Errorf("keywordCases has %s, which Compile refuses", k)
		}
		for _, c := range cases {
			if !strings.Contains(c.schema, `"`+k+`"`) {
				t.Errorf("%s: the case schema %s does not use the keyword", k, c.schema)
			}
			problems := check(t, c.schema, c.args)
			if !slices.Contains(problems, c.want) {
				t.Errorf("%s: schema %s, args %s:\n got %q\nwant %q", k, c.schema, c.args, problems, c.want)
			}
			for _, p := range problems {
				if strings.Contains(p, "is not valid (") {
					t.Errorf("%s: fallback message %q", k, p)
				}
			}
		}
	}
	for f := range formatText {
		found := false
		for _, c := range keywordCases["format"] {
			found = found || strings.Contains(c.schema, `"format":"`+f+`"`)
		}
		if !found {
			t.Errorf("format %s has no case", f)
		}
	}
}

// check compiles a schema, validates args and returns the problems, failing
// the test if the arguments were accepted.
func check(t *testing.T, schema, args string) []string {
	t.Helper()
	v, err := Compile("case", []byte(schema))
	if err != nil {
		t.Fatalf("compile %s: %v", schema, err)
	}
	val, err := jsonschema.UnmarshalJSON(strings.NewReader(args))
	if err != nil {
		t.Fatalf("args %s: %v", args, err)
	}
	err = v.Validate(val)
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("schema %s accepted %s (err %v)", schema, args, err)
	}
	return ae.Problems
}

// TestCompileRefusesUnexplainedKeywords: a keyword or format argcheck has
// no sentence for fails at compile time, naming it.
func TestCompileRefusesUnexplainedKeywords(t *testing.T) {
	for schema, want := range map[string]string{
		`{"properties":{"l":{"contains":{"const":1}}}}`:            `keyword "contains" at /properties/l/contains`,
		`{"x-extension":true}`:                                     `keyword "x-extension" at /x-extension`,
		`{"properties":{"v":{"format":"semver"}}}`:                 `format "semver" at /properties/v/format`,
		`{"properties":{"a/b":{"items":{"if":{}}}}}`:               `keyword "if" at /properties/a~1b/items/if`,
		`{"anyOf":[{"type":"string"},{"unevaluatedItems":false}]}`: `keyword "unevaluatedItems" at /anyOf/1/unevaluatedItems`,
		`{"properties":[]}`:                                        `properties at /properties must be an object of schemas`,
		`{"not":3}`:                                                `schema at /not is an integer`,
	} {
		_, err := Compile("bad", []byte(schema))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", schema, err, want)
		}
	}
}

func TestCompileRefusesBadSchemas(t *testing.T) {
	for _, schema := range []any{
		[]byte(`{"type":"string","pattern":"("}`),
		[]byte(`{"type":"strin"}`),
		[]byte(`{"minLength":-1}`),
		[]byte(`{"$ref":"file:///etc/passwd"}`),
		[]byte(`{"$ref":"https://example.com/schema.json"}`),
		[]byte(`{"$ref":"#/$defs/missing"}`),
		[]byte(`{} {}`),
		[]byte(`[`),
		42,
		map[string]any{"bad": func() {}},
	} {
		if _, err := Compile("bad", schema); err == nil {
			t.Errorf("%v accepted", schema)
		}
	}
}

func TestCompileAcceptsEveryForm(t *testing.T) {
	const s = `{"type":"object","properties":{"n":{"type":"integer","maximum":3}},"additionalProperties":false}`
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	for _, form := range []any{[]byte(s), json.RawMessage(s), s, m} {
		v, err := Compile("form", form)
		if err != nil {
			t.Fatalf("%T: %v", form, err)
		}
		args, err := DecodeArguments([]byte(`{"n":4}`))
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Validate(args); err == nil || err.Error() != "invalid arguments: n must be at most 3; got 4" {
			t.Errorf("%T: %v", form, err)
		}
	}
}

// TestGeneratedSchemasUseOnlyExplainedKeywords walks the input schema of
// every tool (schemas/generated) and fails naming any keyword or format
// argcheck has no sentence for, before a user meets it.
func TestGeneratedSchemasUseOnlyExplainedKeywords(t *testing.T) {
	dir := filepath.Join("..", "..", "schemas", "generated")
	used, err := keywordsIn(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(used) == 0 {
		t.Fatalf("no schemas found in %s", dir)
	}
	for k, where := range used {
		if strings.HasPrefix(k, "format:") {
			if _, ok := formatText[strings.TrimPrefix(k, "format:")]; !ok {
				t.Errorf("%s (in %s): argcheck does not explain this format", k, where)
			}
			continue
		}
		if _, ok := keywordRoles[k]; !ok {
			t.Errorf("keyword %s (in %s): argcheck has no message for it; add one in render.go, keywordRoles and keywordCases", k, where)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		s, err := inputSchema(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Compile(filepath.Base(f), s); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestKeywordsInFindsUnknownKeywords proves the walk above can fail: it
// finds a keyword hidden in an array item of a nested property.
func TestKeywordsInFindsUnknownKeywords(t *testing.T) {
	dir := t.TempDir()
	doc := `{"name":"x","inputSchema":{"type":"object","properties":{"contains":{"type":"array","items":{"properties":{"p":{"contains":{},"format":"semver"}}}}}}}`
	if err := os.WriteFile(filepath.Join(dir, "x.json"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	used, err := keywordsIn(dir)
	if err != nil {
		t.Fatal(err)
	}
	if used["contains"] != "x.json" || used["format:semver"] != "x.json" {
		t.Errorf("walk missed keywords: %v", used)
	}
	if _, ok := used["p"]; ok {
		t.Errorf("a property name was taken for a keyword: %v", used)
	}
}

// keywordsIn collects the keywords (and "format:NAME") used by the input
// schemas of the tool snapshots in dir, each with a file using it.
func keywordsIn(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	used := map[string]string{}
	var walk func(node any, file string)
	walk = func(node any, file string) {
		m, ok := node.(map[string]any)
		if !ok {
			return
		}
		for k, v := range m {
			if _, seen := used[k]; !seen {
				used[k] = file
			}
			if f, ok := v.(string); ok && k == "format" {
				used["format:"+f] = file
			}
			r, known := keywordRoles[k]
			switch {
			case !known:
				// Unknown: its value may be a schema; look inside for more.
				walk(v, file)
			case r == subschema:
				walk(v, file)
			case r == subschemaList:
				list, _ := v.([]any)
				for _, sub := range list {
					walk(sub, file)
				}
			case r == subschemaMap:
				subs, _ := v.(map[string]any)
				for _, sub := range subs {
					walk(sub, file)
				}
			}
		}
	}
	for _, f := range files {
		s, err := inputSchema(f)
		if err != nil {
			return nil, err
		}
		var doc any
		if err := json.Unmarshal(s, &doc); err != nil {
			return nil, err
		}
		walk(doc, filepath.Base(f))
	}
	return used, nil
}

func inputSchema(file string) (json.RawMessage, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var snap struct {
		InputSchema json.RawMessage `json:"inputSchema"`
	}
	if err := json.Unmarshal(raw, &snap); err != nil {
		return nil, err
	}
	if len(snap.InputSchema) == 0 {
		return nil, errors.New(file + ": no inputSchema")
	}
	return snap.InputSchema, nil
}

// TestUnexplainedFailureStillRefuses: a failure kind render has no sentence
// for still gives a readable problem, and Validate never turns an engine
// failure into acceptance.
func TestUnexplainedFailureStillRefuses(t *testing.T) {
	v, err := Compile("fallback", []byte(`{"properties":{"tags":{"type":"array"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	value := map[string]any{"tags": []any{json.Number("1")}}
	tree := &jsonschema.ValidationError{
		ErrorKind: &kind.Schema{Location: v.schema.Location},
		Causes: []*jsonschema.ValidationError{{
			SchemaURL:        v.schema.Location,
			InstanceLocation: []string{"tags"},
			ErrorKind:        &kind.Contains{},
		}},
	}
	got := render(v.schema, value, tree)
	want := "tags is not valid (contains: no items match contains schema)"
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %q, want %q", got, want)
	}
	empty := &jsonschema.ValidationError{ErrorKind: &kind.Group{}}
	if got := render(v.schema, value, empty); len(got) != 1 || !strings.Contains(got[0], "arguments is not valid") {
		t.Errorf("a failure without causes: %q", got)
	}
	// A Go value that is not JSON: the engine refuses, and so does Validate.
	err = v.Validate(map[string]any{"tags": []string{"a"}})
	var ae *Error
	if !errors.As(err, &ae) || len(ae.Problems) == 0 {
		t.Fatalf("non-JSON value: %v", err)
	}
}

// TestProblemsAreOrderedAndCapped: problems come in a stable, readable
// order, at most maxItemProblems per array and maxProblems in all.
func TestProblemsAreOrderedAndCapped(t *testing.T) {
	schema := `{"type":"object","additionalProperties":false,"required":["id"],
		"properties":{"b":{"type":"integer"},"a":{"type":"string"},"l":{"type":"array","items":{"type":"object","properties":{"p":{"type":"integer"}}}}}}`
	got := check(t, schema, `{"b":"x","a":1,"zz":1,"l":[{"p":"0"},{"p":"1"},{"p":"2"},{"p":"3"},{"p":"4"},{"p":"5"},{"p":"6"},{"p":"7"},{"p":"8"},{"p":"9"},{"p":"10"},{"p":"11"}]}`)
	want := []string{
		"id is required",
		"zz is not a known argument (known: a, b, l)",
		"a must be a string; got 1",
		`b must be an integer; got the string "x"`,
	}
	for i := range 10 {
		want = append(want, "l["+strconv.Itoa(i)+"].p must be an integer; got the string \""+strconv.Itoa(i)+"\"")
	}
	want = append(want, "l: further items not checked")
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for range 20 { // map order must not leak into the output
		if again := check(t, schema, `{"b":"x","a":1,"zz":1,"l":[{"p":"0"},{"p":"1"},{"p":"2"},{"p":"3"},{"p":"4"},{"p":"5"},{"p":"6"},{"p":"7"},{"p":"8"},{"p":"9"},{"p":"10"},{"p":"11"}]}`); !slices.Equal(again, got) {
			t.Fatalf("order changed:\n%q\n%q", again, got)
		}
	}

	many := `{"properties":{},"additionalProperties":false}`
	var args strings.Builder
	args.WriteString("{")
	for i := range 40 {
		if i > 0 {
			args.WriteString(",")
		}
		args.WriteString(`"k` + strconv.Itoa(100+i) + `":1`)
	}
	args.WriteString("}")
	got = check(t, many, args.String())
	if len(got) != maxProblems+1 || got[maxProblems] != "15 more problem(s) not shown" {
		t.Errorf("cap: %d problems, last %q", len(got), got[len(got)-1])
	}
}
