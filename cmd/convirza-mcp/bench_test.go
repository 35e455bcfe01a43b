package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(b *testing.B) string {
	b.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "convirza-mcp-bench")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "convirza-mcp")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			b.Logf("%s", out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath
}

const initLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}` + "\n"

// BenchmarkStartupStdio: from exec to an answered initialize over stdio,
// with real credentials configured (no upstream call is made at start-up),
// and the resident memory of the idle server right after.
func BenchmarkStartupStdio(b *testing.B) {
	bin := binary(b)
	var rss int64
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "serve", "--toolsets", "all")
		cmd.Env = append(os.Environ(), "CONVIRZA_EMAIL=a@b.example", "CONVIRZA_PASSWORD=x", "CONVIRZA_API_URL=http://127.0.0.1:1/v3", "CONVIRZA_OAUTH_URL=http://127.0.0.1:1")
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		if _, err := stdin.Write([]byte(initLine)); err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || !strings.Contains(line, `"serverInfo"`) {
			b.Fatalf("initialize: %q %v %s", line, err, stderr.String())
		}
		b.StopTimer()
		rss += vmRSS(cmd.Process.Pid)
		_ = stdin.Close()
		_ = cmd.Wait()
		b.StartTimer()
	}
	b.ReportMetric(float64(rss)/float64(b.N)/1024, "idleRSS-MiB")
}

// vmRSS reads a process's resident set size in KiB from /proc.
func vmRSS(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
