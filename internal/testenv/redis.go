package testenv

import (
	"testing"

	"github.com/convirza/convirza-mcp/internal/testenv/redisenv"
)

// NoRedisEnv set to 1 skips the tests that need a redis-server, knowingly;
// unset, they fail when it is missing (as internal/store's do).
const NoRedisEnv = redisenv.NoRedisEnv

// Redis runs a redis-server of the test's own (redisenv) and returns its
// URL for CONVIRZA_MCP_STORE; it stops when the test ends.
func Redis(t testing.TB) string {
	t.Helper()
	return redisenv.Start(t, "").URL("")
}
