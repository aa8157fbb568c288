package fakestack

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Query Service: statements really run on the stack's DuckDB database
// through the Snowflake dialect layer (snowsql.go, sqlrun.go), or on a
// BigQuery project through the BigQuery one (bigsql.go). SQL written
// for the Snowflake workspace ("KEBOOLA_1234"."in.c-crm"."orders") has its
// project database qualifier dropped, which leaves the bucket schema
// ("in.c-crm"."orders"). Workspaces have read-only storage access: only
// queries, SHOW and DESCRIBE run.

const (
	queryMaxRows        = 100000 // rows kept per statement result
	queryStatementLimit = 30 * time.Second
	queryMaxStatements  = 20
)

type queryStatement struct {
	id        string
	sql       string
	err       string // non-empty: failed
	skipped   bool   // not run because an earlier statement failed
	cols      []string
	types     []string
	rows      [][]*string
	truncated bool
}

type queryJob struct {
	id         string
	wsID       int
	actorType  string
	created    time.Time
	canceledAt time.Time
	statements []*queryStatement
}

// status of the job at now: created for one step, processing for one step,
// then completed or failed; canceled from a cancel until the end.
func (j *queryJob) status(now time.Time, step time.Duration) string {
	done := j.created.Add(2 * step)
	switch {
	case !j.canceledAt.IsZero():
		return "canceled"
	case now.Before(j.created.Add(step)):
		return "created"
	case now.Before(done):
		return "processing"
	}
	for _, st := range j.statements {
		if st.err != "" {
			return "failed"
		}
	}
	return "completed"
}

func (s *Stack) queryRoutes(mux *http.ServeMux) {
	auth := func(h storageHandler) http.HandlerFunc { return s.withAuth(headerOrBearer, queryErrors, h) }
	const base = "/query/api/v1"
	mux.Handle("POST "+base+"/branches/{branch}/workspaces/{ws}/queries", auth(s.handleSubmitQuery))
	mux.Handle("GET "+base+"/queries/{id}", auth(s.handleQueryJob))
	mux.Handle("GET "+base+"/queries/{id}/{statement}/results", auth(s.handleQueryResults))
	mux.Handle("POST "+base+"/queries/{id}/cancel", auth(s.handleCancelQuery))
}

func queryFail(w http.ResponseWriter, status int, code, msg string) {
	writeError(w, queryErrors, status, code, msg)
}

func (s *Stack) handleSubmitQuery(w http.ResponseWriter, r *http.Request, _ *caller) {
	if b := r.PathValue("branch"); b != strconv.Itoa(defaultBranchID) {
		queryFail(w, http.StatusNotFound, "branchNotFound", fmt.Sprintf("Branch %q not found; the Query Service needs the numeric branch id (default branch: %d)", b, defaultBranchID))
		return
	}
	body, err := readBody(r)
	if err != nil {
		queryFail(w, http.StatusBadRequest, "validation", err.Error())
		return
	}
	raw, _ := body["statements"].([]any)
	if len(raw) == 0 || len(raw) > queryMaxStatements {
		queryFail(w, http.StatusBadRequest, "validation", fmt.Sprintf("statements must be an array of 1 to %d SQL strings", queryMaxStatements))
		return
	}
	stmts := make([]*queryStatement, len(raw))
	for i, v := range raw {
		sqlText, ok := v.(string)
		if !ok || strings.TrimSpace(sqlText) == "" {
			queryFail(w, http.StatusBadRequest, "validation", fmt.Sprintf("statements[%d] must be a non-empty SQL string", i))
			return
		}
		stmts[i] = &queryStatement{sql: sqlText}
	}
	actor, _ := strField(body, "actorType")
	if actor == "" {
		actor = "user"
	}
	wsID, err := strconv.Atoi(r.PathValue("ws"))
	s.mu.Lock()
	ws := s.state.workspaces[wsID]
	for _, st := range stmts {
		st.id = strconv.Itoa(s.state.nextID())
	}
	s.mu.Unlock()
	if err != nil || ws == nil {
		queryFail(w, http.StatusNotFound, "workspaceNotFound", fmt.Sprintf("Workspace %s not found", r.PathValue("ws")))
		return
	}
	// Statements run now; the job reveals their outcome as the clock moves.
	failed := false
	for _, st := range stmts {
		if failed {
			st.skipped = true
			continue
		}
		s.runStatement(r.Context(), ws, st)
		failed = st.err != ""
	}
	s.mu.Lock()
	j := &queryJob{id: "qj-" + strconv.Itoa(s.state.nextID()), wsID: wsID, actorType: actor, created: s.now(), statements: stmts}
	s.state.queryJobs[j.id] = j
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"queryJobId": j.id})
}

func (s *Stack) runStatement(ctx context.Context, ws *workspace, st *queryStatement) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), queryStatementLimit)
	defer cancel()
	var res *sqlResult
	var err error
	if s.opts.Backend == "bigquery" {
		res, err = s.runBigQuery(ctx, st.sql, queryMaxRows)
	} else {
		res, err = s.sqlSession(s.db, "", true).run(ctx, st.sql, fmt.Sprintf("WORKSPACE_%d", ws.id), queryMaxRows)
	}
	if err != nil {
		st.err = err.Error()
		return
	}
	st.cols, st.types, st.rows, st.truncated = res.cols, res.types, res.rows, res.truncated
}

