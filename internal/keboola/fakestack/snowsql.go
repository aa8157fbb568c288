package fakestack

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Snowflake dialect layer: SQL written for a Snowflake workspace is
// tokenised, rewritten for DuckDB and checked against Snowflake's identifier
// rules before it runs, and DuckDB's errors are worded the way Snowflake
// words them. What it models (Snowflake SQL reference):
//   - unquoted identifiers fold to upper case and quoted ones keep their case;
//     DuckDB resolves names case-insensitively even when quoted, so a name
//     that exists only in another case is refused here with "invalid
//     identifier" (columns) or "does not exist or not authorized" (objects);
//   - the project database qualifier ("KEBOOLA_1234".) is dropped, buckets
//     being DuckDB schemas;
//   - date parts may be unquoted and abbreviated (DATEDIFF(dd, …));
//     DATE_TRUNC and DATEADD keep a DATE a DATE; TO_CHAR takes Snowflake
//     formats; DAYNAME/MONTHNAME are three letters; LISTAGG … WITHIN GROUP;
//     NUMBER/STRING/TIMESTAMP_NTZ casts; IFF, NVL and friends (macros below);
//   - DECODE, where a NULL expr matches a NULL search (rewritten to a CASE);
//   - semi-structured data: a VARIANT (OBJECT, ARRAY) is DuckDB JSON, printed
//     as Snowflake prints it (strings quoted, keys sorted, objects indented,
//     JSON null as null; ARRAY_AGG's list prints as an ARRAY); PARSE_JSON,
//     TRY_PARSE_JSON; paths v:a.b, v['k'], v[0] give a VARIANT, element
//     names being case-sensitive even unquoted; a path on a VARCHAR is
//     refused as Snowflake refuses it; ::STRING of a VARIANT string drops the
//     quotes and ::VARIANT of text makes a JSON string;
//     a VARIANT compared with a string literal compares as a VARIANT string,
//     and so does one compared with any text expression (a column, a call,
//     'a' || b, a CASE), or IN a list holding one (VARCHAR coerces to
//     VARIANT), while a number expression converts the VARIANT;
//     ARRAY_SIZE counts a VARIANT array; GET, GET_PATH and
//     JSON_EXTRACT_PATH_TEXT (constant paths), TYPEOF, OBJECT_KEYS, IS_ARRAY,
//     IS_OBJECT and TO_VARIANT;
//   - ARRAY_CONSTRUCT (an ARRAY; a SQL NULL element prints as undefined,
//     a JSON null as null), OBJECT_CONSTRUCT (pairs with a SQL NULL key
//     or value omitted) and
//     OBJECT_CONSTRUCT_KEEP_NULL (an OBJECT); OBJECT_CONSTRUCT(*), (t.*) and
//     (* EXCLUDE …) keyed by the columns' names (ILIKE refused, a key twice
//     an error); ARRAY_CONTAINS(value, array)
//     with the value a VARIANT (text, dates and binary refused uncast, a
//     VARIANT holding no array failing to convert); ARRAY_AGG and OBJECT_AGG
//     omitting NULLs (a FILTER clause on them is refused);
//   - LATERAL FLATTEN(…) and TABLE(FLATTEN(…)) with INPUT, PATH, OUTER,
//     RECURSIVE and MODE, returning SEQ, KEY, PATH, INDEX, VALUE and THIS
//     (RECURSIVE with OUTER is refused);
//   - CURRENT_DATE, CURRENT_TIMESTAMP, SYSDATE and GETDATE read the stack's clock;
//   - a select item that is an expression without an alias is named as
//     written, upper-cased (COUNT(*), V:PLAN::STRING), not after its rewrite.

// serviceError is a message worded exactly as Snowflake or Keboola word it
// ("SQL compilation error:\n…", "Object 'X' does not exist or not
// authorized."): clients show it verbatim, so Go's error style (lower case,
// no final period) does not apply.
type serviceError string

func (e serviceError) Error() string { return string(e) }

func serviceErrorf(format string, args ...any) error {
	return serviceError(fmt.Sprintf(format, args...))
}

type tokenKind int

const (
	tokSpace  tokenKind = iota // whitespace and comments
	tokIdent                   // bare identifier or keyword
	tokQuoted                  // "quoted identifier"
	tokString                  // 'string literal'
	tokNumber
	tokPunct
)

type sqlToken struct {
	kind tokenKind
	text string // as written (or as rewritten)
	pos  int    // byte offset in the statement; -1 once moved
	end  int    // offset after the token as written
}

// name is the identifier a token denotes: quoted names as written, bare
// names folded to upper case.
func (t sqlToken) name() string {
	if t.kind == tokQuoted {
		return strings.ReplaceAll(t.text[1:len(t.text)-1], `""`, `"`)
	}
	return strings.ToUpper(t.text)
}

func (t sqlToken) is(words ...string) bool {
	return t.kind == tokIdent && slices.ContainsFunc(words, func(w string) bool { return strings.EqualFold(t.text, w) })
}

func (t sqlToken) punct(p string) bool { return t.kind == tokPunct && t.text == p }

// lexis is what tokenising differs in between the dialects: which quote
// marks an identifier and which a string, whether strings take backslash
// escapes and # starts a comment, and how a lexical error is worded.
type lexis struct {
	identQuote      byte   // '"' on Snowflake, '`' on BigQuery
	stringQuotes    string // the bytes that open a string literal
	backslashEscape bool   // \' inside a string does not end it
	hashComments    bool   // # starts a comment to the end of the line
	fail            func(msg string) error
}

var snowflakeLexis = lexis{identQuote: '"', stringQuotes: "'",
	fail: func(msg string) error { return serviceErrorf("SQL compilation error:\n%s", msg) }}

// tokenizeSQL splits one Snowflake statement.
func tokenizeSQL(sqlText string) ([]sqlToken, error) { return tokenizeIn(sqlText, snowflakeLexis) }

// tokenizeIn splits one statement. It refuses unterminated literals and
// several statements in one string (the Query Service takes one per entry).
func tokenizeIn(sqlText string, lx lexis) ([]sqlToken, error) {
	var toks []sqlToken
	ended := false
	n := len(sqlText)
	for i := 0; i < n; {
		c := sqlText[i]
		start := i
		kind := tokPunct
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			for i < n && strings.IndexByte(" \t\n\r", sqlText[i]) >= 0 {
				i++
			}
			kind = tokSpace
		case c == '-' && i+1 < n && sqlText[i+1] == '-', c == '/' && i+1 < n && sqlText[i+1] == '/', c == '#' && lx.hashComments:
			j := strings.IndexByte(sqlText[i:], '\n')
			if j < 0 {
				j = n - i
			}
			i += j
			kind = tokSpace
		case c == '/' && i+1 < n && sqlText[i+1] == '*':
			j := strings.Index(sqlText[i+2:], "*/")
			if j < 0 {
				return nil, lx.fail("unterminated comment")
			}
			i += 2 + j + 2
			kind = tokSpace
		case c == lx.identQuote || strings.IndexByte(lx.stringQuotes, c) >= 0:
			j := i + 1
			for ; j < n; j++ {
				if lx.backslashEscape && sqlText[j] == '\\' {
					j++
					continue
				}
				if sqlText[j] == c {
					if j+1 < n && sqlText[j+1] == c {
						j++
						continue
					}
					break
				}
			}
			if j >= n {
				if c == lx.identQuote {
					return nil, lx.fail("unterminated quoted identifier")
				}
				return nil, lx.fail("unterminated string literal")
			}
			i = j + 1
			kind = tokString
			if c == lx.identQuote {
				kind = tokQuoted
			}
		case isIdentStart(c):
			for i < n && isIdentPart(sqlText[i]) {
				i++
			}
			kind = tokIdent
		case c >= '0' && c <= '9' || c == '.' && i+1 < n && sqlText[i+1] >= '0' && sqlText[i+1] <= '9':
			for i < n && (sqlText[i] >= '0' && sqlText[i] <= '9' || sqlText[i] == '.' || sqlText[i] == 'e' || sqlText[i] == 'E') {
				i++
			}
			kind = tokNumber
		case c == ';':
			ended = true
			i++
			continue
		default:
			i++
			for _, op := range []string{"::", "||", "<=", ">=", "<>", "!=", "=>"} {
				if strings.HasPrefix(sqlText[start:], op) {
					i = start + 2
				}
			}
		}
		if ended && kind != tokSpace {
			return nil, lx.fail(multipleStatements)
		}
		toks = append(toks, sqlToken{kind: kind, text: sqlText[start:i], pos: start, end: i})
	}
	return toks, nil
}

const multipleStatements = "one statement per entry; send several statements as separate entries"

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

// sqlKeywords are the bare words left as they are (never folded into a
// quoted name): SQL keywords, type names, date parts and literals.
var sqlKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`ALL AND ANY AS ASC BETWEEN BY CASE CAST CREATE CROSS CURRENT DELETE DESC DISTINCT DROP ELSE END
		EXCEPT EXCLUDE EXISTS FALSE FETCH FILTER FIRST FOLLOWING FOR FROM FULL GROUP HAVING IF IGNORE ILIKE IN INNER INSERT INTERSECT
		INTERVAL INTO IS JOIN LAST LATERAL LEFT LIKE LIMIT MINUS NATURAL NOT NULL NULLS OF OFFSET ON OR ORDER OUTER OVER PARTITION
		PRECEDING QUALIFY RANGE RECURSIVE REPLACE RESPECT RIGHT RLIKE ROW ROWS SELECT SET SOME TABLE TEMP TEMPORARY THEN TO TRANSIENT TRUE
		UNBOUNDED UNION UNIQUE UPDATE USING VALUES VIEW WHEN WHERE WINDOW WITH WITHIN ONLY SEMI ANTI POSITIONAL ASOF PIVOT UNPIVOT
		VARCHAR CHAR CHARACTER STRING TEXT INT INTEGER BIGINT SMALLINT TINYINT BYTEINT NUMBER NUMERIC DECIMAL FLOAT FLOAT4 FLOAT8
		DOUBLE PRECISION REAL BOOLEAN DATE DATETIME TIME TIMESTAMP TIMESTAMP_NTZ TIMESTAMP_LTZ TIMESTAMP_TZ VARIANT OBJECT ARRAY
		ZONE LOCAL WITHOUT YEAR QUARTER MONTH WEEK DAY HOUR MINUTE SECOND MILLISECOND MICROSECOND EPOCH DOW DOY ISODOW
		CURRENT_DATE CURRENT_TIMESTAMP CURRENT_TIME LOCALTIMESTAMP SYSDATE GETDATE`) {
		m[w] = true
	}
	return m
}()

// snowflakeFunctions renames Snowflake functions whose DuckDB namesake
// behaves differently (or is missing) to the macros below.
var snowflakeFunctions = map[string]string{
	"DATE_TRUNC": "sf_date_trunc", "DATEADD": "sf_dateadd", "TIMESTAMPADD": "sf_dateadd", "TIMEADD": "sf_dateadd",
	"TIMESTAMPDIFF": "datediff", "TIMEDIFF": "datediff",
	"DAYNAME": "sf_dayname", "MONTHNAME": "sf_monthname",
	"TO_CHAR": "sf_to_char", "TO_VARCHAR": "sf_to_char",
	"TO_TIMESTAMP": "sf_to_timestamp", "TO_TIMESTAMP_NTZ": "sf_to_timestamp", "TRY_TO_TIMESTAMP": "sf_try_to_timestamp",
	"TO_DATE": "sf_to_date", "DATE": "sf_to_date", "TRY_TO_DATE": "sf_try_to_date",
	"PARSE_JSON": "sf_parse_json", "TRY_PARSE_JSON": "sf_try_parse_json", "GET": "sf_get", "TYPEOF": "sf_typeof",
	"ARRAY_CONTAINS": "sf_array_contains",
}

