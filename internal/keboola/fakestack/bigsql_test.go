package fakestack

import "testing"

// Evidence for the BigQuery dialect. GoogleSQL reference pages are under
// cloud.google.com/bigquery/docs/reference/standard-sql/; the Query
// Service's error object and the dataset naming come from the Python
// server's workspace.py (_BigQueryWorkspace).
const (
	bqLexical    = "standard-sql/lexical: backquoted identifiers, \"…\" and '…' are both string literals, dataset and table names case-sensitive, column names case-insensitive"
	bqFQN        = "workspace.py _BigQueryWorkspace.get_table_info: FQN is `dataset`.`table`, dataset = backendPath[0] with . and - as _"
	bqFrom       = "standard-sql/query-syntax#from_clause: a table is dataset.table (one backquoted path or its parts); an unqualified table must be qualified with a dataset"
	bqErrObject  = "workspace.py _BigQueryWorkspace: the Query Service serializes BigQuery errors as {Location: \"query\"; Message: \"…\"; Reason: \"invalidQuery\"}"
	bqConversion = "standard-sql/conversion_functions: CAST and SAFE_CAST with STRING, INT64, FLOAT64, NUMERIC, BOOL, DATE; SAFE_CAST gives NULL where CAST fails"
	bqMath       = "standard-sql/mathematical_functions#safe_divide: NULL when dividing by zero"
	bqAggregate  = "standard-sql/aggregate_functions: COUNTIF, STRING_AGG (default delimiter ','), ARRAY_AGG"
	bqDate       = "standard-sql/date_functions: DATE_TRUNC(d, part), DATE_DIFF(end, start, part) counting boundaries, DATE_ADD/DATE_SUB(d, INTERVAL n part) returning DATE, FORMAT_DATE/PARSE_DATE with % elements, EXTRACT(DAYOFWEEK) with Sunday = 1, CURRENT_DATE()"
	bqOperators  = "standard-sql/operators: no :: cast, no : path, no ILIKE (LIKE only); standard-sql/lexical#reserved_keywords: LATERAL is reserved; query-syntax#qualify_clause: QUALIFY is supported"
	bqAnonymous  = "standard-sql/query-syntax#implicit_aliases: only a path has an implicit alias, other expressions are anonymous; BigQuery's result schema names anonymous columns f0_, f1_, … in order (observed BigQuery behaviour, not in the reference)"
	bqInfoSchema = "information-schema-tables and information-schema-columns: dataset.INFORMATION_SCHEMA.TABLES/COLUMNS with table_schema, table_name, column_name, data_type as GoogleSQL type names"
	bqUnnest     = "standard-sql/query-syntax#unnest_operator: UNNEST(array) AS alias gives one row per element; array_functions#generate_date_array; string_functions#split"
	bqSelect     = "standard-sql/query-syntax#select_except: SELECT * EXCEPT (columns) leaves them out"
	bqFunctions  = "standard-sql/functions-all: a name outside GoogleSQL's functions is 'Function not found'"
)

