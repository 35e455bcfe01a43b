package tools

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones for day and hour buckets on hosts without a zoneinfo database

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/schemas"
)

// summaryPageSize is the upstream page summarize_calls reads (the largest
// GET /conversations/calls allows).
const summaryPageSize = 200

// maxSummaryRequests bounds the upstream requests of one summary: 14
// windows of up to 200 pages of 200 calls each would be far more calls than
// any account takes in 400 days.
const maxSummaryRequests = 2000

// CallSummary is summarize_calls' answer: one row per group, most calls
// first, and the totals of every call in the window.
type CallSummary struct {
	Start    string       `json:"start"`
	End      string       `json:"end"`
	Timezone string       `json:"timezone"`
	GroupBy  []string     `json:"group_by"`
	Total    SummaryCount `json:"total"`
	Rows     []SummaryRow `json:"rows"`
	// Note says how answered and avg_duration_s are counted.
	Note string `json:"note,omitempty"`
}

// SummaryCount counts calls: answered are ANSWERED or TRANSFERRED calls;
// avg_duration_s is the mean duration of all counted calls.
type SummaryCount struct {
	Calls        int     `json:"calls"`
	Answered     int     `json:"answered"`
	AnsweredRate float64 `json:"answered_rate"`
	AvgDuration  int     `json:"avg_duration_s"`
	duration     int64
}

// SummaryRow is one group: its keys (only those grouped by) and counts.
type SummaryRow struct {
	OrgUnitID      int64  `json:"org_unit_id,omitempty"`
	OrgUnit        string `json:"org_unit,omitempty"`
	Day            string `json:"day,omitempty"`
	Hour           *int   `json:"hour,omitempty"`
	Disposition    string `json:"disposition,omitempty"`
	AdSource       string `json:"ad_source,omitempty"`
	TrackingNumber string `json:"tracking_number,omitempty"`
	SummaryCount
}

const summaryNote = "answered = ANSWERED or TRANSFERRED; avg_duration_s over all calls of the row"

// summarizeCalls walks the window in 31-day windows of list_calls, page by
// page, counting each call once, and groups the counts.
func summarizeCalls(ctx context.Context, d *Deps, a schemas.SummarizeCallsArgs) (*CallSummary, error) {
	start, end, loc, err := a.Window(time.Now())
	if err != nil {
		return nil, err
	}
	groupBy := a.GroupBy
	if len(groupBy) == 0 {
		groupBy = []string{"org_unit"}
	}
	by := map[string]bool{}
	for _, g := range groupBy {
		by[g] = true
	}
	windows := splitWindows(start, end, schemas.MaxCallWindowDays*24*time.Hour)
	progress := newProgress(ctx, len(windows))
	seen := map[int64]bool{}
	rows := map[summaryGroup]*SummaryCount{}
	var total SummaryCount
	requests := 0
	for i, w := range windows {
		q := a.Calls(w[0], w[1])
		q.Limit = summaryPageSize
		if by["ad_source"] {
			q.Include = []string{"custom_sources"}
		}
		for {
			if requests == maxSummaryRequests {
				return nil, fmt.Errorf("more than %d pages of calls: narrow the window or the filters", maxSummaryRequests)
			}
			requests++
			page, err := d.Convirza.Conversations.Calls(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("reading calls %s to %s (window %d of %d): %w", q.Start, q.End, i+1, len(windows), err)
			}
			for _, c := range page.Items {
				// Consecutive windows share their boundary instant.
				if seen[c.CallID] {
					continue
				}
				seen[c.CallID] = true
				key, err := summaryKey(c, by, loc)
				if err != nil {
					return nil, err
				}
				n := rows[key]
				if n == nil {
					n = &SummaryCount{}
					rows[key] = n
				}
				n.add(c)
				total.add(c)
			}
			q.Offset += len(page.Items)
			done := len(page.Items) < summaryPageSize || (page.Total > 0 && q.Offset >= page.Total)
			frac := 1.0
			if !done && page.Total > 0 {
				frac = math.Min(float64(q.Offset)/float64(page.Total), 0.99)
			}
			progress.report(float64(i)+frac, fmt.Sprintf("window %d of %d: %d calls counted", i+1, len(windows), total.Calls))
			if done {
				break
			}
		}
	}
	out := &CallSummary{
		Start: start.In(loc).Format(time.RFC3339), End: end.In(loc).Format(time.RFC3339), Timezone: loc.String(),
		GroupBy: groupBy, Total: total.done(), Rows: make([]SummaryRow, 0, len(rows)), Note: summaryNote,
	}
	var names map[int64]string
	if by["org_unit"] && len(rows) > 0 {
		names = unitNames(ctx, d)
	}
	for key, n := range rows {
		out.Rows = append(out.Rows, key.row(by, names, n.done()))
	}
	sort.Slice(out.Rows, func(i, j int) bool {
		x, y := out.Rows[i], out.Rows[j]
		if x.Calls != y.Calls {
			return x.Calls > y.Calls
		}
		return rowOrder(x) < rowOrder(y)
	})
	return out, nil
}

