package tools_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/tools"
)

// TestDeletionsSnapshotForTheAudit: every destructive tool, confirmed and
// run, leaves on its audit outcome line (step executed) a snapshot of what
// it deleted, read just before, masked like arguments, so a person could
// recreate it. A new destructive tool without a case here fails the test.
func TestDeletionsSnapshotForTheAudit(t *testing.T) {
	cases := []struct {
		tool, args string
		want       []string // in the snapshot's JSON
	}{
		// The group first: deleting its route, webhook... does not change it.
		{"delete_group", `{"id":1042}`, []string{`"org_unit_name":"Denver Office"`, `"org_unit_status":"active"`}},
		{"delete_user", `{"id":12345}`, []string{`"john.smith@summit-demo.example"`}},
		{"delete_webhook", `{"id":3}`, []string{`"Denver dispatch board"`}},
		{"delete_media_prompt", `{"id":3002}`, []string{`3002`}},
		{"delete_voice_agent", `{"id":801}`, []string{`801`, `"org_unit_id":1042`}},
		{"delete_provisioned_route", `{"id":7001}`, []string{`"Denver Google Ads"`, `"******0100"`}},
		{"release_phone_number", `{"number":"3035550100"}`, []string{`"routes"`, `0100"`}},
		{"delete_broadcast", `{"id":3006}`, []string{`"Spring Sale Final Days"`}},
		{"delete_tags", `{"org_unit_id":1042,"tag_ids":[221]}`, []string{`221`}},
		{"delete_records", fmt.Sprintf(`{"record_list_id":%q,"phone_numbers":["+13035550103"]}`, sandbox.SpringCampaignListID), []string{`"records":[{`, `0103"`}},
		{"delete_record_list", fmt.Sprintf(`{"id":%q}`, sandbox.WinBackListID), []string{`"Win-back Q3"`}},
	}
	var destructive []string
	for _, tl := range tools.All() {
		if tl.Class == policy.Destructive {
			destructive = append(destructive, tl.Name)
		}
	}
	var covered []string
	for _, c := range cases {
		covered = append(covered, c.tool)
	}
	slices.Sort(destructive)
	slices.Sort(covered)
	if !slices.Equal(destructive, covered) {
		t.Fatalf("destructive tools %v, cases for %v", destructive, covered)
	}

	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	env := testenv.New(t, testenv.Options{Policy: fmt.Sprintf("toolsets: [all]\naudit:\n  file: %s\n", audit)})
	for _, c := range cases {
		first := env.OK(t, c.tool, c.args)
		tok := env.Approved(t, first)
		if tok == "" {
			t.Fatalf("%s: %v", c.tool, first)
		}
		var args map[string]any
		if err := json.Unmarshal([]byte(c.args), &args); err != nil {
			t.Fatal(err)
		}
		args["confirmation_token"] = tok
		b, _ := json.Marshal(args)
		env.OK(t, c.tool, string(b))
	}

	f, err := os.Open(audit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	snaps := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		tool := fmt.Sprint(l["tool"])
		switch {
		case l["event"] == "outcome":
			if l["step"] != "executed" || l["outcome"] != "ok" || l["snapshot"] == nil {
				t.Errorf("%s: outcome line: %v", tool, l)
			}
			b, _ := json.Marshal(l["snapshot"])
			snaps[tool] = string(b)
		case l["snapshot"] != nil:
			t.Errorf("%s: a snapshot on a %v line: %v", tool, l["step"], l)
		}
	}
	for _, c := range cases {
		s := snaps[c.tool]
		for _, w := range c.want {
			if !strings.Contains(s, w) {
				t.Errorf("%s: snapshot lacks %s: %s", c.tool, w, s)
			}
		}
		if strings.Contains(s, "3035550100") || strings.Contains(s, "3035550103") {
			t.Errorf("%s: snapshot holds a whole phone number: %s", c.tool, s)
		}
	}
}
