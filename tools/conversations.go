package tools

import (
	"context"
	"fmt"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

func conversationTools() []Tool {
	return []Tool{
		Define(Spec{Name: "list_calls", Title: "List calls", Class: policy.Read,
			Description: "Call history, newest first. Default the last 7 days; at most 31 days per request. " +
				"include adds detail blocks (recording URLs valid 7 days). Paged, default 50."},
			func(ctx context.Context, d *Deps, a schemas.ListCallsArgs) (*Page[convirza.Call], error) {
				out, err := d.Convirza.Conversations.Calls(ctx, a)
				return pageOf("calls", a.Offset, out, err)
			}, Names(func(a schemas.ListCallsArgs) []int64 { return units(a.OrgUnitID) }), Pins(func(a *schemas.ListCallsArgs, root int64) { a.OrgUnitID = root })),
		Define(Spec{Name: "get_call", Title: "Get call", Class: policy.Read,
			Description: "One call by call_id, any date, with tags, comments, custom sources, call flow, recording URL " +
				"(valid 7 days) and transcript unless include narrows them."},
			func(ctx context.Context, d *Deps, a schemas.GetCallArgs) (any, error) {
				include := a.Include
				if len(include) == 0 {
					include = schemas.CallIncludes
				}
				return d.Convirza.Conversations.Call(ctx, a.ID, include)
			}, Resolves(callOwner)),
		Define(Spec{Name: "summarize_calls", Title: "Summarize calls", Class: policy.Read,
			Description: "Call counts by office, day, hour or source, answered rate, average duration; " +
				"up to 400 days (31-day windows, with progress). Filters as list_calls."},
			summarizeCalls, Names(func(a schemas.SummarizeCallsArgs) []int64 { return units(a.OrgUnitID) }),
			Pins(func(a *schemas.SummarizeCallsArgs, root int64) { a.OrgUnitID = root })),
		Define(Spec{Name: "list_sms_conversations", Title: "List SMS conversations", Class: policy.Read,
			Description: "SMS threads: customer and tracking number, last message, status, agent, unread count, response times. Default open threads, latest first."},
			func(ctx context.Context, d *Deps, a schemas.ListSMSArgs) (*Page[convirza.SMSConversation], error) {
				out, err := d.Convirza.Conversations.SMS(ctx, a)
				return pageOf("conversations", a.Offset, out, err)
			}, Unscopable()),
	}
}

// callOwner finds the org unit a call came in for: the call read without
// its detail blocks (GET /conversations/calls?call_id=).
func callOwner(ctx context.Context, d *Deps, a schemas.GetCallArgs) ([]int64, error) {
	c, err := d.Convirza.Conversations.Call(ctx, a.ID, nil)
	if err != nil {
		return nil, err
	}
	unit, err := knownUnit(fmt.Sprintf("call %d", a.ID), c.OrgUnitID)
	if err != nil {
		return nil, err
	}
	return []int64{unit}, nil
}
