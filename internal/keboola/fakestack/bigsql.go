package fakestack

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The BigQuery dialect layer: on a BigQuery project the Query Service runs
// GoogleSQL, which is translated here to DuckDB over the same stored tables.
// What it models (GoogleSQL reference, cloud.google.com/bigquery/docs/
// reference/standard-sql: lexical, data-types, conversion_functions,
// date_functions, aggregate_functions, query-syntax):
//   - a bucket is a dataset named by its backendPath (in_c_crm); a table is
//     `dataset`.`table`, `dataset.table` or dataset.table; dataset and table
//     names are case-sensitive, column names are not (DuckDB's own rule);
//     an unqualified table is refused as BigQuery refuses it, and so is a
//     project prefix (the fake has no Google Cloud project to name) and a
//     linked bucket (BigQuery has no cross-project access: the Python
//     server's workspace.py, _BigQueryWorkspace.get_table_info);
//   - "text" is a string literal, as 'text' is, so Snowflake-quoted names
//     are syntax errors; Snowflake-only syntax (:: casts, v:path, ILIKE,
//     LATERAL FLATTEN) is refused; QUALIFY runs (BigQuery has it);
//   - functions outside the list below are "Function not found", so DuckDB
//     and Snowflake functions do not pass for GoogleSQL ones;
//   - dataset.INFORMATION_SCHEMA.TABLES and .COLUMNS (their first columns);
//     UNNEST(array) [AS] alias in FROM (not WITH OFFSET), GENERATE_DATE_ARRAY;
//   - result columns are named as BigQuery names them: a column path by its
//     last identifier as written, other unaliased expressions f0_, f1_, …;
//   - CURRENT_DATE and CURRENT_TIMESTAMP read the stack's clock;
//   - an error is the serialized object the Query Service gives for a
//     BigQuery job error, {Location: "query"; Message: "…"; Reason: "…"}
//     (workspace.py, _BigQueryWorkspace._BQ_ERROR_MESSAGE_RE).
//
// A transformation job (jobrun.go) runs its GoogleSQL in a workspace
// dataset instead: unqualified names are the tables there (the input
// mapping's destinations and what the script creates, as Keboola's example
// reads `source`: help.keboola.com/transformations/bigquery/), a Storage
// table is read by its dataset.table name as the Query Service reads it
// (read-only Storage access, which the Python server's project prompt
// describes for transformations in general and the Snowflake path here
// models too), and CREATE [OR REPLACE] [TEMP] TABLE, INSERT INTO and DROP
// TABLE write to the workspace dataset only.
//
// Result values and column types print as the Snowflake path prints them
// (db.go): the Query Service's BigQuery printing is not documented.

// bigQueryError is a BigQuery job error as the Query Service serializes it.
type bigQueryError struct {
	reason  string // invalidQuery, notFound, accessDenied
	message string
}

func (e *bigQueryError) Error() string {
	quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(e.message)
	return fmt.Sprintf(`{Location: "query"; Message: "%s"; Reason: "%s"}`, quoted, e.reason)
}

func invalidQuery(format string, args ...any) error {
	return &bigQueryError{reason: "invalidQuery", message: fmt.Sprintf(format, args...)}
}

// at is BigQuery's position suffix: [line:column], both 1-based.
func at(sqlText string, t sqlToken) string {
	line, pos := linePos(sqlText, t.pos)
	return fmt.Sprintf("[%d:%d]", line, pos+1)
}

// unexpected is BigQuery's syntax error for token t.
func unexpected(sqlText string, t sqlToken) error {
	what := fmt.Sprintf("%q", t.text)
	switch {
	case t.kind == tokString:
		what = "string literal " + t.text
	case t.kind == tokIdent && bigQueryReserved[strings.ToUpper(t.text)]:
		what = "keyword " + strings.ToUpper(t.text)
	case t.kind == tokIdent || t.kind == tokQuoted:
		what = "identifier " + t.text
	}
	return invalidQuery("Syntax error: Unexpected %s at %s", what, at(sqlText, t))
}

var bigQueryLexis = lexis{identQuote: '`', stringQuotes: `'"`, backslashEscape: true, hashComments: true,
	fail: func(msg string) error {
		if what, ok := strings.CutPrefix(msg, "unterminated "); ok {
			// BigQuery calls them unclosed (lexical): "Unclosed string literal".
			return invalidQuery("Syntax error: Unclosed %s", strings.Replace(what, "quoted identifier", "identifier literal", 1))
		}
		return invalidQuery("Syntax error: %s", msg)
	}}

// bigQueryReserved are GoogleSQL's reserved keywords that matter here
// (lexical#reserved_keywords).
var bigQueryReserved = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`ALL AND ANY ARRAY AS ASC BETWEEN BY CASE CAST CROSS CURRENT DEFAULT DESC DISTINCT ELSE END
		EXCEPT EXISTS EXTRACT FALSE FOLLOWING FOR FROM FULL GROUP HAVING IF IGNORE IN INNER INTERSECT INTERVAL INTO IS JOIN
		LATERAL LEFT LIKE LIMIT NATURAL NOT NULL NULLS OF ON OR ORDER OUTER OVER PARTITION PRECEDING QUALIFY RANGE RECURSIVE
		RESPECT RIGHT ROWS SELECT SET SOME STRUCT TABLESAMPLE THEN TO TRUE UNBOUNDED UNION UNNEST USING WHEN WHERE WINDOW WITH WITHIN`) {
		m[w] = true
	}
	return m
}()