func TestBigQueryDialect(t *testing.T) {
	runOverHTTPOn(t, Options{Backend: "bigquery"}, []dialectCase{
		// Names.
		{name: "backquoted dataset and table", evidence: bqFQN,
			sql:    "SELECT COUNT(*) AS n FROM `in_c_crm`.`customers`",
			oracle: `SELECT CAST(COUNT(*) AS VARCHAR) FROM "in.c-crm".customers`},
		{name: "one backquoted path", evidence: bqFrom,
			sql:    "SELECT COUNT(*) AS n FROM `in_c_crm.orders` WHERE status = 'completed'",
			oracle: `SELECT CAST(COUNT(*) AS VARCHAR) FROM "in.c-crm".orders WHERE status = 'completed'`},
		{name: "unquoted dataset.table, columns in any case", evidence: bqLexical,
			sql:    "SELECT SEGMENT, count(*) AS n FROM in_c_crm.customers c GROUP BY c.Segment ORDER BY 1",
			cols:   []string{"SEGMENT", "n"},
			oracle: `SELECT segment, CAST(COUNT(*) AS VARCHAR) FROM "in.c-crm".customers GROUP BY 1 ORDER BY 1`},
		{name: "join with aliases and a CTE", evidence: bqFrom,
			sql: "WITH big AS (SELECT customer_id, SUM(total_usd) AS spent FROM `in_c_crm`.`orders` GROUP BY customer_id)\n" +
				"SELECT c.segment, COUNT(*) AS n FROM big JOIN `in_c_crm`.`customers` AS c USING (customer_id) WHERE big.spent > 0 GROUP BY 1 ORDER BY 1",
			oracle: `SELECT segment, CAST(COUNT(*) AS VARCHAR) FROM (SELECT customer_id FROM "in.c-crm".orders GROUP BY 1 HAVING SUM(total_usd) > 0) JOIN "in.c-crm".customers USING (customer_id) GROUP BY 1 ORDER BY 1`},
		{name: "a comma join inside a subquery", evidence: bqFrom,
			sql:    "SELECT COUNT(*) AS n FROM (SELECT o.order_id FROM in_c_crm.orders o, `in_c_crm.customers` c WHERE o.customer_id = c.customer_id)",
			oracle: `SELECT CAST(COUNT(*) AS VARCHAR) FROM "in.c-crm".orders JOIN "in.c-crm".customers USING (customer_id)`},
		{name: "an unqualified table after a comma", evidence: bqFrom,
			sql:     "SELECT 1 FROM (SELECT 1 FROM in_c_crm.orders, customers)",
			wantErr: `{Location: "query"; Message: "Table \"customers\" must be qualified with a dataset (e.g. dataset.table)."; Reason: "invalidQuery"}`},
		{name: "Snowflake-quoted names are string literals", evidence: bqLexical + "; " + bqErrObject,
			sql:     `SELECT * FROM "in.c-crm"."customers"`,
			wantErr: `{Location: "query"; Message: "Syntax error: Unexpected string literal \"in.c-crm\" at [1:15]"; Reason: "invalidQuery"}`},
		{name: "the bucket id is no dataset", evidence: bqFQN,
			sql:     "SELECT * FROM `in.c-crm`.`customers`",
			wantErr: `{Location: "query"; Message: "Not found: Project in (a workspace reads its own project's datasets: write dataset.table)"; Reason: "notFound"}`},
		{name: "dataset names are case-sensitive", evidence: bqLexical,
			sql:     "SELECT * FROM IN_C_CRM.customers",
			wantErr: `{Location: "query"; Message: "Not found: Dataset kbc-fakestack:IN_C_CRM was not found in location US"; Reason: "notFound"}`},
		{name: "table names are case-sensitive", evidence: bqLexical,
			sql:     "SELECT * FROM `in_c_crm`.`Customers`",
			wantErr: `{Location: "query"; Message: "Not found: Table kbc-fakestack:in_c_crm.Customers was not found in location US"; Reason: "notFound"}`},
		{name: "an unqualified table", evidence: bqFrom,
			sql:     "SELECT * FROM customers",
			wantErr: `{Location: "query"; Message: "Table \"customers\" must be qualified with a dataset (e.g. dataset.table)."; Reason: "invalidQuery"}`},
		{name: "an unknown column", evidence: bqLexical,
			sql:     "SELECT nope FROM in_c_crm.customers",
			wantErr: `{Location: "query"; Message: "Unrecognized name: nope at [1:8]"; Reason: "invalidQuery"}`},
		{name: "INFORMATION_SCHEMA.COLUMNS of a dataset", evidence: bqInfoSchema,
			sql:  "SELECT table_name, column_name, data_type FROM `in_c_crm`.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'customers' ORDER BY ordinal_position LIMIT 3",
			rows: [][]string{{"customers", "customer_id", "INT64"}, {"customers", "name", "STRING"}, {"customers", "email", "STRING"}}},
		{name: "INFORMATION_SCHEMA.TABLES of a dataset", evidence: bqInfoSchema,
			sql:  "SELECT table_schema, table_name, table_type FROM `in_c_crm.INFORMATION_SCHEMA.TABLES` ORDER BY table_name",
			rows: [][]string{{"in_c_crm", "customers", "BASE TABLE"}, {"in_c_crm", "orders", "BASE TABLE"}}},
		{name: "UNNEST of SPLIT and GENERATE_DATE_ARRAY", evidence: bqUnnest,
			sql:  "SELECT d, tag FROM UNNEST(GENERATE_DATE_ARRAY('2024-01-30', '2024-02-01')) AS d, UNNEST(SPLIT('a,b', ',')) tag ORDER BY d, tag LIMIT 3",
			cols: []string{"d", "tag"},
			rows: [][]string{{"2024-01-30", "a"}, {"2024-01-30", "b"}, {"2024-01-31", "a"}}},
		{name: "SELECT * EXCEPT", evidence: bqSelect,
			sql:  "SELECT * EXCEPT (email, country, segment, signup_date, is_active, name) FROM in_c_crm.customers ORDER BY customer_id LIMIT 1",
			cols: []string{"customer_id"}},
		{name: "an unclosed string", evidence: bqLexical,
			sql:     "SELECT 'abc",
			wantErr: `{Location: "query"; Message: "Syntax error: Unclosed string literal"; Reason: "invalidQuery"}`},
		// Snowflake-only syntax.
		{name: ":: cast", evidence: bqOperators,
			sql:     "SELECT customer_id::STRING FROM in_c_crm.customers",
			wantErr: `{Location: "query"; Message: "Syntax error: Unexpected \"::\" at [1:19]"; Reason: "invalidQuery"}`},
		{name: "ILIKE", evidence: bqOperators,
			sql:     "SELECT name FROM in_c_crm.customers WHERE name ILIKE 'a%'",
			wantErr: `{Location: "query"; Message: "Syntax error: Unexpected identifier ILIKE at [1:48]"; Reason: "invalidQuery"}`},
		{name: "LATERAL FLATTEN", evidence: bqOperators,
			sql:     "SELECT f.value FROM in_c_crm.customers c, LATERAL FLATTEN(input => c.tags) f",
			wantErr: `{Location: "query"; Message: "Syntax error: Unexpected keyword LATERAL at [1:43]"; Reason: "invalidQuery"}`},
		{name: "a Snowflake function", evidence: bqFunctions,
			sql:     "SELECT IFF(is_active, 1, 0) FROM in_c_crm.customers",
			wantErr: `{Location: "query"; Message: "Function not found: IFF at [1:8]"; Reason: "invalidQuery"}`},
		{name: "a Snowflake type name", evidence: bqConversion,
			sql:     "SELECT CAST(customer_id AS VARCHAR) FROM in_c_crm.customers",
			wantErr: `{Location: "query"; Message: "Type not found: VARCHAR at [1:28]"; Reason: "invalidQuery"}`},
		{name: "QUALIFY runs", evidence: bqOperators,
			sql:    "SELECT segment, name FROM in_c_crm.customers WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY segment ORDER BY customer_id) = 1 ORDER BY segment",
			oracle: `SELECT segment, name FROM "in.c-crm".customers QUALIFY row_number() OVER (PARTITION BY segment ORDER BY customer_id) = 1 ORDER BY segment`},
		{name: "a write in the read-only workspace", evidence: "Keboola read-only input mapping: Query Service workspaces read Storage, they do not write it",
			sql:     "DELETE FROM in_c_crm.customers WHERE TRUE",
			wantErr: `{Location: "query"; Message: "Access Denied: the workspace has read-only access to Storage; only SELECT and WITH queries can run, not DELETE"; Reason: "accessDenied"}`},
		// Functions.
		{name: "CAST and SAFE_CAST", evidence: bqConversion,
			sql:  `SELECT CAST('12' AS INT64), SAFE_CAST('x' AS INT64), CAST(1.5 AS STRING), CAST('2024-02-03' AS DATE), CAST('true' AS BOOL), CAST(2 AS FLOAT64), CAST('1.25' AS NUMERIC) = 1.25`,
			rows: [][]string{{"12", "<null>", "1.5", "2024-02-03", "true", "2", "true"}}},
		{name: "TIMESTAMP and DATE functions", evidence: bqDate,
			sql:  "SELECT DATE(TIMESTAMP('2024-05-17 10:11:12')), TIMESTAMP_TRUNC(TIMESTAMP '2024-05-17 10:11:12', HOUR)",
			rows: [][]string{{"2024-05-17", "2024-05-17 10:00:00"}}},
		{name: "CAST of bad text fails", evidence: bqConversion,
			sql:     `SELECT CAST('x' AS INT64)`,
			wantErr: `{Location: "query"; Message: "Bad int64 value: x"; Reason: "invalidQuery"}`},
		{name: "double-quoted text is a string", evidence: bqLexical,
			sql:  `SELECT "it's", 'a\'b', CONCAT("x", 'y')`,
			rows: [][]string{{"it's", "a'b", "xy"}}},
		{name: "SAFE_DIVIDE and IFNULL", evidence: bqMath,
			sql:  `SELECT SAFE_DIVIDE(1, 0), SAFE_DIVIDE(3, 4), IFNULL(NULL, 'd')`,
			rows: [][]string{{"<null>", "0.75", "d"}}},
		{name: "anonymous columns are f0_, f1_, …", evidence: bqAnonymous,
			sql:  "SELECT c.segment, COUNT(*), MAX(c.customer_id) AS top, 1 + 1 FROM in_c_crm.customers AS c GROUP BY 1 ORDER BY 1 LIMIT 1",
			cols: []string{"segment", "f0_", "top", "f1_"}},
		{name: "COUNTIF and STRING_AGG", evidence: bqAggregate,
			sql:  `SELECT COUNTIF(x > 1), STRING_AGG(s), STRING_AGG(s, '|' ORDER BY s DESC) FROM (SELECT 1 AS x, 'a' AS s UNION ALL SELECT 2, 'b' UNION ALL SELECT 3, 'c')`,
			rows: [][]string{{"2", "a,b,c", "c|b|a"}}},
		{name: "COUNTIF over a table", evidence: bqAggregate,
			sql:    "SELECT COUNTIF(status = 'completed') AS done FROM `in_c_crm.orders`",
			oracle: `SELECT CAST(count_if(status = 'completed') AS VARCHAR) FROM "in.c-crm".orders`},
		{name: "DATE_TRUNC, DATE_DIFF, DATE_ADD, DATE_SUB", evidence: bqDate,
			sql:  `SELECT DATE_TRUNC(DATE '2024-05-17', MONTH), DATE_DIFF(DATE '2024-01-01', DATE '2023-12-31', YEAR), DATE_DIFF(DATE '2024-03-01', DATE '2024-02-01', DAY), DATE_ADD(DATE '2024-01-31', INTERVAL 1 DAY), DATE_SUB(DATE '2024-03-01', INTERVAL 2 MONTH)`,
			rows: [][]string{{"2024-05-01", "1", "29", "2024-02-01", "2024-01-01"}}},
		{name: "FORMAT_DATE, PARSE_DATE, EXTRACT", evidence: bqDate,
			sql:  `SELECT FORMAT_DATE('%Y/%m', DATE '2024-05-17'), PARSE_DATE('%d.%m.%Y', '17.05.2024'), EXTRACT(YEAR FROM DATE '2024-05-17'), EXTRACT(DAYOFWEEK FROM DATE '2024-05-19')`,
			rows: [][]string{{"2024/05", "2024-05-17", "2024", "1"}}},
		{name: "monthly revenue", evidence: bqDate,
			sql:    "SELECT DATE_TRUNC(order_date, MONTH) AS month, SUM(total_usd) AS revenue FROM `in_c_crm`.`orders` GROUP BY month ORDER BY month LIMIT 3 OFFSET 1",
			oracle: `SELECT strftime(date_trunc('month', order_date), '%Y-%m-%d'), CAST(SUM(total_usd) AS VARCHAR) FROM "in.c-crm".orders GROUP BY 1 ORDER BY 1 LIMIT 3 OFFSET 1`},
		{name: "CURRENT_DATE reads the stack's clock", evidence: bqDate,
			sql:  `SELECT CURRENT_DATE() = CURRENT_DATE, DATE_DIFF(CURRENT_DATE(), DATE '2000-01-01', DAY) > 0`,
			rows: [][]string{{"true", "true"}}},
	})
}
