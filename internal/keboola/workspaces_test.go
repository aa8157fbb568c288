package keboola

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCreateWorkspace_ConfigThenAsyncJobThenDetail(t *testing.T) {
	var polls atomic.Int32
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch {
		case r.Method == "POST" && r.URL.Path == "/v2/storage/branch/default/components/keboola.mcp-server-tool/configs":
			reply(w, 201, `{"id":"cfg-1","name":"x"}`)
		case r.Method == "POST" && r.URL.Path == "/v2/storage/branch/default/components/keboola.mcp-server-tool/configs/cfg-1/workspaces":
			reply(w, 202, `{"id":900,"status":"waiting"}`)
		case r.URL.Path == "/v2/storage/jobs/900":
			if polls.Add(1) < 3 {
				reply(w, 200, `{"id":900,"status":"processing","results":null}`)
				return
			}
			reply(w, 200, `{"id":900,"status":"success","results":{"id":4242,"connection":{"backend":"snowflake"}}}`)
		case r.URL.Path == "/v2/storage/branch/default/workspaces/4242":
			reply(w, 200, `{"id":4242,"readOnlyStorageAccess":true,"connection":{"backend":"snowflake","schema":"WORKSPACE_4242"}}`)
		default:
			reply(w, 404, `{"error":"unexpected `+r.Method+" "+r.URL.Path+`"}`)
		}
	})
	ws, err := newTestClient(t, s, "").CreateWorkspace(testCtx(t), WorkspaceRequest{Backend: "Snowflake", LoginType: "snowflake-person-keypair"})
	if err != nil {
		t.Fatal(err)
	}
	if ws.ID != "4242" || ws.Connection.Schema != "WORKSPACE_4242" {
		t.Errorf("workspace = %+v", ws)
	}
	calls := s.calls()
	assertJSONEqual(t, calls[1].Body, `{"backend":"snowflake","readOnlyStorageAccess":true,"loginType":"snowflake-person-keypair"}`)
	if calls[1].Query != "async=true" {
		t.Errorf("workspace create query = %q", calls[1].Query)
	}
	if polls.Load() != 3 {
		t.Errorf("polled %d times", polls.Load())
	}
}

func TestWaitStorageJob_FailedJobIsAnErrorWithItsMessage(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		reply(w, 200, `{"id":5,"status":"error","error":{"code":"workspace.quota","message":"Workspace quota exceeded"}}`)
	})
	_, err := newTestClient(t, s, "").WaitStorageJob(testCtx(t), "5")
	if err == nil || !strings.Contains(err.Error(), "Workspace quota exceeded") {
		t.Fatalf("err = %v", err)
	}
}
