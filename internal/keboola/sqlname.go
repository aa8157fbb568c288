package keboola

import (
	"fmt"
	"strings"
)

// SQLName returns the table's fully qualified name for SQL in a workspace of
// the project's backend: "DB"."SCHEMA"."table" on Snowflake, `dataset`.`table`
// on BigQuery (with the project prefix when the bucket path names it). It
// uses the bucket's backendPath, so the table must come from GetTable or
// ListTables (which return the bucket).
func (t Table) SQLName(backend string) (string, error) {
	path := t.Bucket.BackendPath
	switch strings.ToLower(backend) {
	case "snowflake":
		if len(path) != 2 {
			return "", fmt.Errorf("keboola: table %s has no Snowflake database and schema in its bucket's backendPath", t.ID)
		}
		return quoteSnowflake(path[0]) + "." + quoteSnowflake(path[1]) + "." + quoteSnowflake(t.Name), nil
	case "bigquery":
		if t.IsAlias {
			// Snowflake materialises aliases of linked buckets; BigQuery
			// does not, so there is nothing to query (the Python server's
			// workspace.py get_table_info: "BigQuery does not").
			src := "its source table"
			if t.SourceTable != nil {
				src = "the source table " + t.SourceTable.ID + " in its own project"
			}
			return "", fmt.Errorf("keboola: %s is an alias table, which BigQuery does not materialise; it cannot be queried here (query %s)", t.ID, src)
		}
		if len(path) < 1 || len(path) > 2 {
			return "", fmt.Errorf("keboola: table %s has no BigQuery dataset in its bucket's backendPath", t.ID)
		}
		parts := append(append([]string{}, path...), t.Name)
		for i, p := range parts {
			parts[i] = quoteBigQuery(p)
		}
		return strings.Join(parts, "."), nil
	}
	return "", fmt.Errorf("keboola: unsupported SQL backend %q (snowflake or bigquery)", backend)
}

// quoteSnowflake double-quotes an identifier, doubling embedded quotes.
func quoteSnowflake(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteBigQuery backquotes an identifier, escaping embedded backquotes.
func quoteBigQuery(s string) string { return "`" + strings.ReplaceAll(s, "`", "\\`") + "`" }
