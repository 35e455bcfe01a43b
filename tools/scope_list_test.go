package tools

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

type unitItem struct {
	ID   int    `json:"id"`
	Unit int64  `json:"org_unit_id"`
	Blob string `json:"blob,omitempty"`
}

func itemUnit(i unitItem) (int64, bool) { return i.Unit, i.Unit != -1 }

// TestScopeListTotals: a trimmed list keeps only in-scope items (and items
// of no unit), its count follows, its total is corrected when the whole list
// was there and dropped when it was not.
func TestScopeListTotals(t *testing.T) {
	var o optionSet
	TrimsPage(itemUnit)(&o)
	filter := o.trim.(func(*Page[unitItem], func(int64) bool) (*Page[unitItem], error))
	in := func(u int64) bool { return u == 7 }
	list := []unitItem{{1, 7, ""}, {2, 8, ""}, {3, -1, ""}, {4, 0, ""}}
	rendered := func(p *Page[unitItem]) map[string]any {
		t.Helper()
		out, err := filter(p, in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := render(out)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	m := rendered(offsetPage("things", list, 4, 0))
	kept := m["things"].([]any)
	if len(kept) != 2 || kept[0].(map[string]any)["id"] != 1.0 || kept[1].(map[string]any)["id"] != 3.0 || m["count"] != 2.0 || m["total"] != 2.0 {
		t.Fatalf("complete list: %v", m)
	}
	if note := m["scope"].(string); !strings.Contains(note, "2 things of other org units left out") {
		t.Fatalf("note: %q", note)
	}

	m = rendered(offsetPage("things", list, 40, 0))
	if _, ok := m["total"]; ok || m["next_offset"] != 4.0 || !strings.Contains(m["scope"].(string), "not known (page on with next_offset)") {
		t.Fatalf("partial page: %v", m)
	}

	// Nothing left out of a complete list: nothing to say.
	if m = rendered(offsetPage("things", list[:1], 1, 0)); m["total"] != 1.0 || m["scope"] != nil {
		t.Fatalf("nothing dropped: %v", m)
	}
}

// TestTruncatedScopedPage: a trimmed page cut for size gives no next offset
// (its count no longer says how many upstream records it spans, so any
// offset could skip some).
func TestTruncatedScopedPage(t *testing.T) {
	list := make([]unitItem, 400)
	for i := range list {
		list[i] = unitItem{ID: i, Unit: int64(7 + i%2), Blob: strings.Repeat("x", 300)}
	}
	p := offsetPage("things", list, 2000, 100)
	p.keepOnly(func(it unitItem) bool { u, _ := itemUnit(it); return u == 7 })
	res, _ := Result(p)
	text := res.Content[0].(mcp.TextContent).Text
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	if m["truncated"] == nil || m["next_offset"] != nil || strings.Contains(m["truncated"].(string), "offset=") {
		t.Fatalf("truncated scoped page: truncated %v, next_offset %v", m["truncated"], m["next_offset"])
	}
	for _, it := range m["things"].([]any) {
		if it.(map[string]any)["org_unit_id"] != float64(7) {
			t.Fatalf("out-of-scope item: %v", it)
		}
	}
}
