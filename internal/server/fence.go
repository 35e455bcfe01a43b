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
// serves in the store, under a short expiry it keeps renewing; the first to
// find no record writes it. A replica whose digest differs from the one on
// record refuses tool calls, and /readyz answers 503 naming why, until that
// record lapses: when no replica with the other policy is left to renew it.
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
	// fenceLockTries, at fenceLockPause, is how long a check waits for
	// another replica's check before it leaves the state as it was.
	fenceLockTries = 20
	fenceLockPause = 25 * time.Millisecond
)

// fenceRecord is what the store holds under fenceKey.
type fenceRecord struct {
	Digest  string `json:"digest"`
	Replica string `json:"replica"`
}

// policyFence publishes this replica's digest and says whether it may serve.
type policyFence struct {
	store   store.Store
	digest  string
	replica string
	ttl     time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	refusal string // "" while serving
	// reachable: the last check reached the store (a transition is logged
	// once, not every period).
	reachable bool
}

func newPolicyFence(st store.Store, digest, replica string, log *slog.Logger) *policyFence {
	return &policyFence{store: st, digest: digest, replica: replica, ttl: fenceTTL, log: log, reachable: true}
}

// refusing returns why this replica refuses to serve, or "".
func (f *policyFence) refusing() string {
	if f == nil {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refusal
}

// errFenceBusy: another replica held the check's lock throughout.
var errFenceBusy = errors.New("another replica is checking the policy record")

// check compares the record with this replica's digest once: no record,
// or the same digest, and it (re)writes the record with a fresh expiry and
// serves; another digest, and it refuses. A store it cannot reach leaves
// the state as it was: reads keep working without a store, and what needs
// one refuses by itself.
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

	raw, err := f.store.Get(ctx, fenceKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err == nil {
		var rec fenceRecord
		if jerr := json.Unmarshal(raw, &rec); jerr == nil && rec.Digest != f.digest {
			f.refuse(rec)
			return nil
		}
		// Ours, or unreadable (then it is no one's): renew it as ours.
	}
	mine, err := json.Marshal(fenceRecord{Digest: f.digest, Replica: f.replica})
	if err != nil {
		return err
	}
	if err := f.store.Put(ctx, fenceKey, mine, f.ttl); err != nil {
		return err
	}
	f.serve()
	return nil
}

func (f *policyFence) refuse(rec fenceRecord) {
	why := fmt.Sprintf("this replica (%s) does not serve: its policy or tools (digest %s) differ from those replica %s published in the shared state store (digest %s). "+
		"Replicas sharing a store must run one policy and one version; this one refuses tool calls until no replica with the other policy is left "+
		"(the record lapses %s after the last one stops). To run another policy on purpose, give it its own store (CONVIRZA_MCP_STORE or CONVIRZA_MCP_STATE_DIR).",
		f.replica, short(f.digest), rec.Replica, short(rec.Digest), f.ttl)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refusal == "" {
		f.log.Error("policy differs from the other replicas': refusing tool calls", "replica", f.replica, "digest", short(f.digest),
			"published_by", rec.Replica, "published_digest", short(rec.Digest))
	}
	f.refusal = why
}

func (f *policyFence) serve() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refusal != "" {
		f.log.Info("policy record is this replica's now: serving", "replica", f.replica, "digest", short(f.digest))
	}
	f.refusal = ""
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
