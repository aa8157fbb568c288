package keboola

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// queryStub scripts the Query Service: statuses are returned by successive
// status polls (the last repeats); total rows are served in pages.
type queryStub struct {
	statuses      []string
	statementErr  string
	totalRows     int
	submitFails   int // leading submits answered 403 "workspace credentials"
	polls         atomic.Int32
	submits       atomic.Int32
	pageRequests  atomic.Int32
	cancelled     atomic.Bool
	pollStarted   chan struct{}
	pollStartedOK atomic.Bool
	// submitHeld, when set, is closed once a submit arrives; the answer then
	// waits for submitRelease, as a slow Query Service would.
	submitHeld    chan struct{}
	submitRelease chan struct{}
	// features are the project features tokens/verify reports.
	features []string
}

func (q *queryStub) handler(w http.ResponseWriter, r *http.Request, body string) {
	switch {
	case r.URL.Path == "/v2/storage/dev-branches":
		reply(w, 200, `[{"id":11,"isDefault":false},{"id":1234,"name":"Main","isDefault":true}]`)
	case r.URL.Path == "/v2/storage/tokens/verify":
		b, _ := json.Marshal(map[string]any{"id": "1", "owner": map[string]any{"id": 7, "features": q.features}})
		reply(w, 200, string(b))
	case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/queries"):
		if int(q.submits.Add(1)) <= q.submitFails {
			reply(w, 403, `{"status":"error","error":403,"exception":"Failed to get workspace credentials"}`)
			return
		}
		if q.submitHeld != nil {
			close(q.submitHeld)
			<-q.submitRelease
		}
		reply(w, 201, `{"queryJobId":"job-1"}`)
	case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/cancel"):
		q.cancelled.Store(true)
		reply(w, 200, `{}`)
	case strings.HasSuffix(r.URL.Path, "/results"):
		q.pageRequests.Add(1)
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		size, _ := strconv.Atoi(r.URL.Query().Get("pageSize"))
		var rows [][]any
		for i := off; i < min(off+size, q.totalRows); i++ {
			rows = append(rows, []any{strconv.Itoa(i), nil})
		}
		b, _ := json.Marshal(map[string]any{"status": "completed", "numberOfRows": q.totalRows, "data": rows,
			"columns": []map[string]string{{"name": "id", "type": "NUMBER"}, {"name": "note", "type": "TEXT"}}})
		reply(w, 200, string(b))
	case r.URL.Path == "/query/api/v1/queries/job-1":
		i := int(q.polls.Add(1)) - 1
		if q.pollStarted != nil && q.pollStartedOK.CompareAndSwap(false, true) {
			close(q.pollStarted)
		}
		st := q.statuses[min(i, len(q.statuses)-1)]
		stmt := map[string]any{"id": "st-1", "status": st, "numberOfRows": q.totalRows}
		if st == QueryStatusFailed {
			stmt["error"] = q.statementErr
		}
		b, _ := json.Marshal(map[string]any{"queryJobId": "job-1", "status": st, "statements": []any{stmt}})
		reply(w, 200, string(b))
	default:
		reply(w, 404, `{"error":"no route"}`)
	}
}

