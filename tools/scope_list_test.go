package tools

import (
	"context"
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

// unitArgs page a fake list like the upstream lists do.
type unitArgs struct {
	Offset, Limit int
}

func itemUnit(i unitItem) (int64, bool) { return i.Unit, i.Unit != -1 }

// fakeList answers like an upstream list of items, by offset and limit
// (limit 0: the endpoint's default of 5), or by limit only.
func fakeList(items []unitItem, kind pageKind) func(context.Context, *Deps, unitArgs) (*Page[unitItem], error) {
	return func(_ context.Context, _ *Deps, a unitArgs) (*Page[unitItem], error) {
		limit := a.Limit
		if limit == 0 {
			limit = 5
		}
		from := a.Offset
		if kind != byOffset {
			from = 0
		}
		if kind == byNumber { // stands for an endpoint without paging
			return limitedList("things", items, len(items)), nil
		}
		var page []unitItem
		if from < len(items) {
			page = items[from:min(len(items), from+limit)]
		}
		if kind == limitOnly {
			return limitedList("things", page, len(items)), nil
		}
		return offsetPage("things", page, len(items), from), nil
	}
}

// TestScopedListIsNoOracle: under a scope, a list answers exactly what the
// same list would answer on an account where the other units' items do not
// exist: items, count, total, next offset and notes, whatever the other
// units hold and however they interleave.
func TestScopedListIsNoOracle(t *testing.T) {
	in := func(u int64) bool { return u == 7 || u == 70 }
	var mine []unitItem
	for i := 0; i < 23; i++ {
		u := int64(7)
		if i%4 == 0 {
			u = -1 // no unit's: kept
		}
		mine = append(mine, unitItem{ID: i, Unit: u})
	}
	// The same list with other units' items interleaved, in two amounts.
	withOthers := func(every int) []unitItem {
		var out []unitItem
		for i, it := range mine {
			out = append(out, it)
			if i%every == 0 {
				out = append(out, unitItem{ID: 1000 + i, Unit: 8}, unitItem{ID: 2000 + i, Unit: 9})
			}
		}
		return out
	}
	render := func(p *Page[unitItem], err error) string {
		t.Helper()
		if err != nil {
			return "error: " + err.Error()
		}
		b, err := render(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, kind := range []struct {
		name   string
		kind   pageKind
		paging func(*unitArgs) (*int, *int)
	}{
		{"offset", byOffset, func(a *unitArgs) (*int, *int) { return &a.Offset, &a.Limit }},
		{"limit only", limitOnly, func(a *unitArgs) (*int, *int) { return nil, &a.Limit }},
		{"whole", byNumber, func(*unitArgs) (*int, *int) { return nil, nil }},
	} {
		for _, args := range []unitArgs{{}, {Limit: 4}, {Offset: 3, Limit: 4}, {Offset: 20, Limit: 10}, {Offset: 50}} {
			// A limit-only list is exact when the upstream's largest limit
			// covers it (beyond, its note says it may hold more).
			maxLimit := 7
			if kind.kind == limitOnly {
				maxLimit = 100
			}
			l := scopedList[unitArgs, unitItem]{unit: itemUnit, paging: kind.paging, defaultLimit: 6, maxLimit: maxLimit}
			alone := render(readScoped(context.Background(), nil, args, fakeList(mine, kind.kind), in, l))
			for _, every := range []int{1, 3} {
				crowded := render(readScoped(context.Background(), nil, args, fakeList(withOthers(every), kind.kind), in, l))
				if crowded != alone {
					t.Errorf("%s %+v: other units' items show:\n with them:    %s\n without them: %s", kind.name, args, crowded, alone)
				}
			}
			if strings.Contains(alone, `"id":1`+"0") && strings.Contains(alone, `"org_unit_id":8`) {
				t.Errorf("%s: out-of-scope item listed: %s", kind.name, alone)
			}
		}
	}
	// The offset pages are exact: total and next offset of the scope's list.
	l := scopedList[unitArgs, unitItem]{unit: itemUnit, paging: func(a *unitArgs) (*int, *int) { return &a.Offset, &a.Limit }, defaultLimit: 6, maxLimit: 7}
	p, err := readScoped(context.Background(), nil, unitArgs{Offset: 3, Limit: 4}, fakeList(withOthers(1), byOffset), in, l)
	if err != nil || p.Total != len(mine) || len(p.Items) != 4 || p.Items[0].ID != 3 || p.next != 7 {
		t.Fatalf("page: %+v %v", p, err)
	}
}

// TestTruncatedScopedPage: a scoped page cut for size resumes at an offset
// of the scope's own list.
func TestTruncatedScopedPage(t *testing.T) {
	list := make([]unitItem, 400)
	for i := range list {
		list[i] = unitItem{ID: i, Unit: int64(7 + i%2), Blob: strings.Repeat("x", 500)}
	}
	l := scopedList[unitArgs, unitItem]{unit: itemUnit, paging: func(a *unitArgs) (*int, *int) { return &a.Offset, &a.Limit }, defaultLimit: 100, maxLimit: 200}
	p, err := readScoped(context.Background(), nil, unitArgs{Offset: 10, Limit: 200}, fakeList(list, byOffset), func(u int64) bool { return u == 7 }, l)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := Result(p)
	text := res.Content[0].(mcp.TextContent).Text
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	things := m["things"].([]any)
	if m["truncated"] == nil || m["next_offset"] != float64(10+len(things)) || m["total"] != 200.0 {
		t.Fatalf("truncated scoped page: truncated %v, next_offset %v, total %v, %d items", m["truncated"], m["next_offset"], m["total"], len(things))
	}
	for _, it := range things {
		if it.(map[string]any)["org_unit_id"] != float64(7) {
			t.Fatalf("out-of-scope item: %v", it)
		}
	}
}
