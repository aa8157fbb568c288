package fakestack

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola/sqlscript"
)

// Jobs that really run. An SQL transformation job runs its SQL on the
// stack's engine when the clock reaches its end: input mapping tables are
// cloned into a scratch workspace schema under their destination names, the
// blocks' scripts run in order, and the output mapping's source tables
// create or replace their destination tables in Storage (the bucket is
// created when missing). Bad SQL fails the job with the engine's message.
// The SQL is the project backend's: Snowflake's (snowsql.go) or GoogleSQL
// (bigsql.go); the other backend's transformation fails, as the project
// has no workspace of that backend for it to run in.
// A flow (keboola.orchestrator, keboola.flow) starts its phases in order,
// each task a child job; a failing task fails the flow unless the task has
// continueOnFailure. Other components just succeed (or fail with their
// demo failMessage), as before.
//
// Work happens in settleJobs, which every request runs first, so the state
// a client sees always matches the clock: a transformation's output appears
// when its job turns success, not when it is submitted.

// Component ids whose jobs do real work.
const (
	snowflakeTransformation = "keboola.snowflake-transformation"
	bigQueryTransformation  = "keboola.google-bigquery-transformation"
	orchestratorComponent   = "keboola.orchestrator"
	flowComponent           = "keboola.flow"
)

// jobWork is what a queue job still has to do when the clock reaches it.
type jobWork struct {
	transformation map[string]any // the configuration to run; nil when none
	flow           *flowRun
}

// flowRun is a flow job's progress through its phases.
type flowRun struct {
	conditional bool  // keboola.flow: phases follow their "next" transitions
	phases      []any // phase objects, in order
	tasks       []any
	current     int         // index of the running phase; -1 before the first
	phaseStart  time.Time   // when the current phase started
	children    []*queueJob // the current phase's child jobs
	failed      []string    // names of failed tasks that fail the flow
	statuses    map[string]string
}

// phaseDuration is how long a flow phase takes: its child jobs' created,
// waiting and processing steps.
func (s *Stack) phaseDuration() time.Duration { return 3 * s.step }

// prepareWork sets up a new job's work from its configuration.
func (s *Stack) prepareWork(j *queueJob, cfg *config) {
	switch j.component {
	case snowflakeTransformation, bigQueryTransformation:
		if backend := transformationBackend(j.component); backend != s.opts.Backend {
			j.failMessage = fmt.Sprintf("Component %s runs on a %s workspace, but this project has no %s backend (its backend is %s).",
				j.component, backend, backend, s.opts.Backend)
			return
		}
		configuration, err := s.resolveVariables(cfg.configuration)
		if err != nil {
			j.failMessage = err.Error()
			return
		}
		j.work = &jobWork{transformation: configuration}
	case orchestratorComponent, flowComponent:
		phases, _ := cfg.configuration["phases"].([]any)
		tasks, _ := cfg.configuration["tasks"].([]any)
		j.work = &jobWork{flow: &flowRun{conditional: j.component == flowComponent, phases: phases, tasks: tasks, current: -1,
			statuses: map[string]string{}}}
		// Until the phases have run, the flow is planned to take all of them.
		j.runFor = time.Duration(max(len(phases), 1)) * s.phaseDuration()
	default:
		// Other components do no work here, but their variables are
		// resolved (and can fail the job) as any component's are.
		if _, err := s.resolveVariables(cfg.configuration); err != nil {
			j.failMessage = err.Error()
		}
	}
}

// sqlTransformation is the SQL transformation component of the project's backend.
func (s *Stack) sqlTransformation() string {
	if s.opts.Backend == "bigquery" {
		return bigQueryTransformation
	}
	return snowflakeTransformation
}

// transformationBackend is the backend an SQL transformation component runs on.
func transformationBackend(component string) string {
	if component == bigQueryTransformation {
		return "bigquery"
	}
	return "snowflake"
}

// settleJobs does the work of every job the clock has reached. The caller
// must not hold s.mu.
func (s *Stack) settleJobs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	// Child jobs are appended while flows settle; index the live slice.
	for i := 0; i < len(s.state.queueJobs); i++ {
		j := s.state.queueJobs[i]
		if j.work != nil {
			s.settleJob(j, now)
		}
	}
}

func (s *Stack) settleJob(j *queueJob, now time.Time) {
	_, start, end := j.times(s.step)
	if !j.killedAt.IsZero() {
		j.work = nil
		return
	}
	switch {
	case j.work.transformation != nil:
		if now.Before(end) {
			return
		}
		cfg := j.work.transformation
		j.work = nil
		if err := s.runTransformation(j, cfg, end); err != nil {
			j.failMessage = err.Error()
		}
		s.state.finishEvent(j, end)
	case j.work.flow != nil:
		s.settleFlow(j, j.work.flow, start, now)
	}
}

