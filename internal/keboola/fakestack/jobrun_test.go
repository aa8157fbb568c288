package fakestack

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// transformationConfig is a keboola.snowflake-transformation configuration
// as create_sql_transformation writes it (blocks → codes → script, input
// and output mapping).
func transformationConfig(statements []string, inputs, outputs [][2]string) map[string]any {
	script := make([]any, len(statements))
	for i, st := range statements {
		script[i] = st
	}
	in, out := []any{}, []any{}
	for _, m := range inputs {
		in = append(in, map[string]any{"source": m[0], "destination": m[1]})
	}
	for _, m := range outputs {
		out = append(out, map[string]any{"source": m[0], "destination": m[1]})
	}
	return map[string]any{
		"parameters": map[string]any{"blocks": []any{map[string]any{"name": "Block 1", "codes": []any{
			map[string]any{"name": "Main", "script": script}}}}},
		"storage": map[string]any{"input": map[string]any{"tables": in}, "output": map[string]any{"tables": out}},
	}
}

func createConfig(t *testing.T, s *Stack, component, name string, configuration map[string]any) string {
	t.Helper()
	r := api(t, s, "POST", "/v2/storage/branch/default/components/"+component+"/configs",
		map[string]any{"name": name, "configuration": configuration})
	wantStatus(t, r, http.StatusCreated)
	return r.object(t)["id"].(string)
}

func TestTransformationJob_WritesItsOutputTableWhenItSucceeds(t *testing.T) {
	s, clk := newClocked(t, Options{})
	cfg := createConfig(t, s, snowflakeTransformation, "Monthly revenue", transformationConfig(
		[]string{`CREATE OR REPLACE TABLE "monthly_revenue" AS
SELECT DATE_TRUNC('month', "order_date") AS "month", SUM("total_usd") AS "revenue"
FROM "ord" WHERE "status" = 'completed' GROUP BY 1;`},
		[][2]string{{"in.c-crm.orders", "ord"}},
		[][2]string{{"monthly_revenue", "out.c-analytics.monthly_revenue"}}))
	job := runJob(t, s, map[string]any{"component": snowflakeTransformation, "config": cfg, "mode": "run"})
	// Not before the job succeeds: the output appears with the success.
	clk.Advance(2 * testStep)
	if got := jobStatus(t, s, job["id"])["status"]; got != "processing" {
		t.Fatalf("status %v, want processing", got)
	}
	wantStatus(t, api(t, s, "GET", "/v2/storage/tables/out.c-analytics.monthly_revenue", nil), http.StatusNotFound)
	clk.Advance(testStep)
	done := jobStatus(t, s, job["id"])
	if done["status"] != "success" {
		t.Fatalf("job %v, want success", done)
	}
	tbl := api(t, s, "GET", "/v2/storage/tables/out.c-analytics.monthly_revenue?include=columns", nil).object(t)
	var months int
	if err := s.db.QueryRow(`SELECT COUNT(DISTINCT date_trunc('month', order_date)) FROM "in.c-crm".orders WHERE status = 'completed'`).Scan(&months); err != nil {
		t.Fatal(err)
	}
	if tbl["rowsCount"] != float64(months) || fmt.Sprint(tbl["columns"]) != "[month revenue]" || tbl["lastImportDate"] != done["endTime"] {
		t.Errorf("output table %v; want %d rows, columns [month revenue], imported at the job end %v", tbl, months, done["endTime"])
	}
	def := api(t, s, "GET", "/v2/storage/tables/out.c-analytics.monthly_revenue?include=definition", nil).object(t)
	if got := path(t, def, "definition", "columns", 1, "definition"); fmt.Sprint(got) != "map[length:38,2 nullable:true type:NUMERIC]" {
		t.Errorf("revenue column definition %v; want NUMERIC 38,2 (a SUM of NUMBER(12,2))", got)
	}
	if b := api(t, s, "GET", "/v2/storage/buckets/out.c-analytics", nil); b.status != http.StatusOK {
		t.Errorf("the output bucket was not created: %d %s", b.status, b.body)
	}
	// The Query Service reads the new table with exact decimals.
	id := submit(t, s, `SELECT "month", "revenue" FROM "KEBOOLA_1234"."out.c-analytics"."monthly_revenue" ORDER BY 1 LIMIT 1`)
	clk.Advance(2 * testStep)
	res := api(t, s, "GET", fmt.Sprintf("/query/api/v1/queries/%s/%s/results", id, path(t, api(t, s, "GET", "/query/api/v1/queries/"+id, nil).object(t), "statements", 0, "id")), nil).object(t)
	var want string
	if err := s.db.QueryRow(`SELECT CAST(SUM(total_usd) AS VARCHAR) FROM "in.c-crm".orders WHERE status = 'completed' AND order_date < DATE '2025-02-01'`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if path(t, res, "data", 0, 0) != "2025-01-01" || path(t, res, "data", 0, 1) != want {
		t.Errorf("first month %v, want [2025-01-01 %s]", path(t, res, "data", 0), want)
	}
}

func TestTransformationJob_FailsWithTheEngineMessage(t *testing.T) {
	cases := []struct {
		name    string
		sql     string
		outputs [][2]string
		want    string
	}{
		{"misspelt keywords", `CREAT TABLE x AS SELEC 1`, nil, "syntax error line 1 at position 0 unexpected 'CREAT'"},
		{"unknown input", `CREATE TABLE "x" AS SELECT * FROM "nope"`, nil, "Object 'nope' does not exist or not authorized."},
		{"unquoted name folds", `CREATE TABLE "x" AS SELECT order_id FROM "orders"`, nil, "invalid identifier 'ORDER_ID'"},
		{"output never created", `CREATE TABLE "y" AS SELECT 1 AS "a"`, [][2]string{{"x", "out.c-t.x"}}, `Table "x" specified in output mapping was not created`},
		{"unquoted output name is upper case", `CREATE TABLE x AS SELECT 1 AS a`, [][2]string{{"x", "out.c-t.x"}}, `Table "x" specified in output mapping was not created`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := newClocked(t, Options{})
			cfg := createConfig(t, s, snowflakeTransformation, "Broken", transformationConfig([]string{tc.sql},
				[][2]string{{"in.c-crm.orders", "orders"}}, tc.outputs))
			job := runJob(t, s, map[string]any{"component": snowflakeTransformation, "config": cfg})
			clk.Advance(3 * testStep)
			done := jobStatus(t, s, job["id"])
			msg, _ := path(t, done, "result", "message").(string)
			if done["status"] != "error" || !strings.Contains(msg, tc.want) {
				t.Fatalf("job %v %q; want error mentioning %q", done["status"], msg, tc.want)
			}
			listed := api(t, s, "GET", "/queue/search/jobs?configId="+cfg, nil).array(t)
			if len(listed) != 1 || listed[0].(map[string]any)["status"] != "error" {
				t.Errorf("search lists %v", listed)
			}
			if evs := eventMessages(t, s, job["id"]); !strings.Contains(strings.Join(evs, "\n"), tc.want) {
				t.Errorf("events %q do not carry the failure", evs)
			}
			wantStatus(t, api(t, s, "GET", "/v2/storage/tables/out.c-t.x", nil), http.StatusNotFound)
		})
	}
}

