package oauth

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAttacks is the table of attacks from docs/security.md: each must be
// refused, and each must leave nothing issued that the attacker could use.
func TestAttacks(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"PKCE missing at authorize", func(t *testing.T, e *env) {
			q := authQuery(e.publicClient())
			q.Del("code_challenge")
			q.Del("code_challenge_method")
			wantErrorPage(t, e.get(browser(), "/authorize", q), "invalid_request")
			e.nothingIssued()
		}},
		{"PKCE plain method", func(t *testing.T, e *env) {
			q := authQuery(e.publicClient())
			q.Set("code_challenge", verifier)
			q.Set("code_challenge_method", "plain")
			wantErrorPage(t, e.get(browser(), "/authorize", q), "invalid_request")
			e.nothingIssued()
		}},
		{"PKCE wrong verifier spends the code", func(t *testing.T, e *env) {
			// A wrong guess must cost the code: otherwise whoever intercepted
			// it could keep guessing until the right client redeems it.
			id := e.publicClient()
			code := e.code(id)
			r := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "code": {code},
				"redirect_uri": {testRedirect}, "code_verifier": {strings.Repeat("x", 43)}})
			wantJSONError(t, r, 400, "invalid_grant")
			wantJSONError(t, e.exchange(id, code), 400, "invalid_grant")
			e.nothingIssued()
		}},
		{"redirect_uri omitted at token", func(t *testing.T, e *env) {
			// It was sent at authorize, so it must be repeated (RFC 6749
			// §4.1.3): the code stays bound to where it was delivered.
			id := e.publicClient()
			r := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "code": {e.code(id)}, "code_verifier": {verifier}})
			wantJSONError(t, r, 400, "invalid_request")
			e.noTokens()
		}},
		{"consent form widening the scope beyond the client's request", func(t *testing.T, e *env) {
			// The client asked for read only; a tampered or confused form
			// that also ticks write must not grant more than was asked.
			id := e.publicClient()
			q := authQuery(id)
			q.Set("scope", "keboola:read")
			b := browser()
			f := e.consent(b, q) // ticks keboola:read and keboola:write
			code := redirected(t, e.submit(b, f), testRedirect).Get("code")
			tok := e.exchange(id, code)
			if tok.status != 200 || tok.json["scope"] != "keboola:read" {
				t.Fatalf("grant scope %v (%d), want keboola:read only", tok.json["scope"], tok.status)
			}
			e.callMCP(tok.json["access_token"].(string))
			if a := e.served[len(e.served)-1]; !a.ReadOnly {
				t.Error("a read-only request yielded write access")
			}
		}},
		{"PKCE verifier omitted", func(t *testing.T, e *env) {
			id := e.publicClient()
			r := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "code": {e.code(id)}, "redirect_uri": {testRedirect}})
			wantJSONError(t, r, 400, "invalid_request")
			e.noTokens()
		}},
		{"code replay revokes what it issued", func(t *testing.T, e *env) {
			id := e.publicClient()
			code := e.code(id)
			first := e.exchange(id, code)
			if first.status != 200 {
				t.Fatalf("first exchange: %d %s", first.status, first.body)
			}
			wantJSONError(t, e.exchange(id, code), 400, "invalid_grant")
			if r := e.callMCP(first.json["access_token"].(string)); r.status != 401 {
				t.Errorf("access token from a replayed code still works: %d", r.status)
			}
			wantJSONError(t, e.refresh(id, first.json["refresh_token"].(string)), 400, "invalid_grant")
			e.noTokens()
		}},
		{"redirect URI not registered at authorize", func(t *testing.T, e *env) {
			q := authQuery(e.publicClient())
			q.Set("redirect_uri", "https://attacker.example/cb")
			r := e.get(browser(), "/authorize", q)
			wantPage(t, r, 400)
			e.nothingIssued()
		}},
		{"redirect URI differs at token", func(t *testing.T, e *env) {
			id := e.publicClient()
			r := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "code": {e.code(id)},
				"redirect_uri": {"https://client.example/other"}, "code_verifier": {verifier}})
			wantJSONError(t, r, 400, "invalid_grant")
			e.nothingIssued()
		}},
		{"javascript: redirect at registration", func(t *testing.T, e *env) {
			for _, u := range []string{"javascript:alert(1)", "data:text/html,x", "https://client.example/cb#frag", "http://evil.example/cb", "JavaScript:alert(1)"} {
				r := e.register(map[string]any{"redirect_uris": []string{u}, "token_endpoint_auth_method": "none"})
				wantJSONError(t, r, 400, "invalid_redirect_uri")
			}
			if s := e.stats(); s.Clients != 0 {
				t.Errorf("a client with a forbidden redirect was stored: %+v", s)
			}
		}},
		{"look-alike Unicode redirect host at registration", func(t *testing.T, e *env) {
			// The consent page names the redirect host; a Cyrillic "а" would
			// show a spoof of apple.com. URIs are ASCII (RFC 3986): an
			// internationalised host must come as punycode, shown as such.
			for _, u := range []string{"https://\u0430pple.com/cb", "https://client.example/caf\u00e9", "cursor://\u0430pp/cb"} {
				r := e.register(map[string]any{"redirect_uris": []string{u}, "token_endpoint_auth_method": "none"})
				wantJSONError(t, r, 400, "invalid_redirect_uri")
			}
			if s := e.stats(); s.Clients != 0 {
				t.Errorf("a client with a non-ASCII redirect was stored: %+v", s)
			}
			r := e.register(map[string]any{"redirect_uris": []string{"https://xn--pple-43d.com/cb"}, "token_endpoint_auth_method": "none"})
			if r.status != http.StatusCreated {
				t.Fatalf("punycode redirect refused: %d %s", r.status, r.body)
			}
			q := authQuery(r.json["client_id"].(string))
			q.Set("redirect_uri", "https://xn--pple-43d.com/cb")
			if page := e.get(browser(), "/authorize", q); page.status != 200 || !strings.Contains(page.body, "xn--pple-43d.com") {
				t.Errorf("the consent page does not show the punycode host: %d", page.status)
			}
		}},
		{"web+ scheme redirect at registration", func(t *testing.T, e *env) {
			// web+ schemes are handlers a web page registers in the browser
			// (registerProtocolHandler): the code would go to a website that
			// names no host here, not to an app on this computer.
			for _, u := range []string{"web+evil://claude.ai/api/mcp/auth_callback", "web+x:/cb"} {
				r := e.register(map[string]any{"redirect_uris": []string{u}, "token_endpoint_auth_method": "none"})
				wantJSONError(t, r, 400, "invalid_redirect_uri")
			}
			if s := e.stats(); s.Clients != 0 {
				t.Errorf("a client with a web+ redirect was stored: %+v", s)
			}
		}},
		{"private-use scheme redirect posing as a web host is shown in full with the local-program warning", func(t *testing.T, e *env) {
			const spoof = "evil.app://claude.ai/api/mcp/auth_callback"
			r := e.register(map[string]any{"redirect_uris": []string{spoof}, "token_endpoint_auth_method": "none", "client_name": "Claude"})
			if r.status != http.StatusCreated {
				t.Fatalf("register: %d %s", r.status, r.body)
			}
			q := authQuery(r.json["client_id"].(string))
			q.Set("redirect_uri", spoof)
			page := e.get(browser(), "/authorize", q)
			if page.status != 200 {
				t.Fatalf("consent page: %d %s", page.status, page.body)
			}
			if !strings.Contains(page.body, spoof) {
				t.Errorf("the consent page does not show the private-use redirect in full:\n%s", page.body)
			}
			// The page's wording belongs to the template; what the server
			// decides is what it hands the template.
			if p := e.srv.page(&client{Name: "Claude"}, spoof, "", "", "", true, false, "", ""); p.RedirectHost != spoof || !p.Loopback {
				t.Errorf("page for a private-use redirect shows %q, local-program warning %v; want the whole URI and the warning", p.RedirectHost, p.Loopback)
			}
		}},
		{"javascript: redirect at authorize", func(t *testing.T, e *env) {
			q := authQuery(e.publicClient())
			q.Set("redirect_uri", "javascript:alert(1)")
			q.Del("code_challenge") // would otherwise be reported by redirect
			wantPage(t, e.get(browser(), "/authorize", q), 400)
			e.nothingIssued()
		}},
		{"resource mismatch at authorize", func(t *testing.T, e *env) {
			q := authQuery(e.publicClient())
			q.Set("resource", "https://other.example/mcp")
			wantErrorPage(t, e.get(browser(), "/authorize", q), "invalid_target")
			e.nothingIssued()
		}},
		{"open redirector: errors before consent for a self-registered https redirect stay on our page", func(t *testing.T, e *env) {
			// RFC 9700 §4.11.2: anyone can register https://attacker.example
			// and send a victim a broken /authorize link; a redirect would
			// carry the victim to the attacker's page on our reputation,
			// with the attacker's state.
			reg := e.register(map[string]any{"redirect_uris": []string{"https://attacker.example/cb"}, "token_endpoint_auth_method": "none"})
			id := reg.json["client_id"].(string)
			for name, change := range map[string]func(url.Values){
				"bad scope":            func(q url.Values) { q.Set("scope", "keboola:admin") },
				"response_type=token":  func(q url.Values) { q.Set("response_type", "token") },
				"PKCE missing":         func(q url.Values) { q.Del("code_challenge") },
				"PKCE plain":           func(q url.Values) { q.Set("code_challenge_method", "plain") },
				"resource elsewhere":   func(q url.Values) { q.Set("resource", "https://other.example/mcp") },
				"state repeated":       func(q url.Values) { q.Add("state", "again") },
				"state too long":       func(q url.Values) { q.Set("state", strings.Repeat("s", 3000)) },
				"response_type absent": func(q url.Values) { q.Del("response_type") },
			} {
				q := authQuery(id)
				q.Set("redirect_uri", "https://attacker.example/cb")
				q.Set("state", "attacker-chosen")
				change(q)
				r := e.get(browser(), "/authorize", q)
				if r.header.Get("Location") != "" || r.status != http.StatusBadRequest {
					t.Errorf("%s: %d Location=%q, want our error page", name, r.status, r.header.Get("Location"))
				}
				if strings.Contains(r.body, "attacker-chosen") {
					t.Errorf("%s: the error page echoes the state", name)
				}
			}
			e.nothingIssued()
		}},
		{"errors before consent are redirected to a loopback or metadata-document client", func(t *testing.T, e *env) {
			// A loopback redirect reaches only a program on the user's own
			// computer, and a metadata document's redirect URIs are vouched
			// for by the domain that publishes it: neither is an open
			// redirector, and the client learns why its request failed.
			const local = "http://127.0.0.1:7777/cb"
			reg := e.register(map[string]any{"redirect_uris": []string{local}, "token_endpoint_auth_method": "none"})
			q := authQuery(reg.json["client_id"].(string))
			q.Set("redirect_uri", "http://127.0.0.1:8888/cb")
			q.Set("scope", "keboola:admin")
			wantError(t, redirected(t, e.get(browser(), "/authorize", q), "http://127.0.0.1:8888/cb"), "invalid_scope")
			e.nothingIssued()
		}},
		{"resource mismatch at token", func(t *testing.T, e *env) {
			id := e.publicClient()
			r := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "code": {e.code(id)},
				"redirect_uri": {testRedirect}, "code_verifier": {verifier}, "resource": {"https://other.example/mcp"}})
			wantJSONError(t, r, 400, "invalid_target")
			e.nothingIssued()
		}},
		{"refresh reuse after grace revokes the family", func(t *testing.T, e *env) {
			id := e.publicClient()
			_, rt := e.tokens(id)
			next := e.refresh(id, rt)
			e.clock.Add(6 * time.Second)
			wantJSONError(t, e.refresh(id, rt), 400, "invalid_grant")
			if r := e.callMCP(next.json["access_token"].(string)); r.status != 401 {
				t.Errorf("the newest access token survived reuse of an old refresh token: %d", r.status)
			}
			wantJSONError(t, e.refresh(id, next.json["refresh_token"].(string)), 400, "invalid_grant")
			e.nothingIssued()
		}},
		{"refresh token replayed within grace after its successor was used ends the grant", func(t *testing.T, e *env) {
			// rt0 → rt1 → rt2, then rt0 again inside the window: a client that
			// lost rt1 cannot have used it, so rt0 is a copy in other hands.
			id := e.publicClient()
			_, rt0 := e.tokens(id)
			first := e.refresh(id, rt0)
			rt1 := first.json["refresh_token"].(string)
			second := e.refresh(id, rt1)
			if second.status != 200 {
				t.Fatalf("rotating rt1: %d %s", second.status, second.body)
			}
			wantJSONError(t, e.refresh(id, rt0), 400, "invalid_grant")
			wantJSONError(t, e.refresh(id, rt1), 400, "invalid_grant")
			if r := e.callMCP(second.json["access_token"].(string)); r.status != 401 {
				t.Errorf("the newest access token survived a replayed refresh token: %d", r.status)
			}
			e.nothingIssued()
		}},
		{"revoking the refresh token ends the grant", func(t *testing.T, e *env) {
			id := e.publicClient()
			at, rt := e.tokens(id)
			if r := e.post("/revoke", url.Values{"client_id": {id}, "token": {rt}}); r.status != 200 {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
			if r := e.callMCP(at); r.status != 401 {
				t.Errorf("access token after revocation: %d", r.status)
			}
			wantJSONError(t, e.refresh(id, rt), 400, "invalid_grant")
			e.nothingIssued()
		}},
		{"revoking another client's token does nothing", func(t *testing.T, e *env) {
			victim := e.publicClient()
			at, rt := e.tokens(victim)
			if r := e.post("/revoke", url.Values{"client_id": {e.publicClient()}, "token": {rt}}); r.status != 200 {
				t.Fatalf("revoke: %d", r.status)
			}
			if r := e.callMCP(at); r.status != 200 {
				t.Errorf("another client revoked the victim's grant: %d", r.status)
			}
		}},
		{"CSRF token missing", func(t *testing.T, e *env) {
			b := browser()
			f := e.consent(b, authQuery(e.publicClient()))
			f.Del("csrf_token")
			wantPage(t, e.submit(b, f), 403)
			e.nothingIssued()
		}},
		{"form posted from another browser", func(t *testing.T, e *env) {
			f := e.consent(browser(), authQuery(e.publicClient()))
			other := browser()
			e.get(other, "/authorize", authQuery(e.publicClient())) // has its own cookie
			wantPage(t, e.submit(other, f), 403)
			e.nothingIssued()
		}},
		{"altered sealed request", func(t *testing.T, e *env) {
			b := browser()
			f := e.consent(b, authQuery(e.publicClient()))
			f.Set("request", f.Get("request")[:20]+"A"+f.Get("request")[21:])
			wantPage(t, e.submit(b, f), 400)
			e.nothingIssued()
		}},
		{"query-string token", func(t *testing.T, e *env) {
			at, _ := e.tokens(e.publicClient())
			req, _ := http.NewRequest("POST", e.ts.URL+"/mcp?access_token="+url.QueryEscape(at), strings.NewReader("{}"))
			r := do(t, http.DefaultClient, req)
			if r.status != 400 || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_request") {
				t.Errorf("query token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
			}
			if e.servedCount() != 0 {
				t.Error("a request with a token in the query string was served")
			}
		}},
		{"unknown client at token", func(t *testing.T, e *env) {
			r := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"kmcp_c_nope"}, "code": {"kmcp_ac_x"},
				"redirect_uri": {testRedirect}, "code_verifier": {verifier}})
			wantJSONError(t, r, 401, "invalid_client")
			e.nothingIssued()
		}},
		{"unknown client at authorize", func(t *testing.T, e *env) {
			wantPage(t, e.get(browser(), "/authorize", authQuery("kmcp_c_nope")), 400)
			e.nothingIssued()
		}},
		{"confidential client with a wrong secret", func(t *testing.T, e *env) {
			reg := e.register(map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "client_secret_post"})
			id := reg.json["client_id"].(string)
			r := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "client_secret": {"wrong"}, "code": {e.code(id)},
				"redirect_uri": {testRedirect}, "code_verifier": {verifier}})
			wantJSONError(t, r, 401, "invalid_client")
			e.noTokens()
		}},
		{"confidential client authenticates with a method it did not register", func(t *testing.T, e *env) {
			// RFC 7591 §2: token_endpoint_auth_method is the one method the
			// client uses; a secret accepted any other way widens where it
			// may travel (a form body is logged more often than a header).
			for _, tc := range []struct{ registered, used string }{{"client_secret_basic", "post"}, {"client_secret_post", "basic"}} {
				reg := e.register(map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": tc.registered})
				id, secret := reg.json["client_id"].(string), reg.json["client_secret"].(string)
				form := url.Values{"grant_type": {"authorization_code"}, "code": {e.code(id)}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}}
				req, _ := http.NewRequest("POST", e.ts.URL+"/token", nil)
				if tc.used == "basic" {
					req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
				} else {
					form.Set("client_id", id)
					form.Set("client_secret", secret)
				}
				req.Body = io.NopCloser(strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				wantJSONError(t, do(t, http.DefaultClient, req), 401, "invalid_client")
			}
			e.noTokens()
		}},
		{"refresh by a client that did not register the refresh grant", func(t *testing.T, e *env) {
			reg := e.register(map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code"}})
			id := reg.json["client_id"].(string)
			_, rt := e.tokens(id)
			wantJSONError(t, e.refresh(id, rt), 400, "unauthorized_client")
			if s := e.stats(); s.RefreshTokens != 1 || s.AccessTokens != 1 {
				t.Errorf("a refused refresh issued tokens: %+v", s)
			}
		}},
		{"client authenticates twice in one request", func(t *testing.T, e *env) {
			// RFC 6749 §2.3.1: one authentication method per request. A
			// secret in the form next to Basic is ambiguous: refuse it
			// rather than silently pick one.
			reg := e.register(map[string]any{"redirect_uris": []string{testRedirect}})
			id, secret := reg.json["client_id"].(string), reg.json["client_secret"].(string)
			form := url.Values{"grant_type": {"authorization_code"}, "client_secret": {"anything"}, "code": {e.code(id)},
				"redirect_uri": {testRedirect}, "code_verifier": {verifier}}
			req, _ := http.NewRequest("POST", e.ts.URL+"/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(id, secret)
			r := do(t, http.DefaultClient, req)
			wantJSONError(t, r, 400, "invalid_request")
			e.noTokens()
		}},
		{"revocation with the token parameter twice", func(t *testing.T, e *env) {
			id := e.publicClient()
			at, rt := e.tokens(id)
			r := e.post("/revoke", url.Values{"client_id": {id}, "token": {"kmcp_rt_unknown", rt}})
			wantJSONError(t, r, 400, "invalid_request")
			if r := e.callMCP(at); r.status != 200 {
				t.Errorf("an ambiguous revocation request revoked something: %d", r.status)
			}
		}},
		{"login form with a Storage token is redirected with 303 so it is never re-posted", func(t *testing.T, e *env) {
			// RFC 9700 §4.11: after a POST that carries credentials, only 303
			// is sure to turn into a GET; a 307 (or a browser reading 302
			// literally) would re-post the Storage token to the client.
			for _, action := range []string{"approve", "deny"} {
				b := browser()
				f := e.consent(b, authQuery(e.publicClient()))
				f.Set("action", action)
				if r := e.submit(b, f); r.status != http.StatusSeeOther {
					t.Errorf("%s: status %d, want 303 See Other", action, r.status)
				}
			}
		}},
		{"approval POST replayed", func(t *testing.T, e *env) {
			// The same consent form posted again (a resent request, a
			// recorded one) must not mint another code and grant.
			id := e.publicClient()
			b := browser()
			form := e.consent(b, authQuery(id))
			if q := redirected(t, e.submit(b, form), testRedirect); q.Get("code") == "" {
				t.Fatalf("first approval gave no code: %v", q)
			}
			for _, action := range []string{"approve", "deny", "keboola"} {
				form.Set("action", action)
				r := e.submit(b, form)
				wantPage(t, r, http.StatusBadRequest)
				if strings.Contains(r.header.Get("Location"), "code=") {
					t.Errorf("replayed %s yielded a code", action)
				}
			}
			if s := e.stats(); s.Grants != 1 || s.Codes != 1 {
				t.Errorf("a replayed approval issued more: %+v", s)
			}
		}},
		{"approval POSTs racing each other issue one code", func(t *testing.T, e *env) {
			id := e.publicClient()
			b := browser()
			form := e.consent(b, authQuery(id))
			var wg sync.WaitGroup
			var codes atomic.Int32
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if r := e.submit(b, form); r.status == http.StatusSeeOther && strings.Contains(r.header.Get("Location"), "code=") {
						codes.Add(1)
					}
				}()
			}
			wg.Wait()
			if n := codes.Load(); n != 1 {
				t.Errorf("%d racing approvals got a code; want exactly one", n)
			}
			if s := e.stats(); s.Grants != 1 {
				t.Errorf("racing approvals issued %d grants", s.Grants)
			}
		}},
		{"code redeemed by another client spends it", func(t *testing.T, e *env) {
			owner := e.publicClient()
			code := e.code(owner)
			wantJSONError(t, e.exchange(e.publicClient(), code), 400, "invalid_grant")
			wantJSONError(t, e.exchange(owner, code), 400, "invalid_grant")
			e.nothingIssued()
		}},
		{"Keboola callback opened in another browser is refused and does not spoil the sign-in", func(t *testing.T, _ *env) {
			// Whoever else holds the callback URL (a leaked Referer, a proxy
			// log) is refused; the browser check comes before the state is
			// spent, so the browser that started the sign-in still finishes.
			e := newEnv(t, withUpstream)
			id := e.publicClient()
			b := browser()
			cb := e.startKeboolaSignIn(b, id)
			for _, other := range []*http.Client{browser(), {CheckRedirect: browser().CheckRedirect}} { // another cookie, no cookie
				req, _ := http.NewRequest("GET", cb, nil)
				wantPage(t, do(t, other, req), http.StatusForbidden)
			}
			e.nothingIssued()
			req, _ := http.NewRequest("GET", cb, nil)
			redirected(t, do(t, b, req), testRedirect)
			req, _ = http.NewRequest("GET", cb, nil)
			wantPage(t, do(t, b, req), http.StatusBadRequest) // single use
		}},
		{"Keboola sign-in without PKCE toward Keboola", func(t *testing.T, _ *env) {
			// OAuth 2.1 wants PKCE of every client, confidential ones too: a
			// code intercepted on its way back to /oauth/callback is useless
			// without the verifier, which never leaves this server.
			// startKeboolaSignIn fails unless the authorize URL carries an
			// S256 challenge; the fake stack refuses a code redeemed without
			// the matching verifier.
			e := newEnv(t, withUpstream)
			b := browser()
			cb := e.startKeboolaSignIn(b, e.publicClient())
			req, _ := http.NewRequest("GET", cb, nil)
			redirected(t, do(t, b, req), testRedirect)
			if n := e.countStack("POST", "/oauth/token"); n != 1 {
				t.Errorf("upstream token calls = %d, want 1", n)
			}
		}},
		{"login page headers: no scripts, no framing, no referrer, the form answers only here and where it redirects", func(t *testing.T, _ *env) {
			e := newEnv(t, withUpstream)
			page := e.get(browser(), "/authorize", authQuery(e.publicClient()))
			wantCSP := "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https://client.example " + e.stack.URL() + "; frame-ancestors 'none'; base-uri 'none'"
			h := page.header
			if page.status != 200 || h.Get("Content-Security-Policy") != wantCSP || h.Get("X-Frame-Options") != "DENY" ||
				h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("consent page %d headers %v; want CSP %q and the rest", page.status, h, wantCSP)
			}
			q := authQuery("kmcp_c_unknown")
			if r := e.get(browser(), "/authorize", q); !strings.Contains(r.header.Get("Content-Security-Policy"), "form-action 'none'") || r.header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("error page headers %v", r.header)
			}
		}},
		{"stack off the allowlist", func(t *testing.T, e *env) {
			b := browser()
			f := e.consent(b, authQuery(e.publicClient()))
			f.Set("stack_url", "https://evil.example")
			r := e.submit(b, f)
			wantPage(t, r, 400)
			if !strings.Contains(r.body, "not offered") || !strings.Contains(r.body, `name="csrf_token"`) {
				t.Errorf("the page does not explain the stack problem or lost its form")
			}
			e.nothingIssued()
		}},
		{"invalid Keboola token", func(t *testing.T, e *env) {
			b := browser()
			f := e.consent(b, authQuery(e.publicClient()))
			f.Set("storage_token", "0000-not-a-token")
			r := e.submit(b, f)
			wantPage(t, r, 400)
			if !strings.Contains(r.body, "did not accept this token") || strings.Contains(r.body, "0000-not-a-token") {
				t.Errorf("page should explain the bad token without echoing it")
			}
			e.nothingIssued()
		}},
		{"user denies", func(t *testing.T, e *env) {
			b := browser()
			f := e.consent(b, authQuery(e.publicClient()))
			f.Set("action", "deny")
			wantError(t, redirected(t, e.submit(b, f), testRedirect), "access_denied")
			e.nothingIssued()
		}},
		{"token for another audience", func(t *testing.T, e *env) {
			id := e.publicClient()
			_, rt := e.tokens(id)
			r := e.post("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {rt}, "resource": {"https://other.example/mcp"}})
			wantJSONError(t, r, 400, "invalid_target")
		}},
		{"scope escalation at refresh", func(t *testing.T, e *env) {
			id := e.publicClient()
			b := browser()
			f := e.consent(b, authQuery(id))
			f["scope"] = []string{"keboola:read"}
			tok := e.exchange(id, redirected(t, e.submit(b, f), testRedirect).Get("code"))
			r := e.post("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {tok.json["refresh_token"].(string)}, "scope": {"keboola:write"}})
			wantJSONError(t, r, 400, "invalid_scope")
		}},
		{"CIMD client id on a private address", func(t *testing.T, e *env) {
			var hits atomic.Int32
			doc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
			defer doc.Close()
			q := authQuery(doc.URL + "/client.json")
			wantPage(t, e.get(browser(), "/authorize", q), 400)
			if hits.Load() != 0 {
				t.Error("the server fetched a document from a loopback address")
			}
			e.nothingIssued()
		}},
		{"oversized registration", func(t *testing.T, e *env) {
			r := e.register(map[string]any{"redirect_uris": []string{testRedirect}, "client_name": strings.Repeat("x", 20000)})
			if r.status != http.StatusRequestEntityTooLarge {
				t.Errorf("oversized registration: %d", r.status)
			}
			if s := e.stats(); s.Clients != 0 {
				t.Errorf("stored: %+v", s)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newEnv(t)) })
	}
}