// datePartFunctions take a date part as their first argument.
var datePartFunctions = map[string]bool{
	"DATE_TRUNC": true, "DATEADD": true, "TIMESTAMPADD": true, "TIMEADD": true, "DATEDIFF": true,
	"TIMESTAMPDIFF": true, "TIMEDIFF": true, "DATE_PART": true,
}

// datePartAliases maps Snowflake's date part spellings to DuckDB's.
var datePartAliases = func() map[string]string {
	m := map[string]string{}
	for canon, aliases := range map[string]string{
		"year":        "Y YY YYY YYYY YR YEARS YRS",
		"quarter":     "Q QTR QTRS QUARTERS",
		"month":       "MM MON MONS MONTHS",
		"week":        "W WK WEEKOFYEAR WOY WY WEEKS",
		"day":         "D DD DAYS DAYOFMONTH",
		"dayofweek":   "DOW WEEKDAY DW",
		"dayofyear":   "DOY YEARDAY YD DY",
		"hour":        "H HH HR HOURS HRS",
		"minute":      "M MI MIN MINUTES MINS",
		"second":      "S SEC SECONDS SECS",
		"millisecond": "MS MSEC MILLISECONDS",
		"epoch":       "EPOCH_SECOND",
	} {
		m[strings.ToUpper(canon)] = canon
		for _, a := range strings.Fields(aliases) {
			m[a] = canon
		}
	}
	return m
}()

// snowflakeTypes maps Snowflake type names DuckDB lacks.
var snowflakeTypes = map[string]string{
	"NUMBER": "DECIMAL", "STRING": "VARCHAR", "TEXT": "VARCHAR", "TIMESTAMP_NTZ": "TIMESTAMP", "DATETIME": "TIMESTAMP",
	"TIMESTAMP_LTZ": "TIMESTAMPTZ", "TIMESTAMP_TZ": "TIMESTAMPTZ", "VARIANT": "JSON", "OBJECT": "JSON", "ARRAY": "JSON", "BYTEINT": "TINYINT",
	"FLOAT": "DOUBLE", "FLOAT4": "DOUBLE", "FLOAT8": "DOUBLE", "REAL": "DOUBLE", // Snowflake's FLOAT is 64-bit
}

// snowflakeMacros define Snowflake functions in each stack's database.
// Typed overloads keep a DATE a DATE where DuckDB would return a TIMESTAMP.
var snowflakeMacros = slices.Concat(variantComparisonMacros(), []string{
	`CREATE MACRO iff(c, a, b) AS CASE WHEN c THEN a ELSE b END`,
	`CREATE MACRO nvl(a, b) AS COALESCE(a, b)`,
	`CREATE MACRO nvl2(a, b, c) AS CASE WHEN a IS NOT NULL THEN b ELSE c END`,
	`CREATE MACRO zeroifnull(a) AS COALESCE(a, 0)`,
	`CREATE MACRO nullifzero(a) AS NULLIF(a, 0)`,
	`CREATE MACRO div0(a, b) AS CASE WHEN b = 0 THEN 0 ELSE a / b END`,
	`CREATE MACRO div0null(a, b) AS CASE WHEN b = 0 OR b IS NULL THEN 0 ELSE a / b END`,
	`CREATE MACRO to_number(s) AS CAST(s AS DECIMAL(38,0))`,
	`CREATE MACRO to_decimal(s) AS CAST(s AS DECIMAL(38,0))`,
	`CREATE MACRO try_to_number(s) AS TRY_CAST(s AS DECIMAL(38,0))`,
	`CREATE MACRO try_to_decimal(s) AS TRY_CAST(s AS DECIMAL(38,0))`,
	`CREATE MACRO to_double(s) AS CAST(s AS DOUBLE)`,
	`CREATE MACRO try_to_double(s) AS TRY_CAST(s AS DOUBLE)`,
	`CREATE MACRO to_boolean(s) AS CAST(s AS BOOLEAN)`,
	`CREATE MACRO sf_to_date(s) AS CAST(s AS DATE), (s, f) AS CAST(strptime(s, f) AS DATE)`,
	`CREATE MACRO sf_try_to_date(s) AS TRY_CAST(s AS DATE), (s, f) AS CAST(try_strptime(s, f) AS DATE)`,
	`CREATE MACRO sf_to_timestamp(s) AS CAST(s AS TIMESTAMP), (s, f) AS strptime(s, f)`,
	`CREATE MACRO sf_try_to_timestamp(s) AS TRY_CAST(s AS TIMESTAMP), (s, f) AS try_strptime(s, f)`,
	// ::STRING of a VARIANT string is the string itself (DuckDB would keep
	// the JSON quotes); a JSON null becomes SQL NULL.
	`CREATE MACRO sf_varchar(x) AS CASE WHEN typeof(x) = 'JSON' THEN json_extract_string(to_json(x), '$') ELSE CAST(x AS VARCHAR) END`,
	// sf_semi is the semi-structured argument v of function fn as JSON: a
	// VARIANT, OBJECT or ARRAY (a DuckDB list or struct standing in for
	// one). Snowflake refuses a VARCHAR however much it looks like JSON, so
	// anything else is an error worded as Snowflake's; others lists the
	// other arguments' types for the message.
	`CREATE MACRO sf_semi(v, fn, others) AS CASE WHEN typeof(v) = 'JSON' OR typeof(v) LIKE '%[]' OR typeof(v) LIKE 'STRUCT%' OR typeof(v) LIKE 'MAP%'
		THEN to_json(v)
		ELSE error('Invalid argument types for function ''' || fn || ''': (' || replace(typeof(v), 'BIGINT', 'NUMBER') || others || ')') END`,
	`CREATE MACRO sf_flatten_input(v) AS sf_semi(v, 'FLATTEN', '')`,
	// sf_flatten_path is FLATTEN's PATH of the element k of container after
	// prefix: [i] for an element, .key for a member (['key'] when it is no
	// plain name), as Snowflake writes paths.
	`CREATE MACRO sf_flatten_path(prefix, container, k) AS CASE WHEN json_type(container) = 'ARRAY' THEN prefix || '[' || k || ']'
		WHEN regexp_full_match(k, '[A-Za-z_][A-Za-z0-9_$]*') THEN prefix || CASE WHEN prefix = '' THEN '' ELSE '.' END || k
		ELSE prefix || '[''' || replace(k, '''', '\''') || ''']' END`,
	`CREATE MACRO sf_to_char(x) AS sf_varchar(x), (x, f) AS strftime(x, f)`,
	`CREATE MACRO sf_date_trunc(p, x DATE) AS CAST(date_trunc(p, x) AS DATE), (p, x) AS date_trunc(p, x)`,
	`CREATE MACRO sf_interval(p, n) AS CASE p WHEN 'year' THEN to_years(CAST(n AS INTEGER)) WHEN 'quarter' THEN to_months(CAST(3 * n AS INTEGER))
		WHEN 'month' THEN to_months(CAST(n AS INTEGER)) WHEN 'week' THEN to_weeks(CAST(n AS INTEGER)) WHEN 'day' THEN to_days(CAST(n AS INTEGER))
		WHEN 'hour' THEN to_hours(CAST(n AS BIGINT)) WHEN 'minute' THEN to_minutes(CAST(n AS BIGINT))
		WHEN 'second' THEN to_seconds(CAST(n AS DOUBLE)) WHEN 'millisecond' THEN to_milliseconds(CAST(n AS DOUBLE)) END`,
	`CREATE MACRO sf_dateadd(p VARCHAR, n DOUBLE, x DATE) AS CAST(x + sf_interval(p, n) AS DATE), (p VARCHAR, n DOUBLE, x) AS x + sf_interval(p, n)`,
	`CREATE MACRO add_months(x, n) AS CAST(x + to_months(CAST(n AS INTEGER)) AS DATE)`,
	`CREATE MACRO sf_dayname(x) AS strftime(x, '%a')`,
	`CREATE MACRO sf_monthname(x) AS strftime(x, '%b')`,
	`CREATE MACRO dayofweekiso(x) AS isodow(x)`,
	`CREATE MACRO weekiso(x) AS week(x)`,
	`CREATE MACRO date_from_parts(y, m, d) AS make_date(CAST(y AS BIGINT), CAST(m AS BIGINT), CAST(d AS BIGINT))`,
	`CREATE MACRO charindex(a, b) AS instr(b, a)`,
	`CREATE MACRO startswith(a, b) AS starts_with(a, b)`,
	`CREATE MACRO endswith(a, b) AS ends_with(a, b)`,
	`CREATE MACRO regexp_substr(s, p) AS NULLIF(regexp_extract(s, p), '')`,
	`CREATE MACRO rlike(s, p) AS regexp_full_match(s, p)`,
	// ARRAY_SIZE counts an ARRAY (a JSON array or a list); anything else is NULL.
	`CREATE MACRO array_size(a) AS CASE WHEN json_type(to_json(a)) = 'ARRAY' THEN json_array_length(to_json(a)) END`,
	`CREATE MACRO square(x) AS x * x`,
	`CREATE MACRO boolor_agg(x) AS bool_or(x)`,
	`CREATE MACRO booland_agg(x) AS bool_and(x)`,
	`CREATE MACRO approx_percentile(x, p) AS approx_quantile(x, p)`,
	`CREATE MACRO uuid_string() AS CAST(uuid() AS VARCHAR)`,
	// Semi-structured data: a VARIANT is DuckDB JSON. PARSE_JSON of an empty
	// string is NULL and of malformed text an error; TRY_PARSE_JSON gives NULL.
	`CREATE MACRO sf_parse_json(s) AS CASE WHEN trim(s) = '' THEN NULL ELSE json(s) END`,
	`CREATE MACRO sf_try_parse_json(s) AS CASE WHEN json_valid(s) AND trim(s) <> '' THEN json(s) END`,
	// v:a.b, v['k'] and v[0] (and GET_PATH with a constant path) read a
	// VARIANT, OBJECT or ARRAY with a JSON path the rewrite builds.
	`CREATE MACRO sf_get_path(v, p) AS json_extract(sf_semi(v, 'GET_PATH', ', VARCHAR'), p)`,
	// GET(v, key) reads an object's member, GET(v, index) an array's element.
	`CREATE MACRO sf_get(v, k) AS json_extract(sf_semi(v, 'GET', ', ' || CASE WHEN typeof(k) = 'VARCHAR' THEN 'VARCHAR' ELSE 'NUMBER' END),
		CASE WHEN typeof(k) = 'VARCHAR' THEN '$."' || k || '"' ELSE '$[' || CAST(k AS BIGINT) || ']' END)`,
	// JSON_EXTRACT_PATH_TEXT reads JSON text (a VARCHAR) and gives text.
	`CREATE MACRO sf_json_extract_path_text(s, p) AS json_extract_string(CAST(s AS VARCHAR), p)`,
	// TYPEOF names a VARIANT's type the way Snowflake does.
	`CREATE MACRO sf_typeof(v) AS CASE json_type(sf_semi(v, 'TYPEOF', '')) WHEN 'NULL' THEN 'NULL_VALUE'
		WHEN 'BIGINT' THEN 'INTEGER' WHEN 'UBIGINT' THEN 'INTEGER'
		WHEN 'DOUBLE' THEN CASE WHEN contains(lower(CAST(sf_semi(v, 'TYPEOF', '') AS VARCHAR)), 'e') THEN 'DOUBLE' ELSE 'DECIMAL' END
		ELSE json_type(sf_semi(v, 'TYPEOF', '')) END`,
	// An OBJECT keeps its keys sorted (PARSE_JSON's usage notes: key order is not kept).
	`CREATE MACRO object_keys(v) AS list_sort(json_keys(sf_semi(v, 'OBJECT_KEYS', '')))`,
	`CREATE MACRO is_object(v) AS json_type(sf_semi(v, 'IS_OBJECT', '')) = 'OBJECT'`,
	`CREATE MACRO is_array(v) AS json_type(sf_semi(v, 'IS_ARRAY', '')) = 'ARRAY'`,
	`CREATE MACRO to_variant(x) AS to_json(x)`,
	// sf_type_name names a DuckDB type (typeof) as Snowflake's messages do.
	`CREATE MACRO sf_type_name(t) AS CASE WHEN t = 'JSON' THEN 'VARIANT' WHEN t LIKE '%[]' THEN 'ARRAY'
		WHEN t LIKE 'MAP%' OR t LIKE 'STRUCT%' THEN 'OBJECT' WHEN t IN ('BIGINT', 'INTEGER', 'HUGEINT') OR t LIKE 'DECIMAL%' THEN 'NUMBER'
		WHEN t = 'TIMESTAMP' THEN 'TIMESTAMP_NTZ' WHEN t = 'TIMESTAMP WITH TIME ZONE' THEN 'TIMESTAMP_TZ' WHEN t = 'BLOB' THEN 'BINARY'
		ELSE t END`,
	// ARRAY_CONSTRUCT's elements and OBJECT_CONSTRUCT's values are VARIANTs.
	// A DuckDB list of JSON and a map to JSON keep the Snowflake type
	// (ARRAY, OBJECT) in results; a SQL NULL element stays a NULL in the
	// list, which prints as undefined (variantsAsText) but becomes a JSON
	// null once the list is converted to JSON (nested in another value).
	`CREATE MACRO sf_array(l) AS CAST(l AS JSON[])`,
	// OBJECT_CONSTRUCT omits a pair whose key or value is SQL NULL (a JSON
	// null value is kept); OBJECT_CONSTRUCT_KEEP_NULL keeps the value as a
	// JSON null.
	`CREATE MACRO sf_object_pair(k, v) AS {'k': CAST(k AS VARCHAR), 'v': to_json(v)}`,
	`CREATE MACRO sf_object_pair_keep_null(k, v) AS {'k': CAST(k AS VARCHAR), 'v': COALESCE(to_json(v), JSON 'null')}`,
	`CREATE MACRO sf_object(pairs) AS map_from_entries(list_filter(CAST(pairs AS STRUCT(k VARCHAR, v JSON)[]), p -> p.k IS NOT NULL AND p.v IS NOT NULL))`,
	// OBJECT_CONSTRUCT(*) takes the row as a struct (struct_pack(*COLUMNS(*)),
	// keyed by the columns' names). Its JSON form cannot tell a SQL NULL
	// column from a VARIANT holding JSON null, both being null; its cast to
	// text can (SQL NULL stays NULL, JSON null is the text null), so the
	// text decides which pairs OBJECT_CONSTRUCT omits.
	`CREATE MACRO sf_object_row(s) AS map_from_entries(list_filter(map_entries(CAST(to_json(s) AS MAP(VARCHAR, JSON))),
		e -> CAST(s AS MAP(VARCHAR, VARCHAR))[e.key] IS NOT NULL))`,
	`CREATE MACRO sf_object_row_keep_null(s) AS CAST(to_json(s) AS MAP(VARCHAR, JSON))`,
	// ARRAY_CONTAINS(value, array): for a semi-structured array the value
	// must be a VARIANT; text, dates, times and binary need an explicit
	// ::VARIANT, so they are refused as Snowflake refuses them. A value
	// found as an element (JSON null finding a JSON null) is TRUE; a SQL
	// NULL value is NULL. A VARIANT that holds no array fails to convert to
	// one, as Snowflake's cast of a VARIANT to ARRAY fails at run time.
	`CREATE MACRO sf_array_contains(v, a) AS CASE
		WHEN typeof(v) IN ('VARCHAR', 'DATE', 'TIME', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'BLOB')
			OR NOT (typeof(a) = 'JSON' OR typeof(a) LIKE '%[]' OR typeof(a) = '"NULL"')
		THEN error('Invalid argument types for function ''ARRAY_CONTAINS'': (' || sf_type_name(typeof(v)) || ', ' || sf_type_name(typeof(a)) || ')')
		WHEN json_type(to_json(a)) = 'ARRAY' THEN list_contains(CAST(json_extract(to_json(a), '$[*]') AS JSON[]), to_json(v))
		WHEN json_type(to_json(a)) <> 'NULL' THEN error('Failed to cast variant value ' || CAST(to_json(a) AS VARCHAR) || ' to ARRAY') END`,
})

