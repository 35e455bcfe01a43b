package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Media prompts: recordings played to callers. Documented: multipart
// upload, at most 50 MB, formats wav, mp3, mp4, ogg, webm, m4a, aac, flac;
// list filters type and name; DELETE is a soft delete. Simulator choices
// ([I]): form field "file" plus "name", "type" and "org_unit_id" (default
// the caller's unit); the format is read from the file's first bytes and
// must agree with its extension (mp4 and m4a are one container).

const mediaLimit = 50 << 20

type mediaPrompt struct {
	id                 int64
	Name, Type, Status string
	ouID               int64
	Filename, Format   string
	size               int64
	created            time.Time
}

func seedMedia(st *state) {
	st.media = map[int64]*mediaPrompt{}
	base := time.Date(2025, 4, 1, 12, 0, 0, 0, time.UTC)
	seeds := []mediaPrompt{
		{id: 3001, Name: "Main greeting", Type: "prompt", ouID: 1001, Filename: "main-greeting.mp3", Format: "mp3", size: 245760},
		{id: 3002, Name: "Whisper - Google Ads", Type: "whisper", ouID: 1042, Filename: "whisper-google.wav", Format: "wav", size: 88244},
		{id: 3003, Name: "After-hours voicemail", Type: "voicemail", ouID: 1042, Filename: "after-hours.mp3", Format: "mp3", size: 180224},
		{id: 3004, Name: "Post-call survey", Type: "survey", ouID: 1051, Filename: "survey.ogg", Format: "ogg", size: 132096},
		{id: 3005, Name: "Holiday greeting 2024", Type: "prompt", ouID: 1001, Filename: "holiday-2024.m4a", Format: "m4a", size: 201728, Status: "deleted"},
	}
	for i := range seeds {
		p := seeds[i]
		if p.Status == "" {
			p.Status = "active"
		}
		p.created = base.Add(time.Duration(i) * 96 * time.Hour)
		st.media[p.id] = &p
	}
	st.nextMedia = 3101
}

func (s *Server) routeMedia(mux *http.ServeMux) {
	mux.HandleFunc("GET /v3/media-prompts", s.api(roleStandard, s.listMedia))
	mux.HandleFunc("POST /v3/media-prompts", s.api(roleStandard, s.uploadMedia))
	mux.HandleFunc("DELETE /v3/media-prompts/{id}", s.api(roleStandard, s.deleteMedia))
}

func mediaJSON(p *mediaPrompt) map[string]any {
	return map[string]any{
		"media_prompt_id": p.id,
		"name":            p.Name,
		"type":            p.Type,
		"org_unit_id":     p.ouID,
		"filename":        p.Filename,
		"format":          p.Format,
		"size_bytes":      p.size,
		"status":          p.Status,
		"created_on":      iso(p.created),
	}
}

