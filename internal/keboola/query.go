package keboola

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// QueryJob is the state of a submitted Query Service job.
type QueryJob struct {
	QueryJobID string           `json:"queryJobId"`
	Status     string           `json:"status"`
	Statements []QueryStatement `json:"statements"`
}

// QueryStatement is one SQL statement of a query job.
type QueryStatement struct {
	ID           string `json:"id"`
	Query        string `json:"query"`
	Status       string `json:"status"`
	Error        string `json:"error"`
	NumberOfRows int64  `json:"numberOfRows"`
	RowsAffected int64  `json:"rowsAffected"`
}

// QueryColumn names and types one result column.
type QueryColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// QueryResultPage is one page of a statement's result. Values are strings,
// json.Number, bool or nil (SQL NULL).
type QueryResultPage struct {
	Status       string        `json:"status"`
	Columns      []QueryColumn `json:"columns"`
	Data         [][]any       `json:"data"`
	NumberOfRows int64         `json:"numberOfRows"`
	Message      string        `json:"message"`
}

// Query job and statement statuses that end polling.
const (
	QueryStatusCompleted = "completed"
	QueryStatusFailed    = "failed"
	QueryStatusCanceled  = "canceled"
)

func queryFinished(status string) bool {
	return status == QueryStatusCompleted || status == QueryStatusFailed || status == QueryStatusCanceled
}

// SubmitQuery starts SQL statements in a workspace on the branch SQL runs
// on (see queryBranch; the default branch resolved to its numeric id) and
// returns the query job id.
func (c *Client) SubmitQuery(ctx context.Context, workspaceID string, statements []string) (string, error) {
	if err := checkID("workspace id", workspaceID); err != nil {
		return "", err
	}
	if len(statements) == 0 {
		return "", errors.New("keboola: no SQL statement to run")
	}
	for _, s := range statements {
		if strings.TrimSpace(s) == "" {
			return "", errors.New("keboola: an SQL statement is empty")
		}
	}
	branch, err := c.queryBranch(ctx)
	if err != nil {
		return "", err
	}
	if branch == "default" {
		if branch, err = c.DefaultBranchID(ctx); err != nil {
			return "", err
		}
	}
	var out struct {
		QueryJobID FlexString `json:"queryJobId"`
	}
	req := request{service: ServiceQuery, method: "POST",
		path: "/api/v1/branches/" + url.PathEscape(branch) + "/workspaces/" + url.PathEscape(workspaceID) + "/queries",
		body: map[string]any{"statements": statements}}
	if err := c.doJSON(ctx, req, &out); err != nil {
		return "", err
	}
	if out.QueryJobID == "" {
		return "", errors.New("keboola: the Query Service accepted the query but returned no job id")
	}
	return string(out.QueryJobID), nil
}

