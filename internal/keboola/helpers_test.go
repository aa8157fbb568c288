package keboola

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "123-4567-SECRETTOKENVALUE"

// seen is one request as the test server received it.
type seen struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   string
}

// stub is an httptest server that records requests and answers through a
// per-test handler. It also serves the stack index, advertising every service
// under a path prefix of its own URL (like the fake stack).
type stub struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []seen
	handle func(w http.ResponseWriter, r *http.Request, body string)
	// index, when non-empty, replaces the default index body.
	index string
}

func newStub(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body string)) *stub {
	t.Helper()
	s := &stub{handle: handle}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)})
		s.mu.Unlock()
		if r.Method == http.MethodGet && r.URL.Path == "/v2/storage" {
			body := s.index
			if body == "" {
				body = `{"services":[{"id":"queue","url":"` + s.URL + `/queue"},{"id":"query","url":"` + s.URL +
					`/query"},{"id":"ai","url":"` + s.URL + `/ai"}]}`
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
			return
		}
		s.handle(w, r, string(b))
	}))
	t.Cleanup(s.Close)
	return s
}

// calls returns the recorded requests other than the stack index.
func (s *stub) calls() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []seen
	for _, r := range s.reqs {
		if r.Path != "/v2/storage" {
			out = append(out, r)
		}
	}
	return out
}

// fastRetry keeps retry waits short so tests spend no real time sleeping.
var fastRetry = RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}

func newTestClient(t *testing.T, s *stub, branch string) *Client {
	t.Helper()
	c, err := New(Credentials{StackURL: s.URL, StorageToken: Secret(testToken), BranchID: branch}, Options{Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// assertNoTokenLeak fails when the token appears anywhere but its header.
func assertNoTokenLeak(t *testing.T, s *stub, err error) {
	t.Helper()
	for _, r := range s.calls() {
		if strings.Contains(r.Path+"?"+r.Query, testToken) {
			t.Errorf("token in URL of %s %s", r.Method, r.Path)
		}
	}
	if err != nil && strings.Contains(err.Error(), testToken) {
		t.Errorf("token in error: %v", err)
	}
}
