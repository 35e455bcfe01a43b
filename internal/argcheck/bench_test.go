package argcheck_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/convirza/convirza-mcp/internal/argcheck"
	"github.com/convirza/convirza-mcp/schemas"
)

// snapshotSchema reads the input schema of one tool snapshot as a map, the
// form tools pass to Compile.
func snapshotSchema(tb testing.TB, tool string) schemas.Schema {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "schemas", "generated", tool+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	var snap struct {
		InputSchema schemas.Schema `json:"inputSchema"`
	}
	if err := json.Unmarshal(raw, &snap); err != nil {
		tb.Fatal(err)
	}
	return snap.InputSchema
}

// listCallsArgs is a typical list_calls call.
const listCallsArgs = `{"org_unit_id":1002,"start":"2026-01-01T00:00:00.000Z","end":"2026-01-07T00:00:00Z","disposition":["ANSWERED","BUSY"],"include":["tags","recordings"],"caller_id":"+18005551234","limit":50,"offset":100}`

// BenchmarkCompile compiles the largest tool schema (create_records).
func BenchmarkCompile(b *testing.B) {
	s := snapshotSchema(b, "create_records")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := argcheck.Compile("create_records", s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidate validates a typical list_calls argument object.
func BenchmarkValidate(b *testing.B) {
	v, err := argcheck.Compile("list_calls", snapshotSchema(b, "list_calls"))
	if err != nil {
		b.Fatal(err)
	}
	m, err := argcheck.DecodeArguments([]byte(listCallsArgs))
	if err != nil {
		b.Fatal(err)
	}
	if err := v.Validate(m); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Validate(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateRefused validates list_calls arguments with three
// problems, the rendering path.
func BenchmarkValidateRefused(b *testing.B) {
	v, err := argcheck.Compile("list_calls", snapshotSchema(b, "list_calls"))
	if err != nil {
		b.Fatal(err)
	}
	m, err := argcheck.DecodeArguments([]byte(`{"org_unit_id":0,"limit":500,"bogus":1,"disposition":["BUSY","BUSY"]}`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Validate(m); err == nil {
			b.Fatal("accepted")
		}
	}
}
