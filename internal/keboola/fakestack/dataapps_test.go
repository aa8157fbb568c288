package fakestack

import (
	"net/http"
	"strings"
	"testing"
)

func TestDataApps_CreateDeployStopDelete(t *testing.T) {
	s, clk := newClocked(t, Options{})
	created := api(t, s, "POST", "/data-science/apps", map[string]any{"name": "Sales", "type": "streamlit", "description": "d", "branchId": nil,
		"config": map[string]any{"parameters": map[string]any{"dataApp": map[string]any{"slug": "sales"}, "script": []any{"x"}}}})
	wantStatus(t, created, http.StatusCreated)
	app := created.object(t)
	id, cfgID := app["id"].(string), app["configId"].(string)
	if app["state"] != "created" || app["url"] != nil {
		t.Fatalf("new app = %v", app)
	}
	cfg := api(t, s, "GET", "/v2/storage/components/keboola.data-apps/configs/"+cfgID, nil).object(t)
	if path(t, cfg, "configuration", "parameters", "id") != id || cfg["name"] != "Sales" {
		t.Fatalf("configuration of the app = %v", cfg)
	}

	wantStorageError(t, api(t, s, "PATCH", "/data-science/apps/"+id, map[string]any{"desiredState": "running"}), http.StatusBadRequest, "storage.validation")
	deployed := api(t, s, "PATCH", "/data-science/apps/"+id, map[string]any{"desiredState": "running", "configVersion": "1"}).object(t)
	if deployed["state"] != "starting" || !strings.HasPrefix(deployed["url"].(string), "https://sales-") {
		t.Fatalf("deployed = %v", deployed)
	}
	wantStorageError(t, api(t, s, "DELETE", "/data-science/apps/"+id, nil), http.StatusBadRequest, "storage.validation")
	clk.Advance(testStep)
	if got := api(t, s, "GET", "/data-science/apps/"+id, nil).object(t); got["state"] != "running" {
		t.Fatalf("after a step = %v", got)
	}
	logs := api(t, s, "GET", "/data-science/apps/"+id+"/logs/tail?lines=1", nil)
	wantStatus(t, logs, http.StatusOK)
	if n := strings.Count(strings.TrimSpace(string(logs.body)), "\n"); n != 0 {
		t.Fatalf("lines=1 gave %d lines: %s", n+1, logs.body)
	}
	runs := api(t, s, "GET", "/data-science/apps/"+id+"/runs?limit=1", nil).array(t)
	if len(runs) != 1 || path(t, runs, 0, "state") != "running" {
		t.Fatalf("runs = %v", runs)
	}

	stopped := api(t, s, "PATCH", "/data-science/apps/"+id, map[string]any{"desiredState": "stopped"}).object(t)
	if stopped["state"] != "stopping" {
		t.Fatalf("stopped = %v", stopped)
	}
	clk.Advance(testStep)
	wantStatus(t, api(t, s, "GET", "/data-science/apps/"+id+"/logs/tail?lines=5", nil), http.StatusNotFound)
	wantStatus(t, api(t, s, "DELETE", "/data-science/apps/"+id, nil), http.StatusNoContent)
	wantStatus(t, api(t, s, "GET", "/data-science/apps/"+id, nil), http.StatusNotFound)
	trashed := api(t, s, "GET", "/v2/storage/components/keboola.data-apps/configs?isDeleted=true", nil).array(t)
	if len(trashed) != 1 || path(t, trashed, 0, "id") != cfgID {
		t.Fatalf("trash = %v", trashed)
	}
}

