package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/sandbox"
	"github.com/convirza/convirza-mcp/internal/server"
	"github.com/convirza/convirza-mcp/internal/testenv"
	"github.com/convirza/convirza-mcp/internal/testenv/sandboxenv"
)

// Policies a rolling update moves between: each keeps delete_group (the
// confirmable call the tests redeem) and differs from the others' digest.
const (
	policyV1 = ""
	policyV2 = "tools:\n  deny: [create_tag]\n"
	policyV3 = "tools:\n  deny: [create_webhook]\n"
)

// sharedStore is one state store replicas share: the embedded store in one
// directory, or a redis-server of the test's own.
type sharedStore struct {
	name string
	// use points a replica's configuration at the store.
	use func(*config.Config)
}

// eachStore runs f as a subtest on the embedded store and on Redis.
func eachStore(t *testing.T, f func(t *testing.T, st sharedStore)) {
	t.Run("embedded", func(t *testing.T) {
		dir := t.TempDir()
		f(t, sharedStore{"embedded", func(c *config.Config) { c.StateDir = dir }})
	})
	t.Run("redis", func(t *testing.T) {
		url := testenv.Redis(t)
		key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("s", 32)))
		f(t, sharedStore{"redis", func(c *config.Config) { c.Store, c.StoreKey = url, key }})
	})
}

// generationReplica starts an HTTP app named name at policy generation gen
// serving pol, on st, against the shared upstream sb, with the
// confirmation key every replica shares (so a token's signature verifies
// at any of them: only its policy can refuse it).
// In mode token unless more changes it.
func generationReplica(t *testing.T, st sharedStore, sb *sandbox.Running, name, pol string, gen uint64, more ...func(*config.Config)) *server.App {
	t.Helper()
	return testenv.Start(t, testenv.Options{ConfirmMode: "token", Policy: pol, Sandbox: sb, Configure: func(c *config.Config) {
		c.Transport, c.Addr, c.AuthToken = "http", "127.0.0.1:0", tokenA
		c.Replica, c.PolicyGeneration = name, gen
		c.ConfirmKey = strings.Repeat("k", 32)
		st.use(c)
		for _, m := range more {
			m(c)
		}
	}})
}

// checkServes runs one policy check of app and says whether it serves.
func checkServes(t *testing.T, app *server.App) bool {
	t.Helper()
	if err := app.CheckPolicy(t.Context()); err != nil {
		t.Fatalf("policy check: %v", err)
	}
	return app.PolicyRefusal() == ""
}

