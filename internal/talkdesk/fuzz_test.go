package talkdesk

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/convirza/convirza-mcp/internal/upstream"
)

// FuzzHAL: any answer body gives a page or a typed error, never a panic, and
// a next link is only ever followed to the API's own host.
func FuzzHAL(f *testing.F) {
	f.Add(200, []byte(`{"total":3,"count":1,"page":1,"per_page":1,"total_pages":3,"_embedded":{"records":[{"id":"a"}]},"_links":{"next":{"href":"/record-lists/x/records?page=2"}}}`))
	f.Add(200, []byte(`{"_links":{"next":{"href":"https://evil.example/steal"}}}`))
	f.Add(200, []byte(`{"_embedded":{"records":{"id":1}}}`))
	f.Add(400, []byte(`{"code":"0331001","message":"Invalid","fields":[{"name":"first_name","description":"too long"}]}`))
	f.Add(401, []byte(`{"error":"invalid_client","error_description":"bad"}`))
	f.Add(200, []byte(`{"_links":{"next":{"href":"//evil.example/x"}}}`))
	c := New(Config{Account: "acme", ClientID: "id", ClientSecret: "s", APIURL: "https://api.example"}, upstream.New(nil, upstream.Policy{}, nil), nil)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		resp := &upstream.Response{Status: status, Header: http.Header{}, Body: body}
		var hp halPage
		if err := decode("GET", "/record-lists", resp, &hp); err != nil {
			return
		}
		if hp.Links.Next == nil {
			return
		}
		next, err := c.resolve(hp.Links.Next.Href)
		if err != nil {
			return
		}
		u, perr := url.Parse(next)
		if perr != nil || u.Host != "api.example" || u.Scheme != "https" {
			t.Fatalf("followed a link away from the API: %q -> %q", hp.Links.Next.Href, next)
		}
		_ = authError(status, body)
	})
}