func wantError(t *testing.T, q url.Values, code string) {
	t.Helper()
	if q.Get("error") != code || q.Has("code") {
		t.Errorf("redirect query %v, want error=%s and no code", q, code)
	}
}

// wantErrorPage checks that an authorization error found before consent is
// shown on our own page, naming the OAuth error, and is not redirected: a
// self-registered redirect URI may be an attacker's page (RFC 9700 §4.11.2).
func wantErrorPage(t *testing.T, r reply, code string) {
	t.Helper()
	wantPage(t, r, http.StatusBadRequest)
	if !strings.Contains(r.body, code) {
		t.Errorf("the error page does not name %s:\n%s", code, r.body)
	}
}

func wantJSONError(t *testing.T, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.json["error"] != code {
		t.Errorf("got %d %s, want %d error=%s", r.status, r.body, status, code)
	}
	if _, ok := r.json["access_token"]; ok {
		t.Error("an error response carries an access token")
	}
}

// wantPage asserts an HTML answer that does not redirect anywhere.
func wantPage(t *testing.T, r reply, status int) {
	t.Helper()
	if r.status != status || r.header.Get("Location") != "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("got %d Location=%q type=%q, want a %d page and no redirect", r.status, r.header.Get("Location"), r.header.Get("Content-Type"), status)
	}
}

