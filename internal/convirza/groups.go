package convirza

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/convirza/convirza-mcp/schemas"
)

// GroupsService calls the /groups endpoints (org units). Admin only.
type GroupsService struct{ r resource[Group] }

func (s *GroupsService) details() resource[GroupDetails] {
	return resource[GroupDetails]{c: s.r.c, path: s.r.path}
}

// List returns the immediate children of a unit (GET /groups/list).
func (s *GroupsService) List(ctx context.Context, f schemas.ListGroupsArgs) (*List[Group], error) {
	out, _, err := s.r.list(ctx, Query(f))
	return out, err
}

// Get returns one unit (GET /groups/:id). The id is filled in when the
// answer leaves it out, as the documented example does.
func (s *GroupsService) Get(ctx context.Context, id int64) (*GroupDetails, error) {
	out, _, err := s.details().get(ctx, id)
	if err != nil {
		return nil, err
	}
	if out.OrgUnitID == 0 {
		out.OrgUnitID = id
	}
	return out, nil
}

// Hierarchy returns the unit's id followed by every descendant's
// (GET /groups/org-list/:ouid).
func (s *GroupsService) Hierarchy(ctx context.Context, ouid int64) ([]int64, error) {
	var out Hierarchy
	if _, err := s.r.c.do(ctx, http.MethodGet, fmt.Sprintf("/groups/org-list/%d", ouid), nil, nil, &out); err != nil {
		return nil, err
	}
	if out.OrgUnits == nil {
		out.OrgUnits = []int64{}
	}
	return out.OrgUnits, nil
}

// Tree returns the organisation tree (GET /groups/tree) as nested nodes. The
// API documents two shapes, a flat list with dotted codes ("1.1.2") and
// nested children; both are accepted.
func (s *GroupsService) Tree(ctx context.Context, active *bool) ([]TreeNode, error) {
	q := Query(schemas.GroupTreeArgs{Active: active})
	var raw json.RawMessage
	if _, err := s.r.c.do(ctx, http.MethodGet, "/groups/tree", q, nil, &raw); err != nil {
		return nil, err
	}
	nodes, err := parseTree(raw)
	if err != nil {
		return nil, malformed(http.MethodGet, "/groups/tree", 200, "", err)
	}
	return nodes, nil
}

// Create makes a unit (POST /groups) and returns its id.
func (s *GroupsService) Create(ctx context.Context, g schemas.GroupCreate) (int64, Meta, error) {
	return s.r.create(ctx, g)
}

// Replace updates every editable field (PUT /groups/:id).
func (s *GroupsService) Replace(ctx context.Context, id int64, g schemas.GroupReplace) (Meta, error) {
	return s.r.replace(ctx, id, g)
}

// Update changes some fields (PATCH /groups/:id).
func (s *GroupsService) Update(ctx context.Context, id int64, p schemas.GroupPatch) (Meta, error) {
	return s.r.update(ctx, id, p)
}

// Delete soft-deletes a unit (DELETE /groups/:id).
func (s *GroupsService) Delete(ctx context.Context, id int64) (Meta, error) {
	return s.r.delete(ctx, id)
}

// treeItem is one node as the API may send it.
type treeItem struct {
	OrgUnitID   int64      `json:"org_unit_id"`
	Text        string     `json:"text"`
	OrgUnitName string     `json:"org_unit_name"`
	Name        string     `json:"name"`
	Code        string     `json:"code"`
	GroupLevel  int        `json:"group_level"`
	Children    []treeItem `json:"children"`
}

func parseTree(raw json.RawMessage) ([]TreeNode, error) {
	var items []treeItem
	var wrapped struct {
		Groups []treeItem `json:"groups"`
	}
	if err := json.Unmarshal(raw, &wrapped); err == nil && wrapped.Groups != nil {
		items = wrapped.Groups
	} else if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("tree is neither {groups:[...]} nor a list: %w", err)
	}
	nested := false
	for _, it := range items {
		if len(it.Children) > 0 {
			nested = true
		}
	}
	if nested {
		return convertNested(items), nil
	}
	return nestByCode(items), nil
}

func (it treeItem) node() TreeNode {
	name := it.Text
	if name == "" {
		name = it.OrgUnitName
	}
	if name == "" {
		name = it.Name
	}
	return TreeNode{OrgUnitID: it.OrgUnitID, Name: name, Level: it.GroupLevel, Code: it.Code}
}

func convertNested(items []treeItem) []TreeNode {
	out := make([]TreeNode, 0, len(items))
	for _, it := range items {
		n := it.node()
		n.Children = convertNested(it.Children)
		if len(n.Children) == 0 {
			n.Children = nil
		}
		out = append(out, n)
	}
	return out
}

