package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// fieldError is one entry of a validation error's "errors".
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

type envelopeOut struct {
	Code      int          `json:"code"`
	Message   string       `json:"message"`
	Data      any          `json:"data"`
	Errors    []fieldError `json:"errors,omitempty"`
	RequestID string       `json:"request_id"`
	Timestamp string       `json:"timestamp"`
}

func newRequestID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func timestamp() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeOK(w http.ResponseWriter, msg string, data any) {
	if msg == "" {
		msg = "Success"
	}
	id := newRequestID()
	w.Header().Set("X-Request-Id", id)
	writeJSON(w, http.StatusOK, envelopeOut{Code: 200, Message: msg, Data: data, RequestID: id, Timestamp: timestamp()})
}

func writeError(w http.ResponseWriter, status int, msg string, fields []fieldError) {
	id := newRequestID()
	w.Header().Set("X-Request-Id", id)
	writeJSON(w, status, envelopeOut{Code: status, Message: msg, Data: nil, Errors: fields, RequestID: id, Timestamp: timestamp()})
}

// apiError is a failure a handler returns to be written as an envelope.
type apiError struct {
	status int
	msg    string
	fields []fieldError
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.msg) }

func errf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

func invalid(fields ...fieldError) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: "Validation failed", fields: fields}
}

// readBody decodes a JSON object body strictly enough to reject garbage.
func readBody(r *http.Request) (map[string]any, *apiError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, errf(http.StatusBadRequest, "could not read body")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errf(http.StatusBadRequest, "body must be a JSON object")
	}
	return m, nil
}

// Query helpers: each returns a field error for a bad value.

func qInt(r *http.Request, name string, def, lo, hi int64) (int64, *fieldError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || (hi > 0 && n > hi) {
		msg := fmt.Sprintf("must be an integer >= %d", lo)
		if hi > 0 {
			msg = fmt.Sprintf("must be an integer between %d and %d", lo, hi)
		}
		return 0, &fieldError{Field: name, Message: msg}
	}
	return n, nil
}

func qEnum(r *http.Request, name string, allowed ...string) (string, *fieldError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", &fieldError{Field: name, Message: "must be one of " + strings.Join(allowed, ", ")}
}

// collect gathers field errors, ignoring nils.
func collect(errs ...*fieldError) *apiError {
	var out []fieldError
	for _, e := range errs {
		if e != nil {
			out = append(out, *e)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return invalid(out...)
}

// Body field helpers.

func bStr(m map[string]any, name string) (string, bool, *fieldError) {
	v, ok := m[name]
	if !ok || v == nil {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", true, &fieldError{Field: name, Message: "must be a string"}
	}
	return s, true, nil
}

func bInt(m map[string]any, name string) (int64, bool, *fieldError) {
	v, ok := m[name]
	if !ok || v == nil {
		return 0, false, nil
	}
	var n int64
	var err error
	switch x := v.(type) {
	case json.Number:
		n, err = x.Int64()
	case string:
		n, err = strconv.ParseInt(x, 10, 64)
	default:
		err = fmt.Errorf("not a number")
	}
	if err != nil {
		return 0, true, &fieldError{Field: name, Message: "must be an integer"}
	}
	return n, true, nil
}

// reqInt reads a required integer body field.
func reqInt(m map[string]any, name string) (int64, *apiError) {
	v, ok, e := bInt(m, name)
	switch {
	case e != nil:
		return 0, invalid(*e)
	case !ok:
		return 0, invalid(fieldError{Field: name, Message: "is required"})
	}
	return v, nil
}

// reqStr reads a required string body field.
func reqStr(m map[string]any, name string) (string, *apiError) {
	v, ok, e := bStr(m, name)
	switch {
	case e != nil:
		return "", invalid(*e)
	case !ok:
		return "", invalid(fieldError{Field: name, Message: "is required"})
	}
	return v, nil
}

func pathID(r *http.Request, name string) (int64, *apiError) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n < 1 {
		return 0, invalid(fieldError{Field: name, Message: "must be a positive integer"})
	}
	return n, nil
}

func paginate[T any](items []T, offset, limit int64) []T {
	if offset >= int64(len(items)) {
		return []T{}
	}
	end := offset + limit
	if end > int64(len(items)) {
		end = int64(len(items))
	}
	return items[offset:end]
}

func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
