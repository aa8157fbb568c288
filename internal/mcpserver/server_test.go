package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

// The test HTTP server authenticates with two made-up headers, standing in
// for the OAuth layer: X-Test-Token carries the Keboola token, and
// X-Test-Read-Only marks a keboola:read grant. Without X-Test-Token no
// Access is attached.
const (
	hdrToken    = "X-Test-Token"
	hdrReadOnly = "X-Test-Read-Only"
)

type env struct {
	stack *fakestack.Stack
	srv   *Server
	http  *httptest.Server
}

// shared is one demo stack for every test that does not need special
// stack options: seeding one takes seconds under the race detector.
var shared = fakestacktest.Shared{Options: fakestack.Options{JobStepDelay: time.Millisecond}}

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	stack := shared.Get(t)
	if opts.Client.Timeout == 0 {
		opts.Client = keboola.Options{Timeout: 10 * time.Second, Retry: keboola.RetryPolicy{MaxAttempts: 1}}
	}
	opts.ResourceMetadataURL = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", srv.StreamableHandler())
	mux.Handle("/sse", srv.SSEHandler())
	mux.Handle("/messages", srv.SSEHandler())
	e := &env{stack: stack, srv: srv}
	e.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.Header.Get(hdrToken); tok != "" {
			r = r.WithContext(access.With(r.Context(), access.Access{
				Credentials: keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(tok)},
				ReadOnly:    r.Header.Get(hdrReadOnly) != "",
			}))
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(e.http.Close)
	return e
}

// headerTransport adds fixed headers to every request.
type headerTransport struct {
	h    http.Header
	next http.RoundTripper
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t.h {
		r.Header[k] = v
	}
	return t.next.RoundTrip(r)
}

func (e *env) httpClient(token string, readOnly bool) *http.Client {
	h := http.Header{}
	if token != "" {
		h.Set(hdrToken, token)
	}
	if readOnly {
		h.Set(hdrReadOnly, "1")
	}
	return &http.Client{Transport: headerTransport{h: h, next: http.DefaultTransport}, Timeout: 30 * time.Second}
}

// connect opens a go-sdk client session over Streamable HTTP.
func (e *env) connect(t testing.TB, token string, readOnly bool) *mcp.ClientSession {
	t.Helper()
	return connectWith(t, &mcp.StreamableClientTransport{Endpoint: e.http.URL + "/mcp", HTTPClient: e.httpClient(token, readOnly), MaxRetries: -1})
}

