package fakestack

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// sqlResult is one statement's result as the Query Service returns it.
type sqlResult struct {
	cols, types []string
	rows        [][]*string
	truncated   bool
}

// sqlSession is where Snowflake statements run: the stack's database seen
// from one connection, with the names a workspace resolves.
type sqlSession struct {
	db       queryer
	opts     rewriteOptions
	database string // the database SHOW reports
	schema   string // the current schema ("" when none: names must be qualified)
	readOnly bool   // a read-only workspace: only queries run
}

// statementKeywords are the words a statement may start with.
var statementKeywords = map[string]bool{
	"SELECT": true, "WITH": true, "VALUES": true, "SHOW": true, "DESCRIBE": true, "DESC": true, "CREATE": true,
	"INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true, "DROP": true, "ALTER": true, "TRUNCATE": true,
	"USE": true, "SET": true, "BEGIN": true, "COMMIT": true, "ROLLBACK": true, "CALL": true, "COPY": true, "GRANT": true,
}

// errReadOnly is Snowflake's refusal of a write in a read-only workspace.
func errReadOnly(kw, workspace string) error {
	return serviceErrorf("SQL access control error:\nInsufficient privileges to run %s in workspace %s, "+
		"which has read-only access to Storage; only SELECT and WITH queries can run", kw, workspace)
}

// run runs one Snowflake statement.
func (ss *sqlSession) run(ctx context.Context, sqlText, workspace string, maxRows int) (*sqlResult, error) {
	rw, err := rewriteSnowflake(sqlText, ss.opts)
	if err != nil {
		return nil, err
	}
	if !statementKeywords[rw.keyword] {
		return nil, syntaxError(sqlText, rw.toks[0])
	}
	switch rw.keyword {
	case "SHOW", "DESCRIBE", "DESC":
		return ss.showOrDescribe(ctx, sqlText, rw)
	case "SELECT", "WITH", "VALUES":
		if ss.readOnly {
			// A WITH may end in an INSERT: DuckDB's parser tells queries apart.
			var write bool
			if err := ss.db.QueryRowContext(ctx, `SELECT COALESCE(json_serialize_sql(CAST(? AS VARCHAR))->>'$.error_message' LIKE 'Only SELECT%', false)`, rw.sql).Scan(&write); err != nil || write {
				return nil, errReadOnly("a write", workspace)
			}
		}
	default:
		if ss.readOnly {
			return nil, errReadOnly(rw.keyword, workspace)
		}
	}
	cat, err := readCatalog(ctx, ss.db)
	if err != nil {
		return nil, err
	}
	if err := checkIdentifiers(sqlText, rw, cat); err != nil {
		return nil, err
	}
	res := &sqlResult{}
	if rw.keyword == "SELECT" || rw.keyword == "WITH" || rw.keyword == "VALUES" {
		res.cols, res.types, res.rows, res.truncated, err = queryRows(ctx, ss.db, maxRows, rw.sql)
	} else {
		_, err = ss.db.ExecContext(ctx, rw.sql)
		if err == nil {
			res = statusResult()
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, serviceErrorf("SQL execution canceled")
		}
		return nil, snowflakeError(sqlText, rw, err)
	}
	return res, nil
}

// statusResult is the one-row "status" result Snowflake returns for DDL.
func statusResult() *sqlResult {
	msg := "Statement executed successfully."
	return &sqlResult{cols: []string{"status"}, types: []string{"VARCHAR"}, rows: [][]*string{{&msg}}}
}

