package upstream

import (
	"errors"
	"fmt"
	"testing"
)

func TestAPIErrorTexts(t *testing.T) {
	cases := []struct {
		name string
		err  *APIError
		want string
	}{
		{"convirza", &APIError{Upstream: "Convirza", Method: "POST", Path: "/users", Status: 400, Message: "Validation failed",
			Fields: []FieldError{{"email", "is taken"}}, RetryAfter: "", RequestID: "r-1"},
			"Convirza API answered 400 Bad Request to POST /users: Validation failed; email: is taken [request_id r-1]"},
		{"talkdesk", &APIError{Upstream: "Talkdesk", Method: "GET", Path: "/record-lists/x", Status: 404, Code: "0331004",
			Message: "Resource not found", Description: "Record list x not found"},
			"Talkdesk API answered 404 Not Found to GET /record-lists/x: Resource not found (Record list x not found) [code 0331004]"},
		{"rate limited", &APIError{Upstream: "Talkdesk", Method: "GET", Path: "/r", Status: 429, Message: "slow down", Description: "slow down", RetryAfter: "3"},
			"Talkdesk API answered 429 Too Many Requests to GET /r: slow down (retry after 3s)"},
		{"success status, error body", &APIError{Upstream: "Convirza", Method: "GET", Path: "/groups/1", Status: 200, Code: "400", Message: "Bad org unit", RequestID: "r-2"},
			"Convirza API answered 200 OK with error code 400 to GET /groups/1: Bad org unit [request_id r-2]"},
		{"success status, error without code", &APIError{Upstream: "Convirza", Method: "GET", Path: "/groups/1", Status: 200, Message: "failed"},
			"Convirza API answered 200 OK with an error to GET /groups/1: failed"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

func TestIsNotFound(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&APIError{Status: 404}, true},
		{fmt.Errorf("wrapped: %w", &APIError{Status: 404}), true},
		{&APIError{Status: 200, Code: "404"}, true},
		{&APIError{Status: 400, Code: "404"}, false},
		{&APIError{Status: 410}, false},
		{&MalformedError{Status: 404}, false},
		{errors.New("404"), false},
		{nil, false},
	} {
		if got := IsNotFound(c.err); got != c.want {
			t.Errorf("IsNotFound(%#v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestMalformedErrorText(t *testing.T) {
	e := &MalformedError{Upstream: "Convirza", Method: "GET", Path: "/x", Status: 200, RequestID: "r", Err: errors.New("not JSON")}
	if got, want := e.Error(), "Convirza API sent an unreadable answer (status 200) to GET /x: not JSON [request_id r]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(e, e.Err) {
		t.Error("MalformedError must unwrap to its cause")
	}
}
