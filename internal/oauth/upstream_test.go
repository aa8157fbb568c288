package oauth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/login"
)

func withUpstream(c *Config) {
	c.Upstream = &login.Upstream{ClientID: "kmcp-up", ClientSecret: "up-secret", RedirectURL: c.Issuer + "/oauth/callback"}
}

// startKeboolaSignIn consents with "Sign in with Keboola" in browser b and
// signs in at the fake stack, returning the callback URL Keboola sends the
// browser to.
func (e *env) startKeboolaSignIn(b *http.Client, clientID string) string {
	e.t.Helper()
	f := e.consent(b, authQuery(clientID))
	f.Del("storage_token")
	f.Set("action", "keboola")
	r := e.submit(b, f)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), e.stack.URL()+"/oauth/authorize?") {
		e.t.Fatalf("Sign in with Keboola: %d Location=%q", r.status, r.header.Get("Location"))
	}
	up, _ := url.Parse(r.header.Get("Location"))
	q := up.Query()
	if q.Get("state") == "" || q.Get("redirect_uri") != e.srv.Issuer()+"/oauth/callback" || q.Get("client_id") != "kmcp-up" {
		e.t.Fatalf("upstream authorize URL %s", up)
	}
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		e.t.Fatalf("upstream authorize URL without an S256 PKCE challenge: %s", up)
	}
	// The fake stack's own login form: a Storage token stands in for a
	// password. The form carries the PKCE challenge on, as Keboola's does.
	form := url.Values{"client_id": {q.Get("client_id")}, "redirect_uri": {q.Get("redirect_uri")}, "state": {q.Get("state")},
		"response_type": {"code"}, "token": {e.stack.MasterToken()},
		"code_challenge": {q.Get("code_challenge")}, "code_challenge_method": {q.Get("code_challenge_method")}}
	req, _ := http.NewRequest("POST", e.stack.URL()+"/oauth/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	back := do(e.t, b, req)
	cb := back.header.Get("Location")
	if back.status != http.StatusFound || !strings.HasPrefix(cb, e.srv.Issuer()+"/oauth/callback?") {
		e.t.Fatalf("fake stack sign-in: %d %q %s", back.status, cb, back.body)
	}
	return cb
}

