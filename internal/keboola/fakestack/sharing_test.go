package fakestack

import (
	"fmt"
	"net/http"
	"testing"
)

func TestSharing_LinkSharedBucketThenQueryItsTables(t *testing.T) {
	s, clk := newClocked(t, Options{})
	shared := api(t, s, "GET", "/v2/storage/shared-buckets?include=metadata", nil).array(t)
	if len(shared) != 1 || path(t, shared, 0, "project", "id") != float64(5678) || path(t, shared, 0, "tables", 0, "name") != "conversion_benchmarks" {
		t.Fatalf("shared buckets %v", shared)
	}
	r := api(t, s, "POST", "/v2/storage/buckets?async=true", map[string]any{"stage": "in", "name": "benchmarks",
		"sourceProjectId": 5678, "sourceBucketId": "out.c-industry-benchmarks"})
	wantStatus(t, r, http.StatusAccepted)
	clk.Advance(2 * testStep)
	job := api(t, s, "GET", fmt.Sprintf("/v2/storage/jobs/%v", r.object(t)["id"]), nil).object(t)
	if job["status"] != "success" || path(t, job, "results", "id") != "in.c-benchmarks" {
		t.Fatalf("link job %v", job)
	}
	linked := api(t, s, "GET", "/v2/storage/buckets/in.c-benchmarks", nil).object(t)
	if linked["isReadOnly"] != true || path(t, linked, "sourceBucket", "project", "id") != float64(5678) || path(t, linked, "backendPath", 0) != "KEBOOLA_5678" {
		t.Errorf("linked bucket %v", linked)
	}
	tbl := api(t, s, "GET", "/v2/storage/tables/in.c-benchmarks.conversion_benchmarks", nil).object(t)
	if tbl["isAlias"] != true || path(t, tbl, "sourceTable", "id") != "out.c-industry-benchmarks.conversion_benchmarks" {
		t.Errorf("alias table %v", tbl)
	}
	rows := previewRows(t, s, "in.c-benchmarks.conversion_benchmarks", nil)
	if len(rows) != 19 {
		t.Errorf("alias preview has %d lines, want header + 18", len(rows))
	}
	id := submit(t, s, `SELECT COUNT(*) FROM "KEBOOLA_5678"."out.c-industry-benchmarks"."conversion_benchmarks"`)
	clk.Advance(2 * testStep)
	stmt := path(t, api(t, s, "GET", "/query/api/v1/queries/"+id, nil).object(t), "statements", 0).(map[string]any)
	res := api(t, s, "GET", fmt.Sprintf("/query/api/v1/queries/%s/%s/results", id, stmt["id"]), nil).object(t)
	if path(t, res, "data", 0, 0) != "18" {
		t.Errorf("SQL over the linked bucket: %v %v", stmt, res)
	}

	// Metadata written through the alias stays with the alias.
	wantStatus(t, api(t, s, "POST", "/v2/storage/tables/in.c-benchmarks.conversion_benchmarks/metadata", map[string]any{
		"provider": "user", "metadata": []any{map[string]any{"key": "KBC.description", "value": "ours"}}}), http.StatusCreated)
	if got := findMeta(path(t, api(t, s, "GET", "/v2/storage/shared-buckets?include=metadata", nil).array(t), 0, "metadata").([]any), "KBC.description"); got == "ours" {
		t.Error("a write to the alias changed the shared source")
	}

	wantStorageError(t, api(t, s, "POST", "/v2/storage/buckets", map[string]any{"stage": "in", "name": "benchmarks",
		"sourceProjectId": 5678, "sourceBucketId": "out.c-industry-benchmarks"}), http.StatusBadRequest, "storage.buckets.alreadyExists")
	wantStorageError(t, api(t, s, "POST", "/v2/storage/buckets", map[string]any{"stage": "in", "name": "other",
		"sourceProjectId": 5678, "sourceBucketId": "out.c-nope"}), http.StatusNotFound, "storage.buckets.notFound")
	wantStatus(t, api(t, s, "DELETE", "/v2/storage/buckets/in.c-benchmarks", nil), http.StatusNoContent)
	wantStorageError(t, api(t, s, "GET", "/v2/storage/tables/in.c-benchmarks.conversion_benchmarks", nil), http.StatusNotFound, "storage.tables.notFound")
}

