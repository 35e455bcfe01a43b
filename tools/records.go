package tools

import (
	"context"
	"fmt"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/policy"
	"github.com/convirza/convirza-mcp/schemas"
)

// record is a kind of upstream record the tools act on by id: how to read
// one, and which org unit and status it has. Its methods are the pieces
// every toolset of such records needs: the Owned resolver of a call on
// one, and the read that verifies a delete.
type record[T any] struct {
	what   string
	get    func(d *Deps) func(context.Context, int64) (*T, error)
	unit   func(*T) int64
	status func(*T) string
}

// owner finds the org unit the record with that id belongs to (one GET);
// a record whose answer names none is refused.
func (r record[T]) owner(ctx context.Context, d *Deps, id int64) (int64, error) {
	v, err := r.get(d)(ctx, id)
	if err != nil {
		return 0, err
	}
	return knownUnit(fmt.Sprintf("%s %d", r.what, id), r.unit(v))
}

// statusOf reads the record again, for deleted's verification.
func (r record[T]) statusOf(d *Deps, id int64) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		v, err := r.get(d)(ctx, id)
		if err != nil {
			return "", err
		}
		return r.status(v), nil
	}
}

// deletable reads the record a delete preview is about and names it with
// label. A record that does not exist or is already deleted comes back as
// blocked, the refusal the preview shows instead (v is then nil).
func (r record[T]) deletable(ctx context.Context, d *Deps, id int64, label func(*T) string) (v *T, name string, blocked *policy.Preview, err error) {
	v, err = r.get(d)(ctx, id)
	if err != nil {
		if upstream.IsNotFound(err) {
			return nil, "", &policy.Preview{Blocked: fmt.Sprintf("%s %d does not exist.", capitalize(r.what), id)}, nil
		}
		return nil, "", nil, err
	}
	name = label(v)
	if r.status(v) == schemas.StatusDeleted {
		return nil, name, &policy.Preview{Blocked: fmt.Sprintf("Cannot delete %s: it is already deleted.", name)}, nil
	}
	return v, name, nil, nil
}

// The records of the toolsets.
var (
	userRecord = record[convirza.User]{what: "user",
		get:    func(d *Deps) func(context.Context, int64) (*convirza.User, error) { return d.Convirza.Users.Get },
		unit:   func(u *convirza.User) int64 { return u.GroupOrgUnitID },
		status: func(u *convirza.User) string { return u.Status }}
	webhookRecord = record[convirza.Webhook]{what: "webhook",
		get:    func(d *Deps) func(context.Context, int64) (*convirza.Webhook, error) { return d.Convirza.Webhooks.Get },
		unit:   func(w *convirza.Webhook) int64 { return w.OrgUnitID },
		status: func(w *convirza.Webhook) string { return w.Status }}
	routeRecord = record[convirza.Route]{what: "provisioned route",
		get:    func(d *Deps) func(context.Context, int64) (*convirza.Route, error) { return d.Convirza.Routes.Get },
		unit:   func(r *convirza.Route) int64 { return r.OrgUnitID },
		status: func(r *convirza.Route) string { return r.ProvisionedRouteStatus }}
	voiceAgentRecord = record[convirza.VoiceAgent]{what: "voice agent",
		get: func(d *Deps) func(context.Context, int64) (*convirza.VoiceAgent, error) {
			return d.Convirza.VoiceAgents.Get
		},
		unit:   func(v *convirza.VoiceAgent) int64 { return v.OrgUnitID },
		status: func(v *convirza.VoiceAgent) string { return v.Status }}
	broadcastRecord = record[convirza.Broadcast]{what: "broadcast",
		get: func(d *Deps) func(context.Context, int64) (*convirza.Broadcast, error) {
			return d.Convirza.Broadcasts.Get
		},
		unit:   func(b *convirza.Broadcast) int64 { return b.OrgUnitID },
		status: func(b *convirza.Broadcast) string { return b.Status }}
	groupRecord = record[convirza.GroupDetails]{what: "group",
		get: func(d *Deps) func(context.Context, int64) (*convirza.GroupDetails, error) {
			return d.Convirza.Groups.Get
		},
		unit:   func(g *convirza.GroupDetails) int64 { return g.OrgUnitID },
		status: func(g *convirza.GroupDetails) string { return g.OrgUnitStatus }}
)
