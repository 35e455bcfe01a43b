package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
)

// maxUploadBody is a tools/call of upload_media_prompt whose body is as
// large as CONVIRZA_MCP_MAX_BODY_BYTES allows by default (4 MiB): a WAV
// header and padding, base64-encoded.
func maxUploadBody(b testing.TB, limit int) []byte {
	b.Helper()
	envelope := func(content string) []byte {
		msg := map[string]any{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": map[string]any{
			"name": "upload_media_prompt",
			"arguments": map[string]any{"name": "Load test greeting", "type": "prompt", "filename": "greeting.wav",
				"content": content}}}
		out, err := json.Marshal(msg)
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	room := limit - len(envelope("")) // what the content may take
	raw := make([]byte, room/4*3)
	copy(raw, "RIFF\x00\x00\x00\x00WAVEfmt ")
	body := envelope(base64.StdEncoding.EncodeToString(raw))
	if len(body) > limit {
		b.Fatalf("body of %d bytes is over the %d limit", len(body), limit)
	}
	return body
}

// rawSession opens a Streamable HTTP session with plain HTTP requests (no
// client library, so the profile shows the server's allocations) and
// returns a function that posts one message on it.
func rawSession(b testing.TB, url string) func(body []byte) (int, []byte) {
	b.Helper()
	post := func(session string, body []byte) (*http.Response, []byte) {
		req, err := http.NewRequest(http.MethodPost, url+"/mcp", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", mcp.ProtocolVersion20250618)
		if session != "" {
			req.Header.Set(mcpserver.HeaderKeySessionID, session)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		out, err := io.ReadAll(res.Body)
		if err != nil {
			b.Fatal(err)
		}
		return res, out
	}
	res, out := post("", []byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"`+mcp.ProtocolVersion20250618+`","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`))
	session := res.Header.Get(mcpserver.HeaderKeySessionID)
	if res.StatusCode != http.StatusOK || session == "" {
		b.Fatalf("initialize: %d %s", res.StatusCode, out)
	}
	post(session, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	return func(body []byte) (int, []byte) {
		res, out := post(session, body)
		return res.StatusCode, out
	}
}

// BenchmarkUploadHTTP: one upload_media_prompt of the largest body the
// server accepts by default, over Streamable HTTP, to the sandbox. Its
// B/op is what one upload allocates; for where, add -memprofile.
func BenchmarkUploadHTTP(b *testing.B) {
	app := benchApp(b)
	srv := httptest.NewServer(app.NewHTTP())
	b.Cleanup(srv.Close)
	body := maxUploadBody(b, int(app.Config.MaxBodyBytes))
	post := rawSession(b, srv.URL)
	upload := func() {
		status, out := post(body)
		if status != http.StatusOK || !strings.Contains(string(out), `"uploaded`) {
			b.Fatalf("upload: %d %.300s", status, out)
		}
	}
	upload() // log in outside the timer
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		upload()
	}
}
