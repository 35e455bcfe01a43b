package policy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzRedeem: no string but an issued token is ever accepted, and none panics.
func FuzzRedeem(f *testing.F) {
	tk, err := NewTokens([]byte(strings.Repeat("f", 32)), time.Minute, testStore(f))
	if err != nil {
		f.Fatal(err)
	}
	b := Binding{Tool: "delete_group", Args: []byte(`{"id":1}`)}
	good, _, _ := tk.Issue(context.Background(), PurposeToken, b)
	f.Add(good[:len(good)-1])
	f.Add("eyJwIjoidG9rZW4ifQ.sig")
	f.Add(".")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		if tok == good {
			return
		}
		if err := tk.Redeem(context.Background(), PurposeToken, tok, b); err == nil {
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

// FuzzMask: masking never panics on any text or arguments, is idempotent,
// and a phone number or URL credential set in any text is masked.
func FuzzMask(f *testing.F) {
	for _, s := range []string{
		"2026-12-01 303-555-0155", "303/555/0133", "+1 (303) 555-0199", "303–555–0122", "303-555-0155x204",
		"123e4567-e89b-12d3-a456-426614174000", "12345678-1234-1234-1234-12345678901", "192.168.100.200:443",
		"https://u:PASS@h.example.com/p?token=t#f", "https://u:pa/ss@h/x", "a://", "://", "x://[::1]:80/?",
		`{"caller_id":13035550166,"static_params":[{"name":"k","value":"v"}],"url":"https://h/?a=b"}`,
		`{"name":"api_key","value":{"x":[1,2]}}`, `[[[[13035550166]]]]`, "+(", "1 1 1 1 1 1 1 1 1 1 x", "\xff\xfe3035550166",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := MaskText(s)
		if again := MaskText(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, again)
		}
		if _, err := json.Marshal(MaskArguments([]byte(s))); err != nil {
			t.Fatalf("masked arguments do not encode: %v", err)
		}
		const phone, pass, token = "3035550166", "PASSWORD1", "TOKEN1"
		if strings.Contains(s, phone) || strings.Contains(s, pass) || strings.Contains(s, token) {
			return
		}
		for _, set := range []string{" " + phone + " ", " https://u:" + pass + "@h.example.com/p?t=" + token + " "} {
			got := MaskText(s + set + s)
			for _, secret := range []string{phone, pass, token} {
				if strings.Contains(got, secret) {
					t.Fatalf("%s unmasked in %q: %q", secret, s+set+s, got)
				}
			}
		}
	})
}
