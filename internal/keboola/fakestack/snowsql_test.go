package fakestack

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// snowflakeCase is one query an assistant writes against the demo project.
// Its expectation is one of: rows (as Snowflake prints them), the rows of
// an oracle query written in plain DuckDB SQL (for aggregates over the demo
// data), or a Snowflake-worded error. Column names are checked when given.
type snowflakeCase struct {
	name    string
	sql     string
	cols    []string
	rows    [][]string
	oracle  string
	wantErr string
}

// snowflakeCorpus: expected wording and semantics from Snowflake's SQL
// reference (identifier resolution, DATE_TRUNC/DATEADD return types,
// DAYNAME's three letters, LISTAGG's empty default separator, error texts
// "invalid identifier", "does not exist or not authorized", "syntax error
// line L at position P unexpected").
var snowflakeCorpus = []snowflakeCase{
	{name: "monthly revenue with DATE_TRUNC",
		sql: `SELECT DATE_TRUNC('month', "order_date") AS month, SUM("total_usd") AS revenue
FROM "KEBOOLA_1234"."in.c-crm"."orders" WHERE "status" = 'completed' GROUP BY 1 ORDER BY 1`,
		cols:   []string{"MONTH", "REVENUE"},
		oracle: `SELECT strftime(date_trunc('month', order_date), '%Y-%m-%d'), CAST(SUM(total_usd) AS VARCHAR) FROM "in.c-crm".orders WHERE status = 'completed' GROUP BY 1 ORDER BY 1`},
	{name: "monthly revenue with an unquoted date part",
		sql:    `SELECT DATE_TRUNC(MONTH, "order_date") AS m, COUNT(*) AS n FROM "in.c-crm"."orders" GROUP BY m ORDER BY m LIMIT 2`,
		oracle: `SELECT strftime(date_trunc('month', order_date), '%Y-%m-%d'), COUNT(*) FROM "in.c-crm".orders GROUP BY 1 ORDER BY 1 LIMIT 2`},
	{name: "sum of NUMBER(12,2) prints exact cents",
		sql:  `SELECT SUM(x) AS total FROM (VALUES (0.10::NUMBER(12,2)), (0.20::NUMBER(12,2)), (1.15::NUMBER(12,2))) v(x)`,
		rows: [][]string{{"1.45"}}},
	{name: "total revenue is exact",
		sql:    `SELECT SUM("total_usd") FROM "KEBOOLA_1234"."in.c-crm"."orders"`,
		oracle: `SELECT CAST(SUM(total_usd) AS VARCHAR) FROM "in.c-crm".orders`},
	{name: "top customer per segment with QUALIFY",
		sql: `SELECT c."segment", c."name", SUM(o."total_usd") AS revenue
FROM "in.c-crm"."orders" o JOIN "in.c-crm"."customers" c ON c."customer_id" = o."customer_id"
GROUP BY 1, 2 QUALIFY ROW_NUMBER() OVER (PARTITION BY c."segment" ORDER BY revenue DESC) = 1 ORDER BY 1`,
		cols: []string{"segment", "name", "REVENUE"},
		oracle: `SELECT segment, name, CAST(revenue AS VARCHAR) FROM (SELECT c.segment, c.name, SUM(o.total_usd) AS revenue,
			row_number() OVER (PARTITION BY c.segment ORDER BY SUM(o.total_usd) DESC) AS rn
			FROM "in.c-crm".orders o JOIN "in.c-crm".customers c USING (customer_id) GROUP BY 1, 2) WHERE rn = 1 ORDER BY 1`},
	{name: "top 3 products by units",
		sql:    `SELECT "sku", SUM("quantity") AS units FROM "in.c-crm"."orders" GROUP BY "sku" ORDER BY units DESC, "sku" LIMIT 3`,
		oracle: `SELECT sku, SUM(quantity) FROM "in.c-crm".orders GROUP BY sku ORDER BY 2 DESC, sku LIMIT 3`},
	{name: "running total with a window frame",
		sql: `SELECT "date", SUM("revenue_usd") OVER (ORDER BY "date" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
FROM "out.c-reports"."daily_revenue" ORDER BY "date" LIMIT 5`,
		oracle: `SELECT strftime("date", '%Y-%m-%d'), CAST(SUM(revenue_usd) OVER (ORDER BY "date") AS VARCHAR) FROM "out.c-reports".daily_revenue ORDER BY 1 LIMIT 5`},
	{name: "month over month with LAG",
		sql: `WITH m AS (SELECT DATE_TRUNC('month', "date") AS month, SUM("revenue_usd") AS rev FROM "out.c-reports"."daily_revenue" GROUP BY 1)
SELECT month, rev, rev - LAG(rev) OVER (ORDER BY month) AS change FROM m ORDER BY month LIMIT 3`,
		oracle: `WITH m AS (SELECT date_trunc('month', "date") AS month, SUM(revenue_usd) AS rev FROM "out.c-reports".daily_revenue GROUP BY 1)
SELECT strftime(month, '%Y-%m-%d'), CAST(rev AS VARCHAR), CAST(rev - LAG(rev) OVER (ORDER BY month) AS VARCHAR) FROM m ORDER BY month LIMIT 3`},
	{name: "DATEADD keeps a DATE and clamps month ends",
		sql:  `SELECT DATEADD(day, 3, '2025-01-30'::DATE) AS d, DATEADD(month, 1, TO_DATE('2025-01-31')) AS m, DATEADD('hour', 5, '2025-01-01 22:00:00'::TIMESTAMP_NTZ) AS h`,
		rows: [][]string{{"2025-02-02", "2025-02-28", "2025-01-02 03:00:00"}}},
	{name: "DATEDIFF with abbreviated parts",
		sql:  `SELECT DATEDIFF(dd, '2025-01-01'::DATE, '2025-03-01'::DATE) AS days, DATEDIFF(mm, '2025-01-31'::DATE, '2025-02-01'::DATE) AS months, DATEDIFF(year, '2024-12-31'::DATE, '2025-01-01'::DATE) AS years`,
		rows: [][]string{{"59", "1", "1"}}},
	{name: "days since signup with DATEDIFF and CURRENT_DATE()",
		sql:  `SELECT DATEDIFF('day', '2025-11-01'::DATE, CURRENT_DATE()) AS days`,
		rows: [][]string{{"121"}}}, // the test clock stands at 2026-03-02
	{name: "CURRENT_DATE without parentheses",
		sql:  `SELECT CURRENT_DATE AS today`,
		rows: [][]string{{"2026-03-02"}}},
	{name: "TO_CHAR with Snowflake formats",
		sql:  `SELECT TO_CHAR('2025-03-04'::DATE, 'YYYY-MM') AS ym, TO_CHAR('2025-03-04 05:06:07'::TIMESTAMP, 'DD.MM.YYYY HH24:MI:SS') AS full, TO_CHAR('2025-03-04'::DATE, 'MON DY') AS short`,
		rows: [][]string{{"2025-03", "04.03.2025 05:06:07", "Mar Tue"}}},
	{name: "YEAR, MONTH, DAYNAME and MONTHNAME",
		sql:  `SELECT YEAR(d) AS y, MONTH(d) AS m, DAYNAME(d) AS dn, MONTHNAME(d) AS mn, QUARTER(d) AS q, DAYOFWEEKISO(d) AS iso FROM (SELECT '2025-03-09'::DATE AS d)`,
		rows: [][]string{{"2025", "3", "Sun", "Mar", "1", "7"}}},
	{name: "orders per weekday",
		sql:    `SELECT DAYNAME("order_date") AS weekday, COUNT(*) AS orders FROM "in.c-crm"."orders" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3`,
		oracle: `SELECT strftime(order_date, '%a'), COUNT(*) FROM "in.c-crm".orders GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3`},
	{name: "IFF and NVL",
		sql:  `SELECT IFF(1 > 2, 'yes', 'no') AS a, NVL(NULL, 'fallback') AS b, NVL2(NULL, 'set', 'unset') AS c, ZEROIFNULL(NULL) AS z`,
		rows: [][]string{{"no", "fallback", "unset", "0"}}},
	{name: "conversion rate with IFF",
		sql:    `SELECT "device", ROUND(100 * SUM(IFF("converted", 1, 0)) / COUNT(*), 2) AS conversion_pct FROM "in.c-web"."sessions" GROUP BY 1 ORDER BY 1`,
		oracle: `SELECT device, CAST(ROUND(100 * SUM(CASE WHEN converted THEN 1 ELSE 0 END) / COUNT(*), 2) AS VARCHAR) FROM "in.c-web".sessions GROUP BY 1 ORDER BY 1`},
	{name: "TRY_TO_NUMBER returns NULL on garbage",
		sql:  `SELECT TRY_TO_NUMBER('42') AS ok, TRY_TO_NUMBER('4x2') AS bad`,
		rows: [][]string{{"42", ""}}},
	{name: "SPLIT_PART of e-mail domains",
		sql:  `SELECT SPLIT_PART('billing@acme.example.com', '@', 2) AS domain, SPLIT_PART('a-b-c', '-', 3) AS last`,
		rows: [][]string{{"acme.example.com", "c"}}},
	{name: "ILIKE filter",
		sql:    `SELECT COUNT(*) FROM "in.c-crm"."customers" WHERE "name" ILIKE '%LABS%'`,
		oracle: `SELECT COUNT(*) FROM "in.c-crm".customers WHERE lower(name) LIKE '%labs%'`},
	{name: "LISTAGG WITHIN GROUP",
		sql:  `SELECT LISTAGG(x, ', ') WITHIN GROUP (ORDER BY x) AS xs FROM (VALUES ('b'), ('a'), ('c')) v(x)`,
		rows: [][]string{{"a, b, c"}}},
	{name: "LISTAGG DISTINCT without a separator",
		sql:  `SELECT LISTAGG(DISTINCT x) WITHIN GROUP (ORDER BY x) AS xs FROM (VALUES ('b'), ('a'), ('b')) v(x)`,
		rows: [][]string{{"ab"}}},
	{name: "products per category with LISTAGG",
		sql:    `SELECT "category", LISTAGG("sku", ',') WITHIN GROUP (ORDER BY "sku") AS skus FROM "in.c-erp"."products" GROUP BY 1 ORDER BY 1`,
		oracle: `SELECT category, string_agg(sku, ',' ORDER BY sku) FROM "in.c-erp".products GROUP BY 1 ORDER BY 1`},
	{name: "MEDIAN and PERCENTILE_CONT WITHIN GROUP",
		sql:  `SELECT MEDIAN(x) AS med, PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY x) AS p25 FROM (VALUES (1), (2), (3), (4)) v(x)`,
		rows: [][]string{{"2.5", "1.75"}}},
	{name: "median order value",
		sql:    `SELECT MEDIAN("total_usd") AS median_order FROM "in.c-crm"."orders" WHERE "status" = 'completed'`,
		oracle: `SELECT CAST(median(total_usd) AS VARCHAR) FROM "in.c-crm".orders WHERE status = 'completed'`},
	{name: "APPROX_COUNT_DISTINCT of customers",
		sql:    `SELECT APPROX_COUNT_DISTINCT("customer_id") AS buyers FROM "in.c-crm"."orders"`,
		oracle: `SELECT approx_count_distinct(customer_id) FROM "in.c-crm".orders`},
	{name: ":: casts to Snowflake types",
		sql:  `SELECT '12.345'::NUMBER(10,2) AS n, '7.6'::NUMBER AS i, 3::STRING AS s, '0.1'::FLOAT + '0.2'::FLOAT AS f, '2025-01-02'::DATE AS d`,
		rows: [][]string{{"12.35", "8", "3", "0.3", "2025-01-02"}}},
	{name: "CAST AS NUMBER and VARCHAR",
		sql:  `SELECT CAST('5' AS NUMBER(5,1)) AS n, CAST(12 AS VARCHAR) AS v`,
		rows: [][]string{{"5.0", "12"}}},
	{name: "RANK and DENSE_RANK",
		sql:  `SELECT x, RANK() OVER (ORDER BY x) AS r, DENSE_RANK() OVER (ORDER BY x) AS dr FROM (VALUES (10), (10), (20)) v(x) ORDER BY x, r`,
		rows: [][]string{{"10", "1", "1"}, {"10", "1", "1"}, {"20", "3", "2"}}},
	{name: "share of revenue per segment",
		sql: `SELECT c."segment", ROUND(100 * SUM(o."total_usd") / SUM(SUM(o."total_usd")) OVER (), 1)::NUMBER(5,1) AS pct
FROM "in.c-crm"."orders" o JOIN "in.c-crm"."customers" c USING ("customer_id") GROUP BY 1 ORDER BY 1`,
		oracle: `SELECT segment, CAST(CAST(ROUND(100 * SUM(total_usd) / SUM(SUM(total_usd)) OVER (), 1) AS DECIMAL(5,1)) AS VARCHAR) FROM "in.c-crm".orders JOIN "in.c-crm".customers USING (customer_id) GROUP BY 1 ORDER BY 1`},
	{name: "sessions by hour of day",
		sql:    `SELECT HOUR("started_at") AS h, COUNT(*) AS n FROM "in.c-web"."sessions" GROUP BY 1 ORDER BY 1 LIMIT 3`,
		oracle: `SELECT hour(started_at), COUNT(*) FROM "in.c-web".sessions GROUP BY 1 ORDER BY 1 LIMIT 3`},
	{name: "COUNT_IF and DIV0",
		sql:  `SELECT COUNT_IF(x > 1) AS big, DIV0(1, 0) AS safe FROM (VALUES (1), (2), (3)) v(x)`,
		rows: [][]string{{"2", "0"}}},
	{name: "unquoted lower-case aliases come back upper case",
		sql:  `SELECT 1 AS one, 2 two, 3 AS "three"`,
		cols: []string{"ONE", "TWO", "three"},
		rows: [][]string{{"1", "2", "3"}}},
	{name: "SHOW TABLES IN SCHEMA",
		sql:  `SHOW TABLES IN SCHEMA "KEBOOLA_1234"."in.c-erp"`,
		cols: []string{"created_on", "name", "database_name", "schema_name", "kind", "comment", "cluster_by", "rows", "bytes", "owner", "retention_time"},
		rows: [][]string{{"", "inventory", "KEBOOLA_1234", "in.c-erp", "TABLE", "", "", "180", "", "", "1"}, {"", "products", "KEBOOLA_1234", "in.c-erp", "TABLE", "", "", "60", "", "", "1"}}},
	{name: "SHOW TABLES LIKE",
		sql:  `SHOW TABLES LIKE '%revenue%'`,
		rows: [][]string{{"", "daily_revenue", "KEBOOLA_1234", "out.c-reports", "TABLE", "", "", "304", "", "", "1"}}},
	{name: "DESCRIBE TABLE with Snowflake types",
		sql: `DESCRIBE TABLE "KEBOOLA_1234"."in.c-crm"."orders"`,
		rows: [][]string{
			{"order_id", "NUMBER(38,0)", "COLUMN", "Y", "", "N", "N", "", "", ""},
			{"customer_id", "NUMBER(38,0)", "COLUMN", "Y", "", "N", "N", "", "", ""},
			{"sku", "VARCHAR(16777216)", "COLUMN", "Y", "", "N", "N", "", "", ""},
			{"order_date", "DATE", "COLUMN", "Y", "", "N", "N", "", "", ""},
			{"status", "VARCHAR(16777216)", "COLUMN", "Y", "", "N", "N", "", "", ""},
			{"quantity", "NUMBER(38,0)", "COLUMN", "Y", "", "N", "N", "", "", ""},
			{"total_usd", "NUMBER(12,2)", "COLUMN", "Y", "", "N", "N", "", "", ""},
		}},
	// Errors, worded as Snowflake words them.
	{name: "unquoted lower-case column that exists only quoted",
		sql:     `SELECT order_id FROM "KEBOOLA_1234"."in.c-crm"."orders"`,
		wantErr: "SQL compilation error: error line 1 at position 7\ninvalid identifier 'ORDER_ID'"},
	{name: "unknown column",
		sql:     `SELECT foo FROM "in.c-crm"."orders"`,
		wantErr: "SQL compilation error: error line 1 at position 7\ninvalid identifier 'FOO'"},
	{name: "unquoted table name folds to upper case",
		sql:     `SELECT * FROM "in.c-crm".orders`,
		wantErr: "SQL compilation error:\nObject 'in.c-crm.ORDERS' does not exist or not authorized."},
	{name: "unknown table",
		sql:     `SELECT * FROM "KEBOOLA_1234"."in.c-crm"."refunds"`,
		wantErr: "SQL compilation error:\nObject 'in.c-crm.refunds' does not exist or not authorized."},
	{name: "misspelt keyword",
		sql:     `SELEC 1`,
		wantErr: "SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'SELEC'."},
	{name: "syntax error in the middle",
		sql:     "SELECT \"sku\"\nFROM \"in.c-erp\".\"products\" WHERE WHERE 1",
		wantErr: "SQL compilation error:\nsyntax error line 2 at position 33 unexpected 'WHERE'."},
	{name: "statement cut short",
		sql:     `SELECT * FROM`,
		wantErr: "SQL compilation error:\nsyntax error line 1 at position 13 unexpected '<EOF>'."},
	{name: "unknown function",
		sql:     `SELECT MAKE_MAGIC(1)`,
		wantErr: "SQL compilation error:\nUnknown function MAKE_MAGIC"},
	{name: "DESCRIBE of a missing table",
		sql:     `DESCRIBE TABLE "in.c-crm".nope`,
		wantErr: "SQL compilation error:\nObject 'in.c-crm.NOPE' does not exist or not authorized."},
	{name: "numeric conversion",
		sql:     `SELECT TO_NUMBER('abc')`,
		wantErr: "Numeric value 'abc' is not recognized"},
}