// finishEvent logs a job's outcome at its end.
func (st *state) finishEvent(j *queueJob, end time.Time) {
	e := &event{component: j.component, configID: j.configID, runID: j.runID(), jobID: j.id, creator: j.creator, created: end}
	if j.failMessage != "" {
		e.typ, e.message = "error", j.failMessage
	} else {
		e.typ, e.message = "success", fmt.Sprintf("Component %s finished successfully", j.component)
	}
	st.addEvent(e)
}

// settleFlow advances a flow through every phase boundary the clock has passed.
func (s *Stack) settleFlow(j *queueJob, f *flowRun, start, now time.Time) {
	for {
		if f.current < 0 {
			if now.Before(start) {
				return
			}
			if len(f.phases) == 0 {
				s.endFlow(j, f, start)
				return
			}
			s.startPhase(j, f, 0, start)
			continue
		}
		phaseEnd := f.phaseStart.Add(s.phaseDuration())
		if now.Before(phaseEnd) {
			return
		}
		phaseStatus := "success"
		for _, c := range f.children {
			if c.work != nil {
				s.settleJob(c, phaseEnd)
			}
			if c.failMessage != "" {
				phaseStatus = "error"
				if !c.continueOnFailure {
					f.failed = append(f.failed, c.taskName)
				}
			}
		}
		phaseID := phaseKey(f.phases[f.current])
		f.statuses[phaseID] = phaseStatus
		next := -1
		if len(f.failed) == 0 || f.conditional {
			next = f.nextPhase(f.current, phaseStatus)
		}
		if next < 0 || len(f.failed) > 0 && !f.conditional {
			s.endFlow(j, f, phaseEnd)
			return
		}
		s.startPhase(j, f, next, phaseEnd)
	}
}

// nextPhase picks the phase after cur: a conditional flow follows the
// first "next" transition whose condition holds (none: the flow ends); a
// legacy flow runs its phases in order.
func (f *flowRun) nextPhase(cur int, status string) int {
	if !f.conditional {
		if cur+1 < len(f.phases) {
			return cur + 1
		}
		return -1
	}
	phase, _ := f.phases[cur].(map[string]any)
	transitions, _ := phase["next"].([]any)
	for _, t := range transitions {
		tr, _ := t.(map[string]any)
		if cond, ok := tr["condition"].(map[string]any); ok && !f.holds(cond) {
			continue
		}
		target, _ := tr["goto"].(string)
		return slices.IndexFunc(f.phases, func(p any) bool { return phaseKey(p) == target })
	}
	return -1
}

// holds evaluates the EQUALS / NOT_EQUALS conditions on a phase's status
// that conditional flows use; other conditions count as true.
func (f *flowRun) holds(cond map[string]any) bool {
	op, _ := cond["operator"].(string)
	operands, _ := cond["operands"].([]any)
	if len(operands) != 2 || op != "EQUALS" && op != "NOT_EQUALS" {
		return true
	}
	val := func(x any) string {
		m, _ := x.(map[string]any)
		if m["type"] == "phase" {
			p, _ := m["phase"].(string)
			return f.statuses[p]
		}
		return fmt.Sprint(m["value"])
	}
	eq := val(operands[0]) == val(operands[1])
	return eq == (op == "EQUALS")
}

func phaseKey(p any) string {
	m, _ := p.(map[string]any)
	return fmt.Sprint(m["id"])
}

// startPhase creates the child jobs of phase i at t.
func (s *Stack) startPhase(parent *queueJob, f *flowRun, i int, t time.Time) {
	f.current, f.phaseStart, f.children = i, t, nil
	id := phaseKey(f.phases[i])
	for _, raw := range f.tasks {
		task, _ := raw.(map[string]any)
		if fmt.Sprint(task["phase"]) != id {
			continue
		}
		if enabled, ok := task["enabled"].(bool); ok && !enabled {
			continue
		}
		spec, _ := task["task"].(map[string]any)
		comp, _ := spec["componentId"].(string)
		cfgID, _ := spec["configId"].(string)
		if comp == "" { // notifications and other non-job tasks
			continue
		}
		child := &queueJob{component: comp, configID: cfgID, mode: "run", created: t, runFor: s.step, creator: parent.creator,
			branchID: parent.branchID, parentRunID: parent.runID()}
		child.taskName, _ = task["name"].(string)
		child.continueOnFailure, _ = task["continueOnFailure"].(bool)
		cfg := s.state.findConfig(comp, cfgID)
		if cfg == nil {
			child.failMessage = fmt.Sprintf("Configuration %s of component %s not found", cfgID, comp)
		} else {
			child.failMessage = cfg.failMessage
			s.prepareWork(child, cfg)
		}
		s.state.addQueueJob(child)
		f.children = append(f.children, child)
	}
}

