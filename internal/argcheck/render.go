package argcheck

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

const (
	// maxItemProblems bounds the problems reported under one array: the
	// first few tell the model what is wrong with its items.
	maxItemProblems = 10
	// maxProblems bounds the problems reported for one call.
	maxProblems = 25
)

// leaf is one failed rule at one place in the arguments, with its sentences.
type leaf struct {
	at   []string // instance location
	rank int      // orders the rules failing at one place
	msgs []string
}

type renderer struct {
	root    *jsonschema.Schema
	value   any
	schemas map[string]*jsonschema.Schema // by location, filled as needed
	leaves  []leaf
}

// render turns the engine's error tree into sentences, ordered by where in
// the arguments they apply, deduplicated and capped.
func render(root *jsonschema.Schema, value any, ve *jsonschema.ValidationError) []string {
	r := &renderer{root: root, value: value, schemas: map[string]*jsonschema.Schema{}}
	r.walk(ve)
	slices.SortStableFunc(r.leaves, func(a, b leaf) int {
		if c := compareLocations(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.rank, b.rank)
	})
	var (
		out       []string
		seen      = map[string]bool{}
		perArray  = map[string]int{}
		truncated = map[string]bool{}
		dropped   int
	)
	for _, l := range r.leaves {
		_, _, arrays := locate(value, l.at)
		for _, msg := range l.msgs {
			if seen[msg] {
				continue
			}
			seen[msg] = true
			full := ""
			for _, a := range arrays {
				if perArray[a] >= maxItemProblems {
					full = a
					break
				}
			}
			if full != "" {
				if !truncated[full] {
					truncated[full] = true
					out = append(out, fmt.Sprintf("%s: further items not checked", nameOf(full)))
				}
				continue
			}
			for _, a := range arrays {
				perArray[a]++
			}
			if len(out) >= maxProblems {
				dropped++
				continue
			}
			out = append(out, msg)
		}
	}
	if dropped > 0 {
		out = append(out, fmt.Sprintf("%d more problem(s) not shown", dropped))
	}
	return out
}

func (r *renderer) walk(e *jsonschema.ValidationError) {
	switch e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.AllOf, *kind.Reference:
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				r.walk(c)
			}
			return
		}
	}
	r.leaves = append(r.leaves, r.explain(e))
}

// rank orders the rules failing at one place: the value's kind first, then
// what is missing or unknown, then the finer rules.
func rank(k jsonschema.ErrorKind) int {
	switch k.(type) {
	case *kind.Type, *kind.InvalidJsonValue:
		return 0
	case *kind.Const, *kind.Enum:
		return 1
	case *kind.Format:
		return 2
	case *kind.Required, *kind.DependentRequired:
		return 3
	case *kind.AdditionalProperties, *kind.PropertyNames, *kind.FalseSchema:
		return 4
	case *kind.MinProperties, *kind.MaxProperties:
		return 5
	case *kind.MinItems, *kind.MaxItems, *kind.UniqueItems:
		return 6
	case *kind.MinLength, *kind.MaxLength, *kind.Pattern:
		return 7
	case *kind.Minimum, *kind.Maximum, *kind.ExclusiveMinimum, *kind.ExclusiveMaximum, *kind.MultipleOf:
		return 8
	}
	return 9
}

