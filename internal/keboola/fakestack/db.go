package fakestack

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// Table rows live in DuckDB. One in-memory DuckDB instance serves the
// process; each stack gets its own in-memory database attached to it
// (stackDB), because Snowflake transformations write their output tables
// into it. Each bucket is a schema named after the bucket id ("in.c-crm"),
// so the Snowflake name "KEBOOLA_1234"."in.c-crm"."customers" becomes
// "in.c-crm"."customers" once the project database prefix is dropped (see
// snowsql.go, which also makes DuckDB answer like Snowflake). Catalogue
// queries keep to current_database(), the stack's own.
//
// The demo tables are loaded once per process into a template database and
// copied into each stack's database, which takes milliseconds where loading
// them takes seconds under the race detector.
//
// DuckDB needs cgo, which is why the fake lives outside the shipped
// keboola-mcp binary (cmd/keboola-dev-stack serves it).

// engine is the process's DuckDB instance and an admin pool on it.
var engine = sync.OnceValues(func() (*engineInstance, error) {
	conn, err := duckdb.NewConnector("?threads=2", nil)
	if err != nil {
		return nil, fmt.Errorf("fakestack: opening duckdb: %w", err)
	}
	return &engineInstance{connector: conn, admin: sql.OpenDB(conn)}, nil
})

type engineInstance struct {
	connector *duckdb.Connector
	admin     *sql.DB
	seq       atomic.Int64
}

// stackDB is one stack's database: a pool whose connections all use it.
type stackDB struct {
	*sql.DB
	name string
}

// Close closes the pool and drops the database.
func (d *stackDB) Close() error {
	err := d.DB.Close()
	if e, eerr := engine(); eerr == nil {
		_, _ = e.admin.Exec("DETACH DATABASE IF EXISTS " + quoteIdent(d.name))
	}
	return err
}

// useDatabase connects to the shared instance with database as the
// connection's default.
type useDatabase struct {
	base     *duckdb.Connector
	database string
}

func (c useDatabase) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.(driver.ExecerContext).ExecContext(ctx, "USE "+quoteIdent(c.database), nil); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func (c useDatabase) Driver() driver.Driver { return c.base.Driver() }

// openDB attaches a new empty database for a stack, with the Snowflake
// functions defined in it.
func openDB() (*stackDB, error) {
	return attachDatabase(fmt.Sprintf("stack_%d", mustEngine().seq.Add(1)), true)
}

func mustEngine() *engineInstance {
	e, err := engine()
	if err != nil {
		panic(err) // DuckDB is linked in: opening an in-memory instance does not fail
	}
	return e
}

