package policy

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
)

// Approval errors a redemption answers with; nothing executes.
var (
	// ErrPending: nobody has decided yet; the token stays valid.
	ErrPending = errors.New("waiting for approval")
	// ErrDeclined: a person declined the call.
	ErrDeclined = errors.New("declined")
	// ErrNoApproval: no pending approval has that id.
	ErrNoApproval = errors.New("no such approval (it expired, or the id is wrong)")
	// ErrDecided: the approval was decided already.
	ErrDecided = errors.New("this approval was decided already")
)

// Token record states for a confirmation decided out of band: pending
// until an approver decides, then approved (redeemable once) or declined.
const (
	statePending  = "pending"
	stateApproved = "approved"
	stateDeclined = "declined"
)

// Channels a confirmation is given through, as the audit records them.
const (
	ChannelElicitation = "elicitation" // the client's own confirmation dialog
	ChannelURL         = "url"         // the approval page, opened by the client
	ChannelPage        = "page"        // the approval page, opened by a person
	ChannelCLI         = "cli"         // convirza-mcp approvals, on a terminal
	ChannelToken       = "token"       // the token alone (mode token)
)

// Approval is a confirmable call waiting for, or given, a person's
// decision outside the model's reach.
type Approval struct {
	ID        string          `json:"id"`
	Tool      string          `json:"tool"`
	Action    string          `json:"action"`
	Arguments json.RawMessage `json:"arguments,omitempty"` // masked as in the audit log
	Preview   any             `json:"preview,omitempty"`
	Requester string          `json:"requester,omitempty"`
	// Principal is who asked, as tokens are bound ("user:<id>" for a
	// signed-in person): the four-eyes rule compares approvers with it.
	Principal string    `json:"principal,omitempty"`
	Requested time.Time `json:"requested"`
	Expires   time.Time `json:"expires"`
	// State is pending, approved, declined, or redeemed (executed).
	State    string    `json:"state"`
	Approver string    `json:"approver,omitempty"`
	Channel  string    `json:"channel,omitempty"`
	Decided  time.Time `json:"decided,omitzero"`
	// Nonce names the token record the decision unlocks.
	Nonce string `json:"nonce"`
}

// Approvals keeps the approvals in the state store: every process sharing
// it (the server, its replicas, the approvals command) sees the same ones.
type Approvals struct {
	st  store.Store
	now func() time.Time
}

// NewApprovals returns the approvals kept in st.
func NewApprovals(st store.Store) *Approvals { return &Approvals{st: st, now: time.Now} }

func approvalKey(id string) string { return "approval/" + id }

// newApprovalID is short enough to type: 8 characters of a 32-letter
// alphabet without look-alikes.
func newApprovalID() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// open puts a pending approval on record until exp.
func (a *Approvals) open(ctx context.Context, ap *Approval) error {
	ap.State = statePending
	b, err := json.Marshal(ap)
	if err != nil {
		return fmt.Errorf("encode approval: %w", err)
	}
	ttl := time.Until(ap.Expires) + time.Minute
	if err := a.st.Create(ctx, approvalKey(ap.ID), b, ttl); err != nil {
		return storeErr(err)
	}
	// Which approval a token belongs to, read on each redemption without
	// listing every approval on record.
	if err := a.st.Create(ctx, approvalNonceKey(ap.Nonce), []byte(ap.ID), ttl); err != nil {
		return storeErr(err)
	}
	return nil
}

func approvalNonceKey(nonce string) string { return "approval-nonce/" + nonce }

// byNonce returns the approval whose token record is nonce.
func (a *Approvals) byNonce(ctx context.Context, nonce string) (*Approval, error) {
	id, err := a.st.Get(ctx, approvalNonceKey(nonce))
	if err == nil {
		return a.Get(ctx, string(id))
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, storeErr(err)
	}
	// Opened before approvals were indexed by nonce: look through them.
	list, err := a.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Nonce == nonce {
			return &list[i], nil
		}
	}
	return nil, ErrNoApproval
}

// Get returns one approval with its current state.
func (a *Approvals) Get(ctx context.Context, id string) (*Approval, error) {
	b, err := a.st.Get(ctx, approvalKey(id))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrNoApproval
	case err != nil:
		return nil, storeErr(err)
	}
	var ap Approval
	if err := json.Unmarshal(b, &ap); err != nil {
		return nil, fmt.Errorf("approval %s: unreadable record: %w", id, err)
	}
	state, err := a.st.Get(ctx, tokenKey(ap.Nonce))
	switch {
	case errors.Is(err, store.ErrNotFound):
		ap.State = "expired"
	case err != nil:
		return nil, storeErr(err)
	default:
		ap.State = string(state)
	}
	if ap.State == statePending && a.now().After(ap.Expires) {
		ap.State = "expired"
	}
	return &ap, nil
}

// List returns the approvals on record, pending ones first, newest first.
func (a *Approvals) List(ctx context.Context) ([]Approval, error) {
	recs, err := a.st.List(ctx, "approval/")
	if err != nil {
		return nil, storeErr(err)
	}
	out := make([]Approval, 0, len(recs))
	for k := range recs {
		ap, err := a.Get(ctx, strings.TrimPrefix(k, "approval/"))
		if err != nil {
			continue // expired between the listing and the read
		}
		out = append(out, *ap)
	}
	sort.Slice(out, func(i, j int) bool {
		pi, pj := out[i].State == statePending, out[j].State == statePending
		if pi != pj {
			return pi
		}
		return out[i].Requested.After(out[j].Requested)
	})
	return out, nil
}

// Decide records a person's decision on a pending approval: exactly one
// decision wins, however many approvers act at once.
func (a *Approvals) Decide(ctx context.Context, id string, approve bool, approver, channel string) (*Approval, error) {
	ap, err := a.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if ap.State != statePending {
		return ap, fmt.Errorf("%w (%s)", ErrDecided, ap.State)
	}
	next := stateDeclined
	if approve {
		next = stateApproved
	}
	ok, err := a.st.Swap(ctx, tokenKey(ap.Nonce), []byte(statePending), []byte(next))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrNoApproval
	case err != nil:
		return nil, storeErr(err)
	case !ok:
		cur, _ := a.Get(ctx, id)
		return cur, ErrDecided
	}
	ap.State, ap.Approver, ap.Channel, ap.Decided = next, approver, channel, a.now().UTC()
	if b, err := json.Marshal(ap); err == nil {
		// The decision itself is the token record's state; this copy is for
		// the pages and the command to show who decided.
		_ = a.st.Put(ctx, approvalKey(id), b, time.Until(ap.Expires)+time.Minute)
	}
	return ap, nil
}
