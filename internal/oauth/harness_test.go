package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
	"github.com/keboola-mcp/keboola-mcp/internal/login"
	"github.com/keboola-mcp/keboola-mcp/internal/store"
)

const testRedirect = "https://client.example/callback"

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is an authorization server on a loopback listener in front of a fake
// Keboola stack, with a /mcp endpoint that reports the Access it was given.
type env struct {
	t     testing.TB
	srv   *Server
	st    *store.SQLite
	stack *fakestack.Stack
	ts    *httptest.Server
	clock *clock
	// served counts requests that reached the protected handler.
	mu     sync.Mutex
	served []access.Access
}

func newEnv(t testing.TB, tweak ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Now()}}
	e.stack = fakestacktest.NewServer(t, fakestack.Options{NoDemo: true, Clock: e.clock.Now, OAuthClients: map[string]string{"kmcp-up": "up-secret"}})
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "oauth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	stacks, err := login.NewAllowlist([]string{e.stack.URL()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Issuer: issuer, Store: st, Secret: []byte(strings.Repeat("s", 32)), Stacks: stacks,
		InsecureCookies: true, Now: e.clock.Now, RefreshGrace: 5 * time.Second,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	e.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.srv.Mount(mux)
	mux.Handle("/mcp", e.srv.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, _ := access.From(r.Context())
		e.mu.Lock()
		e.served = append(e.served, a)
		e.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})))
	e.ts = httptest.NewUnstartedServer(mux)
	e.ts.Listener.Close()
	e.ts.Listener = ln
	e.ts.Start()
	t.Cleanup(e.ts.Close)
	return e
}

// browser is an HTTP client with cookies that does not follow redirects,
// so tests see where each step sends it.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) stats() store.Stats {
	e.t.Helper()
	s, err := e.st.Stats(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// nothingIssued asserts that no grant or token exists. (A spent code stays
// stored until it expires, to detect replays; without its grant it is inert.)
func (e *env) nothingIssued() {
	e.t.Helper()
	if s := e.stats(); s.Grants+s.AccessTokens+s.RefreshTokens != 0 {
		e.t.Errorf("something was issued: %+v", s)
	}
}

func (e *env) noTokens() {
	e.t.Helper()
	if s := e.stats(); s.AccessTokens+s.RefreshTokens != 0 {
		e.t.Errorf("tokens were issued: %+v", s)
	}
}

type reply struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

func do(t testing.TB, c *http.Client, req *http.Request) reply {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
	json.Unmarshal(b, &r.json)
	return r
}

func (e *env) post(path string, form url.Values) reply {
	req, _ := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(e.t, http.DefaultClient, req)
}

func (e *env) register(meta map[string]any) reply {
	b, _ := json.Marshal(meta)
	req, _ := http.NewRequest("POST", e.ts.URL+"/register", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	return do(e.t, http.DefaultClient, req)
}

// publicClient registers a public client redirecting to testRedirect.
func (e *env) publicClient() string {
	e.t.Helper()
	r := e.register(map[string]any{"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "none", "client_name": "Test <b>Client</b>"})
	if r.status != http.StatusCreated {
		e.t.Fatalf("register: %d %s", r.status, r.body)
	}
	return r.json["client_id"].(string)
}

func pkce(verifier string) string {
	s := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

const verifier = "verifier-0123456789-0123456789-0123456789-abcdef"

func authQuery(clientID string) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {testRedirect},
		"code_challenge": {pkce(verifier)}, "code_challenge_method": {"S256"}, "state": {"st-1"},
		"scope": {"keboola:read keboola:write"},
	}
}

func (e *env) get(c *http.Client, path string, q url.Values) reply {
	req, _ := http.NewRequest("GET", e.ts.URL+path+"?"+q.Encode(), nil)
	return do(e.t, c, req)
}

var fieldRE = regexp.MustCompile(`name="(request|csrf_token)" value="([^"]*)"`)

// formFields extracts the hidden fields of the consent page.
func formFields(t testing.TB, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range fieldRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("request") == "" || v.Get("csrf_token") == "" {
		t.Fatalf("consent page has no form fields:\n%s", page)
	}
	return v
}

func (e *env) submit(c *http.Client, fields url.Values) reply {
	req, _ := http.NewRequest("POST", e.ts.URL+"/authorize", strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(e.t, c, req)
}

// consent opens the consent page in browser c and returns its form with a
// valid token, stack and both scopes filled in.
func (e *env) consent(c *http.Client, q url.Values) url.Values {
	e.t.Helper()
	r := e.get(c, "/authorize", q)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /authorize: %d %s", r.status, r.body)
	}
	f := formFields(e.t, r.body)
	f.Set("stack_url", e.stack.URL())
	f.Set("storage_token", e.stack.MasterToken())
	f["scope"] = []string{"keboola:read", "keboola:write"}
	f.Set("action", "approve")
	return f
}

// redirected returns the query of the Location a reply sends the browser to,
// failing unless it goes to want.
func redirected(t testing.TB, r reply, want string) url.Values {
	t.Helper()
	if r.status != http.StatusFound && r.status != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect to %s; body: %s", r.status, want, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != want {
		t.Fatalf("redirected to %s, want %s", got, want)
	}
	return u.Query()
}

// code runs the browser part of the flow and returns an authorization code.
func (e *env) code(clientID string) string {
	e.t.Helper()
	b := browser()
	q := redirected(e.t, e.submit(b, e.consent(b, authQuery(clientID))), testRedirect)
	if q.Get("code") == "" {
		e.t.Fatalf("no code in redirect: %v", q)
	}
	return q.Get("code")
}

func (e *env) exchange(clientID, code string) reply {
	return e.post("/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {code},
		"redirect_uri": {testRedirect}, "code_verifier": {verifier}})
}

// tokens runs the whole flow and returns access and refresh tokens.
func (e *env) tokens(clientID string) (string, string) {
	e.t.Helper()
	r := e.exchange(clientID, e.code(clientID))
	if r.status != http.StatusOK {
		e.t.Fatalf("token: %d %s", r.status, r.body)
	}
	return r.json["access_token"].(string), r.json["refresh_token"].(string)
}

func (e *env) refresh(clientID, rt string) reply {
	return e.post("/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {rt}})
}

// callMCP calls the protected endpoint with a bearer token.
func (e *env) callMCP(token string) reply {
	req, _ := http.NewRequest("POST", e.ts.URL+"/mcp", strings.NewReader("{}"))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(e.t, http.DefaultClient, req)
}

func (e *env) servedCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.served)
}