func TestBuckets_CreateAndDeleteRules(t *testing.T) {
	s := newTestServer(t, Options{})
	r := api(t, s, "POST", "/v2/storage/branch/default/buckets", map[string]any{"stage": "out", "name": "scratch", "description": "tmp"})
	wantStatus(t, r, http.StatusCreated)
	if b := r.object(t); b["id"] != "out.c-scratch" || b["description"] != "tmp" {
		t.Errorf("created bucket %v", b)
	}
	for _, body := range []map[string]any{{"stage": "raw", "name": "x"}, {"stage": "in", "name": "bad name"}, {"stage": "in"}} {
		wantStatus(t, api(t, s, "POST", "/v2/storage/buckets", body), http.StatusBadRequest)
	}
	reader := s.AddToken(TokenOptions{BucketPermissions: map[string]string{"in.c-crm": "read"}})
	wantStorageError(t, call(t, "POST", s.URL()+"/v2/storage/buckets", tokenHeader(reader), map[string]any{"stage": "in", "name": "x"}), http.StatusForbidden, "accessDenied")
	wantStorageError(t, api(t, s, "DELETE", "/v2/storage/buckets/in.c-crm", nil), http.StatusBadRequest, "storage.buckets.notEmpty")
	wantStatus(t, api(t, s, "DELETE", "/v2/storage/buckets/out.c-scratch", nil), http.StatusNoContent)
	wantStatus(t, api(t, s, "DELETE", "/v2/storage/buckets/in.c-crm?force=true&async=true", nil), http.StatusAccepted)
	wantStorageError(t, api(t, s, "GET", "/v2/storage/buckets/in.c-crm", nil), http.StatusNotFound, "storage.buckets.notFound")
}

func TestMetadata_DeleteEntryByID(t *testing.T) {
	s := newTestServer(t, Options{})
	list := api(t, s, "GET", "/v2/storage/tables/in.c-crm.orders/metadata", nil).array(t)
	id := path(t, list, 0, "id").(string)
	wantStatus(t, api(t, s, "DELETE", "/v2/storage/tables/in.c-crm.orders/metadata/"+id, nil), http.StatusNoContent)
	if after := api(t, s, "GET", "/v2/storage/tables/in.c-crm.orders/metadata", nil).array(t); len(after) != len(list)-1 {
		t.Errorf("%d entries after deleting one of %d", len(after), len(list))
	}
	wantStorageError(t, api(t, s, "DELETE", "/v2/storage/tables/in.c-crm.orders/metadata/"+id, nil), http.StatusNotFound, "storage.metadata.notFound")
	bm := api(t, s, "GET", "/v2/storage/buckets/in.c-crm/metadata", nil).array(t)
	wantStatus(t, api(t, s, "DELETE", "/v2/storage/buckets/in.c-crm/metadata/"+path(t, bm, 0, "id").(string), nil), http.StatusNoContent)
	if d := api(t, s, "GET", "/v2/storage/buckets/in.c-crm", nil).object(t)["description"]; d != "" {
		t.Errorf("description %q after deleting its metadata", d)
	}
}

func TestWorkspace_BareWorkspaceForTheBranch(t *testing.T) {
	s := newTestServer(t, Options{})
	r := api(t, s, "POST", "/v2/storage/branch/default/workspaces", map[string]any{"backend": "snowflake", "readOnlyStorageAccess": true, "loginType": "snowflake-person-keypair"})
	wantStatus(t, r, http.StatusCreated)
	ws := r.object(t)
	if ws["readOnlyStorageAccess"] != true || ws["component"] != "" {
		t.Errorf("bare workspace %v", ws)
	}
	got := api(t, s, "GET", fmt.Sprintf("/v2/storage/branch/default/workspaces/%v", ws["id"]), nil).object(t)
	if got["id"] != ws["id"] {
		t.Errorf("workspace detail %v", got)
	}
}
