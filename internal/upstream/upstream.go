// Package upstream is the HTTP layer shared by the Convirza and Talkdesk
// clients: per-attempt timeouts, bounded retries with backoff and jitter for
// idempotent methods only, Retry-After, and errors that say whether a failed
// write may have reached the server.
package upstream

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxBodyBytes bounds how much of an upstream answer is read.
const maxBodyBytes = 32 << 20

// Policy says how long to wait and how often to retry.
type Policy struct {
	Timeout       time.Duration // per attempt; 0 means 30s
	MaxAttempts   int           // attempts for a retryable request; 0 means 3
	BaseDelay     time.Duration // first backoff; 0 means 250ms
	MaxDelay      time.Duration // backoff cap; 0 means 4s
	MaxRetryAfter time.Duration // longest Retry-After honoured; 0 means 10s
}

func (p Policy) withDefaults() Policy {
	if p.Timeout <= 0 {
		p.Timeout = 30 * time.Second
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 3
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 250 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 4 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 10 * time.Second
	}
	return p
}

// Client sends requests under a Policy.
type Client struct {
	http   *http.Client
	policy Policy
	log    *slog.Logger
	// Sleep waits between attempts; tests replace it to observe delays.
	Sleep func(ctx context.Context, d time.Duration) error
	// Observe, when set, is told about every attempt: its method, the
	// upstream host, the status (0 when no answer came) and how long it
	// took. Metrics hang here, so no client needs to know about them.
	Observe func(method, host string, status int, d time.Duration)
	// Trace, when set, starts a span around every attempt (a child of the
	// tool call's span in ctx) and is told its status and error.
	Trace func(ctx context.Context, method, host string) (context.Context, func(status int, err error))
}

// New returns a Client. hc may be nil (a private client with sane transport
// limits is made); log may be nil.
func New(hc *http.Client, p Policy, log *slog.Logger) *Client {
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   32,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 0, // bounded by the per-attempt context
		}}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{http: hc, policy: p.withDefaults(), log: log, Sleep: sleepCtx}
}

// Policy returns the effective policy.
func (c *Client) Policy() Policy { return c.policy }

// Request is one upstream call. Body is sent as is (and re-sent on retry).
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Stream, when set, is the body instead of Body: a large one (an
	// upload) that is streamed rather than held in memory whole.
	Stream *Stream
	// NoRetry forbids retries even for idempotent methods.
	NoRetry bool
}

// Stream is a request body read from a source as it is sent. Every
// attempt (a request sent again after a 401 and a token renewal, say)
// opens it anew, so Open must give the same bytes each time.
type Stream struct {
	Open func() (io.ReadCloser, error)
	// Length is the exact number of bytes Open gives: the request's
	// Content-Length.
	Length int64
}

func (r Request) hasBody() bool { return r.Body != nil || r.Stream != nil }

// body returns what one attempt sends, and its length.
func (r Request) body() (io.ReadCloser, int64, error) {
	switch {
	case r.Stream != nil:
		if r.Stream.Length == 0 {
			return http.NoBody, 0, nil
		}
		rc, err := r.Stream.Open()
		if err != nil {
			return nil, 0, err
		}
		return rc, r.Stream.Length, nil
	case len(r.Body) > 0:
		return io.NopCloser(bytes.NewReader(r.Body)), int64(len(r.Body)), nil
	case r.Body != nil:
		return http.NoBody, 0, nil
	}
	return nil, 0, nil
}

// repeatable reports whether r may be sent again after an attempt that may
// have taken effect: an idempotent method, and not a DELETE with a body (a
// bulk delete, whose answer counts what it deleted: a repeat would answer
// "nothing deleted" and the real counts would be lost).
func (r Request) repeatable() bool {
	return Idempotent(r.Method) && !bodyDelete(r.Method, r.hasBody())
}

func bodyDelete(method string, hasBody bool) bool {
	return method == http.MethodDelete && hasBody
}

// Response is a fully read upstream answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Retried reports that an earlier attempt of the same request may
	// have taken effect upstream (it was sent and no answer came back, or
	// the answer was 502, 503 or 504) before this answer came: a DELETE
	// answered 404 now may have been done by that earlier attempt.
	Retried bool
	// Unsafe reports a request that is never repeated (a POST, a PATCH, a
	// DELETE with a body): a gateway's 502 or 504 to it leaves its outcome
	// unknown (APIError.OutcomeUnknown).
	Unsafe bool
}

// GoneAfterRetry reports a DELETE answered "not found" after an earlier
// attempt of it may have taken effect: whatever it deleted is gone, most
// likely by that earlier attempt, whose answer was lost.
func (r *Response) GoneAfterRetry(method string) bool {
	return method == http.MethodDelete && r.Status == http.StatusNotFound && r.Retried
}

// TransportError is a request that got no HTTP answer.
type TransportError struct {
	Method string
	URL    string // without query, so nothing sensitive is echoed
	// Sent reports that the request was written before it failed, so a write
	// may have taken effect upstream.
	Sent    bool
	Timeout bool
	// HasBody reports that the request carried a body; a DELETE with one
	// is not repeated, so its outcome is as unknown as a POST's.
	HasBody bool
	Err     error
}

