package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/policy"
)

// Guards are the policy's hooks around every tool call: the confirmation
// gate, the audit log and the org-unit scope. Only
// Confirm is needed; nil Audit and Scope add nothing.
type Guards struct {
	Confirm *policy.Confirmer
	Audit   policy.Auditor
	Scope   *policy.Scope
}

// Withheld puts a call to a tool the plan does not serve on the audit
// record: unknown to the client ("not found"), it is still a refusal worth
// recording. Full mode records it from a server hook, compact mode when
// call_tool names it.
func (g Guards) Withheld(ctx context.Context, d *Deps, name string, w Withheld, args []byte) {
	g.denied(ctx, d, name, w.Class, args, "not served: "+w.Why)
}

// Refused puts on the audit record a call refused to its person before it
// ran, why being MayUse's sentence (their role, the policy's deny_for).
func (g Guards) Refused(ctx context.Context, d *Deps, t *Tool, args []byte, why string) {
	g.denied(ctx, d, t.Name, t.Class, args, "not the person's to use: "+why)
}

func (g Guards) denied(ctx context.Context, d *Deps, name string, class policy.Class, args []byte, reason string) {
	if g.Audit == nil {
		return
	}
	err := g.Audit.Record(ctx, policy.AuditEntry{CallID: policy.NewCallID(), Event: policy.EventDecision, Tool: name, Class: class,
		Arguments: args, Decision: policy.DecisionDenied, Reason: reason})
	if err != nil && d != nil && d.Log != nil {
		d.Log.Error("audit log write failed", "tool", name, "err", err)
	}
}

// guarded is one call on its way through the guards.
type guarded struct {
	g   Guards
	d   *Deps
	t   *Tool
	ctx context.Context
	id  string
	c   call
}

func (g Guards) begin(ctx context.Context, d *Deps, t *Tool, c call) *guarded {
	return &guarded{g: g, d: d, t: t, ctx: ctx, id: policy.NewCallID(), c: c}
}

// writes: the call changes something, or the policy wants it confirmed, so
// its execution must be on record before it happens.
func (c *guarded) writes() bool { return c.t.Class != policy.Read || c.t.Confirmable() }

func (c *guarded) record(e policy.AuditEntry) error {
	if c.g.Audit == nil {
		return nil
	}
	e.CallID, e.Tool, e.Class = c.id, c.t.Name, c.t.Class
	err := c.g.Audit.Record(c.ctx, e)
	if err != nil && c.d != nil && c.d.Log != nil {
		c.d.Log.Error("audit log write failed", "tool", c.t.Name, "event", e.Event, "decision", e.Decision, "err", err)
	}
	return err
}

// scope limits the call to the policy's org units; a refusal is recorded
// and returned as the answer.
func (c *guarded) scope() *mcp.CallToolResult {
	if c.g.Scope == nil {
		return nil
	}
	err := c.t.limitToScope(c.ctx, c.d, c.g.Scope, c.c)
	if err == nil {
		return nil
	}
	var (
		oos  *policy.OutOfScopeError
		need *policy.NeedOrgUnitError
		unsc *policy.UnscopedCallError
	)
	decision, res := policy.DecisionOutOfScope, errorResult(c.t.Name, err)
	if !errors.As(err, &oos) && !errors.As(err, &need) && !errors.As(err, &unsc) {
		// The scope fails closed: what cannot be checked is not done.
		decision = policy.DecisionDenied
		res = mcp.NewToolResultError(fmt.Sprintf("%s: refused: the org-unit scope could not be checked (%v). Nothing was done.", c.t.Name, err))
	}
	_ = c.record(policy.AuditEntry{Event: policy.EventDecision, Arguments: c.c.canonical(), Decision: decision, Reason: resultText(res)})
	return res
}

// confirmStep records a confirmation step that does not execute (a question
// asked, a token issued, a decline, a refusal).
func (c *guarded) confirmStep(out policy.Outcome) {
	e := policy.AuditEntry{Event: policy.EventDecision, Arguments: c.c.canonical(), Decision: out.Decision, Action: out.Action}
	if out.Decision != policy.DecisionConfirmationRequired && out.Result != nil {
		e.Reason = resultText(out.Result)
	}
	withStep(&e, &out, out.Step)
	_ = c.record(e)
}