// showOrDescribe answers SHOW SCHEMAS, SHOW TABLES and DESCRIBE TABLE with
// Snowflake's columns (the first ones of each: what assistants read).
func (ss *sqlSession) showOrDescribe(ctx context.Context, sqlText string, rw *rewritten) (*sqlResult, error) {
	toks := rw.toks
	word := func(i int) string {
		if i < len(toks) && toks[i].kind == tokIdent {
			return strings.ToUpper(toks[i].text)
		}
		return ""
	}
	switch {
	case rw.keyword == "SHOW" && (word(1) == "SCHEMAS" || word(1) == "TABLES" || word(1) == "TERSE" && word(2) == "TABLES"):
		terse := word(1) == "TERSE"
		rest := toks[2:]
		if terse {
			rest = toks[3:]
		}
		like, schema := "", ""
		for i := 0; i < len(rest); i++ {
			switch {
			case rest[i].is("LIKE") && i+1 < len(rest) && rest[i+1].kind == tokString:
				like = strings.ReplaceAll(strings.Trim(rest[i+1].text, "'"), "''", "'")
				i++
			case rest[i].is("IN"):
				j := i + 1
				if rest[j-1].is("IN") && j < len(rest) && rest[j].is("SCHEMA", "DATABASE", "ACCOUNT") {
					j++
				}
				parts, next := nameParts(rest, j)
				if len(parts) == 0 {
					return nil, syntaxErrorAt(sqlText, rest, j)
				}
				if len(parts) > 1 || !rest[j-1].is("DATABASE") {
					schema = parts[len(parts)-1]
					if len(parts) == 1 && strings.EqualFold(parts[0], ss.database) {
						schema = ""
					}
				}
				i = next - 1
			default:
				return nil, syntaxError(sqlText, rest[i])
			}
		}
		if word(1) == "SCHEMAS" {
			return ss.showSchemas(ctx, like)
		}
		return ss.showTables(ctx, schema, like)
	case rw.keyword == "SHOW":
		return nil, syntaxErrorAt(sqlText, toks, 1)
	default: // DESCRIBE / DESC
		i := 1
		if word(1) == "TABLE" || word(1) == "VIEW" {
			i = 2
		} else {
			return nil, syntaxErrorAt(sqlText, toks, 1)
		}
		parts, next := nameParts(toks, i)
		if len(parts) == 0 || next != len(toks) {
			return nil, syntaxErrorAt(sqlText, toks, next)
		}
		return ss.describeTable(ctx, parts)
	}
}

// nameParts reads a dotted name at i (folding bare parts, dropping the
// database qualifier); it returns the parts and the index after them.
func nameParts(toks []sqlToken, i int) ([]string, int) {
	var parts []string
	for i < len(toks) && (toks[i].kind == tokIdent || toks[i].kind == tokQuoted) {
		parts = append(parts, toks[i].name())
		i++
		if i < len(toks) && toks[i].punct(".") {
			i++
			continue
		}
		break
	}
	return parts, i
}

func syntaxErrorAt(sqlText string, toks []sqlToken, i int) error {
	if i < len(toks) {
		return syntaxError(sqlText, toks[i])
	}
	last := toks[len(toks)-1]
	line, pos := linePos(sqlText, last.pos+len(last.text))
	return serviceErrorf("SQL compilation error:\nsyntax error line %d at position %d unexpected '<EOF>'.", line, pos)
}

