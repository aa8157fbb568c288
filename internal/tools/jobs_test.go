package tools

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

func TestGetJobs(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	list, isErr := f.call(t, "get_jobs", map[string]any{"status": "error"})
	if isErr || !strings.Contains(list, "keboola.wr-google-sheets,7410021,error") {
		t.Fatalf("the failed demo job is not listed:\n%s", list)
	}
	// The first CSV field of the second line is the failed job's id.
	failedID := strings.SplitN(strings.Split(list, "\n")[2], ",", 2)[0]
	f.check(t, "get_jobs", []expect{
		{name: "lists newest first with a limit", args: map[string]any{"limit": 3},
			contains: []string{"3 jobs.", "id,component_id,configuration_id,status,created,duration,result", "offset=3"}},
		{name: "filters by component", args: map[string]any{"component_id": "keboola.ex-db-mysql"},
			contains: []string{"keboola.ex-db-mysql,7410001,success"}, absent: []string{"keboola.ex-http", "Component processing finished"}},
		{name: "details with the failure and its log", args: map[string]any{"job_ids": []string{failedID}},
			contains: []string{"Job: " + failedID, "Status: error", "Result: Google Sheets authorization has expired", "/queue/" + failedID}},
		// The Python server's log options: the newest N events, of some types.
		{name: "log of errors only", args: map[string]any{"job_ids": []string{failedID}, "log_event_types": []string{"error"}, "include_logs": true},
			contains: []string{",error,Google Sheets authorization has expired"}, absent: []string{",info,"}},
		{name: "log tail of one", args: map[string]any{"job_ids": []string{failedID}, "log_tail_lines": 1},
			contains: []string{",error,Google Sheets"}, absent: []string{"Running component"}},
		{name: "unknown job", args: map[string]any{"job_ids": []string{"999999999"}}, isError: true,
			contains: []string{"999999999", "get_jobs"}},
		{name: "unknown status is a schema error", args: map[string]any{"status": "exploded"}, isError: true},
	})
}

// A flow's task job has the run id "<flow run>.<job id>" on a real stack;
// its log is found only by the job id with forceUuid=true, as the Python
// server asks (clients/storage.py, job events).
func TestGetJobs_LogOfAJobAFlowStarted(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	list, isErr := f.call(t, "get_jobs", map[string]any{"component_id": "keboola.ex-http", "limit": 1})
	if isErr {
		t.Fatal(list)
	}
	id := strings.SplitN(strings.Split(list, "\n")[2], ",", 2)[0]
	f.check(t, "get_jobs", []expect{
		{name: "child job log", args: map[string]any{"job_ids": []string{id}},
			contains: []string{"Job: " + id, "Log (newest first):", "Component keboola.ex-http finished successfully"}},
	})
}

func TestRunJob(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	disabled, err := f.client.CreateConfig(context.Background(), "keboola.ex-http", keboola.ConfigInput{Name: "Paused feed", IsDisabled: true,
		Configuration: json.RawMessage(`{"parameters":{"baseUrl":"https://example.com"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	f.resetRequests()
	f.check(t, "run_job", []expect{
		// The queue would advise "mode forceRun", which run_job cannot pass (issue 13).
		{name: "disabled configuration", args: map[string]any{"component_id": "keboola.ex-http", "configuration_id": disabled.ID.String()},
			isError: true, contains: []string{"is disabled", "enable it in Keboola", "/components/keboola.ex-http/" + disabled.ID.String()},
			absent: []string{"forceRun"}},
		{name: "starts a run", args: map[string]any{"component_id": "keboola.ex-http", "configuration_id": "7410002"},
			contains: []string{"Job started", "Component: keboola.ex-http", "Configuration: 7410002", "/queue/"}},
		{name: "unknown configuration", args: map[string]any{"component_id": "keboola.ex-http", "configuration_id": "1"},
			isError: true, contains: []string{"configuration keboola.ex-http/1 not found", "get_configs"}},
		{name: "runs the chosen rows", args: map[string]any{"component_id": "keboola.ex-http", "configuration_id": "7410002", "configuration_row_ids": []string{"7410002001"}},
			contains: []string{"Job started", "7410002001"}},
		{name: "missing configuration is a schema error", args: map[string]any{"component_id": "keboola.ex-http"}, isError: true},
	})
	if n := f.requests("POST", "/jobs"); n != 2 {
		t.Errorf("queue got %d job requests, want 2 (none for the bad calls)", n)
	}
}
