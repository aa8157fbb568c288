package oauth

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// TestProbes_Hold pins attacks from the security review that the server
// already resisted, so a later change cannot quietly reopen them.
func TestProbes_Hold(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"malformed PKCE verifier is refused before the code is spent", func(t *testing.T, e *env) {
			id := e.publicClient()
			code := e.code(id)
			for _, v := range []string{strings.Repeat("a", 42), strings.Repeat("a", 129), strings.Repeat("a", 42) + "+", strings.Repeat("a", 42) + "=", strings.Repeat("a", 42) + "é"} {
				r := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "code": {code},
					"redirect_uri": {testRedirect}, "code_verifier": {v}})
				wantJSONError(t, r, 400, "invalid_request")
			}
			if r := e.exchange(id, code); r.status != 200 {
				t.Errorf("a malformed verifier burnt the code: %d %s", r.status, r.body)
			}
		}},
		{"malformed PKCE challenge or method at authorize", func(t *testing.T, e *env) {
			id := e.publicClient()
			for _, m := range []map[string]string{
				{"code_challenge_method": "s256"},
				{"code_challenge_method": ""},
				{"code_challenge": pkce(verifier)[:42]},
				{"code_challenge": pkce(verifier) + "="},
				{"code_challenge": strings.Repeat("+", 43)},
			} {
				q := authQuery(id)
				for k, v := range m {
					q.Set(k, v)
				}
				wantErrorPage(t, e.get(browser(), "/authorize", q), "invalid_request")
			}
			e.nothingIssued()
		}},
		{"expired code", func(t *testing.T, e *env) {
			id := e.publicClient()
			code := e.code(id)
			e.clock.Add(codeTTL)
			wantJSONError(t, e.exchange(id, code), 400, "invalid_grant")
			e.noTokens()
		}},
		{"concurrent redemptions of one code leave nothing usable", func(t *testing.T, e *env) {
			id := e.publicClient()
			code := e.code(id)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var ok []string
			for range 8 {
				wg.Go(func() {
					r := e.exchange(id, code)
					if r.status == 200 {
						mu.Lock()
						ok = append(ok, r.json["access_token"].(string))
						mu.Unlock()
					} else if r.json["error"] != "invalid_grant" {
						t.Errorf("a losing redemption: %d %s", r.status, r.body)
					}
				})
			}
			wg.Wait()
			if len(ok) > 1 {
				t.Fatalf("%d redemptions of one code succeeded", len(ok))
			}
			// The losers are replays: whatever the winner got is revoked.
			for _, at := range ok {
				if r := e.callMCP(at); r.status != 401 {
					t.Errorf("a token from a raced code still works: %d", r.status)
				}
			}
			e.noTokens()
		}},
		{"repeated parameters", func(t *testing.T, e *env) {
			id := e.publicClient()
			q := authQuery(id)
			q.Add("code_challenge", pkce("another-verifier-0123456789-0123456789-0123"))
			wantErrorPage(t, e.get(browser(), "/authorize", q), "invalid_request")
			q = authQuery(id)
			q.Add("redirect_uri", "https://attacker.example/cb")
			wantPage(t, e.get(browser(), "/authorize", q), 400)
			code := e.code(id)
			r := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "code": {code, code},
				"redirect_uri": {testRedirect}, "code_verifier": {verifier}})
			wantJSONError(t, r, 400, "invalid_request")
			e.noTokens()
		}},
		{"redirect URI tricks at registration", func(t *testing.T, e *env) {
			for _, u := range []string{
				"https://client.example@attacker.example/cb", "HTTPS://client.example/cb", "file:///etc/passwd",
				"https://client.example/cb#", "vbscript:msgbox(1)", "http://localhost.attacker.example/cb",
				"http://127.0.0.1.nip.io/cb", "https://client.example/" + strings.Repeat("a", 2000), "//client.example/cb",
				"https:client.example", "https://client.example\\@attacker.example/cb",
			} {
				wantJSONError(t, e.register(map[string]any{"redirect_uris": []string{u}, "token_endpoint_auth_method": "none"}), 400, "invalid_redirect_uri")
			}
			if s := e.stats(); s.Clients != 0 {
				t.Errorf("stored %+v", s)
			}
		}},
		{"redirect URI variants at authorize", func(t *testing.T, e *env) {
			id := e.publicClient()
			for _, u := range []string{testRedirect + "/../evil", testRedirect + "?x=1", testRedirect + "#x", testRedirect + "/",
				"https://CLIENT.example/callback", "https://client.example:443/callback", "http://client.example/callback"} {
				q := authQuery(id)
				q.Set("redirect_uri", u)
				wantPage(t, e.get(browser(), "/authorize", q), 400)
			}
			e.nothingIssued()
		}},
		{"unknown scope", func(t *testing.T, e *env) {
			q := authQuery(e.publicClient())
			q.Set("scope", "keboola:read keboola:admin")
			wantErrorPage(t, e.get(browser(), "/authorize", q), "invalid_scope")
		}},
		{"script in client_name is escaped on a frame-proof page", func(t *testing.T, e *env) {
			r := e.register(map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "none", "client_name": `<script>alert(1)</script>"'`})
			page := e.get(browser(), "/authorize", authQuery(r.json["client_id"].(string)))
			if page.status != 200 || strings.Contains(page.body, "<script>") || !strings.Contains(page.body, "&lt;script&gt;") {
				t.Errorf("client_name not escaped: %d", page.status)
			}
			h := page.header
			if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("Cache-Control") != "no-store" {
				t.Errorf("consent page headers: %v", h)
			}
		}},
		{"token endpoint wants a form body, never cached", func(t *testing.T, e *env) {
			id := e.publicClient()
			req, _ := http.NewRequest("POST", e.ts.URL+"/token", strings.NewReader(`{"grant_type":"authorization_code","client_id":"`+id+`"}`))
			req.Header.Set("Content-Type", "application/json")
			r := do(t, http.DefaultClient, req)
			wantJSONError(t, r, 400, "invalid_request")
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
				t.Errorf("token error cacheable: %v", r.header)
			}
		}},
		{"unknown client with Basic gets a Basic challenge", func(t *testing.T, e *env) {
			req, _ := http.NewRequest("POST", e.ts.URL+"/token", strings.NewReader("grant_type=refresh_token&refresh_token=kmcp_rt_x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("kmcp_c_nope", "secret")
			r := do(t, http.DefaultClient, req)
			wantJSONError(t, r, 401, "invalid_client")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
		}},
		{"refresh token of another client", func(t *testing.T, e *env) {
			victim := e.publicClient()
			at, rt := e.tokens(victim)
			wantJSONError(t, e.refresh(e.publicClient(), rt), 400, "invalid_grant")
			// The token is in the wrong hands: its grant ends.
			if r := e.callMCP(at); r.status != 401 {
				t.Errorf("the victim's grant survived a foreign refresh: %d", r.status)
			}
		}},
		{"refresh with a narrower scope cannot widen later", func(t *testing.T, e *env) {
			id := e.publicClient()
			_, rt := e.tokens(id)
			narrow := e.post("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {rt}, "scope": {"keboola:read"}})
			if narrow.status != 200 || narrow.json["scope"] != "keboola:read" {
				t.Fatalf("narrowing: %d %s", narrow.status, narrow.body)
			}
			r := e.post("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {narrow.json["refresh_token"].(string)}, "scope": {"keboola:write"}})
			wantJSONError(t, r, 400, "invalid_scope")
		}},
		{"deny sends the browser only to the registered redirect", func(t *testing.T, e *env) {
			b := browser()
			f := e.consent(b, authQuery(e.publicClient()))
			f.Set("action", "deny")
			f.Set("redirect_uri", "https://attacker.example/cb")
			wantError(t, redirected(t, e.submit(b, f), testRedirect), "access_denied")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newEnv(t)) })
	}
}
