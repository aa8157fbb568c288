package tools

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

var storageTools = []Tool{
	define("get_buckets", "List or get buckets",
		"Lists the project's Storage buckets (id, name, stage, description, rows, size), or gives full details "+
			"of the buckets named in bucket_ids. Long lists are paged with limit/offset. To find a bucket by name "+
			"prefer search; list everything only when you need an inventory.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) { paging(s, listPage, listPageMax) },
		getBuckets),
	define("get_tables", "List or get tables",
		"With bucket_ids: lists the tables in those buckets (id, name, rows, primary key, description). With "+
			"table_ids: full details of each table, including its fully qualified SQL name and its columns with "+
			"types and descriptions; use these names in query_data. Give at least one of the two. To find a table "+
			"by name, prefer search.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) { paging(s, listPage, listPageMax) },
		getTables),
	define("update_descriptions", "Update descriptions",
		"Sets the descriptions of buckets, tables or columns. Each update names the item by id: a bucket "+
			"(in.c-crm), a table (in.c-crm.customers) or a column (in.c-crm.customers.email). Existing "+
			"descriptions are replaced. Reports the result of each update.",
		hints{destructive: true, idempotent: true}, func(s *jsonschema.Schema) { minLen(s, "updates", 1) },
		updateDescriptions),
}

type getBucketsInput struct {
	BucketIDs []string `json:"bucket_ids,omitempty" jsonschema:"Ids of the buckets to describe in full (e.g. in.c-crm). Leave empty to list all buckets."`
	Limit     int      `json:"limit,omitempty" jsonschema:"Maximum number of buckets to list."`
	Offset    int      `json:"offset,omitempty" jsonschema:"Number of buckets to skip, for paging."`
}