func (e *env) countStack(method, path string) int {
	n := 0
	for _, r := range e.stack.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func TestUpstream_SignInWithKeboolaMintsStorageTokenAndRefreshes(t *testing.T) {
	e := newEnv(t, withUpstream)
	id := e.publicClient()
	b := browser()
	page := e.get(b, "/authorize", authQuery(id))
	if !strings.Contains(page.body, "Sign in with Keboola") {
		t.Fatal("the page does not offer Sign in with Keboola")
	}
	cb := e.startKeboolaSignIn(b, id)
	req, _ := http.NewRequest("GET", cb, nil)
	q := redirected(t, do(t, b, req), testRedirect)
	tok := e.exchange(id, q.Get("code"))
	if tok.status != 200 {
		t.Fatalf("exchange: %d %s", tok.status, tok.body)
	}
	e.callMCP(tok.json["access_token"].(string))
	first := e.served[0].Credentials
	if first.StorageToken.Reveal() == e.stack.MasterToken() || first.StorageToken.IsZero() {
		t.Fatal("the grant should carry a minted Storage token, not the one typed at Keboola")
	}
	if _, err := keboola.VerifyToken(context.Background(), e.stack.URL(), first.StorageToken, keboola.Options{}); err != nil {
		t.Fatalf("the minted Storage token does not work: %v", err)
	}
	if n := e.countStack("POST", "/oauth/token"); n != 1 {
		t.Fatalf("upstream token calls = %d, want 1", n)
	}
	// The Keboola OAuth bearer travels with the grant: Storage, Scheduler
	// and Data Science get it (keboola.Credentials.OAuthToken).
	if first.OAuthToken.IsZero() {
		t.Fatal("the grant does not carry the Keboola OAuth access token")
	}
	if _, err := keboola.VerifyToken(context.Background(), e.stack.URL(), first.StorageToken, keboola.Options{}); err != nil {
		t.Fatal(err)
	}
	bearerClient, err := keboola.NewWithBearer(e.stack.URL(), first.OAuthToken, keboola.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bearerClient.VerifyToken(context.Background()); err != nil {
		t.Fatalf("the carried Keboola OAuth token does not work: %v", err)
	}
	// Two hours later the upstream access token and the Storage token are
	// stale: using our refresh token refreshes both.
	e.clock.Add(2 * time.Hour)
	r := e.refresh(id, tok.json["refresh_token"].(string))
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if n := e.countStack("POST", "/oauth/token"); n != 2 {
		t.Errorf("upstream token calls after refresh = %d, want 2 (one refresh)", n)
	}
	e.callMCP(r.json["access_token"].(string))
	second := e.served[1].Credentials
	if second.StorageToken.Reveal() == first.StorageToken.Reveal() {
		t.Error("the Storage token was not renewed")
	}

	if _, err := keboola.VerifyToken(context.Background(), e.stack.URL(), second.StorageToken, keboola.Options{}); err != nil {
		t.Errorf("the renewed Storage token does not work: %v", err)
	}
}

// The Keboola OAuth bearer must outlive every access token we issue, since
// the tools send it on each call: a refresh renews it whenever it would
// expire first (the fake's bearer lives 1 h, as long as our access token).
func TestUpstream_RefreshRenewsTheKeboolaBearerBeforeItExpires(t *testing.T) {
	e := newEnv(t, withUpstream)
	id := e.publicClient()
	b := browser()
	req, _ := http.NewRequest("GET", e.startKeboolaSignIn(b, id), nil)
	tok := e.exchange(id, redirected(t, do(t, b, req), testRedirect).Get("code"))
	e.callMCP(tok.json["access_token"].(string))
	first := e.served[0].Credentials.OAuthToken

	r := e.refresh(id, tok.json["refresh_token"].(string))
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	e.callMCP(r.json["access_token"].(string))
	second := e.served[1].Credentials.OAuthToken
	if first.IsZero() || second.IsZero() || second.Reveal() == first.Reveal() {
		t.Fatal("the refresh did not renew the Keboola OAuth bearer that would expire with the old access token")
	}
	c, err := keboola.NewWithBearer(e.stack.URL(), second, keboola.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyToken(context.Background()); err != nil {
		t.Fatalf("the renewed bearer does not work: %v", err)
	}
}

func TestUpstream_HiddenWhenNotConfigured(t *testing.T) {
	e := newEnv(t)
	b := browser()
	f := e.consent(b, authQuery(e.publicClient()))
	if strings.Contains(e.get(b, "/authorize", authQuery(e.publicClient())).body, "Sign in with Keboola") {
		t.Error("Sign in with Keboola offered without a Keboola OAuth client")
	}
	f.Set("action", "keboola")
	wantPage(t, e.submit(b, f), http.StatusBadRequest)
	e.nothingIssued()
}

// signedIn completes a Keboola sign-in and returns the token response.
func (e *env) signedIn(id string) reply {
	e.t.Helper()
	b := browser()
	req, _ := http.NewRequest("GET", e.startKeboolaSignIn(b, id), nil)
	tok := e.exchange(id, redirected(e.t, do(e.t, b, req), testRedirect).Get("code"))
	if tok.status != 200 {
		e.t.Fatalf("exchange: %d %s", tok.status, tok.body)
	}
	return tok
}

func TestUpstream_KeboolaOutageKeepsGrantRefusalEndsIt(t *testing.T) {
	e := newEnv(t, withUpstream)
	id := e.publicClient()
	tok := e.signedIn(id)
	e.clock.Add(2 * time.Hour)
	if err := e.stack.InjectFault(fakestack.Fault{PathPrefix: "/oauth/token", Fail5xx: 1, Status5xx: 503}); err != nil {
		t.Fatal(err)
	}
	r := e.refresh(id, tok.json["refresh_token"].(string))
	if r.status != 200 {
		t.Fatalf("refresh during a Keboola outage: %d %s; want the grant kept", r.status, r.body)
	}
	// Keboola now refuses: the user's Keboola authorization is gone.
	e.stack.RevokeToken(e.stack.MasterToken())
	e.clock.Add(2 * time.Hour)
	wantJSONError(t, e.refresh(id, r.json["refresh_token"].(string)), 400, "invalid_grant")
	e.nothingIssued()
}