// nestByCode builds the tree from dotted codes: "1.2" is the parent of
// "1.2.3". Items without a known parent are roots.
func nestByCode(items []treeItem) []TreeNode {
	sorted := append([]treeItem(nil), items...)
	sort.SliceStable(sorted, func(i, j int) bool { return codeLess(sorted[i].Code, sorted[j].Code) })
	type slot struct {
		node     TreeNode
		children []string
	}
	byCode := map[string]*slot{}
	var roots []string
	for _, it := range sorted {
		code := it.Code
		if code == "" {
			code = fmt.Sprintf("#%d", it.OrgUnitID)
		}
		if _, dup := byCode[code]; dup {
			code = fmt.Sprintf("%s#%d", code, it.OrgUnitID)
		}
		byCode[code] = &slot{node: it.node()}
		parent := ""
		if i := strings.LastIndexByte(it.Code, '.'); i > 0 {
			parent = it.Code[:i]
		}
		if p, ok := byCode[parent]; ok && parent != "" {
			p.children = append(p.children, code)
		} else {
			roots = append(roots, code)
		}
	}
	var build func(code string) TreeNode
	build = func(code string) TreeNode {
		s := byCode[code]
		n := s.node
		for _, c := range s.children {
			n.Children = append(n.Children, build(c))
		}
		return n
	}
	out := make([]TreeNode, 0, len(roots))
	for _, r := range roots {
		out = append(out, build(r))
	}
	return out
}

// codeLess orders dotted codes shallower first (parents before children),
// then by number segment by segment ("1.2" before "1.10").
func codeLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	if len(pa) != len(pb) {
		return len(pa) < len(pb)
	}
	for i := range pa {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		if ea == nil && eb == nil && na != nb {
			return na < nb
		}
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

// Group is one entry of GET /groups/list.
type Group struct {
	OrgUnitID       int64  `json:"org_unit_id"`
	OrgUnitExtID    string `json:"org_unit_ext_id,omitempty"`
	OrgUnitName     string `json:"org_unit_name"`
	OrgUnitParentID int64  `json:"org_unit_parent_id,omitempty"`
	TopOUID         int64  `json:"top_ou_id,omitempty"`
	OrgUnitStatus   string `json:"org_unit_status,omitempty"`
	BillingID       int64  `json:"billing_id,omitempty"`
	Address         string `json:"address,omitempty"`
	City            string `json:"city,omitempty"`
	State           string `json:"state,omitempty"`
	Zip             string `json:"zip,omitempty"`
	PhoneNumber     string `json:"phone_number,omitempty"`
	IndustryID      int64  `json:"industry_id,omitempty"`
	IndustryName    string `json:"industry_name,omitempty"`
	OrgUnitCreated  string `json:"org_unit_created,omitempty"`
	OrgUnitModified string `json:"org_unit_modified,omitempty"`
}

// GroupDetails is the data of GET /groups/:id. The documented example carries
// only the editable fields and two timestamps; the id is filled in by the
// client, and the other fields are kept when the API sends them.
type GroupDetails struct {
	OrgUnitID       int64  `json:"org_unit_id,omitempty"`
	OrgUnitName     string `json:"org_unit_name"`
	OrgUnitExtID    string `json:"org_unit_ext_id,omitempty"`
	OrgUnitParentID int64  `json:"org_unit_parent_id,omitempty"`
	OrgUnitStatus   string `json:"org_unit_status,omitempty"`
	TopOUID         int64  `json:"top_ou_id,omitempty"`
	BillingID       int64  `json:"billing_id,omitempty"`
	Address         string `json:"address,omitempty"`
	City            string `json:"city,omitempty"`
	State           string `json:"state,omitempty"`
	Zip             string `json:"zip,omitempty"`
	PhoneNumber     string `json:"phone_number,omitempty"`
	IndustryID      int64  `json:"industry_id,omitempty"`
	GroupCreated    string `json:"group_created,omitempty"`
	GroupModified   string `json:"group_modified,omitempty"`
}

// Hierarchy is the data of GET /groups/org-list/:ouid: the unit first, then
// every descendant.
type Hierarchy struct {
	OrgUnits []int64 `json:"orgUnits"`
}

// TreeNode is one unit of the normalised group tree.
type TreeNode struct {
	OrgUnitID int64      `json:"org_unit_id"`
	Name      string     `json:"name"`
	Level     int        `json:"level,omitempty"`
	Code      string     `json:"code,omitempty"`
	Children  []TreeNode `json:"children,omitempty"`
}