func TestSnowflakeCorpus(t *testing.T) {
	if len(snowflakeCorpus) < 40 {
		t.Fatalf("the corpus holds %d queries; keep at least 40", len(snowflakeCorpus))
	}
	s, _ := newClocked(t, Options{})
	ctx := context.Background()
	for _, tc := range snowflakeCorpus {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.sqlSession(s.db, "", true).run(ctx, tc.sql, "WORKSPACE_1", 1000)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("query failed: %v", err)
			}
			if tc.cols != nil && !slices.Equal(res.cols, tc.cols) {
				t.Errorf("columns %q, want %q", res.cols, tc.cols)
			}
			want := tc.rows
			if tc.oracle != "" {
				_, _, oracleRows, _, err := s.queryRows(ctx, 1000, tc.oracle)
				if err != nil {
					t.Fatalf("oracle: %v", err)
				}
				want = texts(oracleRows)
				if len(want) == 0 {
					t.Fatal("the oracle returned no rows: nothing is compared")
				}
			}
			if got := texts(res.rows); !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("rows\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// texts renders rows with NULL as "".
func texts(rows [][]*string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for j, v := range r {
			if v != nil {
				out[i][j] = *v
			}
		}
	}
	return out
}

// The identifier rule pins: a quoted upper-case alias is the same name as
// an unquoted one, and a CTE may reuse a catalogue name in another case.
func TestSnowflakeIdentifiers_DefinedNamesResolve(t *testing.T) {
	s, _ := newClocked(t, Options{})
	for _, q := range []string{
		`SELECT "total_usd" AS total_usd FROM "in.c-crm"."orders" ORDER BY total_usd LIMIT 1`,
		`WITH orders AS (SELECT 1 AS n) SELECT n FROM orders`,
		`SELECT o."sku" FROM "in.c-crm"."orders" AS o LIMIT 1`,
	} {
		if _, err := s.sqlSession(s.db, "", true).run(context.Background(), q, "WS", 10); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// dialectCase is one Snowflake statement run through the Query Service
// endpoints: rows as the results endpoint returns them (NULL as "<null>"),
// column types when given, or the statement's error.
type dialectCase struct {
	name     string
	evidence string
	sql      string
	cols     []string
	types    []string
	rows     [][]string
	oracle   string // plain DuckDB SQL whose rows are the expected ones (instead of rows)
	wantErr  string
}

// runOverHTTP submits each case as its own query job, lets the clock finish
// it and reads the statement's result or error through the API.
func runOverHTTP(t *testing.T, cases []dialectCase) {
	t.Helper()
	runOverHTTPOn(t, Options{}, cases)
}

// runOverHTTPOn is runOverHTTP on a stack made with opts.
func runOverHTTPOn(t *testing.T, opts Options, cases []dialectCase) {
	t.Helper()
	s, clk := newClocked(t, opts)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.evidence == "" {
				t.Fatal("name the evidence for the expected behaviour")
			}
			id := submit(t, s, tc.sql)
			clk.Advance(2 * testStep)
			job := api(t, s, "GET", "/query/api/v1/queries/"+id, nil).object(t)
			if tc.wantErr != "" {
				if msg, _ := path(t, job, "statements", 0, "error").(string); msg != tc.wantErr {
					t.Fatalf("error %q, want %q (job %v)", msg, tc.wantErr, job)
				}
				return
			}
			if job["status"] != "completed" {
				t.Fatalf("job %v", job)
			}
			res := api(t, s, "GET", fmt.Sprintf("/query/api/v1/queries/%s/%s/results", id, path(t, job, "statements", 0, "id")), nil).object(t)
			var got [][]string
			for _, row := range res["data"].([]any) {
				var cells []string
				for _, v := range row.([]any) {
					if v == nil {
						cells = append(cells, "<null>")
					} else {
						cells = append(cells, v.(string))
					}
				}
				got = append(got, cells)
			}
			if tc.oracle != "" {
				_, _, oracleRows, _, err := s.queryRows(context.Background(), 1000, tc.oracle)
				if err != nil || len(oracleRows) == 0 {
					t.Fatalf("oracle: %v (%d rows)", err, len(oracleRows))
				}
				tc.rows = texts(oracleRows)
			}
			// A case that checks only the columns leaves rows nil.
			if (tc.rows != nil || tc.cols == nil) && !slices.EqualFunc(got, tc.rows, slices.Equal) {
				t.Errorf("rows\n%q\nwant\n%q", got, tc.rows)
			}
			var cols, types []string
			for _, c := range res["columns"].([]any) {
				cols = append(cols, c.(map[string]any)["name"].(string))
				types = append(types, c.(map[string]any)["type"].(string))
			}
			if tc.cols != nil && !slices.Equal(cols, tc.cols) {
				t.Errorf("columns %q, want %q", cols, tc.cols)
			}
			if tc.types != nil && !slices.Equal(types, tc.types) {
				t.Errorf("column types %q, want %q", types, tc.types)
			}
		})
	}
}