// bigQueryTypes maps GoogleSQL type names (with their aliases) to DuckDB's.
var bigQueryTypes = map[string]string{
	"STRING": "VARCHAR", "INT64": "BIGINT", "INT": "BIGINT", "INTEGER": "BIGINT", "BIGINT": "BIGINT", "SMALLINT": "BIGINT",
	"TINYINT": "BIGINT", "BYTEINT": "BIGINT", "FLOAT64": "DOUBLE", "NUMERIC": "DECIMAL(38,9)", "DECIMAL": "DECIMAL(38,9)",
	"BIGNUMERIC": "DECIMAL(38,9)", "BIGDECIMAL": "DECIMAL(38,9)", "BOOL": "BOOLEAN", "DATE": "DATE", "DATETIME": "TIMESTAMP",
	"TIMESTAMP": "TIMESTAMP", "TIME": "TIME", "BYTES": "BLOB", "JSON": "JSON",
}

// bigQueryRenamed are GoogleSQL functions DuckDB has under another name (or
// the same one): the arguments pass unchanged.
var bigQueryRenamed = func() map[string]string {
	m := map[string]string{"COUNTIF": "count_if", "LOGICAL_AND": "bool_and", "LOGICAL_OR": "bool_or",
		"APPROX_COUNT_DISTINCT": "approx_count_distinct", "REGEXP_CONTAINS": "regexp_matches", "ARRAY_LENGTH": "len",
		"CHAR_LENGTH": "length", "CHARACTER_LENGTH": "length", "STDDEV_SAMP": "stddev_samp", "STDDEV_POP": "stddev_pop"}
	for _, f := range strings.Fields(`COUNT SUM AVG MIN MAX COALESCE IFNULL NULLIF IF LOWER UPPER LENGTH TRIM LTRIM RTRIM CONCAT
		SUBSTR SUBSTRING REPLACE ROUND TRUNC ABS FLOOR CEIL CEILING SIGN SQRT POW POWER EXP LN LOG10 MOD GREATEST LEAST LPAD RPAD
		REVERSE STARTS_WITH ENDS_WITH STRPOS STRING_AGG ARRAY_AGG ANY_VALUE STDDEV VARIANCE ROW_NUMBER RANK DENSE_RANK NTILE
		PERCENT_RANK CUME_DIST LAG LEAD FIRST_VALUE LAST_VALUE`) {
		m[f] = strings.ToLower(f)
	}
	return m
}()

// bigQueryDateParts maps the date parts of DATE_TRUNC, DATE_DIFF and
// DATE_ADD (date_functions) to DuckDB's.
var bigQueryDateParts = map[string]string{
	"DAY": "day", "WEEK": "week", "ISOWEEK": "week", "MONTH": "month", "QUARTER": "quarter", "YEAR": "year",
	"ISOYEAR": "isoyear", "HOUR": "hour", "MINUTE": "minute", "SECOND": "second", "MILLISECOND": "millisecond",
	"MICROSECOND": "microsecond",
}

// bigQueryDataset is one dataset the workspace reads: the DuckDB schema
// holding it and its tables' exact names.
type bigQueryDataset struct {
	schema string
	tables map[string]bool
}

// bigQueryDatasets are the project's own buckets as datasets, keyed by
// their exact names (backendPath).
func (s *Stack) bigQueryDatasets() map[string]bigQueryDataset {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bigQueryDatasetsLocked()
}

// bigQueryDatasetsLocked is bigQueryDatasets for a caller holding s.mu.
func (s *Stack) bigQueryDatasetsLocked() map[string]bigQueryDataset {
	out := map[string]bigQueryDataset{}
	for _, b := range s.state.buckets {
		if b.source != nil {
			continue // no cross-project access on BigQuery
		}
		d := bigQueryDataset{schema: b.schema(), tables: map[string]bool{}}
		for _, t := range b.tables {
			d.tables[t.name] = true
		}
		out[s.backendPath(b)[0]] = d
	}
	return out
}

// bigQueryStatement is one GoogleSQL statement being translated.
type bigQueryStatement struct {
	sql       string
	datasets  map[string]bigQueryDataset
	workspace *bigQueryWorkspace // a transformation's dataset; nil in the read-only Query Service
	ctes      map[string]bool
	now       time.Time
}

// bigQueryWorkspace is a transformation job's dataset: where unqualified
// names resolve and where its statements write.
type bigQueryWorkspace struct {
	name   string          // the dataset's name, as messages give it
	schema string          // the DuckDB schema holding it
	tables map[string]bool // its tables' exact names
	temps  map[string]bool // the script's temporary tables (DuckDB's temp catalog)
}

// loadBigQueryWorkspace reads the tables now in a transformation's dataset.
func loadBigQueryWorkspace(ctx context.Context, db queryer, schema string) (*bigQueryWorkspace, error) {
	rs, err := db.QueryContext(ctx, `SELECT table_name, temporary FROM duckdb_tables()
		WHERE temporary OR database_name = current_database() AND schema_name = ?`, schema)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	ws := &bigQueryWorkspace{name: schema, schema: schema, tables: map[string]bool{}, temps: map[string]bool{}}
	for rs.Next() {
		var name string
		var temp bool
		if err := rs.Scan(&name, &temp); err != nil {
			return nil, err
		}
		if temp {
			ws.temps[name] = true
		} else {
			ws.tables[name] = true
		}
	}
	return ws, rs.Err()
}

// runBigQuery runs one GoogleSQL query in a read-only workspace.
func (s *Stack) runBigQuery(ctx context.Context, sqlText string, maxRows int) (*sqlResult, error) {
	st := &bigQueryStatement{sql: sqlText, datasets: s.bigQueryDatasets(), ctes: map[string]bool{}, now: s.now().UTC()}
	return st.run(ctx, s.db, maxRows)
}

