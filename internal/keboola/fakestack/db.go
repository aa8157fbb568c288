package fakestack

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registers "sqlite"
)

// Table rows live in an in-memory SQLite database. Each bucket is
// an attached schema named after the bucket id ("in.c-crm"), so the Snowflake
// name "KEBOOLA_1234"."in.c-crm"."customers" becomes "in.c-crm"."customers"
// once the project database prefix is dropped (see rewriteSQL).
//
// An in-memory database exists per connection, so the pool is pinned to one
// connection that is never recycled; statements are serialised, which a fake
// can afford.
//
// The demo rows never change (the database is query-only once seeded), so
// every demo stack in a process shares one database seeded on first use:
// seeding takes about 0.3 s, and under the race detector about 9 s, which
// tests creating a stack each could not afford. Per-stack state (metadata,
// configurations, jobs) lives in Go and is never shared.
func openDB() (*sql.DB, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, fmt.Errorf("fakestack: opening sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("fakestack: opening sqlite: %w", err)
	}
	return db, nil
}

// lockDB makes the database read-only once seeded: every workspace of the
// fake has read-only storage access, and the engine itself then refuses
// writes that slip past the statement check.
func lockDB(db *sql.DB) error {
	if _, err := db.Exec(`PRAGMA query_only = ON`); err != nil {
		return fmt.Errorf("fakestack: locking database: %w", err)
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// sqliteType maps a Keboola column type to the SQLite storage type. Dates,
// timestamps and booleans are stored as text, the way Keboola exports them.
func sqliteType(kbcType string) string {
	switch kbcType {
	case "INTEGER":
		return "INTEGER"
	case "NUMERIC", "FLOAT":
		return "REAL"
	default:
		return "TEXT"
	}
}

// snowflakeType maps a SQLite declared type back to the name Snowflake reports.
func snowflakeType(decl string) string {
	switch strings.ToUpper(decl) {
	case "INTEGER":
		return "NUMBER"
	case "REAL":
		return "FLOAT"
	default:
		return "VARCHAR"
	}
}

// cellString renders a SQLite value the way Keboola exports it: text.
func cellString(v any) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "", false
	case int64:
		return strconv.FormatInt(t, 10), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case []byte:
		return string(t), true
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case time.Time:
		return t.Format(time.RFC3339), true
	default:
		return fmt.Sprint(t), true
	}
}

// queryRows runs a read query and returns column names, declared types and
// rows as nullable strings, stopping after maxRows rows (truncated reports it).
func (s *Stack) queryRows(ctx context.Context, maxRows int, query string, args ...any) (cols, types []string, rows [][]*string, truncated bool, err error) {
	rs, err := s.db.QueryContext(ctx, query, args...)
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
	types = make([]string, len(cts))
	for i, ct := range cts {
		types[i] = snowflakeType(ct.DatabaseTypeName())
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
			if str, ok := cellString(v); ok {
				row[i] = &str
			}
		}
		rows = append(rows, row)
	}
	return cols, types, rows, truncated, rs.Err()
}
