package tools

import "testing"

// FuzzToolArguments feeds arbitrary argument bytes to every tool's decoding
// and validation: a clear error or canonical arguments, never a panic; and
// canonical arguments decode again to themselves.
func FuzzToolArguments(f *testing.F) {
	for _, s := range []string{`{"id":1042}`, `{"id":"1042"}`, `{"org_unit_name":"X","org_unit_parent_id":1003}`, `{"limit":500}`,
		`{"id":1,"confirmation_token":"a.b"}`, `{"id":1,"org_unit_name":null}`, `{"records":[{"first_name":"a"}]}`, `null`, `[1]`} {
		f.Add(s)
	}
	all := All()
	f.Fuzz(func(t *testing.T, raw string) {
		for i := range all {
			c, err := all[i].newCall([]byte(raw))
			if err != nil {
				continue
			}
			again, err := all[i].newCall(c.canonical())
			if err != nil {
				t.Fatalf("%s: canonical arguments %s refused: %v", all[i].Name, c.canonical(), err)
			}
			if string(again.canonical()) != string(c.canonical()) {
				t.Fatalf("%s: canonical form not stable: %s vs %s", all[i].Name, c.canonical(), again.canonical())
			}
		}
	})
}
