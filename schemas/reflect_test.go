package schemas

import "testing"

// sample has one field of each kind the reflector handles.
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
