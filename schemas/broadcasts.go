package schemas

import (
	"errors"
	"fmt"
	"time"

	"github.com/invopop/jsonschema"
)

// Broadcast statuses. Only scheduled and pending (queued to send now)
// broadcasts can still be changed or cancelled.
const (
	BroadcastScheduled = "scheduled"
	BroadcastPending   = "pending"
	BroadcastCancelled = "cancelled"
	BroadcastSent      = "sent"
)

// Broadcast limits, assumed: the docs publish no broadcast body, so these
// are this server's choices (README, "Where the API docs are silent"): a
// message is at most 10 SMS segments of 160 characters; a broadcast reaches
// 1 to 10,000 numbers.
const (
	MaxBroadcastMessage    = 1600
	MaxBroadcastRecipients = 10000
)

// ListBroadcastsArgs filters GET /broadcast.
type ListBroadcastsArgs struct {
	BroadcastName string `json:"broadcast_name,omitempty" jsonschema:"maxLength=255,description=Partial match"`
	AgentName     string `json:"agent_name,omitempty" jsonschema:"maxLength=255,description=Partial match"`
	Status        string `json:"status,omitempty" jsonschema:"enum=scheduled,enum=pending,enum=cancelled,enum=sent"`
	Start         string `json:"start,omitempty" jsonschema:"format=date-time,description=Send time from (ISO-8601 UTC)"`
	End           string `json:"end,omitempty" jsonschema:"format=date-time"`
	Page
}

// JSONSchemaExtend adds the documented limit: 1 to 200, default 100.
func (ListBroadcastsArgs) JSONSchemaExtend(s *jsonschema.Schema) { pageLimit(s, 200, 100) }

// Validate refuses a window that ends before it starts.
func (a ListBroadcastsArgs) Validate() error { return orderedRange(a.Start, a.End) }

// BroadcastCreate is the body of POST /broadcast.
type BroadcastCreate struct {
	BroadcastName string   `json:"broadcast_name" jsonschema:"required,minLength=1,maxLength=255"`
	Message       string   `json:"message" jsonschema:"required,minLength=1,maxLength=1600,description=Over 160 characters is sent as several SMS; the 1600 cap is assumed"`
	Recipients    []string `json:"recipients" jsonschema:"required,minItems=1,maxItems=10000,uniqueItems=true,pattern=^\\+?[0-9 ().-]{7\\,24}$"`
	FromNumber    string   `json:"from_number" jsonschema:"required,pattern=^\\+?[0-9 ().-]{7\\,24}$,description=Account's sending number (assumed required)"`
	ScheduledAt   string   `json:"scheduled_at,omitempty" jsonschema:"format=date-time,description=Future send time; omit to send now"`
	AgentName     string   `json:"agent_name,omitempty" jsonschema:"maxLength=255"`
	OrgUnitID     int64    `json:"org_unit_id,omitempty" jsonschema:"minimum=1"`
}

// Validate writes the numbers in E.164 and refuses a send time in the past.
func (a *BroadcastCreate) Validate() error {
	return errors.Join(normalisePhones("recipients", a.Recipients), normalisePhone("from_number", &a.FromNumber), futureTime(a.ScheduledAt))
}

// BroadcastReplace is the body of PUT /broadcast/:id: every editable field.
type BroadcastReplace struct {
	BroadcastName string   `json:"broadcast_name" jsonschema:"required,minLength=1,maxLength=255"`
	Message       string   `json:"message" jsonschema:"required,minLength=1,maxLength=1600"`
	Recipients    []string `json:"recipients" jsonschema:"required,minItems=1,maxItems=10000,uniqueItems=true,pattern=^\\+?[0-9 ().-]{7\\,24}$"`
	FromNumber    string   `json:"from_number" jsonschema:"required,pattern=^\\+?[0-9 ().-]{7\\,24}$"`
	ScheduledAt   string   `json:"scheduled_at" jsonschema:"required,format=date-time,description=Future send time"`
	AgentName     string   `json:"agent_name" jsonschema:"required,maxLength=255"`
}

// BroadcastPatch is the body of PATCH /broadcast/:id: any subset.
type BroadcastPatch struct {
	BroadcastName *string  `json:"broadcast_name,omitempty" jsonschema:"minLength=1,maxLength=255"`
	Message       *string  `json:"message,omitempty" jsonschema:"minLength=1,maxLength=1600"`
	Recipients    []string `json:"recipients,omitempty" jsonschema:"minItems=1,maxItems=10000,uniqueItems=true,pattern=^\\+?[0-9 ().-]{7\\,24}$,description=Replaces the whole list"`
	FromNumber    *string  `json:"from_number,omitempty" jsonschema:"pattern=^\\+?[0-9 ().-]{7\\,24}$"`
	ScheduledAt   *string  `json:"scheduled_at,omitempty" jsonschema:"format=date-time,description=Future send time"`
	AgentName     *string  `json:"agent_name,omitempty" jsonschema:"maxLength=255"`
}

// ReplaceBroadcastArgs are the arguments of replace_broadcast.
type ReplaceBroadcastArgs struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
	BroadcastReplace
}

// Validate writes the numbers in E.164 and refuses a send time in the past.
func (a *ReplaceBroadcastArgs) Validate() error {
	return errors.Join(normalisePhones("recipients", a.Recipients), normalisePhone("from_number", &a.FromNumber), futureTime(a.ScheduledAt))
}

// UpdateBroadcastArgs are the arguments of update_broadcast.
type UpdateBroadcastArgs struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
	BroadcastPatch
}

// Validate refuses an empty patch and a send time in the past, and writes
// the numbers in E.164.
func (a *UpdateBroadcastArgs) Validate() error {
	p := &a.BroadcastPatch
	if p.BroadcastName == nil && p.Message == nil && p.Recipients == nil && p.FromNumber == nil && p.ScheduledAt == nil && p.AgentName == nil {
		return errors.New("give at least one field to change besides id (broadcast_name, message, recipients, from_number, scheduled_at, agent_name)")
	}
	var when error
	if p.ScheduledAt != nil {
		when = futureTime(*p.ScheduledAt)
	}
	return errors.Join(normalisePhones("recipients", p.Recipients), normalisePhone("from_number", p.FromNumber), when)
}

func futureTime(v string) error {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("scheduled_at must be an ISO-8601 date-time with a time zone, e.g. 2026-12-01T15:00:00.000Z; got %q", v)
	}
	if !t.After(time.Now()) {
		return fmt.Errorf("scheduled_at %s is in the past; give a future time (UTC)", v)
	}
	return nil
}
