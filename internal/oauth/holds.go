package oauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/convirza/convirza-mcp/internal/store"
)

// Holds reports whether the server still holds Convirza tokens for the
// person with Convirza user id userID: false once they signed out of their
// last sign-in, Convirza refused their renewal, or an operator revoked
// them (RevokeSubject). One store read, no call to Convirza: for pages
// that keep a person signed in on their own (the approval pages), so that
// offboarding ends those too.
func (s *Server) Holds(ctx context.Context, userID int64) (bool, error) {
	_, err := s.st.Get(ctx, upstreamKey(userID))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading the person's Convirza sign-in: %w", err)
	}
	return true, nil
}