func attachDatabase(name string, macros bool) (*stackDB, error) {
	e := mustEngine()
	if _, err := e.admin.Exec("ATTACH ':memory:' AS " + quoteIdent(name)); err != nil {
		return nil, fmt.Errorf("fakestack: attaching a database: %w", err)
	}
	db := &stackDB{DB: sql.OpenDB(useDatabase{base: e.connector, database: name}), name: name}
	if macros {
		for _, m := range snowflakeMacros {
			if _, err := db.Exec(m); err != nil {
				db.Close()
				return nil, fmt.Errorf("fakestack: defining Snowflake function %.40q: %w", m, err)
			}
		}
	}
	return db, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// numericScale is the scale of Keboola NUMERIC columns in the demo: Storage
// reports them as NUMERIC with length "12,2" (see tableJSON), which Snowflake
// stores as NUMBER(12,2).
const numericScale = 2

// engineType maps a Keboola column type to the DuckDB type holding it, the
// way a Snowflake workspace types typed tables.
func engineType(kbcType string) string {
	switch kbcType {
	case "INTEGER":
		return "BIGINT"
	case "NUMERIC":
		return fmt.Sprintf("DECIMAL(12,%d)", numericScale)
	case "FLOAT":
		return "DOUBLE"
	case "DATE", "TIMESTAMP", "BOOLEAN":
		return kbcType
	default:
		return "VARCHAR"
	}
}

// keboolaType maps a DuckDB column type back to the Keboola base type a table
// created by a transformation gets.
func keboolaType(engine string) string {
	switch t := strings.ToUpper(engine); {
	case t == "BIGINT" || t == "INTEGER" || t == "SMALLINT" || t == "TINYINT" || t == "HUGEINT" || t == "UBIGINT":
		return "INTEGER"
	case strings.HasPrefix(t, "DECIMAL"):
		return "NUMERIC"
	case t == "DOUBLE" || t == "FLOAT" || t == "REAL":
		return "FLOAT"
	case t == "DATE" || t == "BOOLEAN":
		return t
	case strings.HasPrefix(t, "TIMESTAMP"):
		return "TIMESTAMP"
	default:
		return "VARCHAR"
	}
}

// snowflakeType names a DuckDB result column type the way the Query Service
// reports Snowflake's.
func snowflakeType(engine string) string {
	switch t := strings.ToUpper(engine); {
	case t == "JSON":
		return "VARIANT"
	case strings.HasSuffix(t, "[]"):
		return "ARRAY"
	case semiStructured(t):
		return "OBJECT"
	}
	switch keboolaType(engine) {
	case "INTEGER", "NUMERIC":
		return "NUMBER"
	case "FLOAT":
		return "FLOAT"
	case "DATE":
		return "DATE"
	case "TIMESTAMP":
		if strings.Contains(strings.ToUpper(engine), "TIME ZONE") || strings.HasSuffix(strings.ToUpper(engine), "TZ") {
			return "TIMESTAMP_TZ"
		}
		return "TIMESTAMP_NTZ"
	case "BOOLEAN":
		return "BOOLEAN"
	default:
		return "VARCHAR"
	}
}

// engineValue converts a generated demo value (text for dates, timestamps
// and booleans, the way Keboola exports them) to what the DuckDB appender
// stores in a column of the Keboola type. DECIMAL columns take the unscaled
// integer.
func engineValue(kbcType string, v any) (driver.Value, error) {
	if v == nil {
		return nil, nil
	}
	switch kbcType {
	case "INTEGER":
		switch n := v.(type) {
		case int:
			return int64(n), nil
		case int64:
			return n, nil
		}
	case "NUMERIC":
		if f, ok := v.(float64); ok {
			return int64(math.Round(f * math.Pow10(numericScale))), nil
		}
	case "DATE":
		if s, ok := v.(string); ok {
			return time.Parse(time.DateOnly, s)
		}
	case "TIMESTAMP":
		if s, ok := v.(string); ok {
			return time.Parse(time.DateTime, s)
		}
	case "BOOLEAN":
		if s, ok := v.(string); ok {
			return strconv.ParseBool(s)
		}
	default:
		if s, ok := v.(string); ok {
			return s, nil
		}
	}
	return nil, fmt.Errorf("value %v (%T) does not fit a %s column", v, v, kbcType)
}

// cellString renders a DuckDB value as text, the way the Query Service and
// Storage exports send every value: decimals keep their scale exactly
// (12.50, never 12.499999), dates are YYYY-MM-DD and timestamps
// YYYY-MM-DD HH:MM:SS.
func cellString(v any, engine string) (string, bool) {
	if semiStructured(engine) {
		return variantString(v)
	}
	switch t := v.(type) {
	case nil:
		return "", false
	case int64:
		return strconv.FormatInt(t, 10), true
	case int32:
		return strconv.FormatInt(int64(t), 10), true
	case int16:
		return strconv.FormatInt(int64(t), 10), true
	case int8:
		return strconv.FormatInt(int64(t), 10), true
	case uint64:
		return strconv.FormatUint(t, 10), true
	case *big.Int:
		return t.String(), true
	case duckdb.Decimal:
		return decimalString(t), true
	case float64:
		return floatString(t), true
	case float32:
		return floatString(float64(t)), true
	case []byte:
		return string(t), true
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case time.Time:
		if strings.EqualFold(engine, "DATE") {
			return t.Format(time.DateOnly), true
		}
		if strings.Contains(strings.ToUpper(engine), "TIME ZONE") {
			return t.Format("2006-01-02 15:04:05 -0700"), true
		}
		return t.Format(time.DateTime), true
	default:
		return fmt.Sprint(t), true
	}
}

// semiStructured reports whether a DuckDB result type holds what
// Snowflake calls semi-structured data: JSON (a VARIANT), a list (an ARRAY,
// as ARRAY_AGG returns) or a struct or map (an OBJECT).
func semiStructured(engine string) bool {
	t := strings.ToUpper(engine)
	return t == "JSON" || strings.HasSuffix(t, "[]") || strings.HasPrefix(t, "STRUCT") || strings.HasPrefix(t, "MAP")
}

// variantsAsText wraps a query so its semi-structured columns come back as
// JSON text: the driver decodes JSON into Go values, which loses a JSON
// null (nil) and the digits of large numbers (float64).
func variantsAsText(query string, cols, engineTypes []string) string {
	items := make([]string, len(cols))
	for i, c := range cols {
		ref := fmt.Sprintf("#%d", i+1)
		switch {
		case strings.HasSuffix(engineTypes[i], "[]"):
			// A list is an ARRAY (ARRAY_CONSTRUCT's): a SQL NULL element,
			// which to_json would make a JSON null, prints as undefined.
			ref = "CASE WHEN " + ref + " IS NOT NULL THEN '[' || array_to_string(list_transform(" + ref +
				", e -> COALESCE(CAST(to_json(e) AS VARCHAR), 'undefined')), ',') || ']' END"
		case semiStructured(engineTypes[i]):
			ref = "CAST(to_json(" + ref + ") AS VARCHAR)"
		}
		items[i] = ref + " AS " + quoteIdent(c)
	}
	return "SELECT " + strings.Join(items, ", ") + " FROM (" + query + ") sf_result"
}

// variantString prints semi-structured JSON text the way Snowflake does:
// strings in their quotes, object keys sorted, objects and arrays indented
// by two spaces on several lines, a JSON null as null, and an ARRAY's SQL
// NULL element (written undefined by variantsAsText) as undefined.
func variantString(v any) (string, bool) {
	text, ok := v.(string)
	if !ok {
		return fmt.Sprint(v), v != nil
	}
	text, undefined := markUndefined(text)
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber() // keep every digit
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return text, true
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return text, true
	}
	out := strings.TrimSuffix(b.String(), "\n")
	if undefined {
		out = strings.ReplaceAll(out, undefinedMarkJSON, "undefined")
	}
	return out, true
}

