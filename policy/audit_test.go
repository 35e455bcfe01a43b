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
