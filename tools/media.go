package tools

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

func mediaTools() []Tool {
	return []Tool{
		Define(Spec{Name: "list_media_prompts", Title: "List media prompts", Class: policy.Read,
			Description: "List audio recordings (prompts, whispers, voicemail greetings, surveys). Filter by type or name."},
			func(ctx context.Context, d *Deps, a schemas.ListMediaPromptsArgs) (*Page[convirza.MediaPrompt], error) {
				out, err := d.Convirza.Media.List(ctx, a)
				if err != nil {
					return nil, err
				}
				return limitedList("media_prompts", out.Items, out.Total), nil
			}, ScopedList(mediaUnit, noPaging[schemas.ListMediaPromptsArgs], 0, 0)),
		Define(Spec{Name: "upload_media_prompt", Title: "Upload media prompt", Class: policy.Write,
			Description: "Upload a recording (wav, mp3, mp4, ogg, webm, m4a, aac, flac; ≤ 50 MB) from either file or content with filename. Returns media_prompt_id."},
			uploadMedia,
			Names(func(a schemas.UploadMediaPromptArgs) []int64 { return units(a.OrgUnitID) }),
			Pins(func(a *schemas.UploadMediaPromptArgs, root int64) { a.OrgUnitID = root })),
		Define(Spec{Name: "delete_media_prompt", Title: "Delete media prompt", Class: policy.Destructive, Idempotent: true,
			Description: "Soft-delete a recording; not reversible through the API. Needs the user's confirmation."},
			func(ctx context.Context, d *Deps, a schemas.ID) (any, error) {
				meta, err := d.Convirza.Media.Delete(ctx, a.ID)
				return deleted(ctx, "media_prompt_id", a.ID, meta, err, nil)
			}, Confirm(previewDeleteMedia), Owned(mediaOwner, idOf)),
	}
}

func mediaUnit(p convirza.MediaPrompt) (int64, bool) { return p.OrgUnitID, true }

// mediaOwner finds the org unit of a recording in the list (the API has no
// GET by id for media prompts); one deleted or unknown is refused.
func mediaOwner(ctx context.Context, d *Deps, id int64) (int64, error) {
	all, err := d.Convirza.Media.List(ctx, schemas.ListMediaPromptsArgs{})
	if err != nil {
		return 0, fmt.Errorf("reading the media prompts: %w", err)
	}
	for _, p := range all.Items {
		if p.MediaPromptID == id {
			return knownUnit(fmt.Sprintf("media prompt %d", id), p.OrgUnitID)
		}
	}
	return 0, fmt.Errorf("media prompt %d does not exist or is already deleted (list_media_prompts lists the others)", id)
}

// refuseArgs is an argument problem found before anything is sent upstream.
func refuseArgs(format string, args ...any) error {
	return &schemas.ValidationError{Problems: []string{fmt.Sprintf(format, args...)}}
}

// uploadMedia never holds a recording whole beside its source: a file is
// checked from its first bytes and streamed upstream from the open file;
// base64 content is checked once and decoded as it is sent.
func uploadMedia(ctx context.Context, d *Deps, a schemas.UploadMediaPromptArgs) (any, error) {
	var (
		name    string
		content io.ReaderAt
		size    int64
	)
	if a.File != "" {
		name = filepath.Base(a.File)
		fh, n, err := openMediaFile(d.MediaDir, a.File)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		content, size = fh, n
	} else {
		name = a.Filename
		b, err := newBase64Audio(a.Content)
		if err != nil {
			return nil, err
		}
		content, size = b, b.size
	}
	if size > schemas.MaxMediaBytes {
		return nil, refuseArgs("%q is %d bytes; the limit is 50 MB (%d bytes)", name, size, schemas.MaxMediaBytes)
	}
	f, err := checkAudio(name, content, size)
	if err != nil {
		return nil, refuseArgs("%v", err)
	}
	id, meta, err := d.Convirza.Media.Upload(ctx, convirza.MediaUpload{
		Name: a.Name, Type: a.Type, OrgUnitID: a.OrgUnitID,
		Filename: name, ContentType: f.contentType, Content: content, Size: size,
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"status": "uploaded", "media_prompt_id": id, "name": a.Name, "type": a.Type,
		"filename": name, "format": f.ext, "size_bytes": size, "request_id": meta.RequestID}, nil
}

// base64Audio is base64 text read as the bytes it encodes (an
// io.ReaderAt), decoded as they are read: the recording is never held
// decoded beside its text.
type base64Audio struct {
	enc  *base64.Encoding
	text string // whole quanta of enc, nothing else
	size int64  // decoded
}

// newBase64Audio takes content in any of the four base64 forms (standard
// or URL alphabet, padded or not), with whitespace anywhere and an optional
// data: URL prefix. The form is told from the text; the text is decoded
// once to check it and count its bytes (into nothing), and only text
// holding whitespace is copied, without it.
func newBase64Audio(s string) (*base64Audio, error) {
	if strings.ContainsAny(s, " \n\r\t") {
		s = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
				return -1
			}
			return r
		}, s)
	}
	s, _ = strings.CutPrefix(s, "data:") // tolerate a data: URL
	if i := strings.Index(s, ";base64,"); i >= 0 && i < 100 {
		s = s[i+len(";base64,"):]
	}
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	size, err := io.Copy(io.Discard, base64.NewDecoder(enc, strings.NewReader(s)))
	if err != nil {
		return nil, refuseArgs("content is not valid base64")
	}
	return &base64Audio{enc: enc, text: s, size: size}, nil
}