func connectWith(t testing.TB, tr mcp.Transport) *mcp.ClientSession {
	t.Helper()
	// The SSE client keeps its stream under the Connect context, so it
	// must live as long as the session.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "test"}, nil)
	cs, err := c.Connect(ctx, tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func toolNames(t testing.TB, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	return names
}

func callText(t testing.TB, cs *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

func TestStreamableHTTP_ListsAndCallsToolsForTheRequestsProject(t *testing.T) {
	e := newEnv(t, Options{})
	cs := e.connect(t, e.stack.MasterToken(), false)
	// The master token is an admin's in a project with conditional flows:
	// modify_flow and create_conditional_flow, not their twins (see Gate).
	want := slices.DeleteFunc(e.srv.ToolNames(false), func(n string) bool { return n == "create_flow" || n == "update_flow" })
	if got := toolNames(t, cs); !slices.Equal(got, want) || len(got) < 13 {
		t.Errorf("tools = %v, want %v", got, want)
	}
	if init := cs.InitializeResult(); !strings.Contains(init.Instructions, "get_project_info") {
		t.Errorf("instructions do not guide the model: %q", init.Instructions)
	}
	text, isErr := callText(t, cs, "get_project_info", nil)
	if isErr || !strings.Contains(text, "Demo Retail Analytics") {
		t.Fatalf("get_project_info: isError=%v\n%s", isErr, text)
	}
	text, isErr = callText(t, cs, "query_data", map[string]any{"sql_query": `SELECT COUNT(*) AS n FROM "KEBOOLA_1234"."in.c-crm"."customers"`})
	if isErr || !strings.Contains(text, "Returned 1 of 1 rows.") {
		t.Fatalf("query_data: isError=%v\n%s", isErr, text)
	}
	text, isErr = callText(t, cs, "get_buckets", map[string]any{"limit": "ten"})
	if !isErr || !strings.Contains(text, "limit") {
		t.Errorf("malformed arguments: isError=%v text=%q, want a schema error naming limit", isErr, text)
	}
}

func TestStreamableHTTP_JSONResponseMode(t *testing.T) {
	e := newEnv(t, Options{JSONResponse: true})
	resp := e.post(t, e.stack.MasterToken(), false, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, content type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if !bytes.Contains(body, []byte(`"name":"get_project_info"`)) {
		t.Errorf("tools/list answer lacks the tools: %s", body)
	}
}

// An unknown method is a JSON-RPC -32601 error over HTTP, as over stdio,
// not a text/plain 400 that clients report as a broken transport (issue 13).
// A malformed call keeps its 400.
func TestStreamableHTTP_UnknownMethodIsAJSONRPCError(t *testing.T) {
	e := newEnv(t, Options{})
	resp := e.post(t, e.stack.MasterToken(), false, `{"jsonrpc":"2.0","id":"x-7","method":"foo/bar","params":{}}`)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var msg struct {
		ID    string `json:"id"`
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &msg); err != nil || msg.ID != "x-7" || msg.Error.Code != -32601 || !strings.Contains(msg.Error.Message, "foo/bar") {
		t.Errorf("answer %s (%v), want error -32601 naming foo/bar for id x-7", body, err)
	}
	resp = e.post(t, e.stack.MasterToken(), false, `{"jsonrpc":"2.0","method":"tools/list"}`)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a call without an id: status %d, want 400", resp.StatusCode)
	}
	resp = e.post(t, e.stack.MasterToken(), false, `{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{}}`)
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("get_project_info")) {
		t.Errorf("tools/list after: status %d: %.200s", resp.StatusCode, body)
	}
}

func (e *env) post(t testing.TB, token string, readOnly bool, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.http.URL+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	resp, err := e.httpClient(token, readOnly).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestStreamableHTTP_RefusesRequestsWithoutAccess(t *testing.T) {
	e := newEnv(t, Options{})
	resp := e.post(t, "", false, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", resp.StatusCode)
	}
}

func TestStreamableHTTP_ReadOnlyAccess(t *testing.T) {
	e := newEnv(t, Options{})
	jobsBefore := countRequests(e.stack, "POST", "/jobs")
	cs := e.connect(t, e.stack.MasterToken(), true)
	names := toolNames(t, cs)
	for _, n := range names {
		if tool, _ := tools.Lookup(n); !tool.ReadOnly() {
			t.Errorf("read-only access lists the write tool %s", n)
		}
	}
	if !slices.Contains(names, "query_data") {
		t.Errorf("read-only access lacks query_data: %v", names)
	}

	cases := []struct {
		name, body string
		status     int
	}{
		{"write tool", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"run_job","arguments":{"component_id":"keboola.ex-http","configuration_id":"7410002"}}}`, http.StatusForbidden},
		{"write tool in a batch", `[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"update_descriptions","arguments":{}}}]`, http.StatusForbidden},
		{"read tool", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_buckets","arguments":{}}}`, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.post(t, e.stack.MasterToken(), true, tc.body)
			if resp.StatusCode != tc.status {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status != http.StatusForbidden {
				return
			}
			want := `Bearer error="insufficient_scope", scope="keboola:read keboola:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`
			if got := resp.Header.Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
		})
	}
	if n := countRequests(e.stack, "POST", "/jobs"); n != jobsBefore {
		t.Errorf("a refused write reached Keboola %d times", n)
	}
}

func countRequests(s *fakestack.Stack, method, part string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && strings.Contains(r.Path, part) {
			n++
		}
	}
	return n
}

func TestNew_Filters(t *testing.T) {
	cases := []struct {
		name      string
		opts      Options
		want      []string // exact tool set for a full Access; nil to skip
		mustHave  []string
		mustLack  []string
		wantError string
	}{
		{name: "only", opts: Options{Tools: []string{"get_buckets", "run_job"}}, want: []string{"get_buckets", "run_job"}},
		{name: "exclude", opts: Options{ExcludeTools: []string{"run_job"}}, mustHave: []string{"get_buckets"}, mustLack: []string{"run_job"}},
		{name: "read-only server", opts: Options{ReadOnly: true}, mustHave: []string{"query_data"}, mustLack: []string{"run_job", "update_descriptions", "update_project_description"}},
		{name: "unknown name", opts: Options{ExcludeTools: []string{"get_bukets"}}, wantError: "get_bukets"},
		{name: "write tool asked of a read-only server", opts: Options{ReadOnly: true, Tools: []string{"get_jobs", "run_job"}}, wantError: "run_job"},
		{name: "read tools of a read-only server", opts: Options{ReadOnly: true, Tools: []string{"get_jobs"}}, want: []string{"get_jobs"}},
		{name: "nothing left", opts: Options{Tools: []string{"run_job"}, ExcludeTools: []string{"run_job"}}, wantError: "no tool"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.opts)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := s.ToolNames(false)
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Errorf("tools = %v, want %v", got, tc.want)
			}
			for _, n := range tc.mustHave {
				if !slices.Contains(got, n) {
					t.Errorf("%s missing from %v", n, got)
				}
			}
			for _, n := range tc.mustLack {
				if slices.Contains(got, n) {
					t.Errorf("%s present in %v", n, got)
				}
			}
		})
	}
}

