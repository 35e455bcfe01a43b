package server

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// parseProxies reads CONVIRZA_MCP_TRUSTED_PROXIES: IP addresses and CIDR
// prefixes. A wrong entry stops the server: a typo must not quietly trust
// no one, or everyone.
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, raw := range list {
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("CONVIRZA_MCP_TRUSTED_PROXIES: %q is not an IP address or CIDR prefix: %w", s, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("CONVIRZA_MCP_TRUSTED_PROXIES: %q is not an IP address or CIDR prefix: %w", s, err)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// trusted reports whether a is one of the trusted proxies.
func (a *App) trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range a.proxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// clientAddr is the address of the client a request comes from: the
// direct peer, unless the peer is a trusted proxy; then X-Forwarded-For is
// read from the right (the hop the proxy itself added) to the left,
// skipping trusted proxies, and the first address that is not one is the
// client. Entries left of it could be anything the client wrote, so they
// are never believed. An entry that is not an address ends the walk at the
// last address known (the peer, or a trusted proxy).
func (h *HTTP) clientAddr(r *http.Request) string {
	peer := remoteHost(r)
	if len(h.app.proxies) == 0 {
		return peer
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !h.app.trusted(addr) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := addr.Unmap()
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = hop
		if !h.app.trusted(hop) {
			break
		}
	}
	return client.String()
}

// parseHop reads one X-Forwarded-For entry: an address, maybe with a port
// ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}
