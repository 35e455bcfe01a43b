package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce         sync.Once
	binPath, basePath string
	buildErr          error
)

// binaries builds this server and the one-tool baseline once.
func binaries(b *testing.B) (ours, baseline string) {
	b.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "convirza-mcp-bench")
		if err != nil {
			buildErr = err
			return
		}
		binPath, basePath = filepath.Join(dir, "convirza-mcp"), filepath.Join(dir, "onetool")
		for _, build := range [][]string{{"-o", binPath, "."}, {"-o", basePath, "./testdata/onetool"}} {
			out, err := exec.Command("go", append([]string{"build"}, build...)...).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %v: %w\n%s", build, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath, basePath
}

const initLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}` + "\n"

// BenchmarkStartupStdio: from exec to an answered initialize over stdio,
// with real credentials configured (no upstream call is made at start-up),
// and the resident memory of the idle server right after; the same for a
// one-tool mcp-go server, alternated in the same run, and the ratio.
func BenchmarkStartupStdio(b *testing.B) {
	ours, baseline := binaries(b)
	env := append(os.Environ(), "CONVIRZA_EMAIL=a@b.example", "CONVIRZA_PASSWORD=x", "CONVIRZA_API_URL=http://127.0.0.1:1/v3", "CONVIRZA_OAUTH_URL=http://127.0.0.1:1")
	var oursNs, baseNs []float64
	var rss, baseRSS int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, r := startOnce(b, exec.Command(ours, "serve", "--toolsets", "all"), env)
		oursNs, rss = append(oursNs, float64(d)), rss+r
		d, r = startOnce(b, exec.Command(baseline), env)
		baseNs, baseRSS = append(baseNs, float64(d)), baseRSS+r
	}
	b.ReportMetric(median(oursNs)/1e6, "ms-to-initialize")
	b.ReportMetric(median(baseNs)/1e6, "baseline-ms")
	b.ReportMetric(median(oursNs)/median(baseNs), "ratio")
	b.ReportMetric(float64(rss)/float64(b.N)/1024, "idleRSS-MiB")
	b.ReportMetric(float64(baseRSS)/float64(b.N)/1024, "baseline-idleRSS-MiB")
}

// startOnce starts cmd, answers an initialize over its stdio, and returns
// the time that took and the idle process's resident memory in KiB.
func startOnce(b *testing.B, cmd *exec.Cmd, env []string) (time.Duration, int64) {
	b.Helper()
	cmd.Env = env
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	if _, err := stdin.Write([]byte(initLine)); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	d := time.Since(start)
	if err != nil || !strings.Contains(line, `"serverInfo"`) {
		b.Fatalf("initialize: %q %v %s", line, err, stderr.String())
	}
	rss := vmRSS(cmd.Process.Pid)
	_ = stdin.Close()
	_ = cmd.Wait()
	return d, rss
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
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
