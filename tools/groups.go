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

func groupTools() []Tool {
	return []Tool{
		Define(Spec{AdminOnly: adminOnlyResource, Name: "list_groups", Title: "List or find groups", Class: policy.Read,
			Description: "Child groups (org units) of a unit, default the account's; filter by status. group_name searches the whole tree below instead (deleted too unless status is given), with path and status. Paged."},
			func(ctx context.Context, d *Deps, a schemas.ListGroupsArgs) (*Page[groupItem], error) {
				if a.GroupName != "" {
					return findGroups(ctx, d, a)
				}
				out, err := d.Convirza.Groups.List(ctx, a)
				if err != nil {
					return nil, err
				}
				items := make([]groupItem, 0, len(out.Items))
				for _, g := range e164Groups(out.Items) {
					items = append(items, groupItem{Group: g})
				}
				return offsetPage("groups", items, out.Total, a.Offset), nil
			},
			Names(func(a schemas.ListGroupsArgs) []int64 { return units(a.OrgUnitID) }),
			Pins(func(a *schemas.ListGroupsArgs, root int64) { a.OrgUnitID = root })),
		Define(Spec{AdminOnly: adminOnlyResource, Name: "get_group", Title: "Get group details", Class: policy.Read,
			Description: "Get one group (org unit) by id: name, external id, parent, address, phone, industry."},
			func(ctx context.Context, d *Deps, a schemas.ID) (*convirza.GroupDetails, error) {
				g, err := d.Convirza.Groups.Get(ctx, a.ID)
				if err == nil {
					g.PhoneNumber = schemas.PhoneOut(g.PhoneNumber)
				}
				return g, err
			}, Resolves(groupID)),
		Define(Spec{AdminOnly: adminOnlyResource, Name: "get_group_tree", Title: "Get group tree", Class: policy.Read,
			Description: "The whole org-unit hierarchy as a nested tree of {org_unit_id, name, children}. Start here to find a group's id."},
			func(ctx context.Context, d *Deps, a schemas.GroupTreeArgs) (groupTree, error) {
				nodes, err := d.Convirza.Groups.Tree(ctx, a.Active)
				return groupTree{Groups: nodes}, err
			}, Trims(scopeTree)),
		Define(Spec{AdminOnly: adminOnlyResource, Name: "get_org_unit_hierarchy", Title: "List a unit and its descendants", Class: policy.Read,
			Description: "Ids of an org unit and all its descendants (the unit first)."},
			func(ctx context.Context, d *Deps, a schemas.OrgUnitArgs) (any, error) {
				ids, err := d.Convirza.Groups.Hierarchy(ctx, a.OrgUnitID)
				if err != nil {
					return nil, err
				}
				return map[string]any{"org_unit_id": a.OrgUnitID, "org_units": ids, "count": len(ids)}, nil
			}, Names(func(a schemas.OrgUnitArgs) []int64 { return units(a.OrgUnitID) })),
		Define(Spec{AdminOnly: adminOnlyResource, Name: "create_group", Title: "Create group", Class: policy.Write,
			Description: "Create a group (org unit) under an active parent. Name must be unique among siblings. Returns the new org_unit_id."},
			func(ctx context.Context, d *Deps, a schemas.GroupCreate) (any, error) {
				id, meta, err := d.Convirza.Groups.Create(ctx, a)
				return created("org_unit_id", id, "org_unit_name", a.OrgUnitName, meta, err)
			}, Names(func(a schemas.GroupCreate) []int64 { return units(a.OrgUnitParentID) })),
		Define(Spec{AdminOnly: adminOnlyResource, Name: "replace_group", Title: "Replace group", Class: policy.Write, Idempotent: true,
			Description: "Replace all editable fields of a group (PUT). Use update_group to change only some."},
			func(ctx context.Context, d *Deps, a schemas.ReplaceGroupArgs) (any, error) {
				meta, err := d.Convirza.Groups.Replace(ctx, a.ID, a.GroupReplace)
				return written("replaced", "org_unit_id", a.ID, meta, err)
			}, Names(func(a schemas.ReplaceGroupArgs) []int64 { return units(a.ID, a.OrgUnitParentID) })),
		Define(Spec{AdminOnly: adminOnlyResource, Name: "update_group", Title: "Update group", Class: policy.Write, Idempotent: true,
			Description: "Change some fields of a group (PATCH); fields left out stay as they are."},
			func(ctx context.Context, d *Deps, a schemas.UpdateGroupArgs) (any, error) {
				meta, err := d.Convirza.Groups.Update(ctx, a.ID, a.GroupPatch)
				return written("updated", "org_unit_id", a.ID, meta, err)
			}, Names(func(a schemas.UpdateGroupArgs) []int64 { return append(units(a.ID), unitPtr(a.OrgUnitParentID)...) })),
		Define(Spec{AdminOnly: adminOnlyResource, Name: "delete_group", Title: "Delete group", Class: policy.Destructive, Idempotent: true,
			Description: "Soft-delete a group; not reversible through the API. Refused while it has active sub-groups or users, or is a root/billing unit. Needs the user's confirmation."},
			func(ctx context.Context, d *Deps, a schemas.ID) (any, error) {
				meta, err := d.Convirza.Groups.Delete(ctx, a.ID)
				return deleted(ctx, "org_unit_id", a.ID, meta, err, groupRecord.statusOf(d, a.ID))
			}, Confirm(previewDeleteGroup), Resolves(groupID)),
	}
}