// variantComparisons name the function comparing a VARIANT with another
// expression by each operator (!= being <>).
var variantComparisons = map[string]string{"=": "sf_variant_eq", "<>": "sf_variant_ne", "!=": "sf_variant_ne",
	"<": "sf_variant_lt", ">": "sf_variant_gt", "<=": "sf_variant_le", ">=": "sf_variant_ge"}

// variantComparisonMacros define those functions: a VARIANT compared with
// text compares as a VARIANT string (VARCHAR coerces to VARIANT; DuckDB
// would parse the text as JSON), with another type DuckDB converts the
// VARIANT to that type. Only the branch for the operands' types runs.
func variantComparisonMacros() []string {
	var out []string
	for _, op := range []string{"=", "<>", "<", ">", "<=", ">="} {
		out = append(out, fmt.Sprintf(`CREATE MACRO %s(a, b) AS CASE WHEN typeof(a) = 'VARCHAR' OR typeof(b) = 'VARCHAR'
			THEN to_json(a) %s to_json(b) ELSE a %s b END`, variantComparisons[op], op, op))
	}
	return out
}

// rewriteOptions are what a rewrite needs from its stack.
type rewriteOptions struct {
	databases []string  // database qualifiers to drop
	now       time.Time // the stack's clock
}

// rewritten is a statement ready for DuckDB.
type rewritten struct {
	sql     string
	keyword string     // the first keyword, upper case (SELECT, WITH, CREATE, SHOW…)
	toks    []sqlToken // the original statement's significant tokens
	refs    []sqlToken // identifiers that name something (not aliases being defined)
	defined map[string]bool
	// databases are the qualifiers dropped, left out of names in messages.
	databases []string
}