func TestRunQuery_PollsThenFetchesRows(t *testing.T) {
	q := &queryStub{statuses: []string{"enqueued", "processing", "completed"}, totalRows: 3}
	s := newStub(t, q.handler)
	c := newTestClient(t, s, "")
	var progress []string
	res, err := c.RunQuery(testCtx(t), "ws-9", "SELECT 1", QueryOptions{PollInterval: time.Millisecond,
		Progress: func(status string, _ time.Duration) { progress = append(progress, status) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 3 || res.TotalRows != 3 || res.Truncated || res.Columns[1].Name != "note" || res.Rows[2][0] != "2" || res.Rows[0][1] != nil {
		t.Errorf("result = %+v", res)
	}
	if strings.Join(progress, ",") != "enqueued,processing,completed" {
		t.Errorf("progress = %v", progress)
	}
	var submit seen
	for _, r := range s.calls() {
		if r.Method == "POST" {
			submit = r
		}
	}
	if submit.Path != "/query/api/v1/branches/1234/workspaces/ws-9/queries" {
		t.Errorf("submit path = %s (must use the numeric default branch)", submit.Path)
	}
	assertJSONEqual(t, submit.Body, `{"statements":["SELECT 1"]}`)
	if q.cancelled.Load() {
		t.Error("a finished query must not be cancelled")
	}
}

// On a development branch, SQL runs in the branch only when the project's
// storage is branched; otherwise the branch has no tables of its own and the
// production branch is queried (the Python server's WorkspaceManager.create).
func TestRunQuery_BranchFollowsStorageBranches(t *testing.T) {
	for _, tc := range []struct {
		name     string
		features []string
		want     string
	}{
		{"storage-branches project queries the dev branch", []string{"storage-branches"}, "/query/api/v1/branches/11/workspaces/ws/queries"},
		{"other projects query production", nil, "/query/api/v1/branches/1234/workspaces/ws/queries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &queryStub{statuses: []string{"completed"}, features: tc.features}
			s := newStub(t, q.handler)
			if _, err := newTestClient(t, s, "11").RunQuery(testCtx(t), "ws", "SELECT 1", QueryOptions{PollInterval: time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			for _, r := range s.calls() {
				if r.Method == "POST" && r.Path != tc.want {
					t.Errorf("submit path = %s, want %s", r.Path, tc.want)
				}
			}
		})
	}
}

func TestRunQuery_FailedStatementCarriesEngineMessage(t *testing.T) {
	q := &queryStub{statuses: []string{"processing", "failed"}, statementErr: "SQL compilation error: invalid identifier 'FOO'"}
	s := newStub(t, q.handler)
	_, err := newTestClient(t, s, "").RunQuery(testCtx(t), "ws", "SELECT foo", QueryOptions{PollInterval: time.Millisecond})
	var qe *QueryFailedError
	if !errors.As(err, &qe) || qe.Message != q.statementErr || qe.StatementID != "st-1" {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "invalid identifier 'FOO'") {
		t.Errorf("message lost: %v", err)
	}
}

func TestRunQuery_CanceledQueryIsAnError(t *testing.T) {
	q := &queryStub{statuses: []string{"canceled"}}
	s := newStub(t, q.handler)
	_, err := newTestClient(t, s, "").RunQuery(testCtx(t), "ws", "SELECT 1", QueryOptions{PollInterval: time.Millisecond})
	var qe *QueryFailedError
	if !errors.As(err, &qe) || qe.Status != QueryStatusCanceled {
		t.Fatalf("err = %v", err)
	}
}

func TestRunQuery_PagesAndTruncates(t *testing.T) {
	cases := []struct {
		name      string
		total     int
		maxRows   int
		wantRows  int
		wantPages int32
		truncated bool
	}{
		{"fewer rows than the cap", 150, 1000, 150, 1, false},
		{"cap below one page", 150, 5, 5, 1, true},
		{"several pages up to the cap", 2500, 1200, 1200, 2, true},
		{"several full pages", 2050, 3000, 2050, 3, false},
		{"empty result", 0, 10, 0, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := &queryStub{statuses: []string{"completed"}, totalRows: tc.total}
			s := newStub(t, q.handler)
			res, err := newTestClient(t, s, "").RunQuery(testCtx(t), "ws", "SELECT *", QueryOptions{MaxRows: tc.maxRows, PollInterval: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rows) != tc.wantRows || res.Truncated != tc.truncated || res.TotalRows != int64(tc.total) {
				t.Errorf("rows %d truncated %v total %d", len(res.Rows), res.Truncated, res.TotalRows)
			}
			if got := q.pageRequests.Load(); got != tc.wantPages {
				t.Errorf("%d page requests, want %d", got, tc.wantPages)
			}
			for i, row := range res.Rows {
				if row[0] != strconv.Itoa(i) {
					t.Fatalf("row %d = %v: pages out of order or repeated", i, row)
				}
			}
		})
	}
}

func TestRunQuery_CallerGivingUpDuringSubmitStillCancelsTheQuery(t *testing.T) {
	// The caller leaves while Keboola is still answering the submit: the query
	// was accepted, so its id must still be read and the query cancelled,
	// or it would run on unseen.
	q := &queryStub{statuses: []string{"processing"}, submitHeld: make(chan struct{}), submitRelease: make(chan struct{})}
	s := newStub(t, q.handler)
	c := newTestClient(t, s, "")
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() {
		<-q.submitHeld
		cancel()
		close(q.submitRelease)
	}()
	_, err := c.RunQuery(ctx, "ws", "SELECT SLEEP", QueryOptions{PollInterval: time.Millisecond})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if !q.cancelled.Load() {
		t.Fatal("a query accepted while the caller left was not cancelled on the server")
	}
}

func TestRunQuery_CancelsOnServerWhenCallerGivesUp(t *testing.T) {
	q := &queryStub{statuses: []string{"processing"}, pollStarted: make(chan struct{})}
	s := newStub(t, q.handler)
	c := newTestClient(t, s, "")
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() {
		<-q.pollStarted
		cancel()
	}()
	_, err := c.RunQuery(ctx, "ws", "SELECT SLEEP", QueryOptions{PollInterval: time.Millisecond})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if !q.cancelled.Load() {
		t.Fatal("the query was not cancelled on the server")
	}
	for _, r := range s.calls() {
		if strings.HasSuffix(r.Path, "/cancel") {
			if r.Path != "/query/api/v1/queries/job-1/cancel" || r.Header.Get("X-StorageApi-Token") != testToken {
				t.Errorf("cancel request = %s with token header %v", r.Path, r.Header.Get("X-StorageApi-Token") != "")
			}
		}
	}
}

func TestRunQuery_RetriesWhileWorkspaceCredentialsAreProvisioned(t *testing.T) {
	cases := []struct {
		fails       int
		wantErr     bool
		wantSubmits int32
	}{
		{fails: 2, wantErr: false, wantSubmits: 3},
		{fails: 10, wantErr: true, wantSubmits: credentialRetries},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d failures", tc.fails), func(t *testing.T) {
			q := &queryStub{statuses: []string{"completed"}, submitFails: tc.fails}
			s := newStub(t, q.handler)
			_, err := newTestClient(t, s, "").RunQuery(testCtx(t), "ws", "SELECT 1", QueryOptions{PollInterval: time.Millisecond})
			if (err != nil) != tc.wantErr || q.submits.Load() != tc.wantSubmits {
				t.Fatalf("err = %v after %d submits", err, q.submits.Load())
			}
			if tc.wantErr && !errors.Is(err, ErrForbidden) {
				t.Errorf("final error should be the 403: %v", err)
			}
		})
	}
}

func TestRunQuery_OtherForbiddenIsNotRetried(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		if r.URL.Path == "/v2/storage/dev-branches" {
			reply(w, 200, `[{"id":1,"isDefault":true}]`)
			return
		}
		reply(w, 403, `{"status":"error","error":403,"exception":"Access denied"}`)
	})
	_, err := newTestClient(t, s, "").RunQuery(testCtx(t), "ws", "SELECT 1", QueryOptions{})
	if !errors.Is(err, ErrForbidden) {
		t.Fatal(err)
	}
	posts := 0
	for _, r := range s.calls() {
		if r.Method == "POST" {
			posts++
		}
	}
	if posts != 1 {
		t.Errorf("%d submits for a plain 403", posts)
	}
}

