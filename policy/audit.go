package policy

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/server"
)

// Audit events: a decision about a call (written before anything runs), the
// outcome of a call that ran, and a person's decision on a pending approval
// (written by whoever took it: the approvals command, the approval pages).
const (
	EventDecision = "decision"
	EventOutcome  = "outcome"
	EventApproval = "approval"
)

// Steps of a confirmation, as the audit records them (AuditEntry.Step).
const (
	StepRequested = "requested" // a person was asked, or an approval opened
	StepWaiting   = "waiting"   // a redemption refused: the approval is still pending
	StepApproved  = "approved"  // a person said yes (or, in mode token, the token came back)
	StepDeclined  = "declined"  // a person said no
	StepExpired   = "expired"   // the confirmation ran out before it was used
	StepExecuted  = "executed"  // the confirmed call ran (its outcome line)
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
	// Step is the confirmation step (StepRequested...) of a confirmable
	// call, with the Channel it went through (ChannelElicitation...), the
	// Approver who decided and the ApprovalID of an out-of-band approval.
	Step, Channel, Approver, ApprovalID string
	// Snapshot is the object a deletion removed, as read just before (JSON
	// encodable; masked like the arguments when written).
	Snapshot any
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
	// Replica names this process on every line, so the logs of several
	// replicas (or of a server and the approvals command) merge; set it
	// before the first Record.
	Replica string
	mu      sync.Mutex
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
	Time       string `json:"time"`
	CallID     string `json:"call_id,omitempty"`
	Event      string `json:"event"`
	Tool       string `json:"tool"`
	Class      string `json:"class,omitempty"`
	Decision   string `json:"decision,omitempty"`
	Arguments  any    `json:"arguments,omitempty"`
	Action     string `json:"action,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Outcome    string `json:"outcome,omitempty"`
	Error      string `json:"error,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	Step       string `json:"step,omitempty"`
	Channel    string `json:"channel,omitempty"`
	Approver   string `json:"approver,omitempty"`
	ApprovalID string `json:"approval_id,omitempty"`
	Snapshot   any    `json:"snapshot,omitempty"`
	Client     string `json:"client,omitempty"`
	Session    string `json:"session,omitempty"`
	Principal  string `json:"principal,omitempty"`
	Replica    string `json:"replica,omitempty"`
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
		Step: e.Step, Channel: e.Channel, Approver: MaskText(e.Approver), ApprovalID: e.ApprovalID,
		Client: client, Session: session, Principal: PrincipalFrom(ctx), Replica: l.Replica,
	}
	if e.Tool != "" {
		line.Class = e.Class.String()
	}
	if len(e.Arguments) > 0 {
		line.Arguments = MaskArguments(e.Arguments)
	}
	if e.Snapshot != nil {
		line.Snapshot = maskValue(e.Snapshot)
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

// MaxAuditString is the longest string value an audit record keeps whole;
// a longer one (base64 audio, say) is recorded as Omitted gives it.
const MaxAuditString = 64 << 10

// Omitted stands for a string too long to record (longer than
// MaxAuditString): its size and SHA-256, which still tell one value from
// another (a confirmation binds to this form) without holding megabytes.
func Omitted(s string) string {
	h := sha256.New()
	buf := make([]byte, min(len(s), 32<<10))
	for rest := s; rest != ""; {
		n := copy(buf, rest)
		h.Write(buf[:n])
		rest = rest[n:]
	}
	return fmt.Sprintf("[omitted: %d bytes, sha256 %x]", len(s), h.Sum(nil))
}

// MaskArguments decodes JSON arguments and masks them for the audit log:
//   - values under secret-looking keys (secretKey) are replaced whole;
//   - the values of webhook static_params are always replaced (their names
//     are kept), and so is the value of any {name, value} pair whose name
//     looks secret (a header list, say);
//   - integers of 10 to 15 digits are taken for phone numbers (ids in this
//     API are far shorter) and become strings keeping their last 4 digits;
//   - strings are masked by MaskText; one longer than MaxAuditString is
//     recorded as its size and digest (Omitted).
//
// Arguments that are not JSON are replaced whole.
func MaskArguments(raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return redacted
	}
	return mask(v)
}

// maskValue masks any JSON-encodable value as MaskArguments masks
// arguments: a snapshot of a deleted object holds phone numbers and, for a
// webhook, its static parameters.
func maskValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return redacted
	}
	return MaskArguments(b)
}