// runBigQueryTransformation runs one statement of a transformation's
// GoogleSQL in its workspace dataset (schema) on the job's connection.
func (s *Stack) runBigQueryTransformation(ctx context.Context, db queryer, schema string, datasets map[string]bigQueryDataset, sqlText string) error {
	ws, err := loadBigQueryWorkspace(ctx, db, schema)
	if err != nil {
		return err
	}
	st := &bigQueryStatement{sql: sqlText, datasets: datasets, workspace: ws, ctes: map[string]bool{}, now: s.now().UTC()}
	_, err = st.run(ctx, db, 0)
	return err
}

// run translates the statement and runs it on db.
func (st *bigQueryStatement) run(ctx context.Context, db queryer, maxRows int) (*sqlResult, error) {
	duck, query, err := st.translate()
	if err != nil {
		return nil, err
	}
	res := &sqlResult{}
	if query {
		res.cols, res.types, res.rows, res.truncated, err = queryRows(ctx, db, maxRows, duck)
	} else {
		_, err = db.ExecContext(ctx, duck)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, invalidQuery("Query execution was cancelled")
		}
		return nil, st.engineError(err)
	}
	return res, nil
}

// translate checks the statement and turns it into DuckDB SQL; query
// reports whether it returns rows.
func (st *bigQueryStatement) translate() (duck string, query bool, err error) {
	all, err := tokenizeIn(st.sql, bigQueryLexis)
	if err != nil {
		return "", false, err
	}
	var toks []sqlToken
	for _, t := range all {
		if t.kind != tokSpace {
			toks = append(toks, t)
		}
	}
	if len(toks) == 0 {
		return "", false, invalidQuery("Syntax error: Unexpected end of script")
	}
	first := toks[0]
	query = first.is("SELECT", "WITH") || first.punct("(")
	switch {
	case query:
	case st.workspace != nil && first.is("CREATE", "INSERT", "DROP"):
	case st.workspace != nil && first.kind == tokIdent && statementKeywords[strings.ToUpper(first.text)]:
		// UPDATE, DELETE, MERGE, ALTER…: not modelled, so refused rather than faked.
		return "", false, invalidQuery("%s statements are not supported by this fake BigQuery at %s", strings.ToUpper(first.text), at(st.sql, first))
	case first.kind == tokIdent && statementKeywords[strings.ToUpper(first.text)] && !first.is("SHOW", "DESCRIBE", "DESC"):
		return "", false, &bigQueryError{reason: "accessDenied", message: fmt.Sprintf(
			"Access Denied: the workspace has read-only access to Storage; only SELECT and WITH queries can run, not %s", strings.ToUpper(first.text))}
	default:
		return "", false, unexpected(st.sql, first)
	}
	for i, t := range toks {
		switch {
		case t.punct("::") || t.punct(":"):
			return "", false, unexpected(st.sql, t)
		case t.is("ILIKE") || t.is("LATERAL"):
			return "", false, unexpected(st.sql, t)
		case t.kind == tokIdent && i+2 < len(toks) && toks[i+1].is("AS") && toks[i+2].punct("("), t.kind == tokQuoted && i+2 < len(toks) && toks[i+1].is("AS") && toks[i+2].punct("("):
			st.ctes[t.name()] = true
		}
	}
	toks = nameAnonymousItems(toks, anonymousColumnNamer)
	if query {
		duck, err = st.tr(toks)
	} else {
		duck, err = st.write(toks)
	}
	return duck, query, err
}

