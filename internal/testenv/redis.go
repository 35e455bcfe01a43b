package testenv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NoRedisEnv set to 1 skips the tests that need a redis-server, knowingly;
// unset, they fail when it is missing (as internal/store's do).
const NoRedisEnv = "CONVIRZA_MCP_NO_REDIS"

// Redis runs a redis-server of the test's own (Debian's package; .ci/run
// installs it), without persistence, on a free loopback port, and returns
// its URL for CONVIRZA_MCP_STORE; it stops when the test ends.
func Redis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(NoRedisEnv) == "1" {
			t.Skipf("%s=1: not run over Redis", NoRedisEnv)
		}
		t.Fatalf("redis-server is not installed (apt-get install redis-server; .ci/run does), or set %s=1 to skip the tests that need it knowingly", NoRedisEnv)
	}
	dir := t.TempDir()
	for range 3 { // another process may take the free port first
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		_, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", "redis.log")
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting redis-server: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(Patience):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		if redisStarted(addr, exited) {
			t.Cleanup(stop)
			return "redis://" + addr + "/0"
		}
		stop()
		log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
		t.Logf("redis-server on %s did not start:\n%s", addr, log)
	}
	t.Fatal("redis-server did not start on a free port (3 tries)")
	return ""
}

// redisStarted waits, within Patience, for the server at addr to answer,
// unless it exits first.
func redisStarted(addr string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(Patience)
	for time.Now().Before(deadline) {
		if redisAnswers(addr) {
			return true
		}
		select {
		case <-exited:
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
	return false
}

func redisAnswers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprint(c, "PING\r\n"); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}