// policyRecord is the record replicas share, as the store holds it.
func policyRecord(t *testing.T, app *server.App) map[string]any {
	t.Helper()
	raw, err := app.Store.Get(t.Context(), "replicas/policy")
	if err != nil {
		t.Fatalf("the policy record: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("the policy record %s: %v", raw, err)
	}
	return m
}

func upstreamDeletes(sb *sandbox.Running) []string {
	var out []string
	for _, c := range sb.Calls() {
		if strings.HasPrefix(c, "DELETE ") {
			out = append(out, c)
		}
	}
	return out
}

// issueToken asks base for a deletion and returns its confirmation token.
func issueToken(t *testing.T, base string) string {
	t.Helper()
	res := callTool(t, dial(t, base, "http", tokenA, ""), "delete_group", map[string]any{"id": 1042})
	tok, _ := structured(t, res)["confirmation_token"].(string)
	if res.IsError || tok == "" {
		t.Fatalf("first call of delete_group: %s", testenv.Text(res))
	}
	return tok
}

func redeem(t *testing.T, base, tok string) *mcpResult {
	t.Helper()
	res := callTool(t, dial(t, base, "http", tokenA, ""), "delete_group", map[string]any{"id": 1042, "confirmation_token": tok})
	return &mcpResult{IsError: res.IsError, Text: testenv.Text(res)}
}

type mcpResult struct {
	IsError bool
	Text    string
}

// TestPolicyGenerationRollsForward is a rolling update over one store, the
// embedded one and Redis: two replicas of generation 1 serve; one of
// generation 2 with another policy starts while they run and takes over
// (it serves at once); those of generation 1 then refuse tool calls and
// answer /readyz 503 naming the generation and the replica that took
// over, so a balancer drains them; one of generation 1 started again
// cannot take the record back, nor can a replica of generation 2 with a
// third policy (only a higher generation takes over). A confirmation
// token issued under generation 1 is refused by generation 2, naming
// both, and nothing reaches the upstream; one issued under generation 2
// executes at another replica of generation 2.
func TestPolicyGenerationRollsForward(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st sharedStore) {
		{
			sb := sandboxenv.Start(t, sandbox.Options{})
			oldA := generationReplica(t, st, sb, "old-a", policyV1, 1)
			oldB := generationReplica(t, st, sb, "old-b", policyV1, 1)
			for _, a := range []*server.App{oldA, oldB} {
				if !checkServes(t, a) {
					t.Fatalf("generation 1 on an empty store: %s", a.PolicyRefusal())
				}
			}
			_, oldBase := testenv.Listen(t, oldA)
			oldTok := issueToken(t, oldBase)

			// Generation 2 starts while generation 1 runs and renews.
			newA := generationReplica(t, st, sb, "new-a", policyV2, 2)
			if !checkServes(t, newA) {
				t.Fatalf("generation 2 started beside generation 1 does not serve: %s", newA.PolicyRefusal())
			}
			if rec := policyRecord(t, newA); rec["generation"] != float64(2) || rec["replica"] != "new-a" {
				t.Errorf("the record after generation 2 took over: %v", rec)
			}
			_, newBase := testenv.Listen(t, newA)
			if code, m := readyz(t, newBase); code != http.StatusOK {
				t.Errorf("readyz of generation 2: %d %v", code, m)
			}
			for _, a := range []*server.App{oldA, oldB} {
				if checkServes(t, a) {
					t.Fatalf("a replica of generation 1 still serves after generation 2 took over")
				}
				why := a.PolicyRefusal()
				for _, want := range []string{"policy generation 1) no longer serves", "a newer policy generation (2,", "written by replica new-a"} {
					if !strings.Contains(why, want) {
						t.Errorf("refusal %q does not say %q", why, want)
					}
				}
			}
			code, m := readyz(t, oldBase)
			if code != http.StatusServiceUnavailable || m["status"] != "superseded by a newer policy generation" || m["reason"] != oldA.PolicyRefusal() {
				t.Errorf("readyz of generation 1 after the take-over: %d %v", code, m)
			}
			if res := callTool(t, dial(t, oldBase, "http", tokenA, ""), "get_group", map[string]any{"id": 1042}); !res.IsError ||
				!strings.Contains(testenv.Text(res), "newer policy generation (2,") {
				t.Errorf("a read at generation 1 after the take-over: %s", testenv.Text(res))
			}
			if res := callTool(t, dial(t, newBase, "http", tokenA, ""), "get_group", map[string]any{"id": 1042}); res.IsError {
				t.Errorf("a read at generation 2: %s", testenv.Text(res))
			}

			// Generation 1's token: refused by generation 2, and by
			// generation 1 itself now; nothing reaches the upstream.
			sb.ResetCalls()
			if res := redeem(t, newBase, oldTok); !res.IsError || !strings.Contains(res.Text, "issued under another policy or version") ||
				!strings.Contains(res.Text, "issued under policy generation 1") || !strings.Contains(res.Text, "serves policy generation 2") {
				t.Errorf("generation 1's token at generation 2: %+v", res)
			}
			if res := redeem(t, oldBase, oldTok); !res.IsError {
				t.Errorf("generation 1's token at generation 1 after the take-over: %+v", res)
			}
			if d := upstreamDeletes(sb); len(d) != 0 {
				t.Fatalf("a token of generation 1 executed after the take-over: %v", d)
			}

			// Generation 1 started again cannot take the record back, and
			// the ones still running stay refused.
			oldC := generationReplica(t, st, sb, "old-c", policyV1, 1)
			if checkServes(t, oldC) || checkServes(t, oldA) {
				t.Fatalf("generation 1 serves again while generation 2's record lives: %q", oldC.PolicyRefusal())
			}
			if !strings.Contains(oldC.PolicyRefusal(), "newer policy generation (2,") {
				t.Errorf("generation 1 started again: %q", oldC.PolicyRefusal())
			}
			// A stray replica of generation 2 with another policy refuses
			// as before: an equal generation never takes over.
			stray := generationReplica(t, st, sb, "stray", policyV3, 2)
			if checkServes(t, stray) {
				t.Fatal("a replica of the same generation with another policy took over")
			}
			if why := stray.PolicyRefusal(); !strings.Contains(why, "differ from those replica new-a published") || !strings.Contains(why, "same policy generation (2)") ||
				!strings.Contains(why, "higher CONVIRZA_MCP_POLICY_GENERATION") {
				t.Errorf("the stray replica's refusal: %q", why)
			}
			_, strayBase := testenv.Listen(t, stray)
			if code, m := readyz(t, strayBase); code != http.StatusServiceUnavailable || m["status"] != "policy differs from the other replicas'" {
				t.Errorf("readyz of the stray replica: %d %v", code, m)
			}
			if !checkServes(t, newA) {
				t.Fatalf("generation 2 after the others checked: %s", newA.PolicyRefusal())
			}
			if rec := policyRecord(t, newA); rec["generation"] != float64(2) || rec["replica"] != "new-a" {
				t.Errorf("the record after the others checked: %v", rec)
			}

			// Generation 2's own tokens cross its replicas: the refusal
			// above was the policy's, not the setup's.
			newB := generationReplica(t, st, sb, "new-b", policyV2, 2)
			if !checkServes(t, newB) {
				t.Fatalf("a second replica of generation 2: %s", newB.PolicyRefusal())
			}
			_, newBBase := testenv.Listen(t, newB)
			if res := redeem(t, newBBase, issueToken(t, newBase)); res.IsError {
				t.Errorf("generation 2's token at another replica of generation 2: %s", res.Text)
			}
			if d := upstreamDeletes(sb); len(d) != 1 {
				t.Errorf("deletions upstream: %v, want one", d)
			}
		}
	})
}

