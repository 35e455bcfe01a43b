package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
)

// generated holds the checked-in snapshot of every tool: the server serves
// these input schemas as they are, so starting it reflects nothing.
//
//go:embed generated/*.json
var generated embed.FS

// Snapshot returns the checked-in input schema of the named tool, compact.
func Snapshot(tool string) (json.RawMessage, error) {
	b, err := generated.ReadFile("generated/" + tool + ".json")
	if err != nil {
		return nil, fmt.Errorf("tool %s has no schema snapshot in schemas/generated (run: go test ./tools -run TestSchemaSnapshots -update): %w", tool, err)
	}
	var snap struct {
		InputSchema json.RawMessage `json:"inputSchema"`
	}
	if err := json.Unmarshal(b, &snap); err != nil || len(snap.InputSchema) == 0 {
		return nil, fmt.Errorf("tool %s: schemas/generated/%s.json has no inputSchema: %v", tool, tool, err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, snap.InputSchema); err != nil {
		return nil, fmt.Errorf("tool %s: snapshot schema: %w", tool, err)
	}
	return out.Bytes(), nil
}

// AddConfirmationToken returns a JSON schema that also accepts the optional
// confirmation_token argument.
func AddConfirmationToken(raw json.RawMessage) (json.RawMessage, error) {
	var m Schema
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return json.Marshal(WithConfirmationToken(m))
}
