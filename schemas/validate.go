package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// maxArgumentBytes bounds the size of one tool call's arguments.
const maxArgumentBytes = 4 << 20

// ValidationError lists every problem found in a set of arguments, each a
// sentence naming the argument, the rule and the value received.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid arguments: " + e.Problems[0]
	}
	return "invalid arguments: " + strings.Join(e.Problems, "; ")
}

// DecodeArguments parses raw JSON arguments into a generic value, keeping
// numbers exact. Empty input is an empty object.
func DecodeArguments(raw []byte) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]any{}, nil
	}
	if len(raw) > maxArgumentBytes {
		return nil, &ValidationError{Problems: []string{fmt.Sprintf("arguments are %d bytes; the limit is %d", len(raw), maxArgumentBytes)}}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &ValidationError{Problems: []string{"arguments are not valid JSON: " + err.Error()}}
	}
	if dec.More() {
		return nil, &ValidationError{Problems: []string{"arguments must be one JSON object"}}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &ValidationError{Problems: []string{fmt.Sprintf("arguments must be a JSON object; got %s", jsonType(v))}}
	}
	return m, nil
}

// Validator checks arguments against one schema. Its patterns are compiled
// once, when it is made, so a bad pattern fails at start-up, not at a call.
type Validator struct {
	schema   Schema
	patterns map[string]*regexp.Regexp
}

// NewValidator prepares a validator for a schema produced by For.
func NewValidator(s Schema) (*Validator, error) {
	v := &Validator{schema: s, patterns: map[string]*regexp.Regexp{}}
	if err := v.compile(s); err != nil {
		return nil, err
	}
	return v, nil
}

