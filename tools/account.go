package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

func accountTools() []Tool {
	return []Tool{
		Define(Spec{Name: "get_profile", Title: "Get my profile", Class: policy.Read,
			Description: "Who this server is logged in as: user id, email, role and org_unit_id (the top of what they can see), from the login answer; with given tokens, from GET /auth/profile (assumed)."},
			func(ctx context.Context, d *Deps, _ schemas.NoArgs) (any, error) {
				return d.Convirza.Account.Profile(ctx)
			}, AccountWide()),
		Define(Spec{Name: "list_industries", Title: "List industries", Class: policy.Read,
			Description: "List industries, the values of a group's industry_id. Filter by name, group or id."},
			func(ctx context.Context, d *Deps, a schemas.ListIndustriesArgs) (*Page[convirza.Industry], error) {
				out, err := d.Convirza.Account.Industries(ctx, a)
				return pageOf("industries", 0, out, err)
			}, AccountWide()),
		Define(Spec{Name: "list_ad_sources", Title: "List ad sources", Class: policy.Read,
			Description: "List the ad sources (marketing channels calls are attributed to) available to the account."},
			func(ctx context.Context, d *Deps, _ schemas.NoArgs) (*Page[convirza.AdSource], error) {
				out, err := d.Convirza.Account.AdSources(ctx)
				return pageOf("ad_sources", 0, out, err)
			}, ScopedList(adSourceUnit, noPaging[schemas.NoArgs], 0, 0)),
		Define(Spec{Name: "list_tags", Title: "List tags", Class: policy.Read,
			Description: "List the call tags an org unit uses (its own user tags and the account's system tags) with how many calls carry each. Default active only. Paged."},
			func(ctx context.Context, d *Deps, a schemas.ListTagsArgs) (*Page[convirza.Tag], error) {
				out, err := d.Convirza.Tags.List(ctx, a)
				return pageOf("tags", a.Offset, out, err)
			}, Names(func(a schemas.ListTagsArgs) []int64 { return units(a.OrgUnitID) })),
		Define(Spec{Name: "create_tag", Title: "Create tag", Class: policy.Write,
			Description: "Create a user tag on an org unit; the name must be new to that unit. Returns the new tag_id."},
			func(ctx context.Context, d *Deps, a schemas.TagCreate) (any, error) {
				id, meta, err := d.Convirza.Tags.Create(ctx, a)
				return created("tag_id", id, "tag_name", a.TagName, meta, err)
			}, Names(func(a schemas.TagCreate) []int64 { return units(a.OrgUnitID) })),
		Define(Spec{Name: "update_tag", Title: "Update tag", Class: policy.Write, Idempotent: true,
			Description: "Rename a user tag or set it active/inactive (PUT: give both tag_name and status; current values from list_tags). System tags cannot be changed."},
			func(ctx context.Context, d *Deps, a schemas.UpdateTagArgs) (any, error) {
				meta, err := d.Convirza.Tags.Update(ctx, a.TagUpdate)
				return written("updated", "tag_id", a.TagID, meta, err)
			},
			Names(func(a schemas.UpdateTagArgs) []int64 { return units(a.OrgUnitID) }),
			Resolves(func(ctx context.Context, d *Deps, a schemas.UpdateTagArgs) ([]int64, error) {
				if a.OrgUnitID == 0 {
					return nil, nil // names none: refused under a scope
				}
				return tagOwners(ctx, d, a.OrgUnitID, []int64{a.TagID})
			})),
		Define(Spec{Name: "delete_tags", Title: "Delete tags", Class: policy.Destructive, Idempotent: true,
			Description: "Permanently delete user tags of one org unit (1-100 ids from list_tags); calls lose them. System tags cannot be deleted. Needs the user's confirmation."},
			func(ctx context.Context, d *Deps, a schemas.DeleteTagsArgs) (any, error) {
				meta, err := d.Convirza.Tags.Delete(ctx, a)
				if err != nil {
					return nil, err
				}
				return map[string]any{"status": "deleted", "org_unit_id": a.OrgUnitID, "tag_ids": a.TagIDs, "request_id": meta.RequestID}, nil
			},
			Confirm(previewDeleteTags),
			Names(func(a schemas.DeleteTagsArgs) []int64 { return units(a.OrgUnitID) }),
			Resolves(func(ctx context.Context, d *Deps, a schemas.DeleteTagsArgs) ([]int64, error) {
				return tagOwners(ctx, d, a.OrgUnitID, a.TagIDs)
			})),
	}
}

func adSourceUnit(a convirza.AdSource) (int64, bool) { return a.OrgUnitID, true }

