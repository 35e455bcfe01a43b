package oauth_test

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/sandbox"
)

// docServer serves Client ID Metadata Documents over TLS on 127.0.0.1:
// /client.json a good one; others broken in one way each.
type docServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newDocServer(t *testing.T) *docServer {
	d := &docServer{}
	doc := func(path string, change func(map[string]any)) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			m := map[string]any{
				"client_id": d.URL + path, "client_name": "Document Client", "redirect_uris": []string{redirectURI},
				"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
				"token_endpoint_auth_method": "none",
			}
			if change != nil {
				change(m)
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(m)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/client.json", doc("/client.json", nil))
	mux.HandleFunc("/other-id.json", doc("/other-id.json", func(m map[string]any) { m["client_id"] = "https://elsewhere.example/client.json" }))
	mux.HandleFunc("/no-redirect.json", doc("/no-redirect.json", func(m map[string]any) { m["redirect_uris"] = []string{"https://app.example/cb"} }))
	mux.HandleFunc("/secret.json", doc("/secret.json", func(m map[string]any) {
		m["client_secret"] = "s3cret"
		m["token_endpoint_auth_method"] = "client_secret_post"
	}))
	mux.HandleFunc("/big.json", doc("/big.json", func(m map[string]any) { m["client_name"] = strings.Repeat("x", 6000) }))
	mux.HandleFunc("/moved.json", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:1/client.json", http.StatusFound)
	})
	mux.HandleFunc("/html.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html></html>"))
	})
	d.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	d.StartTLS()
	t.Cleanup(d.Close)
	return d
}

func (d *docServer) tls() *tls.Config {
	return d.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
}

func allowLoopback(a netip.Addr) bool { return a.IsLoopback() || oauth.PublicAddr(a) }

// A client known by its metadata document (an https client_id) goes
// through the whole flow like a registered one.
func TestClientIDMetadataDocument(t *testing.T) {
	docs := newDocServer(t)
	e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) {
		o.FetchTLS = docs.tls()
		o.AddrAllowed = allowLoopback
	})
	f := e.newFlow(docs.URL + "/client.json")
	p := e.open(e.authorizeURL(f))
	if p.status != http.StatusOK || !strings.Contains(p.body, "Document Client") || strings.Contains(p.body, "registered itself") {
		t.Fatalf("sign-in page for a document client: %d\n%s", p.status, p.body)
	}
	tok := e.tokens(e.exchange(f, e.code(e.submit(p, sandbox.ReadOnlyEmail, sandbox.DemoPassword, nil), f)))
	sub := e.call("/mcp", tok.Access).json(t)
	if sub["role"] != "ReadOnly" || sub["client_id"] != docs.URL+"/client.json" {
		t.Fatalf("subject = %v", sub)
	}
	if e.count("oauth/client/") != 0 {
		t.Error("a document client was registered in the store")
	}

	for path, want := range map[string]string{
		"/other-id.json":    "another client_id",
		"/no-redirect.json": "did not register",
		"/secret.json":      "client_secret",
		"/big.json":         "larger than 5 KiB",
		"/moved.json":       "answered 302",
		"/html.json":        "not JSON",
		"/missing.json":     "answered 404",
	} {
		f := e.newFlow(docs.URL + path)
		p := e.open(e.authorizeURL(f))
		if p.status != http.StatusBadRequest || p.header.Get("Location") != "" || !strings.Contains(p.body, want) {
			t.Errorf("%s: %d, want 400 on the page saying %q\n%s", path, p.status, want, p.body)
		}
	}
	// An http client_id is no document: it is an unknown registration.
	f = e.newFlow(strings.Replace(docs.URL, "https://", "http://", 1) + "/client.json")
	if p := e.open(e.authorizeURL(f)); p.status != http.StatusBadRequest {
		t.Errorf("http client_id: %d", p.status)
	}
}

// By default no document is fetched from a loopback or private address:
// the open metadata fetch cannot be pointed at the server's neighbours.
func TestClientIDMetadataDocumentNeverFromPrivateAddresses(t *testing.T) {
	docs := newDocServer(t)
	e := newEnv(t, sandbox.Options{}, func(o *oauth.Options) { o.FetchTLS = docs.tls() })
	for _, host := range []string{docs.URL, strings.Replace(docs.URL, "127.0.0.1", "localhost", 1)} {
		f := e.newFlow(host + "/client.json")
		p := e.open(e.authorizeURL(f))
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "not a public address") {
			t.Errorf("%s: %d\n%s", host, p.status, p.body)
		}
	}
	// The page does not tell what a name resolves to.
	f := e.newFlow(strings.Replace(docs.URL, "127.0.0.1", "localhost", 1) + "/client.json")
	if p := e.open(e.authorizeURL(f)); strings.Contains(p.body, "127.0.0.1") || strings.Contains(p.body, "::1") {
		t.Errorf("the page shows the address localhost resolves to:\n%s", p.body)
	}
	if n := docs.hits.Load(); n != 0 {
		t.Fatalf("the document server was reached %d times", n)
	}
	e.nothingIssued()
}

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:2800:220:1:248:1893:25c8:1946": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fc00::1": false, "100.64.0.1": false, "0.0.0.0": false,
		"::": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "64:ff9b::a00:1": false,
		"224.0.0.1": false, "255.255.255.255": false, "198.18.0.1": false, "192.0.2.1": false, "2001:db8::1": false,
	} {
		if got := oauth.PublicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestClientIP(t *testing.T) {
	rule, err := oauth.ClientIP([]string{"10.0.0.0/8", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ remote, xff, want string }{
		{"203.0.113.5:1234", "198.51.100.1", "203.0.113.5"},          // untrusted peer: its header is ignored
		{"10.1.1.1:1234", "198.51.100.1", "198.51.100.1"},            // trusted proxy
		{"10.1.1.1:1234", "198.51.100.1, 192.0.2.1", "198.51.100.1"}, // two trusted hops
		{"10.1.1.1:1234", "6.6.6.6, 198.51.100.1", "198.51.100.1"},   // a spoofed left entry is ignored
		{"10.1.1.1:1234", "", "10.1.1.1"},                            // no header
		{"10.1.1.1:1234", "garbage", "10.1.1.1"},                     // unreadable header
		{"[::ffff:10.1.1.1]:1234", "2001:db8::5", "2001:db8::5"},     // mapped peer
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := rule(r); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
	if _, err := oauth.ClientIP([]string{"not-an-address"}); err == nil || !strings.Contains(err.Error(), "CONVIRZA_MCP_TRUSTED_PROXIES") {
		t.Errorf("a wrong entry: %v", err)
	}
}