// rewriteSnowflake turns a Snowflake statement into DuckDB SQL.
func rewriteSnowflake(sqlText string, opts rewriteOptions) (*rewritten, error) {
	all, err := tokenizeSQL(sqlText)
	if err != nil {
		return nil, err
	}
	var toks []sqlToken
	for _, t := range all {
		if t.kind != tokSpace {
			toks = append(toks, t)
		}
	}
	if len(toks) == 0 {
		return nil, serviceErrorf("SQL compilation error:\nempty statement")
	}
	out := &rewritten{toks: toks, defined: map[string]bool{}, databases: opts.databases}
	if toks[0].kind == tokIdent {
		out.keyword = strings.ToUpper(toks[0].text)
	}
	if out.keyword == "" {
		return nil, syntaxError(sqlText, toks[0])
	}
	toks = moveWithinGroup(nameSelectItems(sqlText, toks))
	if toks, err = rewriteDecode(sqlText, toks); err != nil {
		return nil, err
	}
	if toks, err = rewriteConstructors(toks); err != nil {
		return nil, err
	}
	if toks, err = rewriteVariantPaths(toks); err != nil {
		return nil, err
	}
	toks = rewriteVariantCasts(toks)
	flattened := false
	if toks, flattened, err = rewriteFlatten(sqlText, toks); err != nil {
		return nil, err
	}
	if flattened {
		for _, c := range flattenColumns {
			out.defined[c] = true
		}
	}
	toks = rewriteVariantComparisons(toks, flattened)
	var b strings.Builder
	// parens records, per open parenthesis, the function it belongs to.
	var parens []string
	prevEnd := 0 // the offset in sqlText up to which whitespace is copied
	emit := func(t sqlToken, text string) {
		if t.pos >= prevEnd {
			// Keep the spacing between tokens as written.
			gap := sqlText[prevEnd:t.pos]
			if strings.TrimSpace(gap) != "" && !strings.HasPrefix(strings.TrimSpace(gap), "--") && !strings.HasPrefix(strings.TrimSpace(gap), "/*") {
				gap = " "
			}
			b.WriteString(gap)
			prevEnd = t.end
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(text)
	}
	sig := func(i int) sqlToken {
		if i < 0 || i >= len(toks) {
			return sqlToken{kind: tokSpace}
		}
		return toks[i]
	}
	now := opts.now.UTC()
	for i := 0; i < len(toks); i++ {
		t, prev, next := toks[i], sig(i-1), sig(i+1)
		inCast := len(parens) > 0 && parens[len(parens)-1] == "CAST"
		switch t.kind {
		case tokPunct:
			switch t.text {
			case "(":
				fn := ""
				if prev.kind == tokIdent {
					fn = strings.ToUpper(prev.text)
				}
				parens = append(parens, fn)
			case ")":
				if len(parens) > 0 {
					parens = parens[:len(parens)-1]
				}
			}
			emit(t, t.text)
			continue
		case tokQuoted:
			// "KEBOOLA_1234"."in.c-crm" → "in.c-crm"
			if next.punct(".") && slices.Contains(opts.databases, t.name()) {
				b.WriteString(sqlText[prevEnd:t.pos])
				i++
				prevEnd = next.end
				continue
			}
			if prev.is("AS") && !inCast || isAliasPosition(prev) {
				out.defined[t.name()] = true
			} else if !next.is("AS") || !sig(i+2).punct("(") {
				out.refs = append(out.refs, t)
			}
			if next.is("AS") && sig(i+2).punct("(") || prev.is("TABLE", "VIEW") && out.keyword == "CREATE" {
				out.defined[t.name()] = true // a CTE or the table being created
			}
			emit(t, t.text)
			continue
		case tokIdent:
		default:
			emit(t, t.text)
			continue
		}
		upper := strings.ToUpper(t.text)
		if next.punct(".") && slices.ContainsFunc(opts.databases, func(d string) bool { return strings.EqualFold(d, t.text) }) {
			b.WriteString(sqlText[prevEnd:t.pos])
			i++
			prevEnd = next.end
			continue
		}
		switch {
		case upper == "CURRENT_DATE" && !prev.punct("."):
			emit(t, "DATE '"+now.Format(time.DateOnly)+"'")
			i = skipEmptyParens(toks, i, &prevEnd)
			continue
		case (upper == "CURRENT_TIMESTAMP" || upper == "SYSDATE" || upper == "GETDATE" || upper == "LOCALTIMESTAMP") && !prev.punct("."):
			emit(t, "TIMESTAMP '"+now.Format("2006-01-02 15:04:05.000000")+"'")
			i = skipEmptyParens(toks, i, &prevEnd)
			continue
		case next.punct("(") && !prev.punct(".") && !(prev.punct("::") || prev.is("AS") && inCast):
			name := upper
			if mapped, ok := snowflakeFunctions[upper]; ok {
				name = mapped
			} else {
				name = t.text
			}
			emit(t, name)
			if datePartFunctions[upper] && rewriteDatePart(toks, i+1, emit) {
				parens = append(parens, upper)
				i += 2 // the "(" and the part
			}
			if upper == "TO_CHAR" || upper == "TO_VARCHAR" || upper == "TO_DATE" || upper == "TO_TIMESTAMP" || upper == "TRY_TO_DATE" || upper == "TRY_TO_TIMESTAMP" {
				rewriteFormatArg(toks, i+1, &toks)
			}
			if upper == "LISTAGG" {
				addDefaultSeparator(&toks, i+1)
			}
			continue
		case prev.punct("::") || prev.is("AS") && inCast:
			if mapped, ok := snowflakeTypes[upper]; ok {
				if upper == "NUMBER" && !next.punct("(") {
					mapped = "DECIMAL(38,0)"
				}
				emit(t, mapped)
			} else {
				emit(t, t.text)
			}
			continue
		case prev.punct("."), prev.is("AS") && !inCast && !t.is("SELECT", "WITH", "VALUES", "TABLE"), isAliasPosition(prev) && !sqlKeywords[upper]:
			// a qualified name's part or an alias: always a name
		case sqlKeywords[upper]:
			emit(t, t.text)
			continue
		}
		quoted := quoteIdent(upper)
		switch {
		case prev.is("AS") && !inCast || isAliasPosition(prev):
			out.defined[upper] = true
		case next.is("AS") && sig(i+2).punct("("):
			out.defined[upper] = true // a CTE
		case prev.is("TABLE", "VIEW") && out.keyword == "CREATE":
			out.defined[upper] = true // the table being created
		default:
			out.refs = append(out.refs, t)
		}
		emit(t, quoted)
	}
	out.sql = b.String()
	return out, nil
}

// isAliasPosition reports whether a name after prev is an alias given
// without AS: it follows a closing parenthesis or another name.
func isAliasPosition(prev sqlToken) bool {
	return prev.punct(")") || prev.kind == tokQuoted || prev.kind == tokIdent && !sqlKeywords[strings.ToUpper(prev.text)]
}

// skipEmptyParens skips the "()" after CURRENT_DATE() and friends.
func skipEmptyParens(toks []sqlToken, i int, prevEnd *int) int {
	if i+2 < len(toks) && toks[i+1].punct("(") && toks[i+2].punct(")") {
		*prevEnd = toks[i+2].end
		return i + 2
	}
	return i
}

// rewriteDatePart turns the date part after "FUNC(" into a DuckDB part
// literal: DATEDIFF(dd, …) → DATEDIFF('day', …). open is the "(" index; it
// reports whether it emitted the "(" and the part.
func rewriteDatePart(toks []sqlToken, open int, emit func(sqlToken, string)) bool {
	if open+2 >= len(toks) || !toks[open].punct("(") || !toks[open+2].punct(",") {
		return false
	}
	part := toks[open+1]
	var word string
	switch part.kind {
	case tokIdent:
		word = strings.ToUpper(part.text)
	case tokString:
		word = strings.ToUpper(strings.Trim(part.text, "'"))
	default:
		return false
	}
	canon, ok := datePartAliases[word]
	if !ok {
		canon = strings.ToLower(word)
	}
	emit(toks[open], "(")
	emit(part, "'"+canon+"'")
	return true
}

// toCharFormats maps Snowflake date format elements to strftime, longest first.
var toCharFormats = [][2]string{
	{"YYYY", "%Y"}, {"HH24", "%H"}, {"HH12", "%I"}, {"MMMM", "%B"}, {"FF3", "%g"}, {"FF6", "%f"}, {"FF", "%f"},
	{"MON", "%b"}, {"YY", "%y"}, {"MM", "%m"}, {"DD", "%d"}, {"DY", "%a"}, {"HH", "%H"}, {"MI", "%M"}, {"SS", "%S"},
	{"AM", "%p"}, {"PM", "%p"},
}

// snowflakeFormat converts a Snowflake date/time format to strftime.
func snowflakeFormat(f string) string {
	var b strings.Builder
	for i := 0; i < len(f); {
		if f[i] == '"' {
			j := strings.IndexByte(f[i+1:], '"')
			if j < 0 {
				j = len(f) - i - 1
			}
			b.WriteString(strings.ReplaceAll(f[i+1:i+1+j], "%", "%%"))
			i += j + 2
			continue
		}
		matched := false
		for _, e := range toCharFormats {
			if len(f)-i >= len(e[0]) && strings.EqualFold(f[i:i+len(e[0])], e[0]) {
				b.WriteString(e[1])
				i += len(e[0])
				matched = true
				break
			}
		}
		if !matched {
			if f[i] == '%' {
				b.WriteString("%%")
			} else {
				b.WriteByte(f[i])
			}
			i++
		}
	}
	return b.String()
}

// rewriteFormatArg converts a literal format, the second argument of the
// call opening at open, in place.
func rewriteFormatArg(toks []sqlToken, open int, dst *[]sqlToken) {
	depth := 0
	for j := open; j < len(toks); j++ {
		switch {
		case toks[j].punct("("):
			depth++
		case toks[j].punct(")"):
			depth--
			if depth == 0 {
				return
			}
		case toks[j].punct(",") && depth == 1:
			if j+1 < len(toks) && toks[j+1].kind == tokString {
				lit := toks[j+1].text
				conv := snowflakeFormat(strings.ReplaceAll(lit[1:len(lit)-1], "''", "'"))
				(*dst)[j+1].text = "'" + strings.ReplaceAll(conv, "'", "''") + "'"
				// Keep the position so spacing is preserved; the text changed length.
				(*dst)[j+1].kind = tokString
			}
			return
		}
	}
}

// addDefaultSeparator gives LISTAGG(x) Snowflake's empty separator (DuckDB's is ",").
func addDefaultSeparator(toks *[]sqlToken, open int) {
	depth := 0
	for j := open; j < len(*toks); j++ {
		t := (*toks)[j]
		switch {
		case t.punct("("):
			depth++
		case t.punct(")") && depth == 1, depth == 1 && t.is("ORDER"):
			*toks = slices.Insert(*toks, j, sqlToken{kind: tokPunct, text: ", ''", pos: -1})
			return
		case t.punct(")"):
			depth--
		case depth == 1 && t.punct(","):
			return
		}
	}
}

// selectListEnds are the words that end a select list at its own depth.
var selectListEnds = []string{"FROM", "WHERE", "GROUP", "HAVING", "QUALIFY", "ORDER", "LIMIT", "UNION", "EXCEPT",
	"INTERSECT", "MINUS", "WINDOW", "INTO", "FETCH", "OFFSET"}

// nameSelectItems gives each unaliased select item that is an expression
// (not a column) the name Snowflake gives it: the expression as written,
// upper-cased outside quoted identifiers (COUNT(*), V:PLAN::STRING). DuckDB
// would name it after the rewritten expression, which shows the rewrite's
// helpers (sf_get_path(…)) to the client.
func nameSelectItems(sqlText string, toks []sqlToken) []sqlToken {
	return nameAnonymousItems(toks, func() func([]sqlToken) (string, bool) {
		return func(item []sqlToken) (string, bool) { return expressionName(sqlText, item) }
	})
}

// nameAnonymousItems gives the select items itemName names an alias;
// namer is called once per select list, for the item namer of that list.
func nameAnonymousItems(toks []sqlToken, namer func() func(item []sqlToken) (string, bool)) []sqlToken {
	type insert struct {
		at   int
		name string
	}
	var inserts []insert
	for s := range toks {
		if !toks[s].is("SELECT") {
			continue
		}
		start, depth := s+1, 0
		itemName := namer()
		if start < len(toks) && toks[start].is("DISTINCT", "ALL") {
			start++
		}
		for j := start; j <= len(toks); j++ {
			end := j == len(toks)
			if !end {
				switch t := toks[j]; {
				case t.punct("(") || t.punct("["):
					depth++
				case t.punct(")") || t.punct("]"):
					depth--
					end = depth < 0
				case depth == 0 && t.kind == tokIdent && slices.ContainsFunc(selectListEnds, func(w string) bool { return t.is(w) }):
					// GROUP and ORDER end it as GROUP BY and ORDER BY, not in WITHIN GROUP.
					end = !t.is("GROUP", "ORDER") || j+1 < len(toks) && toks[j+1].is("BY")
				}
			}
			if end || depth == 0 && toks[j].punct(",") {
				if name, ok := itemName(toks[start:j]); ok {
					inserts = append(inserts, insert{j, name})
				}
				start = j + 1
			}
			if end {
				break
			}
		}
	}
	// Inserting from the back keeps the earlier positions valid; a subquery's
	// items come after its enclosing item in inserts but lie before it.
	slices.SortFunc(inserts, func(a, b insert) int { return a.at - b.at })
	for k := len(inserts) - 1; k >= 0; k-- {
		toks = slices.Insert(toks, inserts[k].at, glue("AS "+quoteIdent(inserts[k].name)))
	}
	return toks
}

// expressionName is the name Snowflake gives a select item without an
// alias; ok is false for a column, a star or an aliased item.
func expressionName(sqlText string, item []sqlToken) (string, bool) {
	if !anonymousItem(item) {
		return "", false
	}
	var b strings.Builder
	for k, t := range item {
		if k > 0 && t.pos >= 0 && item[k-1].pos >= 0 {
			b.WriteString(sqlText[item[k-1].end:t.pos])
		}
		if t.kind == tokQuoted {
			b.WriteString(t.text)
		} else {
			b.WriteString(strings.ToUpper(t.text))
		}
	}
	return b.String(), true
}

// anonymousItem reports whether a select item is an expression without a
// name: not a star, not a column (a dotted name), not aliased.
func anonymousItem(item []sqlToken) bool {
	n := len(item)
	if n == 0 || item[n-1].punct("*") {
		return false
	}
	column := n%2 == 1
	for k, t := range item {
		if k%2 == 0 && t.kind != tokIdent && t.kind != tokQuoted || k%2 == 1 && !t.punct(".") {
			column = false
		}
	}
	last := item[n-1]
	named := n >= 2 && (last.kind == tokQuoted || last.kind == tokIdent) && item[n-2].is("AS") ||
		n >= 2 && (last.kind == tokQuoted || last.kind == tokIdent && !sqlKeywords[strings.ToUpper(last.text)]) &&
			(item[n-2].punct(")") || item[n-2].punct("]") || item[n-2].kind == tokString || item[n-2].kind == tokNumber ||
				item[n-2].kind == tokQuoted || item[n-2].kind == tokIdent && !sqlKeywords[strings.ToUpper(item[n-2].text)])
	return !column && !named && item[0].pos >= 0
}

// moveWithinGroup rewrites AGG(args) WITHIN GROUP (ORDER BY k) into
// AGG(args ORDER BY k), which DuckDB takes for every aggregate;
// PERCENTILE_CONT/DISC and MODE keep the WITHIN GROUP form DuckDB knows.
func moveWithinGroup(toks []sqlToken) []sqlToken {
	for i := 0; i+3 < len(toks); i++ {
		if !toks[i].punct(")") || !toks[i+1].is("WITHIN") || !toks[i+2].is("GROUP") || !toks[i+3].punct("(") {
			continue
		}
		open := matchingParen(toks, i)
		if open < 1 || toks[open-1].is("PERCENTILE_CONT", "PERCENTILE_DISC", "MODE") {
			continue
		}
		end := matchingParen(toks, i+3)
		if end < 0 {
			return toks
		}
		order := slices.Clone(toks[i+4 : end])
		for k := range order {
			order[k].pos = -1 // moved: not copied with its original spacing
		}
		rest := slices.Clone(toks[end+1:])
		toks = append(append(append(toks[:i:i], order...), toks[i]), rest...)
	}
	return toks
}

// glue is text inserted by a rewrite, emitted as it is: a punctuation
// token, so the rewrite loop neither quotes it nor counts its parentheses.
func glue(text string) sqlToken { return sqlToken{kind: tokPunct, text: text, pos: -1} }

// moved copies tokens that a rewrite repeats: the copy is emitted without
// the original's spacing and never taken for the name as written.
func moved(toks []sqlToken) []sqlToken {
	out := slices.Clone(toks)
	for i := range out {
		out[i].pos = -1
	}
	return out
}

// callArgs splits the arguments of the call whose "(" is at open; it
// returns them and the index of the closing ")", or -1 when unbalanced.
func callArgs(toks []sqlToken, open int) ([][]sqlToken, int) {
	end := matchingParen(toks, open)
	if end < 0 {
		return nil, -1
	}
	var args [][]sqlToken
	depth, start := 0, open+1
	for j := open + 1; j < end; j++ {
		switch {
		case toks[j].punct("(") || toks[j].punct("["):
			depth++
		case toks[j].punct(")") || toks[j].punct("]"):
			depth--
		case toks[j].punct(",") && depth == 0:
			args = append(args, toks[start:j])
			start = j + 1
		}
	}
	if end > open+1 {
		args = append(args, toks[start:end])
	}
	return args, end
}

// rewriteDecode turns DECODE(expr, search1, result1, …[, default]) into a
// CASE. Snowflake's DECODE, unlike CASE and "=", takes a NULL expr to match
// a NULL search, hence IS NOT DISTINCT FROM; the first match wins and no
// match without a default gives NULL. (DuckDB's own DECODE turns a BLOB into
// text, so the name cannot pass through.)
func rewriteDecode(sqlText string, toks []sqlToken) ([]sqlToken, error) {
	for i := 0; i+1 < len(toks); i++ {
		if !toks[i].is("DECODE") || !toks[i+1].punct("(") || i > 0 && toks[i-1].punct(".") {
			continue
		}
		args, end := callArgs(toks, i+1)
		if end < 0 {
			return toks, nil // DuckDB reports the unbalanced parenthesis
		}
		if len(args) < 3 && toks[i].pos >= 0 {
			line, pos := linePos(sqlText, toks[i].pos)
			return nil, serviceErrorf("SQL compilation error: error line %d at position %d\nnot enough arguments for function [%s], expected 3, got %d",
				line, pos, sqlText[toks[i].pos:toks[end].end], len(args))
		}
		expr := args[0]
		repl := []sqlToken{glue("(CASE")}
		for k := 1; k+1 < len(args); k += 2 {
			repl = append(repl, glue("WHEN ("))
			repl = append(repl, expr...)
			repl = append(repl, glue(") IS NOT DISTINCT FROM ("))
			repl = append(repl, args[k]...)
			repl = append(repl, glue(") THEN ("))
			repl = append(repl, args[k+1]...)
			repl = append(repl, glue(")"))
			expr = moved(args[0])
		}
		if len(args)%2 == 0 {
			repl = append(repl, glue("ELSE ("))
			repl = append(repl, args[len(args)-1]...)
			repl = append(repl, glue(")"))
		}
		repl = append(repl, glue("END)"))
		toks = slices.Concat(toks[:i:i], repl, toks[end+1:])
		// Nested DECODEs in the arguments come next in the loop.
	}
	return toks, nil
}

// objectPairFunctions build one key-value pair of OBJECT_CONSTRUCT and
// its KEEP_NULL twin.
var objectPairFunctions = map[string]string{"OBJECT_CONSTRUCT": "sf_object_pair", "OBJECT_CONSTRUCT_KEEP_NULL": "sf_object_pair_keep_null"}

// rewriteConstructors turns the variadic semi-structured functions, which
// no DuckDB macro can take, into calls the macros finish:
// ARRAY_CONSTRUCT(a, b) → sf_array(list_value(to_json(a), to_json(b))),
// OBJECT_CONSTRUCT(k, v, …) → sf_object(list_value(sf_object_pair(k, v), …)),
// ARRAY_AGG(…) → list_filter(list(…), …) without its NULLs (Snowflake
// omits them), and OBJECT_AGG(k, v) → sf_object(list(sf_object_pair(k, v)))
// without the pairs whose key or value is NULL.
func rewriteConstructors(toks []sqlToken) ([]sqlToken, error) {
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].kind != tokIdent || !toks[i+1].punct("(") || i > 0 && (toks[i-1].punct(".") || toks[i-1].punct("::")) {
			continue
		}
		name := strings.ToUpper(toks[i].text)
		if name != "ARRAY_CONSTRUCT" && objectPairFunctions[name] == "" && name != "ARRAY_AGG" && name != "OBJECT_AGG" {
			continue
		}
		args, end := callArgs(toks, i+1)
		if end < 0 {
			return toks, nil // DuckDB reports the unbalanced parenthesis
		}
		var repl []sqlToken
		switch name {
		case "ARRAY_CONSTRUCT":
			elems := make([][]sqlToken, len(args))
			for k, a := range args {
				elems[k] = callTokens("to_json", a)
			}
			repl = callTokens("sf_array", callTokens("list_value", elems...))
		case "ARRAY_AGG", "OBJECT_AGG":
			if name == "OBJECT_AGG" && len(args) != 2 {
				return nil, serviceErrorf("SQL compilation error:\nOBJECT_AGG takes two arguments, a key and a value; got %d", len(args))
			}
			// Snowflake documents no FILTER clause for them (DuckDB has one):
			// refused rather than guessed.
			if end+1 < len(toks) && toks[end+1].is("FILTER") {
				return nil, serviceErrorf("SQL compilation error:\nthis stack does not support FILTER on %s; filter the rows in WHERE or with IFF", name)
			}
			// A window's OVER (…) belongs inside the outer call too.
			clauses := []sqlToken{}
			if end+2 < len(toks) && toks[end+1].is("OVER") && toks[end+2].punct("(") {
				if close := matchingParen(toks, end+2); close > 0 {
					clauses = toks[end+1 : close+1]
					end = close
				}
			}
			if name == "ARRAY_AGG" {
				call := slices.Clone(toks[i : end+1])
				call[0].text = "list" // not ARRAY_AGG, which this loop would wrap again
				repl = callTokens("list_filter", call, []sqlToken{glue("sf_element -> sf_element IS NOT NULL")})
				break
			}
			repl = callTokens("sf_object", slices.Concat(callTokens("list", callTokens("sf_object_pair", args[0], args[1])), clauses))
		default: // OBJECT_CONSTRUCT and OBJECT_CONSTRUCT_KEEP_NULL
			if len(args) == 1 && slices.ContainsFunc(args[0], func(t sqlToken) bool { return t.punct("*") }) {
				row, err := rowObject(name, args[0])
				if err != nil {
					return nil, err
				}
				repl = row
				break
			}
			if len(args)%2 != 0 {
				return nil, serviceErrorf("SQL compilation error:\n%s takes key-value pairs; got %d arguments", name, len(args))
			}
			pairs := make([][]sqlToken, 0, len(args)/2)
			for k := 0; k+1 < len(args); k += 2 {
				pairs = append(pairs, callTokens(objectPairFunctions[name], args[k], args[k+1]))
			}
			repl = callTokens("sf_object", callTokens("list_value", pairs...))
		}
		toks = slices.Concat(toks[:i:i], repl, toks[end+1:])
		// Nested constructors in the arguments come next in the loop.
	}
	return toks, nil
}