func TestSnowflakeDialect_Decode(t *testing.T) {
	const decodeDoc = "docs.snowflake.com/sql-reference/functions/decode: searches in order, first match wins, " +
		"no match and no default gives NULL, and unlike CASE a NULL expr matches a NULL search"
	runOverHTTP(t, []dialectCase{
		{name: "NULL matches NULL, default otherwise", evidence: decodeDoc,
			sql:  `SELECT x, DECODE(x, 1, 'one', 2, 'two', NULL, '-NULL-', 'other') AS d FROM (VALUES (1), (2), (NULL), (4)) v(x) ORDER BY x NULLS LAST`,
			rows: [][]string{{"1", "one"}, {"2", "two"}, {"4", "other"}, {"<null>", "-NULL-"}}},
		{name: "no match and no default is NULL", evidence: decodeDoc,
			sql:  `SELECT DECODE(x, 1, 'one', 2, 'two') AS d FROM (VALUES (NULL), (3)) v(x)`,
			rows: [][]string{{"<null>"}, {"<null>"}}},
		{name: "the first of two matching searches wins", evidence: decodeDoc,
			sql:  `SELECT DECODE(1, 1, 'first', 1, 'second') AS d`,
			rows: [][]string{{"first"}}},
		{name: "nested DECODE", evidence: decodeDoc,
			sql:  `SELECT DECODE(DECODE(x, 1, 2, 3), 2, 'two', 'other') AS d FROM (VALUES (1), (5)) v(x)`,
			rows: [][]string{{"two"}, {"other"}}},
		{name: "segments of the demo customers", evidence: decodeDoc,
			sql:  `SELECT DECODE("segment", 'Enterprise', 'E', 'SMB', 'S', '?') AS s FROM "KEBOOLA_1234"."in.c-crm"."customers" GROUP BY 1 ORDER BY 1`,
			rows: [][]string{{"?"}, {"E"}, {"S"}}},
		{name: "too few arguments", evidence: decodeDoc + "; Snowflake's wording for a short call",
			sql:     `SELECT DECODE(1, 2)`,
			wantErr: "SQL compilation error: error line 1 at position 7\nnot enough arguments for function [DECODE(1, 2)], expected 3, got 2"},
	})
}

