package tools

import (
	"strings"
	"testing"
)

// BenchmarkResultOversized renders a page of 2,000 calls (~450 KiB) cut to
// MaxResultBytes: records of similar size, and one huge record among
// small ones.
func BenchmarkResultOversized(b *testing.B) {
	for _, bc := range []struct {
		name string
		size func(i int) int
	}{
		{"similar", func(i int) int { return 180 + 6*(i%20) }},
		{"one_huge", func(i int) int {
			if i == 700 {
				return 40_000
			}
			return 60
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			items := make([]map[string]any, 2000)
			for i := range items {
				items[i] = map[string]any{"call_id": i, "transcript": strings.Repeat("w", bc.size(i))}
			}
			p := offsetPage("calls", items, 5000, 0)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Result(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