// TestPolicyChecksAtOnce: replicas of two generations and three policies
// check the record at the same moment, round after round, on the embedded
// store and on Redis (the record deleted before every other round, so
// first writers race too). After every round exactly one policy of the
// highest generation serves (the replicas sharing it all do), the other
// of that generation and the lower generation refuse, and the record is
// the serving one's: the check's read-modify-write holds under the
// store's lock.
func TestPolicyChecksAtOnce(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st sharedStore) {
		{
			sb := sandboxenv.Start(t, sandbox.Options{})
			type rep struct {
				app *server.App
				pol string
				gen uint64
			}
			reps := []rep{
				{generationReplica(t, st, sb, "g1-a", policyV1, 1), policyV1, 1},
				{generationReplica(t, st, sb, "g1-b", policyV1, 1), policyV1, 1},
				{generationReplica(t, st, sb, "g2-v2-a", policyV2, 2), policyV2, 2},
				{generationReplica(t, st, sb, "g2-v2-b", policyV2, 2), policyV2, 2},
				{generationReplica(t, st, sb, "g2-v3", policyV3, 2), policyV3, 2},
			}
			ctx := t.Context()
			for round := range 12 {
				if round%2 == 0 {
					if err := reps[0].app.Store.Delete(ctx, "replicas/policy"); err != nil {
						t.Fatal(err)
					}
				}
				// Every replica checks until it got an answer (a check that
				// waited too long for the lock leaves the state unchanged),
				// all starting at once.
				start := make(chan struct{})
				var wg sync.WaitGroup
				errs := make(chan error, len(reps))
				for _, r := range reps {
					wg.Go(func() {
						<-start
						var err error
						for range 5 {
							if err = r.app.CheckPolicy(context.WithoutCancel(ctx)); err == nil {
								return
							}
						}
						errs <- err
					})
				}
				close(start)
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatalf("round %d: a check never got an answer: %v", round, err)
				}
				// A lower generation that checked before the take-over
				// learns of it at its next check: one more, in turn.
				for _, r := range reps[:2] {
					if err := r.app.CheckPolicy(ctx); err != nil {
						t.Fatal(err)
					}
				}
				serving := map[string][]string{}
				for _, r := range reps {
					if r.app.PolicyRefusal() == "" {
						serving[r.pol] = append(serving[r.pol], r.app.Config.Replica)
					}
				}
				if len(serving) != 1 || len(serving[policyV1]) != 0 {
					t.Fatalf("round %d: serving (by policy) %q, want exactly one policy, of generation 2", round, slices.Collect(maps.Values(serving)))
				}
				winner := policyV2
				if len(serving[policyV2]) == 0 {
					winner = policyV3
				}
				if winner == policyV2 && len(serving[policyV2]) != 2 {
					t.Fatalf("round %d: of the two replicas of one policy only %v serve", round, serving[policyV2])
				}
				rec := policyRecord(t, reps[0].app)
				if rec["generation"] != float64(2) || !strings.Contains(strings.Join(serving[winner], ","), rec["replica"].(string)) {
					t.Fatalf("round %d: the record %v is not the serving replicas' %v", round, rec, serving)
				}
			}
		}
	})
}