// write translates a transformation's CREATE TABLE, INSERT INTO or DROP
// TABLE (data-definition-language, dml-syntax); the table it names is the
// workspace dataset's, written unqualified.
func (st *bigQueryStatement) write(toks []sqlToken) (string, error) {
	i := 1
	word := func(words ...string) bool {
		if i < len(toks) && toks[i].is(words...) {
			i++
			return true
		}
		return false
	}
	ws := st.workspace
	target := func() (string, error) {
		if i >= len(toks) || toks[i].kind != tokIdent && toks[i].kind != tokQuoted {
			return "", syntaxEnd(st.sql, toks, i)
		}
		if toks[i].kind == tokIdent && bigQueryReserved[strings.ToUpper(toks[i].text)] {
			return "", unexpected(st.sql, toks[i])
		}
		parts, next := st.path(toks, i)
		if len(parts) != 1 {
			return "", &bigQueryError{reason: "accessDenied", message: fmt.Sprintf(
				"Access Denied: Table %s:%s: a transformation writes only to its own dataset; name the table without a dataset",
				bigQueryProjectID, strings.Join(parts, "."))}
		}
		i = next
		return parts[0], nil
	}
	switch {
	case toks[0].is("DROP"):
		if !word("TABLE") {
			return "", syntaxEnd(st.sql, toks, i)
		}
		ifExists := word("IF") && word("EXISTS")
		name, err := target()
		if err != nil {
			return "", err
		}
		if i < len(toks) {
			return "", unexpected(st.sql, toks[i])
		}
		if !ws.temps[name] && !ws.tables[name] && !ifExists {
			return "", st.tableNotFound(name)
		}
		return "DROP TABLE IF EXISTS " + ws.qualify(name, ws.temps[name]), nil
	case toks[0].is("INSERT"):
		word("INTO")
		name, err := target()
		if err != nil {
			return "", err
		}
		if !ws.temps[name] && !ws.tables[name] {
			return "", st.tableNotFound(name)
		}
		body := i
		if i < len(toks) && toks[i].punct("(") { // the column list
			if i = matchingParen(toks, i); i < 0 {
				return "", syntaxEnd(st.sql, toks, len(toks))
			}
			i++
		}
		if i >= len(toks) || !toks[i].is("SELECT", "WITH", "VALUES") && !toks[i].punct("(") {
			return "", syntaxEnd(st.sql, toks, i)
		}
		rest, err := st.tr(toks[body:])
		if err != nil {
			return "", err
		}
		return "INSERT INTO " + ws.qualify(name, ws.temps[name]) + " " + rest, nil
	}
	// CREATE [OR REPLACE] [TEMP|TEMPORARY] TABLE [IF NOT EXISTS] name (columns) | AS query
	orReplace := word("OR") && word("REPLACE")
	temp := word("TEMP", "TEMPORARY")
	if !word("TABLE") {
		return "", syntaxEnd(st.sql, toks, i)
	}
	ifNotExists := word("IF") && word("NOT") && word("EXISTS")
	name, err := target()
	if err != nil {
		return "", err
	}
	// A temporary table lives beside the dataset's tables (and shadows
	// them): only one of the same kind clashes.
	exists := ws.tables[name]
	if temp {
		exists = ws.temps[name]
	}
	if exists && !orReplace && !ifNotExists {
		return "", &bigQueryError{reason: "duplicate", message: fmt.Sprintf("Already Exists: Table %s:%s.%s", bigQueryProjectID, ws.name, name)}
	}
	head := "CREATE "
	switch {
	case orReplace:
		head += "OR REPLACE "
	case ifNotExists && exists:
		return "SELECT 1 WHERE false", nil
	}
	if temp {
		head += "TEMP "
	}
	head += "TABLE " + ws.qualify(name, temp) + " "
	switch {
	case i < len(toks) && toks[i].punct("("):
		cols, err := st.columnDefinitions(toks, i)
		if err != nil {
			return "", err
		}
		return head + cols, nil
	case i < len(toks) && toks[i].is("AS"):
		if i+1 >= len(toks) || !toks[i+1].is("SELECT", "WITH") && !toks[i+1].punct("(") {
			return "", syntaxEnd(st.sql, toks, i+1)
		}
		body, err := st.tr(toks[i+1:])
		if err != nil {
			return "", err
		}
		return head + "AS " + body, nil
	}
	return "", syntaxEnd(st.sql, toks, i)
}

// columnDefinitions translates CREATE TABLE's (name TYPE, …) list with
// GoogleSQL's type names; it must end the statement.
func (st *bigQueryStatement) columnDefinitions(toks []sqlToken, open int) (string, error) {
	args, end := callArgs(toks, open)
	if end < 0 {
		return "", syntaxEnd(st.sql, toks, len(toks))
	}
	if end+1 < len(toks) {
		return "", unexpected(st.sql, toks[end+1])
	}
	defs := make([]string, len(args))
	for k, def := range args {
		if len(def) != 2 || def[0].kind != tokIdent && def[0].kind != tokQuoted {
			if len(def) == 0 {
				return "", unexpected(st.sql, toks[end])
			}
			return "", unexpected(st.sql, def[min(len(def)-1, 2)])
		}
		typ, ok := bigQueryTypes[strings.ToUpper(def[1].text)]
		if !ok || def[1].kind != tokIdent {
			return "", invalidQuery("Type not found: %s at %s", def[1].text, at(st.sql, def[1]))
		}
		name := def[0].text
		if def[0].kind == tokQuoted {
			name = bigQueryIdent(def[0].text)
		}
		defs[k] = quoteIdent(name) + " " + typ
	}
	return "(" + strings.Join(defs, ", ") + ")", nil
}

// qualify is a workspace table's DuckDB name.
func (ws *bigQueryWorkspace) qualify(name string, temp bool) string {
	if temp {
		return "temp.main." + quoteIdent(name)
	}
	return quoteIdent(ws.schema) + "." + quoteIdent(name)
}

// tableNotFound is BigQuery's error for a missing table of the workspace.
func (st *bigQueryStatement) tableNotFound(name string) error {
	return &bigQueryError{reason: "notFound", message: fmt.Sprintf(
		"Not found: Table %s:%s.%s was not found in location US", bigQueryProjectID, st.workspace.name, name)}
}

// syntaxEnd is the syntax error at toks[i], or at the end of the script.
func syntaxEnd(sqlText string, toks []sqlToken, i int) error {
	if i < len(toks) {
		return unexpected(sqlText, toks[i])
	}
	return invalidQuery("Syntax error: Unexpected end of script")
}

// anonymousColumnNamer names a select list's columns as BigQuery names
// them in a result (query-syntax#implicit_aliases): a path is named by its
// last identifier as written (DuckDB would use the catalogue's case), and
// other expressions are anonymous, f0_, f1_, … counting only those.
func anonymousColumnNamer() func([]sqlToken) (string, bool) {
	n := 0
	return func(item []sqlToken) (string, bool) {
		if name, ok := implicitAlias(item); ok {
			return name, true
		}
		if !anonymousItem(item) {
			return "", false
		}
		n++
		return fmt.Sprintf("f%d_", n-1), true
	}
}

