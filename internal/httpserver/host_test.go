package httpserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
)

// On a loopback listener a DNS-rebinding page reaches the server under its
// own host name; same-origin GETs carry no Origin, so the Host header is
// what gives it away. A reverse proxy in front forwards the public host,
// which must pass.
func TestServer_HostCheckOnLoopbackAgainstDNSRebinding(t *testing.T) {
	cases := []struct {
		name, host string
		loopback   bool
		ok         bool
	}{
		{"loopback IP with port", "127.0.0.1:8000", true, true},
		{"localhost", "localhost:8000", true, true},
		{"IPv6 loopback", "[::1]:8000", true, true},
		{"public host via a reverse proxy", "mcp.example.com", true, true},
		{"public host with its explicit default port", "mcp.example.com:443", true, true},
		{"allowed origin's host", "tools.example.org:8443", true, true},
		{"rebinding attacker's host", "attacker.example:8000", true, false},
		{"attacker's host without a port", "attacker.example", true, false},
		{"any host when not on loopback", "whatever.example", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var served int
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served++ })
			s, err := New(Config{
				PublicURL: "https://mcp.example.com", AllowedOrigins: []string{"https://tools.example.org:8443"}, Loopback: tc.loopback,
				MCP: h, SSE: h, Auth: access.Static(access.Access{}),
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/mcp", "/sse", "/messages?sessionid=x"} {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Host = tc.host
				rec := httptest.NewRecorder()
				s.Handler().ServeHTTP(rec, req)
				if ok := rec.Code != http.StatusForbidden; ok != tc.ok {
					t.Errorf("%s with Host %q: status %d, want allowed=%v", path, tc.host, rec.Code, tc.ok)
				}
			}
			if want := map[bool]int{true: 3, false: 0}[tc.ok]; served != want {
				t.Errorf("served %d requests, want %d", served, want)
			}
		})
	}
}

// The DNS-rebinding guard covers every route, not only the MCP endpoints: a
// rebinding page could otherwise drive the consent page, register clients
// or read the metadata of a local server under its own host name.
func TestServer_HostCheckCoversEveryRoute(t *testing.T) {
	sys := startSystem(t)
	routes := []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/healthz"}, {"GET", "/metrics"},
		{"GET", "/.well-known/oauth-authorization-server"}, {"GET", "/.well-known/oauth-protected-resource"},
		{"GET", "/.well-known/oauth-protected-resource/mcp"}, {"GET", "/.well-known/openid-configuration"},
		{"GET", "/authorize"}, {"POST", "/authorize"}, {"POST", "/token"}, {"POST", "/register"}, {"POST", "/revoke"},
		{"GET", "/oauth/callback"}, {"POST", "/mcp"}, {"GET", "/sse"}, {"POST", "/messages"}, {"GET", "/no-such-route"},
	}
	c := &http.Client{Timeout: 10 * time.Second}
	for _, rt := range routes {
		for host, refused := range map[string]bool{"rebind.attacker.example": true, "localhost": false} {
			req, _ := http.NewRequest(rt.method, sys.url+rt.path, strings.NewReader("{}"))
			req.Host = host
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := resp.StatusCode == http.StatusForbidden && strings.Contains(string(b), "does not answer to host")
			if got != refused {
				t.Errorf("%s %s with Host %s: %d %q; want refused=%v", rt.method, rt.path, host, resp.StatusCode, b, refused)
			}
		}
	}
}