func (v *Validator) compile(node any) error {
	switch n := node.(type) {
	case map[string]any:
		if p, ok := n["pattern"].(string); ok {
			re, err := regexp.Compile(p)
			if err != nil {
				return fmt.Errorf("schema pattern %q: %w", p, err)
			}
			v.patterns[p] = re
		}
		for _, sub := range n {
			if err := v.compile(sub); err != nil {
				return err
			}
		}
	case []any:
		for _, sub := range n {
			if err := v.compile(sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// Validate checks a decoded argument object and returns a *ValidationError
// naming every problem, or nil.
func (v *Validator) Validate(args map[string]any) error {
	var problems []string
	v.value(v.schema, args, "", &problems)
	if len(problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: problems}
}

func (v *Validator) value(s Schema, val any, path string, out *[]string) {
	name := path
	if name == "" {
		name = "arguments"
	}
	if t, ok := s["type"]; ok && !typeMatches(t, val) {
		*out = append(*out, fmt.Sprintf("%s must be %s; got %s", name, describeType(t), describeValue(val)))
		return
	}
	if enum, ok := s["enum"].([]any); ok && !inEnum(enum, val) {
		*out = append(*out, fmt.Sprintf("%s must be one of %s; got %s", name, listValues(enum), describeValue(val)))
		return
	}
	if c, ok := s["const"]; ok && !equalJSON(c, val) {
		*out = append(*out, fmt.Sprintf("%s must be %s; got %s", name, describeValue(c), describeValue(val)))
		return
	}
	switch x := val.(type) {
	case map[string]any:
		v.object(s, x, path, out)
	case []any:
		v.array(s, x, name, path, out)
	case string:
		v.string(s, x, name, out)
	case json.Number:
		v.number(s, x, name, out)
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		alts, ok := s[key].([]any)
		if !ok {
			continue
		}
		matched := 0
		for _, alt := range alts {
			if sub, ok := alt.(map[string]any); ok {
				var p []string
				v.value(sub, val, path, &p)
				if len(p) == 0 {
					matched++
				}
			}
		}
		if matched == 0 || (key == "oneOf" && matched > 1) {
			*out = append(*out, fmt.Sprintf("%s does not match exactly one of the allowed forms", name))
		}
	}
}

func (v *Validator) object(s Schema, obj map[string]any, path string, out *[]string) {
	props, _ := s["properties"].(map[string]any)
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			key, _ := r.(string)
			if _, present := obj[key]; !present {
				*out = append(*out, fmt.Sprintf("%s is required", join(path, key)))
			}
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sub, known := props[k].(map[string]any)
		if !known {
			if ap, ok := s["additionalProperties"].(bool); ok && !ap {
				*out = append(*out, fmt.Sprintf("%s is not a known argument%s", join(path, k), suggest(props)))
			}
			continue
		}
		v.value(sub, obj[k], join(path, k), out)
	}
	if n, ok := intOf(s["minProperties"]); ok && len(obj) < n {
		*out = append(*out, fmt.Sprintf("%s needs at least %d field(s)", nameOf(path), n))
	}
}

func (v *Validator) array(s Schema, arr []any, name, path string, out *[]string) {
	minI, hasMin := intOf(s["minItems"])
	maxI, hasMax := intOf(s["maxItems"])
	switch {
	case hasMin && hasMax && (len(arr) < minI || len(arr) > maxI):
		*out = append(*out, fmt.Sprintf("%s must have between %d and %d items; got %d", name, minI, maxI, len(arr)))
	case hasMin && len(arr) < minI:
		*out = append(*out, fmt.Sprintf("%s must have at least %d item(s); got %d", name, minI, len(arr)))
	case hasMax && len(arr) > maxI:
		*out = append(*out, fmt.Sprintf("%s must have at most %d items; got %d", name, maxI, len(arr)))
	}
	if u, _ := s["uniqueItems"].(bool); u {
		seen := map[string]int{}
		for i, it := range arr {
			b, _ := json.Marshal(it)
			if j, dup := seen[string(b)]; dup {
				*out = append(*out, fmt.Sprintf("%s has a duplicate: items %d and %d are both %s", name, j, i, describeValue(it)))
				break
			}
			seen[string(b)] = i
		}
	}
	items, ok := s["items"].(map[string]any)
	if !ok {
		return
	}
	before := len(*out)
	for i, it := range arr {
		v.value(items, it, fmt.Sprintf("%s[%d]", path, i), out)
		if len(*out)-before >= 10 {
			*out = append(*out, fmt.Sprintf("%s: further items not checked", name))
			return
		}
	}
}

func (v *Validator) string(s Schema, str, name string, out *[]string) {
	n := utf8.RuneCountInString(str)
	minL, hasMin := intOf(s["minLength"])
	maxL, hasMax := intOf(s["maxLength"])
	switch {
	case hasMin && minL >= 1 && n == 0:
		*out = append(*out, fmt.Sprintf("%s must not be empty", name))
	case hasMin && hasMax && (n < minL || n > maxL):
		if minL == maxL {
			*out = append(*out, fmt.Sprintf("%s must be exactly %d characters; got %d", name, minL, n))
		} else {
			*out = append(*out, fmt.Sprintf("%s must be %d to %d characters; got %d", name, minL, maxL, n))
		}
	case hasMin && n < minL:
		if minL == 1 {
			*out = append(*out, fmt.Sprintf("%s must not be empty", name))
		} else {
			*out = append(*out, fmt.Sprintf("%s must be at least %d characters; got %d", name, minL, n))
		}
	case hasMax && n > maxL:
		*out = append(*out, fmt.Sprintf("%s must be at most %d characters; got %d", name, maxL, n))
	}
	if p, ok := s["pattern"].(string); ok {
		if re := v.patterns[p]; re == nil || !re.MatchString(str) {
			hint := ""
			if d, ok := s["description"].(string); ok && d != "" {
				hint = " (" + d + ")"
			}
			*out = append(*out, fmt.Sprintf("%s must match %s%s; got %q", name, p, hint, truncate(str)))
		}
	}
	if f, ok := s["format"].(string); ok {
		if msg := checkFormat(f, str); msg != "" {
			*out = append(*out, fmt.Sprintf("%s must be %s; got %q", name, msg, truncate(str)))
		}
	}
}

func checkFormat(format, s string) string {
	switch format {
	case "date-time":
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return "an ISO-8601 date-time with a time zone, e.g. 2026-01-01T00:00:00.000Z"
		}
	case "date":
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return "a date like 2026-01-31"
		}
	case "email":
		if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
			return "an email address"
		}
	case "uri":
		if u, err := url.Parse(s); err != nil || u.Scheme == "" || u.Host == "" {
			return "an absolute URL"
		}
	}
	return ""
}