// withStep adds a confirmation's step, channel, approver and approval to
// an audit entry; conf is nil for a call that needed no confirmation.
func withStep(e *policy.AuditEntry, conf *policy.Outcome, step string) {
	if conf == nil {
		return
	}
	e.Step, e.Channel, e.Approver, e.ApprovalID = step, conf.Channel, conf.Approver, conf.ApprovalID
}

// beforeRun puts a call that writes on record before it executes, with the
// confirmation that let it (conf, nil when none was needed); when that
// fails, the call is refused and nothing is executed.
func (c *guarded) beforeRun(decision string, conf *policy.Outcome) *mcp.CallToolResult {
	if !c.writes() {
		return nil
	}
	e := policy.AuditEntry{Event: policy.EventDecision, Arguments: c.c.canonical(), Decision: decision}
	if conf != nil {
		withStep(&e, conf, conf.Step)
	}
	if err := c.record(e); err != nil {
		return mcp.NewToolResultError(fmt.Sprintf("%s: refused: the audit log could not be written (%v). Nothing was executed; ask the operator to fix the audit log.", c.t.Name, err))
	}
	return nil
}

// snapshot reads, for the audit record, the object a confirmed deletion is
// about to remove, as it is now: the tool's preview read again (the one
// the person saw may be minutes old). Only with an audit log, the one
// place it goes; a failed read is noted there and does not stop the call
// a person approved.
func (c *guarded) snapshot(conf *policy.Outcome) (snap any, note string) {
	if c.g.Audit == nil || conf == nil || c.t.Class != policy.Destructive {
		return nil, ""
	}
	if conf.Snapshot != nil {
		return conf.Snapshot, ""
	}
	pv, err := c.c.preview(c.ctx, c.d)
	switch {
	case err != nil:
		return nil, fmt.Sprintf("no snapshot: the object could not be read before it was deleted (%v)", err)
	case pv.Snapshot == nil:
		return nil, "no snapshot: the object could not be found before it was deleted"
	}
	return pv.Snapshot, ""
}

// afterRun records the outcome of a call that writes (with the step
// executed and the snapshot of a deletion, for a confirmed call), and makes
// the scope forget hierarchies the write may have changed.
func (c *guarded) afterRun(v any, err error, conf *policy.Outcome, snap any, note string) {
	if !c.writes() {
		return
	}
	if c.g.Scope != nil && c.t.Class != policy.Read {
		c.g.Scope.Forget()
	}
	e := policy.AuditEntry{Event: policy.EventOutcome, Outcome: "ok", RequestID: requestID(v, err), Snapshot: snap, Reason: note}
	if err != nil {
		e.Outcome, e.Error = "error", resultText(errorResult(c.t.Name, err))
	}
	withStep(&e, conf, policy.StepExecuted)
	_ = c.record(e)
}

// execute runs the call: a list under a scope through its scoped reader,
// anything else as it is.
func (c *guarded) execute(call call) (any, error) {
	if c.g.Scope != nil && c.t.scope.lists {
		in, err := c.g.Scope.Members(c.ctx)
		if err != nil {
			return nil, err
		}
		if v, ok, err := call.runScoped(c.ctx, c.d, in); ok {
			return v, err
		}
	}
	return call.run(c.ctx, c.d)
}

// filter trims a result to the scope.
func (c *guarded) filter(v any) (any, error) {
	if c.g.Scope == nil || !c.t.scope.trims {
		return v, nil
	}
	in, err := c.g.Scope.Members(c.ctx)
	if err != nil {
		return nil, err
	}
	return c.c.trim(v, in)
}

// requestID finds the upstream request id of a result or error.
func requestID(v any, err error) string {
	var (
		ae *upstream.APIError
		me *upstream.MalformedError
	)
	switch {
	case errors.As(err, &ae):
		return ae.RequestID
	case errors.As(err, &me):
		return me.RequestID
	case err != nil || v == nil:
		return ""
	}
	b, jerr := json.Marshal(v)
	if jerr != nil {
		return ""
	}
	var m struct {
		RequestID string `json:"request_id"`
	}
	_ = json.Unmarshal(b, &m)
	return m.RequestID
}

// resultText joins the text contents of a result.
func resultText(res *mcp.CallToolResult) string {
	s := ""
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			if s != "" {
				s += "\n"
			}
			s += tc.Text
		}
	}
	return s
}
