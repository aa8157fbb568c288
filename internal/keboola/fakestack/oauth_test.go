package fakestack

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	oauthClientID = "mcp-client"
	oauthSecret   = "s3cret"
	redirectURI   = "http://127.0.0.1:9999/oauth/callback"
)

// authorize completes the login form with a Storage token and returns the code.
func authorize(t *testing.T, s *Stack, storageToken, state string) string {
	t.Helper()
	r := call(t, "POST", s.URL()+"/oauth/authorize", nil, url.Values{"client_id": {oauthClientID}, "redirect_uri": {redirectURI},
		"response_type": {"code"}, "state": {state}, "token": {storageToken}, "action": {"authorize"}})
	wantStatus(t, r, http.StatusFound)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), redirectURI+"?") || loc.Query().Get("state") != state {
		t.Fatalf("redirect to %s, want %s with state %q", loc, redirectURI, state)
	}
	return loc.Query().Get("code")
}

func exchange(t *testing.T, s *Stack, form url.Values, basic bool) resp {
	t.Helper()
	u := s.URL() + "/oauth/token"
	var headers map[string]string
	if basic {
		req, _ := http.NewRequest("POST", u, nil)
		req.SetBasicAuth(oauthClientID, oauthSecret)
		headers = map[string]string{"Authorization": req.Header.Get("Authorization")}
	} else {
		form.Set("client_id", oauthClientID)
		form.Set("client_secret", oauthSecret)
	}
	return call(t, "POST", u, headers, form)
}

func wantOAuthError(t *testing.T, r resp, status int, code string) {
	t.Helper()
	wantStatus(t, r, status)
	if got := r.object(t)["error"]; got != code {
		t.Errorf("error %v, want %s: %s", got, code, r.body)
	}
}

func TestOAuth_CodeFlowGivesBearerThatWorksOnStorage(t *testing.T) {
	s := newTestServer(t, Options{OAuthClients: map[string]string{oauthClientID: oauthSecret}})
	form := call(t, "GET", s.URL()+"/oauth/authorize?"+url.Values{"client_id": {oauthClientID}, "response_type": {"code"},
		"redirect_uri": {redirectURI}, "state": {"st<1>"}}.Encode(), nil, nil)
	wantStatus(t, form, http.StatusOK)
	page := string(form.body)
	for _, want := range []string{`name="token"`, "Authorize", `value="st&lt;1&gt;"`} {
		if !strings.Contains(page, want) {
			t.Errorf("login form lacks %s:\n%s", want, page)
		}
	}
	bad := call(t, "POST", s.URL()+"/oauth/authorize", nil, url.Values{"client_id": {oauthClientID}, "redirect_uri": {redirectURI},
		"response_type": {"code"}, "token": {"wrong"}})
	if bad.status != http.StatusUnauthorized || !strings.Contains(string(bad.body), `name="token"`) {
		t.Errorf("a wrong token must show the form again with 401, got %d", bad.status)
	}

	code := authorize(t, s, s.MasterToken(), "xyz")
	tok := exchange(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, true)
	wantStatus(t, tok, http.StatusOK)
	body := tok.object(t)
	access, _ := body["access_token"].(string)
	if access == "" || body["refresh_token"] == "" || body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) {
		t.Fatalf("token response %v", body)
	}
	if tok.header.Get("Cache-Control") != "no-store" {
		t.Error("token response is cacheable")
	}
	ver := call(t, "GET", s.URL()+"/v2/storage/tokens/verify", bearer(access), nil)
	wantStatus(t, ver, http.StatusOK)
	minted := call(t, "POST", s.URL()+"/v2/storage/tokens", bearer(access), map[string]any{"description": "for queue", "canManageBuckets": true, "canReadAllFileUploads": true, "expiresIn": 3600})
	wantStatus(t, minted, http.StatusCreated)
	storageTok := minted.object(t)["token"].(string)
	wantStatus(t, call(t, "GET", s.URL()+"/queue/search/jobs", tokenHeader(storageTok), nil), http.StatusOK)
	wantStatus(t, call(t, "GET", s.URL()+"/queue/search/jobs", bearer(access), nil), http.StatusUnauthorized)

	again := exchange(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, true)
	wantOAuthError(t, again, http.StatusBadRequest, "invalid_grant")

	refresh := body["refresh_token"].(string)
	rot := exchange(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, false)
	wantStatus(t, rot, http.StatusOK)
	if rot.object(t)["refresh_token"] == refresh {
		t.Error("refresh token was not rotated")
	}
	wantOAuthError(t, exchange(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, false), http.StatusBadRequest, "invalid_grant")
}

