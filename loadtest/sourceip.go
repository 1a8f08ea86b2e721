package loadtest

import (
	"fmt"
	"net/netip"
	"strings"
)

// maxSourceIPs bounds how many local addresses one run may bind: 256 of them
// already give some seven million ephemeral ports.
const maxSourceIPs = 256

// ParseSourceIPs expands a --source-ips value: addresses and inclusive
// ranges separated by commas, as in "127.0.0.1-127.0.0.50,10.0.0.7". Ranges
// stay within one address family and one run of at most 256 addresses.
func ParseSourceIPs(spec string) ([]netip.Addr, error) {
	var parts []string
	for p := range strings.SplitSeq(spec, ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return parseSourceIPs(parts)
}

// parseSourceIPs expands each item of specs (an address or a range).
func parseSourceIPs(specs []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, spec := range specs {
		lo, hi, isRange := strings.Cut(spec, "-")
		first, err := netip.ParseAddr(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("source ips %q: %w", spec, err)
		}
		last := first
		if isRange {
			if last, err = netip.ParseAddr(strings.TrimSpace(hi)); err != nil {
				return nil, fmt.Errorf("source ips %q: %w", spec, err)
			}
		}
		if first.Is4() != last.Is4() {
			return nil, fmt.Errorf("source ips %q: both ends must be IPv4 or both IPv6", spec)
		}
		if last.Less(first) {
			return nil, fmt.Errorf("source ips %q: range ends before it starts", spec)
		}
		for a := first; ; a = a.Next() {
			if len(out) == maxSourceIPs {
				return nil, fmt.Errorf("source ips %q: more than %d addresses", spec, maxSourceIPs)
			}
			out = append(out, a)
			if a == last {
				break
			}
		}
	}
	return out, nil
}
