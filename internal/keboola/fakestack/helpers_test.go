package fakestack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a manual clock for lifecycle tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testStep is the job step used with testClock.
const testStep = time.Second

// newClocked starts a stack whose asynchronous work moves only with the clock.
func newClocked(t testing.TB, opts Options) (*Stack, *testClock) {
	t.Helper()
	clk := newTestClock()
	opts.Clock = clk.Now
	opts.JobStepDelay = testStep
	return newTestServer(t, opts), clk
}

var httpClient = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// resp is a finished HTTP exchange.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, r.body)
	}
	return v
}

func (r resp) object(t testing.TB) map[string]any {
	t.Helper()
	m, ok := r.json(t).(map[string]any)
	if !ok {
		t.Fatalf("response is not a JSON object: %s", r.body)
	}
	return m
}

func (r resp) array(t testing.TB) []any {
	t.Helper()
	a, ok := r.json(t).([]any)
	if !ok {
		t.Fatalf("response is not a JSON array: %s", r.body)
	}
	return a
}

// call sends a request; body is JSON-encoded unless it is url.Values (form) or nil.
func call(t testing.TB, method, u string, headers map[string]string, body any) resp {
	t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		rd, ct = strings.NewReader(b), "text/plain"
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, ct = bytes.NewReader(js), "application/json"
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

func tokenHeader(tok string) map[string]string { return map[string]string{"X-StorageApi-Token": tok} }

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// api calls the stack with its master token.
func api(t testing.TB, s *Stack, method, path string, body any) resp {
	t.Helper()
	return call(t, method, s.URL()+path, tokenHeader(s.MasterToken()), body)
}

func wantStatus(t testing.TB, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
}

// wantStorageError checks a Storage-style error body.
func wantStorageError(t testing.TB, r resp, status int, code string) {
	t.Helper()
	wantStatus(t, r, status)
	m := r.object(t)
	if m["code"] != code || m["status"] != "error" || m["error"] == "" || m["exceptionId"] == nil {
		t.Fatalf("error body %s, want code %q with status, error and exceptionId", r.body, code)
	}
}

// path walks a decoded JSON value by object keys and array indexes.
func path(t testing.TB, v any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch key := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not an object: %v", key, v)
			}
			v = m[key]
		case int:
			a, ok := v.([]any)
			if !ok || key >= len(a) {
				t.Fatalf("at [%d]: not an array long enough: %v", key, v)
			}
			v = a[key]
		}
	}
	return v
}

// newTestServer starts a stack for a test of this package, which cannot
// import fakestacktest (that imports this package).
func newTestServer(t testing.TB, opts Options) *Stack {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
