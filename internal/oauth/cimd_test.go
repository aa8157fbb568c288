package oauth

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
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

// Anyone can make this server fetch a URL of their choosing by naming it
// as a client id. A failed fetch is remembered for a while, and fetches
// count against the caller's address like registrations do, so the server
// cannot be used to hammer or probe other hosts.
func TestCIMD_FailedFetchesAreCachedAndFetchesAreRateLimited(t *testing.T) {
	var hits atomic.Int32
	doc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	defer doc.Close()
	e := newEnv(t, func(c *Config) {
		c.RegisterPerMinute, c.RegisterBurst = 1, 2
		c.CIMD = CIMDOptions{AllowPrivate: true, TLSConfig: &tls.Config{RootCAs: doc.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}}
	})
	for range 3 {
		wantPage(t, e.get(browser(), "/authorize", authQuery(doc.URL+"/missing.json")), 400)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("a failing document was fetched %d times; want 1 (remembered)", n)
	}
	for _, p := range []string{"/a.json", "/b.json", "/c.json"} {
		wantPage(t, e.get(browser(), "/authorize", authQuery(doc.URL+p)), 400)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("%d fetches from one address with a burst of 2; want 2", n)
	}
	r := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {doc.URL + "/d.json"}, "code": {"kmcp_ac_x"},
		"redirect_uri": {testRedirect}, "code_verifier": {verifier}})
	wantJSONError(t, r, 401, "invalid_client")
	if n := hits.Load(); n != 2 {
		t.Errorf("the token endpoint fetched past the limit: %d fetches", n)
	}
	e.clock.Add(minCIMDTTL + time.Minute)
	wantPage(t, e.get(browser(), "/authorize", authQuery(doc.URL+"/missing.json")), 400)
	if n := hits.Load(); n != 3 {
		t.Errorf("a failure was remembered past its time, or the limit never refills: %d fetches", n)
	}
}
