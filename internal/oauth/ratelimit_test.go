package oauth

import (
	"net/http/httptest"
	"testing"
	"time"
)

// One IPv6 host is normally handed a whole /64; counting registrations per
// /128 would let it pick a fresh address for every request.
func TestRegisterLimit_OneBucketPerIPv4AddressOrIPv6Slash64(t *testing.T) {
	cases := []struct {
		name   string
		a, b   string
		shared bool
	}{
		{"two addresses in one IPv6 /64 share a bucket", "[2001:db8:1:2::1]:4000", "[2001:db8:1:2:ffff:ffff:ffff:fffe]:5000", true},
		{"neighbouring IPv6 /64s do not", "[2001:db8:1:2::1]:4000", "[2001:db8:1:3::1]:4000", false},
		{"one IPv4 address on two ports shares a bucket", "198.51.100.7:1000", "198.51.100.7:2000", true},
		{"two IPv4 addresses do not", "198.51.100.7:1000", "198.51.100.8:1000", false},
		{"IPv4-mapped IPv6 is the IPv4 address", "[::ffff:198.51.100.7]:1000", "198.51.100.7:1000", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(1, 1)
			ra := httptest.NewRequest("POST", "/register", nil)
			ra.RemoteAddr = tc.a
			rb := httptest.NewRequest("POST", "/register", nil)
			rb.RemoteAddr = tc.b
			now := time.Now()
			if !l.allow(remoteIP(ra), now) {
				t.Fatal("the first registration was refused")
			}
			if got := !l.allow(remoteIP(rb), now); got != tc.shared {
				t.Errorf("second address limited = %v, want %v (keys %q, %q)", got, tc.shared, remoteIP(ra), remoteIP(rb))
			}
		})
	}
}