func TestDefaultBranchID_LookedUpOncePerCredential(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		reply(w, 200, `[{"id":"5","isDefault":true}]`)
	})
	for range 3 {
		// A fresh client each time, as the HTTP server builds one per request.
		if id, err := newTestClient(t, s, "").DefaultBranchID(testCtx(t)); err != nil || id != "5" {
			t.Fatalf("id = %q, %v", id, err)
		}
	}
	if n := len(s.calls()); n != 1 {
		t.Errorf("%d lookups", n)
	}
}

func TestRunQuery_OwnTimeoutCancelsOnServer(t *testing.T) {
	q := &queryStub{statuses: []string{"processing"}}
	s := newStub(t, q.handler)
	_, err := newTestClient(t, s, "").RunQuery(testCtx(t), "ws", "SELECT 1", QueryOptions{PollInterval: time.Millisecond, Timeout: 50 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not finish within") {
		t.Fatalf("err = %v", err)
	}
	if !q.cancelled.Load() {
		t.Fatal("the query was not cancelled on the server")
	}
}

// Evidence: the Python server gives Query Service calls 120 s
// (clients/query.py _QS_TIMEOUT, read=120) while Storage calls keep the
// usual 30 s; a results page of a heavy statement needs the longer wait.
func TestQueryServiceAttemptsWait120Seconds(t *testing.T) {
	c, err := New(Credentials{StackURL: "https://connection.keboola.com", StorageToken: testToken}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		service Service
		want    time.Duration
	}{
		{ServiceQuery, 120 * time.Second},
		{"", 30 * time.Second},
		{ServiceQueue, 30 * time.Second},
	} {
		if got := c.attemptTimeout(request{service: tc.service}); got != tc.want {
			t.Errorf("%q: attempt timeout %v, want %v", tc.service, got, tc.want)
		}
	}
}

// The Python server's pattern (workspace.py, _BigQueryWorkspace:
// Message:\s*"((?:[^"\\]|\\.)*)" with \" then unescaped) decides each case.
func TestBigQueryErrorMessage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{Location: "query"; Message: "Syntax error: Unexpected string literal \"in.c-crm\" at [1:15]"; Reason: "invalidQuery"}`,
			`Syntax error: Unexpected string literal "in.c-crm" at [1:15]`},
		{`{Message:"Not found: Table x"; Reason: "notFound"}`, `Not found: Table x`},
		{"{Message:\n  \"spaced\"}", `spaced`},
		{`{Message: "a backslash \\ stays, \\\" too"}`, `a backslash \\ stays, \\" too`},
		{`{Message: none; Message: "the second one"}`, `the second one`},
		{`{Message: "never closed}`, `{Message: "never closed}`},
		{`SQL compilation error: Object 'X' does not exist`, `SQL compilation error: Object 'X' does not exist`},
	} {
		if got := bigQueryErrorMessage(tc.in); got != tc.want {
			t.Errorf("bigQueryErrorMessage(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
