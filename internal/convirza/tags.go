package convirza

import (
	"context"
	"fmt"
	"net/http"

	"github.com/convirza/convirza-mcp/schemas"
)

// TagsService calls the /tag endpoints. Writable by Admin and Standard.
type TagsService struct{ c *Client }

func (s *TagsService) r(orgUnitID int64) resource[Tag] {
	return resource[Tag]{c: s.c, path: "/tag", listPath: fmt.Sprintf("/tag/%d", orgUnitID), listKey: "tags"}
}

// List returns one page of an org unit's tags (GET /tag/:org_unit_id).
func (s *TagsService) List(ctx context.Context, f schemas.ListTagsArgs) (*List[Tag], error) {
	out, _, err := s.r(f.OrgUnitID).list(ctx, Query(f, "org_unit_id"))
	return out, err
}

// Create makes a user tag (POST /tag) and returns its id.
func (s *TagsService) Create(ctx context.Context, t schemas.TagCreate) (int64, Meta, error) {
	return s.r(t.OrgUnitID).create(ctx, t)
}

// Update rewrites a tag named in the body (PUT /tag).
func (s *TagsService) Update(ctx context.Context, t schemas.TagUpdate) (Meta, error) {
	return s.c.do(ctx, http.MethodPut, "/tag", nil, t, nil)
}

// Delete deletes the tags named in the body (DELETE /tag).
func (s *TagsService) Delete(ctx context.Context, d schemas.DeleteTagsArgs) (Meta, error) {
	return s.c.do(ctx, http.MethodDelete, "/tag", nil, d, nil)
}

// Tag is one entry of GET /tag/:org_unit_id.
type Tag struct {
	TagID       int64  `json:"tag_id"`
	TagName     string `json:"tag_name"`
	TagType     string `json:"tag_type,omitempty"`
	OrgUnitID   int64  `json:"org_unit_id,omitempty"`
	Status      string `json:"status,omitempty"`
	CallCount   int    `json:"call_count"`
	TagCreated  string `json:"tag_created,omitempty"`
	TagModified string `json:"tag_modified,omitempty"`
}