// implicitAlias is the alias of a select item that is a column path.
func implicitAlias(item []sqlToken) (string, bool) {
	for k, t := range item {
		if k%2 == 0 && t.kind != tokIdent && t.kind != tokQuoted || k%2 == 1 && !t.punct(".") {
			return "", false
		}
	}
	if len(item)%2 == 0 {
		return "", false
	}
	last := item[len(item)-1]
	if last.kind == tokQuoted {
		parts := strings.Split(bigQueryIdent(last.text), ".")
		return parts[len(parts)-1], true
	}
	upper := strings.ToUpper(last.text)
	if len(item) == 1 && (sqlKeywords[upper] || bigQueryReserved[upper]) {
		return "", false // CURRENT_DATE, TRUE, NULL: not a column
	}
	return last.text, true
}

// tableEnds end a FROM clause's list of tables.
var tableEnds = []string{"WHERE", "GROUP", "HAVING", "QUALIFY", "WINDOW", "ORDER", "LIMIT", "UNION", "EXCEPT", "INTERSECT", "ON", "USING"}

// tr translates a run of tokens (a statement, a subquery or an argument).
func (st *bigQueryStatement) tr(toks []sqlToken) (string, error) {
	var out []string
	inFrom := false  // in FROM's list, where a name is a table
	var outer []bool // inFrom outside each open parenthesis
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		prev := sqlToken{kind: tokSpace}
		if i > 0 {
			prev = toks[i-1]
		}
		tablePos := prev.is("FROM", "JOIN") || inFrom && prev.punct(",")
		switch {
		case t.is("FROM"):
			inFrom = true
		case t.kind == tokIdent && slices.ContainsFunc(tableEnds, func(w string) bool { return t.is(w) }):
			inFrom = false
		}
		switch t.kind {
		case tokString:
			if tablePos || i+1 < len(toks) && toks[i+1].punct(".") {
				return "", unexpected(st.sql, t)
			}
			out = append(out, sqlString(bigQueryStringValue(t.text)))
			continue
		case tokPunct:
			switch t.text {
			case "(":
				outer = append(outer, inFrom)
				inFrom = false
			case ")":
				if len(outer) > 0 {
					inFrom = outer[len(outer)-1]
					outer = outer[:len(outer)-1]
				}
			}
			out = append(out, t.text)
			continue
		case tokNumber:
			out = append(out, t.text)
			continue
		}
		// A name, a keyword or a function call.
		parts, next := st.path(toks, i)
		if tablePos && t.is("UNNEST") && next < len(toks) && toks[next].punct("(") {
			from, end, err := st.unnest(toks, i)
			if err != nil {
				return "", err
			}
			out = append(out, from)
			i = end
			continue
		}
		if tablePos {
			name, err := st.table(toks[i], parts)
			if err != nil {
				return "", err
			}
			out = append(out, name)
			i = next - 1
			continue
		}
		if t.kind == tokIdent && len(parts) == 1 && next < len(toks) && toks[next].punct("(") && !prev.punct(".") {
			if call, end, handled, err := st.call(toks, i); handled {
				if err != nil {
					return "", err
				}
				out = append(out, call)
				i = end
				continue
			}
		}
		switch upper := strings.ToUpper(t.text); {
		case t.is("EXCEPT") && prev.punct("*"):
			out = append(out, "EXCLUDE") // SELECT * EXCEPT (col): DuckDB's EXCLUDE
			continue
		case t.kind == tokIdent && upper == "CURRENT_DATE":
			out = append(out, "DATE '"+st.now.Format(time.DateOnly)+"'")
			i = skipEmptyParens(toks, i, new(int))
			continue
		case t.kind == tokIdent && upper == "CURRENT_TIMESTAMP":
			out = append(out, "TIMESTAMP '"+st.now.Format("2006-01-02 15:04:05.000000")+"'")
			i = skipEmptyParens(toks, i, new(int))
			continue
		}
		for k, p := range parts {
			if k > 0 {
				out = append(out, ".")
			}
			out = append(out, quoteIdent(p))
		}
		if len(parts) == 1 && t.kind == tokIdent {
			out[len(out)-1] = t.text // a bare word: keyword or name, DuckDB resolves it
		}
		i = next - 1
	}
	return strings.Join(out, " "), nil
}

// path reads the dotted name at i, splitting backquoted parts at their dots
// (`in_c_crm.customers` is two parts); it returns the parts and the index
// after the name.
func (st *bigQueryStatement) path(toks []sqlToken, i int) ([]string, int) {
	var parts []string
	for i < len(toks) && (toks[i].kind == tokIdent || toks[i].kind == tokQuoted) {
		if toks[i].kind == tokQuoted {
			parts = append(parts, strings.Split(bigQueryIdent(toks[i].text), ".")...)
		} else {
			parts = append(parts, toks[i].text)
		}
		i++
		if i+1 < len(toks) && toks[i].punct(".") && (toks[i+1].kind == tokIdent || toks[i+1].kind == tokQuoted) {
			i++
			continue
		}
		break
	}
	return parts, i
}

