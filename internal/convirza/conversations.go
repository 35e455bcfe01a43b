package convirza

import (
	"context"
	"fmt"

	"github.com/convirza/convirza-mcp/schemas"
)

// ConversationsService calls GET /conversations/calls and
// GET /conversations/sms.
type ConversationsService struct {
	calls resource[Call]
	sms   resource[SMSConversation]
}

// Calls returns one page of call history (GET /conversations/calls).
func (s *ConversationsService) Calls(ctx context.Context, f schemas.ListCallsArgs) (*List[Call], error) {
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
func (s *ConversationsService) Call(ctx context.Context, id int64, include []string) (*Call, error) {
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
func (s *ConversationsService) SMS(ctx context.Context, f schemas.ListSMSArgs) (*List[SMSConversation], error) {
	out, _, err := s.sms.list(ctx, Query(f))
	return out, err
}

// CallComment is a note a user left on a call.
type CallComment struct {
	CommentID int64  `json:"comment_id,omitempty"`
	Comment   string `json:"comment"`
	UserName  string `json:"user_name,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
}

// RecordingDetails describes a call's recording. The recording URL is
// signed and valid 7 days: ExpiresAt is its expiry in Unix seconds.
type RecordingDetails struct {
	ExpiresAt int64  `json:"expires_at"`
	Duration  int    `json:"duration,omitempty"`
	Format    string `json:"format,omitempty"`
}

// Call is one call of GET /conversations/calls, with the blocks asked for
// with include.
type Call struct {
	CallID             int64  `json:"call_id"`
	CallStarted        string `json:"call_started,omitempty"`
	Duration           int    `json:"duration"`
	CallerID           string `json:"caller_id,omitempty"`
	PhoneNumber        string `json:"phone_number,omitempty"`
	RingTo             string `json:"ring_to,omitempty"`
	Disposition        string `json:"disposition,omitempty"`
	OrgUnitID          int64  `json:"org_unit_id,omitempty"`
	CampaignID         int64  `json:"campaign_id,omitempty"`
	ProvisionedRouteID int64  `json:"provisioned_route_id,omitempty"`

	Tags             []CallTag         `json:"tags,omitempty"`
	Comments         []CallComment     `json:"comments,omitempty"`
	CustomSources    []CustomSource    `json:"custom_sources,omitempty"`
	CallFlow         []CallFlowStep    `json:"call_flow,omitempty"`
	RecordingURL     string            `json:"recording_url,omitempty"`
	RecordingDetails *RecordingDetails `json:"recording_details,omitempty"`
	Transcription    *Transcription    `json:"transcription,omitempty"`
}

// CallTag is a tag on a call.
type CallTag struct {
	TagID   int64  `json:"tag_id,omitempty"`
	TagName string `json:"tag_name"`
}

// SMSConversation is one thread of GET /conversations/sms.
type SMSConversation struct {
	ConversationID      int64  `json:"conversation_id"`
	PhoneNumber         string `json:"phone_number,omitempty"`
	Source              string `json:"source,omitempty"`
	SourceName          string `json:"source_name,omitempty"`
	SMSType             string `json:"sms_type,omitempty"`
	FirstResponseTime   string `json:"first_response_time,omitempty"`
	AvgResponseTime     string `json:"avg_response_time,omitempty"`
	ConversationStarted string `json:"conversation_started,omitempty"`
	ConversationUpdated string `json:"conversation_updated,omitempty"`
	ClosedAt            string `json:"closed_at,omitempty"`
	ConversationStatus  string `json:"conversation_status,omitempty"`
	CTUserID            int64  `json:"ct_user_id,omitempty"`
	Pin                 bool   `json:"pin,omitempty"`
	Message             string `json:"message,omitempty"`
	UnreadCount         int    `json:"unread_count"`
	Agent               string `json:"agent,omitempty"`
}

// CustomSource is a custom source value attached to a call.
type CustomSource struct {
	CustomSourceType string `json:"custom_source_type,omitempty"`
	CustomSourceName string `json:"custom_source_name"`
}

// CallFlowStep is one step the call went through.
type CallFlowStep struct {
	Step          int    `json:"step"`
	Event         string `json:"event"`
	Detail        string `json:"detail,omitempty"`
	OffsetSeconds int    `json:"offset_seconds"`
}

// Transcription is a call's transcript.
type Transcription struct {
	Language string `json:"language,omitempty"`
	Text     string `json:"text"`
}
