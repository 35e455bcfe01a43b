package tools

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// An oversized page is cut at the largest number of records that fits:
// one more would not. Records of even, uneven and wildly uneven sizes.
func TestLargestFitIsLargest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		size func(i int) int
	}{
		{"even", func(int) int { return 200 }},
		{"uneven", func(i int) int { return 50 + rng.IntN(400) }},
		{"one huge record late", func(i int) int {
			if i == 700 {
				return 40_000
			}
			return 60
		}},
		{"growing", func(i int) int { return 10 + i/2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := make([]map[string]any, 2000)
			for i := range items {
				items[i] = map[string]any{"call_id": i, "note": strings.Repeat("x", tc.size(i))}
			}
			p := offsetPage("calls", items, 5000, 0)
			text, err := render(p)
			if err != nil {
				t.Fatal(err)
			}
			renders := 0
			var k int
			out, err := largestFit(p.length(), len(text), func(n int) ([]byte, error) {
				renders++
				k = n
				return render(p.cutAt(n))
			})
			if err != nil {
				t.Fatal(err)
			}
			// The returned rendering is one of the calls; find its k.
			for n := 0; n <= p.length(); n++ {
				if b, _ := render(p.cutAt(n)); string(b) == string(out) {
					k = n
					break
				}
			}
			if len(out) > MaxResultBytes {
				t.Fatalf("%d bytes > %d", len(out), MaxResultBytes)
			}
			if next, _ := render(p.cutAt(k + 1)); len(next) <= MaxResultBytes {
				t.Errorf("cut at %d records, but %d fit (%d bytes)", k, k+1, len(next))
			}
			if limit := 2*11 + 12; renders > limit {
				t.Errorf("%d renderings, want at most %d", renders, limit)
			}
			t.Logf("%d records in %d renderings", k, renders)
		})
	}
}
