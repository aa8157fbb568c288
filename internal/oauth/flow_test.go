package oauth

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFlow_TokenFormToBearerAccess(t *testing.T) {
	e := newEnv(t)
	id := e.publicClient()
	b := browser()
	page := e.get(b, "/authorize", authQuery(id))
	for _, want := range []string{"Test &lt;b&gt;Client&lt;/b&gt;", "client.example", `name="stack_url"`, `name="storage_token"`, `type="password"`, `value="keboola:read"`, `value="keboola:write"`, `value="approve"`, `value="deny"`, "not verified"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := page.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q lacks frame-ancestors 'none'", csp)
	}
	f := formFields(t, page.body)
	f.Set("stack_url", e.stack.URL())
	f.Set("storage_token", e.stack.MasterToken())
	f["scope"] = []string{"keboola:read", "keboola:write"}
	f.Set("action", "approve")
	q := redirected(t, e.submit(b, f), testRedirect)
	if q.Get("state") != "st-1" || q.Get("iss") != e.srv.Issuer() {
		t.Errorf("redirect carries state=%q iss=%q; want st-1 and %s", q.Get("state"), q.Get("iss"), e.srv.Issuer())
	}
	r := e.exchange(id, q.Get("code"))
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token: %d cache-control=%q %s", r.status, r.header.Get("Cache-Control"), r.body)
	}
	if r.json["token_type"] != "Bearer" || r.json["scope"] != "keboola:read keboola:write" || r.json["expires_in"].(float64) != 3600 {
		t.Errorf("token response %v", r.json)
	}
	if got := e.callMCP(r.json["access_token"].(string)); got.status != http.StatusOK {
		t.Fatalf("MCP call with the token: %d %s", got.status, got.body)
	}
	a := e.served[0]
	if a.Credentials.StackURL != e.stack.URL() || a.Credentials.StorageToken.Reveal() != e.stack.MasterToken() || a.ReadOnly {
		t.Errorf("access = %+v, want the master token on the fake stack, read-write", a)
	}
	if strings.Contains(r.body, e.stack.MasterToken()) {
		t.Error("the token response contains the Keboola token")
	}
}

func TestFlow_ClientWithoutStateIsAccepted(t *testing.T) {
	e := newEnv(t)
	id := e.publicClient()
	b := browser()
	q := authQuery(id)
	q.Del("state")
	got := redirected(t, e.submit(b, e.consent(b, q)), testRedirect)
	if got.Get("code") == "" || got.Has("state") {
		t.Errorf("redirect %v: want a code and no state", got)
	}
}

func TestFlow_ReadOnlyGrantAttachesReadOnlyAccess(t *testing.T) {
	e := newEnv(t)
	id := e.publicClient()
	b := browser()
	f := e.consent(b, authQuery(id))
	f["scope"] = []string{"keboola:read"}
	code := redirected(t, e.submit(b, f), testRedirect).Get("code")
	r := e.exchange(id, code)
	if r.json["scope"] != "keboola:read" {
		t.Fatalf("scope = %v", r.json["scope"])
	}
	e.callMCP(r.json["access_token"].(string))
	if !e.served[0].ReadOnly {
		t.Error("a keboola:read grant must give read-only access")
	}
}

func TestRefresh_RotatesAndOldTokenStopsAfterGrace(t *testing.T) {
	e := newEnv(t)
	id := e.publicClient()
	_, rt := e.tokens(id)
	r1 := e.refresh(id, rt)
	if r1.status != http.StatusOK || r1.json["refresh_token"] == rt {
		t.Fatalf("refresh: %d %s", r1.status, r1.body)
	}
	if e.callMCP(r1.json["access_token"].(string)).status != http.StatusOK {
		t.Fatal("the refreshed access token does not work")
	}
	// Lost response: the same old token within the grace window gets the
	// very same answer.
	e.clock.Add(2 * time.Second)
	r2 := e.refresh(id, rt)
	if r2.status != http.StatusOK || r2.json["access_token"] != r1.json["access_token"] || r2.json["refresh_token"] != r1.json["refresh_token"] {
		t.Fatalf("retry in grace: %d %v, want the first answer %v", r2.status, r2.json, r1.json)
	}
	if s := e.stats(); s.AccessTokens != 2 || s.RefreshTokens != 2 {
		t.Errorf("a retry in grace issued tokens: %+v", s)
	}
}

