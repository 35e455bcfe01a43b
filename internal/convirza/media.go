package convirza

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/convirza/convirza-mcp/schemas"
)

// MediaService calls the /media-prompts endpoints. Admin and Standard.
type MediaService struct{ r resource[MediaPrompt] }

// List returns the recordings matching the filter (GET /media-prompts).
func (s *MediaService) List(ctx context.Context, f schemas.ListMediaPromptsArgs) (*List[MediaPrompt], error) {
	out, _, err := s.r.list(ctx, Query(f))
	return out, err
}

// Delete soft-deletes a recording (DELETE /media-prompts/:id).
func (s *MediaService) Delete(ctx context.Context, id int64) (Meta, error) {
	return s.r.delete(ctx, id)
}

// MediaUpload is one recording to upload: the form fields and the file.
type MediaUpload struct {
	Name        string
	Type        string
	OrgUnitID   int64 // 0: the caller's unit
	Filename    string
	ContentType string // e.g. audio/mpeg; default application/octet-stream
	Content     []byte
}

// Upload sends a recording as multipart/form-data (POST /media-prompts):
// form field "file" plus "name", "type" and "org_unit_id". It returns the
// new recording's id. The caller checks size and format first.
func (s *MediaService) Upload(ctx context.Context, u MediaUpload) (int64, Meta, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fields := [][2]string{{"name", u.Name}, {"type", u.Type}}
	if u.OrgUnitID != 0 {
		fields = append(fields, [2]string{"org_unit_id", strconv.FormatInt(u.OrgUnitID, 10)})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return 0, Meta{}, fmt.Errorf("encode upload: %w", err)
		}
	}
	ct := u.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, sanitizeFilename(u.Filename)))
	h.Set("Content-Type", ct)
	part, err := w.CreatePart(h)
	if err != nil {
		return 0, Meta{}, fmt.Errorf("encode upload: %w", err)
	}
	if _, err := part.Write(u.Content); err != nil {
		return 0, Meta{}, fmt.Errorf("encode upload: %w", err)
	}
	if err := w.Close(); err != nil {
		return 0, Meta{}, fmt.Errorf("encode upload: %w", err)
	}
	var data map[string]json.RawMessage
	meta, err := s.r.c.doRaw(ctx, http.MethodPost, s.r.path, w.FormDataContentType(), buf.Bytes(), &data)
	if err != nil {
		return 0, meta, err
	}
	id, err := newID(data)
	if err != nil {
		return 0, meta, malformed(http.MethodPost, s.r.path, 200, meta.RequestID, err)
	}
	return id, meta, nil
}

// sanitizeFilename keeps a header-safe base name.
func sanitizeFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == 0x7f {
			return '_'
		}
		return r
	}, name)
}

// MediaPrompt is one recording.
type MediaPrompt struct {
	MediaPromptID int64  `json:"media_prompt_id"`
	Name          string `json:"name"`
	Type          string `json:"type,omitempty"`
	OrgUnitID     int64  `json:"org_unit_id,omitempty"`
	Filename      string `json:"filename,omitempty"`
	Format        string `json:"format,omitempty"`
	SizeBytes     int64  `json:"size_bytes,omitempty"`
	Status        string `json:"status,omitempty"`
	CreatedOn     string `json:"created_on,omitempty"`
}
