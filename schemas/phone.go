package schemas

import (
	"fmt"
	"strings"
)

// Phone arguments that E164 normalises carry the schema pattern
// ^\+?[0-9 ().-]{7,24}$: digits with an optional leading +, spaced or
// punctuated as people write them; E164 then decides.

// E164 normalises a phone number written in a common way to E.164 (+ and
// 7 to 15 digits, the first not 0). Spaces, dots, dashes and parentheses
// are dropped. Without a +, the number is read as North American (NANP):
// 10 digits, or 11 starting with 1, become +1 and the 10 digits. Anything
// else is refused, since guessing a country could reach the wrong person.
func E164(s string) (string, error) {
	t := strings.TrimSpace(s)
	plus := strings.HasPrefix(t, "+")
	if plus {
		t = t[1:]
	}
	var b strings.Builder
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%q is not a phone number: use digits, e.g. +18005551234 or 800-555-1234", s)
		}
	}
	d := b.String()
	switch {
	case plus && len(d) >= 7 && len(d) <= 15 && d[0] != '0':
		return "+" + d, nil
	case !plus && len(d) == 10 && d[0] >= '2':
		return "+1" + d, nil
	case !plus && len(d) == 11 && d[0] == '1' && d[1] >= '2':
		return "+" + d, nil
	case plus:
		return "", fmt.Errorf("%q is not an E.164 number: + then 7 to 15 digits, the first not 0 (e.g. +18005551234)", s)
	}
	return "", fmt.Errorf("%q is not a phone number this server can read: give it with + and the country code (e.g. +18005551234), or as 10 North American digits", s)
}

// normalisePhone rewrites *p to E.164, naming the argument in the error.
func normalisePhone(name string, p *string) error {
	if p == nil || *p == "" {
		return nil
	}
	v, err := E164(*p)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	*p = v
	return nil
}

// normalisePhones rewrites every number of a list to E.164 and refuses two
// spellings of the same number (the schema's uniqueItems sees only the
// spellings).
func normalisePhones(name string, list []string) error {
	seen := make(map[string]int, len(list))
	for i := range list {
		if err := normalisePhone(fmt.Sprintf("%s[%d]", name, i), &list[i]); err != nil {
			return err
		}
		if j, dup := seen[list[i]]; dup {
			return fmt.Errorf("%s[%d] is %s again (%s[%d]); list each number once", name, i, list[i], name, j)
		}
		seen[list[i]] = i
	}
	return nil
}

// upperState rewrites a two-letter state code to upper case ("co" → "CO"),
// the form the API documents (e.g. CA).
func upperState(p *string) {
	if p != nil {
		*p = strings.ToUpper(*p)
	}
}

// NANPDigits normalises a North American number written in any common way
// (see E164) to the 10 digits the numbers and routes endpoints take; a
// number of another country, or no number, is an error naming name.
func NANPDigits(name, s string) (string, error) {
	v, err := E164(s)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if len(v) != 12 || !strings.HasPrefix(v, "+1") {
		return "", fmt.Errorf("%s: %s is not a North American number; tracking numbers are +1 and 10 digits (e.g. +13035550142)", name, v)
	}
	return v[2:], nil
}

// trackingNumber rewrites *p, a tracking number in any common spelling, to
// the 10 digits the upstream takes.
func trackingNumber(name string, p *string) error {
	if p == nil || *p == "" {
		return nil
	}
	v, err := NANPDigits(name, *p)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ringTo rewrites *p, a number calls ring, to E.164, which the upstream
// takes (+ and 10 to 15 digits).
func ringTo(name string, p *string) error {
	if err := normalisePhone(name, p); err != nil {
		return err
	}
	if p != nil && *p != "" && len(*p) < 11 {
		return fmt.Errorf("%s: %s is too short to ring (10 to 15 digits with the country code)", name, *p)
	}
	return nil
}

// digitFilter rewrites *p, a partial-number filter, to digits: a whole
// North American number (any spelling, with or without +1) to its 10
// digits, anything else to its digits alone.
func digitFilter(p *string) {
	if p == nil || *p == "" {
		return
	}
	if v, err := NANPDigits("", *p); err == nil {
		*p = v
		return
	}
	*p = Digits(*p)
}

// Digits is s with everything but its digits left out.
func Digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// PhoneOut is a number as the tools answer it: E.164 when it reads as a
// phone number (10 digits mean +1), else as stored.
func PhoneOut(s string) string {
	if s == "" {
		return s
	}
	if v, err := E164(s); err == nil {
		return v
	}
	return s
}

// The phone arguments added for the tracking, ring-to, group and record
// numbers carry maxLength=24 rather than the pattern above: E164 refuses
// anything else with a message naming the number, and the pattern, on
// every such field, would cost the catalog's token budget.
