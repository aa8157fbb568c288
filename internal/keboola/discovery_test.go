package keboola

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAcceptServiceURL_GuardsAgainstForeignHosts(t *testing.T) {
	httpsStack := &url.URL{Scheme: "https", Host: "connection.eu-central-1.keboola.com"}
	httpStack := &url.URL{Scheme: "http", Host: "127.0.0.1:8080"}
	cases := []struct {
		name  string
		stack *url.URL
		in    string
		want  string // "" = refused
	}{
		{"sibling service host", httpsStack, "https://queue.eu-central-1.keboola.com", "https://queue.eu-central-1.keboola.com"},
		{"trailing slash dropped", httpsStack, "https://ai.eu-central-1.keboola.com/", "https://ai.eu-central-1.keboola.com"},
		{"stack host with a path", httpsStack, "https://connection.eu-central-1.keboola.com/queue", "https://connection.eu-central-1.keboola.com/queue"},
		{"upper-case host normalised", httpsStack, "https://QUERY.eu-central-1.keboola.com", "https://query.eu-central-1.keboola.com"},
		{"foreign domain", httpsStack, "https://queue.evil.com", ""},
		{"suffix trick", httpsStack, "https://queue.eu-central-1.keboola.com.evil.com", ""},
		{"two labels deep", httpsStack, "https://a.b.eu-central-1.keboola.com", ""},
		{"parent domain", httpsStack, "https://keboola.com", ""},
		{"http on an https stack", httpsStack, "http://queue.eu-central-1.keboola.com", ""},
		{"other port", httpsStack, "https://queue.eu-central-1.keboola.com:8443", ""},
		{"userinfo", httpsStack, "https://x@queue.eu-central-1.keboola.com", ""},
		{"query string", httpsStack, "https://queue.eu-central-1.keboola.com/?a=b", ""},
		{"javascript scheme", httpsStack, "javascript:alert(1)", ""},
		{"http fake on its own host", httpStack, "http://127.0.0.1:8080/queue", "http://127.0.0.1:8080/queue"},
		{"http fake pointing elsewhere", httpStack, "http://127.0.0.1:9090/queue", ""},
		{"http fake pointing to metadata IP", httpStack, "http://169.254.169.254/latest", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := acceptServiceURL(tc.stack, tc.in)
			if tc.want == "" {
				if ok {
					t.Fatalf("accepted %q as %q", tc.in, got)
				}
				return
			}
			if !ok || got != tc.want {
				t.Fatalf("acceptServiceURL(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
			}
		})
	}
}

func TestServiceURL_UsesIndexOncePerStack(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) { reply(w, 200, `{}`) })
	s.index = `{"services":[{"id":"queue","url":"` + s.URL + `/q-path"},{"id":"ai","url":"https://ai.evil.com"}]}`
	ctx := testCtx(t)
	for i := range 3 {
		c := newTestClient(t, s, "")
		got, err := c.ServiceURL(ctx, ServiceQueue)
		if err != nil || got != s.URL+"/q-path" {
			t.Fatalf("client %d: queue = %q, %v", i, got, err)
		}
	}
	var indexQueries []string
	s.mu.Lock()
	for _, r := range s.reqs {
		if r.Path == "/v2/storage" {
			indexQueries = append(indexQueries, r.Query)
		}
	}
	s.mu.Unlock()
	if len(indexQueries) != 1 || indexQueries[0] != "exclude=components" {
		t.Errorf("index requests = %q, want one with exclude=components", indexQueries)
	}
	// The foreign AI URL was refused; a 127.0.0.1 stack has no connection.
	// prefix to derive a host from, so the service is unavailable.
	if got, err := newTestClient(t, s, "").ServiceURL(ctx, ServiceAI); err == nil {
		t.Fatalf("foreign advertised URL used: %q", got)
	}
}

func TestRuleServiceURL_DerivesFromConnectionHost(t *testing.T) {
	cases := []struct{ stack, want string }{
		{"https://connection.keboola.com", "https://query.keboola.com"},
		{"https://connection.north-europe.azure.keboola.com", "https://query.north-europe.azure.keboola.com"},
		{"https://keboola.example.com", ""},
	}
	for _, tc := range cases {
		u, err := ParseStackURL(tc.stack)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := ruleServiceURL(u, ServiceQuery)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("rule(%s) = %q, %v; want %q", tc.stack, got, ok, tc.want)
		}
	}
}

func TestServiceURL_FallsBackToRuleWhenIndexFails(t *testing.T) {
	// A transport answering the index with 500 for a connection.* host:
	// the rule must give query.<domain> without another index request.
	var indexCalls int
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/v2/storage" {
			indexCalls++
		}
		return &http.Response{StatusCode: 500, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})
	const stack = "https://connection.fallback-test.example"
	forget := func() {
		indexCache.Lock()
		delete(indexCache.m, stack)
		indexCache.Unlock()
	}
	forget()
	t.Cleanup(forget)
	c, err := New(Credentials{StackURL: stack, StorageToken: testToken},
		Options{HTTPClient: &http.Client{Transport: rt}, Retry: RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := c.ServiceURL(testCtx(t), ServiceQuery)
		if err != nil || got != "https://query.fallback-test.example" {
			t.Fatalf("got %q, %v", got, err)
		}
	}
	if indexCalls != 1 {
		t.Errorf("index requested %d times; a failure should be remembered briefly", indexCalls)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestServiceURL_RefusalIsLoggedWithoutCredentials(t *testing.T) {
	var logged strings.Builder
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) { reply(w, 200, `{}`) })
	s.index = `{"services":[{"id":"queue","url":"https://user:pa55word@queue.evil.com/x?sig=abc"}]}`
	c, err := New(Credentials{StackURL: s.URL, StorageToken: testToken},
		Options{Logger: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ServiceURL(testCtx(t), ServiceQueue); err == nil {
		t.Fatal("foreign queue URL used")
	}
	out := logged.String()
	if !strings.Contains(out, "queue.evil.com") || strings.Contains(out, "pa55word") || strings.Contains(out, "sig=") || strings.Contains(out, testToken) {
		t.Errorf("log = %s", out)
	}
}
