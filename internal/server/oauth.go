package server

import (
	"context"
	"net/http"
	"time"

	"github.com/convirza/convirza-mcp/internal/config"
	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/oauth"
	"github.com/convirza/convirza-mcp/internal/store"
	"github.com/convirza/convirza-mcp/internal/upstream"
	"github.com/convirza/convirza-mcp/tools"
)

// newOAuth builds the per-person sign-in (CONVIRZA_MCP_AUTH=oauth, HTTP
// only): its records live in the app's store, each person's Convirza tokens
// sealed with the store's sealer, and people sign in at the Convirza OAuth
// service at oauthURL (the sandbox's with --sandbox).
func (a *App) newOAuth(cfg *config.Config, hc *upstream.Client, oauthURL string, sealer *store.Sealer) error {
	if cfg.Auth != config.AuthOAuth || cfg.Transport != "http" {
		return nil
	}
	srv, err := oauth.New(oauth.Options{
		Store: a.Store, Sealer: sealer, Upstream: oauth.ConvirzaUpstream(hc, oauthURL),
		PublicURL: cfg.PublicBase(), TrustedProxies: cfg.TrustedProxies, Log: a.log, Now: a.now,
		RedirectHosts: cfg.OAuthRedirectHosts,
		// People's sign-ins and the service account's logins leave from
		// one address, under Convirza's one limit: one count for both.
		UpstreamLogins: func(ctx context.Context) (int64, error) {
			now := time.Now
			if a.now != nil {
				now = a.now
			}
			return convirza.LoginAdmitted(ctx, a.Store, oauthURL, now())
		},
	})
	if err != nil {
		return err
	}
	a.OAuth = srv
	a.log.Info("people sign in with their Convirza account (CONVIRZA_MCP_AUTH=oauth)", "public_url", cfg.PublicBase())
	return nil
}

// authenticate is the guard's check under CONVIRZA_MCP_AUTH=oauth: the MCP
// endpoints need a person's access token for them (401 with the
// resource-metadata challenge otherwise); /metrics needs the shared
// CONVIRZA_MCP_AUTH_TOKEN when one is set (a scraper's), else the token of
// a Convirza Admin: the metrics count calls by person, which is not every
// colleague's to read. It returns the request carrying the person, or
// false once it answered.
func (h *HTTP) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if r.URL.Path == pathMetrics && h.authRequired {
		if !h.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="convirza-mcp"`)
			httpError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return r, false
		}
		return r, true
	}
	sub, err := h.oauth.Authenticate(r)
	if err != nil {
		h.oauth.Challenge(w, r, err)
		return r, false
	}
	if r.URL.Path == pathMetrics && sub.RoleID != tools.RoleIDAdmin {
		httpError(w, http.StatusForbidden, "the metrics are for Convirza Admin users, or for CONVIRZA_MCP_AUTH_TOKEN (a scraper's)")
		return r, false
	}
	return r.WithContext(oauth.WithSubject(r.Context(), sub)), true
}
