package tools

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

var sqlTools = []Tool{
	define("query_data", "Query data with SQL",
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

// queryTimeout bounds a query_data call; past it the query is cancelled in
// Keboola. It stays below the 300 s after which common clients give up.
var queryTimeout = 240 * time.Second

// queryPollInterval is the first wait between status checks of a query;
// the client lengthens it by half after each check. Short, so the many
// queries that finish in under a second answer promptly.
var queryPollInterval = 250 * time.Millisecond

type queryDataInput struct {
	SQLQuery  string `json:"sql_query" jsonschema:"One SQL SELECT statement in the project's dialect, using fully qualified table names."`
	QueryName string `json:"query_name,omitempty" jsonschema:"A short human-readable name for what the query answers, e.g. Revenue by month."`
}

func queryData(ctx context.Context, c call, in queryDataInput) (string, error) {
	sql := strings.TrimSpace(in.SQLQuery)
	if sql == "" {
		return "", errorf("sql_query must not be empty")
	}
	if kw := leadingKeyword(sql); !readKeywords[kw] {
		return "", errorf("query_data runs read-only queries (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN); this statement starts with %q", kw)
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	ws, err := workspaces.get(ctx, c.client)
	if err != nil {
		return "", err
	}
	opts := keboola.QueryOptions{MaxRows: maxQueryRows, PollInterval: queryPollInterval, Progress: progressReporter(ctx, c.req)}
	res, err := c.client.RunQuery(ctx, ws, sql, opts)
	if errors.Is(err, keboola.ErrNotFound) {
		// The remembered workspace was deleted: find or create another, once.
		workspaces.forget(c.client, ws)
		if ws, err = workspaces.get(ctx, c.client); err == nil {
			res, err = c.client.RunQuery(ctx, ws, sql, opts)
		}
	}
	var failed *keboola.QueryFailedError
	switch {
	case errors.As(err, &failed):
		if failed.Message != "" {
			return "", errorf("the SQL query failed: %s", failed.Message)
		}
		return "", errorf("the SQL query ended with status %s", failed.Status)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return "", errorf("the query ran longer than %s and was cancelled; narrow it (filters, LIMIT, aggregation)", queryTimeout)
	case err != nil:
		return "", err
	}
	return queryCSV(in.QueryName, res), nil
}

// readKeywords are the statements query_data runs. The workspace can only
// read Storage anyway; the check keeps a model from changing the workspace
// itself under a tool that is announced, and granted, as read-only.
var readKeywords = map[string]bool{"SELECT": true, "WITH": true, "SHOW": true, "DESCRIBE": true, "DESC": true,
	"EXPLAIN": true, "VALUES": true, "(": true}

// leadingKeyword returns the first word of a statement in upper case,
// skipping comments; "(" for a parenthesised query.
func leadingKeyword(sql string) string {
	for {
		sql = strings.TrimSpace(sql)
		switch {
		case strings.HasPrefix(sql, "--"):
			if i := strings.IndexByte(sql, '\n'); i >= 0 {
				sql = sql[i+1:]
				continue
			}
			return ""
		case strings.HasPrefix(sql, "/*"):
			if i := strings.Index(sql, "*/"); i >= 0 {
				sql = sql[i+2:]
				continue
			}
			return ""
		case strings.HasPrefix(sql, "("):
			return "("
		}
		end := strings.IndexFunc(sql, func(r rune) bool { return !(r == '_' || unicode.IsLetter(r)) })
		if end < 0 {
			end = len(sql)
		}
		return strings.ToUpper(sql[:end])
	}
}

// queryCSV renders a result as CSV within the row and character caps. SQL
// NULL is an empty field.
func queryCSV(name string, res *keboola.QueryResult) string {
	if len(res.Columns) == 0 {
		msg := res.Message
		if msg == "" {
			msg = "The statement ran and returned no result set."
		}
		return msg + "\n"
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
	return out.String()
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

// workspaceCache remembers which workspace runs SQL for a project, token
// and branch, so query_data does not list workspaces on every call. Keys are
// hashes: no token is kept in memory longer than the client holds it.
type workspaceCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]*workspaceEntry
}

type workspaceEntry struct {
	// mu serialises finding or creating, so parallel first queries of one
	// user create one workspace, not several.
	mu      sync.Mutex
	id      string
	expires time.Time
}

const (
	workspaceTTL     = 30 * time.Minute
	workspaceMaxKeys = 4096
)

var workspaces = &workspaceCache{entries: map[[sha256.Size]byte]*workspaceEntry{}}

func workspaceKey(c *keboola.Client) [sha256.Size]byte {
	cr := c.Credentials()
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", cr.StackURL, cr.BranchID, cr.WorkspaceSchema)
	h.Write([]byte(cr.StorageToken.Reveal()))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func (wc *workspaceCache) entry(c *keboola.Client) *workspaceEntry {
	key := workspaceKey(c)
	wc.mu.Lock()
	defer wc.mu.Unlock()
	e, ok := wc.entries[key]
	if !ok {
		if len(wc.entries) >= workspaceMaxKeys {
			// Rare (thousands of users in one process): start over rather
			// than track ages; a dropped entry costs one workspace listing.
			clear(wc.entries)
		}
		e = &workspaceEntry{}
		wc.entries[key] = e
	}
	return e
}

// get returns the id of the workspace to query in: the one pinned by the
// credentials' WorkspaceSchema, else a read-only workspace of this server,
// else any read-only workspace, else a new one.
func (wc *workspaceCache) get(ctx context.Context, c *keboola.Client) (string, error) {
	e := wc.entry(c)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.id != "" && time.Now().Before(e.expires) {
		return e.id, nil
	}
	id, err := findWorkspace(ctx, c)
	if err != nil {
		return "", err
	}
	e.id, e.expires = id, time.Now().Add(workspaceTTL)
	return id, nil
}

func (wc *workspaceCache) forget(c *keboola.Client, id string) {
	e := wc.entry(c)
	e.mu.Lock()
	if e.id == id {
		e.id = ""
	}
	e.mu.Unlock()
}

func findWorkspace(ctx context.Context, c *keboola.Client) (string, error) {
	list, err := c.ListWorkspaces(ctx)
	if err != nil {
		return "", err
	}
	if pinned := c.Credentials().WorkspaceSchema; pinned != "" {
		for _, w := range list {
			if strings.EqualFold(w.Connection.Schema, pinned) {
				if !w.ReadOnlyStorageAccess {
					return "", errorf("the workspace %s (KBC_WORKSPACE_SCHEMA) does not have read-only storage access; only such workspaces can be used for queries", pinned)
				}
				return w.ID.String(), nil
			}
		}
		return "", errorf("no workspace with schema %s (KBC_WORKSPACE_SCHEMA) is visible to this token", pinned)
	}
	var fallback string
	for _, w := range list {
		if !w.ReadOnlyStorageAccess {
			continue
		}
		if w.Component == keboola.WorkspaceComponentID {
			return w.ID.String(), nil
		}
		if fallback == "" {
			fallback = w.ID.String()
		}
	}
	if fallback != "" {
		return fallback, nil
	}
	info, err := c.VerifyToken(ctx)
	if err != nil {
		return "", err
	}
	ws, err := c.CreateWorkspace(ctx, keboola.WorkspaceRequest{Backend: dialect(info.Owner).backend})
	if err != nil {
		return "", fmt.Errorf("creating a read-only workspace for SQL: %w", err)
	}
	return ws.ID.String(), nil
}