func TestCIMD_DocumentClientCompletesFlow(t *testing.T) {
	var docURL string
	var hits atomic.Int32
	doc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Cache-Control", "max-age=600")
		json.NewEncoder(w).Encode(map[string]any{"client_id": docURL, "client_name": "Doc Client", "redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "none"})
	}))
	defer doc.Close()
	docURL = doc.URL + "/client.json"
	e := newEnv(t, func(c *Config) {
		c.CIMD = CIMDOptions{AllowPrivate: true, TLSConfig: &tls.Config{RootCAs: doc.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}}
	})
	page := e.get(browser(), "/authorize", authQuery(docURL))
	if page.status != 200 || !strings.Contains(page.body, "Doc Client") || strings.Contains(page.body, "not verified") || !strings.Contains(page.body, docURL) {
		t.Fatalf("consent page for a document client: %d\n%s", page.status, page.body)
	}
	// Its redirect URI is vouched for by the document's domain, so an error
	// found before consent goes back to it (not an open redirector).
	bad := authQuery(docURL)
	bad.Set("scope", "keboola:admin")
	wantError(t, redirected(t, e.get(browser(), "/authorize", bad), testRedirect), "invalid_scope")
	at, _ := e.tokens(docURL)
	if e.callMCP(at).status != 200 {
		t.Fatal("document client's token does not work")
	}
	if hits.Load() != 1 {
		t.Errorf("document fetched %d times; want 1 (cached by max-age)", hits.Load())
	}
}

