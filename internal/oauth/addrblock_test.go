package oauth_test

import (
	"testing"

	"github.com/convirza/convirza-mcp/internal/oauth"
)

// Per-address limits count an IPv6 client by its /64, an IPv4 one by its
// address.
func TestAddressBlock(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"::ffff:192.0.2.7":     "::ffff:192.0.2.7",
		"not an address":       "not an address",
	} {
		if got := oauth.AddressBlock(in); got != want {
			t.Errorf("AddressBlock(%q) = %q, want %q", in, got, want)
		}
	}
}
