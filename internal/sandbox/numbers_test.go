package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
)

// nrServer is a running simulator for direct HTTP tests of the numbers,
// routes, voice agents and media endpoints.
type nrServer struct {
	t *testing.T
	*sandbox.Running
}

func nrStart(t *testing.T) *nrServer {
	t.Helper()
	return &nrServer{t: t, Running: sandboxenv.Start(t, sandbox.Options{})}
}

func (s *nrServer) login(email string) string {
	s.t.Helper()
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, email, sandbox.DemoPassword)
	resp, err := http.Post(s.OAuthURL+"/oauth/token", "application/json", strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Data        struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		s.t.Fatal(err)
	}
	if out.AccessToken == "" {
		out.AccessToken = out.Data.AccessToken
	}
	if out.AccessToken == "" {
		s.t.Fatalf("login %s: no token (status %d)", email, resp.StatusCode)
	}
	return out.AccessToken
}

// do sends one request and returns the status and the decoded envelope.
func (s *nrServer) do(token, method, path, contentType string, body []byte) (int, map[string]any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.APIURL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		s.t.Fatalf("%s %s: body is not JSON: %v", method, path, err)
	}
	return resp.StatusCode, env
}

func (s *nrServer) json(token, method, path, body string) (int, map[string]any) {
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return s.do(token, method, path, "application/json", b)
}