func TestDataApps_GitRepositoriesAndCredentials(t *testing.T) {
	s := newTestServer(t, Options{})
	apps := api(t, s, "GET", "/data-science/apps", nil).array(t)
	if len(apps) != 3 {
		t.Fatalf("demo apps = %v", apps)
	}
	prod, draft, dash := path(t, apps, 1, "id").(string), path(t, apps, 2, "id").(string), path(t, apps, 0, "id").(string)

	repo := api(t, s, "GET", "/data-science/apps/"+prod+"/git-repo", nil).object(t)
	if repo["isManagedGitRepo"] != true || !strings.HasSuffix(repo["httpsUrl"].(string), ".git") {
		t.Fatalf("managed repo = %v", repo)
	}
	ext := api(t, s, "GET", "/data-science/apps/"+draft+"/git-repo", nil).object(t)
	if ext["isManagedGitRepo"] != false || ext["httpsUrl"] != repo["httpsUrl"] {
		t.Fatalf("draft repo = %v", ext)
	}
	wantStatus(t, api(t, s, "GET", "/data-science/apps/"+dash+"/git-repo", nil), http.StatusNotFound)

	cred := api(t, s, "POST", "/data-science/apps/"+prod+"/git-repo/credentials", map[string]any{"type": "http_token", "permissions": "readWrite"})
	wantStatus(t, cred, http.StatusCreated)
	if c := cred.object(t); c["secret"] == "" || c["permissions"] != "readWrite" {
		t.Fatalf("credential = %v", c)
	}
	wantStatus(t, api(t, s, "POST", "/data-science/apps/"+draft+"/git-repo/credentials", map[string]any{"type": "http_token", "permissions": "readWrite"}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", "/data-science/apps/"+prod+"/git-repo/credentials", map[string]any{"type": "ssh_key", "permissions": "readWrite"}), http.StatusBadRequest)

	failed := api(t, s, "GET", "/data-science/apps/"+draft+"/runs", nil).array(t)
	if path(t, failed, 0, "state") != "failed" || path(t, failed, 0, "failureReason", "reason") != "StartupProbeFailed" {
		t.Fatalf("draft runs = %v", failed)
	}
}

func TestDataApps_RefuseUnknownTokens(t *testing.T) {
	s := newTestServer(t, Options{})
	r := call(t, "GET", s.URL()+"/data-science/apps", tokenHeader("nope"), nil)
	wantStorageError(t, r, http.StatusUnauthorized, "storage.tokenInvalid")
}

func TestMetastore_ListsPagesDetailsAndSchemas(t *testing.T) {
	s := newTestServer(t, Options{})
	models := api(t, s, "GET", "/metastore/api/v1/repository/semantic-model", nil).object(t)
	model := path(t, models, "data", 0).(map[string]any)
	if path(t, model, "meta", "name") != "Retail sales" || path(t, model, "attributes", "sql_dialect") != "snowflake" {
		t.Fatalf("model = %v", model)
	}
	page := api(t, s, "GET", "/metastore/api/v1/repository/semantic-metric?limit=1&offset=1", nil).object(t)
	if got := page["data"].([]any); len(got) != 1 || path(t, got, 0, "attributes", "name") != "Order count" {
		t.Fatalf("second metric page = %v", page)
	}
	ds := api(t, s, "GET", "/metastore/api/v1/repository/semantic-dataset", nil).object(t)
	first := path(t, ds, "data", 0).(map[string]any)
	if path(t, first, "attributes", "modelUUID") != model["id"] || !strings.Contains(path(t, first, "attributes", "fqn").(string), `"orders"`) {
		t.Fatalf("dataset = %v", first)
	}
	one := api(t, s, "GET", "/metastore/api/v1/repository/semantic-dataset/"+first["id"].(string), nil).object(t)
	if path(t, one, "data", "id") != first["id"] {
		t.Fatalf("detail = %v", one)
	}
	wantStatus(t, api(t, s, "GET", "/metastore/api/v1/repository/semantic-metric/"+first["id"].(string), nil), http.StatusNotFound)
	wantStatus(t, api(t, s, "GET", "/metastore/api/v1/repository/robots", nil), http.StatusNotFound)
	schema := api(t, s, "GET", "/metastore/api/v1/schema/semantic-constraint", nil).object(t)
	if schema["title"] != "semantic-constraint" || path(t, schema, "properties", "constraintType") == nil {
		t.Fatalf("schema = %v", schema)
	}
}