// groupID: a group's id is itself an org unit.
func groupID(_ context.Context, _ *Deps, a schemas.ID) ([]int64, error) {
	return []int64{a.ID}, nil
}

// groupTree is get_group_tree's answer.
type groupTree struct {
	Groups []convirza.TreeNode `json:"groups"`
}

// scopeTree keeps the parts of the tree inside the scope: a unit outside it
// is dropped and its in-scope descendants take its place.
func scopeTree(t groupTree, in func(int64) bool) (groupTree, error) {
	var keep func([]convirza.TreeNode) []convirza.TreeNode
	keep = func(ns []convirza.TreeNode) []convirza.TreeNode {
		out := []convirza.TreeNode{}
		for _, n := range ns {
			kids := keep(n.Children)
			if !in(n.OrgUnitID) {
				out = append(out, kids...)
				continue
			}
			n.Children = kids
			if len(n.Children) == 0 {
				n.Children = nil
			}
			out = append(out, n)
		}
		return out
	}
	return groupTree{Groups: keep(t.Groups)}, nil
}

// previewDeleteGroup reads the group, its active sub-groups and its users,
// and says what deleting it will do, or why it cannot be done.
func previewDeleteGroup(ctx context.Context, d *Deps, a schemas.ID) (*policy.Preview, error) {
	g, label, blocked, err := groupRecord.deletable(ctx, d, a.ID, func(g *convirza.GroupDetails) string {
		return fmt.Sprintf("group %d %q", a.ID, g.OrgUnitName)
	})
	if g == nil {
		return blocked, err
	}
	if g.OrgUnitParentID == 0 || g.TopOUID == a.ID || g.BillingID == a.ID {
		return &policy.Preview{Blocked: fmt.Sprintf("Cannot delete %s: it is a root/billing-level unit, which the API never deletes.", label)}, nil
	}
	parent := ""
	if p, err := d.Convirza.Groups.Get(ctx, g.OrgUnitParentID); err == nil {
		parent = p.OrgUnitName
	}
	children, err := d.Convirza.Groups.List(ctx, schemas.ListGroupsArgs{OrgUnitID: a.ID, Status: schemas.StatusActive, Page: schemas.Page{Limit: 200}})
	if err != nil {
		return nil, fmt.Errorf("reading the sub-groups of group %d: %w", a.ID, err)
	}
	users, err := usersOfGroup(ctx, d, a.ID)
	if err != nil {
		return nil, fmt.Errorf("reading the users of group %d: %w", a.ID, err)
	}
	details := map[string]any{
		"org_unit_id":       a.ID,
		"org_unit_name":     g.OrgUnitName,
		"parent_id":         g.OrgUnitParentID,
		"parent_name":       parent,
		"active_sub_groups": children.Total,
		"users":             len(users),
	}
	if children.Total > 0 {
		names := make([]string, 0, 5)
		for i, c := range children.Items {
			if i == 5 {
				names = append(names, "...")
				break
			}
			names = append(names, fmt.Sprintf("%d %q", c.OrgUnitID, c.OrgUnitName))
		}
		return &policy.Preview{Details: details, Blocked: fmt.Sprintf("Cannot delete %s: it has %d active sub-group(s) (%s); delete or move them first.", label, children.Total, strings.Join(names, ", "))}, nil
	}
	if len(users) > 0 {
		names := make([]string, 0, 5)
		for i, u := range users {
			if i == 5 {
				names = append(names, "...")
				break
			}
			names = append(names, fmt.Sprintf("%d %s %s", u.CTUserID, u.FirstName, u.LastName))
		}
		return &policy.Preview{Details: details, Blocked: fmt.Sprintf("Cannot delete %s: %d user(s) are assigned to it (%s); reassign or delete them first.", label, len(users), strings.Join(names, ", "))}, nil
	}
	where := ""
	if parent != "" {
		where = fmt.Sprintf(" (parent %q)", parent)
	}
	return &policy.Preview{
		Action:   fmt.Sprintf("Delete group %d %q%s, 0 sub-groups, 0 users. Soft delete, not reversible through the API.", a.ID, g.OrgUnitName, where),
		Details:  details,
		Snapshot: g,
	}, nil
}