// ReadAt decodes len(p) bytes from off: from the 4-character quantum that
// holds byte off.
func (b *base64Audio) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("base64 audio: negative offset")
	}
	if off >= b.size {
		return 0, io.EOF
	}
	dec := base64.NewDecoder(b.enc, strings.NewReader(b.text[off/3*4:]))
	var skip [2]byte
	if _, err := io.ReadFull(dec, skip[:off%3]); err != nil {
		return 0, err
	}
	want := p[:min(int64(len(p)), b.size-off)]
	n, err := io.ReadFull(dec, want)
	if err == nil && len(want) < len(p) {
		err = io.EOF
	}
	return n, err
}

// openMediaFile opens a file that must resolve, symlinks included, to a
// regular file inside dir, and returns it with its size (it is read as it
// is sent, never whole); the caller closes it. The check is made on
// resolved paths, and the file is then opened through an os.Root of the
// resolved directory, so a symlink swapped in between cannot lead outside
// either. Only a regular
// file is ever opened (a FIFO or device would block the call or never end):
// it is checked before opening, opened non-blocking, and checked again on
// the open file. Errors never tell anything about what lies outside dir: a
// name that resolves outside it is "not in the media directory", exactly
// like a missing file, and no resolved path is shown.
func openMediaFile(dir, file string) (*os.File, int64, error) {
	if dir == "" {
		return nil, 0, refuseArgs("file paths are disabled: the server has no media directory (CONVIRZA_MCP_MEDIA_DIR). Send the audio as content (base64) with filename instead")
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("the media directory %s is unusable: %w", dir, err)
	}
	realDir, err = filepath.Abs(realDir)
	if err != nil {
		return nil, 0, fmt.Errorf("the media directory %s is unusable: %w", dir, err)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("the media directory %s is unusable: %w", dir, err)
	}
	p := file
	if !filepath.IsAbs(p) {
		p = filepath.Join(absDir, p)
	}
	// First by name (so nothing is learnt about files outside), then with
	// every symlink resolved.
	if !insideDir(absDir, filepath.Clean(p)) && !insideDir(realDir, filepath.Clean(p)) {
		return nil, 0, refuseArgs("file %q is outside the media directory %s; only files inside it can be uploaded", file, dir)
	}
	notFound := refuseArgs("file %q does not exist in the media directory %s (a symlink leading outside it counts as missing)", file, dir)
	realFile, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, 0, notFound // whatever the reason: it may lie outside
	}
	realFile, err = filepath.Abs(realFile)
	if err != nil || !insideDir(realDir, realFile) {
		return nil, 0, notFound
	}
	rel, err := filepath.Rel(realDir, realFile)
	if err != nil {
		return nil, 0, notFound
	}
	root, err := os.OpenRoot(realDir)
	if err != nil {
		return nil, 0, fmt.Errorf("the media directory %s is unusable: %w", dir, err)
	}
	defer root.Close()
	notRegular := refuseArgs("%q is not a regular file", file)
	info, err := root.Stat(rel)
	switch {
	case errors.Is(err, fs.ErrPermission):
		return nil, 0, refuseArgs("file %q cannot be read: permission denied", file)
	case err != nil:
		return nil, 0, notFound // swapped for a symlink leading outside, or gone
	case !info.Mode().IsRegular():
		return nil, 0, notRegular
	}
	// O_NONBLOCK: should a FIFO be swapped in after the check, opening it
	// returns at once instead of waiting for a writer.
	fh, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	switch {
	case errors.Is(err, fs.ErrPermission):
		return nil, 0, refuseArgs("file %q cannot be read: permission denied", file)
	case err != nil:
		return nil, 0, notFound
	}
	info, err = fh.Stat()
	switch {
	case err != nil:
		_ = fh.Close()
		return nil, 0, refuseArgs("file %q cannot be read", file)
	case !info.Mode().IsRegular():
		_ = fh.Close()
		return nil, 0, notRegular
	case info.Size() > schemas.MaxMediaBytes:
		_ = fh.Close()
		return nil, 0, refuseArgs("%q is %d bytes; the limit is 50 MB (%d bytes)", file, info.Size(), schemas.MaxMediaBytes)
	}
	return fh, info.Size(), nil
}

// insideDir reports whether path is dir or below it; both are absolute and clean.
func insideDir(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && !filepath.IsAbs(rel) && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// previewDeleteMedia finds the recording in the list (the API has no GET
// by id for media prompts).
func previewDeleteMedia(ctx context.Context, d *Deps, a schemas.ID) (*policy.Preview, error) {
	all, err := d.Convirza.Media.List(ctx, schemas.ListMediaPromptsArgs{})
	if err != nil {
		return nil, fmt.Errorf("reading the media prompts: %w", err)
	}
	for _, p := range all.Items {
		if p.MediaPromptID != a.ID {
			continue
		}
		if p.Status == schemas.StatusDeleted {
			return &policy.Preview{Blocked: fmt.Sprintf("Media prompt %d %q is already deleted.", a.ID, p.Name)}, nil
		}
		file := ""
		if p.Filename != "" {
			file = ", " + p.Filename
		}
		return &policy.Preview{
			Action:   fmt.Sprintf("Delete media prompt %d %q (%s%s, org unit %d): calls stop playing it. Soft delete, not reversible through the API.", a.ID, p.Name, p.Type, file, p.OrgUnitID),
			Details:  p,
			Snapshot: p,
		}, nil
	}
	return &policy.Preview{Blocked: fmt.Sprintf("Media prompt %d does not exist or is already deleted (list_media_prompts lists the others).", a.ID)}, nil
}
