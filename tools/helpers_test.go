package tools_test

// Helpers shared by the toolset tests.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/convirza/convirza-mcp/internal/testenv"
)

// noUpstream fails the test if the sandbox received any request since the
// last reset; what, if given, says which case.
func noUpstream(t *testing.T, env *testenv.Env, what ...string) {
	t.Helper()
	if calls := env.App.Sandbox.Calls(); len(calls) != 0 {
		t.Errorf("%s: expected no upstream call, got %v", strings.Join(what, " "), calls)
	}
}

// sentUpstream reports whether the sandbox received a request starting with prefix.
func sentUpstream(env *testenv.Env, prefix string) bool {
	for _, c := range env.App.Sandbox.Calls() {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

// confirmToken makes the first call of a confirmable tool, checks that it
// asks for confirmation, and returns the action sentence and the token.
func confirmToken(t *testing.T, env *testenv.Env, tool, args string) (string, string) {
	t.Helper()
	out := env.OK(t, tool, args)
	if out["status"] != "confirmation_required" {
		t.Fatalf("%s: want confirmation_required, got %v", tool, out)
	}
	tok := env.Approved(t, out)
	action, _ := out["action"].(string)
	if tok == "" || action == "" {
		t.Fatalf("%s: no token or action in %v", tool, out)
	}
	return action, tok
}

// withToken adds confirmation_token to a JSON object of arguments.
func withToken(args, tok string) string {
	return strings.TrimSuffix(strings.TrimSpace(args), "}") + fmt.Sprintf(`,"confirmation_token":%q}`, tok)
}

func num(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case json.Number:
		n, _ := x.Int64()
		return n
	}
	return -1
}

func items(t *testing.T, out map[string]any, key string) []map[string]any {
	t.Helper()
	raw, _ := out[key].([]any)
	res := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			t.Fatalf("%s item is not an object: %v", key, r)
		}
		res = append(res, m)
	}
	return res
}
