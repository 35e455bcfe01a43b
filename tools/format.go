package tools

import (
	"fmt"
	"strings"

	"github.com/convirza/convirza-mcp/schemas"
)

// phoneLabel writes a North American number, given as 10 digits, 11 digits
// or E.164, the way people read it: +1 303-555-0142. Anything else is
// returned as it is.
func phoneLabel(p string) string {
	d := schemas.Digits(p)
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	if len(d) != 10 || strings.ContainsAny(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return p
	}
	return "+1 " + d[:3] + "-" + d[3:6] + "-" + d[6:]
}

// plural counts a noun: 1 recipient, 2 recipients.
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
