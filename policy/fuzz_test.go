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

// FuzzPolicyFile: any bytes as a policy file give a policy or an error that
// names the file, never a panic or a hang.
func FuzzPolicyFile(f *testing.F) {
	for _, s := range []string{
		"mode: read-only\n",
		"tools:\n  allow: [list_*]\n  deny: [delete_group]\nconfirmation:\n  mode: token\n  ttl: 2m\n  require: [update_group]\nscope:\n  org_units: [1003]\n",
		"tool:\n  deny: [x]\n", "mode: [", "---\n---\n", "scope: {org_units: [-1, 99999999999999999999]}\n",
		"confirmation: {ttl: 1000000h}\n", "&a [*a, *a]\n", "toolsets: !!binary aGVsbG8=\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data, testCatalog)
		if err == nil && p == nil {
			t.Fatal("no policy and no error")
		}
		if err != nil && !strings.Contains(err.Error(), "fuzz.yaml") {
			t.Fatalf("the error must name the file: %v", err)
		}
	})
}
