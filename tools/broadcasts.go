package tools

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

// maxShownRecipients bounds the recipients get_broadcast returns, so a
// 10,000-number broadcast does not flood the conversation.
const maxShownRecipients = 100

func broadcastTools() []Tool {
	return []Tool{
		Define(Spec{Name: "list_broadcasts", Title: "List SMS broadcasts", Class: policy.Read,
			Description: "SMS broadcasts, latest send time first: name, agent, status, send time, message, sender, recipient count. " +
				"start/end filter by send time. Paged, default 100."},
			func(ctx context.Context, d *Deps, a schemas.ListBroadcastsArgs) (*Page[convirza.Broadcast], error) {
				out, err := d.Convirza.Broadcasts.List(ctx, a)
				if err != nil {
					return nil, err
				}
				for i := range out.Items {
					out.Items[i].Recipients = nil
				}
				return offsetPage("broadcasts", out.Items, out.Total, a.Offset), nil
			}, ScopedList(broadcastUnit, func(a *schemas.ListBroadcastsArgs) (*int, *int) { return &a.Offset, &a.Limit }, 100, 200)),
		Define(Spec{Name: "get_broadcast", Title: "Get SMS broadcast", Class: policy.Read,
			Description: "One SMS broadcast by id with its recipients (the first 100 shown)."},
			func(ctx context.Context, d *Deps, a schemas.ID) (any, error) {
				b, err := d.Convirza.Broadcasts.Get(ctx, a.ID)
				if err != nil {
					return nil, err
				}
				v := broadcastView{Broadcast: *b}
				if len(b.Recipients) > maxShownRecipients {
					v.Recipients = b.Recipients[:maxShownRecipients]
					v.RecipientsNotShown = len(b.Recipients) - maxShownRecipients
				}
				return v, nil
			}, Owned(broadcastRecord.owner, idOf)),
		Define(Spec{Name: "create_broadcast", Title: "Send SMS broadcast", Class: policy.Costly,
			Description: "Send an SMS to up to 10,000 numbers (assumed cap), now or at scheduled_at. Costs money and reaches people outside " +
				"the account; needs the user's confirmation. Returns broadcast_id."},
			func(ctx context.Context, d *Deps, a schemas.BroadcastCreate) (any, error) {
				type sent struct {
					id   int64
					meta convirza.Meta
				}
				o, err := spending(ctx, d, policy.LimitRecipients, int64(len(a.Recipients)), func() (sent, error) {
					id, meta, err := d.Convirza.Broadcasts.Create(ctx, a)
					return sent{id, meta}, err
				})
				if err != nil {
					return nil, err
				}
				id, meta := o.id, o.meta
				return map[string]any{"status": "created", "broadcast_id": id, "broadcast_name": a.BroadcastName,
					"recipient_count": len(a.Recipients), "send_time": sendTime(a.ScheduledAt), "request_id": meta.RequestID}, nil
			},
			Confirm(previewCreateBroadcast),
			Names(func(a schemas.BroadcastCreate) []int64 { return units(a.OrgUnitID) }),
			Pins(func(a *schemas.BroadcastCreate, root int64) { a.OrgUnitID = root }),
			Resolves(func(ctx context.Context, d *Deps, a schemas.BroadcastCreate) ([]int64, error) {
				return senderUnit(ctx, d, a.FromNumber)
			})),
		Define(Spec{Name: "replace_broadcast", Title: "Replace SMS broadcast", Class: policy.Write, Idempotent: true,
			Description: "Replace every editable field of a scheduled or pending broadcast (PUT); needs the user's confirmation, like sending one. Use update_broadcast to change only some."},
			func(ctx context.Context, d *Deps, a schemas.ReplaceBroadcastArgs) (any, error) {
				meta, err := d.Convirza.Broadcasts.Replace(ctx, a.ID, a.BroadcastReplace)
				return written("replaced", "broadcast_id", a.ID, meta, err)
			},
			// It sets recipients, message, sender and send time: every call.
			ConfirmWhen(func(schemas.ReplaceBroadcastArgs) bool { return true }),
			Confirm(func(ctx context.Context, d *Deps, a schemas.ReplaceBroadcastArgs) (*policy.Preview, error) {
				b := a.BroadcastReplace
				return previewEditBroadcast(ctx, d, a.ID, broadcastEdit{&b.Message, b.Recipients, &b.FromNumber, &b.ScheduledAt})
			}),
			Owned(broadcastRecord.owner, func(a schemas.ReplaceBroadcastArgs) int64 { return a.ID }),
			Resolves(func(ctx context.Context, d *Deps, a schemas.ReplaceBroadcastArgs) ([]int64, error) {
				return senderUnit(ctx, d, a.FromNumber)
			})),
		Define(Spec{Name: "update_broadcast", Title: "Update SMS broadcast", Class: policy.Write, Idempotent: true,
			Description: "Change some fields of a scheduled or pending broadcast (PATCH); changing message, recipients, from_number or scheduled_at needs the user's confirmation."},
			func(ctx context.Context, d *Deps, a schemas.UpdateBroadcastArgs) (any, error) {
				meta, err := d.Convirza.Broadcasts.Update(ctx, a.ID, a.BroadcastPatch)
				return written("updated", "broadcast_id", a.ID, meta, err)
			},
			ConfirmWhen(func(a schemas.UpdateBroadcastArgs) bool {
				p := a.BroadcastPatch
				return p.Message != nil || p.Recipients != nil || p.FromNumber != nil || p.ScheduledAt != nil
			}),
			Confirm(func(ctx context.Context, d *Deps, a schemas.UpdateBroadcastArgs) (*policy.Preview, error) {
				p := a.BroadcastPatch
				return previewEditBroadcast(ctx, d, a.ID, broadcastEdit{p.Message, p.Recipients, p.FromNumber, p.ScheduledAt})
			}),
			Owned(broadcastRecord.owner, func(a schemas.UpdateBroadcastArgs) int64 { return a.ID }),
			Resolves(func(ctx context.Context, d *Deps, a schemas.UpdateBroadcastArgs) ([]int64, error) {
				if a.FromNumber == nil {
					return nil, nil
				}
				return senderUnit(ctx, d, *a.FromNumber)
			})),
		Define(Spec{Name: "delete_broadcast", Title: "Cancel SMS broadcast", Class: policy.Destructive, Idempotent: true,
			Description: "Cancel a scheduled or pending broadcast so it is never sent; it cannot be reactivated. Impossible once sent. " +
				"Needs the user's confirmation."},
			func(ctx context.Context, d *Deps, a schemas.ID) (any, error) {
				meta, err := d.Convirza.Broadcasts.Cancel(ctx, a.ID)
				return written("cancelled", "broadcast_id", a.ID, meta, err)
			}, Confirm(previewCancelBroadcast), Owned(broadcastRecord.owner, idOf)),
	}
}

