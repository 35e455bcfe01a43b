package server

// The approval webhook: each pending approval is announced, as JSON, to
// CONVIRZA_MCP_APPROVAL_WEBHOOK (a chat bridge, an email relay), so a
// person learns there is something to decide.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/convirza/convirza-mcp/internal/version"
	"github.com/convirza/convirza-mcp/policy"
)

// webhookTimeout bounds one notice, connection to answer.
const webhookTimeout = 5 * time.Second

// approvalNotice is what the webhook receives. It names the action, never
// a confirmation token, a secret or a link that signs anyone in.
type approvalNotice struct {
	ID        string `json:"id"`
	Action    string `json:"action"`
	Tool      string `json:"tool"`
	Requester string `json:"requester"`
	ExpiresAt string `json:"expires_at"`
	// URL is the approval's page where there is one a person can open
	// (the HTTP listener's; a desktop link is single-use and not sent).
	URL string `json:"url,omitempty"`
	// Text is the whole notice as one line (what Slack's and Teams'
	// incoming webhooks show).
	Text string `json:"text"`
}

// webhook posts approval notices in the background: a slow or failing
// receiver never holds up the call that asked.
type webhook struct {
	url    string
	client *http.Client
	log    *slog.Logger
	pages  func() policy.Pages
	wg     sync.WaitGroup
}

func newWebhook(u string, log *slog.Logger, pages func() policy.Pages) *webhook {
	return &webhook{url: u, log: log, pages: pages, client: &http.Client{
		Timeout: webhookTimeout,
		// A receiver that redirects is misconfigured; following it could
		// send the notice somewhere nobody chose.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// notify is policy.Confirmer.Notify: it returns at once.
func (w *webhook) notify(_ context.Context, ap policy.Approval) {
	n := approvalNotice{ID: ap.ID, Action: ap.Action, Tool: ap.Tool, Requester: ap.Requester,
		ExpiresAt: ap.Expires.UTC().Format(time.RFC3339)}
	if l, ok := w.pages().(pageLinker); ok {
		if u, ok := l.publicURL(ap.ID); ok {
			n.URL = u
		}
	}
	n.Text = fmt.Sprintf("Approval %s needed (expires %s): %s", ap.ID, n.ExpiresAt, ap.Action)
	if n.URL != "" {
		n.Text += " Approve or decline: " + n.URL
	} else {
		n.Text += fmt.Sprintf(" Approve with `convirza-mcp approvals approve %s`.", ap.ID)
	}
	body, err := json.Marshal(n)
	if err != nil {
		w.log.Warn("approval webhook: notice not encoded", "approval_id", ap.ID, "err", err)
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.post(ap.ID, body)
	}()
}

func (w *webhook) post(id string, body []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		w.log.Warn("approval webhook: bad URL", "approval_id", id)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", Name+"/"+version.Get().Version)
	res, err := w.client.Do(req)
	if err != nil {
		// The URL may hold the receiver's secret (Slack's do): only the
		// cause is logged, never the URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		w.log.Warn("approval webhook failed", "approval_id", id, "err", err)
		return
	}
	_ = res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		w.log.Warn("approval webhook refused the notice", "approval_id", id, "status", res.StatusCode)
		return
	}
	w.log.Debug("approval webhook notified", "approval_id", id)
}

// wait lets the notices in flight finish (each is bounded by its timeout).
func (w *webhook) wait() { w.wg.Wait() }
