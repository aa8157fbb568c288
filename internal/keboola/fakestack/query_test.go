package fakestack

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func queryBase(s *Stack) string {
	return fmt.Sprintf("/query/api/v1/branches/%d/workspaces/%d/queries", defaultBranchID, demoWorkspaceID(s))
}

// demoWorkspaceID finds the demo's read-only workspace through the API.
func demoWorkspaceID(s *Stack) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ws := range s.state.workspaces {
		if ws.configurationID == demoMCPConfig {
			return id
		}
	}
	panic("demo workspace missing")
}

func submit(t *testing.T, s *Stack, stmts ...string) string {
	t.Helper()
	r := api(t, s, "POST", queryBase(s), map[string]any{"statements": stmts})
	wantStatus(t, r, http.StatusCreated)
	id, _ := r.object(t)["queryJobId"].(string)
	if id == "" {
		t.Fatalf("no queryJobId: %s", r.body)
	}
	return id
}

func TestQuery_RunsSnowflakeNamedSQLOverDemoTables(t *testing.T) {
	s, clk := newClocked(t, Options{})
	id := submit(t, s, `SELECT COUNT(*) AS "n" FROM "KEBOOLA_1234"."in.c-crm"."orders" WHERE "status" = 'completed'`,
		`select "segment", count(*) from KEBOOLA_1234."in.c-crm"."customers" group by 1 order by 1`)
	for _, want := range []string{"created", "processing", "completed"} {
		job := api(t, s, "GET", "/query/api/v1/queries/"+id, nil).object(t)
		if job["status"] != want {
			t.Fatalf("job status %v, want %s", job["status"], want)
		}
		clk.Advance(testStep)
	}
	job := api(t, s, "GET", "/query/api/v1/queries/"+id, nil).object(t)
	stmt := path(t, job, "statements", 0).(map[string]any)
	if stmt["status"] != "completed" || stmt["numberOfRows"] != float64(1) {
		t.Fatalf("statement %v", stmt)
	}
	res := api(t, s, "GET", fmt.Sprintf("/query/api/v1/queries/%s/%s/results", id, stmt["id"]), nil).object(t)
	var want int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM "in.c-crm"."orders" WHERE "status" = 'completed'`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if path(t, res, "data", 0, 0) != fmt.Sprint(want) || path(t, res, "columns", 0, "name") != "n" || res["status"] != "completed" {
		t.Errorf("results %v, want count %d", res, want)
	}
	seg := api(t, s, "GET", fmt.Sprintf("/query/api/v1/queries/%s/%s/results", id, path(t, job, "statements", 1, "id")), nil).object(t)
	if path(t, seg, "data", 0, 0) != "Enterprise" || len(seg["data"].([]any)) != 3 {
		t.Errorf("segments %v", seg["data"])
	}
}

func TestQuery_ResultsArePaged(t *testing.T) {
	s, clk := newClocked(t, Options{})
	id := submit(t, s, `SELECT "session_id" FROM "KEBOOLA_1234"."in.c-web"."sessions" ORDER BY "session_id"`)
	clk.Advance(2 * testStep)
	stmtID := path(t, api(t, s, "GET", "/query/api/v1/queries/"+id, nil).object(t), "statements", 0, "id")
	page := func(q string) map[string]any {
		return api(t, s, "GET", fmt.Sprintf("/query/api/v1/queries/%s/%s/results?%s", id, stmtID, q), nil).object(t)
	}
	first, second := page("offset=0&pageSize=100"), page("offset=100&pageSize=100")
	if len(first["data"].([]any)) != 100 || first["numberOfRows"] != float64(12000) {
		t.Fatalf("first page: %d rows of %v", len(first["data"].([]any)), first["numberOfRows"])
	}
	if path(t, first, "data", 99, 0).(string) >= path(t, second, "data", 0, 0).(string) {
		t.Error("the second page does not continue the first")
	}
	if tail := page("offset=11950&pageSize=100"); len(tail["data"].([]any)) != 50 {
		t.Errorf("last page has %d rows, want 50", len(tail["data"].([]any)))
	}
	for _, bad := range []string{"pageSize=10", "pageSize=10001", "offset=-1"} {
		r := api(t, s, "GET", fmt.Sprintf("/query/api/v1/queries/%s/%s/results?%s", id, stmtID, bad), nil)
		wantStatus(t, r, http.StatusBadRequest)
	}
}

func TestQuery_FailuresCarryTheReason(t *testing.T) {
	cases := []struct {
		name string
		sql  string
		want string
	}{
		{"unknown table (Snowflake wording)", `SELECT * FROM "KEBOOLA_1234"."in.c-crm"."nope"`, "object 'in.c-crm.nope' does not exist or not authorized."},
		{"unknown column (Snowflake wording)", `SELECT nope FROM "KEBOOLA_1234"."in.c-crm"."customers"`, "invalid identifier 'nope'"},
		{"write in a read-only workspace", `DELETE FROM "KEBOOLA_1234"."in.c-crm"."orders"`, "read-only"},
		{"create in a read-only workspace", `CREATE TABLE "x" AS SELECT 1`, "read-only"},
		{"write hidden in a CTE", `WITH x AS (SELECT 1) INSERT INTO "in.c-crm"."orders"("order_id") SELECT 1 FROM x`, "read-only"},
		{"two statements in one entry", `SELECT 1; SELECT 2`, "one statement per entry"},
	}
	s, clk := newClocked(t, Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := submit(t, s, tc.sql, `SELECT 1`)
			clk.Advance(2 * testStep)
			job := api(t, s, "GET", "/query/api/v1/queries/"+id, nil).object(t)
			if job["status"] != "failed" {
				t.Fatalf("job %v, want failed", job)
			}
			msg, _ := path(t, job, "statements", 0, "error").(string)
			if !strings.Contains(strings.ToLower(msg), tc.want) {
				t.Errorf("error %q does not mention %q", msg, tc.want)
			}
			if got := path(t, job, "statements", 1, "status"); got != "notExecuted" {
				t.Errorf("statement after a failure: %v", got)
			}
			r := api(t, s, "GET", fmt.Sprintf("/query/api/v1/queries/%s/%s/results", id, path(t, job, "statements", 0, "id")), nil)
			wantStatus(t, r, http.StatusBadRequest)
			if body := r.object(t); body["status"] != "error" || body["error"] != float64(400) || body["exception"] != msg {
				t.Errorf("query error body %s", r.body)
			}
		})
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM "in.c-crm"."orders"`).Scan(&n); err != nil || n != 2500 {
		t.Errorf("orders now hold %d rows (%v): a write got through", n, err)
	}
}

