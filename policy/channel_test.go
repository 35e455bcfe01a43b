package policy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// TestOnlyThisModesChannelExecutes: a token or a form's request state that a
// person never saw through this mode's channel executes nothing, even when
// it verifies: one issued in mode token (the token alone) or a form answer
// from a server that asked through the client's dialog, redeemed at a
// server in mode approval sharing the key and the store (a mode changed at
// a restart, a replica not yet updated), or a form answer from a client
// not trusted to show the form to a person.
func TestOnlyThisModesChannelExecutes(t *testing.T) {
	st := testStore(t)
	tk, err := NewTokens([]byte(strings.Repeat("k", 32)), 5*time.Minute, st)
	if err != nil {
		t.Fatal(err)
	}
	call := Call{Tool: "delete_group", Args: []byte(`{"id":1042}`)}
	preview := func(context.Context) (*Preview, error) { return &Preview{Action: "Delete group 1042."}, nil }
	approval := &Confirmer{Tokens: tk, Approvals: NewApprovals(st), Mode: ModeApproval, Wait: time.Nanosecond}

	// A token from mode token.
	tokenMode := &Confirmer{Tokens: tk, Approvals: NewApprovals(st), Mode: ModeToken}
	o, err := tokenMode.Check(ctx, call, preview)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(o.Result.StructuredContent)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	tok, _ := body["confirmation_token"].(string)
	if tok == "" {
		t.Fatalf("no token: %s", raw)
	}
	withTok := call
	withTok.Token = tok
	if o, err := approval.Check(ctx, withTok, preview); err != nil || o.Proceed {
		t.Fatalf("mode approval ran a call on a mode-token token nobody approved: %+v %v", o, err)
	}

	// A form's request state, answered "accept, confirm".
	state, _, err := tk.Issue(ctx, PurposeElicit, Binding{Tool: call.Tool, Args: call.Args, Principal: caller(ctx)})
	if err != nil {
		t.Fatal(err)
	}
	answer := func() Call {
		a := call
		a.Request.Params.RequestState = state
		a.Request.Params.InputResponses = mcp.InputResponses{elicitID: mcp.NewElicitationInputResponse(mcp.ElicitationResult{
			ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"confirm": true}},
		})}
		return a
	}
	if o, err := approval.Check(ctx, answer(), preview); err != nil || o.Proceed {
		t.Fatalf("mode approval took a form answer: %+v %v", o, err)
	}
	state, _, err = tk.Issue(ctx, PurposeElicit, Binding{Tool: call.Tool, Args: call.Args, Principal: caller(ctx)})
	if err != nil {
		t.Fatal(err)
	}
	auto := &Confirmer{Tokens: tk, Approvals: NewApprovals(st), Mode: ModeAuto}
	if o, err := auto.Check(WithUntrustedElicitation(ctx), answer(), preview); err != nil || o.Proceed {
		t.Fatalf("an untrusted client's form answer was taken: %+v %v", o, err)
	}
}
