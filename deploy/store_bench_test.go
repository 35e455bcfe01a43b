package deploy_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/policy"
)

// BenchmarkConfirmationStore is what the state store adds to one
// confirmable call: issuing its token (a record created) and redeeming it
// (the record swapped from issued to redeemed), on the embedded store and
// on a Redis on loopback. It reports the median and 99th percentile of
// the pair; the signing and checking of the token itself take a few
// microseconds of it.
//
//	go test ./deploy -run '^$' -bench ConfirmationStore -benchtime 2000x
func BenchmarkConfirmationStore(b *testing.B) {
	prerequisites(b)
	for _, kind := range []string{"embedded", "redis"} {
		b.Run(kind, func(b *testing.B) {
			var url string
			if kind == "redis" {
				url = startRedis(b)
			}
			st, err := store.Open(b.Context(), url, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			toks, err := policy.NewTokens([]byte("0123456789abcdef0123456789abcdef"), 5*time.Minute, st)
			if err != nil {
				b.Fatal(err)
			}
			bind := policy.Binding{Tool: "delete_webhook", Args: []byte(`{"id":7}`), Principal: "bearer:0123456789abcdef"}
			ctx := b.Context()
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				tok, _, err := toks.Issue(ctx, policy.PurposeToken, bind)
				if err != nil {
					b.Fatal(err)
				}
				if err := toks.Redeem(ctx, policy.PurposeToken, tok, bind); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(took[(len(took)*99)/100].Nanoseconds())/1e3, "p99-µs")
		})
	}
}

// startRedis runs a redis-server without persistence on a free loopback
// port until the benchmark ends, and returns its URL.
func startRedis(b *testing.B) string {
	b.Helper()
	port := strconv.Itoa(freePorts(b, 1)[0])
	dir := b.TempDir()
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	cmd.Env = []string{"PATH=" + searchPath()}
	if err := cmd.Start(); err != nil {
		b.Fatalf("redis-server: %v", err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := "redis://127.0.0.1:" + port + "/0"
	st, err := store.Open(b.Context(), url, "")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
	defer cancel()
	for {
		err := st.Ping(ctx)
		if err == nil {
			return url
		}
		if ctx.Err() != nil {
			b.Fatal(fmt.Errorf("redis-server on port %s did not answer: %w", port, err))
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}
