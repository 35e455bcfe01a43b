package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

func userTools() []Tool {
	return []Tool{
		Define(Spec{AdminOnly: adminOnlyResource, Name: "list_users", Title: "List users", Class: policy.Read,
			Description: "Users of an org unit and its sub-groups (default the whole account). Filter by name, email, role_id, user_status (deleted ones only with user_status=deleted). Paged."},
			func(ctx context.Context, d *Deps, a schemas.ListUsersArgs) (*Page[convirza.User], error) {
				out, err := d.Convirza.Users.List(ctx, a)
				if err == nil {
					for i := range out.Items {
						out.Items[i].AgentRingTo = schemas.PhoneOut(out.Items[i].AgentRingTo)
					}
				}
				return pageOf("users", a.Offset, out, err)
			}, Names(func(a schemas.ListUsersArgs) []int64 { return units(a.OrgUnitID) }), Pins(func(a *schemas.ListUsersArgs, root int64) { a.OrgUnitID = root })),
		Define(Spec{AdminOnly: adminOnlyResource, Name: "get_user", Title: "Get user", Class: policy.Read,
			Description: "Get one user by id: name, email, role, status, group, ring-to number and settings."},
			func(ctx context.Context, d *Deps, a schemas.ID) (any, error) {
				u, err := d.Convirza.Users.Get(ctx, a.ID)
				if err != nil {
					return nil, err
				}
				u.AgentRingTo = schemas.PhoneOut(u.AgentRingTo)
				return u, nil
			}, Owned(userRecord.owner, idOf)),
		Define(Spec{AdminOnly: adminOnlyResource, Name: "create_user", Title: "Create user", Class: policy.Write,
			Description: "Create a user in a group (ct_user_ou_id); username is their email and login. Returns the new user id."},
			func(ctx context.Context, d *Deps, a schemas.UserCreate) (any, error) {
				id, meta, err := d.Convirza.Users.Create(ctx, a)
				return created("ct_user_id", id, "username", a.Username, meta, err)
			}, Names(func(a schemas.UserCreate) []int64 { return units(a.CTUserOUID) })),
		Define(Spec{AdminOnly: adminOnlyResource, Name: "replace_user", Title: "Replace user", Class: policy.Write, Idempotent: true,
			Description: "Replace all editable fields of a user (PUT); start from get_user. Use update_user to change only some."},
			func(ctx context.Context, d *Deps, a schemas.ReplaceUserArgs) (any, error) {
				meta, err := d.Convirza.Users.Replace(ctx, a.ID, a.UserReplace)
				return written("replaced", "ct_user_id", a.ID, meta, err)
			}, Names(func(a schemas.ReplaceUserArgs) []int64 { return units(a.CTUserOUID) }), Owned(userRecord.owner, func(a schemas.ReplaceUserArgs) int64 { return a.ID })),
		Define(Spec{AdminOnly: adminOnlyResource, Name: "update_user", Title: "Update user", Class: policy.Write, Idempotent: true,
			Description: "Change some fields of a user (PATCH); fields left out stay as they are."},
			func(ctx context.Context, d *Deps, a schemas.UpdateUserArgs) (any, error) {
				meta, err := d.Convirza.Users.Update(ctx, a.ID, a.UserPatch)
				return written("updated", "ct_user_id", a.ID, meta, err)
			}, Names(func(a schemas.UpdateUserArgs) []int64 { return unitPtr(a.CTUserOUID) }), Owned(userRecord.owner, func(a schemas.UpdateUserArgs) int64 { return a.ID })),
		Define(Spec{AdminOnly: adminOnlyResource, Name: "delete_user", Title: "Delete user", Class: policy.Destructive, Idempotent: true,
			Description: "Soft-delete a user (status deleted, no more login); not reversible through the API. Refused for the account this server is logged in as. Needs the user's confirmation."},
			byIDs(func(ctx context.Context, d *Deps, id int64) (any, error) {
				meta, err := d.Convirza.Users.Delete(ctx, id)
				return deleted(ctx, "ct_user_id", id, meta, err, userRecord.statusOf(d, id))
			}), Confirm(previewIDs("Delete", "deleted", "users", previewDeleteUser)), ownedIDs(userRecord.owner)),
	}
}

// previewDeleteUser names the user and their group, or says why they cannot
// be deleted: unknown, already deleted, or the caller's own account (which
// would lock this server out; the sandbox refuses it too).
func previewDeleteUser(ctx context.Context, d *Deps, a schemas.ID) (*policy.Preview, error) {
	u, label, blocked, err := userRecord.deletable(ctx, d, a.ID, func(u *convirza.User) string {
		return fmt.Sprintf("user %d %s", a.ID, strings.TrimSpace(u.FirstName+" "+u.LastName))
	})
	if u == nil {
		return blocked, err
	}
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	// Who is this server logged in as? If the profile cannot be read, the
	// upstream's own rule still applies; the preview does not fail over it.
	if p, err := d.Convirza.Account.Profile(ctx); err == nil && p.User.UserID == a.ID {
		return &policy.Preview{Blocked: fmt.Sprintf("Cannot delete %s: it is the account this server is logged in as.", label)}, nil
	}
	role := strings.TrimSuffix(u.Role, " User")
	group := ""
	if u.GroupOrgUnitID != 0 {
		group = fmt.Sprintf(", in group %d %q", u.GroupOrgUnitID, u.Group)
	}
	return &policy.Preview{
		Action: fmt.Sprintf("Delete user %d %s (%s), %s%s. Soft delete: they can no longer log in, and it is not reversible through the API.", a.ID, name, u.Email, role, group),
		Details: map[string]any{
			"ct_user_id":        a.ID,
			"name":              name,
			"email":             u.Email,
			"role":              role,
			"status":            u.Status,
			"group_org_unit_id": u.GroupOrgUnitID,
			"group":             u.Group,
		},
		Snapshot: u,
	}, nil
}
