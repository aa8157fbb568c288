package fakestack

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestDemo_DataIsDeterministicAcrossStacks(t *testing.T) {
	a, b := newTestServer(t, Options{}), newTestServer(t, Options{})
	for _, table := range []string{"in.c-crm.orders", "in.c-web.sessions", "out.c-reports.customer_ltv"} {
		p := "/v2/storage/tables/" + table + "/data-preview?limit=50"
		ra, rb := api(t, a, "GET", p, nil), api(t, b, "GET", p, nil)
		if !bytes.Equal(ra.body, rb.body) {
			t.Errorf("%s differs between two stacks", table)
		}
	}
}

func TestDemo_ProjectIsBelievable(t *testing.T) {
	s := newTestServer(t, Options{})
	desc := api(t, s, "GET", "/v2/storage/branch/default/metadata", nil).array(t)
	if len(desc) == 0 || path(t, desc, 0, "key") != "KBC.projectDescription" {
		t.Errorf("project description %v", desc)
	}
	for _, table := range api(t, s, "GET", "/v2/storage/tables?include=metadata", nil).array(t) {
		m := table.(map[string]any)
		if m["rowsCount"].(float64) == 0 {
			t.Errorf("%v is empty", m["id"])
		}
		if metaValue := findMeta(m["metadata"].([]any), "KBC.description"); metaValue == "" {
			t.Errorf("%v has no description", m["id"])
		}
	}
	tr := api(t, s, "GET", "/v2/storage/components/keboola.snowflake-transformation/configs/"+demoTransformConfig, nil).object(t)
	script := path(t, tr, "configuration", "parameters", "blocks", 0, "codes", 0, "script", 0).(string)
	if !strings.Contains(script, `"orders"`) || path(t, tr, "configuration", "storage", "input", "tables", 0, "source") != "in.c-crm.orders" {
		t.Errorf("transformation does not use the demo tables: %v", tr["configuration"])
	}
	flow := api(t, s, "GET", "/v2/storage/components/keboola.orchestrator/configs/"+demoFlowConfig, nil).object(t)
	if tasks := path(t, flow, "configuration", "tasks").([]any); len(tasks) < 4 {
		t.Errorf("flow tasks %v", tasks)
	}
	// The report tables hold what the transformation's SQL computes.
	var fromSQL, stored float64
	if err := s.db.QueryRow(`SELECT ROUND(SUM("total_usd"), 2) FROM "in.c-crm"."orders" WHERE "status" = 'completed'`).Scan(&fromSQL); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRow(`SELECT ROUND(SUM("revenue_usd"), 2) FROM "out.c-reports"."daily_revenue"`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if diff := fromSQL - stored; diff > 1 || diff < -1 {
		t.Errorf("daily_revenue sums to %v, orders to %v", stored, fromSQL)
	}
}

func findMeta(list []any, key string) string {
	for _, m := range list {
		if mm := m.(map[string]any); mm["key"] == key {
			return mm["value"].(string)
		}
	}
	return ""
}

func TestNoDemo_StartsEmpty(t *testing.T) {
	s := newTestServer(t, Options{NoDemo: true, ProjectID: 77, ProjectName: "Empty"})
	if got := api(t, s, "GET", "/v2/storage/buckets", nil).array(t); len(got) != 0 {
		t.Errorf("buckets %v", got)
	}
	v := api(t, s, "GET", "/v2/storage/tokens/verify", nil).object(t)
	if path(t, v, "owner", "id") != float64(s.ProjectID()) || s.ProjectID() != 77 || path(t, v, "owner", "name") != "Empty" {
		t.Errorf("owner %v", v["owner"])
	}
	if _, err := New(Options{Backend: "redshift"}); err == nil {
		t.Error("an unmodelled backend was accepted")
	}
	wantStorageError(t, api(t, s, "GET", "/v2/storage/nope", nil), http.StatusNotFound, "notFound")
}

// BenchmarkSeedDemoDatabase measures the one-time seeding of the shared demo rows.
func BenchmarkSeedDemoDatabase(b *testing.B) {
	for b.Loop() {
		db, _, err := seedDemoDatabase()
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}

// BenchmarkNew measures a demo stack over the already seeded rows.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		s, err := New(Options{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkDataPreview(b *testing.B) {
	benchGet(b, "/v2/storage/tables/in.c-web.sessions/data-preview?limit=1000&whereFilters[0][column]=device&whereFilters[0][values][0]=mobile")
}

func BenchmarkVerifyToken(b *testing.B) {
	benchGet(b, "/v2/storage/tokens/verify")
}

// benchGet measures a GET of path with the master token on a fresh stack.
func benchGet(b *testing.B, path string) {
	s := newTestServer(b, Options{})
	req, _ := http.NewRequest("GET", s.URL()+path, nil)
	req.Header.Set("X-StorageApi-Token", s.MasterToken())
	for b.Loop() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
	}
}

// On a BigQuery project the demo's transformation is a BigQuery one, in
// GoogleSQL (a Snowflake transformation cannot run there), and the demo
// flow rebuilds the reports with it.
func TestDemoTransformation_OnBigQueryRebuildsTheReports(t *testing.T) {
	s, clk := newClocked(t, Options{Backend: "bigquery"})
	wantStatus(t, api(t, s, "GET", "/v2/storage/components/"+snowflakeTransformation+"/configs/"+demoTransformConfig, nil), http.StatusNotFound)
	before := api(t, s, "GET", "/v2/storage/tables/out.c-reports.customer_ltv", nil).object(t)
	flow := runJob(t, s, map[string]any{"component": orchestratorComponent, "config": demoFlowConfig})
	clk.Advance(40 * testStep)
	if got := jobStatus(t, s, flow["id"]); got["status"] != "success" {
		t.Fatalf("the demo flow ended %v: %v", got["status"], got["result"])
	}
	after := api(t, s, "GET", "/v2/storage/tables/out.c-reports.customer_ltv", nil).object(t)
	if after["rowsCount"] != before["rowsCount"] || after["lastImportDate"] == before["lastImportDate"] ||
		findMeta(after["metadata"].([]any), "KBC.lastUpdatedBy.component.id") != bigQueryTransformation {
		t.Errorf("customer_ltv before %v/%v, after %v/%v %v", before["rowsCount"], before["lastImportDate"], after["rowsCount"], after["lastImportDate"], after["metadata"])
	}
}