func TestFlowJob_RunsPhasesInOrderAndStopsAtAFailure(t *testing.T) {
	s, clk := newClocked(t, Options{})
	good := createConfig(t, s, snowflakeTransformation, "Good", transformationConfig(
		[]string{`CREATE TABLE "n" AS SELECT COUNT(*) AS "n" FROM "orders"`},
		[][2]string{{"in.c-crm.orders", "orders"}}, [][2]string{{"n", "out.c-flow.n"}}))
	bad := createConfig(t, s, snowflakeTransformation, "Bad", transformationConfig([]string{`SELEC 1`}, nil, nil))
	flow := func(continueOnFailure bool) string {
		task := func(id int, phase, cfg string) map[string]any {
			return map[string]any{"id": id, "name": "task-" + cfg, "phase": phase, "enabled": true, "continueOnFailure": continueOnFailure,
				"task": map[string]any{"componentId": snowflakeTransformation, "configId": cfg, "mode": "run"}}
		}
		return createConfig(t, s, orchestratorComponent, "Flow", map[string]any{
			"phases": []any{map[string]any{"id": 1, "name": "First"}, map[string]any{"id": 2, "name": "Second", "dependsOn": []any{1}}},
			"tasks":  []any{task(1, "1", bad), task(2, "2", good)},
		})
	}

	childrenOf := func(parent any) []any {
		var out []any
		for _, j := range api(t, s, "GET", "/queue/search/jobs?componentId="+snowflakeTransformation+"&sortOrder=asc", nil).array(t) {
			if j.(map[string]any)["parentRunId"] == parent {
				out = append(out, j)
			}
		}
		return out
	}

	stopping := runJob(t, s, map[string]any{"component": orchestratorComponent, "config": flow(false)})
	clk.Advance(20 * testStep)
	done := jobStatus(t, s, stopping["id"])
	if done["status"] != "error" || !strings.Contains(fmt.Sprint(path(t, done, "result", "message")), "task-"+bad) {
		t.Fatalf("flow %v %v; want error naming the failed task", done["status"], done["result"])
	}
	children := childrenOf(stopping["id"])
	if len(children) != 1 || path(t, children, 0, "config") != bad ||
		path(t, children, 0, "runId") != fmt.Sprintf("%s.%s", stopping["id"], path(t, children, 0, "id")) {
		t.Fatalf("child jobs %v; want only the failed first-phase task, a child of the flow", children)
	}
	wantStatus(t, api(t, s, "GET", "/v2/storage/tables/out.c-flow.n", nil), http.StatusNotFound)

	continuing := runJob(t, s, map[string]any{"component": orchestratorComponent, "config": flow(true)})
	clk.Advance(20 * testStep)
	if got := jobStatus(t, s, continuing["id"])["status"]; got != "success" {
		t.Fatalf("flow with continueOnFailure ended %v", got)
	}
	children = childrenOf(continuing["id"])
	if len(children) != 2 || path(t, children, 0, "status") != "error" || path(t, children, 1, "config") != good || path(t, children, 1, "status") != "success" {
		t.Fatalf("child jobs %v; want the second phase to run after the first", children)
	}
	first, _ := path(t, children, 0, "endTime").(string)
	second, _ := path(t, children, 1, "startTime").(string)
	if first == "" || second < first {
		t.Errorf("the second phase started at %s, before the first ended at %s", second, first)
	}
	if n := api(t, s, "GET", "/v2/storage/tables/out.c-flow.n", nil).object(t)["rowsCount"]; n != float64(1) {
		t.Errorf("the second phase's output has %v rows", n)
	}
}