// rowObjectFunctions build OBJECT_CONSTRUCT(*) and its KEEP_NULL twin from
// the row's struct.
var rowObjectFunctions = map[string]string{"OBJECT_CONSTRUCT": "sf_object_row", "OBJECT_CONSTRUCT_KEEP_NULL": "sf_object_row_keep_null"}

// rowObject rewrites the wildcard argument of OBJECT_CONSTRUCT(*): *, t.*
// and either with EXCLUDE take the row's columns as DuckDB's COLUMNS
// expands them, keyed by their names as stored (quoted Keboola names keep
// their case, unquoted aliases are upper case). ILIKE is refused: DuckDB
// has no such column filter, and a guess would flatter the client.
func rowObject(name string, arg []sqlToken) ([]sqlToken, error) {
	star := slices.IndexFunc(arg, func(t sqlToken) bool { return t.punct("*") })
	qualified := star == 2 && (arg[0].kind == tokIdent || arg[0].kind == tokQuoted) && arg[1].punct(".")
	rest := arg[star+1:]
	switch {
	case star != 0 && !qualified:
		return nil, serviceErrorf("SQL compilation error:\n%s takes * or a table's t.* as its only argument", name)
	case len(rest) > 0 && rest[0].is("ILIKE"):
		return nil, serviceErrorf("SQL compilation error:\nthis stack does not support %s(* ILIKE …); list the keys and values, or use EXCLUDE", name)
	case len(rest) > 0 && !rest[0].is("EXCLUDE"):
		return nil, serviceErrorf("SQL compilation error:\n%s takes * or a table's t.* as its only argument", name)
	}
	columns := slices.Concat([]sqlToken{glue("struct_pack(*COLUMNS(")}, arg, []sqlToken{glue("))")})
	return callTokens(rowObjectFunctions[name], columns), nil
}

// variantTypes are the cast targets a VARIANT needs help with: text ones
// unwrap a JSON string, semi-structured ones wrap a value (a VARCHAR cast to
// VARIANT is a JSON string, not parsed JSON, unlike DuckDB's cast to JSON).
var variantTypes = map[string]string{
	"VARCHAR": "sf_varchar", "STRING": "sf_varchar", "TEXT": "sf_varchar", "CHAR": "sf_varchar", "CHARACTER": "sf_varchar",
	"VARIANT": "to_json", "OBJECT": "to_json", "ARRAY": "to_json",
}

// callTokens is the tokens of fn(arg…), the name and parentheses inserted.
func callTokens(fn string, arg ...[]sqlToken) []sqlToken {
	out := []sqlToken{{kind: tokIdent, text: fn, pos: -1}, {kind: tokPunct, text: "(", pos: -1}}
	for i, a := range arg {
		if i > 0 {
			out = append(out, sqlToken{kind: tokPunct, text: ",", pos: -1})
		}
		out = append(out, a...)
	}
	return append(out, sqlToken{kind: tokPunct, text: ")", pos: -1})
}

// operandStart finds where the operand ending at end starts: a literal or
// a keyword value, a dotted name, a function call or a parenthesised
// expression; postfix operators (":", "[]", "::") bind to it alone.
func operandStart(toks []sqlToken, end int) int {
	switch t := toks[end]; {
	case t.punct(")"):
		open := matchingParen(toks, end)
		if open < 1 {
			return max(open, 0)
		}
		fn := toks[open-1]
		if fn.kind == tokIdent && (!sqlKeywords[strings.ToUpper(fn.text)] || fn.is("CAST", "LEFT", "RIGHT", "REPLACE", "DATE", "IF")) {
			return open - 1
		}
		return open
	case t.kind == tokIdent || t.kind == tokQuoted:
		j := end
		for j >= 2 && toks[j-1].punct(".") && (toks[j-2].kind == tokIdent || toks[j-2].kind == tokQuoted) {
			j -= 2
		}
		return j
	}
	return end
}

