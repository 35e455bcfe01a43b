//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package store

import (
	"errors"
	"os"
)

var errNoFileLock = errors.New("the embedded store needs file locks this platform lacks: use CONVIRZA_MCP_STORE=redis://…")

func tryLockFile(*os.File, bool) (bool, error) { return false, errNoFileLock }

func unlockFile(*os.File) error { return errNoFileLock }

func syncDir(string) error { return nil }