func getBuckets(ctx context.Context, c call, in getBucketsInput) (string, error) {
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	if len(in.BucketIDs) > 0 {
		return bucketDetails(ctx, c.client, u, in.BucketIDs)
	}
	buckets, err := c.client.ListBuckets(ctx)
	if err != nil {
		return "", err
	}
	slices.SortFunc(buckets, func(a, b keboola.Bucket) int { return strings.Compare(a.ID, b.ID) })
	in.Limit = defaultInt(in.Limit, listPage)
	var nIn int
	for _, b := range buckets {
		if b.Stage == "in" {
			nIn++
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%s (%d input, %d output).\n", counted(len(buckets), "bucket"), nIn, len(buckets)-nIn)
	lo, hi, note := window(len(buckets), in.Offset, in.Limit)
	if hi > lo {
		rows := make([][]string, 0, hi-lo)
		for _, b := range buckets[lo:hi] {
			rows = append(rows, []string{b.ID, b.DisplayName, b.Stage, shorten(b.DescriptionText(), 100),
				count(b.RowsCount), bytesize(b.DataSizeBytes), linkedFrom(b)})
		}
		out.WriteString(csvTable([]string{"id", "name", "stage", "description", "rows", "size", "linked_from"}, rows))
	}
	if note != "" {
		out.WriteString(note + "\n")
	}
	out.WriteString(links("Storage", u.Storage()))
	return out.String(), nil
}

func bucketDetails(ctx context.Context, c *keboola.Client, u keboola.Links, ids []string) (string, error) {
	return describeEach(ids, "bucket(s)", "get_buckets without bucket_ids (or search) lists the existing buckets.", func(id string) (string, bool, error) {
		b, err := c.GetBucket(ctx, id)
		if errors.Is(err, keboola.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		var f fields
		f.add("Bucket", b.ID)
		f.add("Name", b.DisplayName)
		f.add("Stage", b.Stage)
		f.add("Description", b.DescriptionText())
		f.add("Backend", b.Backend)
		f.add("Rows", count(b.RowsCount))
		f.add("Size", bytesize(b.DataSizeBytes))
		f.add("Created", day(b.Created.Time))
		f.add("Last change", day(b.LastChangeDate.Time))
		f.add("Linked from", linkedFrom(*b))
		f.add("Link", u.Bucket(b.ID))
		return f.String(), true, nil
	})
}

func linkedFrom(b keboola.Bucket) string {
	if b.SourceBucket == nil {
		return ""
	}
	return fmt.Sprintf("%s in project %s (%s)", b.SourceBucket.ID, b.SourceBucket.Project.Name, b.SourceBucket.Project.ID)
}

type getTablesInput struct {
	BucketIDs    []string `json:"bucket_ids,omitempty" jsonschema:"List the tables of these buckets (e.g. in.c-crm)."`
	TableIDs     []string `json:"table_ids,omitempty" jsonschema:"Describe these tables in full, with columns and SQL names (e.g. in.c-crm.customers)."`
	Limit        int      `json:"limit,omitempty" jsonschema:"Maximum number of tables to list (applies to bucket_ids listings)."`
	Offset       int      `json:"offset,omitempty" jsonschema:"Number of tables to skip in a bucket_ids listing, for paging."`
	IncludeUsage bool     `json:"include_usage,omitempty" jsonschema:"With table_ids: also list the configurations (components, transformations, flows, data apps) whose storage mappings read or write these tables."`
}

func getTables(ctx context.Context, c call, in getTablesInput) (string, error) {
	if len(in.BucketIDs) == 0 && len(in.TableIDs) == 0 {
		return "", errorf("give bucket_ids (to list their tables) or table_ids (for details). get_buckets lists the bucket ids; search finds tables by name.")
	}
	info, err := c.client.VerifyToken(ctx)
	if err != nil {
		return "", err
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	if len(in.BucketIDs) > 0 {
		listing, err := tableListing(ctx, c.client, in)
		if err != nil {
			return "", err
		}
		out.WriteString(listing)
	}
	if len(in.TableIDs) > 0 {
		details, err := tableDetails(ctx, c.client, u, dialect(info.Owner), in.TableIDs)
		if err != nil {
			return "", err
		}
		if out.Len() > 0 {
			out.WriteString("\n")
		}
		out.WriteString(details)
		if in.IncludeUsage {
			usage, err := tableUsage(ctx, c, in.TableIDs)
			if err != nil {
				return "", err
			}
			out.WriteString(usage)
		}
	} else if in.IncludeUsage {
		out.WriteString("include_usage lists where tables are used for table_ids; name the tables to see it.\n")
	}
	out.WriteString(links("Storage", u.Storage()))
	return out.String(), nil
}

// tableUsage is the Python server's include_usage: the configurations whose
// input or output mappings name the tables, found by a config-based search
// of their storage blocks.
func tableUsage(ctx context.Context, c call, tableIDs []string) (string, error) {
	hits, err := search(ctx, c, searchInput{Patterns: tableIDs, SearchType: searchConfigBased, Scopes: []string{"storage"},
		Limit: searchPageMax})
	if err != nil {
		return "", err
	}
	return "\nWhere these tables are used (storage mappings of configurations):\n" + hits, nil
}

func tableListing(ctx context.Context, c *keboola.Client, in getTablesInput) (string, error) {
	var tables []keboola.Table
	var missing []string
	for _, id := range in.BucketIDs {
		ts, err := c.ListTables(ctx, id)
		if errors.Is(err, keboola.ErrNotFound) {
			missing = append(missing, id)
			continue
		}
		if err != nil {
			return "", err
		}
		tables = append(tables, ts...)
	}
	if len(missing) == len(in.BucketIDs) {
		return "", errorf("bucket(s) not found: %s. Call get_buckets to see the existing bucket ids.", strings.Join(missing, ", "))
	}
	var out strings.Builder
	out.WriteString(counted(len(tables), "table") + ".\n")
	lo, hi, note := window(len(tables), in.Offset, defaultInt(in.Limit, listPage))
	if hi > lo {
		rows := make([][]string, 0, hi-lo)
		for _, t := range tables[lo:hi] {
			rows = append(rows, []string{t.ID, t.DisplayName, count(t.RowsCount), strings.Join(t.PrimaryKey, "|"),
				shorten(tableDescription(t), 100)})
		}
		out.WriteString(csvTable([]string{"id", "name", "rows", "primary_key", "description"}, rows))
	}
	if note != "" {
		out.WriteString(note + "\n")
	}
	if len(missing) > 0 {
		fmt.Fprintf(&out, "Buckets not found: %s (get_buckets lists the existing ones).\n", strings.Join(missing, ", "))
	}
	return out.String(), nil
}

func tableDetails(ctx context.Context, c *keboola.Client, u keboola.Links, d sqlDialect, ids []string) (string, error) {
	return describeEach(ids, "table(s)", "get_tables with bucket_ids (or search) lists the existing tables.", func(id string) (string, bool, error) {
		t, err := c.GetTable(ctx, id)
		if errors.Is(err, keboola.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		var f fields
		f.add("Table", t.ID)
		f.add("Name", t.DisplayName)
		sqlName, err := t.SQLName(d.backend)
		if err != nil {
			sqlName = "unknown (" + err.Error() + ")"
		}
		f.add("SQL name", sqlName)
		f.add("Quote identifiers", d.quoteHint)
		f.add("Description", tableDescription(*t))
		f.add("Primary key", strings.Join(t.PrimaryKey, ", "))
		f.add("Rows", count(t.RowsCount))
		f.add("Size", bytesize(t.DataSizeBytes))
		f.add("Created", day(t.Created.Time))
		f.add("Last import", day(t.LastImportDate.Time))
		if t.SourceTable != nil {
			f.add("Alias of", t.SourceTable.ID)
		}
		f.add("Link", u.Table(t.Bucket.ID, t.Name))
		return f.String() + "Columns:\n" + csvTable([]string{"name", "type", "nullable", "description"}, columnRows(t)), true, nil
	})
}

// Column metadata keys where Keboola keeps types of untyped tables.
const (
	metaBaseType = "KBC.datatype.basetype"
	metaType     = "KBC.datatype.type"
	metaNullable = "KBC.datatype.nullable"
)

func columnRows(t *keboola.Table) [][]string {
	typed := map[string][2]string{} // column → type, nullable
	if t.Definition != nil {
		for _, col := range t.Definition.Columns {
			typ := col.Definition.Type
			if col.Definition.Length != "" {
				typ += "(" + col.Definition.Length.String() + ")"
			}
			typed[col.Name] = [2]string{typ, fmt.Sprint(col.Definition.Nullable)}
		}
	}
	rows := make([][]string, 0, len(t.Columns))
	for _, name := range t.Columns {
		meta := t.ColumnMetadata[name]
		typ, nullable := typed[name][0], typed[name][1]
		if typ == "" {
			typ, _ = meta.Get(metaType)
		}
		if typ == "" {
			typ, _ = meta.Get(metaBaseType)
		}
		if nullable == "" {
			if v, ok := meta.Get(metaNullable); ok {
				nullable = map[string]string{"1": "true", "0": "false", "true": "true", "false": "false"}[v]
			}
		}
		desc, _ := meta.Get(keboola.MetadataKeyDescription)
		rows = append(rows, []string{name, typ, nullable, oneLine(desc)})
	}
	return rows
}

func tableDescription(t keboola.Table) string {
	d, _ := t.Metadata.Get(keboola.MetadataKeyDescription)
	return d
}

type descriptionUpdate struct {
	ItemID      string `json:"item_id" jsonschema:"Id of a bucket (in.c-crm), table (in.c-crm.customers) or column (in.c-crm.customers.email)."`
	Description string `json:"description" jsonschema:"The new description (Markdown); it replaces the current one."`
}

type updateDescriptionsInput struct {
	Updates []descriptionUpdate `json:"updates" jsonschema:"The descriptions to set, one per item."`
}

func updateDescriptions(ctx context.Context, c call, in updateDescriptionsInput) (string, error) {
	if len(in.Updates) == 0 {
		return "", errorf("updates must name at least one item")
	}
	type result struct{ id, status string }
	var results []result
	// Columns of one table are written in one request.
	columns := map[string]map[string][]keboola.MetadataInput{}
	var tableOrder []string
	var ok int
	record := func(id string, err error) {
		switch {
		case err == nil:
			ok++
			results = append(results, result{id, "updated"})
		case errors.Is(err, keboola.ErrNotFound):
			results = append(results, result{id, "not found: check the id with get_buckets or get_tables"})
		default:
			var ue *userError
			if errors.As(err, &ue) {
				results = append(results, result{id, ue.msg})
				return
			}
			results = append(results, result{id, "failed: " + err.Error()})
		}
	}
	for _, upd := range in.Updates {
		id := strings.TrimSpace(upd.ItemID)
		meta := []keboola.MetadataInput{{Key: keboola.MetadataKeyDescription, Value: upd.Description}}
		parts := strings.Split(id, ".")
		switch {
		case slices.Contains(parts, ""):
			record(id, errorf("%q is not a bucket, table or column id (expected in.c-crm, in.c-crm.customers or in.c-crm.customers.email)", id))
		case len(parts) == 2:
			_, err := c.client.SetBucketMetadata(ctx, id, meta)
			if err = asUserError(err); isInternal(err) {
				return "", err
			}
			record(id, err)
		case len(parts) == 3:
			_, err := c.client.SetTableMetadata(ctx, id, meta, nil)
			if err = asUserError(err); isInternal(err) {
				return "", err
			}
			record(id, err)
		case len(parts) >= 4:
			table := strings.Join(parts[:3], ".")
			col := strings.Join(parts[3:], ".")
			if columns[table] == nil {
				columns[table] = map[string][]keboola.MetadataInput{}
				tableOrder = append(tableOrder, table)
			}
			columns[table][col] = meta
		default:
			record(id, errorf("%q is not a bucket, table or column id (expected in.c-crm, in.c-crm.customers or in.c-crm.customers.email)", id))
		}
	}
	for _, table := range tableOrder {
		_, err := c.client.SetTableMetadata(ctx, table, nil, columns[table])
		if err = asUserError(err); isInternal(err) {
			return "", err
		}
		for _, col := range slices.Sorted(maps.Keys(columns[table])) {
			record(table+"."+col, err)
		}
	}
	rows := make([][]string, len(results))
	for i, r := range results {
		rows[i] = []string{r.id, r.status}
	}
	text := fmt.Sprintf("%d of %d descriptions updated.\n", ok, len(results)) + csvTable([]string{"item_id", "result"}, rows)
	if ok == 0 {
		return "", errorf("%s", text)
	}
	return text, nil
}

// asUserError turns Keboola's 400/422 answer about one item (a bad column
// name, say) into a model-actionable error; other errors are left as they are.
func asUserError(err error) error {
	var apiErr *keboola.APIError
	if errors.As(err, &apiErr) && (apiErr.Status == 400 || apiErr.Status == 422) {
		return errorf("rejected by Keboola: %s", apiErr.Message)
	}
	return err
}

// isInternal reports whether err stops the whole tool call rather than one
// item: an invalid token, an unreachable stack, a cancelled call.
func isInternal(err error) bool {
	var ue *userError
	return err != nil && !errors.Is(err, keboola.ErrNotFound) && !errors.As(err, &ue)
}

func defaultInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