func TestCIMD_RefusesBadDocuments(t *testing.T) {
	cases := map[string]func(url string) (string, string){
		"client_id differs": func(u string) (string, string) {
			return fmt.Sprintf(`{"client_id":"https://x.example/c","redirect_uris":[%q]}`, testRedirect), ""
		},
		"too large": func(u string) (string, string) {
			return fmt.Sprintf(`{"client_id":%q,"redirect_uris":[%q],"x":"%s"}`, u, testRedirect, strings.Repeat("a", 6000)), ""
		},
		"javascript redirect": func(u string) (string, string) {
			return fmt.Sprintf(`{"client_id":%q,"redirect_uris":["javascript:alert(1)"]}`, u), ""
		},
		"confidential": func(u string) (string, string) {
			return fmt.Sprintf(`{"client_id":%q,"redirect_uris":[%q],"token_endpoint_auth_method":"client_secret_basic"}`, u, testRedirect), ""
		},
		"redirects elsewhere": func(u string) (string, string) { return "", "https://example.com/other.json" },
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			var docURL string
			doc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, loc := body(docURL)
				if loc != "" {
					http.Redirect(w, r, loc, http.StatusFound)
					return
				}
				w.Write([]byte(b))
			}))
			defer doc.Close()
			docURL = doc.URL + "/client.json"
			e := newEnv(t, func(c *Config) {
				c.CIMD = CIMDOptions{AllowPrivate: true, TLSConfig: &tls.Config{RootCAs: doc.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}}
			})
			wantPage(t, e.get(browser(), "/authorize", authQuery(docURL)), 400)
			e.nothingIssued()
		})
	}
}