// rewriteVariantPaths turns Snowflake's path operators on semi-structured
// values, v:a.b[0]['c'], into sf_get_path(v, '$."a"."b"[0]."c"'). Keys are
// case-sensitive whether quoted or not (Snowflake folds only identifiers,
// never element names), so a bare key keeps its case as written.
func rewriteVariantPaths(toks []sqlToken) ([]sqlToken, error) {
	if err := rewritePathFunctions(toks); err != nil {
		return nil, err
	}
	for i := 1; i < len(toks); i++ {
		colon := toks[i].punct(":")
		subscript := toks[i].punct("[") && (toks[i-1].punct(")") || toks[i-1].kind == tokIdent && !sqlKeywords[strings.ToUpper(toks[i-1].text)] || toks[i-1].kind == tokQuoted)
		if !colon && !subscript {
			continue
		}
		start := operandStart(toks, i-1)
		var path strings.Builder
		path.WriteString("$")
		key := func(k string) error {
			if strings.ContainsAny(k, `"\`) {
				return serviceErrorf("SQL compilation error:\nthis stack does not support element names containing '\"' or '\\' in a path")
			}
			path.WriteString(`."` + k + `"`)
			return nil
		}
		j := i
	elements:
		for j < len(toks) {
			switch {
			case (toks[j].punct(":") && j == i || toks[j].punct(".") && j > i) && j+1 < len(toks) && (toks[j+1].kind == tokIdent || toks[j+1].kind == tokQuoted):
				k := toks[j+1].text
				if toks[j+1].kind == tokQuoted {
					k = toks[j+1].name()
				}
				if err := key(k); err != nil {
					return nil, err
				}
				j += 2
			case toks[j].punct("[") && j+2 < len(toks) && toks[j+2].punct("]") && toks[j+1].kind == tokNumber && !strings.ContainsAny(toks[j+1].text, ".eE"):
				path.WriteString("[" + toks[j+1].text + "]")
				j += 3
			case toks[j].punct("[") && j+2 < len(toks) && toks[j+2].punct("]") && toks[j+1].kind == tokString:
				if err := key(strings.ReplaceAll(toks[j+1].text[1:len(toks[j+1].text)-1], "''", "'")); err != nil {
					return nil, err
				}
				j += 3
			case toks[j].punct("["):
				return nil, serviceErrorf("SQL compilation error:\nthis stack supports only literal keys and indexes in [] on a VARIANT")
			default:
				break elements
			}
		}
		if j == i {
			continue // a lone ":" (a bind variable): DuckDB reports it
		}
		lit := sqlToken{kind: tokString, text: sqlString(path.String()), pos: -1}
		repl := callTokens("sf_get_path", toks[start:i], []sqlToken{lit})
		toks = slices.Concat(toks[:start:start], repl, toks[j:])
		i = start + len(repl) - 1
	}
	return toks, nil
}

// pathFunctions take a Snowflake path as a string, rewritten to the JSON
// path DuckDB reads and the function that reads it.
var pathFunctions = map[string]string{"GET_PATH": "sf_get_path", "JSON_EXTRACT_PATH_TEXT": "sf_json_extract_path_text"}

// rewritePathFunctions converts the constant path of GET_PATH(v, 'a.b')
// and JSON_EXTRACT_PATH_TEXT(s, 'a.b'), in place.
func rewritePathFunctions(toks []sqlToken) error {
	for i := 0; i+1 < len(toks); i++ {
		fn := pathFunctions[strings.ToUpper(toks[i].text)]
		if toks[i].kind != tokIdent || fn == "" || !toks[i+1].punct("(") || i > 0 && toks[i-1].punct(".") {
			continue
		}
		args, _ := callArgs(toks, i+1)
		if len(args) != 2 || len(args[1]) != 1 || args[1][0].kind != tokString {
			return serviceErrorf("SQL compilation error:\nthis stack supports %s only with two arguments, the second a constant path", strings.ToUpper(toks[i].text))
		}
		lit := &args[1][0] // shares toks' backing array
		jsonPath, err := variantPath(strings.ReplaceAll(lit.text[1:len(lit.text)-1], "''", "'"))
		if err != nil {
			return err
		}
		lit.text = sqlString(jsonPath)
		toks[i].text = fn
	}
	return nil
}

// rewriteVariantCasts turns x::STRING and CAST or TRY_CAST(x AS VARIANT)
// (and the other types in variantTypes) into calls of the functions that
// give Snowflake's result for a VARIANT.
func rewriteVariantCasts(toks []sqlToken) []sqlToken {
	for i := 1; i+1 < len(toks); i++ {
		switch {
		case toks[i].punct("::") && toks[i+1].kind == tokIdent && variantTypes[strings.ToUpper(toks[i+1].text)] != "":
			fn := variantTypes[strings.ToUpper(toks[i+1].text)]
			end := i + 2
			if end < len(toks) && toks[end].punct("(") { // VARCHAR(100)
				if close := matchingParen(toks, end); close > 0 {
					end = close + 1
				}
			}
			start := operandStart(toks, i-1)
			repl := callTokens(fn, toks[start:i])
			toks = slices.Concat(toks[:start:start], repl, toks[end:])
			i = start + len(repl) - 1
		case toks[i].is("CAST", "TRY_CAST") && toks[i+1].punct("(") && !toks[i-1].punct("."):
			end := matchingParen(toks, i+1)
			as := end - 1
			for as > i+1 && !toks[as].is("AS") {
				as--
			}
			if end < 0 || as <= i+1 || variantTypes[strings.ToUpper(toks[as+1].text)] == "" || toks[as+1].kind != tokIdent {
				continue
			}
			repl := callTokens(variantTypes[strings.ToUpper(toks[as+1].text)], toks[i+2:as])
			toks = slices.Concat(toks[:i:i], repl, toks[end+1:])
		}
	}
	return toks
}

// variantProducers are the calls whose result is a VARIANT, as the
// rewrites before rewriteVariantComparisons leave them.
var variantProducers = map[string]bool{"SF_GET_PATH": true, "GET": true, "PARSE_JSON": true, "TRY_PARSE_JSON": true, "TO_JSON": true, "TO_VARIANT": true,
	"SF_ARRAY": true, "SF_OBJECT": true}

// isVariantOperand reports whether an operand is known to be a VARIANT: a
// path, a parsed value, or FLATTEN's VALUE or THIS.
func isVariantOperand(op []sqlToken, flattened bool) bool {
	if len(op) == 0 || op[0].kind != tokIdent {
		return false
	}
	if len(op) > 1 && op[1].punct("(") && matchingParen(op, 1) == len(op)-1 {
		return variantProducers[strings.ToUpper(op[0].text)]
	}
	last := op[len(op)-1]
	return flattened && last.is("VALUE", "THIS") && (len(op) == 1 || len(op) == 3 && op[1].punct("."))
}

// comparisonOps compare their operands.
var comparisonOps = []string{"=", "<>", "!=", "<", ">", "<=", ">="}

// rewriteVariantComparisons lets a VARIANT be compared with a string
// literal as Snowflake does, the literal being taken as a VARIANT string:
// v:status = 'paid' holds when the element is the JSON string "paid".
// DuckDB would parse the literal as JSON text and fail, so the literal is
// rewritten to the JSON string it stands for. A VARIANT compared with any
// other expression (a column, a call, 'a' || b: the operand spans the
// operators binding more tightly than the comparison) goes through the
// variantComparisons functions, which take text the same way and leave a
// number, date or boolean to DuckDB's conversion of the VARIANT to that
// type.
func rewriteVariantComparisons(toks []sqlToken, flattened bool) []sqlToken {
	asJSON := func(t *sqlToken) {
		if t.kind != tokString {
			return
		}
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(strings.ReplaceAll(t.text[1:len(t.text)-1], "''", "'")) // a string always encodes
		t.text = sqlString(strings.TrimSuffix(b.String(), "\n"))
	}
	for i := 1; i+1 < len(toks); i++ {
		switch {
		case toks[i].kind == tokPunct && slices.Contains(comparisonOps, toks[i].text):
			start, end := expressionStart(toks, i-1), expressionEnd(toks, i+1)
			leftVariant, rightVariant := isVariantOperand(toks[start:i], flattened), isVariantOperand(toks[i+1:end], flattened)
			if leftVariant == rightVariant {
				continue
			}
			other := toks[i+1 : end]
			if rightVariant {
				other = toks[start:i]
			}
			if isLiteral(other) {
				asJSON(&other[0]) // other shares toks' backing array; DuckDB converts the other literals
				continue
			}
			if !endsOperand(toks, start-1) || !endsOperand(toks, end) {
				continue
			}
			repl := callTokens(variantComparisons[toks[i].text], toks[start:i], toks[i+1:end])
			toks = slices.Concat(toks[:start:start], repl, toks[end:])
			i = start + 1 // on inside the call: an operand may hold comparisons of its own
		case toks[i].is("IN") && toks[i+1].punct("("):
			last := i - 1 // the operand's last token, before NOT IN's NOT
			if toks[last].is("NOT") && last > 0 {
				last--
			}
			start := comparandStart(toks, last)
			if !isVariantOperand(toks[start:last+1], flattened) {
				continue
			}
			args, end := callArgs(toks, i+1)
			if len(args) == 0 || len(args[0]) == 0 || args[0][0].is("SELECT", "WITH") {
				continue // a subquery: DuckDB compares its column
			}
			if !slices.ContainsFunc(args, func(a []sqlToken) bool { return !isLiteral(a) }) || !endsOperand(toks, start-1) {
				for _, a := range args {
					if len(a) == 1 {
						asJSON(&a[0]) // a shares toks' backing array
					}
				}
				continue
			}
			// A column or an expression in the list: v IN (a, b) is v = a OR v = b, each
			// compared as the operator is.
			repl := []sqlToken{glue("(")}
			if last != i-1 {
				repl = []sqlToken{glue("NOT (")}
			}
			for k, a := range args {
				if k > 0 {
					repl = append(repl, glue("OR"))
				}
				operand := toks[start : last+1]
				if k > 0 {
					operand = moved(operand)
				}
				repl = append(repl, callTokens(variantComparisons["="], operand, a)...)
			}
			repl = append(repl, glue(")"))
			toks = slices.Concat(toks[:start:start], repl, toks[end+1:])
			i = start + len(repl) - 1
		}
	}
	return toks
}

// isLiteral reports whether an expression is one literal: a string, a
// number, NULL, TRUE or FALSE.
func isLiteral(expr []sqlToken) bool {
	return len(expr) == 1 && (expr[0].kind == tokString || expr[0].kind == tokNumber || expr[0].is("NULL", "TRUE", "FALSE"))
}

// tighterOps are the binary operators that bind more tightly than a
// comparison, so a comparison's operand spans them ('a' || 'b', x + 1).
var tighterOps = []string{"||", "+", "-", "*", "/", "%"}

// expressionStart finds where the comparison operand ending at end
// starts: operands (see atomStart) joined by tighterOps, with a leading
// sign.
func expressionStart(toks []sqlToken, end int) int {
	j := atomStart(toks, end)
	for j >= 1 && toks[j-1].kind == tokPunct && slices.Contains(tighterOps, toks[j-1].text) {
		if j < 2 || !endsValue(toks[j-2]) {
			if toks[j-1].punct("-") || toks[j-1].punct("+") {
				return j - 1 // a sign
			}
			return j
		}
		j = atomStart(toks, j-2)
	}
	return j
}

// expressionEnd is the forward twin of expressionStart (exclusive).
func expressionEnd(toks []sqlToken, start int) int {
	j := start
	for j < len(toks) {
		for j < len(toks) && (toks[j].punct("-") || toks[j].punct("+")) {
			j++ // a sign
		}
		if j >= len(toks) {
			return j
		}
		j = castsEnd(toks, atomEnd(toks, j))
		if j >= len(toks) || toks[j].kind != tokPunct || !slices.Contains(tighterOps, toks[j].text) {
			return j
		}
		j++
	}
	return j
}

// atomStart finds where the operand ending at end starts: comparandStart's
// operands, a CASE … END, or a typed literal (DATE '2025-01-01').
func atomStart(toks []sqlToken, end int) int {
	switch t := toks[end]; {
	case t.is("END"):
		depth := 0
		for j := end; j >= 0; j-- {
			switch {
			case toks[j].is("END"):
				depth++
			case toks[j].is("CASE"):
				depth--
				if depth == 0 {
					return j
				}
			}
		}
		return end
	case t.kind == tokString && end >= 1 && toks[end-1].is("DATE", "TIME", "TIMESTAMP", "INTERVAL"):
		return end - 1
	}
	return comparandStart(toks, end)
}

// atomEnd is the forward twin of atomStart (exclusive), casts aside.
func atomEnd(toks []sqlToken, start int) int {
	switch t := toks[start]; {
	case t.punct("("):
		if end := matchingParen(toks, start); end > 0 {
			return end + 1
		}
	case t.is("CASE"):
		depth := 0
		for j := start; j < len(toks); j++ {
			switch {
			case toks[j].is("CASE"):
				depth++
			case toks[j].is("END"):
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
	case t.is("DATE", "TIME", "TIMESTAMP", "INTERVAL") && start+1 < len(toks) && toks[start+1].kind == tokString:
		return start + 2
	}
	return operandEnd(toks, start)
}

// endsValue reports whether a token can end a value, so an operator after
// it is binary, not a sign.
func endsValue(t sqlToken) bool {
	return t.punct(")") || t.kind == tokString || t.kind == tokNumber || t.kind == tokQuoted ||
		t.kind == tokIdent && (!sqlKeywords[strings.ToUpper(t.text)] || t.is("END", "NULL", "TRUE", "FALSE"))
}

// comparandStart is operandStart with the casts written after an operand
// (x::NUMBER, x::VARCHAR(10)) taken into it.
func comparandStart(toks []sqlToken, end int) int {
	j := operandStart(toks, end)
	for {
		switch {
		case j >= 2 && toks[j].kind == tokIdent && toks[j-1].punct("::"):
			j = operandStart(toks, j-2)
		case j >= 3 && toks[j].punct("(") && toks[j-1].kind == tokIdent && toks[j-2].punct("::"):
			j = operandStart(toks, j-3)
		default:
			return j
		}
	}
}

// castsEnd skips the casts written after an operand ending at end
// (x::NUMBER, x::VARCHAR(10)).
func castsEnd(toks []sqlToken, end int) int {
	for end+1 < len(toks) && toks[end].punct("::") && toks[end+1].kind == tokIdent {
		end += 2
		if end < len(toks) && toks[end].punct("(") {
			if close := matchingParen(toks, end); close > 0 {
				end = close + 1
			}
		}
	}
	return end
}

// endsOperand reports whether the token at i bounds a comparison's
// operand: the statement's edge, a parenthesis, a comma, a keyword (AND,
// WHERE, THEN…) or an alias, so no operator binds the operand more tightly.
func endsOperand(toks []sqlToken, i int) bool {
	if i < 0 || i >= len(toks) {
		return true
	}
	t := toks[i]
	return t.punct("(") || t.punct(")") || t.punct(",") || t.kind == tokQuoted ||
		t.kind == tokIdent && !t.is("IS", "BETWEEN", "LIKE", "ILIKE", "RLIKE", "IN", "COLLATE")
}

// operandEnd finds where the operand starting at start ends (exclusive):
// a dotted name or a call, the forward twin of operandStart.
func operandEnd(toks []sqlToken, start int) int {
	j := start
	for j+2 < len(toks) && toks[j+1].punct(".") && (toks[j+2].kind == tokIdent || toks[j+2].kind == tokQuoted) {
		j += 2
	}
	if j+1 < len(toks) && toks[j].kind == tokIdent && toks[j+1].punct("(") {
		if end := matchingParen(toks, j+1); end > 0 {
			return end + 1
		}
	}
	return j + 1
}

// flattenColumns are the columns FLATTEN returns, in order.
var flattenColumns = []string{"SEQ", "KEY", "PATH", "INDEX", "VALUE", "THIS"}

// flattenArgs are FLATTEN's arguments in their positional order.
var flattenArgs = []string{"INPUT", "PATH", "OUTER", "RECURSIVE", "MODE"}

// rewriteFlatten turns LATERAL FLATTEN(…) and TABLE(FLATTEN(…)) into a
// DuckDB subquery over json_each with FLATTEN's columns: SEQ (one number
// per input value: equal inputs share it), KEY (objects only), PATH, INDEX
// (arrays only), VALUE and THIS. It takes INPUT, PATH, OUTER, RECURSIVE
// and MODE; a scalar or an empty input gives no rows (one row of NULLs
// with OUTER => TRUE), a VARCHAR input is refused as Snowflake refuses it,
// and RECURSIVE with OUTER is refused as not modelled. DuckDB correlates a
// subquery in FROM with the tables before it, LATERAL or not.
func rewriteFlatten(sqlText string, toks []sqlToken) ([]sqlToken, bool, error) {
	found := false
	for i := 0; i+3 < len(toks); i++ {
		var open, end int
		switch {
		case toks[i].is("LATERAL") && toks[i+1].is("FLATTEN") && toks[i+2].punct("("):
			open = i + 2
			end = matchingParen(toks, open)
		case toks[i].is("TABLE") && toks[i+1].punct("(") && toks[i+2].is("FLATTEN") && toks[i+3].punct("("):
			open = i + 3
			end = matchingParen(toks, i+1)
		default:
			continue
		}
		args, _ := callArgs(toks, open)
		if end < 0 || args == nil {
			continue // DuckDB reports the unbalanced parenthesis
		}
		a, err := readFlattenArgs(sqlText, args)
		if err != nil {
			return nil, false, err
		}
		repl := slices.Concat([]sqlToken{glue(a.head())}, a.input, []sqlToken{glue(a.tail()), glue(")")})
		toks = slices.Concat(toks[:i:i], repl, toks[end+1:])
		i += len(repl) - 1
		found = true
	}
	return toks, found, nil
}

// flattenCall is one FLATTEN's arguments, read.
type flattenCall struct {
	input     []sqlToken // the value to flatten, PATH applied
	prefix    string     // PATH as written, "" without one
	outer     bool
	recursive bool
	kinds     string // the JSON types flattened, as an SQL list
}

func readFlattenArgs(sqlText string, args [][]sqlToken) (*flattenCall, error) {
	named := map[string][]sqlToken{}
	for k, a := range args {
		name := ""
		if len(a) > 1 && a[0].kind == tokIdent && a[1].punct("=>") {
			name, a = strings.ToUpper(a[0].text), a[2:]
		} else if k < len(flattenArgs) {
			name = flattenArgs[k]
		}
		if _, dup := named[name]; dup || !slices.Contains(flattenArgs, name) || len(a) == 0 {
			return nil, serviceErrorf("SQL compilation error:\ninvalid argument %s for table function FLATTEN", argText(sqlText, args[k]))
		}
		named[name] = a
	}
	c := &flattenCall{kinds: "'ARRAY', 'OBJECT'"}
	var ok bool
	if c.input, ok = named["INPUT"]; !ok {
		return nil, serviceErrorf("SQL compilation error:\nmissing argument INPUT for table function FLATTEN")
	}
	flag := func(name string) (bool, error) {
		v, ok := named[name]
		switch {
		case !ok || len(v) == 1 && v[0].is("FALSE"):
			return false, nil
		case len(v) == 1 && v[0].is("TRUE"):
			return true, nil
		}
		return false, serviceErrorf("SQL compilation error:\nargument %s of table function FLATTEN must be TRUE or FALSE", name)
	}
	var err error
	if c.outer, err = flag("OUTER"); err != nil {
		return nil, err
	}
	if c.recursive, err = flag("RECURSIVE"); err != nil {
		return nil, err
	}
	if c.recursive && c.outer {
		// Whether OUTER adds a row for each empty container met on the way
		// down is not documented: refused rather than guessed.
		return nil, serviceErrorf("SQL compilation error:\nFLATTEN with both RECURSIVE => TRUE and OUTER => TRUE is not supported by this stack")
	}
	if m, ok := named["MODE"]; ok {
		mode := ""
		if len(m) == 1 && m[0].kind == tokString {
			mode = strings.ToUpper(strings.Trim(m[0].text, "'"))
		}
		switch mode {
		case "ARRAY", "OBJECT":
			c.kinds = "'" + mode + "'"
		case "BOTH":
		default:
			return nil, serviceErrorf("SQL compilation error:\nargument MODE of table function FLATTEN must be 'OBJECT', 'ARRAY' or 'BOTH'")
		}
	}
	if p, ok := named["PATH"]; ok {
		if len(p) != 1 || p[0].kind != tokString {
			return nil, serviceErrorf("SQL compilation error:\nargument PATH of table function FLATTEN must be a constant string")
		}
		c.prefix = strings.ReplaceAll(p[0].text[1:len(p[0].text)-1], "''", "'")
		jsonPath, err := variantPath(c.prefix)
		if err != nil {
			return nil, err
		}
		c.input = callTokens("sf_get_path", c.input, []sqlToken{{kind: tokString, text: sqlString(jsonPath), pos: -1}})
	}
	return c, nil
}

// head is the subquery up to the input. Each row is one element: its key,
// value and container (the THIS column) and its path from the input.
func (c *flattenCall) head() string {
	key, value, container := `sf_flatten_each."key"`, `sf_flatten_each."value"`, `sf_flatten_in."THIS"`
	path := `sf_flatten_path(` + sqlString(c.prefix) + `, ` + container + `, ` + key + `)`
	if c.recursive {
		key, value, container, path = `sf_flatten_walk.k`, `sf_flatten_walk.v`, `sf_flatten_walk.container`, `sf_flatten_walk.p`
	}
	none := "NULL"
	if c.prefix != "" {
		none = sqlString(c.prefix)
	}
	return `(SELECT CAST(hash(sf_flatten_in."THIS") >> 1 AS BIGINT) AS "SEQ", ` +
		`CASE WHEN json_type(` + container + `) = 'OBJECT' THEN ` + key + ` END AS "KEY", ` +
		`CASE WHEN ` + key + ` IS NULL THEN ` + none + ` ELSE ` + path + ` END AS "PATH", ` +
		`CASE WHEN json_type(` + container + `) = 'ARRAY' THEN CAST(` + key + ` AS BIGINT) END AS "INDEX", ` +
		value + ` AS "VALUE", ` + container + ` AS "THIS" FROM (SELECT sf_flatten_input(`
}

// tail closes the input and joins its elements; OUTER keeps the input's
// row when there are none. RECURSIVE walks the elements of the elements
// too (those of the kinds MODE names), each row's THIS being the
// element's own container.
func (c *flattenCall) tail() string {
	expand := func(v string) string {
		return `json_each(CASE WHEN json_type(` + v + `) IN (` + c.kinds + `) THEN ` + v + ` END)`
	}
	if c.recursive {
		return `) AS "THIS") sf_flatten_in JOIN LATERAL (WITH RECURSIVE sf_flatten_walk(k, v, container, p) AS (` +
			`SELECT e."key", e."value", sf_flatten_in."THIS", sf_flatten_path(` + sqlString(c.prefix) + `, sf_flatten_in."THIS", e."key") ` +
			`FROM ` + expand(`sf_flatten_in."THIS"`) + ` e UNION ALL ` +
			`SELECT e."key", e."value", w.v, sf_flatten_path(w.p, w.v, e."key") FROM sf_flatten_walk w, ` + expand("w.v") + ` e) ` +
			`SELECT * FROM sf_flatten_walk) sf_flatten_walk ON TRUE`
	}
	join := "JOIN"
	if c.outer {
		join = "LEFT JOIN"
	}
	return `) AS "THIS") sf_flatten_in ` + join + ` ` + expand(`sf_flatten_in."THIS"`) + ` sf_flatten_each ON TRUE`
}

// variantPath converts a Snowflake path written as a string ('a.b[0]',
// FLATTEN's PATH) to the JSON path DuckDB reads.
func variantPath(p string) (string, error) {
	var b strings.Builder
	b.WriteString("$")
	bad := serviceErrorf("SQL compilation error:\ninvalid path '%s'", p)
	for i := 0; i < len(p); {
		switch {
		case p[i] == '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 2 {
				return "", bad
			}
			inner := p[i+1 : i+j]
			if n, err := strconv.Atoi(inner); err == nil && n >= 0 {
				b.WriteString("[" + inner + "]")
			} else if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] && !strings.ContainsAny(inner[1:len(inner)-1], `"\`) {
				b.WriteString(`."` + inner[1:len(inner)-1] + `"`)
			} else {
				return "", bad
			}
			i += j + 1
		case i == 0 || p[i] == '.':
			if p[i] == '.' {
				i++
			}
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i || strings.ContainsAny(p[i:j], `"\`) {
				return "", bad
			}
			b.WriteString(`."` + p[i:j] + `"`)
			i = j
		default:
			return "", bad
		}
	}
	return b.String(), nil
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// argText is an argument as written, for messages.
func argText(sqlText string, arg []sqlToken) string {
	if len(arg) == 0 || arg[0].pos < 0 || arg[len(arg)-1].pos < 0 {
		return "''"
	}
	return sqlText[arg[0].pos:arg[len(arg)-1].end]
}

// matchingParen returns the index of the parenthesis that pairs with the
// one at at, searching forward from "(" and backward from ")"; -1 when it
// is unbalanced.
func matchingParen(toks []sqlToken, at int) int {
	step, opens, closes := 1, "(", ")"
	if toks[at].punct(")") {
		step, opens, closes = -1, ")", "("
	}
	depth := 0
	for j := at; j >= 0 && j < len(toks); j += step {
		switch {
		case toks[j].punct(opens):
			depth++
		case toks[j].punct(closes):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// catalogNames are the exact names of schemas, tables and columns.
type catalogNames struct {
	objects map[string]bool // schemas and tables
	columns map[string]bool
	folded  map[string]string // upper case → an exact name
}

func readCatalog(ctx context.Context, db queryer) (*catalogNames, error) {
	rs, err := db.QueryContext(ctx, `SELECT table_schema, table_name, column_name FROM information_schema.columns WHERE table_catalog = current_database()`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	c := &catalogNames{objects: map[string]bool{}, columns: map[string]bool{}, folded: map[string]string{}}
	for rs.Next() {
		var schema, table, col string
		if err := rs.Scan(&schema, &table, &col); err != nil {
			return nil, err
		}
		c.objects[schema], c.objects[table], c.columns[col] = true, true, true
		for _, n := range []string{schema, table, col} {
			c.folded[strings.ToUpper(n)] = n
		}
	}
	return c, rs.Err()
}

// checkIdentifiers applies Snowflake's case rules DuckDB does not: a name
// used in a case that exists only in another case is an error.
func checkIdentifiers(sqlText string, rw *rewritten, cat *catalogNames) error {
	for _, ref := range rw.refs {
		name := ref.name()
		if rw.defined[name] || cat.objects[name] || cat.columns[name] {
			continue
		}
		exact, ok := cat.folded[strings.ToUpper(name)]
		if !ok {
			continue
		}
		if cat.objects[exact] && (!cat.columns[exact] || inTablePosition(rw.toks, ref)) {
			return objectError(qualifiedName(rw, ref))
		}
		return invalidIdentifier(sqlText, ref)
	}
	return nil
}

// inTablePosition reports whether a reference names a table: it follows
// FROM or JOIN, possibly qualified by a schema.
func inTablePosition(toks []sqlToken, ref sqlToken) bool {
	i := slices.IndexFunc(toks, func(t sqlToken) bool { return t.pos == ref.pos })
	for i >= 2 && toks[i-1].punct(".") {
		i -= 2
	}
	return i >= 1 && toks[i-1].is("FROM", "JOIN", "TABLE", "INTO", "UPDATE")
}

// qualifiedName is the dotted name a reference ends, for messages.
func qualifiedName(rw *rewritten, ref sqlToken) string {
	toks := rw.toks
	i := slices.IndexFunc(toks, func(t sqlToken) bool { return t.pos == ref.pos })
	parts := []string{ref.name()}
	for i >= 2 && toks[i-1].punct(".") && (toks[i-2].kind == tokIdent || toks[i-2].kind == tokQuoted) &&
		!slices.ContainsFunc(rw.databases, func(d string) bool { return strings.EqualFold(d, toks[i-2].name()) }) {
		parts = append([]string{toks[i-2].name()}, parts...)
		i -= 2
	}
	return strings.Join(parts, ".")
}

// linePos is Snowflake's "line L at position P" (position 0-based).
func linePos(sqlText string, off int) (int, int) {
	off = min(max(off, 0), len(sqlText))
	line := 1 + strings.Count(sqlText[:off], "\n")
	return line, off - (strings.LastIndexByte(sqlText[:off], '\n') + 1)
}

func invalidIdentifier(sqlText string, t sqlToken) error {
	line, pos := linePos(sqlText, t.pos)
	return serviceErrorf("SQL compilation error: error line %d at position %d\ninvalid identifier '%s'", line, pos, t.name())
}

func objectError(name string) error {
	return serviceErrorf("SQL compilation error:\nObject '%s' does not exist or not authorized.", name)
}

func syntaxError(sqlText string, t sqlToken) error {
	line, pos := linePos(sqlText, t.pos)
	return serviceErrorf("SQL compilation error:\nsyntax error line %d at position %d unexpected '%s'.", line, pos, t.text)
}

var (
	reColumnNotFound = regexp.MustCompile(`Referenced column "?([^"]+?)"? not found`)
	reTableNotFound  = regexp.MustCompile(`Table with name "?([^"!]+?)"? does not exist`)
	reSchemaNotFound = regexp.MustCompile(`Schema with name "?([^"!]+?)"? does not exist`)
	reFuncNotFound   = regexp.MustCompile(`Function with name "?([^"!]+?)"? does not exist`)
	reNearToken      = regexp.MustCompile(`syntax error at or near "([^"]*)"`)
	reConversion     = regexp.MustCompile(`Could not convert string ['"]([^'"]*)['"] to ([A-Z]+)`)
	reMalformedJSON  = regexp.MustCompile(`Malformed JSON at byte (\d+) of input: (.*?)\.? +Input:`)
	reCaretLine      = regexp.MustCompile(`(?m)^LINE (\d+): (.*)\n( *)\^`)
	reDuplicateKey   = regexp.MustCompile(`Duplicate struct entry name "?([^"]+?)"?$`)
)

