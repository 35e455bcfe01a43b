package policy

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfirmerStepsForTheAudit: each step of an out-of-band confirmation
// says what it is, through which channel, who decided and which approval:
// requested, waiting (redeemed too early), approved (by whom, how), and
// expired (a token redeemed too late).
func TestConfirmerStepsForTheAudit(t *testing.T) {
	st := testStore(t)
	tk, err := NewTokens([]byte(strings.Repeat("k", 32)), 5*time.Minute, st)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tk.now = func() time.Time { return now }
	c := &Confirmer{Tokens: tk, Approvals: NewApprovals(st), Mode: ModeApproval, Wait: time.Nanosecond}
	call := Call{Tool: "delete_group", Args: []byte(`{"id":1042}`)}
	preview := func(context.Context) (*Preview, error) {
		return &Preview{Action: "Delete group 1042.", Snapshot: map[string]any{"org_unit_id": 1042}}, nil
	}
	check := func(tok string) Outcome {
		t.Helper()
		cl := call
		cl.Token = tok
		o, err := c.Check(ctx, cl, preview)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	tokenOf := func(o Outcome) string {
		t.Helper()
		b, _ := json.Marshal(o.Result.StructuredContent)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		tok, _ := body["confirmation_token"].(string)
		if tok == "" {
			t.Fatalf("no token in %s", b)
		}
		return tok
	}

	req := check("")
	tok := tokenOf(req)
	if req.Proceed || req.Step != StepRequested || req.Channel != ChannelPage || req.ApprovalID == "" || req.Snapshot == nil {
		t.Fatalf("requested: %+v", req)
	}
	if o := check(tok); o.Proceed || o.Step != StepWaiting || o.Channel != ChannelPage || o.ApprovalID != req.ApprovalID || o.Decision != DecisionPending {
		t.Fatalf("waiting: %+v", o)
	}
	if _, err := c.Approvals.Decide(ctx, req.ApprovalID, true, "cli:ann@desk", ChannelCLI); err != nil {
		t.Fatal(err)
	}
	if o := check(tok); !o.Proceed || o.Step != StepApproved || o.Channel != ChannelCLI || o.Approver != "cli:ann@desk" || o.ApprovalID != req.ApprovalID {
		t.Fatalf("approved: %+v", o)
	}

	// Approved, but redeemed after the token expired: nothing runs.
	late := check("")
	lateTok := tokenOf(late)
	if _, err := c.Approvals.Decide(ctx, late.ApprovalID, true, "cli:ann@desk", ChannelCLI); err != nil {
		t.Fatal(err)
	}
	now = now.Add(6 * time.Minute)
	if o := check(lateTok); o.Proceed || o.Step != StepExpired || o.ApprovalID != late.ApprovalID || o.Decision != DecisionDenied {
		t.Fatalf("expired: %+v", o)
	}
}

// TestAuditLogStepsReplicaSnapshot: a line carries the confirmation step,
// channel, approver, approval id and replica, and a deletion's snapshot
// masked like arguments.
func TestAuditLogStepsReplicaSnapshot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := NewAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	l.Replica = "replica-2"
	snap := map[string]any{"webhook_name": "Dispatch", "static_params": []any{map[string]any{"name": "k", "value": "s3cret"}},
		"phone_number": "+13035550100"}
	if err := l.Record(ctx, AuditEntry{CallID: "c1", Event: EventOutcome, Tool: "delete_webhook", Class: Destructive, Outcome: "ok",
		Step: StepExecuted, Channel: ChannelCLI, Approver: "cli:ann@desk", ApprovalID: "abcd2345", Snapshot: snap}); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(ctx, AuditEntry{CallID: "c2", Event: EventDecision, Tool: "update_group", Class: Write, Decision: DecisionAllowed}); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	o := lines[0]
	if o["step"] != "executed" || o["channel"] != "cli" || o["approver"] != "cli:ann@desk" || o["approval_id"] != "abcd2345" || o["replica"] != "replica-2" {
		t.Errorf("outcome line: %v", o)
	}
	b, _ := json.Marshal(o["snapshot"])
	if s := string(b); strings.Contains(s, "s3cret") || strings.Contains(s, "3035550100") || !strings.Contains(s, "Dispatch") || !strings.Contains(s, "+*******0100") {
		t.Errorf("snapshot not masked like arguments: %s", s)
	}
	if w := lines[1]; w["replica"] != "replica-2" || w["step"] != nil || w["snapshot"] != nil || w["channel"] != nil {
		t.Errorf("a plain write's line: %v", w)
	}
}
