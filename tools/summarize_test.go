package tools_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

// listTotal is list_calls' total for args.
func listTotal(t *testing.T, env *testenv.Env, args string) int64 {
	t.Helper()
	return num(env.OK(t, "list_calls", args)["total"])
}

func TestSummarizeCallsTotalsEqualListCalls(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	end := time.Now().UTC().Truncate(time.Second)
	start := end.Add(-30 * 24 * time.Hour)
	win := fmt.Sprintf(`"start": %q, "end": %q`, start.Format(time.RFC3339), end.Format(time.RFC3339))

	for _, filter := range []string{``, `, "disposition": ["NO ANSWER", "BUSY"]`, `, "org_unit_id": 1003`, `, "phone_number": "+13035550100"`} {
		sum := env.OK(t, "summarize_calls", "{"+win+filter+"}")
		total, _ := sum["total"].(map[string]any)
		want := listTotal(t, env, "{"+win+filter+"}")
		if want == 0 || num(total["calls"]) != want {
			t.Errorf("filter %q: summarize_calls counts %v calls, list_calls %d", filter, total["calls"], want)
		}
		var rowsSum int64
		for _, r := range items(t, sum, "rows") {
			rowsSum += num(r["calls"])
			// Each office's row is list_calls' total for that office (the
			// root's own calls are not: list_calls counts its sub-groups too).
			if ou := num(r["org_unit_id"]); ou != 1001 && !strings.Contains(filter, "org_unit_id") {
				if got, want := num(r["calls"]), listTotal(t, env, fmt.Sprintf(`{%s%s, "org_unit_id": %d}`, win, filter, ou)); got != want {
					t.Errorf("filter %q: unit %d row counts %d, list_calls %d", filter, ou, got, want)
				}
			}
			if r["org_unit"] == nil || r["org_unit"] == "" {
				t.Errorf("row without the unit's name: %v", r)
			}
		}
		if rowsSum != want {
			t.Errorf("filter %q: rows add up to %d, total %d", filter, rowsSum, want)
		}
	}
}

func TestSummarizeCallsWalksWindows(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	now := time.Now().UTC()
	// The demo's calls are all in the last 30 days: 400 days count them
	// once, through 13 windows of 31 days.
	month := env.OK(t, "summarize_calls", fmt.Sprintf(`{"start": %q}`, now.Add(-30*24*time.Hour).Format(time.RFC3339)))
	year := env.OK(t, "summarize_calls", fmt.Sprintf(`{"start": %q, "end": %q, "group_by": ["disposition"]}`,
		now.Add(-400*24*time.Hour).Format(time.RFC3339), now.Format(time.RFC3339)))
	m, _ := month["total"].(map[string]any)
	y, _ := year["total"].(map[string]any)
	if num(m["calls"]) < 300 || num(m["calls"]) != num(y["calls"]) {
		t.Fatalf("30 days: %v calls; 400 days: %v", m["calls"], y["calls"])
	}
	rows := items(t, year, "rows")
	for i, r := range rows {
		if r["disposition"] == nil || r["org_unit_id"] != nil {
			t.Errorf("row %d keys: %v", i, r)
		}
		if i > 0 && num(rows[i-1]["calls"]) < num(r["calls"]) {
			t.Errorf("rows not sorted by calls: %v before %v", rows[i-1], r)
		}
		if r["disposition"] == "ANSWERED" && (r["answered_rate"] != 1.0 || num(r["avg_duration_s"]) <= 0) {
			t.Errorf("answered row: %v", r)
		}
		if r["disposition"] == "NO ANSWER" && num(r["answered"]) != 0 {
			t.Errorf("no-answer row: %v", r)
		}
	}
}

func TestSummarizeCallsDayAndHourInTimezone(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	denver, err := time.LoadLocation("America/Denver")
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().UTC().Truncate(time.Second)
	start := end.Add(-7 * 24 * time.Hour)
	win := fmt.Sprintf(`"start": %q, "end": %q`, start.Format(time.RFC3339), end.Format(time.RFC3339))
	want := map[string]int64{}
	for off := 0; ; off += 200 {
		page := env.OK(t, "list_calls", fmt.Sprintf(`{%s, "limit": 200, "offset": %d}`, win, off))
		for _, c := range items(t, page, "calls") {
			ts, err := time.Parse(time.RFC3339, c["call_started"].(string))
			if err != nil {
				t.Fatal(err)
			}
			ts = ts.In(denver)
			want[fmt.Sprintf("%s %d", ts.Format(time.DateOnly), ts.Hour())]++
		}
		if page["next_offset"] == nil {
			break
		}
	}
	sum := env.OK(t, "summarize_calls", fmt.Sprintf(`{%s, "timezone": "America/Denver", "group_by": ["day", "hour"]}`, win))
	if sum["timezone"] != "America/Denver" {
		t.Errorf("timezone: %v", sum["timezone"])
	}
	got := map[string]int64{}
	for _, r := range items(t, sum, "rows") {
		got[fmt.Sprintf("%s %d", r["day"], num(r["hour"]))] = num(r["calls"])
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("day and hour buckets in Denver:\n got %v\nwant %v", got, want)
	}
}

func TestSummarizeCallsRefusesBadWindows(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	now := time.Now().UTC()
	for args, want := range map[string]string{
		fmt.Sprintf(`{"start": %q}`, now.Add(-401*24*time.Hour).Format(time.RFC3339)): "at most 400 days",
		`{"timezone": "Mars/Olympus"}`: "IANA",
		fmt.Sprintf(`{"start": %q, "end": %q}`, now.Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339)): "end must be after start",
		`{"group_by": ["week"]}`: "group_by",
	} {
		if msg := env.Fail(t, "summarize_calls", args); !strings.Contains(msg, want) {
			t.Errorf("%s: %s, want %q", args, msg, want)
		}
	}
	noUpstream(t, env, "/v3/conversations/calls")
}

func TestSummarizeCallsUnderScope(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{Policy: "toolsets: [all]\nscope:\n  org_units: [1003]\n"})
	sum := env.OK(t, "summarize_calls", `{}`)
	for _, r := range items(t, sum, "rows") {
		if ou := num(r["org_unit_id"]); ou != 1003 && ou != 1042 && ou != 1043 && ou != 1044 {
			t.Errorf("scoped summary has unit %d: %v", ou, r)
		}
	}
	if len(items(t, sum, "rows")) == 0 {
		t.Error("scoped summary is empty")
	}
	if msg := env.Fail(t, "summarize_calls", `{"org_unit_id": 1010}`); !strings.Contains(msg, "1010") {
		t.Errorf("a unit outside the scope: %s", msg)
	}
}
