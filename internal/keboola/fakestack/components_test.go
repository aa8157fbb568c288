package fakestack

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

func TestComponents_ListFiltersByTypeAndIncludesConfigurations(t *testing.T) {
	s := newTestServer(t, Options{})
	list := api(t, s, "GET", "/v2/storage/branch/default/components?componentType=writer&include=configuration,rows", nil).array(t)
	if len(list) != 1 || path(t, list, 0, "id") != "keboola.wr-google-sheets" {
		t.Fatalf("writers %v", list)
	}
	cfgs := path(t, list, 0, "configurations").([]any)
	if len(cfgs) != 2 {
		t.Fatalf("sheets configurations %v", cfgs)
	}
	first := cfgs[0].(map[string]any)
	if first["configuration"] == nil || len(first["rows"].([]any)) == 0 {
		t.Errorf("include=configuration,rows did not include them: %v", first)
	}
	bare := api(t, s, "GET", "/v2/storage/branch/default/components?componentType=writer", nil).array(t)
	if _, has := path(t, bare, 0, "configurations", 0).(map[string]any)["configuration"]; has {
		t.Error("configuration bodies listed without include=configuration")
	}
	types := map[string]bool{}
	for _, c := range api(t, s, "GET", "/v2/storage/components", nil).array(t) {
		types[c.(map[string]any)["type"].(string)] = true
	}
	for _, want := range []string{"extractor", "writer", "transformation", "application", "other"} {
		if !types[want] {
			t.Errorf("no configured component of type %s", want)
		}
	}
	detail := api(t, s, "GET", "/v2/storage/branch/default/components/keboola.snowflake-transformation", nil).object(t)
	if detail["configurationSchema"] == nil || detail["type"] != "transformation" {
		t.Errorf("component detail %v", detail)
	}
	wantStorageError(t, api(t, s, "GET", "/v2/storage/branch/default/components/keboola.nope", nil), http.StatusNotFound, "storage.components.notFound")
}