func TestDemoTransformation_RebuildsTheReports(t *testing.T) {
	s, clk := newClocked(t, Options{})
	before := api(t, s, "GET", "/v2/storage/tables/out.c-reports.daily_revenue", nil).object(t)
	job := runJob(t, s, map[string]any{"component": snowflakeTransformation, "config": demoTransformConfig})
	clk.Advance(3 * testStep)
	if got := jobStatus(t, s, job["id"]); got["status"] != "success" {
		t.Fatalf("the demo transformation ended %v: %v", got["status"], got["result"])
	}
	after := api(t, s, "GET", "/v2/storage/tables/out.c-reports.daily_revenue", nil).object(t)
	if after["rowsCount"] != before["rowsCount"] || after["lastImportDate"] == before["lastImportDate"] {
		t.Errorf("daily_revenue before %v/%v, after %v/%v", before["rowsCount"], before["lastImportDate"], after["rowsCount"], after["lastImportDate"])
	}
}

// A keboola.google-bigquery-transformation on a BigQuery project runs its
// GoogleSQL: the input mapping's tables are read unqualified by their
// destination names, as Keboola's own example reads `source` and writes
// `result` (help.keboola.com/transformations/bigquery/), CREATE TABLE with
// column definitions then INSERT INTO … SELECT is the docs' other example,
// and the output mapping writes to Storage as on Snowflake.
func TestBigQueryTransformationJob_WritesItsOutputsToStorage(t *testing.T) {
	s, clk := newClocked(t, Options{Backend: "bigquery"})
	cfg := createConfig(t, s, bigQueryTransformation, "Customer revenue", transformationConfig(
		[]string{
			"# GoogleSQL comments are skipped\nCREATE OR REPLACE TABLE `customer_revenue` AS\n" +
				"SELECT c.customer_id, c.segment, ROUND(SUM(o.total_usd), 2) AS revenue\n" +
				"FROM `customers` c JOIN ord o ON o.customer_id = c.customer_id\n" +
				"WHERE o.status = \"completed\" GROUP BY c.customer_id, c.segment;",
			"CREATE TEMP TABLE segments AS SELECT DISTINCT segment FROM customer_revenue;",
			"CREATE TABLE segment_count (segment STRING, customers INT64);",
			"INSERT INTO segment_count (segment, customers) SELECT s.segment, COUNT(*) FROM segments s JOIN customer_revenue r ON r.segment = s.segment GROUP BY s.segment;",
			"INSERT INTO segment_count VALUES ('none', 0);",
			"CREATE TABLE scratch AS SELECT 1 AS x; DROP TABLE scratch; SELECT COUNT(*) FROM customer_revenue;",
			// Read-only Storage access: a table outside the input mapping, by its dataset (the Python
			// server's project_system_prompt.md, "Input mapping vs RO Storage": a transformation can
			// read any Storage table by its FQN; create_sql_transformation has scripts do so).
			"CREATE TEMP TABLE storage_read AS SELECT COUNT(*) AS n FROM `in_c_crm`.`orders`;",
			// The docs' casting example, as written there.
			"CREATE OR REPLACE TABLE test (ID STRING, TM TIMESTAMP, NUM FLOAT64);\nINSERT INTO test (ID, TM, NUM)\nSELECT 'first', CURRENT_TIMESTAMP(), 12.5;",
		},
		[][2]string{{"in.c-crm.orders", "ord"}, {"in.c-crm.customers", "customers"}},
		[][2]string{{"customer_revenue", "out.c-bq.customer_revenue"}, {"segment_count", "out.c-bq.segment_count"}}))
	job := runJob(t, s, map[string]any{"component": bigQueryTransformation, "config": cfg})
	clk.Advance(3 * testStep)
	if done := jobStatus(t, s, job["id"]); done["status"] != "success" {
		t.Fatalf("job %v: %v; want success", done["status"], done["result"])
	}
	var customers, segments int
	if err := s.db.QueryRow(`SELECT COUNT(DISTINCT customer_id) FROM "in.c-crm".orders WHERE status = 'completed'`).Scan(&customers); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRow(`SELECT COUNT(DISTINCT c.segment) FROM "in.c-crm".customers c JOIN "in.c-crm".orders o USING (customer_id) WHERE o.status = 'completed'`).Scan(&segments); err != nil {
		t.Fatal(err)
	}
	revenue := api(t, s, "GET", "/v2/storage/tables/out.c-bq.customer_revenue", nil).object(t)
	if revenue["rowsCount"] != float64(customers) || fmt.Sprint(revenue["columns"]) != "[customer_id segment revenue]" {
		t.Errorf("customer_revenue %v rows, columns %v; want %d rows, [customer_id segment revenue]", revenue["rowsCount"], revenue["columns"], customers)
	}
	counts := api(t, s, "GET", "/v2/storage/tables/out.c-bq.segment_count", nil).object(t)
	if counts["rowsCount"] != float64(segments+1) || fmt.Sprint(counts["columns"]) != "[segment customers]" {
		t.Errorf("segment_count %v rows, columns %v; want %d rows, [segment customers]", counts["rowsCount"], counts["columns"], segments+1)
	}
	// The Query Service reads the new table as a dataset's.
	id := submit(t, s, "SELECT SUM(customers) AS n FROM `out_c_bq`.`segment_count`")
	clk.Advance(2 * testStep)
	res := api(t, s, "GET", fmt.Sprintf("/query/api/v1/queries/%s/%s/results", id, path(t, api(t, s, "GET", "/query/api/v1/queries/"+id, nil).object(t), "statements", 0, "id")), nil).object(t)
	if got := path(t, res, "data", 0, 0); got != fmt.Sprint(customers) {
		t.Errorf("SUM(customers) read back %v, want %d", got, customers)
	}
	// The script's temporary table did not outlive the job.
	var temps int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM duckdb_tables() WHERE temporary`).Scan(&temps); err != nil || temps != 0 {
		t.Errorf("%d temporary tables left (%v)", temps, err)
	}
}

// A failing GoogleSQL statement fails the job with the message format of
// the Snowflake path, carrying BigQuery's error object. Storage tables are
// only read through the input mapping ("tables not mentioned in Input
// Mapping cannot be used": help.keboola.com/transformations/mappings/;
// the BigQuery transformation docs describe no read-only access to Storage
// datasets), so a dataset-qualified name is refused.
func TestBigQueryTransformationJob_FailsWithTheBigQueryMessage(t *testing.T) {
	cases := []struct {
		name    string
		sql     string
		outputs [][2]string
		want    string
	}{
		{"misspelt keyword", "CREATE TABLE x AS SELEC 1", nil, `Query "CREATE TABLE x AS SELEC 1" in "Main" failed with error: {Location: "query"; Message: "Syntax error: Unexpected identifier SELEC at [1:19]"; Reason: "invalidQuery"}`},
		{"unknown input", "CREATE TABLE x AS SELECT * FROM nope", nil, "Not found: Table kbc-fakestack:WORKSPACE_"},
		{"input names are case-sensitive", "CREATE TABLE x AS SELECT * FROM Orders", nil, "Not found: Table kbc-fakestack:WORKSPACE_"},
		{"Snowflake quoting is a string", `CREATE TABLE x AS SELECT "order_id" FROM "orders"`, nil, `Unexpected string literal \"orders\"`},
		{"Snowflake function", "CREATE TABLE x AS SELECT IFF(TRUE, 1, 2) AS a", nil, "Function not found: IFF"},
		{"table exists", "CREATE TABLE orders AS SELECT 1 AS a", nil, "Already Exists: Table kbc-fakestack:WORKSPACE_"},
		{"insert into a missing table", "INSERT INTO x SELECT 1", nil, "Not found: Table kbc-fakestack:WORKSPACE_"},
		{"insert without a query", "INSERT INTO orders (order_id) SELEC 1", nil, "Syntax error: Unexpected identifier SELEC at [1:31]"},
		{"write to a Storage dataset", "CREATE TABLE `out_c_t`.`x` AS SELECT 1 AS a", nil, "a transformation writes only to its own dataset"},
		{"unmodelled statement", "DELETE FROM orders WHERE TRUE", nil, "DELETE statements are not supported"},
		{"unknown column", "CREATE TABLE x AS SELECT nope FROM orders", nil, "Unrecognized name: nope at [1:26]"},
		{"temporary table is no output", "CREATE TEMP TABLE x AS SELECT 1 AS a", [][2]string{{"x", "out.c-t.x"}}, `Table "x" specified in output mapping was not created`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := newClocked(t, Options{Backend: "bigquery"})
			cfg := createConfig(t, s, bigQueryTransformation, "Broken", transformationConfig([]string{tc.sql},
				[][2]string{{"in.c-crm.orders", "orders"}}, tc.outputs))
			job := runJob(t, s, map[string]any{"component": bigQueryTransformation, "config": cfg})
			clk.Advance(3 * testStep)
			done := jobStatus(t, s, job["id"])
			msg, _ := path(t, done, "result", "message").(string)
			if done["status"] != "error" || !strings.Contains(msg, tc.want) {
				t.Fatalf("job %v %q; want error mentioning %q", done["status"], msg, tc.want)
			}
			if evs := eventMessages(t, s, job["id"]); !strings.Contains(strings.Join(evs, "\n"), tc.want) {
				t.Errorf("events %q do not carry the failure", evs)
			}
			wantStatus(t, api(t, s, "GET", "/v2/storage/tables/out.c-t.x", nil), http.StatusNotFound)
		})
	}
}