// snowflakeError words a DuckDB error the way Snowflake words the same
// failure; the position is found in the statement as written.
func snowflakeError(sqlText string, rw *rewritten, err error) error {
	msg := err.Error()
	first, _, _ := strings.Cut(msg, "\n")
	find := func(name string) (sqlToken, bool) {
		for _, t := range rw.toks {
			if (t.kind == tokIdent || t.kind == tokQuoted) && strings.EqualFold(t.name(), name) {
				return t, true
			}
		}
		return sqlToken{}, false
	}
	if m := reColumnNotFound.FindStringSubmatch(first); m != nil {
		if t, ok := find(m[1]); ok {
			return invalidIdentifier(sqlText, t)
		}
		return serviceErrorf("SQL compilation error:\ninvalid identifier '%s'", m[1])
	}
	if m := reTableNotFound.FindStringSubmatch(first); m != nil {
		if t, ok := find(m[1]); ok {
			return objectError(qualifiedName(rw, t))
		}
		return objectError(m[1])
	}
	if m := reSchemaNotFound.FindStringSubmatch(first); m != nil {
		return serviceErrorf("SQL compilation error:\nSchema '%s' does not exist or not authorized.", m[1])
	}
	if m := reFuncNotFound.FindStringSubmatch(first); m != nil {
		name := strings.ToUpper(m[1])
		for sf, mapped := range snowflakeFunctions {
			if strings.EqualFold(mapped, m[1]) {
				name = sf
			}
		}
		return serviceErrorf("SQL compilation error:\nUnknown function %s", name)
	}
	if strings.HasPrefix(first, "Parser Error") {
		if m := reNearToken.FindStringSubmatch(first); m != nil {
			nth := occurrencesBeforeCaret(rw.sql, msg, m[1])
			for _, t := range rw.toks {
				if strings.EqualFold(t.text, m[1]) || strings.EqualFold(quoteIdent(strings.ToUpper(t.text)), m[1]) || strings.EqualFold(t.name(), m[1]) {
					if nth == 0 {
						return syntaxError(sqlText, t)
					}
					nth--
				}
			}
		}
		last := rw.toks[len(rw.toks)-1]
		line, pos := linePos(sqlText, last.pos+len(last.text))
		return serviceErrorf("SQL compilation error:\nsyntax error line %d at position %d unexpected '<EOF>'.", line, pos)
	}
	if m := reMalformedJSON.FindStringSubmatch(first); m != nil {
		// PARSE_JSON's failure is a runtime error, not a compilation one.
		var at int
		fmt.Sscan(m[1], &at)
		return serviceErrorf("Error parsing JSON: %s, pos %d", m[2], at+1)
	}
	if m := reDuplicateKey.FindStringSubmatch(first); m != nil {
		// OBJECT_CONSTRUCT(*) over a join whose tables share a column name:
		// an OBJECT holds each key once, and Snowflake refuses the second.
		return serviceErrorf("Duplicate field key '%s'", m[1])
	}
	if _, cast, ok := strings.Cut(first, "Failed to cast variant value "); ok {
		return serviceErrorf("Failed to cast variant value %s", cast) // a run-time error, not a compilation one
	}
	if m := reConversion.FindStringSubmatch(first); m != nil {
		kind := "Numeric"
		switch m[2] {
		case "DATE":
			kind = "Date"
		case "TIMESTAMP":
			kind = "Timestamp"
		case "BOOL", "BOOLEAN":
			kind = "Boolean"
		}
		return serviceErrorf("%s value '%s' is not recognized", kind, m[1])
	}
	if i := strings.Index(first, " Error: "); i >= 0 {
		first = first[i+len(" Error: "):]
	}
	return serviceErrorf("SQL compilation error:\n%s", strings.TrimSuffix(first, "!"))
}

// occurrencesBeforeCaret counts how often near occurs in the rewritten SQL
// before the position DuckDB's caret points at, so the error names the
// same occurrence in the statement as written.
func occurrencesBeforeCaret(rewrittenSQL, msg, near string) int {
	m := reCaretLine.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	lineNo := 0
	fmt.Sscan(m[1], &lineNo)
	lines := strings.Split(rewrittenSQL, "\n")
	if lineNo < 1 || lineNo > len(lines) {
		return 0
	}
	snippet, caret := m[2], len(m[3])-len("LINE : ")-len(m[1])
	if caret < 0 || caret > len(snippet) {
		return 0
	}
	start := strings.Index(lines[lineNo-1], strings.TrimPrefix(snippet[:caret], "..."))
	if start < 0 {
		return 0
	}
	before := strings.Join(lines[:lineNo-1], "\n") + "\n" + lines[lineNo-1][:start+len(strings.TrimPrefix(snippet[:caret], "..."))]
	return strings.Count(strings.ToUpper(before), strings.ToUpper(near))
}