// sqlSession is a Snowflake session on db: the project's database (and the
// shared project's, for linked buckets) qualify names, the clock is the
// stack's.
func (s *Stack) sqlSession(db queryer, schema string, readOnly bool) *sqlSession {
	return &sqlSession{
		db:       db,
		opts:     rewriteOptions{databases: []string{s.projectDatabase(), projectDatabase(sharedProject.id)}, now: s.now()},
		database: s.projectDatabase(),
		schema:   schema,
		readOnly: readOnly,
	}
}

func (s *Stack) findQueryJob(w http.ResponseWriter, id string) *queryJob {
	j := s.state.queryJobs[id]
	if j == nil {
		queryFail(w, http.StatusNotFound, "queryJobNotFound", fmt.Sprintf("Query job %q not found", id))
	}
	return j
}

func (s *Stack) queryJobJSON(j *queryJob) map[string]any {
	now := s.now()
	status := j.status(now, s.step)
	stmts := make([]any, len(j.statements))
	for i, st := range j.statements {
		m := map[string]any{"id": st.id, "query": st.sql, "status": "waiting"}
		switch {
		case status == "created":
		case status == "processing":
			m["status"] = "processing"
		case status == "canceled":
			m["status"] = "canceled"
		case st.skipped:
			m["status"] = "notExecuted"
		case st.err != "":
			m["status"] = "failed"
			m["error"] = st.err
		default:
			m["status"] = "completed"
			m["numberOfRows"] = len(st.rows)
			m["rowsAffected"] = 0
		}
		stmts[i] = m
	}
	changed := j.created
	if status != "created" {
		changed = j.created.Add(s.step)
	}
	if status == "completed" || status == "failed" {
		changed = j.created.Add(2 * s.step)
	}
	if status == "canceled" {
		changed = j.canceledAt
	}
	return map[string]any{
		"queryJobId":  j.id,
		"status":      status,
		"actorType":   j.actorType,
		"workspaceId": strconv.Itoa(j.wsID),
		"createdAt":   j.created.UTC().Format(time.RFC3339Nano),
		"changedAt":   changed.UTC().Format(time.RFC3339Nano),
		"statements":  stmts,
	}
}

func (s *Stack) handleQueryJob(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j := s.findQueryJob(w, r.PathValue("id")); j != nil {
		writeJSON(w, http.StatusOK, s.queryJobJSON(j))
	}
}

func (s *Stack) handleCancelQuery(w http.ResponseWriter, r *http.Request, _ *caller) {
	body, err := readBody(r)
	if err != nil {
		queryFail(w, http.StatusBadRequest, "validation", err.Error())
		return
	}
	if reason, _ := strField(body, "reason"); strings.TrimSpace(reason) == "" {
		queryFail(w, http.StatusBadRequest, "validation", "reason is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.findQueryJob(w, r.PathValue("id"))
	if j == nil {
		return
	}
	switch st := j.status(s.now(), s.step); st {
	case "created", "processing":
		j.canceledAt = s.now()
	case "canceled":
	default:
		queryFail(w, http.StatusConflict, "queryJobFinished", fmt.Sprintf("Query job %s already finished with status %s", j.id, st))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"queryJobId": j.id})
}

// handleQueryResults pages a completed statement's rows (offset, pageSize 100..10000).
func (s *Stack) handleQueryResults(w http.ResponseWriter, r *http.Request, _ *caller) {
	q := r.URL.Query()
	offset, err := queryInt(q, "offset", 0, 0, 1<<30)
	if err != nil {
		queryFail(w, http.StatusBadRequest, "validation", err.Error())
		return
	}
	pageSize, err := queryInt(q, "pageSize", 500, 100, 10000)
	if err != nil {
		queryFail(w, http.StatusBadRequest, "validation", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.findQueryJob(w, r.PathValue("id"))
	if j == nil {
		return
	}
	var st *queryStatement
	for _, x := range j.statements {
		if x.id == r.PathValue("statement") {
			st = x
		}
	}
	if st == nil {
		queryFail(w, http.StatusNotFound, "statementNotFound", fmt.Sprintf("Statement %q not found in query job %s", r.PathValue("statement"), j.id))
		return
	}
	switch status := j.status(s.now(), s.step); {
	case status == "created" || status == "processing":
		queryFail(w, http.StatusBadRequest, "queryJobNotFinished", fmt.Sprintf("Query job %s is still %s; poll it until it finishes", j.id, status))
		return
	case status == "canceled" || st.skipped:
		queryFail(w, http.StatusBadRequest, "statementNotExecuted", fmt.Sprintf("Statement %s was not executed", st.id))
		return
	case st.err != "":
		queryFail(w, http.StatusBadRequest, "statementFailed", st.err)
		return
	}
	cols := make([]any, len(st.cols))
	for i, c := range st.cols {
		cols[i] = map[string]any{"name": c, "type": st.types[i], "nullable": true}
	}
	data := [][]*string{}
	if offset < len(st.rows) {
		data = st.rows[offset:min(len(st.rows), offset+pageSize)]
	}
	msg := ""
	if st.truncated {
		msg = fmt.Sprintf("The result was cut to its first %d rows.", queryMaxRows)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "completed", "columns": cols, "data": data, "numberOfRows": len(st.rows), "rowsAffected": 0, "message": msg,
	})
}