// nrForm builds a multipart body: fields, then a file part unless filename is "".
func nrForm(t *testing.T, fields map[string]string, filename string, content []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if filename != "" {
		part, err := w.CreateFormFile("file", filename)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := part.Write(content); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

func nrFieldErrors(env map[string]any) string {
	b, _ := json.Marshal(env["errors"])
	return fmt.Sprint(env["message"], " ", string(b))
}

// ReadOnly users read these resources but may change none of them;
// Standard users may.
func TestNumbersRoutesMediaRoles(t *testing.T) {
	s := nrStart(t)
	ro := s.login(sandbox.ReadOnlyEmail)
	std := s.login(sandbox.StandardEmail)

	for _, path := range []string{"/phone-numbers/search?npa=303", "/phone-numbers/assigned", "/phone-numbers/provisioned", "/provisioned-routes", "/provisioned-routes/7001", "/ai-voice-agents", "/media-prompts"} {
		if code, env := s.json(ro, http.MethodGet, path, ""); code != http.StatusOK {
			t.Errorf("ReadOnly GET %s: %d %v", path, code, env["message"])
		}
	}
	ct, form := nrForm(t, map[string]string{"name": "x", "type": "prompt"}, "a.ogg", []byte("OggS\x00\x02"))
	writes := []struct{ method, path, ct, body string }{
		{http.MethodPost, "/phone-numbers/order", "application/json", `{"number":"3035550142","org_unit_id":1042}`},
		{http.MethodPost, "/provisioned-routes", "application/json", `{"provisioned_route_name":"x","phone_number":"3035550102","ring_to":"3035550000","org_unit_id":1042}`},
		{http.MethodDelete, "/phone-numbers/number?number=2125550121", "", ""},
		{http.MethodPatch, "/provisioned-routes/7001", "application/json", `{"ring_to":"3035550000"}`},
		{http.MethodDelete, "/provisioned-routes/7001", "", ""},
		{http.MethodPost, "/ai-voice-agents", "application/json", `{"name":"x","org_unit_id":1042}`},
		{http.MethodDelete, "/ai-voice-agents/801", "", ""},
		{http.MethodPost, "/media-prompts", ct, string(form)},
		{http.MethodDelete, "/media-prompts/3001", "", ""},
	}
	for _, w := range writes {
		var body []byte
		if w.body != "" {
			body = []byte(w.body)
		}
		if code, _ := s.do(ro, w.method, w.path, w.ct, body); code != http.StatusForbidden {
			t.Errorf("ReadOnly %s %s: %d, want 403", w.method, w.path, code)
		}
	}
	// The same writes succeed for a Standard user.
	for _, w := range writes {
		var body []byte
		if w.body != "" {
			body = []byte(w.body)
		}
		if code, env := s.do(std, w.method, w.path, w.ct, body); code != http.StatusOK {
			t.Errorf("Standard %s %s: %d %s", w.method, w.path, code, nrFieldErrors(env))
		}
	}
}

func TestReleaseNumberBodyOrQuery(t *testing.T) {
	s := nrStart(t)
	tok := s.login(sandbox.DemoEmail)
	// The number may travel in a JSON body instead of the query.
	code, env := s.json(tok, http.MethodDelete, "/phone-numbers/number", `{"number":"3035550100"}`)
	if code != http.StatusOK {
		t.Fatalf("release by body: %d %v", code, nrFieldErrors(env))
	}
	data := env["data"].(map[string]any)
	if fmt.Sprint(data["deactivated_routes"]) != "[7001 7002]" {
		t.Errorf("deactivated routes: %v", data)
	}
	_, env = s.json(tok, http.MethodGet, "/provisioned-routes/7001", "")
	if r := env["data"].(map[string]any); r["provisioned_route_status"] != "inactive" || r["phone_number"] != "" {
		t.Errorf("route 7001 after release: %v", r)
	}
	// A numberless route cannot be made active again.
	if code, env := s.json(tok, http.MethodPatch, "/provisioned-routes/7001", `{"provisioned_route_status":"active"}`); code != http.StatusBadRequest || !strings.Contains(nrFieldErrors(env), "needs a tracking number") {
		t.Errorf("activate numberless route: %d %s", code, nrFieldErrors(env))
	}
	if code, _ := s.json(tok, http.MethodDelete, "/phone-numbers/number?number=3035550100", ""); code != http.StatusNotFound {
		t.Errorf("second release: %d, want 404", code)
	}
	if code, env := s.json(tok, http.MethodDelete, "/phone-numbers/number?number=3035550101", `{"number":"3035550102"}`); code != http.StatusBadRequest {
		t.Errorf("query and body disagree: %d %v", code, env)
	}
	if code, _ := s.json(tok, http.MethodDelete, "/phone-numbers/number", ""); code != http.StatusBadRequest {
		t.Errorf("no number: %d", code)
	}
	// Ordering: conflicts and validation.
	if code, _ := s.json(tok, http.MethodPost, "/phone-numbers/order", `{"number":"3035550101","org_unit_id":1042}`); code != http.StatusConflict {
		t.Errorf("order an assigned number: %d, want 409", code)
	}
	if code, _ := s.json(tok, http.MethodPost, "/phone-numbers/order", `{"number":"3035550100","org_unit_id":1042}`); code != http.StatusNotFound {
		t.Errorf("order a released number: %d, want 404", code)
	}
	if code, env := s.json(tok, http.MethodPost, "/phone-numbers/order", `{"number":"303555","org_unit_id":1044}`); code != http.StatusBadRequest || !strings.Contains(nrFieldErrors(env), "inactive") {
		t.Errorf("bad order: %d %s", code, nrFieldErrors(env))
	}
	if code, _ := s.json(tok, http.MethodGet, "/phone-numbers/search?limit=101", ""); code != http.StatusBadRequest {
		t.Errorf("search limit 101: %d", code)
	}
	if code, _ := s.json(tok, http.MethodGet, "/phone-numbers/search?match=303-555", ""); code != http.StatusBadRequest {
		t.Errorf("search match 303-555: %d", code)
	}
}

// The simulator checks uploads by itself: size, type, format by content.
func TestMediaUploadValidation(t *testing.T) {
	s := nrStart(t)
	tok := s.login(sandbox.DemoEmail)
	ok := map[string]string{"name": "Greeting", "type": "prompt"}
	cases := []struct {
		fields   map[string]string
		filename string
		content  []byte
		want     string
	}{
		{ok, "a.mp3", []byte("RIFF\x00\x00\x00\x00WAVEfmt "), "content is wav audio but the filename says mp3"},
		{ok, "a.wav", []byte("plain text"), "not wav, mp3"},
		{ok, "a.txt", []byte("OggS"), "extension must be one of"},
		{ok, "a.ogg", nil, "empty"},
		{ok, "", nil, "exactly one file"},
		{map[string]string{"name": "x", "type": "music"}, "a.ogg", []byte("OggS"), "type"},
		{map[string]string{"type": "prompt"}, "a.ogg", []byte("OggS"), "name"},
		{map[string]string{"name": "x", "type": "prompt", "org_unit_id": "9999"}, "a.ogg", []byte("OggS"), "org_unit_id"},
	}
	for _, c := range cases {
		ct, body := nrForm(t, c.fields, c.filename, c.content)
		code, env := s.do(tok, http.MethodPost, "/media-prompts", ct, body)
		if code != http.StatusBadRequest || !strings.Contains(nrFieldErrors(env), c.want) {
			t.Errorf("%v %q: %d %s, want 400 mentioning %q", c.fields, c.filename, code, nrFieldErrors(env), c.want)
		}
	}
	if code, _ := s.json(tok, http.MethodPost, "/media-prompts", `{"name":"x"}`); code != http.StatusUnsupportedMediaType {
		t.Errorf("JSON upload: %d, want 415", code)
	}
	// Over 50 MB: refused while reading, before anything is stored. The
	// body is streamed, not built in memory.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("name", "Big")
		_ = mw.WriteField("type", "prompt")
		part, _ := mw.CreateFormFile("file", "big.ogg")
		chunk := make([]byte, 1<<20)
		copy(chunk, "OggS")
		for i := 0; i <= 50; i++ {
			if _, err := part.Write(chunk); err != nil {
				pw.CloseWithError(err)
				return
			}
			chunk[0] = 0
		}
		pw.CloseWithError(mw.Close())
	}()
	req, err := http.NewRequest(http.MethodPost, s.APIURL+"/media-prompts", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("51 MB upload: %d, want 413", resp.StatusCode)
	}
	_, env := s.json(tok, http.MethodGet, "/media-prompts?name=big", "")
	if fmt.Sprint(env["data"].(map[string]any)["total"]) != "0" {
		t.Errorf("the refused upload was stored: %v", env["data"])
	}
	ct, body := nrForm(t, ok, "fine.m4a", []byte("\x00\x00\x00\x18ftypmp42"))
	if code, env := s.do(tok, http.MethodPost, "/media-prompts", ct, body); code != http.StatusOK {
		t.Errorf("m4a upload: %d %s", code, nrFieldErrors(env))
	}
}
