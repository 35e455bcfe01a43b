package schemas

import (
	"errors"
	"fmt"
	"time"

	"github.com/invopop/jsonschema"
)

// Call history window rules of GET /conversations/calls: without dates the
// API answers the last 7 days; a missing end is now and a missing start is
// 7 days before end; a window may span at most 31 days.
const (
	DefaultCallWindow = 7 * 24 * time.Hour
	MaxCallWindowDays = 31
)

// CallIncludes are the blocks GET /conversations/calls can add to each call.
var CallIncludes = []string{"tags", "comments", "custom_sources", "call_flow", "recordings", "transcription"}

// ListCallsArgs filters GET /conversations/calls.
type ListCallsArgs struct {
	Start              string   `json:"start,omitempty" jsonschema:"format=date-time,description=Default 7 days before end"`
	End                string   `json:"end,omitempty" jsonschema:"format=date-time,description=Default now; at most 31 days after start"`
	OrgUnitID          int64    `json:"org_unit_id,omitempty" jsonschema:"minimum=1,description=Includes its sub-groups"`
	CampaignID         int64    `json:"campaign_id,omitempty" jsonschema:"minimum=1"`
	ProvisionedRouteID int64    `json:"provisioned_route_id,omitempty" jsonschema:"minimum=1"`
	CallerID           string   `json:"caller_id,omitempty" jsonschema:"pattern=^\\+?[0-9 ().-]{7\\,24}$,description=e.g. +18005551234; 10 digits mean +1"`
	PhoneNumber        string   `json:"phone_number,omitempty" jsonschema:"pattern=^\\+?[0-9]{7\\,15}$,description=Tracking number"`
	RingTo             string   `json:"ring_to,omitempty" jsonschema:"pattern=^\\+?[0-9]{7\\,15}$"`
	Disposition        []string `json:"disposition,omitempty" jsonschema:"uniqueItems=true,enum=ANSWERED,enum=NO ANSWER,enum=BUSY,enum=FAILED,enum=VOICEMAIL,enum=ABANDONED,enum=TRANSFERRED"`
	Include            []string `json:"include,omitempty" jsonschema:"uniqueItems=true,enum=tags,enum=comments,enum=custom_sources,enum=call_flow,enum=recordings,enum=transcription"`
	Page
}

// JSONSchemaExtend adds the documented limit: 1 to 200, default 50.
func (ListCallsArgs) JSONSchemaExtend(s *jsonschema.Schema) { pageLimit(s, 200, 50) }

// Validate writes caller_id in E.164, as the docs' example does, and
// applies the window rules the schema cannot say, as the API does, so a bad
// window is refused before any request.
func (a *ListCallsArgs) Validate() error {
	if err := normalisePhone("caller_id", &a.CallerID); err != nil {
		return err
	}
	start, end, err := parseRange(a.Start, a.End)
	if err != nil {
		return err
	}
	switch {
	case start.IsZero():
		// No start: the API takes the 7 days before end (or now).
		return nil
	case end.IsZero():
		end = time.Now()
		if !end.After(start) {
			return fmt.Errorf("start %s is in the future; without end the window ends now: give an end after start", a.Start)
		}
	case !end.After(start):
		return fmt.Errorf("end %s must be after start %s", a.End, a.Start)
	}
	if span := end.Sub(start); span > MaxCallWindowDays*24*time.Hour {
		to := a.End
		if to == "" {
			to = "now"
		}
		return fmt.Errorf("start %s to end %s spans %s; the calls API allows at most %d days per request: narrow the window or split it into consecutive windows of at most %d days",
			a.Start, to, days(span), MaxCallWindowDays, MaxCallWindowDays)
	}
	return nil
}

// GetCallArgs names one call (GET /conversations/calls?call_id=).
type GetCallArgs struct {
	ID      int64    `json:"id" jsonschema:"required,minimum=1,description=call_id"`
	Include []string `json:"include,omitempty" jsonschema:"uniqueItems=true,enum=tags,enum=comments,enum=custom_sources,enum=call_flow,enum=recordings,enum=transcription,description=Default all"`
}

// ListSMSArgs filters GET /conversations/sms.
type ListSMSArgs struct {
	Type   string `json:"type,omitempty" jsonschema:"enum=allOpen,enum=assignedToYou,enum=unassigned,enum=close,default=allOpen"`
	Search string `json:"search,omitempty" jsonschema:"maxLength=255"`
	Order  string `json:"order,omitempty" jsonschema:"enum=desc,enum=asc,default=desc,description=By last message"`
	Start  string `json:"start,omitempty" jsonschema:"format=date-time"`
	End    string `json:"end,omitempty" jsonschema:"format=date-time"`
	Limit  int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=200,default=7"`
	Offset int    `json:"offset,omitempty" jsonschema:"minimum=0"`
}