func TestServeStdio_InMemoryTransportServesTheProject(t *testing.T) {
	stack := shared.Get(t)
	serverT, clientT := mcp.NewInMemoryTransports()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveTransport(ctx, Options{ExcludeTools: []string{"run_job"}}, keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}, serverT)
	}()
	cs := connectWith(t, clientT)
	if names := toolNames(t, cs); slices.Contains(names, "run_job") || !slices.Contains(names, "get_tables") {
		t.Errorf("tools = %v", names)
	}
	text, isErr := callText(t, cs, "get_tables", map[string]any{"bucket_ids": []string{"in.c-crm"}})
	if isErr || !strings.Contains(text, "in.c-crm.customers") {
		t.Errorf("get_tables: isError=%v\n%s", isErr, text)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve ended with %v after cancellation, want nil", err)
	}
}

func TestStreamableHTTP_ClientDisconnectCancelsTheQuery(t *testing.T) {
	stack := fakestacktest.NewServer(t, fakestack.Options{JobStepDelay: time.Hour}) // queries never finish
	srv, err := New(Options{Client: keboola.Options{Retry: keboola.RetryPolicy{MaxAttempts: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.StreamableHandler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(access.With(r.Context(), access.Access{Credentials: keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}})))
	}))
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query_data","arguments":{"sql_query":"SELECT 1"}}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	waitUntil(t, func() bool { return countRequests(stack, "POST", "/queries") > 0 })
	cancel() // the client goes away
	<-done
	waitUntil(t, func() bool { return countRequests(stack, "POST", "/cancel") > 0 })
}

// waitUntil polls cond with a generous bound; it waits for asynchronous
// effects without asserting on how long they take.
func waitUntil(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the expected effect did not happen")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStreamableHTTP_CallsShareTheUsersClient(t *testing.T) {
	e := newEnv(t, Options{})
	cs := e.connect(t, e.stack.MasterToken(), false)
	before := countRequests(e.stack, "GET", "/dev-branches")
	for range 3 {
		if text, isErr := callText(t, cs, "query_data", map[string]any{"sql_query": "SELECT 1 AS one"}); isErr {
			t.Fatal(text)
		}
	}
	// Each HTTP request is a new session; the default branch id the Query
	// Service needs is still looked up once, not per call.
	if n := countRequests(e.stack, "GET", "/dev-branches") - before; n > 1 {
		t.Errorf("the default branch was looked up %d times in 3 calls", n)
	}
}

func TestStreamableHTTP_QueryProgressReachesTheClient(t *testing.T) {
	e := newEnv(t, Options{})
	var mu sync.Mutex
	var notes []*mcp.ProgressNotificationParams
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "test"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			notes = append(notes, req.Params)
			mu.Unlock()
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: e.http.URL + "/mcp", HTTPClient: e.httpClient(e.stack.MasterToken(), false), MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	params := &mcp.CallToolParams{Name: "query_data", Arguments: map[string]any{"sql_query": "SELECT 1 AS one"}}
	params.SetProgressToken("p-1")
	res, err := cs.CallTool(ctx, params)
	if err != nil || res.IsError {
		t.Fatalf("query_data: err=%v result=%+v", err, res)
	}
	waitUntil(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(notes) > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if notes[0].ProgressToken != "p-1" || !strings.Contains(notes[0].Message, "query") {
		t.Errorf("first notification = %+v", notes[0])
	}
}

// TestNew_BuildsEachToolSetOnFirstUse: New infers no schema; the first
// request of a read-only grant builds only the read-only set. In the
// Worker's wasm this halves the first tool call of an isolate.
func TestNew_BuildsEachToolSetOnFirstUse(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.full.built.srv != nil || s.readOnly.built.srv != nil {
		t.Fatal("New built a tool set")
	}
	if len(s.ToolNames(true)) == 0 {
		t.Fatal("no read-only tools")
	}
	if s.readOnly.built.srv == nil || s.full.built.srv != nil {
		t.Errorf("after a read-only use: read-only built %v, full built %v", s.readOnly.built.srv != nil, s.full.built.srv != nil)
	}
	if s.MCPServer(false) == s.MCPServer(true) {
		t.Error("the full and read-only sets share a server")
	}
}
