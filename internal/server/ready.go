package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Readiness probe bounds.
const (
	readyTimeout = 2 * time.Second // per upstream host
	readyCacheOK = 5 * time.Second // how long an answer is reused
)

// readiness answers /readyz: can the upstream hosts be reached at all? Any
// HTTP answer counts (a 404 or 401 still proves the host is up and the
// network path works); a connection error or timeout does not. Results are
// cached for a few seconds so a busy probe never becomes load upstream.
type readiness struct {
	urls   []string // base URLs, one per host
	client *http.Client
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	checked time.Time
	down    []string // hosts that did not answer at the last check
	running chan struct{}
}

func newReadiness(log *slog.Logger, rawURLs ...string) *readiness {
	r := &readiness{
		client: &http.Client{
			Timeout: readyTimeout,
			// An answer is an answer: never follow a redirect elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment,
				TLSHandshakeTimeout: readyTimeout,
				MaxIdleConnsPerHost: 1,
				IdleConnTimeout:     30 * time.Second,
			},
		},
		log: log,
		now: time.Now,
	}
	for _, raw := range rawURLs {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			continue
		}
		base := u.Scheme + "://" + u.Host + "/"
		if !slices.Contains(r.urls, base) {
			r.urls = append(r.urls, base)
		}
	}
	return r
}

// check returns the hosts that are down (none: ready), probing at most once
// per readyCacheOK; concurrent callers share one probe.
func (r *readiness) check(ctx context.Context) []string {
	r.mu.Lock()
	if !r.checked.IsZero() && r.now().Sub(r.checked) < readyCacheOK {
		down := r.down
		r.mu.Unlock()
		return down
	}
	if r.running != nil {
		ch := r.running
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return []string{"(probe interrupted)"}
		}
		r.mu.Lock()
		down := r.down
		r.mu.Unlock()
		return down
	}
	ch := make(chan struct{})
	r.running = ch
	r.mu.Unlock()

	down := r.probe()

	r.mu.Lock()
	r.down, r.checked, r.running = down, r.now(), nil
	r.mu.Unlock()
	close(ch)
	return down
}

func (r *readiness) probe() []string {
	var (
		mu   sync.Mutex
		down []string
		wg   sync.WaitGroup
	)
	for _, u := range r.urls {
		wg.Go(func() {
			// Detached from the caller: a probe that a client gave up on still
			// fills the cache for the next one.
			ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
			if err == nil {
				var res *http.Response
				res, err = r.client.Do(req)
				if err == nil {
					_ = res.Body.Close()
					return
				}
			}
			r.log.Warn("readiness: upstream did not answer", "url", u, "err", err)
			mu.Lock()
			down = append(down, hostOf(u))
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(down)
	return down
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return raw
}
