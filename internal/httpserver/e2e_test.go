package httpserver

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
	"github.com/keboola-mcp/keboola-mcp/internal/login"
	"github.com/keboola-mcp/keboola-mcp/internal/mcpserver"
	"github.com/keboola-mcp/keboola-mcp/internal/oauth"
	"github.com/keboola-mcp/keboola-mcp/internal/store"
)

// stackT is what the tests need from the running system.
type system struct {
	logs  *syncBuffer
	url   string
	stack *fakestack.Stack
	oauth *oauth.Server
	srv   *Server
}

// startSystem runs `serve` in-process: the fake stack, the SQLite store,
// the authorization server, the MCP handlers and this package's routing, on
// a loopback listener.
func startSystem(tb testing.TB) *system {
	tb.Helper()
	stack := fakestacktest.NewServer(tb, fakestack.Options{})
	st, err := store.OpenSQLite(context.Background(), filepath.Join(tb.TempDir(), "serve.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	public := "http://" + ln.Addr().String()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	stacks, _ := login.NewAllowlist([]string{stack.URL()})
	o, err := oauth.New(oauth.Config{Issuer: public, Store: st, Secret: []byte(strings.Repeat("k", 32)), Stacks: stacks, InsecureCookies: true, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	m, err := mcpserver.New(mcpserver.Options{ResourceMetadataURL: o.ResourceMetadataURL(), Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(Config{PublicURL: public, Loopback: true, MCP: m.StreamableHandler(), SSE: m.SSEHandler(), Auth: access.AuthenticatorFunc(o.RequireBearer), OAuth: o, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, 2*time.Second) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return &system{logs: logs, url: public, stack: stack, oauth: o, srv: s}
}

var hiddenRE = regexp.MustCompile(`name="(request|csrf_token)" value="([^"]*)"`)

// loginAs returns an AuthorizationCodeFetcher that acts as the user's
// browser: it opens the authorization URL, fills in the login + consent
// form with the fake stack's token and the given scopes, and reads the code
// from the redirect.
func (sys *system) loginAs(tb testing.TB, scopes ...string) auth.AuthorizationCodeFetcher {
	return func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		jar, _ := cookiejar.New(nil)
		b := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := b.Get(args.URL)
		if err != nil {
			return nil, err
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			tb.Fatalf("consent page: %d %s", resp.StatusCode, page)
		}
		form := url.Values{"stack_url": {sys.stack.URL()}, "storage_token": {sys.stack.MasterToken()}, "scope": scopes, "action": {"approve"}}
		for _, m := range hiddenRE.FindAllStringSubmatch(string(page), -1) {
			form.Set(m[1], html.UnescapeString(m[2]))
		}
		resp, err = b.PostForm(sys.url+"/authorize", form)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Query().Get("code") == "" {
			tb.Fatalf("consent answer %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		q := loc.Query()
		return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
	}
}

func (sys *system) connect(tb testing.TB, scopes ...string) (*mcp.ClientSession, *auth.AuthorizationCodeHandler) {
	tb.Helper()
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{"http://127.0.0.1:33418/callback"}, TokenEndpointAuthMethod: "none",
			GrantTypes: []string{"authorization_code", "refresh_token"}, ClientName: "go-sdk e2e",
		}},
		AuthorizationCodeFetcher: sys.loginAs(tb, scopes...),
	})
	if err != nil {
		tb.Fatal(err)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: sys.url + "/mcp", OAuthHandler: h}, nil)
	if err != nil {
		tb.Fatalf("connect with OAuth: %v", err)
	}
	tb.Cleanup(func() { cs.Close() })
	return cs, h
}

func toolNames(tb testing.TB, cs *mcp.ClientSession) []string {
	tb.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, t := range res.Tools {
		names = append(names, t.Name)
	}
	return names
}

func TestE2E_GoSDKClientAuthorizesAndCallsTools(t *testing.T) {
	sys := startSystem(t)
	cs, h := sys.connect(t, access.ScopeRead, access.ScopeWrite)
	names := toolNames(t, cs)
	if !slices.Contains(names, "get_buckets") || !slices.Contains(names, "update_descriptions") {
		t.Fatalf("a read-write grant lists %v", names)
	}
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_buckets", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("get_buckets: %v %+v", err, res)
	}
	text := res.Content[0].(*mcp.TextContent).Text
	if !strings.Contains(text, "in.c-") {
		t.Errorf("get_buckets answered without the demo buckets: %s", text)
	}
	// A token wrongly sent in the query string must not reach the logs.
	ts, _ := h.TokenSource(context.Background())
	tok, _ := ts.Token()
	req, _ := http.NewRequest("POST", sys.url+"/mcp?access_token="+tok.AccessToken, strings.NewReader("{}"))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	logs := sys.logs.String()
	if !strings.Contains(logs, "/token") {
		t.Fatalf("requests were not logged:\n%s", logs)
	}
	for _, secret := range []string{sys.stack.MasterToken(), "kmcp_at_", "kmcp_rt_", "kmcp_ac_", "code_challenge", "code="} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q:\n%s", secret, logs)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mcpPost sends one JSON-RPC message to /mcp as a stateless client would.
func mcpPost(t testing.TB, c *http.Client, sys *system, token, origin, body string) *http.Response {
	req, _ := http.NewRequest("POST", sys.url+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

const writeCall = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"update_descriptions","arguments":{"updates":[{"item_id":"in.c-crm","description":"x"}]}}}`

func TestE2E_ReadOnlyGrantListsReadToolsAndGets403ForWrites(t *testing.T) {
	sys := startSystem(t)
	cs, h := sys.connect(t, access.ScopeRead)
	names := toolNames(t, cs)
	if slices.Contains(names, "update_descriptions") || !slices.Contains(names, "get_buckets") {
		t.Fatalf("a read-only grant lists %v", names)
	}
	ts, _ := h.TokenSource(context.Background())
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	sys.stack.ResetRequests()
	resp := mcpPost(t, http.DefaultClient, sys, tok.AccessToken, "", writeCall)
	if n := len(sys.stack.Requests()); n != 0 {
		t.Errorf("a refused write call still made %d Keboola requests", n)
	}
	want := `Bearer error="insufficient_scope", scope="keboola:read keboola:write", resource_metadata="` + sys.oauth.ResourceMetadataURL() + `"`
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("WWW-Authenticate") != want {
		t.Errorf("write tool with a read-only grant: %d %q, want 403 %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
}

func TestE2E_ForeignOriginRefused(t *testing.T) {
	sys := startSystem(t)
	_, h := sys.connect(t, access.ScopeRead)
	ts, _ := h.TokenSource(context.Background())
	tok, _ := ts.Token()
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	cases := map[string]int{
		"https://evil.example":    http.StatusForbidden,
		"null":                    http.StatusForbidden,
		sys.url:                   http.StatusOK,
		"http://localhost:5173":   http.StatusOK, // loopback page while serving on loopback
		"":                        http.StatusOK,
		"http://127.0.0.1.nip.io": http.StatusForbidden,
	}
	for origin, want := range cases {
		if got := mcpPost(t, http.DefaultClient, sys, tok.AccessToken, origin, list).StatusCode; got != want {
			t.Errorf("Origin %q: %d, want %d", origin, got, want)
		}
	}
}

func TestServer_HealthAndMetrics(t *testing.T) {
	sys := startSystem(t)
	resp, err := http.Get(sys.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	// The public listener never serves the metrics (a reverse proxy on
	// loopback would make every request look local); they have their own
	// handler for --metrics-addr.
	resp, err = http.Get(sys.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the public listener: %d, want 404", resp.StatusCode)
	}
	rec := httptest.NewRecorder()
	sys.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if b := rec.Body.String(); !strings.Contains(b, `keboola_mcp_http_requests_total{route="/healthz",status="200"} 1`) {
		t.Errorf("metrics:\n%s", b)
	}
}

func TestServer_SSEAndBadProtocolVersion(t *testing.T) {
	sys := startSystem(t)
	resp, err := http.Get(sys.url + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := `resource_metadata="` + sys.url + `/.well-known/oauth-protected-resource/sse"`
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), want) {
		t.Errorf("GET /sse without a token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	_, h := sys.connect(t, access.ScopeRead)
	ts, _ := h.TokenSource(context.Background())
	tok, _ := ts.Token()
	req, _ := http.NewRequest("POST", sys.url+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "1999-01-01")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unsupported MCP-Protocol-Version: %d, want 400", resp.StatusCode)
	}
}
