package schemas

import "github.com/convirza/convirza-mcp/internal/argcheck"

// ValidationError lists every problem found in a set of arguments; it is
// argcheck's error, named here for the code that builds and matches it.
type ValidationError = argcheck.Error

// DecodeArguments parses raw JSON arguments into the generic value a schema
// validator takes (see argcheck.DecodeArguments).
func DecodeArguments(raw []byte) (map[string]any, error) {
	return argcheck.DecodeArguments(raw)
}