// endFlow finishes a flow at end: its duration shrinks to the phases run.
func (s *Stack) endFlow(j *queueJob, f *flowRun, end time.Time) {
	_, start, _ := j.times(s.step)
	j.runFor = end.Sub(start)
	j.work = nil
	if len(f.failed) > 0 {
		j.failMessage = fmt.Sprintf("Flow failed: task %s failed", strings.Join(f.failed, ", "))
	}
	s.state.finishEvent(j, end)
}

func (st *state) findConfig(comp, id string) *config {
	for _, c := range st.configs[comp] {
		if c.id == id && !c.isDeleted {
			return c
		}
	}
	return nil
}

// mappingTables reads storage.input|output.tables of a configuration.
func mappingTables(cfg map[string]any, direction string) []map[string]any {
	storage, _ := cfg["storage"].(map[string]any)
	side, _ := storage[direction].(map[string]any)
	tables, _ := side["tables"].([]any)
	var out []map[string]any
	for _, t := range tables {
		if m, ok := t.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// runTransformation runs an SQL transformation's statements in the
// project backend's dialect and writes its outputs to Storage at end. The
// caller holds s.mu.
func (s *Stack) runTransformation(j *queueJob, cfg map[string]any, end time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), queryStatementLimit)
	defer cancel()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	schema := "WORKSPACE_" + j.id
	if _, err := conn.ExecContext(ctx, "CREATE SCHEMA "+quoteIdent(schema)); err != nil {
		return err
	}
	defer conn.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+quoteIdent(schema)+" CASCADE") //nolint:errcheck // best effort cleanup
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET search_path = '%s,main'", schema)); err != nil {
		return err
	}
	// The connection returns to the pool: back to the stack database alone,
	// without the script's temporary tables.
	defer conn.ExecContext(context.Background(), "USE "+quoteIdent(s.db.name)) //nolint:errcheck // best effort
	defer dropTemporaryTables(conn)

	for _, in := range mappingTables(cfg, "input") {
		src, _ := in["source"].(string)
		dst, _ := in["destination"].(string)
		if dst == "" {
			dst = tableName(src)
		}
		t := s.state.tables[src]
		if t == nil {
			return serviceErrorf("Table %q specified in input mapping does not exist in Storage.", src)
		}
		q := fmt.Sprintf("CREATE TABLE %s.%s AS SELECT * FROM %s.%s", quoteIdent(schema), quoteIdent(dst), quoteIdent(t.bucket.schema()), quoteIdent(t.name))
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	// One session (Snowflake) or one view of Storage's datasets (BigQuery)
	// serves every statement: Storage does not change while the job runs.
	ss := s.sqlSession(conn, schema, false)
	lx, run := snowflakeLexis, func(stmt string) error {
		_, err := ss.run(ctx, stmt, schema, 0)
		return err
	}
	if j.component == bigQueryTransformation {
		datasets := s.bigQueryDatasetsLocked()
		lx, run = bigQueryLexis, func(stmt string) error { return s.runBigQueryTransformation(ctx, conn, schema, datasets, stmt) }
	}
	params, _ := cfg["parameters"].(map[string]any)
	blocks, _ := params["blocks"].([]any)
	for _, b := range blocks {
		block, _ := b.(map[string]any)
		codes, _ := block["codes"].([]any)
		for _, c := range codes {
			code, _ := c.(map[string]any)
			codeName, _ := code["name"].(string)
			scripts, _ := code["script"].([]any)
			for _, sc := range scripts {
				text, _ := sc.(string)
				// Keboola runs each statement of an item in turn.
				for _, stmt := range sqlscript.Split(text) {
					if onlyComments(stmt, lx) {
						continue
					}
					if err := run(stmt); err != nil {
						return serviceErrorf("Query %q in %q failed with error: %s", stmt, codeName, err.Error())
					}
				}
			}
		}
	}
	// Every output must exist before any is written, as Keboola checks.
	outputs := mappingTables(cfg, "output")
	for _, out := range outputs {
		src, _ := out["source"].(string)
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?`, schema, src).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return serviceErrorf("Table %q specified in output mapping was not created by the transformation.", src)
		}
	}
	for _, out := range outputs {
		if err := s.writeOutput(ctx, conn, schema, out, j, end); err != nil {
			return err
		}
	}
	return nil
}

// writeOutput creates or replaces a Storage table from a workspace table.
func (s *Stack) writeOutput(ctx context.Context, db queryer, schema string, out map[string]any, j *queueJob, at time.Time) error {
	src, _ := out["source"].(string)
	dst, _ := out["destination"].(string)
	bucketID, name := bucketOf(dst), tableName(dst)
	stage, bucketName, _ := strings.Cut(bucketID, ".")
	if (stage != "in" && stage != "out") || !strings.HasPrefix(bucketName, "c-") || name == "" {
		return serviceErrorf("Output mapping destination %q is not a valid table id (in|out.c-bucket.table).", dst)
	}
	st := s.state
	b := st.bucketsByID[bucketID]
	if b == nil {
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(bucketID)); err != nil {
			return err
		}
		b = &bucket{id: bucketID, stage: stage, name: bucketName, displayName: strings.TrimPrefix(bucketName, "c-"), created: at}
		st.buckets = append(st.buckets, b)
		st.bucketsByID[b.id] = b
	}
	if b.source != nil {
		return serviceErrorf("Bucket %s is a read-only linked bucket.", b.id)
	}
	target := quoteIdent(b.schema()) + "." + quoteIdent(name)
	if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE %s AS SELECT * FROM %s.%s", target, quoteIdent(schema), quoteIdent(src))); err != nil {
		return err
	}
	rs, err := db.QueryContext(ctx, `SELECT column_name, data_type, is_nullable, COALESCE(numeric_precision, 0), COALESCE(numeric_scale, 0)
		FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?
		ORDER BY ordinal_position`, b.schema(), name)
	if err != nil {
		return err
	}
	var cols []column
	for rs.Next() {
		var c column
		var typ, nullable string
		var precision, scale int
		if err := rs.Scan(&c.name, &typ, &nullable, &precision, &scale); err != nil {
			rs.Close()
			return err
		}
		c.kbcType, c.nullable = keboolaType(typ), nullable == "YES"
		if c.kbcType == "NUMERIC" {
			c.length = fmt.Sprintf("%d,%d", precision, scale)
		}
		cols = append(cols, c)
	}
	rs.Close()
	var rows int
	var size int64
	lengths := make([]string, len(cols))
	for i, c := range cols {
		lengths[i] = "COALESCE(LENGTH(CAST(" + quoteIdent(c.name) + " AS VARCHAR)), 0)"
	}
	if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*), COALESCE(SUM(%s), 0) FROM %s", strings.Join(lengths, " + "), target)).Scan(&rows, &size); err != nil {
		return err
	}
	var pk []string
	if raw, ok := out["primary_key"].([]any); ok {
		for _, k := range raw {
			if ks, ok := k.(string); ok {
				pk = append(pk, ks)
			}
		}
	}
	t := st.tables[dst]
	if t == nil {
		t = &table{id: dst, name: name, bucket: b, created: at, colMeta: map[string][]*metadata{}}
		t.metadata = st.setMetadata(nil, "system", "KBC.createdBy.component.id", j.component)
		t.metadata = st.setMetadata(t.metadata, "system", "KBC.createdBy.configuration.id", j.configID)
		st.tables[dst] = t
		b.tables = append(b.tables, t)
	}
	t.columns, t.primaryKey, t.rowsCount, t.dataSize, t.lastImport = cols, pk, rows, size, at
	t.metadata = st.setMetadata(t.metadata, "system", "KBC.lastUpdatedBy.component.id", j.component)
	return nil
}

// dropTemporaryTables drops the temporary tables a script left on conn.
func dropTemporaryTables(conn *sql.Conn) {
	ctx := context.Background()
	rs, err := conn.QueryContext(ctx, `SELECT table_name FROM duckdb_tables() WHERE temporary`)
	if err != nil {
		return
	}
	var names []string
	for rs.Next() {
		var name string
		if rs.Scan(&name) == nil {
			names = append(names, name)
		}
	}
	rs.Close()
	for _, name := range names {
		conn.ExecContext(ctx, "DROP TABLE IF EXISTS temp.main."+quoteIdent(name)) //nolint:errcheck // best effort cleanup
	}
}

// onlyComments reports whether a script item holds no statement.
func onlyComments(stmt string, lx lexis) bool {
	toks, err := tokenizeIn(stmt, lx)
	if err != nil {
		return false
	}
	return !slices.ContainsFunc(toks, func(t sqlToken) bool { return t.kind != tokSpace })
}
