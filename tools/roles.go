package tools

import (
	"fmt"
	"strconv"

	"github.com/convirza/convirza-mcp/policy"
)

// Convirza's roles, as the API documents them (API-NOTES "Roles" [D]):
// role_id 1 Admin may do everything, 2 Standard writes operational
// resources but no platform configuration, 3 ReadOnly only reads.
const (
	RoleIDAdmin    = 1
	RoleIDStandard = 2
	RoleIDReadOnly = 3
)

// adminOnlyResource marks the tools of a resource Convirza keeps to Admin
// users for every operation, reads included: documented for Groups and
// Users ("Groups and Users are Admin-only for every operation", API-NOTES
// "Roles" [D]). Webhooks being Admin-only is only the simulator's
// assumption (API-NOTES [I]), so their tools do not say it.
const adminOnlyResource = true

// roleName names a role id as people know it; an id Convirza does not
// document is named by its number.
func roleName(roleID int) string {
	switch roleID {
	case RoleIDAdmin:
		return policy.RoleAdmin
	case RoleIDStandard:
		return policy.RoleStandard
	case RoleIDReadOnly:
		return policy.RoleReadOnly
	}
	return "unknown to this server (role_id " + strconv.Itoa(roleID) + ")"
}

// MayUse says whether a signed-in person whose Convirza role is roleID may
// use t on this server, whose policy is eff (nil: none). When not, why is a
// sentence the person, or their assistant, can act on. It is the one rule
// tools/list, compact mode's search and dispatch, tool calls, prompts,
// resources and the approval pages apply:
//
//   - t.AdminOnly: only an Admin (Convirza refuses everyone else);
//   - a ReadOnly user only reads (class R);
//   - the policy's tools.deny_for withholds tools from a role.
//
// A role id Convirza does not document (0: unknown, or a newer one) gets
// the least rights: a ReadOnly user's, deny_for's readonly list included.
func MayUse(roleID int, eff *policy.Effective, t *Tool) (why string, ok bool) {
	if t == nil {
		return "there is no such tool here", false
	}
	known := roleID == RoleIDAdmin || roleID == RoleIDStandard || roleID == RoleIDReadOnly
	if t.AdminOnly && roleID != RoleIDAdmin {
		return fmt.Sprintf("%s is for Convirza Admin users (Convirza keeps groups and users to Admins, reads included); your role is %s", t.Name, roleName(roleID)), false
	}
	readsOnly := roleID != RoleIDAdmin && roleID != RoleIDStandard
	if readsOnly && t.Class != policy.Read {
		return fmt.Sprintf("%s changes something (class %s), and your Convirza role, %s, may only read", t.Name, t.Class, roleName(roleID)), false
	}
	policyRole := policy.RoleReadOnly
	if known {
		policyRole = roleName(roleID)
	}
	if _, denied := eff.DeniedFor(policyRole, t.Name); denied {
		return fmt.Sprintf("this server's policy withholds %s from %s users", t.Name, policyRole), false
	}
	return "", true
}

// Lookup returns the planned tool named name (compact mode's own tools
// included), or nil.
func (p *Plan) Lookup(name string) *Tool {
	if p == nil {
		return nil
	}
	p.byNameOnce.Do(func() {
		p.byName = make(map[string]*Tool, len(p.Tools)+3)
		for i := range p.Tools {
			p.byName[p.Tools[i].Name] = &p.Tools[i]
		}
		compact := compactTools(nil, nil)
		for i := range compact {
			if _, dup := p.byName[compact[i].Name]; !dup {
				p.byName[compact[i].Name] = &compact[i]
			}
		}
	})
	return p.byName[name]
}

// MayApprove says why the person with Convirza user id userID and role
// roleID may not approve ap on this server ("" when they may): they may
// approve only what they could do themselves (MayUse), and under the
// four-eyes rule (confirmation.approver: other) never what their own
// assistant asked. A tool this server does not serve is not approved
// here. The approval pages ask it; so can a command that decides
// approvals for a person.
func (p *Plan) MayApprove(userID int64, roleID int, ap *policy.Approval) string {
	t := p.Lookup(ap.Tool)
	var eff *policy.Effective
	if p != nil {
		eff = p.Policy
	}
	if t == nil {
		return fmt.Sprintf("This server does not serve %s, so it cannot be approved here. Nothing was decided.", ap.Tool)
	}
	if why, ok := MayUse(roleID, eff, t); !ok {
		return "You cannot approve this, as you could not do it yourself: " + why + ". Nothing was decided."
	}
	if eff != nil && eff.Policy != nil && eff.Policy.OtherApprover && ap.Principal == "user:"+strconv.FormatInt(userID, 10) {
		return "Your own assistant asked for this, and this server's policy wants another person to approve it (four eyes). Nothing was decided."
	}
	return ""
}

// RefusedText is the answer to a call MayUse refused, why being its
// sentence.
func RefusedText(why string) string { return "Refused: " + why + ". Nothing was done." }
