package tools

import (
	"strings"
	"testing"
)

// query_data is announced and granted as read-only; its check must refuse
// every statement that could write, whatever it starts with (issue 11), and
// must let through the read statements its description names (issue 13).
func TestCheckReadOnlySQL(t *testing.T) {
	cases := []struct {
		sql     string
		refused string // "" when the statement must pass; else a part of the error
	}{
		{sql: `SELECT 1`},
		{sql: "-- count\n/* all */ select count(*) from \"in.c-crm\".\"orders\";"},
		{sql: `WITH a AS (SELECT 1 AS x), "b c" (y) AS MATERIALIZED (SELECT x FROM a) SELECT * FROM "b c"`},
		{sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i FROM n`},
		{sql: `(SELECT 1) UNION ALL (SELECT 2)`},
		{sql: `VALUES (1), (2)`},
		{sql: `SHOW TABLES IN SCHEMA "in.c-crm"`},
		{sql: `DESCRIBE TABLE "KEBOOLA_1234"."in.c-crm"."orders"`},
		{sql: `desc table "in.c-crm"."orders"`},
		{sql: `EXPLAIN USING TEXT SELECT * FROM t`},
		{sql: `EXPLAIN WITH a AS (SELECT 1) SELECT * FROM a`},
		{sql: `SELECT 'it''s; DELETE FROM t' AS s, "weird;name" FROM t`},
		{sql: `SELECT 'a\'; DROP TABLE t; --' AS s`},
		{sql: `SELECT $$; DELETE FROM t$$ AS s`},

		{sql: `WITH d AS (SELECT 1) DELETE FROM t`, refused: "WITH clause whose statement starts with DELETE"},
		{sql: `with x as (select 1) insert into t select * from x`, refused: "starts with INSERT"},
		{sql: `WITH x AS (SELECT 1) MERGE INTO t USING x ON 1=1 WHEN MATCHED THEN DELETE`, refused: "starts with MERGE"},
		{sql: `WITH x AS (SELECT 1), y AS (SELECT 2) UPDATE t SET a = 1`, refused: "starts with UPDATE"},
		{sql: `WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone`, refused: "common table expression that starts with DELETE"},
		{sql: `WITH x AS (SELECT 1) (DELETE FROM t)`, refused: "starts with DELETE"},
		{sql: `WITH x AS (SELECT 1)`, refused: "ends where a query should start"},
		{sql: `WITH SELECT 1`, refused: "without AS"},
		{sql: `WITH x AS SELECT 1`, refused: "without AS (body)"},
		{sql: `/* tidy */ DROP TABLE x`, refused: "starts with DROP"},
		{sql: `(DELETE FROM t)`, refused: "starts with DELETE"},
		{sql: `SELECT 1; DELETE FROM t`, refused: "one statement at a time"},
		{sql: `SELECT 1;;`},
		{sql: `EXPLAIN ANALYZE SELECT 1`, refused: "EXPLAIN ANALYZE"},
		{sql: `EXPLAIN DELETE FROM t`, refused: "explains a statement that starts with DELETE"},
		{sql: `WITH x AS (SELECT 1) SHOW TABLES`, refused: "follows WITH with SHOW"},
		{sql: `CALL system$wait(10)`, refused: "starts with CALL"},
		{sql: `"SELECT" FROM t`, refused: "identifier"},
		{sql: `SELECT 'unterminated`, refused: "unterminated ' quote"},
		{sql: `SELECT 1 /* open`, refused: "unterminated /* comment"},
		{sql: `(SELECT 1`, refused: "unclosed '('"},
		{sql: `-- only a comment`, refused: "no statement"},
	}
	for _, tc := range cases {
		err := checkReadOnlySQL(tc.sql)
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s\n  refused: %v", tc.sql, err)
		case tc.refused != "" && err == nil:
			t.Errorf("%s\n  passed, want it refused (%s)", tc.sql, tc.refused)
		case tc.refused != "" && !strings.Contains(err.Error(), tc.refused):
			t.Errorf("%s\n  error %q lacks %q", tc.sql, err, tc.refused)
		}
	}
}

// FuzzCheckReadOnlySQL: the check never panics, and whatever it passes
// starts, after comments and parentheses, with a read keyword.
func FuzzCheckReadOnlySQL(f *testing.F) {
	for _, s := range []string{`SELECT 1`, `WITH a AS (SELECT 1) DELETE FROM t`, `(((`, `'`, `$$`, `EXPLAIN (`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		if checkReadOnlySQL(sql) != nil {
			return
		}
		toks, _ := tokenizeSQL(sql)
		for len(toks) > 0 && toks[0].text == "(" {
			toks = toks[1:]
		}
		if len(toks) == 0 {
			t.Fatalf("passed an empty statement: %q", sql)
		}
		switch toks[0].text {
		case "SELECT", "VALUES", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "WITH":
		default:
			t.Fatalf("passed %q, which starts with %q", sql, toks[0].text)
		}
	})
}