func broadcastUnit(b convirza.Broadcast) (int64, bool) { return b.OrgUnitID, true }

// senderUnit is the org unit holding a broadcast's sending number: under a
// scope, a broadcast is sent only from the scope's own numbers.
func senderUnit(ctx context.Context, d *Deps, from string) ([]int64, error) {
	if from == "" {
		return nil, nil
	}
	return heldNumberUnit(ctx, d, from, "from_number ")
}

// broadcastEdit is what an edit changes that makes it cost like a send;
// nil: left as it is.
type broadcastEdit struct {
	message    *string
	recipients []string
	from, at   *string
}

// previewEditBroadcast reads the broadcast and says what the edit changes
// about who receives it and what it says, or why it cannot be edited.
func previewEditBroadcast(ctx context.Context, d *Deps, id int64, e broadcastEdit) (*policy.Preview, error) {
	b, err := d.Convirza.Broadcasts.Get(ctx, id)
	if err != nil {
		if upstream.IsNotFound(err) {
			return &policy.Preview{Blocked: fmt.Sprintf("Broadcast %d does not exist.", id)}, nil
		}
		return nil, err
	}
	label := fmt.Sprintf("broadcast %d %q", id, b.BroadcastName)
	switch b.Status {
	case schemas.BroadcastSent:
		return &policy.Preview{Blocked: fmt.Sprintf("Cannot change %s: it was already sent.", label)}, nil
	case schemas.BroadcastCancelled:
		return &policy.Preview{Blocked: fmt.Sprintf("Cannot change %s: it is cancelled.", label)}, nil
	}
	var changes []string
	details := map[string]any{"broadcast_id": id, "broadcast_name": b.BroadcastName, "status": b.Status}
	recipients, message, from, at := b.RecipientCount, b.Message, b.FromNumber, b.ScheduledAt
	if e.recipients != nil {
		changes = append(changes, fmt.Sprintf("recipients %d → %d", b.RecipientCount, len(e.recipients)))
		recipients = len(e.recipients)
		details["first_recipients"] = firstN(e.recipients, 3)
	}
	if e.message != nil && *e.message != b.Message {
		changes = append(changes, fmt.Sprintf("message '%s'", clip(*e.message, 30)))
		message = *e.message
	}
	if e.from != nil && schemas.Digits(*e.from) != schemas.Digits(b.FromNumber) {
		changes = append(changes, "from "+phoneLabel(*e.from))
		from = *e.from
	}
	if e.at != nil && *e.at != b.ScheduledAt {
		changes = append(changes, "send time "+sendTime(*e.at))
		at = *e.at
	}
	segments := smsSegments(message)
	details["recipient_count"], details["message"], details["from_number"], details["send_time"] = recipients, clip(message, 160), from, sendTime(at)
	details["segments_total"] = segments * recipients
	what := "no change to who receives it or what it says"
	if len(changes) > 0 {
		what = strings.Join(changes, ", ")
	}
	return &policy.Preview{
		Action: fmt.Sprintf("Change %s: %s. It will send '%s' from %s to %s at %s; this costs money.",
			label, what, clip(message, 30), phoneLabel(from), plural(recipients, "recipient", "recipients"), sendTime(at)),
		Details: details,
	}, nil
}