func mask(v any) any {
	switch x := v.(type) {
	case map[string]any:
		name, _ := x["name"].(string)
		secretPair := secretKey(name) // {"name": "Authorization", "value": ...}
		for k, val := range x {
			switch {
			case secretKey(k), k == "value" && secretPair:
				x[k] = redacted
			case strings.EqualFold(k, "static_params"):
				x[k] = maskStaticParams(val)
			default:
				x[k] = mask(val)
			}
		}
		return x
	case []any:
		for i, val := range x {
			x[i] = mask(val)
		}
		return x
	case string:
		if len(x) > MaxAuditString {
			return Omitted(x)
		}
		return MaskText(x)
	case json.Number:
		if phoneInteger(string(x)) {
			return maskDigits(string(x), 4)
		}
	}
	return v
}

// maskStaticParams masks a webhook's static_params ([{name, value}]): every
// value is replaced, whatever its name. Static parameters exist mostly to
// carry a shared secret to the receiver, under any name (k, hash, client),
// so a list of secret-looking names would let some through; the names stay,
// which tells what was configured.
func maskStaticParams(v any) any {
	list, ok := v.([]any)
	if !ok {
		return mask(v)
	}
	for i, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			list[i] = mask(el)
			continue
		}
		if _, ok := m["value"]; ok {
			m["value"] = redacted
		}
		list[i] = mask(m)
	}
	return list
}

// phoneInteger reports whether a JSON number is an integer of 10 to 15
// digits: taken for a phone number (E.164 has at most 15 digits; no id of
// this API is longer than 6).
func phoneInteger(n string) bool {
	n = strings.TrimPrefix(n, "-")
	if len(n) < 10 || len(n) > 15 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !isDigit(n[i]) {
			return false
		}
	}
	return true
}

// secretKey reports whether an argument (or parameter, or header) name
// names a secret: it contains token, password, secret, credential,
// authorization, signature, an API or access key..., or one of its words
// (split at case changes and at anything but letters and digits) is auth,
// oauth, key, pass, pwd or sig. Words keep "author", "keyword" and
// "passenger" readable.
func secretKey(k string) bool {
	low := strings.ToLower(k)
	for _, part := range []string{
		"token", "password", "passwd", "passphrase", "secret", "credential", "authorization",
		"signature", "apikey", "api_key", "api-key", "accesskey", "access_key", "privatekey", "private_key", "cookie",
	} {
		if strings.Contains(low, part) {
			return true
		}
	}
	secret := false
	forEachWord(k, func(w string) {
		switch strings.ToLower(w) {
		case "auth", "oauth", "key", "pass", "pwd", "sig":
			secret = true
		}
	})
	return secret
}

// forEachWord calls f with each word of s: runs of ASCII letters and
// digits, also split where a lower-case letter is followed by an upper-case
// one (apiKey is api, Key).
func forEachWord(s string, f func(string)) {
	start := -1
	for i := 0; i <= len(s); i++ {
		alnum := i < len(s) && (isDigit(s[i]) || isLetter(s[i]))
		camel := alnum && start >= 0 && isUpper(s[i]) && isLower(s[i-1])
		if start >= 0 && (!alnum || camel) {
			f(s[start:i])
			start = -1
		}
		if alnum && start < 0 {
			start = i
		}
	}
}

// MaskText masks credentials in URLs (maskURLs) and phone numbers
// (maskPhones) in s.
func MaskText(s string) string {
	if s == "" {
		return s
	}
	return maskPhones(maskURLs(s))
}

