package convirza

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/convirza/convirza-mcp/internal/upstream"
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
	// Content holds the recording's Size bytes, from offset 0. It is read
	// while the request is sent, and read again should the request go out
	// once more (after a token renewal), so it is never copied whole: an
	// open file or a bytes.Reader both do.
	Content io.ReaderAt
	Size    int64
}

// Upload sends a recording as multipart/form-data (POST /media-prompts):
// form field "file" plus "name", "type" and "org_unit_id". It returns the
// new recording's id. The caller checks size and format first. The body
// is streamed: the form's head and tail are built here, the recording is
// read from Content as it is sent.
func (s *MediaService) Upload(ctx context.Context, u MediaUpload) (int64, Meta, error) {
	if u.Content == nil || u.Size < 0 {
		return 0, Meta{}, fmt.Errorf("encode upload: no content")
	}
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
	if _, err := w.CreatePart(h); err != nil {
		return 0, Meta{}, fmt.Errorf("encode upload: %w", err)
	}
	head := bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := w.Close(); err != nil { // the closing boundary
		return 0, Meta{}, fmt.Errorf("encode upload: %w", err)
	}
	tail := buf.Bytes()
	body := &upstream.Stream{
		Length: int64(len(head)) + u.Size + int64(len(tail)),
		Open: func() (io.ReadCloser, error) {
			audio := &exactReader{r: io.NewSectionReader(u.Content, 0, u.Size), size: u.Size}
			return io.NopCloser(io.MultiReader(bytes.NewReader(head), audio, bytes.NewReader(tail))), nil
		},
	}
	var data map[string]json.RawMessage
	meta, err := s.r.c.doStream(ctx, http.MethodPost, s.r.path, w.FormDataContentType(), body, &data)
	if err != nil {
		return 0, meta, err
	}
	id, err := newID(data)
	if err != nil {
		return 0, meta, malformed(http.MethodPost, s.r.path, 200, meta.RequestID, err)
	}
	return id, meta, nil
}

// exactReader reads size bytes from r and fails if r ends sooner (a file
// truncated while it is sent), saying so rather than letting the transport
// report a Content-Length mismatch.
type exactReader struct {
	r          io.Reader
	size, read int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.read += int64(n)
	if errors.Is(err, io.EOF) && e.read < e.size {
		err = fmt.Errorf("the recording ended after %d of its %d bytes: it changed while it was being sent", e.read, e.size)
	}
	return n, err
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
