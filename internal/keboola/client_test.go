package keboola

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNew_ValidatesCredentials(t *testing.T) {
	cases := []struct {
		name  string
		creds Credentials
		want  string
	}{
		{"missing token", Credentials{StackURL: "https://connection.keboola.com"}, "token is required"},
		{"empty stack", Credentials{StorageToken: "t"}, "stack URL is empty"},
		{"ftp scheme", Credentials{StackURL: "ftp://connection.keboola.com", StorageToken: "t"}, "https://"},
		{"path in stack URL", Credentials{StackURL: "https://connection.keboola.com/v2/storage", StorageToken: "t"}, "bare origin"},
		{"userinfo in stack URL", Credentials{StackURL: "https://u:p@connection.keboola.com", StorageToken: "t"}, "bare origin"},
		{"named branch", Credentials{StackURL: "https://connection.keboola.com", StorageToken: "t", BranchID: "main"}, "numeric"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.creds, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	c, err := New(Credentials{StackURL: "https://Connection.Keboola.com/", StorageToken: "t"}, Options{})
	if err != nil || c.StackURL() != "https://connection.keboola.com" {
		t.Fatalf("normalised stack = %v, %v", c, err)
	}
	// The names the Python server reads as the main branch.
	for _, main := range []string{"default", "Production", "none", "null", " "} {
		c, err := New(Credentials{StackURL: "https://connection.keboola.com", StorageToken: "t", BranchID: main}, Options{})
		if err != nil || c.BranchID() != "" {
			t.Errorf("branch %q: %v, %q; want the main branch", main, err, c.BranchID())
		}
	}
}

// TestRetry_Policy checks which failures are retried, per method.
func TestRetry_Policy(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		statuses   []int // answers in order; the last repeats
		retryAfter string
		wantCalls  int
		wantErr    bool
	}{
		{"GET retried after 503 until success", "GET", []int{503, 503, 200}, "", 3, false},
		{"GET retried after 429 honouring Retry-After", "GET", []int{429, 200}, "1", 2, false},
		{"GET 501 not retried", "GET", []int{501}, "", 1, true},
		{"GET 404 not retried", "GET", []int{404}, "", 1, true},
		{"GET 409 retried", "GET", []int{409, 200}, "", 2, false},
		{"GET 423 and 408 retried", "GET", []int{423, 408, 200}, "", 3, false},
		{"GET gives up after five attempts", "GET", []int{500}, "", 5, true},
		{"PUT 409 version conflict returned to the caller", "PUT", []int{409}, "", 1, true},
		{"PUT 502 retried", "PUT", []int{502, 200}, "", 2, false},
		{"DELETE 500 retried", "DELETE", []int{500, 204}, "", 2, false},
		{"POST 500 not retried", "POST", []int{500}, "", 1, true},
		{"POST 503 not retried", "POST", []int{503}, "", 1, true},
		{"POST 429 retried (rejected before processing)", "POST", []int{429, 201}, "", 2, false},
		{"Retry-After beyond the time budget stops retrying", "GET", []int{503, 200}, "3600", 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
				i := int(n.Add(1)) - 1
				st := tc.statuses[min(i, len(tc.statuses)-1)]
				if tc.retryAfter != "" && st >= 400 {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				reply(w, st, `{"id":"1"}`)
			})
			c := newTestClient(t, s, "")
			err := c.doJSON(testCtx(t), request{method: tc.method, path: "/v2/storage/x", body: map[string]any{}}, nil)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got := len(s.calls()); got != tc.wantCalls {
				t.Errorf("%d attempts, want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestRetry_NetworkErrorNamesTheStackAndRetriesReads(t *testing.T) {
	// A listener that accepts and immediately closes: every attempt fails after
	// the request may have been sent.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	stack := "http://" + ln.Addr().String()
	c, err := New(Credentials{StackURL: stack, StorageToken: testToken}, Options{Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListBuckets(testCtx(t))
	if err == nil || !strings.Contains(err.Error(), "cannot reach Keboola stack "+ln.Addr().String()) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatal("token in error")
	}
	if got := accepted.Load(); got != 5 {
		t.Errorf("GET attempted %d times, want 5", got)
	}
	accepted.Store(0)
	_, err = c.CreateConfig(testCtx(t), "c.x", ConfigInput{Name: "n"})
	if err == nil {
		t.Fatal("want an error")
	}
	if got := accepted.Load(); got != 1 {
		t.Errorf("POST attempted %d times after the connection was open, want 1", got)
	}
}

func TestRetry_StopsWhenContextEnds(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		w.Header().Set("Retry-After", "20")
		reply(w, 503, `{}`)
	})
	c := newTestClient(t, s, "")
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() {
		for len(s.calls()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.ListBranches(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestErrors_DecodeEachServiceShape(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		body       string
		header     map[string]string
		wantCode   string
		wantMsg    string
		wantExcID  string
		sentinel   error
		retryAfter time.Duration
	}{
		{"storage not found", 404, `{"error":"The table \"x\" was not found","code":"storage.tables.notFound","status":"error","exceptionId":"exc-1"}`,
			nil, "storage.tables.notFound", `The table "x" was not found`, "exc-1", ErrNotFound, 0},
		{"storage invalid token", 401, `{"error":"Invalid access token","code":"storage.tokenInvalid"}`,
			nil, "storage.tokenInvalid", "Invalid access token", "", ErrInvalidToken, 0},
		{"queue int code", 403, `{"error":"Access denied","code":403,"status":"error","exceptionId":"job-1"}`,
			nil, "403", "Access denied", "job-1", ErrForbidden, 0},
		{"query service shape", 400, `{"status":"error","error":400,"code":"query.badRequest","exception":"SQL compilation error","exceptionId":"q-1"}`,
			nil, "query.badRequest", "SQL compilation error", "q-1", nil, 0},
		{"query service without a string code", 422, `{"status":"error","error":422,"exception":"Bad input"}`,
			nil, "422", "Bad input", "", nil, 0},
		{"version conflict", 409, `{"error":"Version conflict","code":"storage.components.configurations.versionConflict"}`,
			nil, "storage.components.configurations.versionConflict", "Version conflict", "", ErrConflict, 0},
		{"maintenance", 503, `{"status":"maintenance","reason":"Upgrading the stack"}`,
			map[string]string{"Retry-After": "7200"}, "", "Upgrading the stack", "", ErrMaintenance, 2 * time.Hour},
		{"non-JSON body echoing the token is scrubbed", 502, "<html>bad gateway for " + testToken + "</html>",
			nil, "", "<html>bad gateway for [REDACTED]</html>", "", nil, 0},
		{"empty body", 500, "", nil, "", "Internal Server Error", "", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				reply(w, tc.status, tc.body)
			})
			c, err := New(Credentials{StackURL: s.URL, StorageToken: testToken}, Options{Retry: RetryPolicy{MaxAttempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListBuckets(testCtx(t))
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.Status != tc.status || apiErr.Code != tc.wantCode || apiErr.Message != tc.wantMsg || apiErr.ExceptionID != tc.wantExcID {
				t.Errorf("got %+v", apiErr)
			}
			if apiErr.Service != "storage" || apiErr.Method != "GET" || apiErr.Path != "/v2/storage/buckets" {
				t.Errorf("request identity = %s %s %s", apiErr.Service, apiErr.Method, apiErr.Path)
			}
			if apiErr.RetryAfter != tc.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", apiErr.RetryAfter, tc.retryAfter)
			}
			for _, sentinel := range []error{ErrNotFound, ErrInvalidToken, ErrForbidden, ErrConflict, ErrMaintenance} {
				if got := errors.Is(err, sentinel); got != (sentinel == tc.sentinel) {
					t.Errorf("errors.Is(err, %v) = %v", sentinel, got)
				}
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "include=") {
				t.Errorf("error string leaks the token or query: %v", err)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"5":                             5 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"Thu, 01 Jan 2026 12:00:30 GMT": 30 * time.Second,
		"Thu, 01 Jan 2026 11:00:00 GMT": 0,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestClient_DoesNotFollowRedirectsWithTheToken(t *testing.T) {
	var leaked atomic.Bool
	evil := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		if r.Header.Get("X-StorageApi-Token") != "" {
			leaked.Store(true)
		}
		reply(w, 200, `[]`)
	})
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		http.Redirect(w, r, evil.URL+"/v2/storage/buckets", http.StatusFound)
	})
	_, err := newTestClient(t, s, "").ListBuckets(testCtx(t))
	if err == nil {
		t.Fatal("a redirect must not be treated as success")
	}
	if leaked.Load() {
		t.Fatal("the token was sent to the redirect target")
	}
}

func TestClient_BearerSendsAuthorizationAndRefusesQueue(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		reply(w, 200, `{"id":"5","owner":{"id":"77","name":"P"}}`)
	})
	c, err := NewWithBearer(s.URL, "kbc_at_secret", Options{Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.VerifyToken(testCtx(t))
	if err != nil || info.Owner.ID != "77" {
		t.Fatalf("verify = %+v, %v", info, err)
	}
	r := s.calls()[0]
	if r.Header.Get("Authorization") != "Bearer kbc_at_secret" || r.Header.Get("X-StorageApi-Token") != "" {
		t.Errorf("headers = %v", r.Header)
	}
	_, err = c.GetJob(testCtx(t), "1")
	if err == nil || !strings.Contains(err.Error(), "Storage API token") {
		t.Fatalf("queue with bearer: %v", err)
	}
}

func TestClient_AttemptTimeoutIsReportedAsNoAnswer(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c, err := New(Credentials{StackURL: s.URL, StorageToken: testToken}, Options{Timeout: 20 * time.Millisecond, Retry: RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListBranches(testCtx(t))
	if err == nil || !strings.Contains(err.Error(), "no answer within 20ms") || !strings.Contains(err.Error(), "cannot reach Keboola stack") {
		t.Fatalf("err = %v", err)
	}
	if n := len(s.calls()); n != 2 {
		t.Errorf("%d attempts, want 2 (a timed-out read is retried)", n)
	}
}
