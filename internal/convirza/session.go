package convirza

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/convirza/convirza-mcp/internal/upstream"
)

// Session is one person's Convirza sign-in: the tokens a login or refresh
// answered and whom they belong to. The per-person sign-in of the HTTP
// server (internal/oauth) keeps one per person; the shared client keeps its
// own in its token source.
type Session struct {
	AccessToken  string
	RefreshToken string
	// AccessExpiry and RefreshExpiry are zero when the answer did not say.
	AccessExpiry  time.Time
	RefreshExpiry time.Time
	// User is the answer's user block (nil when it had none).
	User *ProfileUser
}

// Login signs a person in at the Convirza OAuth service (POST /oauth/token,
// email and password): one request, never retried. A refusal (wrong email or
// password, the per-IP limit) is an *upstream.APIError with its status.
func Login(ctx context.Context, hc *upstream.Client, oauthURL, email, password string) (*Session, error) {
	return sessionCall(ctx, hc, oauthURL, "/oauth/token", map[string]string{"email": email, "password": password})
}

// Refresh trades a refresh token for new tokens (POST /oauth/refresh-token).
// The upstream rotates refresh tokens: the one given is dead afterwards,
// whatever the outcome. A refused token is an *upstream.APIError.
func Refresh(ctx context.Context, hc *upstream.Client, oauthURL, refreshToken string) (*Session, error) {
	return sessionCall(ctx, hc, oauthURL, "/oauth/refresh-token", map[string]string{"refresh_token": refreshToken})
}

// Revoke revokes one token at the upstream (POST /oauth/revoke-token); kind
// is "access" or "refresh". Revoking a token already dead is no error there.
func Revoke(ctx context.Context, hc *upstream.Client, oauthURL, token, kind string) error {
	return sessionSource(hc, oauthURL).revoke(ctx, token, kind)
}

// sessionSource is a bare token source for the session calls: it only
// speaks to the OAuth service.
func sessionSource(hc *upstream.Client, oauthURL string) *tokenSource {
	if oauthURL == "" {
		oauthURL = DefaultOAuthURL
	}
	return &tokenSource{http: hc, oauth: strings.TrimRight(oauthURL, "/"), now: time.Now}
}

func sessionCall(ctx context.Context, hc *upstream.Client, oauthURL, path string, body map[string]string) (*Session, error) {
	tr, err := sessionSource(hc, oauthURL).post(ctx, path, body)
	if err != nil {
		return nil, err
	}
	s := &Session{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, AccessExpiry: tr.accessExp, RefreshExpiry: tr.refreshExp}
	if tr.User != nil && tr.User.UserID != 0 {
		u := *tr.User
		if u.Role == "" {
			u.Role = RoleName(u.RoleID)
		}
		s.User = &u
	}
	if s.User == nil && path == "/oauth/token" {
		return nil, fmt.Errorf("Convirza login answered without the user block: %w",
			malformed(http.MethodPost, path, 200, "", errNoUser))
	}
	return s, nil
}

var errNoUser = errors.New("no user in the login answer")