func TestToken_ResponsesAreNotCached(t *testing.T) {
	e := newEnv(t)
	r := e.post("/token", url.Values{"grant_type": {"password"}})
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("error response Cache-Control = %q", r.header.Get("Cache-Control"))
	}
}

func TestMetadata_AdvertisesWhatClientsNeed(t *testing.T) {
	e := newEnv(t)
	as := e.get(http.DefaultClient, "/.well-known/oauth-authorization-server", nil).json
	for k, want := range map[string]any{
		"issuer": e.srv.Issuer(), "authorization_endpoint": e.srv.Issuer() + "/authorize", "token_endpoint": e.srv.Issuer() + "/token",
		"registration_endpoint": e.srv.Issuer() + "/register", "revocation_endpoint": e.srv.Issuer() + "/revoke",
		"client_id_metadata_document_supported": true, "authorization_response_iss_parameter_supported": true,
	} {
		if as[k] != want {
			t.Errorf("AS metadata %s = %v, want %v", k, as[k], want)
		}
	}
	if m := as["code_challenge_methods_supported"].([]any); len(m) != 1 || m[0] != "S256" {
		t.Errorf("code_challenge_methods_supported = %v, want only S256", m)
	}
	for path, res := range map[string]string{"/.well-known/oauth-protected-resource/mcp": "/mcp", "/.well-known/oauth-protected-resource": "/mcp", "/.well-known/oauth-protected-resource/sse": "/sse"} {
		prm := e.get(http.DefaultClient, path, nil).json
		if prm["resource"] != e.srv.Issuer()+res || prm["authorization_servers"].([]any)[0] != e.srv.Issuer() {
			t.Errorf("%s = %v", path, prm)
		}
	}
	// The issuer never comes from the Host header.
	req, _ := http.NewRequest("GET", e.ts.URL+"/.well-known/oauth-authorization-server", nil)
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	if got := do(t, http.DefaultClient, req).json["issuer"]; got != e.srv.Issuer() {
		t.Errorf("issuer with a forged Host = %v", got)
	}
}

func TestBearer_ChallengeNamesMetadataAndScope(t *testing.T) {
	e := newEnv(t)
	r := e.callMCP("")
	want := `Bearer resource_metadata="` + e.srv.Issuer() + `/.well-known/oauth-protected-resource/mcp", scope="keboola:read keboola:write"`
	if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != want {
		t.Errorf("no token: %d %q, want 401 %q", r.status, r.header.Get("WWW-Authenticate"), want)
	}
	r = e.callMCP("kmcp_at_bogus")
	if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("bad token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
}

func TestBearer_ExpiredTokenIsRefused(t *testing.T) {
	e := newEnv(t)
	at, _ := e.tokens(e.publicClient())
	e.clock.Add(time.Hour + time.Second)
	if r := e.callMCP(at); r.status != http.StatusUnauthorized {
		t.Errorf("expired token: %d", r.status)
	}
}

func TestStore_TokensSurviveServerRestart(t *testing.T) {
	e := newEnv(t)
	id := e.publicClient()
	at, rt := e.tokens(id)
	// A second server on the same store and secret (a restart or a replica).
	srv2, err := New(e.srv.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.keys = srv2.keys
	if r := e.callMCP(at); r.status != http.StatusOK {
		t.Errorf("access token after restart: %d", r.status)
	}
	if r := e.refresh(id, rt); r.status != http.StatusOK {
		t.Errorf("refresh after restart: %d %s", r.status, r.body)
	}
}

func TestRefresh_ConcurrentRetriesGetOneAnswer(t *testing.T) {
	e := newEnv(t)
	id := e.publicClient()
	_, rt := e.tokens(id)
	const n = 8
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); replies[i] = e.refresh(id, rt) }()
	}
	wg.Wait()
	for i, r := range replies {
		if r.status != http.StatusOK || r.json["refresh_token"] != replies[0].json["refresh_token"] {
			t.Fatalf("reply %d: %d %v; want all equal to %v", i, r.status, r.json, replies[0].json)
		}
	}
	if s := e.stats(); s.RefreshTokens != 2 || s.AccessTokens != 2 {
		t.Errorf("stats %+v: want exactly one rotation", s)
	}
}