// summaryGroup is a row's keys, comparable (hour -1: not grouped by hour).
type summaryGroup struct {
	unit                    int64
	day                     string
	hour                    int
	disposition, source, tn string
}

// summaryKey is the group a call falls in.
func summaryKey(c convirza.Call, by map[string]bool, loc *time.Location) (summaryGroup, error) {
	k := summaryGroup{hour: -1}
	if by["org_unit"] {
		k.unit = c.OrgUnitID
	}
	if by["day"] || by["hour"] {
		t, err := time.Parse(time.RFC3339Nano, c.CallStarted)
		if err != nil {
			return k, fmt.Errorf("call %d: the upstream's call_started %q is not a date-time", c.CallID, c.CallStarted)
		}
		t = t.In(loc)
		if by["day"] {
			k.day = t.Format(time.DateOnly)
		}
		if by["hour"] {
			k.hour = t.Hour()
		}
	}
	if by["disposition"] {
		k.disposition = c.Disposition
	}
	if by["ad_source"] {
		k.source = "(none)"
		for _, s := range c.CustomSources {
			if s.CustomSourceType == "CS1" || len(c.CustomSources) == 1 {
				k.source = s.CustomSourceName
				break
			}
		}
	}
	if by["tracking_number"] {
		k.tn = c.PhoneNumber
	}
	return k, nil
}

func (k summaryGroup) row(by map[string]bool, names map[int64]string, n SummaryCount) SummaryRow {
	r := SummaryRow{OrgUnitID: k.unit, OrgUnit: names[k.unit], Day: k.day, Disposition: k.disposition,
		AdSource: k.source, TrackingNumber: k.tn, SummaryCount: n}
	if by["hour"] {
		h := k.hour
		r.Hour = &h
	}
	return r
}

func rowOrder(r SummaryRow) string {
	hour := ""
	if r.Hour != nil {
		hour = fmt.Sprintf("%02d", *r.Hour)
	}
	return strings.Join([]string{fmt.Sprintf("%012d", r.OrgUnitID), r.Day, hour, r.Disposition, r.AdSource, r.TrackingNumber}, "\x00")
}

func (n *SummaryCount) add(c convirza.Call) {
	n.Calls++
	if c.Disposition == "ANSWERED" || c.Disposition == "TRANSFERRED" {
		n.Answered++
	}
	n.duration += int64(c.Duration)
}

func (n SummaryCount) done() SummaryCount {
	if n.Calls > 0 {
		n.AnsweredRate = math.Round(float64(n.Answered)/float64(n.Calls)*1000) / 1000
		n.AvgDuration = int(math.Round(float64(n.duration) / float64(n.Calls)))
	}
	n.duration = 0
	return n
}

// splitWindows cuts [start, end] into consecutive windows of at most max.
func splitWindows(start, end time.Time, max time.Duration) [][2]time.Time {
	var out [][2]time.Time
	for from := start; from.Before(end); from = from.Add(max) {
		to := from.Add(max)
		if to.After(end) {
			to = end
		}
		out = append(out, [2]time.Time{from, to})
	}
	return out
}

// unitNames names the org units of the group tree; nil when it cannot be
// read (the rows then carry ids alone).
func unitNames(ctx context.Context, d *Deps) map[int64]string {
	tree, err := d.Convirza.Groups.Tree(ctx, nil)
	if err != nil {
		return nil
	}
	names := map[int64]string{}
	var walk func([]convirza.TreeNode)
	walk = func(nodes []convirza.TreeNode) {
		for _, n := range nodes {
			names[n.OrgUnitID] = n.Name
			walk(n.Children)
		}
	}
	walk(tree)
	return names
}

// Progress notifications: a tool call whose request carries a progress
// token gets notifications/progress as a long call advances. The token
// reaches the handler through the context (WithProgressToken, set by the
// server's tool middleware).

type progressKey struct{}

// WithProgressToken returns ctx carrying the request's progress token.
func WithProgressToken(ctx context.Context, req mcp.CallToolRequest) context.Context {
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil {
		return ctx
	}
	return context.WithValue(ctx, progressKey{}, req.Params.Meta.ProgressToken)
}

type progress struct {
	ctx   context.Context
	token mcp.ProgressToken
	total float64
	last  float64
}

func newProgress(ctx context.Context, total int) *progress {
	tok, _ := ctx.Value(progressKey{}).(mcp.ProgressToken)
	return &progress{ctx: ctx, token: tok, total: float64(total), last: -1}
}

// report sends one notification when the client asked for progress and the
// progress advanced (the spec wants it to increase with each one).
func (p *progress) report(done float64, msg string) {
	if p.token == nil || done <= p.last {
		return
	}
	srv := server.ServerFromContext(p.ctx)
	if srv == nil {
		return
	}
	p.last = done
	_ = srv.SendNotificationToClient(p.ctx, "notifications/progress", map[string]any{
		"progressToken": p.token, "progress": done, "total": p.total, "message": msg,
	})
}
