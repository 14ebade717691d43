package web

import (
	"net/http"
	"testing"
)

func TestClientAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, remote, header string
		values               []string
		want                 string
	}{
		{"PeerIPv4", "192.0.2.1:5000", "", nil, "192.0.2.1"},
		{"PeerIPv6Per64", "[2001:db8:1:2:3:4:5:6]:5000", "", nil, "2001:db8:1:2::/64"},
		{"PeerIPv4MappedIPv6", "[::ffff:192.0.2.1]:5000", "", nil, "192.0.2.1"},
		{"HeaderIgnoredWhenNotTrusted", "192.0.2.1:5000", "", []string{"203.0.113.9"}, "192.0.2.1"},
		{"LastEntryOfTrustedHeader", "192.0.2.1:5000", "X-Forwarded-For", []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9"},
		{"LastHeaderLine", "192.0.2.1:5000", "X-Forwarded-For", []string{"198.51.100.1", "203.0.113.9"}, "203.0.113.9"},
		{"TrustedHeaderMissing", "192.0.2.1:5000", "X-Forwarded-For", nil, "192.0.2.1"},
		{"TrustedHeaderGarbage", "192.0.2.1:5000", "X-Forwarded-For", []string{"not an address\x00"}, "192.0.2.1"},
		{"PeerNotHostPort", "weird", "", nil, "weird"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			for _, v := range tc.values {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientAddress(r, tc.header); got != tc.want {
				t.Errorf("clientAddress = %q, want %q", got, tc.want)
			}
		})
	}
}
