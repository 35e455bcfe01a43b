package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Input request ids of the questions this server asks.
const (
	elicitID    = "confirm"
	elicitURLID = "approve"
	// urlState prefixes the request state of a URL elicitation: the
	// pending token it waits on.
	urlState = "url:"
)

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
	// DecisionPending: the call waits for an approver.
	DecisionPending = "pending"
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
	// Snapshot is the object a deletion removes, as it was, for the audit
	// record (so a person could recreate it).
	Snapshot any
}

// Pages are the approval pages a person decides on.
type Pages interface {
	// URL is the page of an approval to hand to a client that opens URLs
	// for its person (URL elicitation), or to name in an answer; ok is
	// false when there is no such page.
	URL(ctx context.Context, approvalID string) (url string, ok bool)
	// Show puts the page in front of the person where the server can (a
	// desktop browser, for a stdio server) and returns a sentence saying
	// so, or "".
	Show(ctx context.Context, approvalID string) string
}

// SecretURLs is implemented by Pages whose URL carries a single-use secret
// (the desktop page of a stdio server, traded for a cookie on first load):
// such a URL is for the client's own UI (URL elicitation) and is never
// named in a result the model reads.
type SecretURLs interface {
	URLsCarrySecrets() bool
}

func carriesSecrets(p Pages) bool {
	s, ok := p.(SecretURLs)
	return ok && s.URLsCarrySecrets()
}

// Confirmer runs the confirmation protocol: only a person approves, through
// a channel the model does not control, except in mode token.
type Confirmer struct {
	Tokens    *Tokens
	Approvals *Approvals
	Mode      Mode
	// Pages, when set, serve approvals on pages; nil: only the approvals
	// command can decide.
	Pages Pages
	// Notify announces a new pending approval (the approval webhook).
	Notify func(context.Context, Approval)
	// Wait bounds how long a redemption waits for a pending approval
	// (default 30 s); URLWait how long a URL elicitation waits for the
	// person after the client opened the page (default 60 s).
	Wait, URLWait time.Duration
}

// Call is a confirmable tool call about to run.
type Call struct {
	Tool    string
	Args    []byte // canonical arguments, confirmation_token excluded
	Token   string // the confirmation_token argument, if any
	Request mcp.CallToolRequest
	// Masked are the arguments as an approver may see them (secrets and
	// phone numbers masked).
	Masked json.RawMessage
}

// Outcome says whether to run the call, and if not, what to answer.
type Outcome struct {
	Proceed  bool
	Result   *mcp.CallToolResult
	Decision string
	Action   string
	// Step, Channel, Approver and ApprovalID are for the audit record.
	Step, Channel, Approver, ApprovalID string
	// Snapshot is the preview's object as it was (deletions).
	Snapshot any
}