func (v *Validator) number(s Schema, n json.Number, name string, out *[]string) {
	r, ok := new(big.Rat).SetString(n.String())
	if !ok {
		*out = append(*out, fmt.Sprintf("%s must be a number; got %s", name, n))
		return
	}
	lo, hasLo := ratOf(s["minimum"])
	hi, hasHi := ratOf(s["maximum"])
	exLo, hasExLo := ratOf(s["exclusiveMinimum"])
	exHi, hasExHi := ratOf(s["exclusiveMaximum"])
	switch {
	case hasLo && hasHi && (r.Cmp(lo) < 0 || r.Cmp(hi) > 0):
		*out = append(*out, fmt.Sprintf("%s must be between %s and %s; got %s", name, lo.RatString(), hi.RatString(), n))
	case hasLo && r.Cmp(lo) < 0:
		*out = append(*out, fmt.Sprintf("%s must be at least %s; got %s", name, lo.RatString(), n))
	case hasHi && r.Cmp(hi) > 0:
		*out = append(*out, fmt.Sprintf("%s must be at most %s; got %s", name, hi.RatString(), n))
	case hasExLo && r.Cmp(exLo) <= 0:
		*out = append(*out, fmt.Sprintf("%s must be greater than %s; got %s", name, exLo.RatString(), n))
	case hasExHi && r.Cmp(exHi) >= 0:
		*out = append(*out, fmt.Sprintf("%s must be less than %s; got %s", name, exHi.RatString(), n))
	}
}

func typeMatches(t any, v any) bool {
	switch tt := t.(type) {
	case string:
		return isType(tt, v)
	case []any:
		for _, x := range tt {
			if s, ok := x.(string); ok && isType(s, v) {
				return true
			}
		}
		return false
	}
	return true
}

func isType(t string, v any) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		r, ok := new(big.Rat).SetString(n.String())
		return ok && r.IsInt()
	}
	return true
}

func describeType(t any) string {
	switch tt := t.(type) {
	case string:
		switch tt {
		case "integer":
			return "an integer"
		case "object", "array":
			return "an " + tt
		}
		return "a " + tt
	case []any:
		parts := make([]string, 0, len(tt))
		for _, x := range tt {
			parts = append(parts, describeType(x))
		}
		return strings.Join(parts, " or ")
	}
	return fmt.Sprint(t)
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		if r, ok := new(big.Rat).SetString(x.String()); ok && r.IsInt() {
			return "an integer"
		}
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", truncate(x))
	case json.Number:
		return x.String()
	case nil:
		return "null"
	case bool:
		return fmt.Sprint(x)
	}
	return jsonType(v)
}

func inEnum(enum []any, v any) bool {
	for _, e := range enum {
		if equalJSON(e, v) {
			return true
		}
	}
	return false
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	// Numbers decoded from the schema are float64 and from arguments
	// json.Number; compare them as exact rationals.
	if ra, ok := new(big.Rat).SetString(string(x)); ok {
		if rb, ok := new(big.Rat).SetString(string(y)); ok {
			return ra.Cmp(rb) == 0
		}
	}
	return bytes.Equal(x, y)
}

func listValues(vs []any) string {
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		b, _ := json.Marshal(v)
		parts = append(parts, string(b))
	}
	return strings.Join(parts, ", ")
}

func suggest(props map[string]any) string {
	if len(props) == 0 {
		return " (this tool takes no arguments)"
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	return " (known: " + strings.Join(names, ", ") + ")"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func nameOf(path string) string {
	if path == "" {
		return "arguments"
	}
	return path
}

func truncate(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return s
	}
	return string([]rune(s)[:57]) + "..."
}

func intOf(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok {
		return 0, false
	}
	return int(f), true
}

func ratOf(v any) (*big.Rat, bool) {
	f, ok := v.(float64)
	if !ok {
		return nil, false
	}
	r := new(big.Rat)
	r.SetFloat64(f)
	return r, true
}