// An SQL transformation runs on a workspace of its own backend, which a
// project of the other backend does not have (the Python server picks the
// component from the workspace's SQL dialect: tools/components/utils.py,
// get_sql_transformation_id_from_sql_dialect): the job fails instead of
// pretending to run Snowflake SQL on BigQuery or the reverse.
func TestTransformationJob_OfTheOtherBackendFails(t *testing.T) {
	cases := []struct {
		backend, component, sql string
	}{
		{"bigquery", snowflakeTransformation, `CREATE TABLE "x" AS SELECT 1 AS "a"`},
		{"snowflake", bigQueryTransformation, "CREATE TABLE x AS SELECT 1 AS a"},
	}
	for _, tc := range cases {
		t.Run(tc.component+" on "+tc.backend, func(t *testing.T) {
			s, clk := newClocked(t, Options{Backend: tc.backend})
			cfg := createConfig(t, s, tc.component, "Elsewhere", transformationConfig([]string{tc.sql}, nil, [][2]string{{"x", "out.c-t.x"}}))
			job := runJob(t, s, map[string]any{"component": tc.component, "config": cfg})
			clk.Advance(3 * testStep)
			done := jobStatus(t, s, job["id"])
			msg, _ := path(t, done, "result", "message").(string)
			if done["status"] != "error" || !strings.Contains(msg, "this project has no "+transformationBackend(tc.component)+" backend") {
				t.Fatalf("job %v %q; want an error naming the missing backend", done["status"], msg)
			}
			wantStatus(t, api(t, s, "GET", "/v2/storage/tables/out.c-t.x", nil), http.StatusNotFound)
		})
	}
}