// explain renders one failed rule. Every kind a schema accepted by Compile
// can produce has a sentence here; anything else still refuses, in the
// engine's words.
func (r *renderer) explain(e *jsonschema.ValidationError) leaf {
	val, path, _ := locate(r.value, e.InstanceLocation)
	name := nameOf(path)
	l := leaf{at: e.InstanceLocation, rank: rank(e.ErrorKind)}
	add := func(format string, args ...any) { l.msgs = append(l.msgs, fmt.Sprintf(format, args...)) }
	node := r.schema(e.SchemaURL)

	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		add("%s must be %s; got %s", name, describeTypes(k.Want), describeValue(val))
	case *kind.Enum:
		add("%s must be one of %s; got %s", name, listValues(k.Want), describeValue(val))
	case *kind.Const:
		add("%s must be %s; got %s", name, describeValue(k.Want), describeValue(val))
	case *kind.Format:
		text, ok := formatText[k.Want]
		if !ok {
			text = "a valid " + k.Want
		}
		if s, isStr := val.(string); isStr {
			add("%s must be %s; got %q", name, text, truncate(s))
		} else {
			add("%s must be %s; got %s", name, text, describeValue(val))
		}
	case *kind.Required:
		for _, m := range k.Missing {
			add("%s is required", join(path, m))
		}
	case *kind.DependentRequired:
		for _, m := range k.Missing {
			add("%s is required when %s is given", join(path, m), join(path, k.Prop))
		}
	case *kind.AdditionalProperties:
		props := slices.Clone(k.Properties)
		slices.Sort(props)
		hint := suggest(node)
		for _, p := range props {
			add("%s is not a known argument%s", join(path, p), hint)
		}
	case *kind.PropertyNames:
		add("%s has a field name that is not allowed: %q", name, truncate(k.Property))
	case *kind.FalseSchema:
		add("%s is not allowed", name)
	case *kind.MinProperties:
		add("%s needs at least %d field(s)", name, k.Want)
	case *kind.MaxProperties:
		add("%s takes at most %d field(s); got %d", name, k.Want, k.Got)
	case *kind.MinItems:
		add("%s", itemCount(name, node, k.Got, k.Want, -1))
	case *kind.MaxItems:
		add("%s", itemCount(name, node, k.Got, -1, k.Want))
	case *kind.UniqueItems:
		i, j := min(k.Duplicates[0], k.Duplicates[1]), max(k.Duplicates[0], k.Duplicates[1])
		var dup any
		if arr, ok := val.([]any); ok && i >= 0 && i < len(arr) {
			dup = arr[i]
		}
		add("%s has a duplicate: items %d and %d are both %s", name, i, j, describeValue(dup))
	case *kind.MinLength:
		add("%s", length(name, node, k.Got, k.Want, -1))
	case *kind.MaxLength:
		add("%s", length(name, node, k.Got, -1, k.Want))
	case *kind.Pattern:
		hint := ""
		if node != nil && node.Description != "" {
			hint = " (" + node.Description + ")"
		}
		add("%s must match %s%s; got %q", name, k.Want, hint, truncate(k.Got))
	case *kind.Minimum:
		add("%s", bounds(name, node, val, k.Want, nil))
	case *kind.Maximum:
		add("%s", bounds(name, node, val, nil, k.Want))
	case *kind.ExclusiveMinimum:
		add("%s must be greater than %s; got %s", name, ratText(k.Want), describeValue(val))
	case *kind.ExclusiveMaximum:
		add("%s must be less than %s; got %s", name, ratText(k.Want), describeValue(val))
	case *kind.MultipleOf:
		add("%s must be a multiple of %s; got %s", name, ratText(k.Want), describeValue(val))
	case *kind.AnyOf, *kind.OneOf:
		add("%s does not match exactly one of the allowed forms", name)
	case *kind.Not:
		add("%s matches a form that is not allowed", name)
	case *kind.InvalidJsonValue:
		add("%s is not a JSON value (%T)", name, k.Value)
	default:
		add("%s", fallback(name, e.ErrorKind))
	}
	return l
}

// fallback explains a failure of a kind render has no sentence for. Compile
// refuses schemas that could produce one, so this is a safety net: the
// call is still refused, with the engine's own description.
func fallback(name string, k jsonschema.ErrorKind) string {
	text := k.LocalizedString(message.NewPrinter(language.English))
	if kw := strings.Join(k.KeywordPath(), "/"); kw != "" {
		return fmt.Sprintf("%s is not valid (%s: %s)", name, kw, text)
	}
	return fmt.Sprintf("%s is not valid (%s)", name, text)
}

func itemCount(name string, node *jsonschema.Schema, got, minI, maxI int) string {
	if node != nil {
		if node.MinItems != nil {
			minI = *node.MinItems
		}
		if node.MaxItems != nil {
			maxI = *node.MaxItems
		}
	}
	switch {
	case minI >= 0 && maxI >= 0:
		return fmt.Sprintf("%s must have between %d and %d items; got %d", name, minI, maxI, got)
	case minI >= 0:
		return fmt.Sprintf("%s must have at least %d item(s); got %d", name, minI, got)
	default:
		return fmt.Sprintf("%s must have at most %d items; got %d", name, maxI, got)
	}
}

func length(name string, node *jsonschema.Schema, n, minL, maxL int) string {
	if node != nil {
		if node.MinLength != nil {
			minL = *node.MinLength
		}
		if node.MaxLength != nil {
			maxL = *node.MaxLength
		}
	}
	hasMin, hasMax := minL >= 0, maxL >= 0
	switch {
	case hasMin && minL >= 1 && n == 0:
		return fmt.Sprintf("%s must not be empty", name)
	case hasMin && hasMax && minL == maxL:
		return fmt.Sprintf("%s must be exactly %d characters; got %d", name, minL, n)
	case hasMin && hasMax:
		return fmt.Sprintf("%s must be %d to %d characters; got %d", name, minL, maxL, n)
	case hasMin:
		return fmt.Sprintf("%s must be at least %d characters; got %d", name, minL, n)
	default:
		return fmt.Sprintf("%s must be at most %d characters; got %d", name, maxL, n)
	}
}

