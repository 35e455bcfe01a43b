package policy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// noPage is Pages that cannot serve a page now.
type noPage struct{}

func (noPage) URL(context.Context, string) (string, bool) { return "", false }
func (noPage) Show(context.Context, string) string        { return "" }

// TestURLElicitationWithoutAPageOpensOneApproval: when the page a client
// would open cannot be served, the call is answered out of band with the
// approval already opened: one approval on record, announced once.
func TestURLElicitationWithoutAPageOpensOneApproval(t *testing.T) {
	st := testStore(t)
	tk, err := NewTokens([]byte(strings.Repeat("k", 32)), 5*time.Minute, st)
	if err != nil {
		t.Fatal(err)
	}
	notified := 0
	c := &Confirmer{Tokens: tk, Approvals: NewApprovals(st), Mode: ModeAuto, Pages: noPage{},
		Notify: func(context.Context, Approval) { notified++ }}
	urlClient := server.WithRequestProtocolInfo(ctx, &server.RequestProtocolInfo{Modern: true,
		ClientCapabilities: &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapability{URL: &struct{}{}}}})
	o, err := c.Check(urlClient, Call{Tool: "delete_group", Args: []byte(`{"id":1042}`)},
		func(context.Context) (*Preview, error) { return &Preview{Action: "Delete group 1042."}, nil })
	if err != nil {
		t.Fatal(err)
	}
	if o.Proceed || o.Channel != ChannelPage || o.ApprovalID == "" {
		t.Fatalf("outcome: %+v", o)
	}
	list, err := c.Approvals.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != o.ApprovalID || notified != 1 {
		t.Fatalf("%d approvals on record (want 1, %s), announced %d times", len(list), o.ApprovalID, notified)
	}
}
