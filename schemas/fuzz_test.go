package schemas

import "testing"

// FuzzValidate: any bytes as arguments give a value or an error, never a
// panic, and an accepted value is an object.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{`{"id":1}`, `{"id":"x","limit":500}`, `{"nested":{"x":4},"tags":["a","b","c"]}`, `[]`, `{`, `{"id":1e999}`, `{"start":"2026-01-01T00:00:00Z"}`, "\x00", `{"npa":"\u0000"}`} {
		f.Add([]byte(s))
	}
	s, err := For(&sample{})
	if err != nil {
		f.Fatal(err)
	}
	v, err := NewValidator(s)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := DecodeArguments(raw)
		if err != nil {
			return
		}
		if m == nil {
			t.Fatal("nil map without error")
		}
		_ = v.Validate(m)
	})
}
