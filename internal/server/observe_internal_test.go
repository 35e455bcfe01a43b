package server

import (
	"fmt"
	"testing"
)

// The principal label passes its first values through, then says "other":
// a stream of new tokens cannot grow the metrics without end.
func TestBoundedLabel(t *testing.T) {
	b := newBoundedLabel(3)
	for i := range 3 {
		if got := b.value(fmt.Sprint(i)); got != fmt.Sprint(i) {
			t.Errorf("value %d: %q", i, got)
		}
	}
	if got := b.value("new"); got != "other" {
		t.Errorf("a fourth value: %q", got)
	}
	if got := b.value("1"); got != "1" {
		t.Errorf("a value seen before the cap: %q", got)
	}
}
