package server

// Where the approval pages are, for the confirmation protocol
// (policy.Pages): the HTTP listener's own pages, or, for a stdio server on
// a desktop, a loopback listener of its own opened in the person's browser.

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/policy"
)

// pageLinker is what the approval webhook needs of the pages: a link a
// person can open, when there is one that holds no secret.
type pageLinker interface {
	publicURL(id string) (string, bool)
}

// httpPages are the approval pages of the HTTP listener, at
// CONVIRZA_MCP_PUBLIC_URL, else at the address the server listens on.
type httpPages struct {
	public string
	addr   atomic.Pointer[string]
}

func newHTTPPages(public, addr string) *httpPages {
	p := &httpPages{public: strings.TrimRight(public, "/")}
	p.addr.Store(&addr)
	return p
}

// listening records the address the listener got (a port 0 resolved).
func (p *httpPages) listening(addr string) { p.addr.Store(&addr) }

func (p *httpPages) base() string {
	if p.public != "" {
		return p.public
	}
	return "http://" + *p.addr.Load()
}

// URL is the approval's page; the person signs in there (approver token).
func (p *httpPages) URL(_ context.Context, id string) (string, bool) {
	return p.base() + pathApprovals + "/" + url.PathEscape(id), true
}

// Show has nothing to open: the server is remote from the person.
func (p *httpPages) Show(context.Context, string) string { return "" }

func (p *httpPages) publicURL(id string) (string, bool) { return p.URL(context.Background(), id) }

// desktopPages serve the approval pages of a stdio server on a loopback
// listener of its own, started at the first need, and open them in the
// person's browser. Each link carries a single-use secret, traded for a
// session cookie on first load; a link is never put in a tool result or a
// log line.
type desktopPages struct {
	opts    desktopOptions
	mu      sync.Mutex
	base    string // http://127.0.0.1:PORT, once listening
	srv     *http.Server
	closed  bool
	links   *oneTimeLinks
	started sync.WaitGroup // the listener's goroutine
}

// desktopOptions configure desktopPages.
type desktopOptions struct {
	approvals *policy.Approvals
	store     store.Store
	log       *slog.Logger
	// approverTokens also sign in on the desktop page, when set.
	approverTokens []string
	// browser is CONVIRZA_MCP_APPROVAL_BROWSER: auto or never.
	browser string
	// linkTTL is how long a link stays usable (the confirmation TTL and a
	// little more).
	linkTTL time.Duration
	// getenv and lookPath find the opener ($BROWSER, xdg-open, ...).
	getenv   func(string) string
	lookPath func(string) (string, error)
	goos     string
	// openWait is how long an opener that is still running after being
	// started is waited for, to tell a failed one (it exits non-zero at
	// once) from one that works (default 1 s).
	openWait time.Duration
}

func newDesktopPages(o desktopOptions) *desktopPages {
	if o.getenv == nil {
		o.getenv = os.Getenv
	}
	if o.lookPath == nil {
		o.lookPath = exec.LookPath
	}
	if o.goos == "" {
		o.goos = runtime.GOOS
	}
	if o.openWait <= 0 {
		o.openWait = time.Second
	}
	if o.linkTTL <= 0 {
		o.linkTTL = 10 * time.Minute
	}
	return &desktopPages{opts: o, links: newOneTimeLinks()}
}

// URLsCarrySecrets: a desktop link signs its holder in, so it goes to the
// client's UI (URL elicitation: the client app shows it to its person, as
// it shows a form question) and never into a result the model reads.
func (d *desktopPages) URLsCarrySecrets() bool { return true }

// URL is a fresh single-use link to the approval's page.
func (d *desktopPages) URL(_ context.Context, id string) (string, bool) {
	base, err := d.listen()
	if err != nil {
		d.opts.log.Warn("the desktop approval page cannot be served", "err", err)
		return "", false
	}
	return base + pathApprovals + "/" + url.PathEscape(id) + "?s=" + d.links.issue(d.opts.linkTTL), true
}

func (d *desktopPages) publicURL(string) (string, bool) { return "", false }

// Show opens the approval's page in the person's browser, when one can be
// opened, and says so; "" when nothing was opened.
func (d *desktopPages) Show(ctx context.Context, id string) string {
	if d.opts.browser == "never" {
		return ""
	}
	openers := d.openers()
	if len(openers) == 0 {
		return ""
	}
	u, ok := d.URL(ctx, id)
	if !ok {
		return ""
	}
	for _, o := range openers {
		if err := d.open(ctx, o, u); err != nil {
			// Neither the link nor the command line (which holds it) is
			// logged: only which opener failed and why.
			d.opts.log.Warn("could not open the approval page in a browser", "opener", filepath.Base(o[0]), "err", err)
			continue
		}
		return "An approval page for this action was opened in the browser on this computer (approve or decline it there)"
	}
	return ""
}

// opener is a command line; an argument "%s" is replaced by the link, else
// the link is added last.
type opener []string