// broadcastView is get_broadcast's answer: the broadcast, its recipients
// cut to maxShownRecipients.
type broadcastView struct {
	convirza.Broadcast
	RecipientsNotShown int `json:"recipients_not_shown,omitempty"`
}

// previewCreateBroadcast says what will be sent, from where, to how many
// people and when.
func previewCreateBroadcast(ctx context.Context, d *Deps, a schemas.BroadcastCreate) (*policy.Preview, error) {
	if p, err := overLimit(ctx, d, policy.LimitRecipients, int64(len(a.Recipients))); p != nil || err != nil {
		return p, err
	}
	segments := smsSegments(a.Message)
	when := sendTime(a.ScheduledAt)
	at := "at " + when
	if a.ScheduledAt == "" {
		at = "now"
	}
	return &policy.Preview{
		Action: fmt.Sprintf("Send SMS '%s' from %s to %s %s. This costs money and cannot be unsent.",
			clip(a.Message, 30), phoneLabel(a.FromNumber), plural(len(a.Recipients), "recipient", "recipients"), at),
		Details: map[string]any{
			"broadcast_name":   a.BroadcastName,
			"from_number":      a.FromNumber,
			"recipient_count":  len(a.Recipients),
			"send_time":        when,
			"message":          clip(a.Message, 160),
			"message_chars":    utf8.RuneCountInString(a.Message),
			"segments_each":    segments,
			"segments_total":   segments * len(a.Recipients),
			"first_recipients": firstN(a.Recipients, 3),
		},
	}, nil
}

// previewCancelBroadcast reads the broadcast and says what cancelling it
// stops, or why it cannot be cancelled.
func previewCancelBroadcast(ctx context.Context, d *Deps, a schemas.ID) (*policy.Preview, error) {
	b, err := d.Convirza.Broadcasts.Get(ctx, a.ID)
	if err != nil {
		if upstream.IsNotFound(err) {
			return &policy.Preview{Blocked: fmt.Sprintf("Broadcast %d does not exist.", a.ID)}, nil
		}
		return nil, err
	}
	label := fmt.Sprintf("broadcast %d %q", a.ID, b.BroadcastName)
	details := map[string]any{
		"broadcast_id":     a.ID,
		"broadcast_name":   b.BroadcastName,
		"status":           b.Status,
		"recipient_count":  b.RecipientCount,
		"first_recipients": firstN(b.Recipients, 3),
		"scheduled_at":     b.ScheduledAt,
		"from_number":      b.FromNumber,
		"message":          clip(b.Message, 160),
	}
	switch b.Status {
	case schemas.BroadcastSent:
		at := ""
		if b.SentAt != "" {
			at = " at " + sendTime(b.SentAt)
		}
		return &policy.Preview{Details: details, Blocked: fmt.Sprintf("Cannot cancel %s: it was already sent%s to %s.", label, at, plural(b.RecipientCount, "recipient", "recipients"))}, nil
	case schemas.BroadcastCancelled:
		return &policy.Preview{Details: details, Blocked: fmt.Sprintf("Cannot cancel %s: it is already cancelled.", label)}, nil
	}
	when := "queued to send now"
	if b.ScheduledAt != "" {
		when = "scheduled for " + sendTime(b.ScheduledAt)
	}
	who := ""
	if len(b.Recipients) > 0 {
		shown := make([]string, 0, 3)
		for _, p := range firstN(b.Recipients, 3) {
			shown = append(shown, phoneLabel(p))
		}
		if len(b.Recipients) > len(shown) {
			shown = append(shown, "…")
		}
		who = " (" + strings.Join(shown, ", ") + ")"
	}
	return &policy.Preview{
		Action: fmt.Sprintf("Cancel %s to %s%s, %s. It will not be sent and cannot be reactivated through the API.",
			label, plural(b.RecipientCount, "recipient", "recipients"), who, when),
		Details:  details,
		Snapshot: b,
	}, nil
}

// sendTime renders an ISO time as 2026-12-01T15:00Z (seconds when they
// matter); empty means now.
func sendTime(iso string) string {
	if iso == "" {
		return "now"
	}
	t, err := time.Parse(time.RFC3339Nano, iso)
	if err != nil {
		return iso
	}
	t = t.UTC()
	if t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04Z")
	}
	return t.Format("2006-01-02T15:04:05Z")
}

// clip shortens s to at most n runes, at a word boundary when it can,
// marking the cut with an ellipsis.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:") + "…"
}

// smsSegments estimates how many SMS one message takes: 160 GSM-7
// characters in one, 153 per part when split; 70 and 67 with other characters.
func smsSegments(msg string) int {
	n := utf8.RuneCountInString(msg)
	single, multi := 160, 153
	for _, r := range msg {
		if r > 0x7E || (r < 0x20 && r != '\n' && r != '\r') {
			single, multi = 70, 67
			break
		}
	}
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

func firstN(list []string, n int) []string {
	if len(list) > n {
		return list[:n]
	}
	return list
}