// Check decides whether call may run now. When it may not, Outcome.Result
// is the answer to give: a question for the person, a pending approval, or
// a refusal. preview is only called on a first, unconfirmed call.
func (c *Confirmer) Check(ctx context.Context, call Call, preview func(context.Context) (*Preview, error)) (Outcome, error) {
	b := Binding{Tool: call.Tool, Args: call.Args, Principal: caller(ctx)}
	p := call.Request.Params

	// An answer to a question this server asked.
	if p.RequestState != "" || len(p.InputResponses) > 0 {
		if tok, ok := strings.CutPrefix(p.RequestState, urlState); ok {
			return c.urlAnswer(ctx, call, b, tok)
		}
		return c.formAnswer(ctx, call, b)
	}

	// The second call: a token given back.
	if call.Token != "" {
		return c.redeem(ctx, call, b, call.Token, c.wait(c.Wait, 30*time.Second))
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

	switch ch := c.channel(ctx); ch {
	case ChannelElicitation:
		return c.askForm(ctx, b, pv)
	case ChannelURL:
		return c.askURL(ctx, call, b, pv)
	case ChannelPage:
		return c.pending(ctx, call, b, pv)
	case ChannelToken:
		return c.tokenOnly(ctx, call, b, pv)
	default:
		o := refuse(fmt.Sprintf("%s needs a person's confirmation, and this server only asks through the client's confirmation dialog (elicitation), which this client does not offer (or is not trusted to show to a person). Nothing was done; use a client that supports elicitation.", call.Tool))
		o.Action = pv.Action
		return o, nil
	}
}

// channel chooses how to ask, best first, as the mode allows: the client's
// own dialog when it is trusted to show it to a person, the approval page
// opened by the client, else out of band.
func (c *Confirmer) channel(ctx context.Context) string {
	form := ClientCanElicit(ctx) && ElicitationTrusted(ctx)
	url := ClientCanElicitURL(ctx) && c.Pages != nil
	switch c.Mode {
	case ModeToken:
		return ChannelToken
	case ModeApproval:
		return ChannelPage
	case ModeElicitation:
		switch {
		case form:
			return ChannelElicitation
		case url:
			return ChannelURL
		}
		return ""
	}
	switch {
	case form:
		return ChannelElicitation
	case url:
		return ChannelURL
	}
	return ChannelPage
}

// askForm asks through the client's form: the answer comes back with the
// request state this server signed.
func (c *Confirmer) askForm(ctx context.Context, b Binding, pv *Preview) (Outcome, error) {
	state, _, err := c.Tokens.Issue(ctx, PurposeElicit, b)
	if err != nil {
		return Outcome{}, err
	}
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
	return Outcome{Result: res, Decision: DecisionConfirmationRequired, Action: pv.Action, Step: "requested", Channel: ChannelElicitation, Snapshot: pv.Snapshot}, nil
}

// formAnswer reads the answer to askForm's question.
func (c *Confirmer) formAnswer(ctx context.Context, call Call, b Binding) (Outcome, error) {
	p := call.Request.Params
	if c.Mode == ModeApproval || c.Mode == ModeToken || !ElicitationTrusted(ctx) {
		// This server would not ask this client's dialog now (mode
		// approval or token, or a client not trusted to show it to a
		// person): an answer to an earlier question (before a restart, at
		// another replica) is no person's yes.
		return refuse(fmt.Sprintf("%s cannot be confirmed through the client's dialog here. Nothing was done; call %s again without an answer to be told how to confirm it.", call.Tool, call.Tool)), nil
	}
	if err := c.Tokens.Redeem(ctx, PurposeElicit, p.RequestState, b); err != nil {
		if errors.Is(err, ErrStoreDown) {
			return Outcome{}, err
		}
		o := refuse(fmt.Sprintf("The confirmation answer could not be verified (%v). Nothing was done; call %s again to be asked anew.", err, call.Tool))
		if errors.Is(err, ErrTokenExpired) {
			o.Step, o.Channel = StepExpired, ChannelElicitation
		}
		return o, nil
	}
	ans := server.ElicitationResponse(p.InputResponses, elicitID)
	switch {
	case ans == nil:
		return refuse("No answer to the confirmation question was received. Nothing was done."), nil
	case ans.Action == mcp.ElicitationResponseActionAccept && confirmed(ans.Content):
		return Outcome{Proceed: true, Decision: DecisionConfirmed, Step: "approved", Channel: ChannelElicitation, Approver: "the client's user"}, nil
	case ans.Action == mcp.ElicitationResponseActionAccept:
		return declined(call.Tool, "the user did not tick confirm", ChannelElicitation), nil
	case ans.Action == mcp.ElicitationResponseActionCancel:
		return declined(call.Tool, "the user cancelled", ChannelElicitation), nil
	default:
		return declined(call.Tool, "the user declined", ChannelElicitation), nil
	}
}

// request puts a pending approval on record and announces it.
func (c *Confirmer) request(ctx context.Context, call Call, b Binding, pv *Preview) (tok string, exp time.Time, ap *Approval, err error) {
	tok, exp, nonce, err := c.Tokens.IssuePending(ctx, b)
	if err != nil {
		return "", time.Time{}, nil, err
	}
	args := call.Masked
	if len(args) == 0 && len(call.Args) > 0 {
		// What an approver sees: the call's arguments, masked as in the
		// audit log.
		args, _ = json.Marshal(MaskArguments(call.Args))
	}
	ap = &Approval{ID: newApprovalID(), Tool: call.Tool, Action: pv.Action, Arguments: args, Preview: pv.Details,
		Requester: requesterOf(ctx), Principal: PrincipalFrom(ctx), Requested: time.Now().UTC(), Expires: exp, Nonce: nonce}
	if err := c.Approvals.open(ctx, ap); err != nil {
		return "", time.Time{}, nil, err
	}
	if c.Notify != nil {
		c.Notify(ctx, *ap)
	}
	return tok, exp, ap, nil
}

// pending answers a first call with a pending approval a person decides
// out of band: the token it carries executes nothing before that.
func (c *Confirmer) pending(ctx context.Context, call Call, b Binding, pv *Preview) (Outcome, error) {
	tok, exp, ap, err := c.request(ctx, call, b, pv)
	if err != nil {
		return Outcome{}, err
	}
	return c.pendingAnswer(ctx, call, pv, tok, exp, ap)
}

// pendingAnswer tells the assistant about the pending approval ap, which
// tok redeems once a person approved it.
func (c *Confirmer) pendingAnswer(ctx context.Context, call Call, pv *Preview, tok string, exp time.Time, ap *Approval) (Outcome, error) {
	how := fmt.Sprintf("run `convirza-mcp approvals approve %s` in a terminal", ap.ID)
	if c.Pages != nil {
		if shown := c.Pages.Show(ctx, ap.ID); shown != "" {
			how = shown + "; or " + how
		} else if !carriesSecrets(c.Pages) {
			if u, ok := c.Pages.URL(ctx, ap.ID); ok {
				how = "open " + u + " and approve it (approver sign-in); or " + how
			}
		}
	}
	approve := fmt.Sprintf("A person must approve this outside the assistant: %s.", how)
	body := map[string]any{
		"status":             "confirmation_required",
		"action":             pv.Action,
		"confirmation_token": tok,
		"expires_at":         exp.UTC().Format(time.RFC3339),
		"approval_id":        ap.ID,
		"approve":            approve,
	}
	if pv.Details != nil {
		body["preview"] = pv.Details
	}
	js, err := json.Marshal(body)
	if err != nil {
		return Outcome{}, fmt.Errorf("encode confirmation: %w", err)
	}
	text := fmt.Sprintf("Nothing was done yet. %s Tell the user: %q, approval %s. After a person approved it, call %s again with the same arguments plus confirmation_token (valid until %s, once); before that the call answers \"waiting for approval\".\n%s",
		approve, pv.Action, ap.ID, call.Tool, exp.UTC().Format(time.RFC3339), js)
	return Outcome{Result: mcp.NewToolResultStructured(body, text), Decision: DecisionConfirmationRequired, Action: pv.Action,
		Step: "requested", Channel: ChannelPage, ApprovalID: ap.ID, Snapshot: pv.Snapshot}, nil
}

// tokenOnly is mode token: the token alone executes. For scripted agents
// whose caller is the accountable party; not a person's check.
func (c *Confirmer) tokenOnly(ctx context.Context, call Call, b Binding, pv *Preview) (Outcome, error) {
	tok, exp, err := c.Tokens.Issue(ctx, PurposeToken, b)
	if err != nil {
		return Outcome{}, err
	}
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
	return Outcome{Result: mcp.NewToolResultStructured(body, text), Decision: DecisionConfirmationRequired, Action: pv.Action,
		Step: "requested", Channel: ChannelToken, Snapshot: pv.Snapshot}, nil
}

// askURL hands the client the approval page to open for its person.
func (c *Confirmer) askURL(ctx context.Context, call Call, b Binding, pv *Preview) (Outcome, error) {
	tok, exp, ap, err := c.request(ctx, call, b, pv)
	if err != nil {
		return Outcome{}, err
	}
	u, ok := c.Pages.URL(ctx, ap.ID)
	if !ok {
		// No page to open: the approval just opened is decided out of
		// band (not a second one, announced twice).
		return c.pendingAnswer(ctx, call, pv, tok, exp, ap)
	}
	res := server.NewInputRequestBuilder(urlState+tok).Elicit(elicitURLID, mcp.ElicitationParams{
		Mode: mcp.ElicitationModeURL, ElicitationID: ap.ID, URL: u,
		Message: pv.Action + " Approve or decline it on this page.",
	}).ToolResult()
	return Outcome{Result: res, Decision: DecisionConfirmationRequired, Action: pv.Action, Step: "requested", Channel: ChannelURL,
		ApprovalID: ap.ID, Snapshot: pv.Snapshot}, nil
}

// urlAnswer: the client opened the page (accept), or would not. An accept
// is not an approval: the server waits for the person's decision on the
// page, and without one in time answers as out of band.
func (c *Confirmer) urlAnswer(ctx context.Context, call Call, b Binding, tok string) (Outcome, error) {
	ans := server.ElicitationResponse(call.Request.Params.InputResponses, elicitURLID)
	if ans == nil || ans.Action != mcp.ElicitationResponseActionAccept {
		// Not opened: the approval stays pending for the pages and the
		// approvals command; the token is handed over as out of band.
		return c.redeem(ctx, call, b, tok, 0)
	}
	return c.redeem(ctx, call, b, tok, c.wait(c.URLWait, 60*time.Second))
}

// redeem executes a token once a person approved it, waiting up to wait
// for a pending one (sending progress), and answers what stands.
func (c *Confirmer) redeem(ctx context.Context, call Call, b Binding, tok string, wait time.Duration) (Outcome, error) {
	deadline := time.Now().Add(wait)
	progress := 0
	for {
		var err error
		if c.Mode == ModeToken {
			err = c.Tokens.Redeem(ctx, PurposeToken, tok, b)
		} else {
			// Only a token a person approved executes: not one issued
			// under mode token (before a restart, at another replica).
			err = c.Tokens.RedeemApproved(ctx, tok, b)
		}
		switch {
		case err == nil:
			o := Outcome{Proceed: true, Decision: DecisionConfirmed, Step: "approved", Channel: ChannelToken}
			if c.Mode != ModeToken {
				o.Channel = ChannelPage
				if ap := c.approvalOf(ctx, tok); ap != nil {
					o.ApprovalID, o.Approver, o.Channel = ap.ID, ap.Approver, ap.Channel
				}
			}
			return o, nil
		case errors.Is(err, ErrDeclined):
			o := declined(call.Tool, "a person declined it", ChannelPage)
			if ap := c.approvalOf(ctx, tok); ap != nil {
				o.ApprovalID, o.Approver, o.Channel = ap.ID, ap.Approver, ap.Channel
			}
			return o, nil
		case errors.Is(err, ErrStoreDown):
			return Outcome{}, err
		case !errors.Is(err, ErrPending):
			o := refuse(fmt.Sprintf("Not done: %v. Nothing was executed. Call %s without confirmation_token to start again.", err, call.Tool))
			if errors.Is(err, ErrTokenExpired) {
				o.Step = StepExpired
				if ap := c.approvalOf(ctx, tok); ap != nil {
					o.ApprovalID = ap.ID
				}
			}
			return o, nil
		}
		if !time.Now().Before(deadline) {
			ap := c.approvalOf(ctx, tok)
			id := ""
			if ap != nil {
				id = " " + ap.ID
			}
			o := refuse(fmt.Sprintf("Not done: waiting for approval%s. Nothing was executed; the confirmation_token stays valid until it expires. Ask the user to approve it (the approval page, or `convirza-mcp approvals approve%s`), then call %s again with the same token.", id, id, call.Tool))
			o.Decision, o.Step, o.Channel = DecisionPending, StepWaiting, ChannelPage
			if ap != nil {
				o.ApprovalID = ap.ID
			}
			return o, nil
		}
		progress++
		notifyProgress(ctx, call.Request, progress, "waiting for a person to approve")
		t := time.NewTimer(pollEvery(progress))
		select {
		case <-ctx.Done():
			t.Stop()
			return refuse("Not done: the call was cancelled while waiting for approval. Nothing was executed."), nil
		case <-t.C:
		}
	}
}

// pollEvery spaces the reads of a pending approval: quick at first, then
// once a second.
func pollEvery(n int) time.Duration {
	if n < 10 {
		return 200 * time.Millisecond
	}
	return time.Second
}

func (c *Confirmer) wait(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// approvalOf finds the approval a token belongs to, for the audit record.
func (c *Confirmer) approvalOf(ctx context.Context, tok string) *Approval {
	if c.Approvals == nil {
		return nil
	}
	nonce, err := c.Tokens.Nonce(tok)
	if err != nil {
		return nil
	}
	ap, err := c.Approvals.byNonce(ctx, nonce)
	if err != nil {
		return nil
	}
	return ap
}

// notifyProgress tells a client that asked for progress that the call is
// still waiting.
func notifyProgress(ctx context.Context, req mcp.CallToolRequest, n int, msg string) {
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil {
		return
	}
	srv := server.ServerFromContext(ctx)
	if srv == nil {
		return
	}
	_ = srv.SendNotificationToClient(ctx, "notifications/progress", map[string]any{
		"progressToken": req.Params.Meta.ProgressToken, "progress": n, "message": msg,
	})
}

func refuse(msg string) Outcome {
	return Outcome{Result: mcp.NewToolResultError(msg), Decision: DecisionDenied}
}

func declined(tool, why, channel string) Outcome {
	body := map[string]any{"status": "declined", "message": fmt.Sprintf("Not done: %s. Nothing was changed.", why)}
	js, _ := json.Marshal(body)
	return Outcome{Result: mcp.NewToolResultStructured(body, string(js)), Decision: DecisionDeclined, Step: "declined", Channel: channel}
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
	caps := clientCaps(ctx)
	if caps == nil || caps.Elicitation == nil {
		return false
	}
	// An empty elicitation capability means form mode (the original form).
	return caps.Elicitation.Form != nil || caps.Elicitation.URL == nil
}

// ClientCanElicitURL reports whether the client declared URL elicitation
// (it opens a page for its person) and can be asked.
func ClientCanElicitURL(ctx context.Context) bool {
	caps := clientCaps(ctx)
	return caps != nil && caps.Elicitation != nil && caps.Elicitation.URL != nil
}

// clientCaps are the capabilities the client of this request declared, or
// nil when it cannot be asked anything (a legacy SSE session).
func clientCaps(ctx context.Context) *mcp.ClientCapabilities {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		return info.ClientCapabilities
	}
	sess := server.ClientSessionFromContext(ctx)
	if sess == nil {
		return nil
	}
	if _, ok := sess.(server.SessionWithElicitation); !ok {
		return nil
	}
	ci, ok := sess.(server.SessionWithClientInfo)
	if !ok {
		return nil
	}
	caps := ci.GetClientCapabilities()
	return &caps
}

type untrustedKey struct{}

// WithUntrustedElicitation marks the requests of a client whose form
// answers are not taken as a person's: an HTTP client, since anything
// holding the bearer token can declare elicitation and answer "accept"
// itself, unless the policy says confirmation.client_elicitation: trusted.
// A stdio client (the person's own desktop assistant) and the call command
// (a person at a terminal) are trusted.
func WithUntrustedElicitation(ctx context.Context) context.Context {
	return context.WithValue(ctx, untrustedKey{}, true)
}

// ElicitationTrusted reports whether the client of ctx is trusted to show
// a form question to a person rather than answer it itself.
func ElicitationTrusted(ctx context.Context) bool {
	v, _ := ctx.Value(untrustedKey{}).(bool)
	return !v
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

// requesterOf names who asked, for an approver: the principal (never a
// secret), the client's name, the session.
func requesterOf(ctx context.Context) string {
	client, session := ClientOf(ctx)
	parts := []string{}
	if p := PrincipalFrom(ctx); p != "" {
		if name := PersonNameFrom(ctx); name != "" {
			p = name + " (" + p + ")"
		}
		parts = append(parts, p)
	}
	if client != "" {
		parts = append(parts, client)
	}
	if session != "" {
		parts = append(parts, "session "+session)
	}
	if len(parts) == 0 {
		return "a local client"
	}
	return strings.Join(parts, ", ")
}
