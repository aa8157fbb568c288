package tools

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

const (
	orders    = `"KEBOOLA_1234"."in.c-crm"."orders"`
	customers = `"KEBOOLA_1234"."in.c-crm"."customers"`
	// wideQuery returns 1000 rows of about 160 characters: over the character cap.
	wideQuery = `SELECT a.*, b.* FROM ` + customers + ` a CROSS JOIN ` + customers + ` b LIMIT 1000`
)

func TestQueryData(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "query_data", []expect{
		{name: "aggregate", args: map[string]any{"sql_query": `SELECT "status", COUNT(*) AS n FROM ` + orders + ` GROUP BY "status" ORDER BY "status"`, "query_name": "Orders by status"},
			contains: []string{"Query: Orders by status", "Returned 3 of 3 rows.", "status,N\n", "completed,"}}, // Snowflake folds the unquoted alias to upper case
		{name: "NULL is an empty field", args: map[string]any{"sql_query": `SELECT NULL AS a, 1 AS b`},
			contains: []string{"A,B\n,1\n"}, absent: []string{"null", "NULL"}},
		{name: "row cap", args: map[string]any{"sql_query": `SELECT 1 AS x FROM ` + orders + ` a CROSS JOIN ` + orders + ` b LIMIT 12000`},
			contains: []string{"Returned 10000 of 12000 rows (the answer is capped"}},
		{name: "character cap", args: map[string]any{"sql_query": wideQuery},
			contains: []string{" of 1000 rows (the answer is capped"}},
		{name: "invalid SQL gives the engine's message", args: map[string]any{"sql_query": `SELECT 1 +`},
			isError: true, contains: []string{"the SQL query failed: SQL compilation error"}},
		{name: "unknown table", args: map[string]any{"sql_query": `SELECT * FROM "KEBOOLA_1234"."in.c-crm"."nope"`},
			isError: true, contains: []string{"the SQL query failed: ", "nope"}},
		{name: "empty query is a schema error", args: map[string]any{"sql_query": ""}, isError: true},
		{name: "a write statement is refused", args: map[string]any{"sql_query": "/* tidy */ DROP TABLE x"},
			isError: true, contains: []string{`starts with DROP`}},
		{name: "a write behind WITH is refused", args: map[string]any{"sql_query": `WITH o AS (SELECT 1) DELETE FROM ` + orders},
			isError: true, contains: []string{`starts with DELETE`}},
		// The description names SHOW, DESCRIBE and EXPLAIN; a Snowflake
		// workspace runs them with its usage grants (issue 13).
		{name: "SHOW TABLES in a bucket", args: map[string]any{"sql_query": `SHOW TABLES IN SCHEMA "KEBOOLA_1234"."in.c-crm"`},
			contains: []string{",customers,KEBOOLA_1234,in.c-crm,TABLE,", ",orders,KEBOOLA_1234,in.c-crm,TABLE,"}},
		{name: "DESCRIBE a table", args: map[string]any{"sql_query": `DESCRIBE TABLE ` + orders},
			contains: []string{"name,type,kind,null?", "order_id,", ",COLUMN,", "total_usd,"}},
		{name: "comments before a SELECT are fine", args: map[string]any{"sql_query": "-- how many\nSELECT 1 AS one"},
			contains: []string{"Returned 1 of 1 rows."}},
	})
	if text, _ := f.call(t, "query_data", map[string]any{"sql_query": wideQuery}); len(text) > maxQueryChars+500 {
		t.Errorf("answer has %d characters, want at most about %d", len(text), maxQueryChars)
	}
}

// On a BigQuery project query_data runs GoogleSQL with the names
// get_tables gives (`dataset`.`table`), and a failure shows only the
// message of the BigQuery error object the Query Service returns, as the
// Python server's _BigQueryWorkspace._format_error_message does
// (workspace.py); Snowflake quoting is a BigQuery syntax error
// (cloud.google.com/bigquery/docs/reference/standard-sql/lexical: "…" is a
// string literal).
func TestQueryData_BigQueryProject(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{Backend: "bigquery"})
	f.check(t, "query_data", []expect{
		{name: "backquoted dataset and table", args: map[string]any{"sql_query": "SELECT status, COUNT(*) AS n FROM `in_c_crm`.`orders` GROUP BY status ORDER BY status"},
			contains: []string{"Returned 3 of 3 rows.", "status,n\n", "completed,"}},
		{name: "Snowflake quoting fails with BigQuery's message only", args: map[string]any{"sql_query": `SELECT * FROM "in.c-crm"."customers"`},
			isError: true, contains: []string{`the SQL query failed: Syntax error: Unexpected string literal "in.c-crm" at [1:15]`},
			absent: []string{"Location", "Reason", `\"`}},
		{name: "an unknown table", args: map[string]any{"sql_query": "SELECT * FROM `in_c_crm`.`nope`"},
			isError: true, contains: []string{"the SQL query failed: Not found: Table kbc-fakestack:in_c_crm.nope was not found in location US"},
			absent: []string{"Location", "Reason"}},
	})
}

func TestQueryData_FindsTheWorkspaceOnce(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.resetRequests()
	for range 3 {
		if text, isErr := f.call(t, "query_data", map[string]any{"sql_query": "SELECT 1 AS one"}); isErr {
			t.Fatal(text)
		}
	}
	if n := f.requests("GET", "/workspaces"); n != 1 {
		t.Errorf("workspaces were listed %d times for 3 queries, want once", n)
	}
}