// usersOfGroup lists the active and inactive users assigned to the group
// itself (the list endpoint also returns sub-groups' users). It reads to the
// end of the list: a preview that stopped early could report "0 users" of a
// group that has some. Past maxUserPages pages it refuses rather than guess.
func usersOfGroup(ctx context.Context, d *Deps, id int64) ([]convirza.User, error) {
	var mine []convirza.User
	for offset, pages := 0, 0; ; pages++ {
		if pages == maxUserPages {
			return nil, fmt.Errorf("could not verify: group %d and its sub-groups have more than %d users, more than a preview reads", id, offset)
		}
		page, err := d.Convirza.Users.List(ctx, schemas.ListUsersArgs{OrgUnitID: id, Page: schemas.Page{Limit: 200, Offset: offset}})
		if err != nil {
			return nil, err
		}
		for _, u := range page.Items {
			if u.GroupOrgUnitID == id && u.Status != schemas.StatusDeleted {
				mine = append(mine, u)
			}
		}
		offset += len(page.Items)
		switch {
		case offset >= page.Total:
			return mine, nil
		case len(page.Items) == 0:
			return nil, fmt.Errorf("could not verify: the user list of group %d ended at %d of the %d users it counts", id, offset, page.Total)
		}
	}
}

// maxUserPages bounds the users a delete_group preview reads (200 a page).
const maxUserPages = 250

// groupItem is one list_groups answer: a group, and where a search found
// it, its path from the unit searched ("Summit Marketing Agency / West /
// Denver Office").
type groupItem struct {
	convirza.Group
	Path string `json:"path,omitempty"`
}

// maxGroupWalk bounds the units a group search lists the children of.
const maxGroupWalk = 500

// findGroups finds the groups whose name contains a.GroupName anywhere
// below a.OrgUnitID (default the account's unit), of every status unless
// a.Status names one (deleted ones included, each answer saying its status):
// the API matches names among one unit's children only, so the server
// walks the tree level by level, one list per unit.
func findGroups(ctx context.Context, d *Deps, a schemas.ListGroupsArgs) (*Page[groupItem], error) {
	type unit struct {
		id   int64
		path string
	}
	start := a.OrgUnitID
	var rootPath string
	if start == 0 {
		// The account's unit is the parent of its first level.
		top, err := d.Convirza.Groups.List(ctx, schemas.ListGroupsArgs{Page: schemas.Page{Limit: 1}})
		if err != nil {
			return nil, err
		}
		if len(top.Items) == 0 {
			return offsetPage[groupItem]("groups", nil, 0, a.Offset), nil
		}
		start = top.Items[0].OrgUnitParentID
	}
	if g, err := d.Convirza.Groups.Get(ctx, start); err == nil {
		rootPath = g.OrgUnitName
	} else if upstream.IsNotFound(err) {
		return nil, err
	} else {
		rootPath = fmt.Sprintf("org unit %d", start)
	}
	name := strings.ToLower(a.GroupName)
	var found []groupItem
	queue := []unit{{start, rootPath}}
	for walked := 0; len(queue) > 0; walked++ {
		if walked == maxGroupWalk {
			return nil, fmt.Errorf("the hierarchy under org unit %d has more than %d groups with sub-groups: search under a lower org_unit_id", start, maxGroupWalk)
		}
		u := queue[0]
		queue = queue[1:]
		live, err := allChildren(ctx, d, u.id, "")
		if err != nil {
			return nil, err
		}
		candidates := live
		if a.Status == "" || a.Status == schemas.StatusDeleted {
			// The API lists deleted groups only when asked for; a search
			// shows them too, with their status (a person looking for a
			// closed office finds it).
			deleted, err := allChildren(ctx, d, u.id, schemas.StatusDeleted)
			if err != nil {
				return nil, err
			}
			if a.Status == "" {
				candidates = append(live[:len(live):len(live)], deleted...)
			} else {
				candidates = deleted
			}
		}
		for _, g := range candidates {
			if strings.Contains(strings.ToLower(g.OrgUnitName), name) && (a.Status == "" || g.OrgUnitStatus == a.Status) {
				g.PhoneNumber = schemas.PhoneOut(g.PhoneNumber)
				found = append(found, groupItem{Group: g, Path: u.path + " / " + g.OrgUnitName})
			}
		}
		for _, g := range live {
			queue = append(queue, unit{g.OrgUnitID, u.path + " / " + g.OrgUnitName})
		}
	}
	limit := a.Limit
	if limit == 0 {
		limit = 100
	}
	var page []groupItem
	if a.Offset < len(found) {
		page = found[a.Offset:min(len(found), a.Offset+limit)]
	}
	return offsetPage("groups", page, len(found), a.Offset), nil
}

// allChildren lists every child of a unit with the status ("" : all but
// deleted), page by page.
func allChildren(ctx context.Context, d *Deps, parent int64, status string) ([]convirza.Group, error) {
	var out []convirza.Group
	for off := 0; ; {
		p, err := d.Convirza.Groups.List(ctx, schemas.ListGroupsArgs{OrgUnitID: parent, Status: status, Page: schemas.Page{Limit: 500, Offset: off}})
		if err != nil {
			return nil, fmt.Errorf("listing the sub-groups of org unit %d: %w", parent, err)
		}
		out = append(out, p.Items...)
		off += len(p.Items)
		if len(p.Items) == 0 || off >= p.Total {
			return out, nil
		}
	}
}