func bounds(name string, node *jsonschema.Schema, val any, lo, hi *big.Rat) string {
	if node != nil {
		if node.Minimum != nil {
			lo = node.Minimum
		}
		if node.Maximum != nil {
			hi = node.Maximum
		}
	}
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf("%s must be between %s and %s; got %s", name, ratText(lo), ratText(hi), describeValue(val))
	case lo != nil:
		return fmt.Sprintf("%s must be at least %s; got %s", name, ratText(lo), describeValue(val))
	default:
		return fmt.Sprintf("%s must be at most %s; got %s", name, ratText(hi), describeValue(val))
	}
}

// schema finds the compiled schema at an error's location, for the sibling
// rules a sentence mentions (both bounds of a range, the known properties).
func (r *renderer) schema(loc string) *jsonschema.Schema {
	if s, ok := r.schemas[loc]; ok {
		return s
	}
	s := findSchema(r.root, loc, map[*jsonschema.Schema]bool{})
	r.schemas[loc] = s
	return s
}

func findSchema(s *jsonschema.Schema, loc string, seen map[*jsonschema.Schema]bool) *jsonschema.Schema {
	if s == nil || seen[s] {
		return nil
	}
	seen[s] = true
	if s.Location == loc {
		return s
	}
	var subs []*jsonschema.Schema
	subs = append(subs, s.Ref, s.Not, s.If, s.Then, s.Else, s.PropertyNames, s.Contains,
		s.Items2020, s.UnevaluatedItems, s.UnevaluatedProperties, s.ContentSchema)
	subs = append(subs, s.AllOf...)
	subs = append(subs, s.AnyOf...)
	subs = append(subs, s.OneOf...)
	subs = append(subs, s.PrefixItems...)
	for _, p := range s.Properties {
		subs = append(subs, p)
	}
	for _, p := range s.PatternProperties {
		subs = append(subs, p)
	}
	for _, p := range s.DependentSchemas {
		subs = append(subs, p)
	}
	for _, x := range []any{s.AdditionalProperties, s.Items, s.AdditionalItems} {
		switch x := x.(type) {
		case *jsonschema.Schema:
			subs = append(subs, x)
		case []*jsonschema.Schema:
			subs = append(subs, x...)
		}
	}
	for _, sub := range subs {
		if found := findSchema(sub, loc, seen); found != nil {
			return found
		}
	}
	return nil
}

// locate finds the value at an instance location and renders its path the
// way a model writes it (records[2].phone_number); arrays lists the paths
// of the arrays the location goes through.
func locate(root any, at []string) (val any, path string, arrays []string) {
	cur := root
	var b strings.Builder
	for _, tok := range at {
		if arr, ok := cur.([]any); ok {
			arrays = append(arrays, b.String())
			b.WriteString("[" + tok + "]")
			cur = nil
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(arr) {
				cur = arr[i]
			}
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
		m, _ := cur.(map[string]any)
		cur = m[tok]
	}
	return cur, b.String(), arrays
}

// compareLocations orders instance locations as a reader expects: a place
// before what is inside it, object keys alphabetically, array items by index.
func compareLocations(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] == b[i] {
			continue
		}
		x, errX := strconv.Atoi(a[i])
		y, errY := strconv.Atoi(b[i])
		if errX == nil && errY == nil {
			return cmp.Compare(x, y)
		}
		return strings.Compare(a[i], b[i])
	}
	return cmp.Compare(len(a), len(b))
}

func describeTypes(want []string) string {
	parts := make([]string, 0, len(want))
	for _, t := range want {
		switch t {
		case "integer", "object", "array":
			parts = append(parts, "an "+t)
		default:
			parts = append(parts, "a "+t)
		}
	}
	return strings.Join(parts, " or ")
}

// jsonType names the JSON type of a generic value, with an article.
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
		// By its spelling: converting a number of any size to decide would
		// cost time the caller did not bound.
		if strings.ContainsAny(x.String(), ".eE") {
			return "a number"
		}
		return "an integer"
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// describeValue shows a scalar as received and names the type of anything
// larger.
func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", truncate(x))
	case json.Number:
		return truncate(x.String())
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x)
	}
	return jsonType(v)
}

func listValues(vs []any) string {
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		b, err := json.Marshal(v)
		if err != nil {
			parts = append(parts, fmt.Sprint(v))
			continue
		}
		parts = append(parts, string(b))
	}
	return strings.Join(parts, ", ")
}

// ratText writes a bound as a plain number: an integer as such, a fraction
// as a decimal when it has one of at most 12 places.
func ratText(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	for prec := 1; prec <= 12; prec++ {
		s := r.FloatString(prec)
		if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(r) == 0 {
			return s
		}
	}
	return r.RatString()
}

func suggest(node *jsonschema.Schema) string {
	if node == nil {
		return ""
	}
	if len(node.Properties) == 0 {
		return " (this tool takes no arguments)"
	}
	names := make([]string, 0, len(node.Properties))
	for k := range node.Properties {
		names = append(names, k)
	}
	slices.Sort(names)
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
