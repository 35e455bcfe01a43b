package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// FieldError is one invalid field named by an upstream's error answer.
type FieldError struct {
	Field   string
	Message string
}

// APIError is an upstream's answer that says a call failed: an HTTP error
// status, or a success status whose body says it is an error. Both API
// clients return it, so callers handle one type.
type APIError struct {
	// Upstream names the API in messages: "Convirza", "Talkdesk".
	Upstream string
	Method   string
	Path     string
	// Status is the HTTP status of the answer.
	Status int
	// Code is the API's own error code, when it sent one: Talkdesk's
	// "0331001", or the code of a Convirza envelope that contradicts its
	// HTTP status.
	Code        string
	Message     string
	Description string // a longer explanation, shown when it adds to Message
	RequestID   string
	Fields      []FieldError
	RetryAfter  string // the Retry-After header, as sent
	// Unsafe: the request is never repeated (Response.Unsafe).
	Unsafe bool
}

// OutcomeUnknown reports whether a write the upstream refused may still
// have been made: a request never repeated (a POST or PATCH, or a DELETE
// with a body: Unsafe) answered 502 or 504, a gateway's answer that says it
// gave up on the service, not that the service did not act.
func (e *APIError) OutcomeUnknown() bool {
	return (e.Unsafe || !Idempotent(e.Method)) && (e.Status == http.StatusBadGateway || e.Status == http.StatusGatewayTimeout)
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s API answered %d %s", e.Upstream, e.Status, http.StatusText(e.Status))
	if e.Status >= 200 && e.Status <= 299 {
		// The status said success; the body said otherwise.
		if e.Code != "" {
			fmt.Fprintf(&b, " with error code %s", e.Code)
		} else {
			b.WriteString(" with an error")
		}
	}
	fmt.Fprintf(&b, " to %s %s", e.Method, e.Path)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Description != "" && e.Description != e.Message {
		b.WriteString(" (" + e.Description + ")")
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.RetryAfter != "" {
		fmt.Fprintf(&b, " (retry after %ss)", e.RetryAfter)
	}
	if e.Code != "" && (e.Status < 200 || e.Status > 299) {
		fmt.Fprintf(&b, " [code %s]", e.Code)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request_id %s]", e.RequestID)
	}
	return b.String()
}

// NotFound reports a "not found" answer: a 404, or a success status whose
// body carries the error code 404.
func (e *APIError) NotFound() bool {
	return e.Status == http.StatusNotFound || (e.Status >= 200 && e.Status <= 299 && e.Code == "404")
}

// IsNotFound reports whether err is, or wraps, an APIError saying "not
// found".
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.NotFound()
}

// MalformedError is a success answer whose body is not the documented
// shape.
type MalformedError struct {
	Upstream     string // "Convirza", "Talkdesk"
	Method, Path string
	Status       int
	RequestID    string
	Err          error
}

func (e *MalformedError) Error() string {
	s := fmt.Sprintf("%s API sent an unreadable answer (status %d) to %s %s: %v", e.Upstream, e.Status, e.Method, e.Path, e.Err)
	if e.RequestID != "" {
		s += fmt.Sprintf(" [request_id %s]", e.RequestID)
	}
	return s
}

func (e *MalformedError) Unwrap() error { return e.Err }
