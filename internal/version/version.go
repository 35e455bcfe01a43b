// Package version says which build this is: the release's version, commit
// and date stamped by the release build (-ldflags -X), or "(devel)" and the
// commit Go recorded for a plain build.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Stamped by the release build:
//
//	-ldflags "-X github.com/convirza/convirza-mcp/internal/version.version=v1.2.3
//	          -X github.com/convirza/convirza-mcp/internal/version.commit=<sha>
//	          -X github.com/convirza/convirza-mcp/internal/version.date=<RFC 3339>"
//
// They are set at link time and never written at run time.
var (
	version = ""
	commit  = ""
	date    = ""
)

// Info is one build's identity.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Go      string `json:"go"`
}

// Get returns this build's identity: the stamped values, else what the Go
// toolchain recorded (a plain build is "(devel)").
func Get() Info {
	i := Info{Version: version, Commit: commit, Date: date, Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if i.Version == "" {
			i.Version = bi.Main.Version // "(devel)" for a plain build, vX.Y.Z for go install …@vX.Y.Z
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && i.Commit == "":
				i.Commit = s.Value
			case s.Key == "vcs.time" && i.Date == "":
				i.Date = s.Value
			}
		}
	}
	if i.Version == "" {
		i.Version = "(devel)"
	}
	return i
}

// String is "convirza-mcp VERSION (commit COMMIT, built DATE, GO)".
func (i Info) String() string {
	c, d := i.Commit, i.Date
	if len(c) > 12 {
		c = c[:12]
	}
	if c == "" {
		c = "unknown"
	}
	if d == "" {
		d = "unknown"
	}
	return fmt.Sprintf("convirza-mcp %s (commit %s, built %s, %s)", i.Version, c, d, i.Go)
}
