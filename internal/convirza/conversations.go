package convirza

import (
	"context"
	"fmt"

	"github.com/convirza/convirza-mcp/schemas"
)

// ConversationsService calls GET /conversations/calls and
// GET /conversations/sms.
type ConversationsService struct {
	calls resource[schemas.Call]
	sms   resource[schemas.SMSConversation]
}

// Calls returns one page of call history (GET /conversations/calls).
func (s *ConversationsService) Calls(ctx context.Context, f schemas.ListCallsArgs) (*List[schemas.Call], error) {
	out, _, err := s.calls.list(ctx, Query(f))
	return out, err
}

// callQuery is the single-record mode of GET /conversations/calls, which
// ignores the date range and paging.
type callQuery struct {
	CallID  int64    `json:"call_id"`
	Include []string `json:"include,omitempty"`
}

// Call returns one call by id, with the included blocks asked for.
func (s *ConversationsService) Call(ctx context.Context, id int64, include []string) (*schemas.Call, error) {
	out, _, err := s.calls.list(ctx, Query(callQuery{CallID: id, Include: include}))
	if err != nil {
		return nil, err
	}
	for i := range out.Items {
		if out.Items[i].CallID == id {
			return &out.Items[i], nil
		}
	}
	return nil, fmt.Errorf("no call %d in the org units this account can see", id)
}

// SMS returns one page of SMS conversation threads (GET /conversations/sms).
func (s *ConversationsService) SMS(ctx context.Context, f schemas.ListSMSArgs) (*List[schemas.SMSConversation], error) {
	out, _, err := s.sms.list(ctx, Query(f))
	return out, err
}