func TestRegister_ValidatesMetadata(t *testing.T) {
	e := newEnv(t)
	bad := []map[string]any{
		{},
		{"redirect_uris": []string{testRedirect}, "grant_types": []string{"client_credentials"}},
		{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "private_key_jwt"},
		{"redirect_uris": []string{testRedirect}, "response_types": []string{"token"}},
		{"redirect_uris": []string{testRedirect}, "client_name": "a\u202eb"},
		{"redirect_uris": []string{testRedirect}, "scope": "admin"},
	}
	for _, m := range bad {
		if r := e.register(m); r.status != 400 {
			t.Errorf("register %v: %d %s, want 400", m, r.status, r.body)
		}
	}
	if s := e.stats(); s.Clients != 0 {
		t.Errorf("stored %+v", s)
	}
}

func TestRegister_RateLimitedPerAddress(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RegisterPerMinute, c.RegisterBurst = 1, 2 })
	for i, want := range []int{201, 201, 429} {
		if r := e.register(map[string]any{"redirect_uris": []string{testRedirect}}); r.status != want {
			t.Errorf("registration %d: %d, want %d", i, r.status, want)
		}
	}
	if s := e.stats(); s.Clients != 2 {
		t.Errorf("stored %d clients, want 2", s.Clients)
	}
}

func TestRegister_ConfidentialSecretIsHashed(t *testing.T) {
	e := newEnv(t)
	r := e.register(map[string]any{"redirect_uris": []string{"http://127.0.0.1:9999/cb", "cursor://anysphere.cursor-mcp/oauth/callback"}, "client_name": "Native"})
	if r.status != 201 || r.json["token_endpoint_auth_method"] != "client_secret_basic" {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	secret := r.json["client_secret"].(string)
	c, err := e.st.Client(t.Context(), r.json["client_id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if string(c.SecretHash) == secret || len(c.SecretHash) != 32 {
		t.Errorf("the client secret is not stored as a SHA-256 hash")
	}
	// A loopback redirect may use any port.
	q := authQuery(c.ID)
	q.Set("redirect_uri", "http://127.0.0.1:45678/cb")
	if page := e.get(browser(), "/authorize", q); page.status != 200 || !strings.Contains(page.body, "program on this computer") {
		t.Errorf("loopback redirect with another port: %d", page.status)
	}
}