func TestQuery_CancelAndRequestValidation(t *testing.T) {
	s, clk := newClocked(t, Options{})
	id := submit(t, s, `SELECT 1`)
	wantStatus(t, api(t, s, "POST", "/query/api/v1/queries/"+id+"/cancel", map[string]any{}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", "/query/api/v1/queries/"+id+"/cancel", map[string]any{"reason": "user gave up"}), http.StatusOK)
	clk.Advance(5 * testStep)
	if got := api(t, s, "GET", "/query/api/v1/queries/"+id, nil).object(t)["status"]; got != "canceled" {
		t.Errorf("status after cancel %v", got)
	}
	done := submit(t, s, `SELECT 1`)
	clk.Advance(2 * testStep)
	wantStatus(t, api(t, s, "POST", "/query/api/v1/queries/"+done+"/cancel", map[string]any{"reason": "late"}), http.StatusConflict)

	bad := []struct {
		name, path string
		body       any
		status     int
	}{
		{"symbolic branch", fmt.Sprintf("/query/api/v1/branches/default/workspaces/%d/queries", demoWorkspaceID(s)), map[string]any{"statements": []any{"SELECT 1"}}, http.StatusNotFound},
		{"unknown workspace", fmt.Sprintf("/query/api/v1/branches/%d/workspaces/9/queries", defaultBranchID), map[string]any{"statements": []any{"SELECT 1"}}, http.StatusNotFound},
		{"no statements", queryBase(s), map[string]any{"statements": []any{}}, http.StatusBadRequest},
		{"non-string statement", queryBase(s), map[string]any{"statements": []any{42}}, http.StatusBadRequest},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := api(t, s, "POST", tc.path, tc.body)
			wantStatus(t, r, tc.status)
			if r.object(t)["exception"] == nil {
				t.Errorf("not a Query Service error body: %s", r.body)
			}
		})
	}
	wantStatus(t, api(t, s, "GET", "/query/api/v1/queries/qj-0", nil), http.StatusNotFound)
}