// tagOwners finds the org units of tags in a unit's tag list (the API has
// no GET of one tag): the unit itself and each tag's own unit (a system
// tag's is the account's top unit). A tag not in the list is refused.
func tagOwners(ctx context.Context, d *Deps, unit int64, ids []int64) ([]int64, error) {
	tags, err := unitTags(ctx, d, unit)
	if err != nil {
		return nil, fmt.Errorf("reading the tags of org unit %d: %w", unit, err)
	}
	units := []int64{unit}
	var missing []string
	for _, id := range ids {
		t, ok := tags[id]
		if !ok {
			missing = append(missing, fmt.Sprint(id))
			continue
		}
		u, err := knownUnit(fmt.Sprintf("tag %d", id), t.OrgUnitID)
		if err != nil {
			return nil, err
		}
		units = append(units, u)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("tag(s) %s are not in org unit %d's tag list (list_tags shows it)", strings.Join(missing, ", "), unit)
	}
	return units, nil
}

// unitTags reads every tag an org unit's list shows, active and inactive.
func unitTags(ctx context.Context, d *Deps, ou int64) (map[int64]convirza.Tag, error) {
	out := map[int64]convirza.Tag{}
	for _, status := range []string{schemas.StatusActive, schemas.StatusInactive} {
		for offset := 0; ; {
			page, err := d.Convirza.Tags.List(ctx, schemas.ListTagsArgs{OrgUnitID: ou, TagType: schemas.TagTypeAll, Status: status, Page: schemas.Page{Limit: 200, Offset: offset}})
			if err != nil {
				return nil, err
			}
			for _, t := range page.Items {
				out[t.TagID] = t
			}
			offset += len(page.Items)
			if len(page.Items) == 0 || offset >= page.Total || offset >= 5000 {
				break
			}
		}
	}
	return out, nil
}

// previewDeleteTags lists the tags' names and how many calls carry each, or
// says why they cannot be deleted (not the unit's tags, or system tags).
func previewDeleteTags(ctx context.Context, d *Deps, a schemas.DeleteTagsArgs) (*policy.Preview, error) {
	tags, err := unitTags(ctx, d, a.OrgUnitID)
	if err != nil {
		if upstream.IsNotFound(err) {
			return &policy.Preview{Blocked: fmt.Sprintf("Org unit %d does not exist.", a.OrgUnitID)}, nil
		}
		return nil, err
	}
	unit := fmt.Sprintf("org unit %d", a.OrgUnitID)
	// Groups are Admin-only: a Standard user gets the id without the name.
	if g, err := d.Convirza.Groups.Get(ctx, a.OrgUnitID); err == nil && g.OrgUnitName != "" {
		unit = fmt.Sprintf("group %d %q", a.OrgUnitID, g.OrgUnitName)
	}
	var missing, system, listed []string
	var items []map[string]any
	var gone []convirza.Tag // the tags as they are, for the audit record
	calls := 0
	for _, id := range a.TagIDs {
		t, ok := tags[id]
		switch {
		case !ok || t.TagType == schemas.TagTypeUser && t.OrgUnitID != a.OrgUnitID:
			missing = append(missing, fmt.Sprint(id))
		case t.TagType == schemas.TagTypeSystem:
			system = append(system, fmt.Sprintf("%d %q", id, t.TagName))
		default:
			calls += t.CallCount
			gone = append(gone, t)
			items = append(items, map[string]any{"tag_id": id, "tag_name": t.TagName, "status": t.Status, "call_count": t.CallCount})
			if len(listed) < 10 {
				listed = append(listed, fmt.Sprintf("%q (%d calls)", t.TagName, t.CallCount))
			}
		}
	}
	if len(missing) > 0 {
		return &policy.Preview{Blocked: fmt.Sprintf("Cannot delete: tag(s) %s are not tags of %s (list_tags shows its tags).", strings.Join(missing, ", "), unit)}, nil
	}
	if len(system) > 0 {
		return &policy.Preview{Blocked: fmt.Sprintf("Cannot delete: %s are system tags, which cannot be deleted.", strings.Join(system, ", "))}, nil
	}
	if more := len(items) - len(listed); more > 0 {
		listed = append(listed, fmt.Sprintf("and %d more", more))
	}
	return &policy.Preview{
		Action: fmt.Sprintf("Delete %d tag(s) of %s: %s; permanent, and the %d call(s) tagged lose these tags.",
			len(items), unit, strings.Join(listed, ", "), calls),
		Details:  map[string]any{"org_unit_id": a.OrgUnitID, "tags": items, "total_calls": calls},
		Snapshot: map[string]any{"org_unit_id": a.OrgUnitID, "tags": gone},
	}, nil
}