func TestOAuth_TokenEndpointRejectsBadRequests(t *testing.T) {
	s, clk := newClocked(t, Options{OAuthClients: map[string]string{oauthClientID: oauthSecret, "other": "x"}})
	cases := []struct {
		name   string
		form   func(code string) url.Values
		auth   [2]string
		status int
		err    string
	}{
		{"wrong secret", func(c string) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirectURI}}
		}, [2]string{oauthClientID, "nope"}, http.StatusUnauthorized, "invalid_client"},
		{"unknown client", func(c string) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirectURI}}
		}, [2]string{"ghost", "x"}, http.StatusUnauthorized, "invalid_client"},
		{"code of another client", func(c string) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirectURI}}
		}, [2]string{"other", "x"}, http.StatusBadRequest, "invalid_grant"},
		{"wrong redirect", func(c string) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {"http://127.0.0.1:9999/elsewhere"}}
		}, [2]string{oauthClientID, oauthSecret}, http.StatusBadRequest, "invalid_grant"},
		{"unknown grant", func(string) url.Values { return url.Values{"grant_type": {"password"}} },
			[2]string{oauthClientID, oauthSecret}, http.StatusBadRequest, "unsupported_grant_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code := authorize(t, s, s.MasterToken(), "s")
			form := tc.form(code)
			form.Set("client_id", tc.auth[0])
			form.Set("client_secret", tc.auth[1])
			wantOAuthError(t, call(t, "POST", s.URL()+"/oauth/token", nil, form), tc.status, tc.err)
		})
	}
	t.Run("expired code", func(t *testing.T) {
		code := authorize(t, s, s.MasterToken(), "s")
		clk.Advance(11 * time.Minute)
		r := exchange(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, true)
		wantOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("expired access token", func(t *testing.T) {
		code := authorize(t, s, s.MasterToken(), "s")
		r := exchange(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, true)
		access := r.object(t)["access_token"].(string)
		wantStatus(t, call(t, "GET", s.URL()+"/v2/storage/tokens/verify", bearer(access), nil), http.StatusOK)
		clk.Advance(61 * time.Minute)
		wantStatus(t, call(t, "GET", s.URL()+"/v2/storage/tokens/verify", bearer(access), nil), http.StatusUnauthorized)
	})
}

func TestOAuth_AuthorizeNeverRedirectsForAnInvalidRequest(t *testing.T) {
	s := newTestServer(t, Options{OAuthClients: map[string]string{oauthClientID: oauthSecret}})
	cases := map[string]url.Values{
		"unknown client":      {"client_id": {"ghost"}, "response_type": {"code"}, "redirect_uri": {redirectURI}},
		"token response type": {"client_id": {oauthClientID}, "response_type": {"token"}, "redirect_uri": {redirectURI}},
		"javascript redirect": {"client_id": {oauthClientID}, "response_type": {"code"}, "redirect_uri": {"javascript:alert(1)"}},
		"relative redirect":   {"client_id": {oauthClientID}, "response_type": {"code"}, "redirect_uri": {"/cb"}},
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			r := call(t, "GET", s.URL()+"/oauth/authorize?"+q.Encode(), nil, nil)
			if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
				t.Errorf("status %d location %q, want 400 without redirect", r.status, r.header.Get("Location"))
			}
		})
	}
}

func TestRevokeToken_EndsAnOAuthSessionAndAStorageToken(t *testing.T) {
	s := newTestServer(t, Options{OAuthClients: map[string]string{oauthClientID: oauthSecret}})
	code := authorize(t, s, s.MasterToken(), "s")
	access := exchange(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, true).object(t)["access_token"].(string)
	limited := s.AddToken(TokenOptions{Description: "l"})
	if !s.RevokeToken(access) || !s.RevokeToken(limited) || s.RevokeToken("never-issued") {
		t.Fatal("RevokeToken reported the wrong existence")
	}
	wantStatus(t, call(t, "GET", s.URL()+"/v2/storage/tokens/verify", bearer(access), nil), http.StatusUnauthorized)
	wantStatus(t, call(t, "GET", s.URL()+"/v2/storage/tokens/verify", tokenHeader(limited), nil), http.StatusUnauthorized)
}

// The fake is strict about PKCE (RFC 7636, OAuth 2.1 §4.1.3): Keboola's
// OAuth server is not publicly documented, so the fake models what a
// compliant server must do. A challenge sent at authorize binds the code to
// its verifier; a verifier for a code issued without a challenge is a
// downgrade and refused too; only S256 is accepted.
func TestOAuth_PKCEIsVerifiedWhenAChallengeWasSent(t *testing.T) {
	s := newTestServer(t, Options{OAuthClients: map[string]string{oauthClientID: oauthSecret}})
	const verifier = "pkce-verifier-0123456789-0123456789-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	codeWith := func(challenge, method string) resp {
		return call(t, "POST", s.URL()+"/oauth/authorize", nil, url.Values{"client_id": {oauthClientID}, "redirect_uri": {redirectURI},
			"response_type": {"code"}, "state": {"st"}, "token": {s.MasterToken()}, "code_challenge": {challenge}, "code_challenge_method": {method}})
	}
	code := func(challenge string) string {
		r := codeWith(challenge, "S256")
		wantStatus(t, r, http.StatusFound)
		loc, _ := url.Parse(r.header.Get("Location"))
		return loc.Query().Get("code")
	}
	redeem := func(code, verifier string) resp {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
		if verifier != "" {
			f.Set("code_verifier", verifier)
		}
		return exchange(t, s, f, true)
	}
	wantOAuthError(t, redeem(code(challenge), ""), http.StatusBadRequest, "invalid_grant")
	wantOAuthError(t, redeem(code(challenge), strings.Repeat("x", 43)), http.StatusBadRequest, "invalid_grant")
	c := code(challenge)
	wantStatus(t, redeem(c, verifier), http.StatusOK)
	wantOAuthError(t, redeem(c, verifier), http.StatusBadRequest, "invalid_grant")
	wantOAuthError(t, redeem(code(""), verifier), http.StatusBadRequest, "invalid_grant")
	wantStatus(t, redeem(code(""), ""), http.StatusOK) // no PKCE at all: the documented flow
	wantStatus(t, codeWith(challenge, "plain"), http.StatusBadRequest)
	wantStatus(t, codeWith("short", "S256"), http.StatusBadRequest)
}
