package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// elicitID is the key of the confirmation question in an input request.
const elicitID = "confirm"

// Decisions recorded for each confirmation step.
const (
	DecisionAllowed              = "allowed"
	DecisionConfirmationRequired = "confirmation_required"
	DecisionConfirmed            = "confirmed"
	DecisionDeclined             = "declined"
	// DecisionDenied: refused by the policy or the confirmation protocol (a
	// bad token, a blocked preview, a client that cannot be asked).
	DecisionDenied = "denied"
	// DecisionOutOfScope: the call names org units outside the policy's scope.
	DecisionOutOfScope = "out_of_scope"
)

// Preview is what a confirmable call would do, fetched upstream before
// anyone is asked.
type Preview struct {
	// Action is one sentence saying exactly what will happen.
	Action string
	// Details is the structured preview shown with the question.
	Details any
	// Blocked, when set, says why the call cannot succeed: nobody is asked
	// and no token is issued.
	Blocked string
}

// Confirmer runs the confirmation protocol.
type Confirmer struct {
	Tokens *Tokens
	Mode   Mode
}

// Call is a confirmable tool call about to run.
type Call struct {
	Tool    string
	Args    []byte // canonical arguments, confirmation_token excluded
	Token   string // the confirmation_token argument, if any
	Request mcp.CallToolRequest
}

// Outcome says whether to run the call, and if not, what to answer.
type Outcome struct {
	Proceed  bool
	Result   *mcp.CallToolResult
	Decision string
	Action   string
}

// Check decides whether call may run now. When it may not, Outcome.Result
// is the answer to give: a question for the human, a confirmation token, or
// a refusal. preview is only called on a first, unconfirmed call.
func (c *Confirmer) Check(ctx context.Context, call Call, preview func(context.Context) (*Preview, error)) (Outcome, error) {
	b := Binding{Tool: call.Tool, Args: call.Args, Principal: caller(ctx)}
	p := call.Request.Params

	// An answer to a question this server asked.
	if p.RequestState != "" || len(p.InputResponses) > 0 {
		if err := c.Tokens.Redeem(PurposeElicit, p.RequestState, b); err != nil {
			return refuse(fmt.Sprintf("The confirmation answer could not be verified (%v). Nothing was done; call %s again to be asked anew.", err, call.Tool)), nil
		}
		ans := server.ElicitationResponse(p.InputResponses, elicitID)
		switch {
		case ans == nil:
			return refuse("No answer to the confirmation question was received. Nothing was done."), nil
		case ans.Action == mcp.ElicitationResponseActionAccept && confirmed(ans.Content):
			return Outcome{Proceed: true, Decision: DecisionConfirmed}, nil
		case ans.Action == mcp.ElicitationResponseActionAccept:
			return declined(call.Tool, "the user did not tick confirm"), nil
		case ans.Action == mcp.ElicitationResponseActionCancel:
			return declined(call.Tool, "the user cancelled"), nil
		default:
			return declined(call.Tool, "the user declined"), nil
		}
	}

	// The second call of the token protocol.
	if call.Token != "" {
		if err := c.Tokens.Redeem(PurposeToken, call.Token, b); err != nil {
			return refuse(fmt.Sprintf("Not done: %v. Nothing was executed. Call %s without confirmation_token to get a new one, show the action to the user, and retry only after they approve.", err, call.Tool)), nil
		}
		return Outcome{Proceed: true, Decision: DecisionConfirmed}, nil
	}

	// A first call: say what would happen, or why it cannot.
	pv, err := preview(ctx)
	if err != nil {
		return Outcome{}, err
	}
	if pv.Blocked != "" {
		o := refuse(pv.Blocked + " Nothing was done.")
		o.Action = pv.Action
		return o, nil
	}

	canElicit := ClientCanElicit(ctx)
	switch {
	case c.Mode == ModeElicitation && !canElicit:
		o := refuse(fmt.Sprintf("%s needs a human's confirmation, and this server only asks through the client's confirmation dialog (elicitation), which this client does not offer. Nothing was done; use a client that supports elicitation.", call.Tool))
		o.Action = pv.Action
		return o, nil
	case canElicit && c.Mode != ModeToken:
		state, _ := c.Tokens.Issue(PurposeElicit, b)
		res := server.NewInputRequestBuilder(state).Elicit(elicitID, mcp.ElicitationParams{
			Message: pv.Action + " Confirm?",
			RequestedSchema: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"confirm": map[string]any{"type": "boolean", "title": "Confirm", "description": pv.Action},
				},
				"required": []string{"confirm"},
			},
		}).ToolResult()
		return Outcome{Result: res, Decision: DecisionConfirmationRequired, Action: pv.Action}, nil
	}

	tok, exp := c.Tokens.Issue(PurposeToken, b)
	body := map[string]any{
		"status":             "confirmation_required",
		"action":             pv.Action,
		"confirmation_token": tok,
		"expires_at":         exp.UTC().Format(time.RFC3339),
	}
	if pv.Details != nil {
		body["preview"] = pv.Details
	}
	js, err := json.Marshal(body)
	if err != nil {
		return Outcome{}, fmt.Errorf("encode confirmation: %w", err)
	}
	text := fmt.Sprintf("Nothing was done yet. Show this action to the user: %q. Only if they approve, call %s again with the same arguments plus confirmation_token (valid until %s, once).\n%s",
		pv.Action, call.Tool, exp.UTC().Format(time.RFC3339), js)
	return Outcome{Result: mcp.NewToolResultStructured(body, text), Decision: DecisionConfirmationRequired, Action: pv.Action}, nil
}

func refuse(msg string) Outcome {
	return Outcome{Result: mcp.NewToolResultError(msg), Decision: DecisionDenied}
}

func declined(tool, why string) Outcome {
	body := map[string]any{"status": "declined", "message": fmt.Sprintf("Not done: %s. Nothing was changed.", why)}
	js, _ := json.Marshal(body)
	return Outcome{Result: mcp.NewToolResultStructured(body, string(js)), Decision: DecisionDeclined}
}

// confirmed reads {confirm: true} from an elicitation answer.
func confirmed(content any) bool {
	var m map[string]any
	switch v := content.(type) {
	case map[string]any:
		m = v
	default:
		b, err := json.Marshal(v)
		if err != nil || json.Unmarshal(b, &m) != nil {
			return false
		}
	}
	yes, ok := m["confirm"].(bool)
	return ok && yes
}

// ClientCanElicit reports whether the client of this request can be asked a
// form question: it declared the capability, and its transport can carry the
// question (legacy SSE sessions cannot).
func ClientCanElicit(ctx context.Context) bool {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		return formCapable(info.ClientCapabilities)
	}
	sess := server.ClientSessionFromContext(ctx)
	if sess == nil {
		return false
	}
	if _, ok := sess.(server.SessionWithElicitation); !ok {
		return false
	}
	ci, ok := sess.(server.SessionWithClientInfo)
	if !ok {
		return false
	}
	caps := ci.GetClientCapabilities()
	return formCapable(&caps)
}

func formCapable(caps *mcp.ClientCapabilities) bool {
	if caps == nil || caps.Elicitation == nil {
		return false
	}
	// An empty elicitation capability means form mode (the original form).
	return caps.Elicitation.Form != nil || caps.Elicitation.URL == nil
}

// caller identifies who a token is bound to: the authenticated principal
// and, where there is one, the session.
func caller(ctx context.Context) string {
	who := PrincipalFrom(ctx)
	if sess := server.ClientSessionFromContext(ctx); sess != nil {
		who += "|" + sess.SessionID()
	}
	return who
}
