package fakestack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFaults_CountedFailuresThenRecovery(t *testing.T) {
	s := newTestServer(t, Options{})
	if err := s.InjectFault(Fault{PathPrefix: "/v2/storage/buckets", Fail5xx: 2, Status5xx: http.StatusBadGateway, Fail429: 1, RetryAfter: 7}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{http.StatusBadGateway, http.StatusBadGateway, http.StatusTooManyRequests, http.StatusOK} {
		r := api(t, s, "GET", "/v2/storage/buckets", nil)
		if r.status != want {
			t.Fatalf("request %d: status %d, want %d", i, r.status, want)
		}
		if want == http.StatusTooManyRequests && r.header.Get("Retry-After") != "7" {
			t.Errorf("429 without Retry-After 7: %v", r.header)
		}
	}
	wantStatus(t, api(t, s, "GET", "/v2/storage/tables/in.c-crm.orders", nil), http.StatusOK)
}

func TestFaults_MaintenanceUntilCleared(t *testing.T) {
	s := newTestServer(t, Options{})
	if err := s.InjectFault(Fault{PathPrefix: "/queue/", Maintenance: true, RetryAfter: 30}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r := api(t, s, "GET", "/queue/search/jobs", nil)
		wantStatus(t, r, http.StatusServiceUnavailable)
		if r.header.Get("Retry-After") != "30" || r.object(t)["status"] != "maintenance" {
			t.Fatalf("maintenance answer %v %s", r.header, r.body)
		}
	}
	wantStatus(t, api(t, s, "GET", "/v2/storage/buckets", nil), http.StatusOK)
	s.ClearFaults()
	wantStatus(t, api(t, s, "GET", "/queue/search/jobs", nil), http.StatusOK)
}

func TestFaults_AdminEndpointNeedsTheMasterToken(t *testing.T) {
	s := newTestServer(t, Options{})
	limited := s.AddToken(TokenOptions{CanManageBuckets: true, CanManageTokens: true})
	fault := map[string]any{"pathPrefix": "/ai/", "fail5xx": 1}
	wantStatus(t, call(t, "POST", s.URL()+"/_fake/faults", tokenHeader(limited), fault), http.StatusUnauthorized)
	wantStatus(t, call(t, "POST", s.URL()+"/_fake/faults", nil, fault), http.StatusUnauthorized)
	wantStatus(t, api(t, s, "POST", "/_fake/faults", map[string]any{"pathPrefix": "/ai/", "latency": "soon"}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", "/_fake/faults", map[string]any{"pathPrefix": "/ai/", "fail5xx": -1}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", "/_fake/faults", map[string]any{"pathPrefix": "/ai/", "nonsense": true}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", "/_fake/faults", fault), http.StatusNoContent)
	wantStatus(t, api(t, s, "POST", "/ai/suggest/component", map[string]any{"prompt": "mysql"}), http.StatusInternalServerError)
	wantStatus(t, api(t, s, "POST", "/ai/suggest/component", map[string]any{"prompt": "mysql"}), http.StatusOK)
	wantStatus(t, api(t, s, "POST", "/_fake/faults", map[string]any{"maintenance": true}), http.StatusNoContent)
	// The controls stay reachable while every other path is in maintenance.
	wantStatus(t, api(t, s, "DELETE", "/_fake/faults", nil), http.StatusNoContent)
	wantStatus(t, api(t, s, "GET", "/v2/storage/buckets", nil), http.StatusOK)
}

func TestFaults_LatencyEndsWithTheRequestContext(t *testing.T) {
	var fs faultSet
	fs.faults = []*Fault{{PathPrefix: "/v2/", Latency: time.Hour, Status5xx: 500}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("GET", "/v2/storage/buckets", nil).WithContext(ctx)
	// With the client gone, the hour-long delay must not hold the handler.
	if fs.apply(httptest.NewRecorder(), req) {
		t.Error("a latency-only fault answered the request")
	}
}

func TestRequests_LogServiceStatusWithoutSecrets(t *testing.T) {
	s := newTestServer(t, Options{OAuthClients: map[string]string{"c": "secret"}})
	api(t, s, "GET", "/v2/storage/buckets", nil)
	api(t, s, "GET", "/queue/jobs/1", nil)
	call(t, "POST", s.URL()+"/oauth/token?code=abc&client_secret=secret", nil, nil)
	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests logged, want 3: %v", len(reqs), reqs)
	}
	want := []struct {
		service string
		status  int
	}{{ServiceStorage, 200}, {ServiceQueue, 404}, {ServiceOAuth, 401}}
	for i, w := range want {
		if reqs[i].Service != w.service || reqs[i].Status != w.status {
			t.Errorf("request %d: %+v, want service %s status %d", i, reqs[i], w.service, w.status)
		}
	}
	for _, r := range reqs {
		if strings.Contains(r.Query, "abc") || strings.Contains(r.Query, "=secret") || strings.Contains(r.Path, s.MasterToken()) {
			t.Errorf("request log leaks a secret: %+v", r)
		}
	}
	listed := api(t, s, "GET", "/_fake/requests", nil).array(t)
	if len(listed) != 3 {
		t.Errorf("GET /_fake/requests lists %d, want the 3 earlier requests", len(listed))
	}
	s.ResetRequests()
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests after reset", n)
	}
}

func TestFaults_EveryNthRequestFailsAfterTheCountedOnes(t *testing.T) {
	s := newTestServer(t, Options{})
	if err := s.InjectFault(Fault{PathPrefix: "/v2/storage/buckets", Fail429: 1, Fail5xxEvery: 3, Status5xx: http.StatusBadGateway}); err != nil {
		t.Fatal(err)
	}
	want := []int{http.StatusTooManyRequests, 200, 200, http.StatusBadGateway, 200, 200, http.StatusBadGateway}
	for i, w := range want {
		if r := api(t, s, "GET", "/v2/storage/buckets", nil); r.status != w {
			t.Fatalf("request %d: status %d, want %d", i, r.status, w)
		}
	}
	// Other paths do not count toward the rate.
	wantStatus(t, api(t, s, "GET", "/v2/storage/tables", nil), http.StatusOK)
	wantStatus(t, api(t, s, "POST", "/_fake/faults", map[string]any{"fail5xxEvery": -1}), http.StatusBadRequest)
}
