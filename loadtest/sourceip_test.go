package loadtest

import (
	"strings"
	"testing"
)

func TestParseSourceIPs(t *testing.T) {
	for _, tt := range []struct {
		in          string
		n           int
		first, last string
		err         string
	}{
		// The example: fifty loopback addresses.
		{in: "127.0.0.1-127.0.0.50", n: 50, first: "127.0.0.1", last: "127.0.0.50"},
		// A list mixing a range and single addresses.
		{in: "10.0.0.1, 10.0.0.3-10.0.0.4,10.0.0.9", n: 4, first: "10.0.0.1", last: "10.0.0.9"},
		// A range crossing an octet.
		{in: "127.0.0.254-127.0.1.1", n: 4, first: "127.0.0.254", last: "127.0.1.1"},
		// IPv6.
		{in: "::1", n: 1, first: "::1", last: "::1"},
		// Nothing: the system chooses.
		{in: "", n: 0},
		{in: "127.0.0.9-127.0.0.1", err: "ends before it starts"},
		{in: "127.0.0.1-::1", err: "both ends"},
		{in: "localhost", err: "source ips"},
		{in: "10.0.0.0-10.0.255.255", err: "more than 256"},
	} {
		got, err := ParseSourceIPs(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseSourceIPs(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || len(got) != tt.n {
			t.Errorf("ParseSourceIPs(%q) = %d addresses, %v; want %d", tt.in, len(got), err, tt.n)
			continue
		}
		if tt.n > 0 && (got[0].String() != tt.first || got[tt.n-1].String() != tt.last) {
			t.Errorf("ParseSourceIPs(%q) = %s..%s, want %s..%s", tt.in, got[0], got[tt.n-1], tt.first, tt.last)
		}
	}
}
