package policy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// Audit events: a decision about a call (written before anything runs), and
// the outcome of a call that ran.
const (
	EventDecision = "decision"
	EventOutcome  = "outcome"
)

// Auditor records what was decided about tool calls and what came of them.
// An error from Record means the line was not written; for a call that
// writes, the caller must then not execute it.
type Auditor interface {
	Record(ctx context.Context, e AuditEntry) error
}

// AuditEntry is one line of the audit log. Client, session and principal
// are taken from the context by the Auditor.
type AuditEntry struct {
	Time      time.Time
	CallID    string // links a call's decision and outcome lines
	Event     string // EventDecision or EventOutcome
	Tool      string
	Class     Class
	Arguments []byte // JSON; secrets and phone numbers are masked when written
	Decision  string // on decision lines
	Reason    string // why a call was refused or declined
	Action    string // the sentence a confirmation asked about
	Outcome   string // on outcome lines: ok or error
	Error     string // the error message when Outcome is error
	RequestID string // the upstream request id, when the result has one
}

// NewCallID returns a fresh id linking the lines of one call.
func NewCallID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// AuditLog appends one JSON line per entry to a file. Each line is one
// write(2) on a file opened with O_APPEND, under a mutex, so lines never
// interleave; the file is opened per line, so a rotated log (moved away by
// logrotate) is followed without a signal.
type AuditLog struct {
	path string
	mu   sync.Mutex
}

// NewAuditLog checks that path can be appended to (creating it, mode 0600,
// when missing) and returns the log.
func NewAuditLog(path string) (*AuditLog, error) {
	l := &AuditLog{path: path}
	f, err := l.open()
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return l, nil
}

// Path is the file the log appends to.
func (l *AuditLog) Path() string { return l.path }

func (l *AuditLog) open() (*os.File, error) {
	return os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

type auditLine struct {
	Time      string `json:"time"`
	CallID    string `json:"call_id,omitempty"`
	Event     string `json:"event"`
	Tool      string `json:"tool"`
	Class     string `json:"class,omitempty"`
	Decision  string `json:"decision,omitempty"`
	Arguments any    `json:"arguments,omitempty"`
	Action    string `json:"action,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	Error     string `json:"error,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Client    string `json:"client,omitempty"`
	Session   string `json:"session,omitempty"`
	Principal string `json:"principal,omitempty"`
}

// Record appends e as one line.
func (l *AuditLog) Record(ctx context.Context, e AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	client, session := ClientOf(ctx)
	line := auditLine{
		Time: e.Time.UTC().Format(time.RFC3339Nano), CallID: e.CallID, Event: e.Event, Tool: e.Tool,
		Decision: e.Decision, Action: MaskText(e.Action), Reason: MaskText(e.Reason),
		Outcome: e.Outcome, Error: MaskText(e.Error), RequestID: e.RequestID,
		Client: client, Session: session, Principal: PrincipalFrom(ctx),
	}
	if e.Tool != "" {
		line.Class = e.Class.String()
	}
	if len(e.Arguments) > 0 {
		line.Arguments = MaskArguments(e.Arguments)
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("audit log: encode: %w", err)
	}
	b = append(b, '\n')

	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := l.open()
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("audit log: %w", werr)
	}
	if cerr != nil {
		return fmt.Errorf("audit log: %w", cerr)
	}
	return nil
}

// ClientOf names the client (from its initialize, or the request's own
// client info in the modern protocol) and the session of a request.
func ClientOf(ctx context.Context) (client, session string) {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.ClientInfo != nil {
		client = info.ClientInfo.Name
	}
	if sess := server.ClientSessionFromContext(ctx); sess != nil {
		session = sess.SessionID()
		if ci, ok := sess.(server.SessionWithClientInfo); ok && client == "" {
			client = ci.GetClientInfo().Name
		}
	}
	return client, session
}

const redacted = "[redacted]"

// secretKey matches argument names whose values are never written down.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "token") || strings.Contains(k, "password") || strings.Contains(k, "secret")
}

// MaskArguments decodes JSON arguments and masks them: values under keys
// containing token, password or secret are replaced, and phone numbers keep
// only their last 4 digits. Arguments that are not JSON are replaced whole.
func MaskArguments(raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return redacted
	}
	return mask(v)
}

func mask(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretKey(k) {
				x[k] = redacted
				continue
			}
			x[k] = mask(val)
		}
		return x
	case []any:
		for i, val := range x {
			x[i] = mask(val)
		}
		return x
	case string:
		return MaskText(x)
	}
	return v
}

// phoneLike finds runs that may be phone numbers: an optional +, then
// digits with the usual separators.
var phoneLike = regexp.MustCompile(`\+?\(?[0-9][0-9().\- ]{5,}[0-9]`)

var datePrefix = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}`)

// MaskText masks every phone number in s, E.164 (+ and 8 to 15 digits) or
// any run of 10 or more digits, keeping only the last 4 digits.
func MaskText(s string) string {
	if s == "" {
		return s
	}
	return phoneLike.ReplaceAllStringFunc(s, func(m string) string {
		digits := 0
		for _, r := range m {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if datePrefix.MatchString(m) {
			return m // a date and time, not a phone number
		}
		e164 := strings.HasPrefix(m, "+") && digits >= 8 && digits <= 15
		if !e164 && digits < 10 {
			return m
		}
		keep := 4
		out := []byte(m)
		for i := len(out) - 1; i >= 0; i-- {
			if out[i] >= '0' && out[i] <= '9' {
				if keep > 0 {
					keep--
					continue
				}
				out[i] = '*'
			}
		}
		return string(out)
	})
}