func TestConfigurations_CRUDWithVersionsAndConflicts(t *testing.T) {
	s := newTestServer(t, Options{})
	base := "/v2/storage/branch/default/components/keboola.ex-http/configs"
	created := api(t, s, "POST", base, map[string]any{"name": "API export", "description": "d",
		"configuration": map[string]any{"parameters": map[string]any{"baseUrl": "https://x.example/"}}})
	wantStatus(t, created, http.StatusCreated)
	cfg := created.object(t)
	id, _ := cfg["id"].(string)
	if id == "" || cfg["version"] != float64(1) {
		t.Fatalf("created %v", cfg)
	}
	one := base + "/" + id

	// A form-encoded update, as older clients send, with configuration as a JSON string.
	upd := api(t, s, "PUT", one, url.Values{"configuration": {`{"parameters":{"baseUrl":"https://y.example/"}}`},
		"changeDescription": {"switch host"}, "version": {"1"}})
	wantStatus(t, upd, http.StatusOK)
	if v := upd.object(t); v["version"] != float64(2) || path(t, v, "configuration", "parameters", "baseUrl") != "https://y.example/" {
		t.Fatalf("update %v", v)
	}
	wantStorageError(t, api(t, s, "PUT", one, map[string]any{"name": "stale edit", "version": 1}),
		http.StatusConflict, "storage.components.configurations.versionConflict")

	row := api(t, s, "POST", one+"/rows", map[string]any{"name": "users", "configuration": map[string]any{"parameters": map[string]any{"path": "users.csv"}}})
	wantStatus(t, row, http.StatusCreated)
	rowID := row.object(t)["id"].(string)
	wantStatus(t, api(t, s, "PUT", one+"/rows/"+rowID, map[string]any{"name": "all users"}), http.StatusOK)
	if got := api(t, s, "GET", one+"/rows/"+rowID, nil).object(t); got["name"] != "all users" || got["version"] != float64(2) {
		t.Errorf("row after update %v", got)
	}

	versions := api(t, s, "GET", one+"/versions", nil).array(t)
	if len(versions) != 4 || path(t, versions, 0, "version") != float64(4) {
		t.Fatalf("versions newest first, 4 of them: %v", versions)
	}
	v1 := api(t, s, "GET", one+"/versions/1", nil).object(t)
	if path(t, v1, "configuration", "parameters", "baseUrl") != "https://x.example/" {
		t.Errorf("version 1 content changed: %v", v1)
	}

	wantStatus(t, api(t, s, "DELETE", one+"/rows/"+rowID, nil), http.StatusNoContent)
	wantStatus(t, api(t, s, "DELETE", one, nil), http.StatusNoContent)
	wantStorageError(t, api(t, s, "GET", one, nil), http.StatusNotFound, "storage.components.configurations.notFound")
	trash := api(t, s, "GET", base+"?isDeleted=true", nil).array(t)
	if len(trash) != 1 || path(t, trash, 0, "id") != id {
		t.Errorf("trash %v", trash)
	}
	wantStatus(t, api(t, s, "DELETE", one, nil), http.StatusNoContent)
	if trash := api(t, s, "GET", base+"?isDeleted=true", nil).array(t); len(trash) != 0 {
		t.Errorf("a second delete must purge: %v", trash)
	}

	wantStatus(t, api(t, s, "POST", base, map[string]any{"description": "no name"}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", base, map[string]any{"name": "n", "configuration": "[1,2"}), http.StatusBadRequest)
	wantStorageError(t, api(t, s, "POST", "/v2/storage/branch/default/components/keboola.nope/configs", map[string]any{"name": "n"}),
		http.StatusNotFound, "storage.components.notFound")
}

func TestConfigurations_LimitedTokenCannotChangeOtherComponents(t *testing.T) {
	s := newTestServer(t, Options{})
	tok := s.AddToken(TokenOptions{Description: "http only", ComponentAccess: []string{"keboola.ex-http"}})
	h := tokenHeader(tok)
	r := call(t, "POST", s.URL()+"/v2/storage/components/keboola.ex-db-mysql/configs", h, map[string]any{"name": "x"})
	wantStorageError(t, r, http.StatusForbidden, "accessDenied")
	r = call(t, "POST", s.URL()+"/v2/storage/components/keboola.ex-http/configs", h, map[string]any{"name": "x"})
	wantStatus(t, r, http.StatusCreated)
}

func TestWorkspace_AsyncCreationMovesThroughJobStates(t *testing.T) {
	s, clk := newClocked(t, Options{})
	r := api(t, s, "POST", fmt.Sprintf("/v2/storage/branch/default/components/%s/configs/%s/workspaces?async=true", mcpToolComponent, demoMCPConfig),
		map[string]any{"backend": "snowflake", "readOnlyStorageAccess": true, "loginType": "snowflake-person-keypair"})
	wantStatus(t, r, http.StatusAccepted)
	job := r.object(t)
	jobPath := fmt.Sprintf("/v2/storage/jobs/%v", job["id"])
	for _, want := range []string{"waiting", "processing", "success"} {
		got := api(t, s, "GET", jobPath, nil).object(t)
		if got["status"] != want {
			t.Fatalf("job status %v, want %s", got["status"], want)
		}
		if want != "success" && got["results"] != nil {
			t.Fatalf("results before success: %v", got["results"])
		}
		job = got
		clk.Advance(testStep)
	}
	wsID := path(t, job, "results", "id")
	ws := api(t, s, "GET", fmt.Sprintf("/v2/storage/branch/default/workspaces/%v", wsID), nil).object(t)
	if ws["readOnlyStorageAccess"] != true || path(t, ws, "connection", "backend") != "snowflake" || path(t, ws, "connection", "schema") == "" {
		t.Errorf("workspace %v", ws)
	}
	wantStatus(t, api(t, s, "POST", fmt.Sprintf("/v2/storage/components/%s/configs/%s/workspaces", mcpToolComponent, demoMCPConfig),
		map[string]any{"backend": "bigquery"}), http.StatusBadRequest)
	wantStorageError(t, api(t, s, "GET", "/v2/storage/workspaces/424242", nil), http.StatusNotFound, "workspace.workspaceNotFound")
	wantStorageError(t, api(t, s, "GET", "/v2/storage/jobs/424242", nil), http.StatusNotFound, "storage.jobs.notFound")
	all := api(t, s, "GET", "/v2/storage/branch/default/workspaces?componentId="+mcpToolComponent, nil).array(t)
	if len(all) != 2 {
		t.Errorf("workspaces of the MCP component: %d, want the demo one and the new one", len(all))
	}
}