// QueryStatus returns the state of a query job.
func (c *Client) QueryStatus(ctx context.Context, queryJobID string) (*QueryJob, error) {
	if err := checkID("query job id", queryJobID); err != nil {
		return nil, err
	}
	var out QueryJob
	if err := c.doJSON(ctx, request{service: ServiceQuery, method: "GET", path: "/api/v1/queries/" + url.PathEscape(queryJobID)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// QueryResults fetches one page (pageSize 100..10000) of a statement's result.
func (c *Client) QueryResults(ctx context.Context, queryJobID, statementID string, offset, pageSize int) (*QueryResultPage, error) {
	if err := checkID("query job id", queryJobID); err != nil {
		return nil, err
	}
	if err := checkID("statement id", statementID); err != nil {
		return nil, err
	}
	if offset < 0 || pageSize < minQueryPage || pageSize > maxQueryPage {
		return nil, fmt.Errorf("keboola: result offset must not be negative and page size must be %d..%d", minQueryPage, maxQueryPage)
	}
	body, err := c.do(ctx, request{service: ServiceQuery, method: "GET",
		path:  "/api/v1/queries/" + url.PathEscape(queryJobID) + "/" + url.PathEscape(statementID) + "/results",
		query: url.Values{"offset": {strconv.Itoa(offset)}, "pageSize": {strconv.Itoa(pageSize)}}})
	if err != nil {
		return nil, err
	}
	var out QueryResultPage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // keep big integers and decimals exactly as the engine sent them
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("keboola query API: cannot decode the results page: %w", err)
	}
	return &out, nil
}

// CancelQuery asks the Query Service to stop a query job.
func (c *Client) CancelQuery(ctx context.Context, queryJobID, reason string) error {
	if err := checkID("query job id", queryJobID); err != nil {
		return err
	}
	return c.doJSON(ctx, request{service: ServiceQuery, method: "POST", idempotent: true,
		path: "/api/v1/queries/" + url.PathEscape(queryJobID) + "/cancel",
		body: map[string]any{"reason": reason}}, nil)
}

// QueryOptions tune RunQuery.
type QueryOptions struct {
	// MaxRows caps the rows fetched; zero means 10000.
	MaxRows int
	// PollInterval is the first wait between status checks; it grows by half
	// each time up to 5s. Zero means 1s.
	PollInterval time.Duration
	// Progress, when set, is told the job status at every poll.
	Progress func(status string, elapsed time.Duration)
	// Timeout bounds the whole run (submit, wait, fetch); zero means 10 minutes.
	// A query still running then is cancelled on the server.
	Timeout time.Duration
}

// QueryResult is the outcome of RunQuery.
type QueryResult struct {
	QueryJobID string
	Columns    []QueryColumn
	// Rows hold strings, json.Number, bool or nil (SQL NULL).
	Rows [][]any
	// TotalRows is the number of rows the statement produced (or affected).
	TotalRows int64
	// Truncated is true when TotalRows exceeds len(Rows).
	Truncated bool
	// Message is the engine's note for statements without a result set.
	Message string
}

const (
	defaultQueryMaxRows = 10000
	minQueryPage        = 100
	maxQueryPage        = 10000
	// resultPageRows is the page the client asks for: the Python server
	// fetches 1,000 rows a page (workspace.py _PAGE_SIZE), which keeps each
	// answer small enough for the Query Service to serve within its timeout
	// on wide tables; the API allows up to 10,000.
	resultPageRows = 1000
	// queryServiceTimeout bounds one Query Service request: a results page
	// of a heavy statement can take long to assemble, and the Python server
	// waits 120 s for it (clients/query.py _QS_TIMEOUT) where Storage calls
	// get 30 s.
	queryServiceTimeout = 120 * time.Second
	maxQueryPoll        = 5 * time.Second
	credentialRetries   = 4
	cancelTimeout       = 5 * time.Second
	defaultQueryTimeout = 10 * time.Minute
)

// RunQuery runs one SQL statement in a workspace and returns up to MaxRows
// rows. When ctx ends (the caller gave up or timed out) it cancels the query
// on the server before returning. A statement the engine rejects is a
// *QueryFailedError carrying the engine's message.
func (c *Client) RunQuery(ctx context.Context, workspaceID, sql string, opts QueryOptions) (*QueryResult, error) {
	maxRows := opts.MaxRows
	if maxRows == 0 {
		maxRows = defaultQueryMaxRows
	}
	if maxRows < 0 {
		return nil, fmt.Errorf("keboola: MaxRows must not be negative, got %d", opts.MaxRows)
	}
	poll := opts.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultQueryTimeout
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	id, err := c.submitWithCredentialRetry(qctx, workspaceID, sql)
	if err != nil {
		return nil, err
	}
	res, err := c.awaitQuery(qctx, id, maxRows, poll, start, opts.Progress)
	var failed *QueryFailedError
	if errors.As(err, &failed) && failed.Message != "" {
		// The Query Service serializes a BigQuery job error as an object
		// ({Location: "query"; Message: "…"; Reason: "invalidQuery"}); the
		// Python server shows only its message (workspace.py,
		// _BigQueryWorkspace._format_error_message), and so does this.
		if info, verr := c.VerifyToken(ctx); verr == nil && info.Owner.Backend() == "bigquery" {
			failed.Message = bigQueryErrorMessage(failed.Message)
		}
	}
	if err != nil && qctx.Err() != nil {
		c.cancelAfterAbort(ctx, id)
		if ctx.Err() == nil {
			return nil, fmt.Errorf("keboola: query %s did not finish within %v and was cancelled: %w", id, timeout, context.DeadlineExceeded)
		}
	}
	return res, err
}

// submitWithCredentialRetry retries the 403 the Query Service gives while a
// new workspace's credentials are still being provisioned.
func (c *Client) submitWithCredentialRetry(ctx context.Context, workspaceID, sql string) (string, error) {
	for attempt := 1; ; attempt++ {
		// The request outlives a caller who leaves while it is in flight
		// (bounded by the per-call timeout instead): a query Keboola accepted
		// but whose id was never read would run on and could not be cancelled.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.attemptTimeout(request{service: ServiceQuery}))
		id, err := c.SubmitQuery(sctx, workspaceID, []string{sql})
		cancel()
		var apiErr *APIError
		if err == nil || attempt >= credentialRetries || !errors.As(err, &apiErr) ||
			apiErr.Status != http.StatusForbidden || !strings.Contains(strings.ToLower(apiErr.Message), "workspace credentials") {
			return id, err
		}
		if err := sleep(ctx, backoff(c.opts.Retry, attempt)); err != nil {
			return "", fmt.Errorf("keboola: submitting the query: %w", err)
		}
	}
}

func (c *Client) awaitQuery(ctx context.Context, id string, maxRows int, poll time.Duration, start time.Time, progress func(string, time.Duration)) (*QueryResult, error) {
	var job *QueryJob
	for {
		var err error
		job, err = c.QueryStatus(ctx, id)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(job.Status, time.Since(start))
		}
		if queryFinished(job.Status) {
			break
		}
		if err := sleep(ctx, poll); err != nil {
			return nil, fmt.Errorf("keboola: waiting for query %s: %w", id, err)
		}
		poll = min(poll+poll/2, maxQueryPoll)
	}
	for _, st := range job.Statements {
		if st.Status == QueryStatusFailed || (job.Status == QueryStatusFailed && st.Error != "") {
			return nil, &QueryFailedError{QueryJobID: id, StatementID: st.ID, Status: QueryStatusFailed, Message: st.Error}
		}
	}
	if job.Status != QueryStatusCompleted {
		return nil, &QueryFailedError{QueryJobID: id, Status: job.Status}
	}
	if len(job.Statements) == 0 {
		return nil, fmt.Errorf("keboola: query %s completed without statements", id)
	}
	st := job.Statements[len(job.Statements)-1]
	return c.fetchRows(ctx, id, st, maxRows)
}

func (c *Client) fetchRows(ctx context.Context, id string, st QueryStatement, maxRows int) (*QueryResult, error) {
	res := &QueryResult{QueryJobID: id, TotalRows: st.NumberOfRows}
	for offset := 0; ; {
		size := min(max(maxRows-len(res.Rows), minQueryPage), resultPageRows)
		page, err := c.QueryResults(ctx, id, st.ID, offset, size)
		if err != nil {
			return nil, err
		}
		if page.Status == QueryStatusFailed {
			return nil, &QueryFailedError{QueryJobID: id, StatementID: st.ID, Status: page.Status, Message: page.Message}
		}
		if res.Columns == nil {
			res.Columns = page.Columns
			res.Message = page.Message
		}
		res.TotalRows = max(res.TotalRows, page.NumberOfRows)
		res.Rows = append(res.Rows, page.Data...)
		offset += len(page.Data)
		if len(res.Rows) >= maxRows {
			res.Rows = res.Rows[:maxRows]
			break
		}
		if len(page.Data) < size || int64(offset) >= res.TotalRows {
			break
		}
	}
	res.TotalRows = max(res.TotalRows, int64(len(res.Rows)))
	res.Truncated = res.TotalRows > int64(len(res.Rows))
	return res, nil
}

// cancelAfterAbort stops a query whose caller went away. The caller's context
// is already done, so a fresh, short one is used; its failure only gets logged.
func (c *Client) cancelAfterAbort(ctx context.Context, id string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelTimeout)
	defer cancel()
	if err := c.CancelQuery(cctx, id, "the caller stopped waiting"); err != nil {
		c.opts.Logger.WarnContext(cctx, "keboola: cancelling an abandoned query failed", "queryJobId", id, "error", err.Error())
	}
}

// bigQueryErrorMessage is the message of a serialized BigQuery error: the
// quoted text after "Message:", with its \" escapes undone (other escapes
// stay as written, as in the Python server), or the text unchanged when it
// holds none. Scanned by hand: this package is part of the Worker's
// login-only build, which has no regexp (see internal/login).
func bigQueryErrorMessage(text string) string {
	for rest := text; ; {
		i := strings.Index(rest, "Message:")
		if i < 0 {
			return text
		}
		rest = rest[i+len("Message:"):]
		if msg, ok := quotedMessage(strings.TrimLeft(rest, " \t\r\n\f\v")); ok {
			return msg
		}
	}
}

// quotedMessage reads the double-quoted string s starts with, undoing its
// \" escapes; false when s starts with no quote or the quote never closes.
func quotedMessage(s string) (string, bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", false
	}
	var msg strings.Builder
	for j := 1; j < len(s); j++ {
		switch c := s[j]; c {
		case '"':
			return msg.String(), true
		case '\\':
			if j+1 == len(s) {
				return "", false
			}
			j++
			if s[j] != '"' {
				msg.WriteByte('\\')
			}
			msg.WriteByte(s[j])
		default:
			msg.WriteByte(c)
		}
	}
	return "", false
}