// likeMatch applies a SHOW … LIKE pattern (case-insensitive, % and _).
func likeMatch(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	var b strings.Builder
	b.WriteString("(?is)^")
	for _, r := range pattern {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	ok, _ := regexp.MatchString(b.String(), s)
	return ok
}

func (ss *sqlSession) showSchemas(ctx context.Context, like string) (*sqlResult, error) {
	rs, err := ss.db.QueryContext(ctx, `SELECT schema_name FROM information_schema.schemata
		WHERE catalog_name = current_database() AND schema_name NOT IN ('main', 'pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	res := &sqlResult{cols: []string{"created_on", "name", "is_default", "is_current", "database_name", "owner", "comment", "options", "retention_time"},
		types: []string{"TIMESTAMP_LTZ", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"}}
	for rs.Next() {
		var name string
		if err := rs.Scan(&name); err != nil {
			return nil, err
		}
		if !likeMatch(like, name) {
			continue
		}
		current := "N"
		if name == ss.schema {
			current = "Y"
		}
		res.rows = append(res.rows, strRow("", name, "N", current, ss.database, "", "", "", "1"))
	}
	return res, rs.Err()
}

func (ss *sqlSession) showTables(ctx context.Context, schema, like string) (*sqlResult, error) {
	q := `SELECT schema_name, table_name, estimated_size, CAST(COALESCE(comment, '') AS VARCHAR) FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name <> 'main'`
	var args []any
	if schema != "" {
		q += ` AND schema_name = ?`
		args = append(args, schema)
		var n int
		if err := ss.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.schemata WHERE catalog_name = current_database() AND schema_name = ?`, schema).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, serviceErrorf("SQL compilation error:\nSchema '%s' does not exist or not authorized.", schema)
		}
	}
	rs, err := ss.db.QueryContext(ctx, q+` ORDER BY 1, 2`, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	res := &sqlResult{cols: []string{"created_on", "name", "database_name", "schema_name", "kind", "comment", "cluster_by", "rows", "bytes", "owner", "retention_time"},
		types: []string{"TIMESTAMP_LTZ", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "NUMBER", "NUMBER", "VARCHAR", "VARCHAR"}}
	for rs.Next() {
		var sch, name, comment string
		var rows int64
		if err := rs.Scan(&sch, &name, &rows, &comment); err != nil {
			return nil, err
		}
		if !likeMatch(like, name) {
			continue
		}
		res.rows = append(res.rows, strRow("", name, ss.database, sch, "TABLE", comment, "", strconv.FormatInt(rows, 10), "", "", "1"))
	}
	return res, rs.Err()
}

func (ss *sqlSession) describeTable(ctx context.Context, parts []string) (*sqlResult, error) {
	if len(parts) == 3 {
		parts = parts[1:] // the database is the project's
	}
	schema, table := ss.schema, parts[len(parts)-1]
	if len(parts) == 2 {
		schema = parts[0]
	}
	rs, err := ss.db.QueryContext(ctx, `SELECT column_name, data_type, is_nullable, numeric_precision, numeric_scale
		FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?
		ORDER BY ordinal_position`, schema, table)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	res := &sqlResult{cols: []string{"name", "type", "kind", "null?", "default", "primary key", "unique key", "check", "expression", "comment"},
		types: []string{"VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"}}
	for rs.Next() {
		var name, typ, nullable string
		var prec, scale sql.NullInt64
		if err := rs.Scan(&name, &typ, &nullable, &prec, &scale); err != nil {
			return nil, err
		}
		null := "Y"
		if nullable == "NO" {
			null = "N"
		}
		res.rows = append(res.rows, strRow(name, describeType(typ, prec, scale), "COLUMN", null, "", "N", "N", "", "", ""))
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	if len(res.rows) == 0 {
		return nil, objectError(strings.Join(parts, "."))
	}
	return res, nil
}

// describeType names a column type as DESCRIBE TABLE does in Snowflake.
func describeType(engine string, prec, scale sql.NullInt64) string {
	if semiStructured(engine) {
		return snowflakeType(engine) // VARIANT, ARRAY or OBJECT
	}
	switch keboolaType(engine) {
	case "INTEGER":
		return "NUMBER(38,0)"
	case "NUMERIC":
		return fmt.Sprintf("NUMBER(%d,%d)", prec.Int64, scale.Int64)
	case "FLOAT":
		return "FLOAT"
	case "DATE", "BOOLEAN":
		return keboolaType(engine)
	case "TIMESTAMP":
		return snowflakeType(engine) + "(9)"
	default:
		return "VARCHAR(16777216)"
	}
}

func strRow(vals ...string) []*string {
	row := make([]*string, len(vals))
	for i := range vals {
		if vals[i] != "" {
			row[i] = &vals[i]
		}
	}
	return row
}
