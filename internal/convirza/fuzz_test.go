package convirza

import (
	"net/http"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/upstream"
)

// FuzzDecode: any status and body give data or a typed error, never a panic.
func FuzzDecode(f *testing.F) {
	f.Add(200, []byte(`{"code":200,"data":{"org_unit_name":"X"},"request_id":"r"}`))
	f.Add(400, []byte(`{"code":400,"message":"bad","errors":[{"field":"a","message":"b"}]}`))
	f.Add(200, []byte(`{"code":200,"data":null}`))
	f.Add(502, []byte(`<html>`))
	f.Add(200, []byte(`{"data":{"groups":[{"org_unit_id":1,"code":"1"}],"total":"3"}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		resp := &upstream.Response{Status: status, Header: http.Header{}, Body: body}
		var g GroupDetails
		_, _ = decode("GET", "/x", resp, &g)
		_, _ = decode("DELETE", "/x", resp, nil)
		var raw []byte
		_, _ = decode("GET", "/x", resp, &raw)
		_, _ = decodeList[Group](body, "groups")
		_, _ = parseTree(body)
		_, _ = parseTokenResponse(body, time.Now())
	})
}
