package schemas

import "errors"

// Webhook kinds.
const (
	WebhookPreCall  = "pre_call"
	WebhookPostCall = "post_call"
)

// ListWebhooksArgs filters GET /webhooks/list. The docs give limit a
// minimum of 0 and no maximum or default.
type ListWebhooksArgs struct {
	OrgUnitID   int64  `json:"org_unit_id,omitempty" jsonschema:"minimum=1,description=Default the account's unit; includes sub-groups"`
	WebhookName string `json:"webhook_name,omitempty" jsonschema:"maxLength=255,description=Partial match"`
	Filter      string `json:"filter,omitempty" jsonschema:"maxLength=255,description=Partial match on name or URL"`
	Status      string `json:"status,omitempty" jsonschema:"enum=active,enum=inactive,enum=deleted"`
	Limit       int    `json:"limit,omitempty" jsonschema:"minimum=0"`
	Offset      int    `json:"offset,omitempty" jsonschema:"minimum=0"`
}

// StaticParam is a fixed name/value pair sent with every webhook request.
type StaticParam struct {
	Name  string `json:"name" jsonschema:"required,minLength=1,maxLength=100"`
	Value string `json:"value" jsonschema:"required,maxLength=1000"`
}

// WebhookCreate is the body of POST /webhooks.
type WebhookCreate struct {
	WebhookName  string        `json:"webhook_name" jsonschema:"required,minLength=1,maxLength=255"`
	WebhookURL   string        `json:"webhook_url" jsonschema:"required,format=uri,maxLength=2048,pattern=^https://"`
	WebhookType  string        `json:"webhook_type" jsonschema:"required,enum=pre_call,enum=post_call"`
	OrgUnitID    int64         `json:"org_unit_id" jsonschema:"required,minimum=1,description=Sub-groups inherit the webhook"`
	Method       string        `json:"method,omitempty" jsonschema:"enum=GET,enum=POST,description=Default POST"`
	StaticParams []StaticParam `json:"static_params,omitempty" jsonschema:"maxItems=20"`
	Status       string        `json:"status,omitempty" jsonschema:"enum=active,enum=inactive"`
}

// WebhookReplace is the body of PUT /webhooks/:id: every editable field.
type WebhookReplace struct {
	WebhookName  string        `json:"webhook_name" jsonschema:"required,minLength=1,maxLength=255"`
	WebhookURL   string        `json:"webhook_url" jsonschema:"required,format=uri,maxLength=2048,pattern=^https://"`
	WebhookType  string        `json:"webhook_type" jsonschema:"required,enum=pre_call,enum=post_call"`
	OrgUnitID    int64         `json:"org_unit_id" jsonschema:"required,minimum=1"`
	Method       string        `json:"method" jsonschema:"required,enum=GET,enum=POST"`
	StaticParams []StaticParam `json:"static_params" jsonschema:"required,maxItems=20"`
	Status       string        `json:"status" jsonschema:"required,enum=active,enum=inactive"`
}

// WebhookPatch is the body of PATCH /webhooks/:id: any subset.
type WebhookPatch struct {
	WebhookName  *string        `json:"webhook_name,omitempty" jsonschema:"minLength=1,maxLength=255"`
	WebhookURL   *string        `json:"webhook_url,omitempty" jsonschema:"format=uri,maxLength=2048,pattern=^https://"`
	WebhookType  *string        `json:"webhook_type,omitempty" jsonschema:"enum=pre_call,enum=post_call"`
	OrgUnitID    *int64         `json:"org_unit_id,omitempty" jsonschema:"minimum=1"`
	Method       *string        `json:"method,omitempty" jsonschema:"enum=GET,enum=POST"`
	StaticParams *[]StaticParam `json:"static_params,omitempty" jsonschema:"maxItems=20,description=Replaces the whole list; [] clears it"`
	Status       *string        `json:"status,omitempty" jsonschema:"enum=active,enum=inactive"`
}

// ReplaceWebhookArgs are the arguments of replace_webhook.
type ReplaceWebhookArgs struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
	WebhookReplace
}

// UpdateWebhookArgs are the arguments of update_webhook.
type UpdateWebhookArgs struct {
	ID int64 `json:"id" jsonschema:"required,minimum=1"`
	WebhookPatch
}

// Validate refuses a patch that changes nothing.
func (a UpdateWebhookArgs) Validate() error {
	if a.WebhookPatch == (WebhookPatch{}) {
		return errors.New("give at least one field to change besides id (webhook_name, webhook_url, webhook_type, org_unit_id, method, static_params, status)")
	}
	return nil
}
