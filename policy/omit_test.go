package policy

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// A string longer than MaxAuditString (base64 audio) is recorded as its
// size and digest, not whole; one at the limit is kept (masked as usual).
func TestMaskArgumentsOmitsLongStrings(t *testing.T) {
	long := strings.Repeat("QUJD", 1<<20) // 4 MiB of base64
	atLimit := strings.Repeat("a", MaxAuditString-len("+13035550100")) + "+13035550100"
	raw, _ := json.Marshal(map[string]any{"name": "Greeting", "content": long, "note": atLimit,
		"nested": []any{map[string]any{"blob": long + "x"}}})
	b, _ := json.Marshal(MaskArguments(raw))
	if len(b) > 2*MaxAuditString {
		t.Fatalf("the masked arguments are %d bytes", len(b))
	}
	var got struct {
		Name, Content, Note string
		Nested              []struct{ Blob string }
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("[omitted: %d bytes, sha256 %x]", len(long), sha256.Sum256([]byte(long)))
	if got.Content != want || got.Name != "Greeting" {
		t.Errorf("content %q, name %q; want %q", got.Content, got.Name, want)
	}
	if len(got.Nested) != 1 || !strings.HasPrefix(got.Nested[0].Blob, fmt.Sprintf("[omitted: %d bytes, sha256 ", len(long)+1)) || got.Nested[0].Blob == want {
		t.Errorf("nested: %+v", got.Nested)
	}
	if len(got.Note) != MaxAuditString || !strings.HasSuffix(got.Note, "+*******0100") {
		t.Errorf("a string at the limit is kept and masked: %d bytes, ends %q", len(got.Note), got.Note[len(got.Note)-12:])
	}
	if MaskText(want) != want {
		t.Errorf("masking changes the placeholder: %q", MaskText(want))
	}
}
