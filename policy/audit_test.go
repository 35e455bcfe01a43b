package policy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMaskText(t *testing.T) {
	cases := map[string]string{
		"+13035550100":                   "+*******0100",
		"+1-212-555-0142":                "+*-***-***-0142",
		"(303) 555-0100":                 "(***) ***-0100",
		"3035550100":                     "******0100",
		"+44 20 7946 0958":               "+** ** **** 0958",
		"call +13035550100 back":         "call +*******0100 back",
		"1042":                           "1042",
		"ORG-1042":                       "ORG-1042",
		"555-0100":                       "555-0100", // 7 digits: not a full number
		"2025-01-15":                     "2025-01-15",
		"2025-01-15 10:30":               "2025-01-15 10:30",
		"Denver Office":                  "Denver Office",
		"ids 1042, 1043 and 1044":        "ids 1042, 1043 and 1044",
		"12345678901234 is a long digit": "**********1234 is a long digit",
	}
	for in, want := range cases {
		if got := MaskText(in); got != want {
			t.Errorf("MaskText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskArguments(t *testing.T) {
	got := MaskArguments([]byte(`{"id":1042,"phone_number":"+13035550100","password":"hunter2","api_secret":"s","Access_Token":"t",
		"nested":{"refresh_token":"r","numbers":["3035550100","x"]},"org_unit_name":"Denver"}`))
	b, _ := json.Marshal(got)
	s := string(b)
	for _, leaked := range []string{"hunter2", `"s"`, `"t"`, `"r"`, "3035550100", "13035550100"} {
		if strings.Contains(s, leaked) {
			t.Errorf("%s leaked: %s", leaked, s)
		}
	}
	for _, kept := range []string{`"id":1042`, `"org_unit_name":"Denver"`, `"+*******0100"`, `"******0100"`, `"password":"[redacted]"`} {
		if !strings.Contains(s, kept) {
			t.Errorf("%s missing: %s", kept, s)
		}
	}
	if MaskArguments([]byte("not json")) != redacted {
		t.Error("unparseable arguments must be replaced whole")
	}
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not one JSON object per line: %v: %q", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func TestAuditLogLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := NewAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the log is created private: %v %v", fi, err)
	}
	ctx := WithPrincipal(context.Background(), "ops")
	when := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := l.Record(ctx, AuditEntry{Time: when, CallID: "c1", Event: EventDecision, Tool: "update_group", Class: Write,
		Arguments: []byte(`{"id":1042,"phone_number":"+13035550100"}`), Decision: DecisionAllowed}); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(ctx, AuditEntry{Time: when, CallID: "c1", Event: EventOutcome, Tool: "update_group", Class: Write, Outcome: "ok", RequestID: "req-1"}); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	d, o := lines[0], lines[1]
	if d["time"] != "2026-05-01T12:00:00Z" || d["event"] != "decision" || d["tool"] != "update_group" || d["class"] != "W" ||
		d["decision"] != "allowed" || d["principal"] != "ops" || d["call_id"] != "c1" {
		t.Errorf("decision line: %v", d)
	}
	if args, _ := d["arguments"].(map[string]any); args["phone_number"] != "+*******0100" || args["id"] != float64(1042) {
		t.Errorf("arguments: %v", d["arguments"])
	}
	if o["event"] != "outcome" || o["outcome"] != "ok" || o["request_id"] != "req-1" || o["decision"] != nil {
		t.Errorf("outcome line: %v", o)
	}
}

// TestAuditLogConcurrent: lines written at once never interleave.
func TestAuditLogConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := NewAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 25
	long := strings.Repeat("x", 8192) // lines longer than a pipe buffer
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				args := fmt.Sprintf(`{"w":%d,"i":%d,"pad":%q}`, w, i, long)
				if err := l.Record(context.Background(), AuditEntry{Event: EventDecision, Tool: "update_group", Class: Write, Arguments: []byte(args), Decision: DecisionAllowed}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	lines := readLines(t, path)
	if len(lines) != writers*each {
		t.Fatalf("%d lines, want %d", len(lines), writers*each)
	}
	seen := map[string]bool{}
	for _, m := range lines {
		a := m["arguments"].(map[string]any)
		seen[fmt.Sprint(a["w"], "/", a["i"])] = true
	}
	if len(seen) != writers*each {
		t.Fatalf("%d distinct lines", len(seen))
	}
}

func TestAuditLogFailures(t *testing.T) {
	dir := t.TempDir()
	if _, err := NewAuditLog(dir); err == nil {
		t.Fatal("a directory is not an audit log")
	}
	if _, err := NewAuditLog(filepath.Join(dir, "no", "such", "dir", "audit.jsonl")); err == nil {
		t.Fatal("a missing directory is not created silently")
	}
	path := filepath.Join(dir, "audit.jsonl")
	l, err := NewAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	// The file is replaced by a directory after start-up.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	err = l.Record(context.Background(), AuditEntry{Event: EventDecision, Tool: "delete_group", Decision: DecisionConfirmed})
	if err == nil || !strings.Contains(err.Error(), "audit log") {
		t.Fatalf("got %v", err)
	}
	var pe *os.PathError
	if !errors.As(err, &pe) {
		t.Errorf("the cause is kept: %T", err)
	}
}

// TestMaskTextReview: the spellings the security review (issue 12 item 5)
// found unmasked or over-masked.
func TestMaskTextReview(t *testing.T) {
	cases := []struct{ name, in, want string }{
		// Phone numbers in any common spelling, alone or inside text.
		{"date then phone", "2026-12-01 303-555-0155", "2026-12-01 ***-***-0155"},
		{"phone then date", "303-555-0155 2026-12-01", "***-***-0155 2026-12-01"},
		{"slashes", "303/555/0133", "***/***/0133"},
		{"dots", "303.555.0177", "***.***.0177"},
		{"spaces", "303 555 0188", "*** *** 0188"},
		{"parentheses and +1", "+1 (303) 555-0199", "+* (***) ***-0199"},
		{"1 and dashes", "1-303-555-0111", "*-***-***-0111"},
		{"en dashes", "303–555–0122", "***–***–0122"},
		{"no-break spaces", "303\u00a0555\u00a00123", "***\u00a0***\u00a00123"},
		{"in a sentence", "call 303/555/0133, then 2026-12-01.", "call ***/***/0133, then 2026-12-01."},
		{"extension", "303-555-0155x204", "***-***-0155x204"},
		{"ext", "3035550155ext.204", "******0155ext.204"},
		{"after a colon", "tel:+13035550166", "tel:+*******0166"},
		{"US date and time", "12/01/2026 10:30", "12/01/2026 10:30"},
		{"dotted date", "01.12.2026 303.555.0177", "01.12.2026 ***.***.0177"},
		{"ISO timestamp", "2026-12-01T10:30:00.123456789Z", "2026-12-01T10:30:00.123456789Z"},
		{"IPv4 address", "dial tcp 192.168.100.200:443", "dial tcp 192.168.100.200:443"},
		// Ids stay readable: a record list must be identifiable.
		{"UUID", "123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-426614174000"},
		{"UUID of digits", "12345678-1234-1234-1234-123456789012", "12345678-1234-1234-1234-123456789012"},
		{"UUID upper case in text", "list 0B9E4F1A-2C3D-4E5F-8A9B-303555016600 updated", "list 0B9E4F1A-2C3D-4E5F-8A9B-303555016600 updated"},
		{"UUID next to a phone", "3035550166 123e4567-e89b-12d3-a456-426614174000", "******0166 123e4567-e89b-12d3-a456-426614174000"},
		{"hex id", "507f1f77bcf86cd799439011", "507f1f77bcf86cd799439011"},
		{"digits glued to letters", "req-7d1e3035550166ab", "req-7d1e3035550166ab"},
		// Credentials in URLs.
		{"URL userinfo and token", "https://u:PASS@hooks.example.com/in/42?token=TOK&org=1042#frag",
			"https://u:***@hooks.example.com/in/42?token=***&org=***#***"},
		{"URL user only", "https://ghp_abc123@hooks.example.com/x", "https://***@hooks.example.com/x"},
		{"URL password with a slash", "https://u:pa/ss@hooks.example.com/x", "https://u:***@hooks.example.com/x"},
		{"URL password with a question mark", "https://u:pa?ss@hooks.example.com/x", "https://u:***@hooks.example.com/x"},
		{"URL IPv6 host", "https://[::1]:8443/p@x", "https://[::1]:8443/p@x"},
		{"URL e-mail in the query", "https://h.example.com/p?to=a@b.example", "https://h.example.com/p?to=***"},
		{"URL in text", "POST https://hooks.example.com/a?sig=abc&api_key=k failed", "POST https://hooks.example.com/a?sig=***&api_key=*** failed"},
		{"URL keeps UUID path", "https://api.example.com/record-lists/123e4567-e89b-12d3-a456-426614174000?x=1",
			"https://api.example.com/record-lists/123e4567-e89b-12d3-a456-426614174000?x=***"},
		{"URL nested", "https://a.example.com/?next=https://b.example.com/?token=t", "https://a.example.com/?next=***"},
		{"URL with port", "http://127.0.0.1:8080/h?k=v", "http://127.0.0.1:8080/h?k=***"},
	}
	for _, c := range cases {
		if got := MaskText(c.in); got != c.want {
			t.Errorf("%s: MaskText(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

// TestMaskArgumentsReview: masking of decoded arguments for the review's
// cases: phone numbers given as JSON numbers, credentials in URLs and in
// webhook static_params, secret keys anywhere, UUIDs kept.
func TestMaskArgumentsReview(t *testing.T) {
	cases := []struct {
		name, in string
		want     map[string]any // top-level keys checked; others ignored
	}{
		{"phone as a JSON number", `{"caller_id":13035550166,"id":1042,"limit":100}`,
			map[string]any{"caller_id": "*******0166", "id": json.Number("1042"), "limit": json.Number("100")}},
		{"15-digit number", `{"n":123456789012345}`, map[string]any{"n": "***********2345"}},
		{"16-digit number is no phone", `{"n":1234567890123456}`, map[string]any{"n": json.Number("1234567890123456")}},
		{"9-digit number is an id", `{"n":900001234}`, map[string]any{"n": json.Number("900001234")}},
		{"negative and decimal numbers", `{"a":-13035550166,"b":1303555016.6}`,
			map[string]any{"a": "-*******0166", "b": json.Number("1303555016.6")}},
		{"phone numbers in an array", `{"numbers":[13035550166,"303/555/0133"]}`,
			map[string]any{"numbers": []any{"*******0166", "***/***/0133"}}},
		{"phone after a date", `{"note":"2026-12-01 303-555-0155"}`, map[string]any{"note": "2026-12-01 ***-***-0155"}},
		{"webhook URL", `{"webhook_url":"https://u:PASS@hooks.example.com/in?token=TOK"}`,
			map[string]any{"webhook_url": "https://u:***@hooks.example.com/in?token=***"}},
		{"static_params values", `{"static_params":[{"name":"source","value":"convirza"},{"name":"X-Api-Key","value":"K3Y"}]}`,
			map[string]any{"static_params": []any{
				map[string]any{"name": "source", "value": redacted},
				map[string]any{"name": "X-Api-Key", "value": redacted},
			}}},
		{"static_params cleared", `{"static_params":[]}`, map[string]any{"static_params": []any{}}},
		{"static_params null", `{"static_params":null}`, map[string]any{"static_params": nil}},
		{"static_params malformed", `{"static_params":["3035550166"]}`, map[string]any{"static_params": []any{"******0166"}}},
		{"secret name/value pair elsewhere", `{"headers":[{"name":"Authorization","value":"Bearer abc"},{"name":"Accept","value":"text/plain"}]}`,
			map[string]any{"headers": []any{
				map[string]any{"name": "Authorization", "value": redacted},
				map[string]any{"name": "Accept", "value": "text/plain"},
			}}},
		{"secret keys", `{"Authorization":"Bearer abc","api_key":"k","apiKey":"k","client_secret":"s","passwd":"p","x-auth":"a","oauth":"o","accessKey":"a","signature":"s","credentials":{"user":"u"}}`,
			map[string]any{"Authorization": redacted, "api_key": redacted, "apiKey": redacted, "client_secret": redacted,
				"passwd": redacted, "x-auth": redacted, "oauth": redacted, "accessKey": redacted, "signature": redacted, "credentials": redacted}},
		{"names that only look like secrets", `{"author":"Ann","keyword":"sales","agent_code":"A7","passenger":"x","monkey":"y"}`,
			map[string]any{"author": "Ann", "keyword": "sales", "agent_code": "A7", "passenger": "x", "monkey": "y"}},
		{"record list UUID", `{"record_list_id":"123e4567-e89b-12d3-a456-426614174000","ids":["12345678-1234-1234-1234-123456789012"]}`,
			map[string]any{"record_list_id": "123e4567-e89b-12d3-a456-426614174000", "ids": []any{"12345678-1234-1234-1234-123456789012"}}},
	}
	for _, c := range cases {
		got, ok := MaskArguments([]byte(c.in)).(map[string]any)
		if !ok {
			t.Errorf("%s: not an object", c.name)
			continue
		}
		for k, want := range c.want {
			if g := got[k]; fmt.Sprintf("%#v", g) != fmt.Sprintf("%#v", want) {
				t.Errorf("%s: %s = %#v, want %#v", c.name, k, g, want)
			}
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		for _, leaked := range []string{"13035550166", "PASS", "TOK", "K3Y", "Bearer"} {
			if strings.Contains(string(b), leaked) {
				t.Errorf("%s: %s leaked: %s", c.name, leaked, b)
			}
		}
	}
}

// TestMaskLinear: masking stays linear on inputs built to make a scanner
// backtrack or rescan (a quadratic pass over 1 MiB would take hours).
func TestMaskLinear(t *testing.T) {
	const size = 1 << 20
	for _, unit := range []string{
		"1-", "1 ", "1 1a", "+(", "(1) ", "2026-12-", "1.1.1.", "12345678-1234-1234-1234-12345678901-",
		"a://", "https://", "https://u:p", "://@", "?a=&", "x3035550166 ", "\u2013", "ext",
	} {
		s := strings.Repeat(unit, size/len(unit)) + "a"
		start := time.Now()
		MaskText(s)
		MaskArguments([]byte(`{"s":` + strconvQuote(s) + `}`))
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%q repeated: %v", unit, d)
		}
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