func TestQueryData_PinnedWorkspaceSchemaMustExist(t *testing.T) {
	t.Parallel()
	stack := shared.Get(t)
	f := newFixtureFor(t, stack, keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken()), WorkspaceSchema: "NO_SUCH_SCHEMA"})
	text, isErr := f.call(t, "query_data", map[string]any{"sql_query": "SELECT 1"})
	if !isErr || !strings.Contains(text, "NO_SUCH_SCHEMA") {
		t.Errorf("isError=%v text=%q, want an error naming the pinned schema", isErr, text)
	}
}

func TestQueryData_SendsProgressWhenAsked(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	if text, isErr := f.callCtx(context.Background(), t, "query_data", map[string]any{"sql_query": "SELECT 1 AS one"}, "tok-1"); isErr {
		t.Fatal(text)
	}
	notes := waitFor(t, func() []*mcp.ProgressNotificationParams { return f.progress.all() })
	for i, n := range notes {
		if n.ProgressToken != "tok-1" {
			t.Errorf("notification %d has token %v", i, n.ProgressToken)
		}
		if i > 0 && n.Progress <= notes[i-1].Progress {
			t.Errorf("progress does not grow: %v after %v", n.Progress, notes[i-1].Progress)
		}
		if !strings.Contains(n.Message, "query ") {
			t.Errorf("message %q does not say what is happening", n.Message)
		}
	}
}

func TestQueryData_CancelledCallCancelsTheQuery(t *testing.T) {
	t.Parallel()
	// Jobs never advance: the query waits until it is cancelled.
	f := newFixture(t, fakestack.Options{JobStepDelay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.session.CallTool(ctx, &mcp.CallToolParams{Name: "query_data", Arguments: map[string]any{"sql_query": "SELECT 1"}})
		done <- err
	}()
	waitFor(t, func() []int {
		if f.requests("POST", "/queries") > 0 {
			return []int{1}
		}
		return nil
	})
	cancel()
	if err := <-done; err == nil {
		t.Error("the cancelled call returned no error")
	}
	waitFor(t, func() []int {
		if n := f.requests("POST", "/cancel"); n > 0 {
			return []int{n}
		}
		return nil
	})
}

// waitFor polls get until it returns something, failing after a generous
// bound; it waits for asynchronous effects without asserting on timing.
func waitFor[T any](t *testing.T, get func() []T) []T {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if v := get(); len(v) > 0 {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatal("the expected effect did not happen")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// query_data answers with structuredContent too, valid against its
// outputSchema (the SDK validates it before sending), holding the rows the
// text shows.
func TestQueryData_StructuredContent(t *testing.T) {
	f := readFixture(t)
	for _, tc := range []struct {
		name, sql string
		columns   []string
		returned  int
		total     int64
		truncated bool
		firstRow  string
	}{
		{name: "aggregate", sql: `SELECT "status", COUNT(*) AS n FROM ` + orders + ` GROUP BY "status" ORDER BY "status"`,
			columns: []string{"status", "N"}, returned: 3, total: 3, firstRow: `["completed",`},
		{name: "NULL stays null; values come as the Query Service sends them (text)", sql: `SELECT NULL AS a, 1 AS b`, columns: []string{"A", "B"}, returned: 1, total: 1, firstRow: `[null,"1"]`},
		{name: "row cap", sql: `SELECT 1 AS x FROM ` + orders + ` a CROSS JOIN ` + orders + ` b LIMIT 12000`,
			columns: []string{"X"}, returned: maxQueryRows, total: 12000, truncated: true, firstRow: `["1"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.session.CallTool(context.Background(), &mcp.CallToolParams{Name: "query_data", Arguments: map[string]any{"sql_query": tc.sql}})
			if err != nil || res.IsError {
				t.Fatalf("err=%v result=%+v", err, res)
			}
			raw, _ := json.Marshal(res.StructuredContent)
			var out struct {
				Columns      []string          `json:"columns"`
				Rows         []json.RawMessage `json:"rows"`
				ReturnedRows int               `json:"returned_rows"`
				TotalRows    int64             `json:"total_rows"`
				Truncated    bool              `json:"truncated"`
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("structuredContent %s: %v", raw, err)
			}
			if !slices.Equal(out.Columns, tc.columns) || out.ReturnedRows != tc.returned || len(out.Rows) != tc.returned ||
				out.TotalRows != tc.total || out.Truncated != tc.truncated {
				t.Errorf("structuredContent = %.300s", raw)
			}
			if len(out.Rows) > 0 && !strings.HasPrefix(string(out.Rows[0]), tc.firstRow) {
				t.Errorf("first row %s, want it to start with %s", out.Rows[0], tc.firstRow)
			}
			if text := res.Content[0].(*mcp.TextContent).Text; !strings.Contains(text, "Returned ") {
				t.Errorf("the text answer changed: %.200s", text)
			}
		})
	}
	res, err := f.session.CallTool(context.Background(), &mcp.CallToolParams{Name: "query_data", Arguments: map[string]any{"sql_query": "SELECT 1 +"}})
	if err != nil || !res.IsError || res.StructuredContent != nil {
		t.Errorf("a failed query: err=%v isError=%v structured=%v", err, res.IsError, res.StructuredContent)
	}
}
