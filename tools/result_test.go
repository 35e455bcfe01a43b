package tools

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/talkdesk"
)

func TestResultPrunesAndWraps(t *testing.T) {
	res, _ := Result(map[string]any{"a": nil, "b": "", "c": []any{}, "d": map[string]any{}, "e": false, "f": 0, "g": []any{nil, "x"}})
	b, _ := json.Marshal(res.StructuredContent)
	if string(b) != `{"e":false,"f":0,"g":[null,"x"]}` {
		t.Fatalf("pruned: %s", b)
	}
	res, _ = Result([]int{1, 2})
	b, _ = json.Marshal(res.StructuredContent)
	if string(b) != `{"result":[1,2]}` {
		t.Fatalf("wrapped: %s", b)
	}
}

func TestResultTruncatedAtRecordBoundary(t *testing.T) {
	items := make([]map[string]any, 500)
	for i := range items {
		items[i] = map[string]any{"call_id": i, "transcript": strings.Repeat("words ", 60)}
	}
	res, _ := Result(offsetPage("calls", items, 2000, 100))
	var text string
	for _, c := range res.Content {
		text = c.(mcp.TextContent).Text
	}
	if len(text) > MaxResultBytes {
		t.Fatalf("%d bytes > %d", len(text), MaxResultBytes)
	}
	var out struct {
		Calls     []map[string]any `json:"calls"`
		Count     int              `json:"count"`
		Total     int              `json:"total"`
		Next      int              `json:"next_offset"`
		Truncated string           `json:"truncated"`
	}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatal(err)
	}
	n := len(out.Calls)
	if n == 0 || n >= 500 || out.Count != n || out.Total != 2000 || out.Next != 100+n {
		t.Fatalf("cut: %d calls, count %d, total %d, next %d", n, out.Count, out.Total, out.Next)
	}
	if !strings.Contains(out.Truncated, "offset=") || out.Calls[n-1]["call_id"] != float64(n-1) {
		t.Fatalf("note or boundary: %q", out.Truncated)
	}
}

func TestTruncatedPageNumberedResultGetsNoOffset(t *testing.T) {
	items := make([]map[string]any, 100)
	for i := range items {
		items[i] = map[string]any{"id": i, "extra_data": map[string]any{"notes": strings.Repeat("x", 1000)}}
	}
	res, _ := Result(halPage("records", &talkdesk.Page[map[string]any]{Items: items, Total: 300, Page: 1, PerPage: 100, TotalPages: 3, Next: "/next"}))
	var out map[string]any
	if err := json.Unmarshal(res.StructuredContent.(json.RawMessage), &out); err != nil {
		t.Fatal(err)
	}
	if _, ok := out["next_page"]; ok {
		t.Fatalf("a cut page must not point at the next page, which would skip what was cut: %v", out["next_page"])
	}
	if _, ok := out["next_offset"]; ok {
		t.Fatalf("a page-numbered list must not get an offset: %v", out["next_offset"])
	}
	if note, _ := out["truncated"].(string); !strings.Contains(note, "fewer") || strings.Contains(note, "offset=") {
		t.Fatalf("note: %q", note)
	}
}
