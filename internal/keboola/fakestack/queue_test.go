package fakestack

import (
	"net/http"
	"strings"
	"testing"
)

func runJob(t *testing.T, s *Stack, body map[string]any) map[string]any {
	t.Helper()
	r := api(t, s, "POST", "/queue/jobs", body)
	wantStatus(t, r, http.StatusCreated)
	return r.object(t)
}

func jobStatus(t *testing.T, s *Stack, id any) map[string]any {
	t.Helper()
	return api(t, s, "GET", "/queue/jobs/"+id.(string), nil).object(t)
}

func eventMessages(t *testing.T, s *Stack, runID any) []string {
	t.Helper()
	var out []string
	for _, e := range api(t, s, "GET", "/v2/storage/events?runId="+runID.(string), nil).array(t) {
		out = append(out, e.(map[string]any)["message"].(string))
	}
	return out
}

func TestQueue_JobMovesThroughLifecycleWithEvents(t *testing.T) {
	s, clk := newClocked(t, Options{})
	job := runJob(t, s, map[string]any{"component": "keboola.ex-db-mysql", "config": demoMySQLConfig, "mode": "run"})
	if job["status"] != "created" || job["isFinished"] != false || job["id"] != job["runId"] {
		t.Fatalf("new job %v", job)
	}
	if r, ok := job["result"].([]any); !ok || len(r) != 0 {
		t.Errorf("result of an unfinished job = %v, want []", job["result"])
	}
	id := job["id"]
	if n := len(eventMessages(t, s, id)); n != 0 {
		t.Errorf("%d events before the job started", n)
	}
	for _, want := range []string{"waiting", "processing", "success"} {
		clk.Advance(testStep)
		if got := jobStatus(t, s, id)["status"]; got != want {
			t.Fatalf("status %v, want %s", got, want)
		}
		if want == "processing" && len(eventMessages(t, s, id)) != 1 {
			t.Errorf("a processing job shows its start event only: %v", eventMessages(t, s, id))
		}
	}
	done := jobStatus(t, s, id)
	if done["isFinished"] != true || path(t, done, "result", "message") == nil || done["endTime"] == nil || done["durationSeconds"] == nil {
		t.Errorf("finished job %v", done)
	}
	if msgs := eventMessages(t, s, id); len(msgs) != 3 || !strings.Contains(msgs[0], "finished") {
		t.Errorf("events newest first, ending with success: %v", msgs)
	}
}

func TestQueue_FlaggedDemoConfigEndsInError(t *testing.T) {
	s, clk := newClocked(t, Options{})
	comp, cfg, _ := strings.Cut(DemoFailingConfig, "/")
	job := runJob(t, s, map[string]any{"component": comp, "config": cfg})
	clk.Advance(3 * testStep)
	got := jobStatus(t, s, job["id"])
	if got["status"] != "error" || !strings.Contains(path(t, got, "result", "message").(string), "authorization") {
		t.Errorf("job of the broken config %v", got)
	}
	msgs := eventMessages(t, s, job["id"])
	if len(msgs) == 0 || msgs[0] != demoFailMessage {
		t.Errorf("the last event must carry the failure: %v", msgs)
	}
}

func TestQueue_KillTerminatesARunningJob(t *testing.T) {
	s, clk := newClocked(t, Options{})
	job := runJob(t, s, map[string]any{"component": "keboola.ex-http", "config": demoHTTPConfig})
	clk.Advance(2 * testStep) // processing
	r := api(t, s, "POST", "/queue/jobs/"+job["id"].(string)+"/kill", nil)
	wantStatus(t, r, http.StatusOK)
	if got := jobStatus(t, s, job["id"])["status"]; got != "terminating" {
		t.Fatalf("status after kill %v, want terminating", got)
	}
	clk.Advance(testStep)
	if got := jobStatus(t, s, job["id"]); got["status"] != "terminated" || got["isFinished"] != true {
		t.Fatalf("status a step after kill %v, want terminated", got["status"])
	}
	r = api(t, s, "POST", "/queue/jobs/"+job["id"].(string)+"/kill", nil)
	wantStatus(t, r, http.StatusBadRequest)
	if r.object(t)["code"] != float64(400) {
		t.Errorf("queue errors carry the status as an int code: %s", r.body)
	}
}

func TestQueue_RunValidatesItsInput(t *testing.T) {
	s := newTestServer(t, Options{})
	cases := []struct {
		name   string
		body   map[string]any
		status int
	}{
		{"missing config", map[string]any{"component": "keboola.ex-http"}, http.StatusBadRequest},
		{"unknown component", map[string]any{"component": "keboola.nope", "config": "1"}, http.StatusNotFound},
		{"unknown config", map[string]any{"component": "keboola.ex-http", "config": "1"}, http.StatusNotFound},
		{"bad mode", map[string]any{"component": "keboola.ex-http", "config": demoHTTPConfig, "mode": "fast"}, http.StatusBadRequest},
		{"unknown row", map[string]any{"component": "keboola.ex-http", "config": demoHTTPConfig, "configRowIds": []any{"9"}}, http.StatusBadRequest},
		{"foreign branch", map[string]any{"component": "keboola.ex-http", "config": demoHTTPConfig, "branchId": "77"}, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := api(t, s, "POST", "/queue/jobs", tc.body)
			wantStatus(t, r, tc.status)
			if r.object(t)["code"] != float64(tc.status) {
				t.Errorf("error body %s", r.body)
			}
		})
	}
	wantStatus(t, api(t, s, "GET", "/queue/jobs/999999", nil), http.StatusNotFound)
}

func TestQueue_SearchFiltersSortsAndPages(t *testing.T) {
	s := newTestServer(t, Options{})
	all := api(t, s, "GET", "/queue/search/jobs?limit=500", nil).array(t)
	if len(all) < 30 {
		t.Fatalf("demo job history has %d jobs", len(all))
	}
	errs := api(t, s, "GET", "/queue/search/jobs?status=error", nil).array(t)
	if len(errs) != 1 || path(t, errs, 0, "config") != demoBrokenConfig {
		t.Errorf("error jobs %v", errs)
	}
	mysql := api(t, s, "GET", "/queue/search/jobs?componentId=keboola.ex-db-mysql&configId="+demoMySQLConfig+"&sortBy=startTime&sortOrder=asc", nil).array(t)
	if len(mysql) != 6 {
		t.Fatalf("mysql jobs %d, want 6", len(mysql))
	}
	for i := 1; i < len(mysql); i++ {
		if path(t, mysql, i-1, "startTime").(string) > path(t, mysql, i, "startTime").(string) {
			t.Fatalf("not ascending by startTime at %d", i)
		}
	}
	page1 := api(t, s, "GET", "/queue/search/jobs?limit=2&offset=0", nil).array(t)
	page2 := api(t, s, "GET", "/queue/search/jobs?limit=2&offset=2", nil).array(t)
	if len(page1) != 2 || len(page2) != 2 || path(t, page1, 1, "id") == path(t, page2, 0, "id") {
		t.Errorf("pages overlap: %v / %v", page1, page2)
	}
	both := api(t, s, "GET", "/queue/search/jobs?status=error&status=success&limit=500", nil).array(t)
	if len(both) != len(all) {
		t.Errorf("repeated status filters select %d of %d finished jobs", len(both), len(all))
	}
	for _, bad := range []string{"limit=0", "limit=501", "sortBy=color", "sortOrder=up"} {
		wantStatus(t, api(t, s, "GET", "/queue/search/jobs?"+bad, nil), http.StatusBadRequest)
	}
}
