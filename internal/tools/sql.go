package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

var sqlTools = []Tool{
	defineStructured("query_data", "Query data with SQL",
		"Runs one read-only SQL SELECT in the project's workspace and returns the result as CSV (at most "+
			"10,000 rows or 50,000 characters; the answer says how many rows were returned of how many). Write it "+
			"in the project's SQL dialect (get_project_info) with the fully qualified table names from get_tables. "+
			"Aggregate, filter and limit in SQL rather than fetching raw rows.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) { minLen(s, "sql_query", 1) },
		queryData),
}

// Limits of a query_data answer, so a result fits a model's context.
const (
	maxQueryRows  = 10000
	maxQueryChars = 50000
)

type queryDataInput struct {
	SQLQuery  string `json:"sql_query" jsonschema:"One SQL SELECT statement in the project's dialect, using fully qualified table names."`
	QueryName string `json:"query_name,omitempty" jsonschema:"A short human-readable name for what the query answers, e.g. Revenue by month."`
}

// queryOutput is query_data's structured answer: the same rows as the CSV
// text, as JSON values, for clients that parse results.
type queryOutput struct {
	Columns      []string `json:"columns" jsonschema:"The result's column names, in order."`
	Rows         [][]any  `json:"rows" jsonschema:"The returned rows, each a list of values in column order, as the Query Service gives them (values as text), null for SQL NULL."`
	ReturnedRows int      `json:"returned_rows" jsonschema:"How many rows are returned here."`
	TotalRows    int64    `json:"total_rows" jsonschema:"How many rows the query produced."`
	Truncated    bool     `json:"truncated" jsonschema:"True when fewer rows are returned than the query produced (the answer is capped)."`
	Message      string   `json:"message,omitempty" jsonschema:"The engine's note for a statement without a result set."`
}

func queryData(ctx context.Context, c call, in queryDataInput) (string, *queryOutput, error) {
	sql := strings.TrimSpace(in.SQLQuery)
	if sql == "" {
		return "", nil, errorf("sql_query must not be empty")
	}
	if err := checkReadOnlySQL(sql); err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.deps.QueryTimeout)
	defer cancel()
	ws, err := c.client.QueryWorkspace(ctx)
	if err != nil {
		return "", nil, err
	}
	opts := keboola.QueryOptions{MaxRows: maxQueryRows, PollInterval: c.deps.QueryPollInterval, Progress: progressReporter(ctx, c.req)}
	res, err := c.client.RunQuery(ctx, ws, sql, opts)
	if errors.Is(err, keboola.ErrNotFound) {
		// The remembered workspace was deleted: find or create another, once.
		c.client.ForgetQueryWorkspace(ws)
		if ws, err = c.client.QueryWorkspace(ctx); err == nil {
			res, err = c.client.RunQuery(ctx, ws, sql, opts)
		}
	}
	var failed *keboola.QueryFailedError
	switch {
	case errors.As(err, &failed):
		if failed.Message != "" {
			return "", nil, errorf("the SQL query failed: %s", failed.Message)
		}
		return "", nil, errorf("the SQL query ended with status %s", failed.Status)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return "", nil, errorf("the query ran longer than %s and was cancelled; narrow it (filters, LIMIT, aggregation)", c.deps.QueryTimeout)
	case err != nil:
		return "", nil, err
	}
	text, shown := queryCSV(in.QueryName, res)
	return text, structuredResult(res, shown), nil
}

// structuredResult is the structured twin of queryCSV's text: the rows the
// text shows.
func structuredResult(res *keboola.QueryResult, shown int) *queryOutput {
	out := &queryOutput{Columns: make([]string, len(res.Columns)), Rows: make([][]any, 0, shown),
		TotalRows: max(res.TotalRows, int64(len(res.Rows))), Message: res.Message}
	for i, col := range res.Columns {
		out.Columns[i] = col.Name
	}
	for _, r := range res.Rows[:shown] {
		row := make([]any, len(out.Columns))
		copy(row, r)
		out.Rows = append(out.Rows, row)
	}
	out.ReturnedRows = shown
	out.Truncated = int64(shown) < out.TotalRows
	return out
}

// queryCSV renders a result as CSV within the row and character caps, and
// says how many rows it shows. SQL NULL is an empty field.
func queryCSV(name string, res *keboola.QueryResult) (string, int) {
	if len(res.Columns) == 0 {
		msg := res.Message
		if msg == "" {
			msg = "The statement ran and returned no result set."
		}
		return msg + "\n", 0
	}
	header := make([]string, len(res.Columns))
	for i, col := range res.Columns {
		header[i] = col.Name
	}
	var body strings.Builder
	body.WriteString(csvTable(header, nil))
	shown := 0
	row := make([]string, len(header))
	for _, r := range res.Rows {
		for i := range row {
			row[i] = ""
			if i < len(r) {
				row[i] = cell(r[i])
			}
		}
		line := csvTable(row, nil)
		if body.Len()+len(line) > maxQueryChars {
			break
		}
		body.WriteString(line)
		shown++
	}
	total := max(res.TotalRows, int64(len(res.Rows)))
	var out strings.Builder
	if name != "" {
		fmt.Fprintf(&out, "Query: %s\n", oneLine(name))
	}
	if int64(shown) < total {
		fmt.Fprintf(&out, "Returned %d of %d rows (the answer is capped at %d rows and %d characters); aggregate or add filters to see the rest.\n",
			shown, total, maxQueryRows, maxQueryChars)
	} else {
		fmt.Fprintf(&out, "Returned %d of %d rows.\n", shown, total)
	}
	out.WriteString(body.String())
	return out.String(), shown
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

// progressReporter sends MCP progress notifications while a query runs,
// when the client asked for them with a progress token.
func progressReporter(ctx context.Context, req *mcp.CallToolRequest) func(string, time.Duration) {
	if req == nil || req.Params == nil || req.Session == nil {
		return nil
	}
	token := req.Params.GetProgressToken()
	if token == nil {
		return nil
	}
	polls := 0
	return func(status string, elapsed time.Duration) {
		polls++
		// Progress must grow with every notification; the poll count does.
		_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
			ProgressToken: token,
			Progress:      float64(polls),
			Message:       fmt.Sprintf("query %s after %s", status, elapsed.Round(100*time.Millisecond)),
		})
	}
}
