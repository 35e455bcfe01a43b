package convirza

import (
	"context"

	"github.com/convirza/convirza-mcp/schemas"
)

// BroadcastsService calls the /broadcast endpoints (SMS broadcasts).
type BroadcastsService struct{ r resource[Broadcast] }

// List returns broadcasts matching the filter (GET /broadcast).
func (s *BroadcastsService) List(ctx context.Context, f schemas.ListBroadcastsArgs) (*List[Broadcast], error) {
	out, _, err := s.r.list(ctx, Query(f))
	if err != nil {
		return nil, err
	}
	for i := range out.Items {
		fillCount(&out.Items[i])
	}
	return out, nil
}

// Get returns one broadcast with its recipients (GET /broadcast/:id).
func (s *BroadcastsService) Get(ctx context.Context, id int64) (*Broadcast, error) {
	out, _, err := s.r.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if out.BroadcastID == 0 {
		out.BroadcastID = id
	}
	fillCount(out)
	return out, nil
}

func fillCount(b *Broadcast) {
	if b.RecipientCount == 0 {
		b.RecipientCount = len(b.Recipients)
	}
}

// Create schedules or queues a broadcast (POST /broadcast) and returns its id.
func (s *BroadcastsService) Create(ctx context.Context, b schemas.BroadcastCreate) (int64, Meta, error) {
	return s.r.create(ctx, b)
}

// Replace updates every editable field (PUT /broadcast/:id).
func (s *BroadcastsService) Replace(ctx context.Context, id int64, b schemas.BroadcastReplace) (Meta, error) {
	return s.r.replace(ctx, id, b)
}

// Update changes some fields (PATCH /broadcast/:id).
func (s *BroadcastsService) Update(ctx context.Context, id int64, p schemas.BroadcastPatch) (Meta, error) {
	return s.r.update(ctx, id, p)
}

// Cancel cancels a scheduled or pending broadcast (DELETE /broadcast/:id).
func (s *BroadcastsService) Cancel(ctx context.Context, id int64) (Meta, error) {
	return s.r.delete(ctx, id)
}

// Broadcast is one SMS broadcast as GET /broadcast and GET /broadcast/:id
// return it (the list carries recipient_count, the details the recipients).
type Broadcast struct {
	BroadcastID       int64    `json:"broadcast_id"`
	BroadcastName     string   `json:"broadcast_name,omitempty"`
	AgentName         string   `json:"agent_name,omitempty"`
	Status            string   `json:"status,omitempty"`
	ScheduledAt       string   `json:"scheduled_at,omitempty"`
	SentAt            string   `json:"sent_at,omitempty"`
	Message           string   `json:"message,omitempty"`
	FromNumber        string   `json:"from_number,omitempty"`
	RecipientCount    int      `json:"recipient_count,omitempty"`
	Recipients        []string `json:"recipients,omitempty"`
	OrgUnitID         int64    `json:"org_unit_id,omitempty"`
	BroadcastCreated  string   `json:"broadcast_created,omitempty"`
	BroadcastModified string   `json:"broadcast_modified,omitempty"`
}