// undefinedMark stands in for undefined while the JSON is decoded and
// indented: a string no data holds (it starts with a NUL character).
const (
	undefinedMark     = "\x00undefined"
	undefinedMarkJSON = `"\u0000undefined"`
)

// markUndefined replaces each bare undefined (outside strings) with the
// JSON form of undefinedMark; it reports whether there was one.
func markUndefined(text string) (string, bool) {
	if !strings.Contains(text, "undefined") {
		return text, false
	}
	var b strings.Builder
	found, inString := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString && c == '\\':
			b.WriteByte(c)
			i++
			if i < len(text) {
				b.WriteByte(text[i])
			}
			continue
		case c == '"':
			inString = !inString
		case !inString && strings.HasPrefix(text[i:], "undefined"):
			b.WriteString(undefinedMarkJSON)
			i += len("undefined") - 1
			found = true
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), found
}

// decimalString prints a decimal with exactly its scale's digits.
func decimalString(d duckdb.Decimal) string {
	digits := new(big.Int).Abs(d.Value).String()
	sign := ""
	if d.Value.Sign() < 0 {
		sign = "-"
	}
	if d.Scale == 0 {
		return sign + digits
	}
	scale := int(d.Scale)
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

// floatString prints a FLOAT with at most 15 significant digits, as
// Snowflake does, so binary noise (0.30000000000000004) never shows.
func floatString(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	rounded, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	return strconv.FormatFloat(rounded, 'f', -1, 64)
}

// queryer is where SQL runs: the pool or a job's own connection.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queryRows runs a read query and returns column names, Snowflake types and
// rows as nullable strings, stopping after maxRows rows (truncated reports it).
func queryRows(ctx context.Context, db queryer, maxRows int, query string, args ...any) (cols, types []string, rows [][]*string, truncated bool, err error) {
	rs, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, nil, false, err
	}
	defer rs.Close()
	cols, err = rs.Columns()
	if err != nil {
		return nil, nil, nil, false, err
	}
	cts, err := rs.ColumnTypes()
	if err != nil {
		return nil, nil, nil, false, err
	}
	engineTypes := make([]string, len(cts))
	types = make([]string, len(cts))
	for i, ct := range cts {
		engineTypes[i] = ct.DatabaseTypeName()
		types[i] = snowflakeType(engineTypes[i])
	}
	if slices.ContainsFunc(engineTypes, semiStructured) {
		rs.Close()
		if rs, err = db.QueryContext(ctx, variantsAsText(query, cols, engineTypes), args...); err != nil {
			return nil, nil, nil, false, err
		}
		defer rs.Close()
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rs.Next() {
		if len(rows) == maxRows {
			truncated = true
			break
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, nil, nil, false, err
		}
		row := make([]*string, len(cols))
		for i, v := range vals {
			if str, ok := cellString(v, engineTypes[i]); ok {
				row[i] = &str
			}
		}
		rows = append(rows, row)
	}
	return cols, types, rows, truncated, rs.Err()
}

// queryRows reads from the stack's database.
func (s *Stack) queryRows(ctx context.Context, maxRows int, query string, args ...any) (cols, types []string, rows [][]*string, truncated bool, err error) {
	return queryRows(ctx, s.db, maxRows, query, args...)
}