// table resolves a table name (query-syntax#from_clause): a CTE, or
// dataset.table with both names exact.
func (st *bigQueryStatement) table(first sqlToken, parts []string) (string, error) {
	if first.kind == tokIdent && bigQueryReserved[strings.ToUpper(first.text)] {
		return "", unexpected(st.sql, first)
	}
	switch len(parts) {
	case 1:
		switch ws := st.workspace; {
		case st.ctes[strings.ToUpper(parts[0])] || st.ctes[parts[0]]:
			return quoteIdent(parts[0]), nil
		case ws != nil && (ws.temps[parts[0]] || ws.tables[parts[0]]):
			return ws.qualify(parts[0], ws.temps[parts[0]]), nil
		case ws != nil:
			return "", st.tableNotFound(parts[0])
		}
		return "", invalidQuery("Table %q must be qualified with a dataset (e.g. dataset.table).", parts[0])
	case 2:
		d, ok := st.datasets[parts[0]]
		if !ok {
			return "", &bigQueryError{reason: "notFound", message: fmt.Sprintf(
				"Not found: Dataset %s:%s was not found in location US", bigQueryProjectID, parts[0])}
		}
		if !d.tables[parts[1]] {
			return "", &bigQueryError{reason: "notFound", message: fmt.Sprintf(
				"Not found: Table %s:%s.%s was not found in location US", bigQueryProjectID, parts[0], parts[1])}
		}
		return quoteIdent(d.schema) + "." + quoteIdent(parts[1]), nil
	case 3:
		if parts[1] == "INFORMATION_SCHEMA" {
			return st.informationSchema(parts[0], parts[2])
		}
	}
	return "", &bigQueryError{reason: "notFound", message: fmt.Sprintf(
		"Not found: Project %s (a workspace reads its own project's datasets: write dataset.table)", parts[0])}
}

// informationSchema is a dataset's INFORMATION_SCHEMA.TABLES or COLUMNS
// view (information-schema-tables, information-schema-columns) with their
// first columns, types named as GoogleSQL names them.
func (st *bigQueryStatement) informationSchema(dataset, view string) (string, error) {
	d, ok := st.datasets[dataset]
	if !ok {
		return "", &bigQueryError{reason: "notFound", message: fmt.Sprintf(
			"Not found: Dataset %s:%s was not found in location US", bigQueryProjectID, dataset)}
	}
	where := fmt.Sprintf("table_catalog = current_database() AND table_schema = %s", sqlString(d.schema))
	head := fmt.Sprintf("SELECT %s AS table_catalog, %s AS table_schema, table_name", sqlString(bigQueryProjectID), sqlString(dataset))
	switch view {
	case "TABLES":
		return fmt.Sprintf("(%s, 'BASE TABLE' AS table_type, 'YES' AS is_insertable_into FROM information_schema.tables WHERE %s)", head, where), nil
	case "COLUMNS":
		return fmt.Sprintf(`(%s, column_name, ordinal_position, is_nullable, CASE
			WHEN data_type IN ('BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'HUGEINT') THEN 'INT64'
			WHEN data_type LIKE 'DECIMAL%%' THEN 'NUMERIC' WHEN data_type IN ('DOUBLE', 'FLOAT') THEN 'FLOAT64'
			WHEN data_type = 'BOOLEAN' THEN 'BOOL' WHEN data_type IN ('DATE', 'TIMESTAMP', 'JSON') THEN data_type
			ELSE 'STRING' END AS data_type FROM information_schema.columns WHERE %s)`, head, where), nil
	}
	return "", &bigQueryError{reason: "notFound", message: fmt.Sprintf(
		"Not found: Table %s:%s.INFORMATION_SCHEMA.%s was not found in location US", bigQueryProjectID, dataset, view)}
}

// unnest translates UNNEST(array) [AS] alias in FROM (query-syntax#unnest_operator):
// one row per element, the alias naming the element's column.
func (st *bigQueryStatement) unnest(toks []sqlToken, i int) (string, int, error) {
	args, end := callArgs(toks, i+1)
	if end < 0 || len(args) != 1 {
		return "", 0, unexpected(st.sql, toks[i])
	}
	arr, err := st.tr(args[0])
	if err != nil {
		return "", 0, err
	}
	alias := "f0_"
	k := end + 1
	if k < len(toks) && toks[k].is("AS") {
		k++
	}
	if k < len(toks) && (toks[k].kind == tokQuoted || toks[k].kind == tokIdent && !bigQueryReserved[strings.ToUpper(toks[k].text)]) {
		alias, end = toks[k].name(), k
		if toks[k].kind == tokIdent {
			alias = toks[k].text
		}
	}
	if end+2 < len(toks) && toks[end+1].is("WITH") && toks[end+2].is("OFFSET") {
		return "", 0, invalidQuery("UNNEST WITH OFFSET is not supported by this fake BigQuery at %s", at(st.sql, toks[end+1]))
	}
	return fmt.Sprintf("unnest(%s) AS %s(%s)", arr, quoteIdent("unnest_"+alias), quoteIdent(alias)), end, nil
}

// bigQueryProjectID stands in for the Google Cloud project behind the
// fake's BigQuery backend, which messages name.
const bigQueryProjectID = "kbc-fakestack"