func (s *Server) listMedia(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	typ, e := qEnum(r, "type", "prompt", "whisper", "voicemail", "survey")
	if err := collect(e); err != nil {
		return err
	}
	name := strings.ToLower(r.URL.Query().Get("name"))
	ids := make([]int64, 0, len(s.st.media))
	for id := range s.st.media {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	items := []map[string]any{}
	for _, id := range ids {
		p := s.st.media[id]
		if p.Status == "deleted" || !s.st.within(c.ouID, p.ouID) ||
			(typ != "" && p.Type != typ) || (name != "" && !strings.Contains(strings.ToLower(p.Name), name)) {
			continue
		}
		items = append(items, mediaJSON(p))
	}
	writeOK(w, "", map[string]any{"media_prompts": items, "total": len(items)})
	return nil
}

// audioKind names the format of an audio file from its first bytes, or "".
// An ID3v2 tag is skipped first: it may precede mp3, aac or flac data.
func audioKind(b []byte) string {
	if len(b) >= 10 && string(b[:3]) == "ID3" {
		size := int(b[6]&0x7f)<<21 | int(b[7]&0x7f)<<14 | int(b[8]&0x7f)<<7 | int(b[9]&0x7f)
		skip := 10 + size
		if b[5]&0x10 != 0 {
			skip += 10 // footer
		}
		if skip < len(b) {
			if k := audioKind(b[skip:]); k == "flac" || k == "aac" {
				return k
			}
		}
		return "mp3"
	}
	switch {
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WAVE":
		return "wav"
	case len(b) >= 4 && string(b[:4]) == "fLaC":
		return "flac"
	case len(b) >= 4 && string(b[:4]) == "OggS":
		return "ogg"
	case len(b) >= 4 && bytes.Equal(b[:4], []byte{0x1a, 0x45, 0xdf, 0xa3}):
		return "webm"
	case len(b) >= 8 && string(b[4:8]) == "ftyp":
		return "mp4"
	case len(b) >= 2 && b[0] == 0xff && b[1]&0xf6 == 0xf0:
		return "aac" // ADTS: 12 sync bits, layer 00
	case len(b) >= 2 && b[0] == 0xff && b[1]&0xe0 == 0xe0 && b[1]&0x06 != 0:
		return "mp3" // MPEG audio frame: 11 sync bits, layer I-III
	}
	return ""
}

var mediaFormats = map[string]string{
	".wav": "wav", ".mp3": "mp3", ".mp4": "mp4", ".m4a": "mp4", ".ogg": "ogg",
	".webm": "webm", ".aac": "aac", ".flac": "flac",
}

func (s *Server) uploadMedia(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return errf(http.StatusUnsupportedMediaType, "Content-Type must be multipart/form-data")
	}
	r.Body = http.MaxBytesReader(w, r.Body, mediaLimit+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return errf(http.StatusBadRequest, "malformed multipart body: %v", err)
	}
	fields := map[string]string{}
	var filename string
	var head []byte // the first MB: enough to see past an ID3 tag
	var size int64
	files := 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errf(http.StatusRequestEntityTooLarge, "file exceeds the 50 MB limit")
		}
		if err != nil {
			return errf(http.StatusBadRequest, "malformed multipart body: %v", err)
		}
		switch part.FormName() {
		case "file":
			files++
			filename = part.FileName()
			var buf bytes.Buffer
			var rest int64
			size, err = io.CopyN(&buf, part, 1<<20)
			if errors.Is(err, io.EOF) {
				err = nil
			} else if err == nil {
				rest, err = io.Copy(io.Discard, io.LimitReader(part, mediaLimit))
			}
			head, size = buf.Bytes(), size+rest
			if errors.As(err, &tooBig) || size > mediaLimit {
				return errf(http.StatusRequestEntityTooLarge, "file exceeds the 50 MB limit")
			}
		case "name", "type", "org_unit_id":
			v, _ := io.ReadAll(io.LimitReader(part, 1024))
			fields[part.FormName()] = string(v)
		}
		if err != nil {
			return errf(http.StatusBadRequest, "malformed multipart body: %v", err)
		}
	}
	var errs []*fieldError
	name := strings.TrimSpace(fields["name"])
	if name == "" || len(name) > 255 {
		errs = append(errs, &fieldError{Field: "name", Message: "is required, 1 to 255 characters"})
	}
	typ := fields["type"]
	switch typ {
	case "prompt", "whisper", "voicemail", "survey":
	default:
		errs = append(errs, &fieldError{Field: "type", Message: "must be one of prompt, whisper, voicemail, survey"})
	}
	ou := c.ouID
	if v := fields["org_unit_id"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if u := s.st.units[n]; err != nil || u == nil || !s.st.within(c.ouID, n) || u.Status == "deleted" {
			errs = append(errs, &fieldError{Field: "org_unit_id", Message: fmt.Sprintf("org unit %s does not exist or is outside your hierarchy", v)})
		}
		ou = n
	}
	ext := strings.ToLower(path.Ext(filename))
	switch {
	case files != 1:
		errs = append(errs, &fieldError{Field: "file", Message: "exactly one file is required"})
	case size == 0:
		errs = append(errs, &fieldError{Field: "file", Message: "the file is empty"})
	case mediaFormats[ext] == "":
		errs = append(errs, &fieldError{Field: "file", Message: fmt.Sprintf("%q: the extension must be one of wav, mp3, mp4, ogg, webm, m4a, aac, flac", filename)})
	default:
		got := audioKind(head)
		if got == "" {
			errs = append(errs, &fieldError{Field: "file", Message: "the content is not wav, mp3, mp4, ogg, webm, m4a, aac or flac audio"})
		} else if got != mediaFormats[ext] {
			errs = append(errs, &fieldError{Field: "file", Message: fmt.Sprintf("the content is %s audio but the filename says %s", got, ext[1:])})
		}
	}
	if err := collect(errs...); err != nil {
		return err
	}
	p := &mediaPrompt{id: s.st.nextMedia, Name: name, Type: typ, Status: "active", ouID: ou,
		Filename: filename, Format: ext[1:], size: size, created: s.opts.Now()}
	s.st.nextMedia++
	s.st.media[p.id] = p
	writeOK(w, "Media prompt uploaded successfully", map[string]any{"mediaPromptId": p.id})
	return nil
}

func (s *Server) deleteMedia(w http.ResponseWriter, r *http.Request, c caller) *apiError {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := s.st.media[id]
	if p == nil || p.Status == "deleted" || !s.st.within(c.ouID, p.ouID) {
		return errf(http.StatusNotFound, "Media prompt %d not found", id)
	}
	p.Status = "deleted"
	writeOK(w, "Resource deleted successfully", nil)
	return nil
}