// Validate refuses a window that ends before it starts.
func (a ListSMSArgs) Validate() error { return orderedRange(a.Start, a.End) }

// parseRange reads optional ISO-8601 start and end times (zero when absent).
func parseRange(startS, endS string) (start, end time.Time, err error) {
	parse := func(name, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s must be an ISO-8601 date-time with a time zone, e.g. 2026-01-01T00:00:00.000Z; got %q", name, v)
		}
		return t, nil
	}
	if start, err = parse("start", startS); err != nil {
		return
	}
	end, err = parse("end", endS)
	return
}

// orderedRange refuses start and end given with end not after start.
func orderedRange(startS, endS string) error {
	start, end, err := parseRange(startS, endS)
	if err != nil {
		return err
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		return errors.New("end " + endS + " must be after start " + startS)
	}
	return nil
}

func days(d time.Duration) string {
	n := d.Hours() / 24
	if n == float64(int64(n)) {
		return fmt.Sprintf("%d days", int64(n))
	}
	return fmt.Sprintf("%.1f days", n)
}

// MaxSummaryDays is the longest window summarize_calls walks (in 31-day
// windows of GET /conversations/calls).
const MaxSummaryDays = 400

// SummaryGroups are the keys summarize_calls can group calls by.
var SummaryGroups = []string{"org_unit", "day", "hour", "disposition", "ad_source", "tracking_number"}

// SummarizeCallsArgs asks for call counts over up to 400 days, grouped;
// the filters are list_calls' (but caller_id and ring_to: a summary of one
// caller is a list_calls away, and the catalog is read on every turn).
type SummarizeCallsArgs struct {
	Start              string   `json:"start,omitempty" jsonschema:"format=date-time,description=Default end-30d"`
	End                string   `json:"end,omitempty" jsonschema:"format=date-time,description=Default now"`
	Timezone           string   `json:"timezone,omitempty" jsonschema:"maxLength=64,description=IANA"`
	GroupBy            []string `json:"group_by,omitempty" jsonschema:"uniqueItems=true,enum=org_unit,enum=day,enum=hour,enum=disposition,enum=ad_source,enum=tracking_number,description=Default org_unit"`
	OrgUnitID          int64    `json:"org_unit_id,omitempty" jsonschema:"minimum=1"`
	ProvisionedRouteID int64    `json:"provisioned_route_id,omitempty" jsonschema:"minimum=1"`
	PhoneNumber        string   `json:"phone_number,omitempty" jsonschema:"pattern=^\\+?[0-9]{7\\,15}$"`
	Disposition        []string `json:"disposition,omitempty" jsonschema:"uniqueItems=true,enum=ANSWERED,enum=NO ANSWER,enum=BUSY,enum=FAILED,enum=VOICEMAIL,enum=ABANDONED,enum=TRANSFERRED"`
}

// Window resolves the summary's window and time zone: end defaults to now,
// start to 30 days before end.
func (a *SummarizeCallsArgs) Window(now time.Time) (start, end time.Time, loc *time.Location, err error) {
	start, end, err = parseRange(a.Start, a.End)
	if err != nil {
		return
	}
	if end.IsZero() {
		end = now
	}
	if start.IsZero() {
		start = end.Add(-30 * 24 * time.Hour)
	}
	loc = time.UTC
	if a.Timezone != "" {
		if loc, err = time.LoadLocation(a.Timezone); err != nil || a.Timezone == "Local" {
			return start, end, nil, fmt.Errorf("timezone %q is not an IANA time zone name such as America/Denver or UTC", a.Timezone)
		}
	}
	return start, end, loc, nil
}

// Validate checks the window (at most 400 days, end after start) and the
// time zone.
func (a *SummarizeCallsArgs) Validate() error {
	start, end, _, err := a.Window(time.Now())
	if err != nil {
		return err
	}
	if !end.After(start) {
		return fmt.Errorf("end must be after start (start %s, end %s)", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	limit := MaxSummaryDays * 24 * time.Hour
	if a.End == "" {
		limit += time.Minute // "now" moves on between the caller's clock and this one
	}
	if span := end.Sub(start); span > limit {
		return fmt.Errorf("the window spans %s; summarize_calls covers at most %d days: narrow it or summarize consecutive windows", days(span), MaxSummaryDays)
	}
	return nil
}

// Calls is the list_calls query of one window of the summary.
func (a SummarizeCallsArgs) Calls(start, end time.Time) ListCallsArgs {
	return ListCallsArgs{
		Start: start.UTC().Format("2006-01-02T15:04:05.000Z"), End: end.UTC().Format("2006-01-02T15:04:05.000Z"),
		OrgUnitID: a.OrgUnitID, ProvisionedRouteID: a.ProvisionedRouteID,
		PhoneNumber: a.PhoneNumber, Disposition: a.Disposition,
	}
}
