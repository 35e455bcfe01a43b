package tools

import (
	"context"
	"fmt"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

func webhookTools() []Tool {
	return []Tool{
		Define(Spec{Name: "list_webhooks", Title: "List webhooks", Class: policy.Read,
			Description: "List webhooks (pre-call and post-call HTTP callbacks) of an org unit and its sub-groups, default the whole account. Deleted ones only with status=deleted. Paged."},
			func(ctx context.Context, d *Deps, a schemas.ListWebhooksArgs) (*Page[convirza.Webhook], error) {
				out, err := d.Convirza.Webhooks.List(ctx, a)
				return pageOf("webhooks", a.Offset, out, err)
			}, Names(func(a schemas.ListWebhooksArgs) []int64 { return units(a.OrgUnitID) }), Pins(func(a *schemas.ListWebhooksArgs, root int64) { a.OrgUnitID = root })),
		Define(Spec{Name: "get_webhook", Title: "Get webhook", Class: policy.Read,
			Description: "Get one webhook by id: URL, method, type, org unit, static params, status."},
			func(ctx context.Context, d *Deps, a schemas.ID) (any, error) {
				return d.Convirza.Webhooks.Get(ctx, a.ID)
			}, Owned(webhookRecord.owner, idOf)),
		Define(Spec{Name: "create_webhook", Title: "Create webhook", Class: policy.Write,
			Description: "Create a webhook on an org unit (its sub-groups inherit it): pre_call fires as a call comes in, post_call after it ends. Returns the new webhook_id."},
			func(ctx context.Context, d *Deps, a schemas.WebhookCreate) (any, error) {
				id, meta, err := d.Convirza.Webhooks.Create(ctx, a)
				return created("webhook_id", id, "webhook_name", a.WebhookName, meta, err)
			}, Names(func(a schemas.WebhookCreate) []int64 { return units(a.OrgUnitID) })),
		Define(Spec{Name: "replace_webhook", Title: "Replace webhook", Class: policy.Write, Idempotent: true,
			Description: "Replace all editable fields of a webhook (PUT). Use update_webhook to change only some."},
			func(ctx context.Context, d *Deps, a schemas.ReplaceWebhookArgs) (any, error) {
				meta, err := d.Convirza.Webhooks.Replace(ctx, a.ID, a.WebhookReplace)
				return written("replaced", "webhook_id", a.ID, meta, err)
			}, Names(func(a schemas.ReplaceWebhookArgs) []int64 { return units(a.OrgUnitID) }), Owned(webhookRecord.owner, func(a schemas.ReplaceWebhookArgs) int64 { return a.ID })),
		Define(Spec{Name: "update_webhook", Title: "Update webhook", Class: policy.Write, Idempotent: true,
			Description: "Change some fields of a webhook (PATCH), e.g. status inactive to pause it; fields left out stay as they are."},
			func(ctx context.Context, d *Deps, a schemas.UpdateWebhookArgs) (any, error) {
				meta, err := d.Convirza.Webhooks.Update(ctx, a.ID, a.WebhookPatch)
				return written("updated", "webhook_id", a.ID, meta, err)
			}, Names(func(a schemas.UpdateWebhookArgs) []int64 { return unitPtr(a.OrgUnitID) }), Owned(webhookRecord.owner, func(a schemas.UpdateWebhookArgs) int64 { return a.ID })),
		Define(Spec{Name: "delete_webhook", Title: "Delete webhook", Class: policy.Destructive, Idempotent: true,
			Description: "Delete a webhook: it stops firing for its org unit and every sub-group; not reversible through the API (to pause, update status instead). Needs the user's confirmation."},
			byIDs(func(ctx context.Context, d *Deps, id int64) (any, error) {
				meta, err := d.Convirza.Webhooks.Delete(ctx, id)
				return deleted(ctx, "webhook_id", id, meta, err, webhookRecord.statusOf(d, id))
			}), Confirm(previewIDs("Delete", "deleted", "webhooks", previewDeleteWebhook)), ownedIDs(webhookRecord.owner)),
	}
}

// previewDeleteWebhook names the webhook, its URL and its org unit, and
// counts the sub-groups that inherit it.
func previewDeleteWebhook(ctx context.Context, d *Deps, a schemas.ID) (*policy.Preview, error) {
	w, label, blocked, err := webhookRecord.deletable(ctx, d, a.ID, func(w *convirza.Webhook) string {
		return fmt.Sprintf("webhook %d %q", a.ID, w.WebhookName)
	})
	if w == nil {
		return blocked, err
	}
	unit := w.OrgUnitName
	if unit == "" {
		if g, err := d.Convirza.Groups.Get(ctx, w.OrgUnitID); err == nil {
			unit = g.OrgUnitName
		}
	}
	details := map[string]any{
		"webhook_id":    a.ID,
		"webhook_name":  w.WebhookName,
		"webhook_url":   w.WebhookURL,
		"method":        w.Method,
		"webhook_type":  w.WebhookType,
		"status":        w.Status,
		"org_unit_id":   w.OrgUnitID,
		"org_unit_name": unit,
	}
	inherit := "every sub-group, which inherits it"
	if ids, err := d.Convirza.Groups.Hierarchy(ctx, w.OrgUnitID); err == nil && len(ids) > 0 {
		n := len(ids) - 1
		details["inheriting_sub_groups"] = n
		inherit = fmt.Sprintf("its %d sub-group(s), which inherit it", n)
	}
	return &policy.Preview{
		Action: fmt.Sprintf("Delete %s (%s %s %s) of group %d %q and %s; soft delete, not reversible through the API.",
			label, w.WebhookType, w.Method, w.WebhookURL, w.OrgUnitID, unit, inherit),
		Details:  details,
		Snapshot: w,
	}, nil
}