// call translates the function call at i; handled is false for a keyword
// followed by a parenthesis (IN (…), EXISTS (…), OVER (…)).
func (st *bigQueryStatement) call(toks []sqlToken, i int) (string, int, bool, error) {
	upper := strings.ToUpper(toks[i].text)
	args, end := callArgs(toks, i+1)
	if end < 0 {
		return "", 0, true, unexpected(st.sql, toks[i+1])
	}
	if upper == "CURRENT_DATE" || upper == "CURRENT_TIMESTAMP" {
		return "", 0, false, nil
	}
	tr := func(k int) (string, error) {
		if k >= len(args) {
			return "", invalidQuery("No matching signature for function %s at %s", upper, at(st.sql, toks[i]))
		}
		return st.tr(args[k])
	}
	part := func(k int) (string, error) {
		if k < len(args) && len(args[k]) == 1 {
			if p, ok := bigQueryDateParts[strings.ToUpper(args[k][0].text)]; ok && args[k][0].kind == tokIdent {
				return sqlString(p), nil
			}
		}
		if k < len(args) && len(args[k]) > 0 {
			return "", invalidQuery("A valid date part name is required at %s", at(st.sql, args[k][0]))
		}
		return "", invalidQuery("No matching signature for function %s at %s", upper, at(st.sql, toks[i]))
	}
	var text string
	var err error
	switch upper {
	case "CAST", "SAFE_CAST":
		text, err = st.cast(toks[i], args)
	case "SAFE_DIVIDE":
		text, err = st.template(args, upper, toks[i], "(CASE WHEN (%[2]s) = 0 THEN NULL ELSE (%[1]s) / (%[2]s) END)")
	case "DATE_TRUNC", "TIMESTAMP_TRUNC", "DATETIME_TRUNC":
		var x, p string
		if x, err = tr(0); err == nil {
			if p, err = part(1); err == nil {
				text = fmt.Sprintf("sf_date_trunc(%s, %s)", p, x)
			}
		}
	case "DATE_DIFF", "TIMESTAMP_DIFF", "DATETIME_DIFF":
		// DATE_DIFF counts part boundaries crossed; TIMESTAMP_DIFF whole parts elapsed.
		fn := "datediff"
		if upper != "DATE_DIFF" {
			fn = "date_sub"
		}
		var a, b, p string
		if a, err = tr(0); err == nil {
			if b, err = tr(1); err == nil {
				if p, err = part(2); err == nil {
					text = fmt.Sprintf("%s(%s, %s, %s)", fn, p, b, a)
				}
			}
		}
	case "DATE_ADD", "DATE_SUB", "TIMESTAMP_ADD", "TIMESTAMP_SUB", "DATETIME_ADD", "DATETIME_SUB":
		text, err = st.dateAdd(toks[i], upper, args)
	case "FORMAT_DATE", "FORMAT_TIMESTAMP", "FORMAT_DATETIME":
		text, err = st.template(args, upper, toks[i], "strftime(%[2]s, %[1]s)")
	case "PARSE_DATE":
		text, err = st.template(args, upper, toks[i], "CAST(strptime(%[2]s, %[1]s) AS DATE)")
	case "PARSE_TIMESTAMP", "PARSE_DATETIME":
		text, err = st.template(args, upper, toks[i], "strptime(%[2]s, %[1]s)")
	case "EXTRACT":
		text, err = st.extract(toks[i], args)
	case "DATE":
		switch len(args) {
		case 1:
			text, err = st.template(args, upper, toks[i], "CAST(%[1]s AS DATE)")
		default:
			text, err = st.template(args, upper, toks[i], "make_date(%[1]s, %[2]s, %[3]s)")
		}
	case "GENERATE_DATE_ARRAY":
		switch len(args) {
		case 2:
			text, err = st.template(args, upper, toks[i], "CAST(generate_series(CAST(%[1]s AS DATE), CAST(%[2]s AS DATE), INTERVAL 1 DAY) AS DATE[])")
		default:
			text, err = st.template(args, upper, toks[i], "CAST(generate_series(CAST(%[1]s AS DATE), CAST(%[2]s AS DATE), %[3]s) AS DATE[])")
		}
	case "TIMESTAMP", "DATETIME":
		text, err = st.template(args, upper, toks[i], "CAST(%[1]s AS TIMESTAMP)")
	case "SPLIT":
		if len(args) == 1 {
			text, err = st.template(args, upper, toks[i], "string_split(%[1]s, ',')")
		} else {
			text, err = st.template(args, upper, toks[i], "string_split(%[1]s, %[2]s)")
		}
	default:
		fn, ok := bigQueryRenamed[upper]
		if !ok {
			if bigQueryReserved[upper] || sqlKeywords[upper] && bigQueryTypes[upper] == "" {
				return "", 0, false, nil
			}
			return "", 0, true, invalidQuery("Function not found: %s at %s", toks[i].text, at(st.sql, toks[i]))
		}
		inner, e := st.tr(toks[i+2 : end])
		text, err = fn+"("+inner+")", e
	}
	return text, end, true, err
}

// template fills format with the translated arguments; a call with the
// wrong number of them has no matching signature.
func (st *bigQueryStatement) template(args [][]sqlToken, fn string, at0 sqlToken, format string) (string, error) {
	n := 1
	for k := 2; k <= 3; k++ {
		if strings.Contains(format, fmt.Sprintf("%%[%d]", k)) {
			n = k
		}
	}
	if len(args) != n {
		return "", invalidQuery("No matching signature for function %s for argument count %d at %s", fn, len(args), at(st.sql, at0))
	}
	vals := make([]any, n)
	for k := range args {
		v, err := st.tr(args[k])
		if err != nil {
			return "", err
		}
		vals[k] = v
	}
	return fmt.Sprintf(format, vals...), nil
}

// cast translates CAST(x AS type) and SAFE_CAST (TRY_CAST) with GoogleSQL's
// type names (conversion_functions#cast); any other type name is unknown.
func (st *bigQueryStatement) cast(fn sqlToken, args [][]sqlToken) (string, error) {
	if len(args) != 1 {
		return "", invalidQuery("Syntax error: Expected \"AS\" in %s at %s", strings.ToUpper(fn.text), at(st.sql, fn))
	}
	arg := args[0]
	as := -1
	for k := len(arg) - 1; k >= 0; k-- {
		if arg[k].is("AS") {
			as = k
			break
		}
	}
	if as < 1 || as+1 >= len(arg) {
		return "", invalidQuery("Syntax error: Expected \"AS\" in %s at %s", strings.ToUpper(fn.text), at(st.sql, fn))
	}
	typ := arg[as+1]
	duckType, ok := bigQueryTypes[strings.ToUpper(typ.text)]
	if !ok || typ.kind != tokIdent {
		return "", invalidQuery("Type not found: %s at %s", typ.text, at(st.sql, typ))
	}
	if as+2 < len(arg) {
		// NUMERIC(10, 2), STRING(20): parameterized types keep DuckDB's default here.
		if !arg[as+2].punct("(") || !arg[len(arg)-1].punct(")") {
			return "", unexpected(st.sql, arg[as+2])
		}
	}
	x, err := st.tr(arg[:as])
	if err != nil {
		return "", err
	}
	op := "CAST"
	if fn.is("SAFE_CAST") {
		op = "TRY_CAST"
	}
	return fmt.Sprintf("%s(%s AS %s)", op, x, duckType), nil
}

