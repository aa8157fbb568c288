package oauth

import (
	"net/netip"
	"testing"
)

// The metadata-document dialer refuses every address that can lead into
// this server's own network, including IPv6 forms that embed an IPv4
// address (mapped, compatible, 6to4, Teredo) and the deprecated site-local
// range, which some networks still route internally.
func TestCIMD_DialerRefusesNonPublicAddresses(t *testing.T) {
	cases := []struct {
		addr   string
		public bool
	}{
		{"127.0.0.1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"100.64.0.1", false},      // carrier-grade NAT
		{"0.0.0.0", false},
		{"255.255.255.255", false},
		{"192.88.99.1", false}, // 6to4 relay anycast
		{"::1", false},
		{"::", false},
		{"fe80::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::7f00:1", false},        // IPv4-compatible 127.0.0.1
		{"::a00:1", false},         // IPv4-compatible 10.0.0.1
		{"fec0::1", false},         // site-local
		{"2002:a00:1::1", false},   // 6to4 of 10.0.0.1
		{"2002:7f00:1::1", false},  // 6to4 of 127.0.0.1
		{"2001:0:a00:1::1", false}, // Teredo
		{"64:ff9b::a00:1", false},  // NAT64 of 10.0.0.1
		{"ff02::1", false},
		{"2001:db8::1", false},
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"2606:4700:4700::1111", true},
		{"2a00:1450:4001:80b::200e", true},
	}
	for _, tc := range cases {
		if got := publicAddr(netip.MustParseAddr(tc.addr)); got != tc.public {
			t.Errorf("publicAddr(%s) = %v, want %v", tc.addr, got, tc.public)
		}
	}
}
