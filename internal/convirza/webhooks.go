package convirza

import (
	"context"

	"github.com/convirza/convirza-mcp/schemas"
)

// WebhooksService calls the /webhooks endpoints. Admin only.
type WebhooksService struct{ r resource[Webhook] }

// List returns webhooks matching the filter (GET /webhooks/list).
func (s *WebhooksService) List(ctx context.Context, f schemas.ListWebhooksArgs) (*List[Webhook], error) {
	out, _, err := s.r.list(ctx, Query(f))
	return out, err
}

// Get returns one webhook (GET /webhooks/:id).
func (s *WebhooksService) Get(ctx context.Context, id int64) (*Webhook, error) {
	out, _, err := s.r.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if out.WebhookID == 0 {
		out.WebhookID = id
	}
	return out, nil
}

// Create makes a webhook (POST /webhooks) and returns its id.
func (s *WebhooksService) Create(ctx context.Context, w schemas.WebhookCreate) (int64, Meta, error) {
	return s.r.create(ctx, w)
}

// Replace updates every editable field (PUT /webhooks/:id).
func (s *WebhooksService) Replace(ctx context.Context, id int64, w schemas.WebhookReplace) (Meta, error) {
	return s.r.replace(ctx, id, w)
}

// Update changes some fields (PATCH /webhooks/:id).
func (s *WebhooksService) Update(ctx context.Context, id int64, p schemas.WebhookPatch) (Meta, error) {
	return s.r.update(ctx, id, p)
}

// Delete deletes a webhook (DELETE /webhooks/:id).
func (s *WebhooksService) Delete(ctx context.Context, id int64) (Meta, error) {
	return s.r.delete(ctx, id)
}

// Webhook is one webhook as GET /webhooks/list and /webhooks/:id return it.
type Webhook struct {
	WebhookID       int64                 `json:"webhook_id"`
	WebhookName     string                `json:"webhook_name,omitempty"`
	WebhookURL      string                `json:"webhook_url,omitempty"`
	Method          string                `json:"method,omitempty"`
	WebhookType     string                `json:"webhook_type,omitempty"`
	OrgUnitID       int64                 `json:"org_unit_id,omitempty"`
	OrgUnitName     string                `json:"org_unit_name,omitempty"`
	StaticParams    []schemas.StaticParam `json:"static_params,omitempty"`
	Status          string                `json:"status,omitempty"`
	WebhookCreated  string                `json:"webhook_created,omitempty"`
	WebhookModified string                `json:"webhook_modified,omitempty"`
}