// dateAdd translates DATE_ADD(d, INTERVAL n PART) and its kin
// (date_functions#date_add); a DATE stays a DATE (sf_dateadd).
func (st *bigQueryStatement) dateAdd(fn sqlToken, upper string, args [][]sqlToken) (string, error) {
	if len(args) != 2 || len(args[1]) < 3 || !args[1][0].is("INTERVAL") {
		return "", invalidQuery("No matching signature for function %s at %s", upper, at(st.sql, fn))
	}
	iv := args[1]
	p, ok := bigQueryDateParts[strings.ToUpper(iv[len(iv)-1].text)]
	if !ok {
		return "", invalidQuery("A valid date part name is required at %s", at(st.sql, iv[len(iv)-1]))
	}
	x, err := st.tr(args[0])
	if err != nil {
		return "", err
	}
	n, err := st.tr(iv[1 : len(iv)-1])
	if err != nil {
		return "", err
	}
	if strings.HasSuffix(upper, "_SUB") {
		n = "-(" + n + ")"
	}
	return fmt.Sprintf("sf_dateadd(%s, %s, %s)", sqlString(p), n, x), nil
}

// extract translates EXTRACT(part FROM x) (date_functions#extract):
// DAYOFWEEK counts from Sunday = 1, WEEK from the year's first Sunday.
func (st *bigQueryStatement) extract(fn sqlToken, args [][]sqlToken) (string, error) {
	if len(args) != 1 || len(args[0]) < 3 || !args[0][1].is("FROM") {
		return "", invalidQuery("Syntax error: Expected \"FROM\" in EXTRACT at %s", at(st.sql, fn))
	}
	x, err := st.tr(args[0][2:])
	if err != nil {
		return "", err
	}
	switch p := strings.ToUpper(args[0][0].text); p {
	case "DAYOFWEEK":
		return fmt.Sprintf("(dayofweek(%s) + 1)", x), nil
	case "DAYOFYEAR":
		return fmt.Sprintf("dayofyear(%s)", x), nil
	case "WEEK":
		return fmt.Sprintf("CAST(strftime(%s, '%%U') AS BIGINT)", x), nil
	case "ISOWEEK":
		return fmt.Sprintf("week(%s)", x), nil
	case "DATE":
		return fmt.Sprintf("CAST(%s AS DATE)", x), nil
	default:
		if _, ok := bigQueryDateParts[p]; !ok {
			return "", invalidQuery("A valid date part name is required at %s", at(st.sql, args[0][0]))
		}
		return fmt.Sprintf("EXTRACT(%s FROM %s)", p, x), nil
	}
}

// bigQueryIdent is a backquoted identifier's name.
func bigQueryIdent(text string) string {
	return strings.ReplaceAll(text[1:len(text)-1], "\\`", "`")
}

// bigQueryStringValue is a quoted string literal's value, with GoogleSQL's
// backslash escapes (lexical#string_and_bytes_literals).
func bigQueryStringValue(text string) string {
	body := text[1 : len(text)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' || i+1 == len(body) {
			b.WriteByte(c)
			continue
		}
		i++
		switch body[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(body[i])
		}
	}
	return b.String()
}

var reSelfAlias = regexp.MustCompile(`Column "([^"]+)" referenced that exists in the SELECT clause`)

// engineError words DuckDB's failure as BigQuery words the same one.
func (st *bigQueryStatement) engineError(err error) error {
	msg := err.Error()
	first, _, _ := strings.Cut(msg, "\n")
	m := reColumnNotFound.FindStringSubmatch(first)
	if m == nil {
		// SELECT nope: the implicit alias nope AS "nope" refers to itself.
		m = reSelfAlias.FindStringSubmatch(first)
	}
	if m != nil {
		toks, _ := tokenizeIn(st.sql, bigQueryLexis)
		for _, t := range toks {
			if (t.kind == tokIdent || t.kind == tokQuoted) && strings.EqualFold(strings.Trim(t.text, "`"), m[1]) {
				return invalidQuery("Unrecognized name: %s at %s", strings.Trim(t.text, "`"), at(st.sql, t))
			}
		}
		return invalidQuery("Unrecognized name: %s", m[1])
	}
	if m := reConversion.FindStringSubmatch(first); m != nil {
		switch m[2] {
		case "DATE":
			return invalidQuery("Invalid date: '%s'", m[1])
		case "DOUBLE":
			return invalidQuery("Bad double value: %s", m[1])
		case "BOOL", "BOOLEAN":
			return invalidQuery("Bad bool value: %s", m[1])
		default:
			return invalidQuery("Bad int64 value: %s", m[1])
		}
	}
	if i := strings.Index(first, " Error: "); i >= 0 {
		first = first[i+len(" Error: "):]
	}
	return invalidQuery("%s", strings.TrimSuffix(first, "!"))
}
