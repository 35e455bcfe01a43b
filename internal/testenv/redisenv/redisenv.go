// Package redisenv runs a real redis-server for a test (Debian's package;
// .ci/run installs it): no mock. Without it the tests that need one fail,
// unless CONVIRZA_MCP_NO_REDIS=1 says to skip them knowingly.
package redisenv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NoRedisEnv set to 1 skips the tests that need a redis-server.
const NoRedisEnv = "CONVIRZA_MCP_NO_REDIS"

// patience bounds a start and a stop.
const patience = 10 * time.Second

// Server is a redis-server of the test's own, without persistence, on a
// loopback port; it stops when the test ends.
type Server struct {
	bin, password, dir string
	port               int
	cmd                *exec.Cmd
	exited             chan struct{}
}

// Start runs a redis-server on a free loopback port, asking for password
// when it is not empty.
func Start(t testing.TB, password string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(NoRedisEnv) == "1" {
			t.Skipf("%s=1: not run over Redis", NoRedisEnv)
		}
		t.Fatalf("redis-server is not installed (apt-get install redis-server; .ci/run does), or set %s=1 to skip the tests that need it knowingly", NoRedisEnv)
	}
	s := &Server{bin: bin, password: password, dir: t.TempDir()}
	for range 3 { // another process may take the free port first
		s.port = FreePort(t)
		if err = s.Restart(); err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		t.Log(err)
	}
	t.Fatalf("redis-server did not start on a free port (3 tries): %v", err)
	return nil
}

// FreePort is a loopback port nothing listens on (now).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is the server's URL for CONVIRZA_MCP_STORE (database 0), its
// password in it, query appended ("?prefix=…" or "").
func (s *Server) URL(query string) string {
	auth := ""
	if s.password != "" {
		auth = ":" + s.password + "@"
	}
	return "redis://" + auth + s.Addr() + "/0" + query
}

// Restart starts the server (again) on its port, and waits until it
// answers; its data does not survive a Stop.
func (s *Server) Restart() error {
	args := []string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", "redis.log"}
	if s.password != "" {
		args = append(args, "--requirepass", s.password)
	}
	s.cmd = exec.Command(s.bin, args...)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { _ = cmd.Wait(); close(exited) }(s.cmd, s.exited)
	deadline := time.Now().Add(patience)
	for !s.answers() {
		select {
		case <-s.exited:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("redis-server on port %d exited at start:\n%s", s.port, log)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("redis-server on port %d not ready within %s", s.port, patience)
		}
	}
	return nil
}

// answers: the server answers PING (or asks for the password).
func (s *Server) answers() bool {
	c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && (strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH"))
}

// Stop stops the server (interrupt, then kill after a while); a stopped
// server stays stopped.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(patience):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}
