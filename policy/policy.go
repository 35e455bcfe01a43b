// Package policy decides what a tool call may do: tool classes, the
// confirmation protocol for destructive and costly tools (elicitation or a
// signed, single-use confirmation_token), who is asking, the operator's
// policy file (mode, toolsets, allow/deny, confirmation, org-unit scope,
// audit log) and the audit log itself.
//
// It knows tool names, classes and arguments, never an upstream client:
// previews and the org-unit hierarchy are handed to it as functions.
package policy

import (
	"context"
	"fmt"
	"strings"
)

// Class says what a tool does to the world.
type Class int

const (
	// Read tools change nothing.
	Read Class = iota
	// Write tools change the account, reversibly.
	Write
	// Destructive tools delete or give something up; they need confirmation.
	Destructive
	// Costly tools spend money or reach people outside the account; they
	// need confirmation.
	Costly
)

// String is the catalog's notation: R, W, D, W$.
func (c Class) String() string {
	switch c {
	case Read:
		return "R"
	case Write:
		return "W"
	case Destructive:
		return "D"
	case Costly:
		return "W$"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// NeedsConfirmation reports whether every call needs a human's yes.
func (c Class) NeedsConfirmation() bool { return c == Destructive || c == Costly }

// Mode is the confirmation mode.
type Mode string

const (
	// ModeAuto asks through the client's form when it is trusted to show it
	// to a person, else through the approval page the client opens (URL
	// elicitation), else out of band (the approval pages, the approvals
	// command).
	ModeAuto Mode = "auto"
	// ModeElicitation only asks through the client (form or URL); clients
	// that cannot be asked are refused.
	ModeElicitation Mode = "elicitation"
	// ModeApproval always asks out of band.
	ModeApproval Mode = "approval"
	// ModeToken: the token alone executes (the caller is the accountable
	// party; not a person's check).
	ModeToken Mode = "token"
)

// ParseMode reads a confirmation mode.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "", ModeAuto:
		return ModeAuto, nil
	case ModeElicitation, ModeApproval, ModeToken:
		return m, nil
	}
	return "", fmt.Errorf("confirmation mode must be auto, elicitation, approval or token; got %q", s)
}

type principalKey struct{}

// WithPrincipal records who is calling (an authenticated HTTP client's
// token name, say).
func WithPrincipal(ctx context.Context, p string) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

type personNameKey struct{}

// WithPersonName records the name of the person the principal is (their
// email, under per-person sign-in), for the approval record's requester:
// an approver sees who asked, not a user id.
func WithPersonName(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, personNameKey{}, name)
}

// PersonNameFrom returns the name WithPersonName recorded, or "".
func PersonNameFrom(ctx context.Context) string {
	n, _ := ctx.Value(personNameKey{}).(string)
	return n
}

// PrincipalFrom returns the caller recorded by WithPrincipal, or "".
func PrincipalFrom(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(string)
	return p
}
