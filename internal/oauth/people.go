package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

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

// AddressBlock is what a per-address limit counts: the address itself for
// IPv4, its /64 for IPv6 (one client's network holds a whole /64, so each
// address of it would otherwise be a fresh count).
func AddressBlock(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