func (e *TransportError) Error() string {
	what := "failed"
	if e.Timeout {
		what = "timed out"
	}
	return fmt.Sprintf("%s %s %s: %v", e.Method, e.URL, what, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// OutcomeUnknown reports whether a write failed after it may have reached
// the upstream: a POST or PATCH, or a DELETE with a body.
func (e *TransportError) OutcomeUnknown() bool {
	return e.Sent && (!Idempotent(e.Method) || bodyDelete(e.Method, e.HasBody))
}

// Idempotent reports whether a method may be retried: GET, HEAD, PUT and
// DELETE. POST and PATCH never are.
func Idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// RetryableStatus reports the statuses worth another attempt.
func RetryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Do sends r, retrying idempotent requests (not a DELETE with a body) on
// 429/502/503/504 and on connection errors. The last answer is returned
// whatever its status, with Retried set when an earlier attempt may have
// taken effect; an error means no answer at all.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	retryable := r.repeatable() && !r.NoRetry
	mayHaveActed := false // an earlier attempt may have taken effect
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, r)
		if resp != nil {
			resp.Retried, resp.Unsafe = mayHaveActed, !r.repeatable()
		}
		last := !retryable || attempt >= c.policy.MaxAttempts || ctx.Err() != nil
		var wait time.Duration
		switch {
		case err != nil:
			var te *TransportError
			if last || !errors.As(err, &te) || te.Timeout || !connectionError(te.Err) {
				return nil, err
			}
			mayHaveActed = mayHaveActed || te.Sent
			wait = c.backoff(attempt)
		case RetryableStatus(resp.Status) && !last:
			mayHaveActed = mayHaveActed || resp.Status != http.StatusTooManyRequests
			wait = c.backoff(attempt)
			if ra, ok := RetryAfter(resp.Header, time.Now()); ok {
				if ra > c.policy.MaxRetryAfter {
					return resp, nil // too long to wait: let the caller report it
				}
				wait = ra
			}
		default:
			return resp, nil
		}
		c.log.DebugContext(ctx, "upstream retry", "method", r.Method, "url", redactURL(r.URL), "attempt", attempt, "wait", wait)
		if err := c.Sleep(ctx, wait); err != nil {
			return nil, &TransportError{Method: r.Method, URL: redactURL(r.URL), Err: err}
		}
	}
}

func (c *Client) once(ctx context.Context, r Request) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.policy.Timeout)
	defer cancel()
	sent := false
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { sent = true },
	})
	body, length, err := r.body()
	if err != nil {
		return nil, fmt.Errorf("build request %s %s: opening the body: %w", r.Method, redactURL(r.URL), err)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, nil)
	if err != nil {
		if body != nil {
			_ = body.Close()
		}
		return nil, fmt.Errorf("build request %s %s: %w", r.Method, redactURL(r.URL), err)
	}
	if body != nil {
		req.Body, req.ContentLength = body, length
		// What the transport may re-send by itself (a reused connection
		// found closed before anything was written) is opened anew.
		req.GetBody = func() (io.ReadCloser, error) {
			rc, _, err := r.body()
			return rc, err
		}
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	var endSpan func(int, error)
	if c.Trace != nil {
		var tctx context.Context
		tctx, endSpan = c.Trace(req.Context(), r.Method, req.URL.Host)
		req = req.WithContext(tctx)
	}
	start := time.Now()
	res, err := c.http.Do(req)
	if endSpan != nil {
		status := 0
		if err == nil {
			status = res.StatusCode
		}
		endSpan(status, err)
	}
	if c.Observe != nil {
		status := 0
		if err == nil {
			status = res.StatusCode
		}
		c.Observe(r.Method, req.URL.Host, status, time.Since(start))
	}
	hasBody := r.hasBody()
	if err != nil {
		return nil, &TransportError{Method: r.Method, URL: redactURL(r.URL), Sent: sent, HasBody: hasBody, Timeout: isTimeout(ctx, err), Err: cleanErr(err)}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes+1))
	if err != nil {
		return nil, &TransportError{Method: r.Method, URL: redactURL(r.URL), Sent: true, HasBody: hasBody, Timeout: isTimeout(ctx, err), Err: fmt.Errorf("reading the answer (status %d): %w", res.StatusCode, cleanErr(err))}
	}
	if len(data) > maxBodyBytes {
		return nil, &TransportError{Method: r.Method, URL: redactURL(r.URL), Sent: true, HasBody: hasBody, Err: fmt.Errorf("answer larger than %d bytes", maxBodyBytes)}
	}
	c.log.DebugContext(ctx, "upstream", "method", r.Method, "url", redactURL(r.URL), "status", res.StatusCode, "ms", time.Since(start).Milliseconds())
	return &Response{Status: res.StatusCode, Header: res.Header, Body: data}, nil
}

// backoff is exponential with full jitter: a random wait in [d/2, d].
func (c *Client) backoff(attempt int) time.Duration {
	d := c.policy.BaseDelay << (attempt - 1)
	if d <= 0 || d > c.policy.MaxDelay {
		d = c.policy.MaxDelay
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// RetryAfter parses a Retry-After header (seconds or an HTTP date).
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func isTimeout(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// connectionError reports failures to connect or a connection lost before
// any answer: refused, reset, unexpected EOF, DNS.
func connectionError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// cleanErr drops the *url.Error wrapper, whose text repeats the full URL.
func cleanErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactURL drops the query string, which may carry personal data.
func redactURL(raw string) string {
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		return raw[:i]
	}
	return raw
}