// TestPolicyTakeOverStopsAWaitingCall: a call of generation 1 that was
// already waiting for a person's approval when generation 2 took over
// does not run once the person approves: the replica no longer serves, so
// it redeems nothing, says why, and nothing reaches the upstream.
func TestPolicyTakeOverStopsAWaitingCall(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st sharedStore) {
		sb := sandboxenv.Start(t, sandbox.Options{})
		old := generationReplica(t, st, sb, "old", policyV1, 1, func(c *config.Config) {
			c.ConfirmMode, c.ApprovalWait = "approval", testenv.Patience
		})
		if !checkServes(t, old) {
			t.Fatal(old.PolicyRefusal())
		}
		_, base := testenv.Listen(t, old)
		c := dial(t, base, "http", tokenA, mcp.ProtocolVersion20250618)
		waiting := make(chan struct{}, 1)
		c.OnNotification(func(n mcp.JSONRPCNotification) {
			if n.Method == "notifications/progress" {
				select {
				case waiting <- struct{}{}:
				default:
				}
			}
		})
		first := structured(t, callTool(t, c, "delete_group", map[string]any{"id": 1042}))
		id, _ := first["approval_id"].(string)
		tok, _ := first["confirmation_token"].(string)
		if id == "" || tok == "" {
			t.Fatalf("first call: %v", first)
		}
		done := make(chan *mcp.CallToolResult, 1)
		go func() {
			req := mcp.CallToolRequest{}
			req.Params.Name = "delete_group"
			req.Params.Arguments = map[string]any{"id": 1042, "confirmation_token": tok}
			req.Params.Meta = &mcp.Meta{ProgressToken: "wait"}
			res, err := c.CallTool(context.WithoutCancel(t.Context()), req)
			if err != nil {
				res = mcp.NewToolResultError(err.Error())
			}
			done <- res
		}()
		testenv.Recv(t, waiting, "the redemption to wait for the approval")

		newer := generationReplica(t, st, sb, "new", policyV2, 2)
		if !checkServes(t, newer) || checkServes(t, old) {
			t.Fatalf("take-over: new %q, old %q", newer.PolicyRefusal(), old.PolicyRefusal())
		}
		if _, err := old.Approvals.Decide(t.Context(), id, true, "a person", "test"); err != nil {
			t.Fatal(err)
		}
		res := testenv.Recv(t, done, "the waiting call to end")
		if text := testenv.Text(res); !res.IsError || !strings.Contains(text, "newer policy generation (2,") || !strings.Contains(text, "Nothing was executed") {
			t.Errorf("the waiting call after the take-over and the approval: %s", text)
		}
		if d := upstreamDeletes(sb); len(d) != 0 {
			t.Fatalf("a call of generation 1 ran after generation 2 took over: %v", d)
		}
	})
}

// TestPolicyRecordOfAnOlderVersion: a record written by a version without
// generations (no "generation" field) is generation 0: a replica of
// generation 0 with another policy refuses it as before, one of
// generation 1 takes it over.
func TestPolicyRecordOfAnOlderVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := sharedStore{"embedded", func(c *config.Config) { c.StateDir = dir }}
	sb := sandboxenv.Start(t, sandbox.Options{})
	zero := generationReplica(t, st, sb, "zero", policyV2, 0)
	if err := zero.Store.Put(t.Context(), "replicas/policy", []byte(`{"digest":"0123456789abcdef","replica":"older"}`), 0); err != nil {
		t.Fatal(err)
	}
	if checkServes(t, zero) || !strings.Contains(zero.PolicyRefusal(), "replica older published") {
		t.Fatalf("generation 0 beside an older version's record: %q", zero.PolicyRefusal())
	}
	one := generationReplica(t, st, sb, "one", policyV2, 1)
	if !checkServes(t, one) {
		t.Fatalf("generation 1 over an older version's record: %q", one.PolicyRefusal())
	}
	if rec := policyRecord(t, one); rec["generation"] != float64(1) || rec["replica"] != "one" {
		t.Errorf("the record after the take-over: %v", rec)
	}
}
