package convirza

import (
	"github.com/convirza/convirza-mcp/schemas"
)

// WebhooksService calls the /webhooks endpoints. Admin only.
type WebhooksService = Records[Webhook, schemas.ListWebhooksArgs, schemas.WebhookCreate, schemas.WebhookReplace, schemas.WebhookPatch]

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
