package upstream

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Credentials give a bearer token for a request and take back one the
// upstream refused. Both API clients' token sources implement it.
type Credentials interface {
	// Token returns a usable access token, renewing it if needed.
	Token(ctx context.Context) (string, error)
	// Invalidate forgets tok if it is still the current token; it reports
	// whether the token can be replaced (a second attempt is worth making).
	Invalidate(tok string) bool
}

// DoAuthorized sends r with `Authorization: Bearer <token>`. A 401 answer
// makes the credentials renew once and the request go out once more: a 401
// means the upstream did not act, so even a POST may be sent again.
func (c *Client) DoAuthorized(ctx context.Context, r Request, creds Credentials) (*Response, error) {
	for attempt := 0; ; attempt++ {
		tok, err := creds.Token(ctx)
		if err != nil {
			return nil, err
		}
		h := make(http.Header, len(r.Header)+1)
		for k, v := range r.Header {
			h[k] = v
		}
		h.Set("Authorization", "Bearer "+tok)
		req := r
		req.Header = h
		resp, err := c.Do(ctx, req)
		if err != nil {
			return nil, err
		}
		if resp.Status == http.StatusUnauthorized && attempt == 0 && creds.Invalidate(tok) {
			continue
		}
		return resp, nil
	}
}

// Renewal makes concurrent callers share one renewal of a credential: the
// first caller that finds no usable token starts it, the others wait for its
// result. The renewal runs detached from any one caller's cancellation,
// bounded by its own timeout; a caller that gives up stops waiting, not the
// renewal.
type Renewal struct {
	// Timeout bounds one renewal; 0 means 30s.
	Timeout time.Duration

	mu      sync.Mutex
	pending *renewing
}

type renewing struct {
	done chan struct{}
	tok  string
	err  error
}

// Token returns current()'s token when it is usable, else the result of a
// renewal by obtain, shared with every caller that asks meanwhile. current
// is checked under the renewal's lock, so a renewal that just finished is
// seen and not repeated. what names the credential in errors.
//
// A renewal's result is looked at again before it is handed out: one that
// started before this caller's token was refused (obtain makes its token
// current before it returns, and a caller may use it, see it refused and
// ask again in between) may bring back that very token, which current no
// longer calls usable; the caller then waits for one more renewal.
func (r *Renewal) Token(ctx context.Context, what string, current func() (string, bool), obtain func(ctx context.Context) (string, error)) (string, error) {
	for again := false; ; again = true {
		r.mu.Lock()
		if tok, ok := current(); ok {
			r.mu.Unlock()
			return tok, nil
		}
		p := r.pending
		if p == nil {
			p = r.start(ctx, obtain)
		}
		r.mu.Unlock()
		select {
		case <-p.done:
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for a %s token: %w", what, ctx.Err())
		}
		if p.err != nil || again {
			return p.tok, p.err
		}
		r.mu.Lock()
		tok, ok := current()
		r.mu.Unlock()
		if ok {
			return tok, nil
		}
	}
}

// start starts a renewal by obtain; r.mu is held.
func (r *Renewal) start(ctx context.Context, obtain func(ctx context.Context) (string, error)) *renewing {
	p := &renewing{done: make(chan struct{})}
	r.pending = p
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	go func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		p.tok, p.err = obtain(ctx)
		r.mu.Lock()
		r.pending = nil
		r.mu.Unlock()
		close(p.done)
	}(context.WithoutCancel(ctx))
	return p
}