func TestRewriteSnowflake_DropsTheDatabaseAndFoldsBareNames(t *testing.T) {
	opts := rewriteOptions{databases: []string{"KEBOOLA_1234"}, now: time.Date(2025, 11, 3, 8, 0, 0, 0, time.UTC)}
	cases := []struct {
		in, out, keyword string
	}{
		{`SELECT * FROM "KEBOOLA_1234"."in.c-crm"."orders"`, `SELECT * FROM "in.c-crm"."orders"`, "SELECT"},
		{`select 'KEBOOLA_1234.' || x from keboola_1234."in.c-a"."t"`, `select 'KEBOOLA_1234.' || "X" AS "'KEBOOLA_1234.' || X" from "in.c-a"."t"`, "SELECT"},
		{`-- "KEBOOLA_1234".x` + "\nWITH a AS (SELECT 1) SELECT * FROM a;", "-- \"KEBOOLA_1234\".x\nWITH \"A\" AS (SELECT 1 AS \"1\") SELECT * FROM \"A\"", "WITH"},
		{`(SELECT "KEBOOLA_12345"."x")`, `(SELECT "KEBOOLA_12345"."x")`, ""},
		{`SELECT 'it''s' AS "a ""b"""`, `SELECT 'it''s' AS "a ""b"""`, "SELECT"},
		{`SELECT DATEDIFF(dd, a, b), DATE_TRUNC(month, d) AS month FROM t`, `SELECT DATEDIFF('day', "A", "B") AS "DATEDIFF(DD, A, B)", sf_date_trunc('month', "D") AS "MONTH" FROM "T"`, "SELECT"},
		{`SELECT x::NUMBER(10,2), CAST(y AS STRING), CURRENT_DATE()`, `SELECT "X"::DECIMAL(10,2) AS "X::NUMBER(10,2)", sf_varchar ( "Y" ) AS "CAST(Y AS STRING)" , DATE '2025-11-03' AS "CURRENT_DATE()"`, "SELECT"},
		{`SELECT LISTAGG(n, ', ') WITHIN GROUP (ORDER BY n) FROM t`, `SELECT LISTAGG("N", ', ' ORDER BY "N") AS "LISTAGG(N, ', ') WITHIN GROUP (ORDER BY N)" FROM "T"`, "SELECT"},
		{`SELECT TO_CHAR(d, 'YYYY-MM "w"')`, `SELECT sf_to_char("D", '%Y-%m w') AS "TO_CHAR(D, 'YYYY-MM ""W""')"`, "SELECT"},
	}
	for _, tc := range cases {
		rw, err := rewriteSnowflake(tc.in, opts)
		if tc.keyword == "" {
			if err == nil {
				t.Errorf("rewriteSnowflake(%q) accepted a statement that does not start with a keyword", tc.in)
			}
			continue
		}
		if err != nil || rw.sql != tc.out || rw.keyword != tc.keyword {
			t.Errorf("rewriteSnowflake(%q) = %+v, %v; want %q, %q", tc.in, rw, err, tc.out, tc.keyword)
		}
	}
	for _, bad := range []string{`SELECT 'open`, `SELECT "open`, `/* open`, `SELECT 1; DROP TABLE x`, `  `} {
		if _, err := rewriteSnowflake(bad, opts); err == nil {
			t.Errorf("rewriteSnowflake(%q) accepted invalid SQL", bad)
		}
	}
}

// BenchmarkQueryAggregate measures submitting a grouped query over the
// 12,000-row sessions table and reading its result.
func BenchmarkQueryAggregate(b *testing.B) {
	benchmarkQuery(b, `SELECT "device", "channel", COUNT(*), AVG("duration_seconds") FROM "KEBOOLA_1234"."in.c-web"."sessions" GROUP BY 1, 2`, -1)
}

// BenchmarkQuerySemiStructured measures a query that parses JSON text,
// reads paths and flattens an array (the demo campaigns' targeting), whose
// VARIANT column makes the result run a second time as JSON text.
func BenchmarkQuerySemiStructured(b *testing.B) {
	benchmarkQuery(b, `SELECT c."campaign_id", PARSE_JSON(c."targeting"):audience AS audience, f.value::string AS device
		FROM "KEBOOLA_1234"."in.c-web"."campaigns" c, LATERAL FLATTEN(input => PARSE_JSON(c."targeting"):devices) f ORDER BY 1, 3`, 18)
}

// benchmarkQuery submits one statement, polls its job and reads its result
// per iteration; wantRows, unless negative, is the row count to expect.
func benchmarkQuery(b *testing.B, sql string, wantRows int) {
	s := newTestServer(b, Options{JobStepDelay: time.Nanosecond})
	hdr := tokenHeader(s.MasterToken())
	body := map[string]any{"statements": []string{sql}}
	for b.Loop() {
		r := call(b, "POST", s.URL()+queryBase(s), hdr, body)
		id := r.object(b)["queryJobId"].(string)
		job := call(b, "GET", s.URL()+"/query/api/v1/queries/"+id, hdr, nil).object(b)
		stmt := path(b, job, "statements", 0, "id").(string)
		res := call(b, "GET", fmt.Sprintf("%s/query/api/v1/queries/%s/%s/results", s.URL(), id, stmt), hdr, nil)
		if res.status != http.StatusOK || wantRows >= 0 && res.object(b)["numberOfRows"] != float64(wantRows) {
			b.Fatalf("results: %d %s", res.status, res.body)
		}
	}
}