func TestSnowflakeDialect_SemiStructured(t *testing.T) {
	const (
		pathDoc = "docs.snowflake.com/user-guide/querying-semistructured: ':' and subsequent '.' and '[]' return " +
			"VARIANT (printed in double quotes); the column name is case-insensitive, element names are case-sensitive"
		typesDoc = "docs.snowflake.com/sql-reference/data-types-semistructured: a VARIANT/OBJECT prints as indented JSON"
		parseDoc = "docs.snowflake.com/sql-reference/functions/parse_json and try_parse_json: malformed text is an error " +
			"(100069 'Error parsing JSON: …', wording per the 2024_08 bundle notes), TRY_ gives NULL, an empty string gives NULL"
		getPathDoc = "docs.snowflake.com/sql-reference/functions/get_path: the input must be a VARIANT, OBJECT or ARRAY; " +
			"argument types print without lengths (bundle 2024_08)"
	)
	const doc = `PARSE_JSON('{"Plan":"pro","seats":3,"tags":["beta","eu"],"owner":{"name":"Ann","first name":"A"}}')`
	runOverHTTP(t, []dialectCase{
		{name: "PARSE_JSON gives an indented VARIANT, keys reordered", evidence: typesDoc + "; " + parseDoc +
			" (its usage notes: PARSE_JSON and TO_JSON differ in the order of key-value pairs)",
			sql:   `SELECT PARSE_JSON('{"b":[1,2],"a":"x & <y>"}') AS v`,
			types: []string{"VARIANT"},
			rows:  [][]string{{"{\n  \"a\": \"x & <y>\",\n  \"b\": [\n    1,\n    2\n  ]\n}"}}},
		{name: "a path gives a quoted VARIANT, ::string the bare text", evidence: pathDoc,
			sql: `SELECT v:Plan AS p, v:Plan::string AS s, CAST(v:Plan AS VARCHAR) AS c, TO_VARCHAR(v:Plan) AS t,
				TRY_CAST(v:Plan AS STRING) AS u FROM (SELECT ` + doc + ` AS v)`,
			types: []string{"VARIANT", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"},
			rows:  [][]string{{`"pro"`, "pro", "pro", "pro", "pro"}}},
		{name: "an element name in another case is NULL, unquoted or quoted", evidence: pathDoc,
			sql:  `SELECT v:plan AS a, v:PLAN::string AS b, v:"plan" AS c, v['PLAN'] AS d FROM (SELECT ` + doc + ` AS v)`,
			rows: [][]string{{"<null>", "<null>", "<null>", "<null>"}}},
		{name: "the column name folds, the element name does not", evidence: pathDoc,
			sql:  `SELECT V:Plan::string AS a, "V":"Plan"::string AS b FROM (SELECT ` + doc + ` AS v)`,
			rows: [][]string{{"pro", "pro"}}},
		{name: "nested paths, brackets and indexes", evidence: pathDoc,
			sql: `SELECT v:owner.name::string AS a, v['owner']['first name']::string AS b, v:owner:"first name"::string AS c,
				v:tags[1]::string AS d, v:tags[5] AS e, v:seats::int + 1 AS f, v:tags AS g FROM (SELECT ` + doc + ` AS v)`,
			rows: [][]string{{"Ann", "A", "A", "eu", "<null>", "4", "[\n  \"beta\",\n  \"eu\"\n]"}}},
		{name: "a path on a function's result and on an array", evidence: pathDoc,
			sql:  `SELECT PARSE_JSON('[{"k":7}]')[0]:k::number AS a, TRY_PARSE_JSON('{"d":"2025-01-02"}'):d::date AS b`,
			rows: [][]string{{"7", "2025-01-02"}}},
		{name: "a JSON null is a VARIANT null, a missing element SQL NULL; large numbers keep their digits", evidence: parseDoc +
			"; docs.snowflake.com/user-guide/semistructured-considerations: JSON null is stored as a VARIANT null, printed null",
			sql:   `SELECT v:n AS a, v:missing AS b, v:n::string AS c, v:id AS d, PARSE_JSON('null') AS e FROM (SELECT PARSE_JSON('{"n":null,"id":12345678901234567890}') AS v)`,
			types: []string{"VARIANT", "VARIANT", "VARCHAR", "VARIANT", "VARIANT"},
			rows:  [][]string{{"null", "<null>", "<null>", "12345678901234567890", "null"}}},
		{name: "ARRAY_AGG gives an ARRAY printed as JSON", evidence: "docs.snowflake.com/sql-reference/functions/array_agg: returns an ARRAY; " + typesDoc,
			sql:   `SELECT ARRAY_AGG(x) WITHIN GROUP (ORDER BY x) AS xs FROM (VALUES ('b'), ('a')) v(x)`,
			types: []string{"ARRAY"},
			rows:  [][]string{{"[\n  \"a\",\n  \"b\"\n]"}}},
		{name: "TRY_PARSE_JSON of malformed or empty text is NULL, so is PARSE_JSON('')", evidence: parseDoc,
			sql:  `SELECT TRY_PARSE_JSON('{bad') AS a, TRY_PARSE_JSON('') AS b, PARSE_JSON('') AS c`,
			rows: [][]string{{"<null>", "<null>", "<null>"}}},
		{name: "PARSE_JSON of malformed text fails", evidence: parseDoc,
			sql:     `SELECT PARSE_JSON('{bad')`,
			wantErr: "Error parsing JSON: unexpected character, pos 2"},
		{name: "text cast to VARIANT is a JSON string, not parsed", evidence: typesDoc,
			sql:  `SELECT 'abc'::VARIANT AS a, CAST('{"x":1}' AS VARIANT) AS b, 5::VARIANT AS c`,
			rows: [][]string{{`"abc"`, `"{\"x\":1}"`, "5"}}},
		{name: "a VARIANT compared with text literals", evidence: "docs.snowflake.com/sql-reference/data-type-conversion: " +
			"VARCHAR coerces to VARIANT, so the literal compares as a VARIANT string (no JSON parsing of the literal)",
			sql: `SELECT v:Plan = 'pro' AS a, 'pro' = v:Plan AS b, v:Plan <> 'Pro' AS c, v:Plan IN ('basic', 'pro') AS d,
				v:owner.name = 'ann' AS e FROM (SELECT ` + doc + ` AS v)`,
			rows: [][]string{{"true", "true", "true", "true", "false"}}},
		{name: "demo campaigns for one segment, and per device", evidence: pathDoc + "; campaigns.targeting holds JSON text",
			sql: `SELECT COUNT(*) AS n, COUNT_IF(ARRAY_SIZE(PARSE_JSON("targeting"):devices) = 0) AS no_device
				FROM "in.c-web"."campaigns" WHERE PARSE_JSON("targeting"):audience.segment = 'SMB'`,
			rows: [][]string{{"4", "1"}}}, // campaigns 1, 4, 7 and 10; only 4 targets no device
		{name: "ARRAY_SIZE of a VARIANT array, NULL for an object", evidence: "docs.snowflake.com/sql-reference/functions/array_size",
			sql:  `SELECT ARRAY_SIZE(v:tags) AS a, ARRAY_SIZE(v:owner) AS b FROM (SELECT ` + doc + ` AS v)`,
			rows: [][]string{{"2", "<null>"}}},
		{name: "GET, GET_PATH and JSON_EXTRACT_PATH_TEXT", evidence: getPathDoc + "; docs.snowflake.com/sql-reference/functions/get " +
			"and json_extract_path_text (reads JSON text, returns VARCHAR)",
			sql: `SELECT GET(v, 'Plan') AS a, GET(v:tags, 1) AS b, GET(v, 'plan') AS c, GET_PATH(v, 'owner.name')::string AS d,
				GET_PATH(v, 'tags[0]') = 'beta' AS e, JSON_EXTRACT_PATH_TEXT('{"a":{"b":"x"}}', 'a.b') AS f FROM (SELECT ` + doc + ` AS v)`,
			types: []string{"VARIANT", "VARIANT", "VARIANT", "VARCHAR", "BOOLEAN", "VARCHAR"},
			rows:  [][]string{{`"pro"`, `"eu"`, "<null>", "Ann", "true", "x"}}},
		{name: "TYPEOF, OBJECT_KEYS, IS_ARRAY and IS_OBJECT", evidence: "docs.snowflake.com/sql-reference/functions/typeof " +
			"(INTEGER, DECIMAL, VARCHAR, ARRAY, OBJECT, NULL_VALUE), object_keys, is_array, is_object",
			sql: `SELECT TYPEOF(v:seats) AS a, TYPEOF(PARSE_JSON('1.5')) AS b, TYPEOF(v:Plan) AS c, TYPEOF(v:tags) AS d, TYPEOF(v:owner) AS e,
				TYPEOF(PARSE_JSON('null')) AS f, OBJECT_KEYS(v:owner) AS g, IS_ARRAY(v:tags) AS h, IS_OBJECT(v:tags) AS i FROM (SELECT ` + doc + ` AS v)`,
			rows: [][]string{{"INTEGER", "DECIMAL", "VARCHAR", "ARRAY", "OBJECT", "NULL_VALUE", "[\n  \"first name\",\n  \"name\"\n]", "true", "false"}}},
		{name: "GET on a VARCHAR column is refused", evidence: "docs.snowflake.com/sql-reference/functions/get: the input is a VARIANT, OBJECT or ARRAY",
			sql:     `SELECT GET("email", 'x') FROM "in.c-crm"."customers"`,
			wantErr: "SQL compilation error:\nInvalid argument types for function 'GET': (VARCHAR, VARCHAR)"},
		{name: "unaliased expressions are named as written, upper-cased", evidence: "docs.snowflake.com/user-guide/querying-semistructured: " +
			"result headers such as SRC:SALESPERSON.NAME; COUNT(*) likewise",
			sql:  `SELECT v:owner.name, v:Plan::string, DECODE(1, 1, 'a'), COUNT(*), v:Plan AS p FROM (SELECT ` + doc + ` AS v) GROUP BY ALL`,
			cols: []string{"V:OWNER.NAME", "V:PLAN::STRING", "DECODE(1, 1, 'A')", "COUNT(*)", "P"},
			rows: [][]string{{`"Ann"`, "pro", "a", "1", `"pro"`}}},
		{name: "a subquery's expressions are named too", evidence: "as above; names inserted inside and after a scalar subquery",
			sql:  `SELECT (SELECT MAX(x) FROM (VALUES (1), (2)) v(x)) + 1, v:seats FROM (SELECT ` + doc + ` AS v)`,
			cols: []string{"(SELECT MAX(X) FROM (VALUES (1), (2)) V(X)) + 1", "V:SEATS"},
			rows: [][]string{{"3", "3"}}},
		{name: "a path on a VARCHAR column is refused", evidence: getPathDoc,
			sql:     `SELECT "email":domain FROM "KEBOOLA_1234"."in.c-crm"."customers"`,
			wantErr: "SQL compilation error:\nInvalid argument types for function 'GET_PATH': (VARCHAR, VARCHAR)"},
	})
}

func TestSnowflakeDialect_Flatten(t *testing.T) {
	const (
		flattenDoc = "docs.snowflake.com/sql-reference/functions/flatten: columns SEQ, KEY (objects only), PATH, INDEX " +
			"(arrays only), VALUE, THIS; rows that cannot be expanded are omitted unless OUTER => TRUE, which gives one row " +
			"with NULL KEY, INDEX and VALUE; INPUT must be a VARIANT, OBJECT or ARRAY"
		pathDoc      = "docs.snowflake.com/user-guide/querying-semistructured: element names are case-sensitive"
		recursiveDoc = flattenDoc + "; RECURSIVE => TRUE expands all sub-elements recursively, MODE naming the kinds expanded, " +
			"THIS being the element flattened (its example flattens {\"a\":1, \"b\":[77,88], \"c\": {\"d\":\"X\"}} into " +
			"paths a, b, b[0], b[1], c and c.d)"
	)
	runOverHTTP(t, []dialectCase{
		{name: "an array: INDEX and PATH, no KEY", evidence: flattenDoc,
			sql: `SELECT f.key, f.path, f.index, f.value, f.value::string AS s FROM (SELECT PARSE_JSON('["a",{"x":1}]') AS v) t,
				LATERAL FLATTEN(input => t.v) f ORDER BY f.index`,
			types: []string{"VARCHAR", "VARCHAR", "NUMBER", "VARIANT", "VARCHAR"},
			rows:  [][]string{{"<null>", "[0]", "0", `"a"`, "a"}, {"<null>", "[1]", "1", "{\n  \"x\": 1\n}", `{"x":1}`}}},
		{name: "an object: KEY and PATH, no INDEX", evidence: flattenDoc,
			sql: `SELECT f.key, f.path, f.index, f.value::string AS s FROM (SELECT PARSE_JSON('{"k":"v","first name":"A"}') AS v) t,
				LATERAL FLATTEN(input => v) f ORDER BY f.key`,
			rows: [][]string{{"first name", "['first name']", "<null>", "A"}, {"k", "k", "<null>", "v"}}},
		{name: "TABLE(FLATTEN()) with its six columns and a PATH", evidence: flattenDoc,
			sql:  `SELECT * FROM TABLE(FLATTEN(input => PARSE_JSON('{"a":{"b":[7]}}'), path => 'a.b'))`,
			cols: []string{"SEQ", "KEY", "PATH", "INDEX", "VALUE", "THIS"}},
		{name: "PATH flattens the element at that path", evidence: flattenDoc,
			sql:  `SELECT key, path, index, value, this FROM TABLE(FLATTEN(input => PARSE_JSON('{"a":{"b":[7]}}'), path => 'a.b'))`,
			rows: [][]string{{"<null>", "a.b[0]", "0", "7", "[\n  7\n]"}}},
		{name: "a scalar is not expanded", evidence: flattenDoc,
			sql:  `SELECT COUNT(*) AS n FROM (SELECT PARSE_JSON('5') AS v UNION ALL SELECT PARSE_JSON('[]')) t, LATERAL FLATTEN(input => v) f`,
			rows: [][]string{{"0"}}},
		{name: "OUTER keeps a scalar's and an empty array's row with NULLs", evidence: flattenDoc,
			sql: `SELECT t.id, f.key, f.index, f.value FROM (SELECT 1 AS id, PARSE_JSON('5') AS v UNION ALL SELECT 2, PARSE_JSON('[]')) t,
				LATERAL FLATTEN(input => t.v, outer => TRUE) f ORDER BY t.id`,
			rows: [][]string{{"1", "<null>", "<null>", "<null>"}, {"2", "<null>", "<null>", "<null>"}}},
		{name: "MODE => 'OBJECT' skips an array", evidence: flattenDoc,
			sql:  `SELECT COUNT(*) AS n FROM TABLE(FLATTEN(input => PARSE_JSON('[1,2]'), mode => 'OBJECT'))`,
			rows: [][]string{{"0"}}},
		{name: "SEQ tells the input values apart", evidence: flattenDoc,
			sql:  `SELECT COUNT(DISTINCT f.seq) AS inputs, COUNT(*) AS elements FROM (SELECT PARSE_JSON('[1,2]') AS v UNION ALL SELECT PARSE_JSON('[3]')) t, LATERAL FLATTEN(input => v) f`,
			rows: [][]string{{"2", "3"}}},
		{name: "a VARCHAR input is refused", evidence: flattenDoc,
			sql:     `SELECT f.value FROM "in.c-web"."campaigns" c, LATERAL FLATTEN(input => c."targeting") f`,
			wantErr: "SQL compilation error:\nInvalid argument types for function 'FLATTEN': (VARCHAR)"},
		{name: "RECURSIVE expands every sub-element, THIS being each one's container", evidence: recursiveDoc,
			sql: `SELECT key, path, index, value::string AS v, this::string AS t
				FROM TABLE(FLATTEN(input => PARSE_JSON('{"a":1, "b":[77,88], "c": {"d":"X"}}'), recursive => TRUE)) ORDER BY path`,
			rows: [][]string{
				{"a", "a", "<null>", "1", `{"a":1,"b":[77,88],"c":{"d":"X"}}`},
				{"b", "b", "<null>", "[77,88]", `{"a":1,"b":[77,88],"c":{"d":"X"}}`},
				{"<null>", "b[0]", "0", "77", "[77,88]"},
				{"<null>", "b[1]", "1", "88", "[77,88]"},
				{"c", "c", "<null>", `{"d":"X"}`, `{"a":1,"b":[77,88],"c":{"d":"X"}}`},
				{"d", "c.d", "<null>", "X", `{"d":"X"}`},
			}},
		{name: "RECURSIVE under a PATH, through a key that is no plain name", evidence: recursiveDoc,
			sql: `SELECT f.path, f.value::string AS v FROM (SELECT PARSE_JSON('{"o":{"first name":[{"x":1}]}}') AS v) t,
				LATERAL FLATTEN(input => t.v, path => 'o', recursive => TRUE) f ORDER BY 1`,
			rows: [][]string{{"o['first name']", `[{"x":1}]`}, {"o['first name'][0]", `{"x":1}`}, {"o['first name'][0].x", "1"}}},
		{name: "RECURSIVE with MODE => 'OBJECT' does not descend into arrays", evidence: recursiveDoc,
			sql:  `SELECT f.path FROM TABLE(FLATTEN(input => PARSE_JSON('{"a":[{"b":1}],"c":{"d":[2]}}'), recursive => TRUE, mode => 'OBJECT')) f ORDER BY 1`,
			rows: [][]string{{"a"}, {"c"}, {"c.d"}}},
		{name: "RECURSIVE over the demo campaigns reaches nested members and elements", evidence: recursiveDoc +
			"; campaigns.targeting holds JSON text (the per-device counts above: 6 + 9 + 3)",
			sql: `SELECT COUNT_IF(f.path = 'audience.segment') AS segments, COUNT_IF(f.path LIKE 'devices[%]') AS devices
				FROM "in.c-web"."campaigns" c, LATERAL FLATTEN(input => PARSE_JSON(c."targeting"), recursive => TRUE) f`,
			rows: [][]string{{"12", "18"}}},
		{name: "RECURSIVE with OUTER is refused, not guessed", evidence: recursiveDoc + "; whether OUTER adds a row for each empty " +
			"container on the way down is not documented, so the stricter refusal is modelled",
			sql:     `SELECT * FROM TABLE(FLATTEN(input => PARSE_JSON('[[1]]'), recursive => TRUE, outer => TRUE))`,
			wantErr: "SQL compilation error:\nFLATTEN with both RECURSIVE => TRUE and OUTER => TRUE is not supported by this stack"},
		{name: "devices targeted by the demo campaigns", evidence: flattenDoc + "; campaigns.targeting holds JSON text",
			sql: `SELECT f.value::string AS device, COUNT(*) AS campaigns FROM "KEBOOLA_1234"."in.c-web"."campaigns" c,
				LATERAL FLATTEN(input => PARSE_JSON(c."targeting"):devices) f GROUP BY 1 ORDER BY 1`,
			rows: [][]string{{"desktop", "6"}, {"mobile", "9"}, {"tablet", "3"}}},
		{name: "demo campaigns targeting no device, with OUTER", evidence: flattenDoc,
			sql: `SELECT c."campaign_id" FROM "in.c-web"."campaigns" c,
				LATERAL FLATTEN(input => PARSE_JSON(c."targeting"):devices, outer => TRUE) f WHERE f.index IS NULL ORDER BY 1`,
			rows: [][]string{{"4"}, {"8"}, {"12"}}},
		{name: "a nested array through a FLATTEN value", evidence: flattenDoc,
			sql: `SELECT f.value:x::int AS x FROM (SELECT PARSE_JSON('{"items":[{"x":1},{"x":2}]}') AS v) t,
				LATERAL FLATTEN(v:items) f ORDER BY 1`,
			rows: [][]string{{"1"}, {"2"}}},
		{name: "a demo key in another case is NULL", evidence: pathDoc,
			sql: `SELECT COUNT(PARSE_JSON("targeting"):audience.minPageViews) AS right_case,
				COUNT(PARSE_JSON("targeting"):audience.minpageviews) AS wrong_case FROM "in.c-web"."campaigns"`,
			rows: [][]string{{"12", "0"}}},
	})
}

// A transformation may create a table with a VARIANT column: it keeps the
// type, paths read it and DESCRIBE names it (docs.snowflake.com
// sql-reference/sql/desc-table: the column's Snowflake type).
func TestSnowflakeDialect_VariantColumnInATransformationTable(t *testing.T) {
	s, _ := newClocked(t, Options{})
	ss := s.sqlSession(s.db, "", false)
	ctx := context.Background()
	if _, err := ss.run(ctx, `CREATE TABLE "out.c-reports"."events" AS SELECT PARSE_JSON('{"Kind":"click","tags":["a"]}') AS payload, f.value AS tag
		FROM TABLE(FLATTEN(input => PARSE_JSON('["x","y"]'))) f`, "WS", 10); err != nil {
		t.Fatal(err)
	}
	res, err := ss.run(ctx, `SELECT payload:Kind::string AS kind, payload:kind AS wrong_case, tag FROM "out.c-reports"."events" ORDER BY tag`, "WS", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := texts(res.rows), [][]string{{"click", "", `"x"`}, {"click", "", `"y"`}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rows %q, want %q", got, want)
	}
	desc, err := ss.run(ctx, `DESCRIBE TABLE "out.c-reports"."events"`, "WS", 10)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, r := range texts(desc.rows) {
		types = append(types, r[1])
	}
	if want := []string{"VARIANT", "VARIANT"}; !slices.Equal(types, want) {
		t.Errorf("DESCRIBE types %q, want %q", types, want)
	}
}

func TestSnowflakeDialect_SemiStructuredConstructors(t *testing.T) {
	const (
		objectDoc = "docs.snowflake.com/sql-reference/functions/object_construct: keys are VARCHAR, a pair whose key or value " +
			"is SQL NULL is omitted, a JSON null value (PARSE_JSON('null')) is kept; returns an OBJECT"
		keepNullDoc = "docs.snowflake.com/sql-reference/functions/object_construct_keep_null: a SQL NULL value is kept, printed null"
		wildcardDoc = "docs.snowflake.com/sql-reference/functions/object_construct: with * (or t.*, optionally with EXCLUDE) the " +
			"OBJECT is built from the row, the attribute (column) names as keys, SQL NULL values omitted; its example keys " +
			"PROVINCE and CREATED_DATE, columns created unquoted (docs.snowflake.com/sql-reference/identifiers-syntax: unquoted " +
			"names are stored upper case, quoted ones as written)"
		arrayDoc = "docs.snowflake.com/sql-reference/functions/array_construct: N arguments give an ARRAY of size N, " +
			"values of any types; returns an ARRAY"
		containsDoc = "docs.snowflake.com/sql-reference/functions/array_contains: ARRAY_CONTAINS(<value_expr>, <array>), the value " +
			"first; for a semi-structured array a string, binary or date/time value must be cast to VARIANT explicitly; " +
			"a JSON null finds a JSON null; a NULL value with no SQL NULL in the array gives NULL"
		aggDoc = "docs.snowflake.com/sql-reference/functions/array_agg and object_agg: NULL values (and pairs with a NULL key " +
			"or value) are omitted; ARRAY_AGG returns an ARRAY, OBJECT_AGG an OBJECT"
	)
	runOverHTTP(t, []dialectCase{
		{name: "OBJECT_CONSTRUCT drops SQL NULL values, keeps JSON null", evidence: objectDoc,
			sql: `SELECT OBJECT_CONSTRUCT('b', 2, 'a', 'x', 'none', NULL, 'json null', PARSE_JSON('null'), 'tags', ARRAY_CONSTRUCT(1)) AS o,
				OBJECT_CONSTRUCT() AS e`,
			types: []string{"OBJECT", "OBJECT"},
			rows:  [][]string{{"{\n  \"a\": \"x\",\n  \"b\": 2,\n  \"json null\": null,\n  \"tags\": [\n    1\n  ]\n}", "{}"}}},
		{name: "OBJECT_CONSTRUCT_KEEP_NULL keeps a SQL NULL value", evidence: keepNullDoc,
			sql:   `SELECT OBJECT_CONSTRUCT_KEEP_NULL('a', 1, 'b', NULL) AS o`,
			types: []string{"OBJECT"},
			rows:  [][]string{{"{\n  \"a\": 1,\n  \"b\": null\n}"}}},
		{name: "paths, TYPEOF and ::STRING on constructed values", evidence: objectDoc + "; " + arrayDoc,
			sql: `SELECT OBJECT_CONSTRUCT('Name', "name")['Name']::string AS a, OBJECT_CONSTRUCT('Name', "name"):name AS b,
				ARRAY_CONSTRUCT(10, 'x', NULL)[1] AS c, ARRAY_SIZE(ARRAY_CONSTRUCT(10, 'x', NULL)) AS d, TYPEOF(OBJECT_CONSTRUCT('k', 1)) AS e
				FROM "in.c-crm"."customers" ORDER BY "customer_id" LIMIT 1`,
			rows: [][]string{{"Prime Retail Ltd.", "<null>", `"x"`, "3", "OBJECT"}}},
		{name: "ARRAY_CONSTRUCT mixes types into an ARRAY", evidence: arrayDoc,
			sql:   `SELECT ARRAY_CONSTRUCT(10, 'hello', PARSE_JSON('{"k":true}')) AS a, ARRAY_CONSTRUCT() AS e`,
			types: []string{"ARRAY", "ARRAY"},
			rows:  [][]string{{"[\n  10,\n  \"hello\",\n  {\n    \"k\": true\n  }\n]", "[]"}}},
		{name: "ARRAY_CONSTRUCT prints a SQL NULL element as undefined, a JSON null as null", evidence: arrayDoc + "; its example " +
			"ARRAY_CONSTRUCT(NULL, PARSE_JSON('null'), 'hello', …) prints undefined, null, \"hello\" (an array holds both nulls)",
			sql: `SELECT ARRAY_CONSTRUCT(NULL, 'a') AS a, ARRAY_CONSTRUCT(NULL, PARSE_JSON('null'), 'hello', 4, 5) AS b,
				ARRAY_CONSTRUCT('undefined', 'q"undefined', NULL) AS c, ARRAY_SIZE(ARRAY_CONSTRUCT(NULL, NULL)) AS d`,
			types: []string{"ARRAY", "ARRAY", "ARRAY", "NUMBER"},
			rows: [][]string{{"[\n  undefined,\n  \"a\"\n]", "[\n  undefined,\n  null,\n  \"hello\",\n  4,\n  5\n]",
				"[\n  \"undefined\",\n  \"q\\\"undefined\",\n  undefined\n]", "2"}}},
		{name: "an ARRAY of a table's column keeps its NULLs undefined", evidence: arrayDoc,
			sql: `SELECT ARRAY_CONSTRUCT("customer_id", IFF("customer_id" = 1, NULL, "segment")) AS a FROM "in.c-crm"."customers"
				WHERE "customer_id" <= 2 ORDER BY "customer_id"`,
			rows: [][]string{{"[\n  1,\n  undefined\n]"}, {"[\n  2,\n  \"Mid-Market\"\n]"}}},
		{name: "OBJECT_CONSTRUCT with an odd number of arguments is refused", evidence: objectDoc + " (arguments come in pairs)",
			sql:     `SELECT OBJECT_CONSTRUCT('a', 1, 'b')`,
			wantErr: "SQL compilation error:\nOBJECT_CONSTRUCT takes key-value pairs; got 3 arguments"},
		{name: "OBJECT_CONSTRUCT(*) of a demo customer keys the quoted column names as stored", evidence: wildcardDoc,
			sql:   `SELECT OBJECT_CONSTRUCT(*) FROM "KEBOOLA_1234"."in.c-crm"."customers" ORDER BY "customer_id" LIMIT 1`,
			cols:  []string{"OBJECT_CONSTRUCT(*)"},
			types: []string{"OBJECT"},
			rows: [][]string{{"{\n  \"country\": \"GB\",\n  \"customer_id\": 1,\n  \"email\": \"billing@primeretailltd1.example.com\",\n" +
				"  \"is_active\": true,\n  \"name\": \"Prime Retail Ltd.\",\n  \"segment\": \"Enterprise\",\n  \"signup_date\": \"2025-08-10\"\n}"}}},
		{name: "OBJECT_CONSTRUCT(*) omits SQL NULL columns, the KEEP_NULL twin keeps them; unquoted aliases key upper case",
			evidence: wildcardDoc + "; " + keepNullDoc + " (its (*) example keeps the NULL province and created_date)",
			sql: `SELECT OBJECT_CONSTRUCT(*) AS o, OBJECT_CONSTRUCT_KEEP_NULL(*) AS k
				FROM (SELECT 1 AS id, NULL AS "note", PARSE_JSON('null') AS payload, 'x' AS "Label")`,
			rows: [][]string{{"{\n  \"ID\": 1,\n  \"Label\": \"x\",\n  \"PAYLOAD\": null\n}",
				"{\n  \"ID\": 1,\n  \"Label\": \"x\",\n  \"PAYLOAD\": null,\n  \"note\": null\n}"}}},
		{name: "OBJECT_CONSTRUCT(t.*) and (* EXCLUDE …) over a join", evidence: wildcardDoc,
			sql: `SELECT OBJECT_CONSTRUCT(c.*):"segment"::string AS seg, OBJECT_CONSTRUCT(* EXCLUDE ("email", "name", "customer_id")) AS rest
				FROM (SELECT "customer_id", "order_id" FROM "in.c-crm"."orders") o JOIN "in.c-crm"."customers" c USING ("customer_id")
				ORDER BY o."order_id" LIMIT 1`,
			rows: [][]string{{"SMB", "{\n  \"country\": \"DE\",\n  \"is_active\": false,\n  \"order_id\": 100001,\n" +
				"  \"segment\": \"SMB\",\n  \"signup_date\": \"2025-01-22\"\n}"}}}, // order 100001 is customer 92's
		{name: "OBJECT_CONSTRUCT(*) EXCLUDE names fold like any identifier", evidence: wildcardDoc + "; an unquoted name is upper case " +
			"(docs.snowflake.com/sql-reference/identifiers-syntax)",
			sql:     `SELECT OBJECT_CONSTRUCT(* EXCLUDE email) FROM "in.c-crm"."customers"`,
			wantErr: "SQL compilation error: error line 1 at position 34\ninvalid identifier 'EMAIL'"},
		{name: "OBJECT_CONSTRUCT(*) over two tables sharing a column name fails", evidence: wildcardDoc + "; an OBJECT holds a key once " +
			"(docs.snowflake.com/sql-reference/data-types-semistructured), so the stricter refusal is modelled",
			sql:     `SELECT OBJECT_CONSTRUCT(*) FROM "in.c-crm"."orders" o JOIN "in.c-crm"."customers" c ON c."customer_id" = o."customer_id"`,
			wantErr: "Duplicate field key 'customer_id'"},
		{name: "OBJECT_CONSTRUCT(* ILIKE …) is refused, not guessed", evidence: wildcardDoc + "; the fake does not model the ILIKE filter",
			sql:     `SELECT OBJECT_CONSTRUCT(* ILIKE '%id') FROM "in.c-crm"."customers"`,
			wantErr: "SQL compilation error:\nthis stack does not support OBJECT_CONSTRUCT(* ILIKE …); list the keys and values, or use EXCLUDE"},
		{name: "ARRAY_CONTAINS takes the value first", evidence: containsDoc,
			sql: `SELECT ARRAY_CONTAINS('eu'::VARIANT, v:tags) AS a, ARRAY_CONTAINS('EU'::VARIANT, v:tags) AS b, ARRAY_CONTAINS(3, ARRAY_CONSTRUCT(1, 3)) AS c,
				ARRAY_CONTAINS(PARSE_JSON('null'), PARSE_JSON('[1, null]')) AS d, ARRAY_CONTAINS(PARSE_JSON('null'), v:tags) AS e,
				ARRAY_CONTAINS(NULL, v:tags) AS f, ARRAY_CONTAINS(v:tags[0], ARRAY_CONSTRUCT('beta')) AS g
				FROM (SELECT PARSE_JSON('{"tags":["beta","eu"]}') AS v)`,
			types: []string{"BOOLEAN", "BOOLEAN", "BOOLEAN", "BOOLEAN", "BOOLEAN", "BOOLEAN", "BOOLEAN"},
			rows:  [][]string{{"true", "false", "true", "true", "false", "<null>", "true"}}},
		{name: "ARRAY_CONTAINS of a DATE not cast to VARIANT is refused", evidence: containsDoc,
			sql:     `SELECT ARRAY_CONTAINS('2025-01-01'::DATE, ARRAY_CONSTRUCT(1))`,
			wantErr: "SQL compilation error:\nInvalid argument types for function 'ARRAY_CONTAINS': (DATE, ARRAY)"},
		{name: "ARRAY_CONTAINS in a NULL array is NULL", evidence: containsDoc,
			sql:  `SELECT ARRAY_CONTAINS(1::VARIANT, NULL) AS a, ARRAY_CONTAINS(1::VARIANT, PARSE_JSON('null')) AS b`,
			rows: [][]string{{"<null>", "<null>"}}},
		{name: "ARRAY_CONTAINS of a string not cast to VARIANT is refused", evidence: containsDoc,
			sql:     `SELECT ARRAY_CONTAINS('eu', PARSE_JSON('["eu"]'))`,
			wantErr: "SQL compilation error:\nInvalid argument types for function 'ARRAY_CONTAINS': (VARCHAR, VARIANT)"},
		{name: "ARRAY_CONTAINS with the arguments swapped fails", evidence: containsDoc + "; the array comes second, and " +
			"a VARIANT holding no array fails to convert to ARRAY at run time (docs.snowflake.com/sql-reference/data-type-conversion)",
			sql:     `SELECT ARRAY_CONTAINS(PARSE_JSON('["eu"]'), 'eu'::VARIANT)`,
			wantErr: `Failed to cast variant value "eu" to ARRAY`},
		{name: "ARRAY_CONTAINS of a text column in an aggregated array is refused", evidence: containsDoc,
			sql:     `SELECT ARRAY_CONTAINS("segment", ARRAY_AGG("segment")) FROM "in.c-crm"."customers" GROUP BY "segment"`,
			wantErr: "SQL compilation error:\nInvalid argument types for function 'ARRAY_CONTAINS': (VARCHAR, ARRAY)"},
		{name: "demo campaigns targeting mobile", evidence: containsDoc + "; campaigns.targeting holds JSON text",
			sql: `SELECT COUNT_IF(ARRAY_CONTAINS('mobile'::VARIANT, PARSE_JSON("targeting"):devices)) AS mobile,
				COUNT_IF(ARRAY_CONTAINS('Mobile'::VARIANT, PARSE_JSON("targeting"):devices)) AS wrong_case FROM "in.c-web"."campaigns"`,
			rows: [][]string{{"9", "0"}}}, // as the FLATTEN per device counts them
		{name: "ARRAY_AGG and OBJECT_AGG omit NULLs", evidence: aggDoc,
			sql: `SELECT ARRAY_AGG(x) WITHIN GROUP (ORDER BY x DESC) AS a, OBJECT_AGG(k, x) AS o
				FROM (VALUES ('a', 1), ('b', NULL), (NULL, 3), ('d', 4)) v(k, x)`,
			types: []string{"ARRAY", "OBJECT"},
			rows:  [][]string{{"[\n  4,\n  3,\n  1\n]", "{\n  \"a\": 1,\n  \"d\": 4\n}"}}},
		{name: "ARRAY_AGG omits NULLs, in a window too", evidence: aggDoc,
			sql:  `SELECT x, ARRAY_AGG(x) OVER (ORDER BY x NULLS FIRST) AS so_far FROM (VALUES (2), (NULL), (1)) v(x) ORDER BY x NULLS FIRST`,
			rows: [][]string{{"<null>", "[]"}, {"1", "[\n  1\n]"}, {"2", "[\n  1,\n  2\n]"}}},
		{name: "ARRAY_AGG with a FILTER clause is refused, not guessed", evidence: aggDoc + "; Snowflake documents no FILTER " +
			"clause on aggregates, so the stricter behaviour is modelled",
			sql:     `SELECT ARRAY_AGG(x) FILTER (WHERE x > 1) AS a FROM (VALUES (1), (2)) v(x)`,
			wantErr: "SQL compilation error:\nthis stack does not support FILTER on ARRAY_AGG; filter the rows in WHERE or with IFF"},
		{name: "OBJECT_AGG per segment of the demo customers", evidence: aggDoc,
			sql:  `SELECT OBJECT_AGG("segment", n) AS per_segment FROM (SELECT "segment", COUNT(*) AS n FROM "in.c-crm"."customers" GROUP BY 1)`,
			rows: [][]string{{"{\n  \"Enterprise\": 70,\n  \"Mid-Market\": 131,\n  \"SMB\": 199\n}"}}},
	})
}

func TestSnowflakeDialect_VariantComparedWithColumns(t *testing.T) {
	const conversionDoc = "docs.snowflake.com/sql-reference/data-type-conversion: VARCHAR coerces to VARIANT, so a text column " +
		"compares with a VARIANT as a VARIANT string (no JSON parsing of the text, a number element never equals text); " +
		"a VARIANT compared with a NUMBER is converted to NUMBER"
	const doc = `PARSE_JSON('{"status":"completed","id":100002,"n":"5"}')`
	runOverHTTP(t, []dialectCase{
		{name: "a VARIANT equal to a text column, either side", evidence: conversionDoc,
			sql: `SELECT v:status = s AS a, s = v:status AS b, v:status <> s AS c, v:status != t.s AS d, v:status = UPPER(s) AS e,
				v:n = five AS f, v:id = id_text AS g FROM (SELECT ` + doc + ` AS v, 'completed' AS s, '5' AS five, '100002' AS id_text) t`,
			rows: [][]string{{"true", "true", "false", "false", "false", "true", "false"}}},
		{name: "a comparison aliased without AS", evidence: conversionDoc,
			sql:  `SELECT v:status = s matches, v:status <> s "Differs" FROM (SELECT ` + doc + ` AS v, 'completed' AS s)`,
			cols: []string{"MATCHES", "Differs"},
			rows: [][]string{{"true", "false"}}},
		{name: "a VARIANT ordered against a text column as text, against a number column as a number", evidence: conversionDoc,
			sql: `SELECT v:status >= s AS a, v:status < s AS b, s > v:status AS c, v:id > n AS d, v:id < big AS e
				FROM (SELECT ` + doc + ` AS v, 'completed' AS s, 99999 AS n, 1000000 AS big) t`,
			rows: [][]string{{"true", "false", "false", "true", "true"}}},
		{name: "a VARIANT IN a list holding a text column, and NOT IN", evidence: conversionDoc + "; x IN (a, b) is x = a OR x = b " +
			"(docs.snowflake.com/sql-reference/functions/in)",
			sql: `SELECT v:status IN (s, 'x') AS a, v:status NOT IN (s, 'x') AS b, v:status IN ('x', UPPER(s)) AS c, v:id IN (n, 7) AS d,
				v:status NOT IN ('x', 'y') AS e FROM (SELECT ` + doc + ` AS v, 'completed' AS s, 100002 AS n) t`,
			rows: [][]string{{"true", "false", "false", "true", "true"}}},
		{name: "a join on a VARIANT text and a VARIANT number", evidence: conversionDoc,
			sql: `SELECT o."order_id", o."status" FROM "KEBOOLA_1234"."in.c-crm"."orders" o
				JOIN (SELECT ` + doc + ` AS v) t ON t.v:id = o."order_id" AND t.v:status = o."status"`,
			rows: [][]string{{"100002", "completed"}}},
		{name: "demo campaigns joined to the customers of their segment", evidence: conversionDoc + "; campaigns.targeting holds JSON text",
			sql: `SELECT cu."segment", COUNT(DISTINCT c."campaign_id") AS campaigns FROM "in.c-web"."campaigns" c
				JOIN "in.c-crm"."customers" cu ON PARSE_JSON(c."targeting"):audience.segment = cu."segment" GROUP BY 1 ORDER BY 1`,
			rows: [][]string{{"Enterprise", "4"}, {"Mid-Market", "4"}, {"SMB", "4"}}},
		{name: "a VARIANT compared with a text expression, either side", evidence: conversionDoc + "; || and arithmetic bind more " +
			"tightly than a comparison (docs.snowflake.com/sql-reference/operators), so the whole expression is the VARCHAR compared",
			sql: `SELECT v:name = 'a' || 'b' AS a, 'a' || 'b' = v:name AS b, v:city = UPPER(c) || '' AS c, v:name = s || 'b' AS d,
				v:name = UPPER(s) || 'B' AS e, v:n = '2' || '' AS f, v:name <> 'a' || 'b' AS g, v:name < 'a' || 'c' AS h,
				v:name = CASE WHEN s = 'a' THEN 'ab' END AS i, v:name = (s || 'b') AS j, v:n = 1 + 1 AS k, v:n > -1 AS l
				FROM (SELECT PARSE_JSON('{"name":"ab","city":"PRAGUE","n":2}') AS v, 'prague' AS c, 'a' AS s)`,
			rows: [][]string{{"true", "true", "true", "true", "false", "false", "false", "true", "true", "true", "true", "true"}}},
		{name: "a VARIANT IN a list holding a text expression", evidence: conversionDoc + "; x IN (a, b) is x = a OR x = b " +
			"(docs.snowflake.com/sql-reference/functions/in)",
			sql: `SELECT v:name IN ('a' || 'b', 'x') AS a, v:name NOT IN ('x', s || 'b') AS b, v:name IN ('A' || 'B') AS c
				FROM (SELECT PARSE_JSON('{"name":"ab"}') AS v, 'a' AS s)`,
			rows: [][]string{{"true", "false", "false"}}},
		{name: "demo campaigns joined to customers on a text expression", evidence: conversionDoc + "; campaigns.targeting holds JSON text",
			sql: `SELECT cu."segment", COUNT(DISTINCT c."campaign_id") AS campaigns FROM "in.c-web"."campaigns" c
				JOIN "in.c-crm"."customers" cu ON PARSE_JSON(c."targeting"):audience.segment = UPPER(LEFT(cu."segment", 1)) || SUBSTR(cu."segment", 2)
				GROUP BY 1 ORDER BY 1`,
			rows: [][]string{{"Enterprise", "4"}, {"Mid-Market", "4"}, {"SMB", "4"}}},
		{name: "a FLATTEN value equal to a text column", evidence: conversionDoc,
			sql: `SELECT COUNT(*) AS n FROM (SELECT PARSE_JSON('["a","b","A"]') AS v, 'a' AS wanted) t, LATERAL FLATTEN(input => t.v) f
				WHERE f.value = t.wanted`,
			rows: [][]string{{"1"}}},
	})
}
