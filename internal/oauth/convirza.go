package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/convirza/convirza-mcp/internal/convirza"
	"github.com/convirza/convirza-mcp/internal/upstream"
)

// ConvirzaUpstream is the Convirza OAuth service at oauthURL, reached
// through hc, as Upstream.
func ConvirzaUpstream(hc *upstream.Client, oauthURL string) Upstream {
	return convirzaUpstream{hc: hc, url: oauthURL}
}

type convirzaUpstream struct {
	hc  *upstream.Client
	url string
}

func (c convirzaUpstream) Login(ctx context.Context, email, password string) (Identity, Tokens, error) {
	s, err := convirza.Login(ctx, c.hc, c.url, email, password)
	if err != nil {
		var ae *upstream.APIError
		if errors.As(err, &ae) {
			switch ae.Status {
			case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
				return Identity{}, Tokens{}, ErrBadCredentials
			case http.StatusTooManyRequests:
				return Identity{}, Tokens{}, ErrUpstreamLimited
			}
		}
		return Identity{}, Tokens{}, err
	}
	return identity(s), tokens(s), nil
}

func (c convirzaUpstream) Refresh(ctx context.Context, refresh string) (Identity, Tokens, error) {
	s, err := convirza.Refresh(ctx, c.hc, c.url, refresh)
	if err != nil {
		var ae *upstream.APIError
		if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusTooManyRequests && ae.Status != http.StatusRequestTimeout {
			return Identity{}, Tokens{}, fmt.Errorf("%w: %w", ErrRefreshRejected, err)
		}
		return Identity{}, Tokens{}, err
	}
	return identity(s), tokens(s), nil
}

func (c convirzaUpstream) Revoke(ctx context.Context, token, kind string) error {
	return convirza.Revoke(ctx, c.hc, c.url, token, kind)
}

func identity(s *convirza.Session) Identity {
	if s.User == nil {
		return Identity{}
	}
	return Identity{UserID: s.User.UserID, Email: s.User.Email, RoleID: s.User.RoleID, Role: s.User.Role, OrgUnitID: s.User.OrgUnitID}
}

func tokens(s *convirza.Session) Tokens {
	return Tokens{Access: s.AccessToken, Refresh: s.RefreshToken, AccessExpiry: s.AccessExpiry, RefreshExpiry: s.RefreshExpiry}
}
