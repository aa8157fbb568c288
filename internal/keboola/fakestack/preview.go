package fakestack

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// previewMaxLimit is the largest data-preview page the Storage API serves.
const previewMaxLimit = 1000

var filterOperators = map[string]string{"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}

// handleDataPreview serves GET tables/{id}/data-preview: limit (≤ 1000),
// columns, whereFilters[i][column|operator|values][j], orderBy[i][column|order],
// format rfc (default, CSV with every value quoted) or json.
func (s *Stack) handleDataPreview(w http.ResponseWriter, r *http.Request, c *caller) {
	q := r.URL.Query()
	s.mu.Lock()
	t := s.visibleTable(w, r, r.PathValue("id"), c)
	var tcopy table
	if t != nil {
		tcopy = *t
	}
	s.mu.Unlock()
	if t == nil {
		return
	}
	fail := func(code, msg string) { writeError(w, storageErrors, http.StatusBadRequest, code, msg) }
	limit, err := queryInt(q, "limit", 100, 1, previewMaxLimit)
	if err != nil {
		fail("storage.tables.validation", err.Error())
		return
	}
	format := q.Get("format")
	if format == "" {
		format = "rfc"
	}
	if format != "rfc" && format != "json" {
		fail("storage.tables.validation", fmt.Sprintf("format must be rfc or json, got %q", format))
		return
	}
	cols := queryList(q, "columns")
	if len(cols) == 0 {
		for _, col := range tcopy.columns {
			cols = append(cols, col.name)
		}
	}
	for _, col := range cols {
		if !tcopy.hasColumn(col) {
			fail("storage.tables.columnNotFound", fmt.Sprintf("Column %q not found in table %s", col, tcopy.id))
			return
		}
	}
	where, args, err := previewWhere(q, &tcopy)
	if err != nil {
		fail("storage.tables.validation", err.Error())
		return
	}
	order, err := previewOrder(q, &tcopy)
	if err != nil {
		fail("storage.tables.validation", err.Error())
		return
	}
	quoted := make([]string, len(cols))
	for i, col := range cols {
		quoted[i] = quoteIdent(col)
	}
	query := fmt.Sprintf("SELECT %s FROM %s.%s%s%s LIMIT %d",
		strings.Join(quoted, ", "), quoteIdent(tcopy.bucket.schema()), quoteIdent(tcopy.name), where, order, limit)
	_, _, rows, _, err := s.queryRows(r.Context(), limit, query, args...)
	if err != nil {
		writeError(w, storageErrors, http.StatusInternalServerError, "storage.tables.exportFailed", "reading table data failed: "+err.Error())
		return
	}
	if format == "json" {
		outRows := make([]any, 0, len(rows))
		for _, row := range rows {
			cells := make([]any, len(row))
			for i, v := range row {
				var val any
				if v != nil {
					val = *v
				}
				cells[i] = map[string]any{"columnName": cols[i], "value": val, "isTruncated": false}
			}
			outRows = append(outRows, cells)
		}
		writeJSON(w, http.StatusOK, map[string]any{"columns": cols, "rows": outRows})
		return
	}
	var buf bytes.Buffer
	writeCSVRow(&buf, cols)
	for _, row := range rows {
		vals := make([]string, len(row))
		for i, v := range row {
			if v != nil {
				vals[i] = *v
			}
		}
		writeCSVRow(&buf, vals)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// writeCSVRow writes an RFC 4180 record with every field quoted, as the
// Storage API does (encoding/csv quotes only when needed).
func writeCSVRow(buf *bytes.Buffer, fields []string) {
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('"')
		buf.WriteString(strings.ReplaceAll(f, `"`, `""`))
		buf.WriteByte('"')
	}
	buf.WriteString("\r\n")
}

// previewWhere builds the WHERE clause from whereFilters[i][…]; eq/ne take
// one or more values (IN / NOT IN), the comparisons exactly one.
func previewWhere(q url.Values, t *table) (string, []any, error) {
	var conds []string
	var args []any
	for i := 0; ; i++ {
		p := fmt.Sprintf("whereFilters[%d]", i)
		col := q.Get(p + "[column]")
		if col == "" {
			if hasPrefixKey(q, p) {
				return "", nil, fmt.Errorf("%s[column] is required", p)
			}
			break
		}
		if !t.hasColumn(col) {
			return "", nil, fmt.Errorf("%s: column %q not found in table %s", p, col, t.id)
		}
		op := q.Get(p + "[operator]")
		if op == "" {
			op = "eq"
		}
		sqlOp, ok := filterOperators[op]
		if !ok {
			return "", nil, fmt.Errorf("%s[operator] must be one of eq, ne, gt, ge, lt, le; got %q", p, op)
		}
		values := q[p+"[values][]"]
		for j := 0; ; j++ {
			v, ok := q[fmt.Sprintf("%s[values][%d]", p, j)]
			if !ok {
				break
			}
			values = append(values, v...)
		}
		if len(values) == 0 {
			return "", nil, fmt.Errorf("%s[values] needs at least one value", p)
		}
		switch {
		case len(values) == 1:
			conds = append(conds, fmt.Sprintf("%s %s ?", quoteIdent(col), sqlOp))
		case op == "eq" || op == "ne":
			in := "IN"
			if op == "ne" {
				in = "NOT IN"
			}
			conds = append(conds, fmt.Sprintf("%s %s (%s)", quoteIdent(col), in, strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ")))
		default:
			return "", nil, fmt.Errorf("%s: operator %s takes exactly one value", p, op)
		}
		for _, v := range values {
			args = append(args, v)
		}
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

func previewOrder(q url.Values, t *table) (string, error) {
	var parts []string
	for i := 0; ; i++ {
		p := fmt.Sprintf("orderBy[%d]", i)
		col := q.Get(p + "[column]")
		if col == "" {
			if hasPrefixKey(q, p) {
				return "", fmt.Errorf("%s[column] is required", p)
			}
			break
		}
		if !t.hasColumn(col) {
			return "", fmt.Errorf("%s: column %q not found in table %s", p, col, t.id)
		}
		dir := strings.ToUpper(q.Get(p + "[order]"))
		if dir == "" {
			dir = "ASC"
		}
		if dir != "ASC" && dir != "DESC" {
			return "", fmt.Errorf("%s[order] must be ASC or DESC, got %q", p, dir)
		}
		parts = append(parts, quoteIdent(col)+" "+dir)
	}
	if len(parts) == 0 {
		return "", nil
	}
	return " ORDER BY " + strings.Join(parts, ", "), nil
}

func hasPrefixKey(q url.Values, prefix string) bool {
	for k := range q {
		if strings.HasPrefix(k, prefix+"[") {
			return true
		}
	}
	return false
}
