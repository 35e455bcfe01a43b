package argcheck

import (
	"fmt"
	"slices"
	"strings"
)

// role says what a keyword's value is and whether it can fail.
type role int

const (
	annotation    role = iota // never fails validation
	assertion                 // fails with a message of its own
	subschema                 // the value is a schema (or boolean schema)
	subschemaList             // the value is an array of schemas
	subschemaMap              // the value is an object of schemas
)

// keywordRoles lists every keyword a schema may use: each assertion and
// applicator has a message in render.go and a case in TestEveryKeywordIsExplained.
// A keyword missing here is refused by Compile. Read-only.
var keywordRoles = map[string]role{
	// core
	"$schema":  annotation,
	"$id":      annotation,
	"$comment": annotation,
	"$defs":    subschemaMap,
	"$ref":     assertion, // failures are those of the referenced schema

	// annotations
	"title":       annotation,
	"description": annotation,
	"default":     annotation,
	"examples":    annotation,
	"deprecated":  annotation,
	"readOnly":    annotation,
	"writeOnly":   annotation,

	// any type
	"type":   assertion,
	"enum":   assertion,
	"const":  assertion,
	"format": assertion,
	"not":    subschema,
	"allOf":  subschemaList,
	"anyOf":  subschemaList,
	"oneOf":  subschemaList,

	// objects
	"properties":           subschemaMap,
	"patternProperties":    subschemaMap,
	"additionalProperties": subschema,
	"propertyNames":        subschema,
	"required":             assertion,
	"dependentRequired":    assertion,
	"minProperties":        assertion,
	"maxProperties":        assertion,

	// arrays
	"items":       subschema,
	"prefixItems": subschemaList,
	"minItems":    assertion,
	"maxItems":    assertion,
	"uniqueItems": assertion,

	// strings
	"minLength": assertion,
	"maxLength": assertion,
	"pattern":   assertion,

	// numbers
	"minimum":          assertion,
	"maximum":          assertion,
	"exclusiveMinimum": assertion,
	"exclusiveMaximum": assertion,
	"multipleOf":       assertion,
}

// formatText says, for each format argcheck enforces, what a value must be.
// Every name is one the engine validates; a schema naming another format is
// refused by Compile (the engine would silently accept anything). Read-only.
var formatText = map[string]string{
	"date-time": "an ISO-8601 date-time with a time zone, e.g. 2026-01-01T00:00:00.000Z",
	"date":      "a date like 2026-01-31",
	"time":      "a time with a time zone like 15:04:05Z",
	"email":     "an email address",
	"uri":       "an absolute URL", // with a host: see absoluteURL
	"uuid":      "a UUID like 123e4567-e89b-12d3-a456-426614174000",
	"hostname":  "a host name",
	"ipv4":      "an IPv4 address",
	"ipv6":      "an IPv6 address",
}

// checkKeywords walks a schema document and refuses any keyword or format
// argcheck cannot explain. ptr is the JSON pointer of node, for the error.
func checkKeywords(node any, ptr string) error {
	switch n := node.(type) {
	case bool:
		return nil
	case map[string]any:
		keys := make([]string, 0, len(n))
		for k := range n {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			at := ptr + "/" + escapePointer(k)
			r, ok := keywordRoles[k]
			if !ok {
				return fmt.Errorf("keyword %q at %s is not supported: argcheck has no message for its failures", k, pointerText(at))
			}
			if err := checkValue(k, r, n[k], at); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("schema at %s is %s, not an object or a boolean", pointerText(ptr), jsonType(node))
}

func checkValue(k string, r role, v any, at string) error {
	switch r {
	case subschema:
		return checkKeywords(v, at)
	case subschemaList:
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s at %s must be an array of schemas", k, pointerText(at))
		}
		for i, sub := range list {
			if err := checkKeywords(sub, fmt.Sprintf("%s/%d", at, i)); err != nil {
				return err
			}
		}
	case subschemaMap:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s at %s must be an object of schemas", k, pointerText(at))
		}
		names := make([]string, 0, len(m))
		for name := range m {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if err := checkKeywords(m[name], at+"/"+escapePointer(name)); err != nil {
				return err
			}
		}
	case assertion:
		if k == "format" {
			f, _ := v.(string)
			if _, ok := formatText[f]; !ok {
				return fmt.Errorf("format %q at %s is not supported: argcheck enforces only %s", f, pointerText(at), strings.Join(formatNames(), ", "))
			}
		}
	}
	return nil
}

func formatNames() []string {
	names := make([]string, 0, len(formatText))
	for f := range formatText {
		names = append(names, f)
	}
	slices.Sort(names)
	return names
}

func escapePointer(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

func pointerText(ptr string) string {
	if ptr == "" {
		return "the root"
	}
	return ptr
}
