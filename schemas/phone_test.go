package schemas

import "testing"

func TestDigits(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"+1 (303) 555-0142": "13035550142",
		"303.555.0142":      "3035550142",
		"ext 12":            "12",
		"abc":               "",
	} {
		if got := Digits(in); got != want {
			t.Errorf("Digits(%q) = %q, want %q", in, got, want)
		}
	}
}