// maskURLs masks, in every scheme://... URL of s (up to the next space or
// quote), the userinfo's password (the whole userinfo when it has no
// password: a lone user name in a URL is usually a token), every query
// value (names are kept: a receiver's secret can go under any name) and
// the fragment.
func maskURLs(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is written
	for {
		i := strings.Index(s[done:], "://")
		if i < 0 {
			break
		}
		sep := done + i
		start := sep
		for start > done && isSchemeByte(s[start-1]) {
			start--
		}
		for start < sep && !isLetter(s[start]) {
			start++
		}
		if start == sep { // no scheme: not a URL
			b.WriteString(s[done : sep+3])
			done = sep + 3
			continue
		}
		end := sep + 3
		for end < len(s) && !endsURL(s[end]) {
			end++
		}
		b.WriteString(s[done:start])
		b.WriteString(maskURL(s[start:sep+3], s[sep+3:end]))
		done = end
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// maskURL masks one URL: scheme is "scheme://", rest what follows it.
func maskURL(scheme, rest string) string {
	var b strings.Builder
	b.WriteString(scheme)
	authEnd := strings.IndexAny(rest, "/?#")
	if authEnd < 0 {
		authEnd = len(rest)
	}
	at := strings.LastIndexByte(rest[:authEnd], '@')
	if c := strings.IndexByte(rest[:authEnd], ':'); at < 0 && c >= 0 && !strings.HasPrefix(rest, "[") && !allDigits(rest[c+1:authEnd]) {
		// Not a port: a password holding an unescaped / or ? hides the @
		// further on.
		upTo := strings.IndexByte(rest, '#')
		if upTo < 0 {
			upTo = len(rest)
		}
		at = strings.LastIndexByte(rest[:upTo], '@')
	}
	if at >= 0 {
		if c := strings.IndexByte(rest[:at], ':'); c >= 0 {
			b.WriteString(rest[:c])
			b.WriteString(":***")
		} else {
			b.WriteString("***")
		}
		rest = rest[at:]
	}
	pathEnd := strings.IndexAny(rest, "?#")
	if pathEnd < 0 {
		b.WriteString(rest)
		return b.String()
	}
	b.WriteString(rest[:pathEnd])
	rest = rest[pathEnd:]
	if rest[0] == '?' {
		b.WriteByte('?')
		query := rest[1:]
		rest = ""
		if h := strings.IndexByte(query, '#'); h >= 0 {
			query, rest = query[:h], query[h:]
		}
		for i, part := range strings.Split(query, "&") {
			if i > 0 {
				b.WriteByte('&')
			}
			if eq := strings.IndexByte(part, '='); eq >= 0 {
				b.WriteString(part[:eq+1])
				if eq+1 < len(part) {
					b.WriteString("***")
				}
			} else if part != "" {
				b.WriteString("***")
			}
		}
	}
	if len(rest) > 1 { // a fragment
		b.WriteString("#***")
	} else {
		b.WriteString(rest)
	}
	return b.String()
}

func isSchemeByte(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '+' || c == '-' || c == '.'
}

// endsURL: a URL in text stops at white space, a quote or an angle bracket.
func endsURL(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v', '"', '\'', '`', '<', '>':
		return true
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// maxGap is the most separators between two digit groups of one phone
// number: ") " in "(303) 555-0100", " - " in "303 - 555 - 0100".
const maxGap = 3

// maskPhones masks every phone number in s, keeping only its last 4 digits.
// A phone number is digit groups joined by gaps of 1 to maxGap separators
// (space, no-break space, - and other dashes, ., /, parentheses), with an
// optional leading +; it is masked when it has 10 or more digits, or 8 or
// more after a +. Groups glued to letters are part of a word or an id, not
// a number (but 303-555-0155x204 has an extension). Dates (2026-12-01,
// 12/01/2026, 01.12.2026), IPv4 addresses and UUIDs are kept whole. One
// pass, each byte looked at a bounded number of times: linear in len(s).
func maskPhones(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if i > 0 && isWordByte(s[i-1]) { // inside a word
			b.WriteByte(s[i])
			i++
			continue
		}
		if n := keptToken(s, i); n > 0 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		end, maskEnd := phoneAt(s, i)
		if end == i {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(maskDigits(s[i:maskEnd], 4))
		b.WriteString(s[maskEnd:end])
		i = end
	}
	return b.String()
}

// phoneAt scans the digit groups that start at s[i] (after an optional +
// and opening parenthesis). It returns where they end (i when none start
// there) and how far they are to be masked: to the end of the last group
// not glued to a letter when that makes a phone number, else i.
func phoneAt(s string, i int) (end, maskEnd int) {
	j := i
	plus := s[j] == '+'
	if plus {
		j++
	}
	if j < len(s) && s[j] == '(' {
		j++
	}
	if j >= len(s) || !isDigit(s[j]) {
		return i, i
	}
	digits, lastDigits := 0, 0
	prevEnd := i // end of the group before the last
	for {
		gs := j
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		lastDigits = j - gs
		digits += lastDigits
		k, seps := j, 0
		for k < len(s) && seps < maxGap {
			n := phoneSep(s, k)
			if n == 0 {
				break
			}
			k += n
			seps++
		}
		if seps == 0 || k >= len(s) || !isDigit(s[k]) || keptToken(s, k) > 0 {
			break
		}
		prevEnd = j
		j = k
	}
	end = j
	last := end
	if end < len(s) && isWordByte(s[end]) && !extension(s[end:]) { // the last group is part of a word
		digits -= lastDigits
		last = prevEnd
	}
	if digits >= 10 || plus && digits >= 8 {
		return end, last
	}
	return end, i
}

// extension reports whether s, glued to a number, starts its extension
// (x204, ext204).
func extension(s string) bool {
	if len(s) >= 3 && strings.EqualFold(s[:3], "ext") {
		return true
	}
	return len(s) >= 2 && (s[0] == 'x' || s[0] == 'X') && isDigit(s[1])
}

// phoneSep returns the length of the phone-number separator at s[i], or 0.
func phoneSep(s string, i int) int {
	switch s[i] {
	case ' ', '-', '.', '/', '(', ')':
		return 1
	}
	if s[i] < utf8.RuneSelf {
		return 0
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == '\u00a0', r == '\u2007', r == '\u2009', r == '\u202f': // no-break, figure, thin, narrow no-break spaces
		return n
	case r >= '\u2010' && r <= '\u2015', r == '\u2212': // hyphens, dashes, minus sign
		return n
	}
	return 0
}

// keptToken returns the length of a date, IPv4 address or UUID starting at
// s[i], or 0.
func keptToken(s string, i int) int {
	if n := uuidAt(s, i); n > 0 {
		return n
	}
	if n := dateAt(s, i); n > 0 {
		return n
	}
	return ipv4At(s, i)
}

// uuidAt: 8-4-4-4-12 hex digits, not followed by a letter or digit.
func uuidAt(s string, i int) int {
	const layout = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
	if len(s)-i < len(layout) {
		return 0
	}
	for k := 0; k < len(layout); k++ {
		c := s[i+k]
		if layout[k] == '-' {
			if c != '-' {
				return 0
			}
		} else if !isHex(c) {
			return 0
		}
	}
	if e := i + len(layout); e < len(s) && isWordByte(s[e]) {
		return 0
	}
	return len(layout)
}

// dateAt: YYYY-MM-DD, or DD.MM.YYYY, MM/DD/YYYY..., with one separator
// (- / or .) used twice and day and month between 1 and 31, not followed by
// a digit.
func dateAt(s string, i int) int {
	a, j := digitRun(s, i)
	if a == 0 || j >= len(s) || (s[j] != '-' && s[j] != '/' && s[j] != '.') {
		return 0
	}
	sep := s[j]
	b, k := digitRun(s, j+1)
	if b == 0 || k >= len(s) || s[k] != sep {
		return 0
	}
	c, e := digitRun(s, k+1)
	if e < len(s) && isDigit(s[e]) {
		return 0
	}
	switch {
	case a == 4 && b <= 2 && c > 0 && c <= 2 && dayOrMonth(s[j+1:k]) && dayOrMonth(s[k+1:e]):
	case a <= 2 && b <= 2 && c == 4 && dayOrMonth(s[i:j]) && dayOrMonth(s[j+1:k]):
	default:
		return 0
	}
	return e - i
}

func dayOrMonth(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n >= 1 && n <= 31
}

// ipv4At: four dot-separated numbers of 1 to 3 digits, each at most 255,
// not followed by a digit or by a dot and a digit.
func ipv4At(s string, i int) int {
	j := i
	for part := 0; part < 4; part++ {
		if part > 0 {
			if j >= len(s) || s[j] != '.' {
				return 0
			}
			j++
		}
		n, e := digitRun(s, j)
		if n == 0 || n > 3 {
			return 0
		}
		v := 0
		for _, c := range []byte(s[j:e]) {
			v = v*10 + int(c-'0')
		}
		if v > 255 {
			return 0
		}
		j = e
	}
	if j < len(s) && (isDigit(s[j]) || s[j] == '.' && j+1 < len(s) && isDigit(s[j+1])) {
		return 0
	}
	return j - i
}

// digitRun returns the number of digits starting at s[i] (at most 5 are
// looked at; callers want fewer) and where they end.
func digitRun(s string, i int) (n, end int) {
	end = i
	for end < len(s) && isDigit(s[end]) && end-i < 5 {
		end++
	}
	return end - i, end
}

// maskDigits replaces every ASCII digit of s but the last keep with *.
func maskDigits(s string, keep int) string {
	out := []byte(s)
	for i := len(out) - 1; i >= 0; i-- {
		if isDigit(out[i]) {
			if keep > 0 {
				keep--
				continue
			}
			out[i] = '*'
		}
	}
	return string(out)
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLower(c byte) bool  { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func isLetter(c byte) bool { return isLower(c) || isUpper(c) }
func isHex(c byte) bool    { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// isWordByte: a byte of a word or an id (ASCII letter, digit, underscore).
func isWordByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }
