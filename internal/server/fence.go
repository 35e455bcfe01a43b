package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/policy"
)

// Replicas sharing a state store must serve one policy and one catalog: a
// confirmation issued under one policy must not be redeemed under another,
// and a client balanced over replicas must see the same tools wherever its
// requests land. Each replica serving HTTP publishes a digest of what it
// serves in the store, with its policy generation
// (CONVIRZA_MCP_POLICY_GENERATION), under a short expiry it keeps
// renewing. Which replica serves, at each check, under the store's lock:
//
//   - no record (or an unreadable one): this replica writes its own and
//     serves (the first writer wins);
//   - the same generation and digest: it renews the record and serves;
//   - the same generation, another digest: it refuses, so a stray or
//     misconfigured replica never takes over; only the operator, by
//     raising the generation, rolls a new policy out;
//   - a lower generation on record: it takes the record over (its digest
//     is the one served from now on), logs it, and serves;
//   - a higher generation on record: it refuses; newer replicas took over,
//     and it does not serve again while their record lives.
//
// A replica that refuses refuses tool calls, and /readyz answers 503
// naming why, so a balancer drains it; confirmation tokens are bound to the
// generation and digest they were issued under (policy.Tokens.Policy), so
// none crosses a change. The record lapses when no replica is left to renew
// it; then the next check writes anew.
const (
	fenceKey = "replicas/policy"
	// fenceTTL is the record's life: a stopped replica's policy holds the
	// store this long after its last renewal.
	fenceTTL = 15 * time.Second
	// fenceEvery is how often a replica renews (or rechecks) the record.
	fenceEvery = 5 * time.Second
	// fenceLockTTL bounds the check, which holds a store lock so that
	// replicas read and write the record one at a time.
	fenceLockTTL = 3 * time.Second
	// fenceHoldFor bounds the read and write made under the lock, well
	// within its life: a write never lands after the lock it was decided
	// under lapsed and another replica took it.
	fenceHoldFor = fenceLockTTL / 2
	// fenceLockTries, at fenceLockPause, is how long a check waits for
	// another replica's check before it leaves the state as it was.
	fenceLockTries = 20
	fenceLockPause = 25 * time.Millisecond
)

// fenceRecord is what the store holds under fenceKey.
type fenceRecord struct {
	Digest  string `json:"digest"`
	Replica string `json:"replica"`
	// Generation is CONVIRZA_MCP_POLICY_GENERATION of the replica that
	// wrote it (absent in the records of older versions: 0).
	Generation uint64 `json:"generation"`
}

// The /readyz statuses of a replica that refuses.
const (
	fenceDiffers    = "policy differs from the other replicas'"
	fenceSuperseded = "superseded by a newer policy generation"
)

// policyFence publishes this replica's digest and says whether it may serve.
type policyFence struct {
	store      store.Store
	digest     string
	generation uint64
	replica    string
	ttl        time.Duration
	log        *slog.Logger

	mu      sync.Mutex
	refusal string // "" while serving
	status  string // fenceDiffers or fenceSuperseded while refusing
	// reachable: the last check reached the store (a transition is logged
	// once, not every period).
	reachable bool
}

func newPolicyFence(st store.Store, digest string, generation uint64, replica string, log *slog.Logger) *policyFence {
	return &policyFence{store: st, digest: digest, generation: generation, replica: replica, ttl: fenceTTL, log: log, reachable: true}
}

// refusing returns why this replica refuses to serve, or "".
func (f *policyFence) refusing() string {
	_, why := f.state()
	return why
}

// state returns the /readyz status and reason of a replica that refuses,
// or "", "".
func (f *policyFence) state() (status, why string) {
	if f == nil {
		return "", ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, f.refusal
}

// epoch names what this replica serves, for the confirmation tokens it
// issues and redeems: its generation and digest.
func (f *policyFence) epoch() string {
	return fmt.Sprintf("%d/%s", f.generation, f.digest)
}

// errFenceBusy: another replica held the check's lock throughout.
var errFenceBusy = errors.New("another replica is checking the policy record")

// check compares the record with this replica's generation and digest
// once (see the rules above): it (re)writes the record with a fresh expiry
// and serves, or refuses. A store it cannot reach leaves the state as it
// was: reads keep working without a store, and what needs one refuses by
// itself.
func (f *policyFence) check(ctx context.Context) error {
	err := f.checkOnce(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err != nil && f.reachable:
		f.reachable = false
		f.log.Warn("policy check: the state store cannot be reached; keeping the last answer", "serving", f.refusal == "", "err", err.Error())
	case err == nil && !f.reachable:
		f.reachable = true
		f.log.Info("policy check: the state store answers again")
	}
	return err
}

func (f *policyFence) checkOnce(ctx context.Context) error {
	var unlock func()
	for range fenceLockTries {
		u, ok, err := f.store.Lock(ctx, fenceKey, fenceLockTTL)
		if err != nil {
			return err
		}
		if ok {
			unlock = u
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(fenceLockPause):
		}
	}
	if unlock == nil {
		return errFenceBusy
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(ctx, fenceHoldFor)
	defer cancel()

	raw, err := f.store.Get(ctx, fenceKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var prev *fenceRecord
	if err == nil {
		var rec fenceRecord
		if jerr := json.Unmarshal(raw, &rec); jerr == nil && rec.Digest != "" {
			prev = &rec
		}
		// Unreadable: it is no one's; written over as ours.
	}
	switch {
	case prev == nil || (prev.Generation == f.generation && prev.Digest == f.digest):
	case prev.Generation > f.generation:
		f.superseded(*prev)
		return nil
	case prev.Generation == f.generation:
		f.refuse(*prev)
		return nil
	}
	mine, err := json.Marshal(fenceRecord{Digest: f.digest, Replica: f.replica, Generation: f.generation})
	if err != nil {
		return err
	}
	if err := f.store.Put(ctx, fenceKey, mine, f.ttl); err != nil {
		return err
	}
	if prev != nil && prev.Generation < f.generation {
		f.log.Warn("policy generation takes over: this replica's policy is the one replicas sharing the store serve now; those of the older generation refuse tool calls",
			"replica", f.replica, "generation", f.generation, "digest", short(f.digest),
			"previous_generation", prev.Generation, "previous_digest", short(prev.Digest), "previous_replica", prev.Replica)
	}
	f.serve()
	return nil
}

// refuse: another digest at this replica's generation.
func (f *policyFence) refuse(rec fenceRecord) {
	why := fmt.Sprintf("this replica (%s) does not serve: its policy or tools (digest %s) differ from those replica %s published in the shared state store (digest %s), at the same policy generation (%d). "+
		"Replicas sharing a store must run one policy and one version; this one refuses tool calls until no replica with the other policy is left "+
		"(the record lapses %s after the last one stops). To roll a new policy or version out, start it with a higher CONVIRZA_MCP_POLICY_GENERATION (the replicas of the lower one then stop serving); "+
		"to run another policy on purpose, give it its own store (CONVIRZA_MCP_STORE or CONVIRZA_MCP_STATE_DIR).",
		f.replica, short(f.digest), rec.Replica, short(rec.Digest), rec.Generation, f.ttl)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refusal == "" {
		f.log.Error("policy differs from the other replicas': refusing tool calls", "replica", f.replica, "generation", f.generation, "digest", short(f.digest),
			"published_by", rec.Replica, "published_digest", short(rec.Digest))
	}
	f.refusal, f.status = why, fenceDiffers
}

// superseded: a higher generation is on record.
func (f *policyFence) superseded(rec fenceRecord) {
	why := fmt.Sprintf("this replica (%s, policy generation %d) no longer serves: a newer policy generation (%d, digest %s) took the shared state store over, written by replica %s. "+
		"It refuses tool calls, and /readyz answers 503, so that balancers send everything to the replicas of generation %d; stop it. "+
		"It does not serve again while that generation's record lives (it lapses %s after the last of its replicas stops); to roll back, start the old policy with a generation above %d.",
		f.replica, f.generation, rec.Generation, short(rec.Digest), rec.Replica, rec.Generation, f.ttl, rec.Generation)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status != fenceSuperseded {
		f.log.Warn("a newer policy generation took over: refusing tool calls", "replica", f.replica, "generation", f.generation, "digest", short(f.digest),
			"published_by", rec.Replica, "published_generation", rec.Generation, "published_digest", short(rec.Digest))
	}
	f.refusal, f.status = why, fenceSuperseded
}

func (f *policyFence) serve() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refusal != "" {
		f.log.Info("policy record is this replica's now: serving", "replica", f.replica, "generation", f.generation, "digest", short(f.digest))
	}
	f.refusal, f.status = "", ""
}

// run checks every period until ctx ends (the caller made the first check).
func (f *policyFence) run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cctx, cancel := context.WithTimeout(ctx, fenceLockTTL)
		_ = f.check(cctx) // logged by check
		cancel()
	}
}

// middleware refuses every tool call while the replica refuses to serve.
func (f *policyFence) middleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if why := f.refusing(); why != "" {
			return mcp.NewToolResultError(why), nil
		}
		return next(ctx, req)
	}
}

func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}

// policyDigest is the SHA-256 of what a replica serves: its effective
// policy (the file's rules combined with flags and environment; not the
// file's path, nor where the audit log goes, which may differ per
// replica, only whether there is one), the tool mode, and every served
// tool as clients see it (name, description, schemas, annotations), so
// two versions with different catalogs differ too.
func policyDigest(cfg *config.Config, plan *Plan) (string, error) {
	eff := plan.Policy
	var p policy.Policy
	if eff.Policy != nil {
		p = *eff.Policy
	}
	audit := p.AuditFile != ""
	p.Source, p.AuditFile = "", ""
	served := make([]mcp.Tool, 0, len(plan.Tools))
	for _, t := range plan.Tools {
		mt, err := t.MCPTool()
		if err != nil {
			return "", fmt.Errorf("policy digest: %s: %w", t.Name, err)
		}
		served = append(served, mt)
	}
	doc := struct {
		Policy      policy.Policy `json:"policy"`
		Audit       bool          `json:"audit"`
		ReadOnly    bool          `json:"read_only"`
		Toolsets    []string      `json:"toolsets"`
		ConfirmMode policy.Mode   `json:"confirm_mode"`
		ConfirmTTL  time.Duration `json:"confirm_ttl"`
		ToolMode    string        `json:"tool_mode"`
		Tools       []mcp.Tool    `json:"tools"`
	}{p, audit, eff.ReadOnly, eff.Toolsets, eff.ConfirmMode, eff.ConfirmTTL, cfg.ToolMode, served}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("policy digest: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