// openers are the commands that may open a page, best first: each entry
// of $BROWSER (a list separated like PATH, each split like a command
// line), else the desktop's own opener when there is a desktop.
func (d *desktopPages) openers() []opener {
	var out []opener
	if b := strings.TrimSpace(d.opts.getenv("BROWSER")); b != "" {
		for _, entry := range filepath.SplitList(b) {
			args, err := splitCommandLine(entry)
			if err != nil {
				d.opts.log.Warn("BROWSER holds a command that cannot be read", "err", err)
				continue
			}
			if len(args) > 0 {
				out = append(out, args)
			}
		}
		return out
	}
	switch d.opts.goos {
	case "darwin":
		if _, err := d.opts.lookPath("open"); err == nil {
			out = append(out, opener{"open"})
		}
	case "windows":
		out = append(out, opener{"rundll32", "url.dll,FileProtocolHandler"})
	default:
		// xdg-open without a display may start a text browser, which has
		// no terminal here: only with a graphical session.
		if d.opts.getenv("DISPLAY") == "" && d.opts.getenv("WAYLAND_DISPLAY") == "" {
			return nil
		}
		if _, err := d.opts.lookPath("xdg-open"); err == nil {
			out = append(out, opener{"xdg-open"})
		}
	}
	return out
}

// open starts o on u with no standard streams (stdout is the protocol
// channel), and waits briefly for it to fail.
func (d *desktopPages) open(ctx context.Context, o opener, u string) error {
	args := make([]string, 0, len(o)+1)
	placed := false
	for _, a := range o {
		if strings.Contains(a, "%s") {
			a, placed = strings.ReplaceAll(a, "%s", u), true
		}
		args = append(args, a)
	}
	if !placed {
		args = append(args, u)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Start(); err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			return ee.Err // "executable file not found", without the arguments
		}
		return errors.New("could not start it")
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(d.opts.openWait)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			var xe *exec.ExitError
			if errors.As(err, &xe) {
				return fmt.Errorf("it exited with status %d", xe.ExitCode())
			}
			return errors.New("it failed")
		}
		return nil
	case <-t.C: // still running (a browser itself): taken as opened
		return nil
	case <-ctx.Done():
		return nil
	}
}

// listen starts the loopback listener once, and returns its base URL.
func (d *desktopPages) listen() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return "", errors.New("the server is shutting down")
	}
	if d.base != "" {
		return d.base, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen on loopback: %w", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	pages := newApprovalPages(pagesOptions{approvals: d.opts.approvals, store: d.opts.store, log: d.opts.log,
		approverTokens: d.opts.approverTokens, cookie: "convirza-approver-" + port, links: d.links})
	d.srv = &http.Server{
		Handler:           loopbackOnly(pages),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(d.opts.log.Handler(), slog.LevelWarn),
	}
	d.base = "http://" + ln.Addr().String()
	srv := d.srv
	d.started.Add(1)
	go func() {
		defer d.started.Done()
		_ = srv.Serve(ln)
	}()
	d.opts.log.Info("approval page served on loopback for this desktop", "addr", ln.Addr().String())
	return d.base, nil
}

// Close stops the listener (an open page stops answering).
func (d *desktopPages) Close() {
	d.mu.Lock()
	d.closed = true
	srv := d.srv
	d.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
		d.started.Wait()
	}
}

// loopbackOnly refuses a request naming another host (a page whose domain
// was rebound to 127.0.0.1).
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackName(r.Host) {
			http.Error(w, "Host not allowed", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// oneTimeLinks are the single-use secrets of desktop links, kept in this
// process (the listener is this process's) as digests.
type oneTimeLinks struct {
	mu   sync.Mutex
	live map[[32]byte]time.Time
	now  func() time.Time
}

func newOneTimeLinks() *oneTimeLinks {
	return &oneTimeLinks{live: map[[32]byte]time.Time{}, now: time.Now}
}

// issue returns a new secret valid for ttl.
func (o *oneTimeLinks) issue(ttl time.Duration) string {
	s := randomToken()
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	for k, exp := range o.live {
		if !now.Before(exp) {
			delete(o.live, k)
		}
	}
	o.live[sha256.Sum256([]byte(s))] = now.Add(ttl)
	return s
}

// take spends s: true once, for a live secret this process issued.
func (o *oneTimeLinks) take(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	k := sha256.Sum256([]byte(s))
	o.mu.Lock()
	defer o.mu.Unlock()
	exp, ok := o.live[k]
	delete(o.live, k)
	return ok && o.now().Before(exp)
}

// splitCommandLine splits s as a POSIX shell splits words: blanks separate,
// single quotes keep everything, double quotes keep all but \" \\ \$ \`,
// a backslash outside quotes escapes the next character.
func splitCommandLine(s string) ([]string, error) {
	var (
		out   []string
		cur   strings.Builder
		inArg bool
		quote rune
		esc   bool
	)
	for _, c := range s {
		switch {
		case esc:
			if quote == '"' && c != '"' && c != '\\' && c != '$' && c != '`' {
				cur.WriteRune('\\')
			}
			cur.WriteRune(c)
			esc = false
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case quote == '"':
			switch c {
			case '"':
				quote = 0
			case '\\':
				esc = true
			default:
				cur.WriteRune(c)
			}
		case c == '\\':
			esc, inArg = true, true
		case c == '\'' || c == '"':
			quote, inArg = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if inArg {
				out = append(out, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(c)
			inArg = true
		}
	}
	if quote != 0 || esc {
		return nil, errors.New("unterminated quote or escape")
	}
	if inArg {
		out = append(out, cur.String())
	}
	return out, nil
}
