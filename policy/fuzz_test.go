package policy

import (
	"strings"
	"testing"
	"time"
)

// FuzzRedeem: no string but an issued token is ever accepted, and none panics.
func FuzzRedeem(f *testing.F) {
	tk, err := NewTokens([]byte(strings.Repeat("f", 32)), time.Minute)
	if err != nil {
		f.Fatal(err)
	}
	b := Binding{Tool: "delete_group", Args: []byte(`{"id":1}`)}
	good, _ := tk.Issue(PurposeToken, b)
	f.Add(good[:len(good)-1])
	f.Add("eyJwIjoidG9rZW4ifQ.sig")
	f.Add(".")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		if tok == good {
			return
		}
		if err := tk.Redeem(PurposeToken, tok, b); err == nil {
			t.Fatalf("accepted a token it did not issue: %q", tok)
		}
	})
}
