package tools

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

var (
	startedJob = regexp.MustCompile(`get_jobs\(job_ids=\["(\d+)"\]\)`)
	jobStatus  = regexp.MustCompile(`(?m)^Status: (\w+)`)
)

// waitForJob polls get_jobs until the job leaves its running states and
// returns the final answer. The fake's job steps are a millisecond long.
func waitForJob(t *testing.T, f *fixture, id string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		text, isErr := f.call(t, "get_jobs", map[string]any{"job_ids": []string{id}})
		if isErr {
			t.Fatalf("get_jobs: %s", text)
		}
		if m := jobStatus.FindStringSubmatch(text); m == nil || m[1] != "created" && m[1] != "waiting" && m[1] != "processing" {
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still running:\n%s", id, text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The demo's "create, run, read" loop through the real tools: an assistant
// writes a transformation, runs it, checks the job, finds the output table
// and queries it (issue 10 item 4).
func TestCreateRunRead_TransformationOutputIsQueryable(t *testing.T) {
	f := newFixture(t, fakestack.Options{})
	text, isErr := f.call(t, "create_sql_transformation", map[string]any{
		"name": "Monthly revenue", "description": "Completed order revenue per month.",
		"sql_code_blocks": []any{map[string]any{"name": "Aggregate", "script": `CREATE OR REPLACE TABLE "monthly_revenue" AS
SELECT DATE_TRUNC('month', "order_date") AS "month", SUM("total_usd") AS "revenue", COUNT(*) AS "orders"
FROM "KEBOOLA_1234"."in.c-crm"."orders" WHERE "status" = 'completed' GROUP BY 1;`}},
		"created_table_names": []string{"monthly_revenue"}})
	if isErr {
		t.Fatal(text)
	}
	cfg := createdTransformation.FindStringSubmatch(text)[1]
	text, isErr = f.call(t, "run_job", map[string]any{"component_id": "keboola.snowflake-transformation", "configuration_id": cfg})
	if isErr {
		t.Fatal(text)
	}
	job := waitForJob(t, f, startedJob.FindStringSubmatch(text)[1])
	if m := jobStatus.FindStringSubmatch(job); m == nil || m[1] != "success" {
		t.Fatalf("the job did not succeed:\n%s", job)
	}
	listed, _ := f.call(t, "get_jobs", map[string]any{"component_id": "keboola.snowflake-transformation", "config_id": cfg})
	if !strings.Contains(listed, "success") {
		t.Errorf("get_jobs listing does not show the successful run:\n%s", listed)
	}

	table, isErr := f.call(t, "get_tables", map[string]any{"table_ids": []string{"out.c-monthly-revenue.monthly_revenue"}})
	if isErr {
		t.Fatalf("the output table is not in Storage: %s", table)
	}
	for _, want := range []string{"month", "revenue", "orders", `"KEBOOLA_1234"."out.c-monthly-revenue"."monthly_revenue"`} {
		if !strings.Contains(table, want) {
			t.Errorf("get_tables lacks %q:\n%s", want, table)
		}
	}
	rows, isErr := f.call(t, "query_data", map[string]any{"query_name": "January revenue",
		"sql_query": `SELECT "month", "revenue" FROM "KEBOOLA_1234"."out.c-monthly-revenue"."monthly_revenue" WHERE "month" = '2025-01-01'`})
	if isErr {
		t.Fatal(rows)
	}
	direct, isErr := f.call(t, "query_data", map[string]any{"query_name": "January revenue from orders",
		"sql_query": `SELECT SUM("total_usd") AS "revenue" FROM "KEBOOLA_1234"."in.c-crm"."orders"
WHERE "status" = 'completed' AND DATE_TRUNC('month', "order_date") = '2025-01-01'::DATE`})
	if isErr {
		t.Fatal(direct)
	}
	revenue := regexp.MustCompile(`\d+\.\d\d\b`).FindString(direct)
	if revenue == "" || !strings.Contains(rows, "2025-01-01") || !strings.Contains(rows, revenue) {
		t.Errorf("query_data on the output:\n%s\nwant January's revenue %q (from the orders):\n%s", rows, revenue, direct)
	}
}

func TestCreateRunRead_BadSQLFailsTheJobWithTheEngineMessage(t *testing.T) {
	f := newFixture(t, fakestack.Options{})
	text, isErr := f.call(t, "create_sql_transformation", map[string]any{
		"name": "Broken", "description": "Misspelt SQL.",
		"sql_code_blocks":     []any{map[string]any{"name": "Oops", "script": `CREAT TABLE x AS SELEC 1;`}},
		"created_table_names": []string{"x"}})
	if isErr {
		t.Fatal(text)
	}
	cfg := createdTransformation.FindStringSubmatch(text)[1]
	text, _ = f.call(t, "run_job", map[string]any{"component_id": "keboola.snowflake-transformation", "configuration_id": cfg})
	job := waitForJob(t, f, startedJob.FindStringSubmatch(text)[1])
	if m := jobStatus.FindStringSubmatch(job); m == nil || m[1] != "error" || !strings.Contains(job, "syntax error line 1 at position 0 unexpected 'CREAT'") {
		t.Errorf("get_jobs of the failed run:\n%s", job)
	}
}

// On a BigQuery project create_sql_transformation makes a
// keboola.google-bigquery-transformation, and run_job really runs its
// GoogleSQL: with an input mapping the script reads the tables unqualified
// by their destination names (help.keboola.com/transformations/bigquery/:
// the example reads `source`), and its output reaches Storage; a Storage
// table read by its dataset.table name, with no input mapping, works too
// (read-only Storage access, as create_sql_transformation's description
// and the Python server's project prompt have scripts read them), and bad
// SQL fails the job with BigQuery's message.
func TestCreateRunRead_BigQueryTransformation(t *testing.T) {
	cases := []struct {
		name, script string
		inputs       []any // storage.input.tables set with update_sql_transformation; nil: none
		status, want string
	}{
		{"input mapping, unqualified names",
			"CREATE OR REPLACE TABLE `status_counts` AS SELECT status, COUNT(*) AS n FROM `orders` GROUP BY status;",
			[]any{map[string]any{"source": "in.c-crm.orders", "destination": "orders"}}, "success", ""},
		{"Storage dataset without input mapping",
			"CREATE OR REPLACE TABLE `status_counts` AS SELECT status, COUNT(*) AS n FROM `in_c_crm`.`orders` GROUP BY status;",
			nil, "success", ""},
		{"Snowflake SQL",
			`CREATE OR REPLACE TABLE "status_counts" AS SELECT "status", COUNT(*) AS "n" FROM "orders" GROUP BY 1;`,
			[]any{map[string]any{"source": "in.c-crm.orders", "destination": "orders"}}, "error", "Syntax error: Unexpected string literal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fakestack.Options{Backend: "bigquery"})
			text, isErr := f.call(t, "create_sql_transformation", map[string]any{
				"name": "Status counts", "description": "Orders per status.",
				"sql_code_blocks":     []any{map[string]any{"name": "Count", "script": tc.script}},
				"created_table_names": []string{"status_counts"}})
			if isErr {
				t.Fatal(text)
			}
			cfg := createdTransformation.FindStringSubmatch(text)[1]
			if tc.inputs != nil {
				text, isErr = f.call(t, "update_sql_transformation", map[string]any{"configuration_id": cfg, "change_description": "Read orders through input mapping.",
					"storage": map[string]any{"input": map[string]any{"tables": tc.inputs}, "output": map[string]any{"tables": []any{
						map[string]any{"source": "status_counts", "destination": "out.c-status-counts.status_counts"}}}}})
				if isErr {
					t.Fatal(text)
				}
			}
			text, isErr = f.call(t, "run_job", map[string]any{"component_id": "keboola.google-bigquery-transformation", "configuration_id": cfg})
			if isErr {
				t.Fatal(text)
			}
			job := waitForJob(t, f, startedJob.FindStringSubmatch(text)[1])
			if m := jobStatus.FindStringSubmatch(job); m == nil || m[1] != tc.status || !strings.Contains(job, tc.want) {
				t.Fatalf("get_jobs of the run:\n%s\nwant %s mentioning %q", job, tc.status, tc.want)
			}
			if tc.status != "success" {
				return
			}
			rows, isErr := f.call(t, "query_data", map[string]any{"query_name": "Completed orders",
				"sql_query": "SELECT n FROM `out_c_status_counts`.`status_counts` WHERE status = 'completed'"})
			direct, _ := f.call(t, "query_data", map[string]any{"query_name": "Completed orders from the input",
				"sql_query": "SELECT COUNT(*) AS n FROM `in_c_crm`.`orders` WHERE status = 'completed'"})
			count := regexp.MustCompile(`\n(\d+)\n`).FindStringSubmatch(direct)
			if isErr || count == nil || !strings.Contains(rows, "\n"+count[1]+"\n") {
				t.Errorf("query_data on the output:\n%s\nwant the completed count from:\n%s", rows, direct)
			}
		})
	}
}
