package keboola

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Branch is a development branch (or the default branch) of the project.
type Branch struct {
	ID          FlexString `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	IsDefault   bool       `json:"isDefault"`
	Created     Time       `json:"created"`
}

// ListBranches returns the project's branches, the default one included.
func (c *Client) ListBranches(ctx context.Context) ([]Branch, error) {
	var out []Branch
	err := c.doJSON(ctx, request{method: "GET", path: "/v2/storage/dev-branches"}, &out)
	return out, err
}

// defaultBranches remembers each credential's default-branch id for the
// process: the id never changes, and HTTP deployments build a client per
// request, so a per-client memo would look it up on every query.
var defaultBranches = struct {
	sync.Mutex
	m map[[sha256.Size]byte]string
}{m: map[[sha256.Size]byte]string{}}

const defaultBranchesMaxLen = 4096

// DefaultBranchID returns the numeric id of the project's default branch,
// which the Query Service needs in its paths. It is looked up once per
// credential and process.
func (c *Client) DefaultBranchID(ctx context.Context) (string, error) {
	defaultBranches.Lock()
	id, ok := defaultBranches.m[c.verifyKey]
	defaultBranches.Unlock()
	if ok {
		return id, nil
	}
	branches, err := c.ListBranches(ctx)
	if err != nil {
		return "", err
	}
	for _, b := range branches {
		if b.IsDefault && b.ID != "" {
			defaultBranches.Lock()
			if len(defaultBranches.m) >= defaultBranchesMaxLen {
				// Entries are cheap to refill; dropping all keeps this simple and bounded.
				clear(defaultBranches.m)
			}
			defaultBranches.m[c.verifyKey] = string(b.ID)
			defaultBranches.Unlock()
			return string(b.ID), nil
		}
	}
	return "", errors.New("keboola: the project lists no default branch")
}

// storagePath prefixes a Storage resource path with branch/{id} when the
// client works on a development branch; on the default branch the plain
// path is the canonical one.
func (c *Client) storagePath(rest string) string {
	if c.branchID == "" {
		return "/v2/storage" + rest
	}
	return "/v2/storage/branch/" + c.branchID + rest
}

// branchPath always uses branch/{id|default}/…, for resources documented only there.
func (c *Client) branchPath(rest string) string {
	return "/v2/storage/branch/" + c.branchSegment() + rest
}

// Bucket is a Storage bucket.
type Bucket struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	DisplayName    string        `json:"displayName"`
	Stage          string        `json:"stage"`
	Description    string        `json:"description"`
	Backend        string        `json:"backend"`
	Created        Time          `json:"created"`
	LastChangeDate Time          `json:"lastChangeDate"`
	DataSizeBytes  int64         `json:"dataSizeBytes"`
	RowsCount      int64         `json:"rowsCount"`
	IsReadOnly     bool          `json:"isReadOnly"`
	Metadata       Metadata      `json:"metadata"`
	SourceBucket   *SourceBucket `json:"sourceBucket,omitempty"`
	BackendPath    []string      `json:"backendPath"`
}

// SourceBucket is where a linked (shared) bucket comes from.
type SourceBucket struct {
	ID      string `json:"id"`
	Project struct {
		ID   FlexString `json:"id"`
		Name string     `json:"name"`
	} `json:"project"`
}

// DescriptionText returns the user description (KBC.description metadata), falling back to the description field.
func (b Bucket) DescriptionText() string {
	return b.Metadata.descriptionOr(b.Description)
}

// ListBuckets returns every bucket the client's branch sees (Keboola does
// not page this list; see storageList for the branch models).
func (c *Client) ListBuckets(ctx context.Context) ([]Bucket, error) {
	return storageList(ctx, c, "/buckets", url.Values{"include": {"metadata,linkedBuckets"}},
		func(b Bucket) string { return b.ID }, func(b Bucket) Metadata { return b.Metadata })
}

// GetBucket returns one bucket; a missing one matches ErrNotFound.
func (c *Client) GetBucket(ctx context.Context, bucketID string) (*Bucket, error) {
	if err := checkBucketID(bucketID); err != nil {
		return nil, err
	}
	var out Bucket
	if err := c.storageReadJSON(ctx, request{method: "GET", path: "/buckets/" + url.PathEscape(bucketID),
		query: url.Values{"include": {"metadata"}}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Table is a Storage table.
type Table struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	DisplayName    string            `json:"displayName"`
	PrimaryKey     []string          `json:"primaryKey"`
	Columns        []string          `json:"columns"`
	RowsCount      int64             `json:"rowsCount"`
	DataSizeBytes  int64             `json:"dataSizeBytes"`
	Created        Time              `json:"created"`
	LastImportDate Time              `json:"lastImportDate"`
	LastChangeDate Time              `json:"lastChangeDate"`
	IsAlias        bool              `json:"isAlias"`
	SourceTable    *TableRef         `json:"sourceTable,omitempty"`
	Bucket         Bucket            `json:"bucket"`
	Metadata       Metadata          `json:"metadata"`
	ColumnMetadata FlexMap[Metadata] `json:"columnMetadata"`
	Definition     *TableDefinition  `json:"definition,omitempty"`
}

// TableRef points at another table (the source of an alias).
type TableRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TableDefinition is the typed-table schema.
type TableDefinition struct {
	PrimaryKeysNames []string `json:"primaryKeysNames"`
	Columns          []struct {
		Name       string `json:"name"`
		Definition struct {
			Type     string     `json:"type"`
			Nullable bool       `json:"nullable"`
			Length   FlexString `json:"length"`
		} `json:"definition"`
		BaseType string `json:"basetype"`
	} `json:"columns"`
}

// ListTables returns the tables of a bucket with columns and metadata.
func (c *Client) ListTables(ctx context.Context, bucketID string) ([]Table, error) {
	if err := checkBucketID(bucketID); err != nil {
		return nil, err
	}
	return storageList(ctx, c, "/buckets/"+url.PathEscape(bucketID)+"/tables", url.Values{"include": {"columns,metadata,columnMetadata"}},
		tableID, tableMetadata)
}

// GetTable returns one table with columns, metadata and its bucket.
func (c *Client) GetTable(ctx context.Context, tableID string) (*Table, error) {
	if err := checkTableID(tableID); err != nil {
		return nil, err
	}
	var out Table
	if err := c.storageReadJSON(ctx, request{method: "GET", path: "/tables/" + url.PathEscape(tableID)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func tableID(t Table) string         { return t.ID }
func tableMetadata(t Table) Metadata { return t.Metadata }

// PreviewOptions narrow a data preview.
type PreviewOptions struct {
	// Limit is the number of rows, 1..1000; zero means 100.
	Limit   int
	Columns []string
	Where   []WhereFilter
	OrderBy []OrderBy
}

// WhereFilter keeps rows whose column compares to one of Values.
type WhereFilter struct {
	Column string
	// Operator is eq, ne, gt, ge, lt or le; empty means eq.
	Operator string
	Values   []string
}

// OrderBy sorts a preview by a column.
type OrderBy struct {
	Column string
	// Descending sorts from the largest value.
	Descending bool
}

// TablePreview is the first rows of a table, all values as text.
type TablePreview struct {
	Columns []string
	Rows    [][]string
}

const maxPreviewRows = 1000

var previewOperators = map[string]bool{"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true}

// PreviewTable returns up to 1000 rows of a table.
func (c *Client) PreviewTable(ctx context.Context, tableID string, opts PreviewOptions) (*TablePreview, error) {
	if err := checkTableID(tableID); err != nil {
		return nil, err
	}
	limit := opts.Limit
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > maxPreviewRows {
		return nil, fmt.Errorf("keboola: preview limit must be between 1 and %d, got %d", maxPreviewRows, opts.Limit)
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}, "format": {"rfc"}}
	if len(opts.Columns) > 0 {
		q.Set("columns", strings.Join(opts.Columns, ","))
	}
	for i, w := range opts.Where {
		op := w.Operator
		if op == "" {
			op = "eq"
		}
		if w.Column == "" || !previewOperators[op] || len(w.Values) == 0 {
			return nil, fmt.Errorf("keboola: filter %d needs a column, an operator (eq, ne, gt, ge, lt, le) and at least one value", i)
		}
		p := fmt.Sprintf("whereFilters[%d]", i)
		q.Set(p+"[column]", w.Column)
		q.Set(p+"[operator]", op)
		for j, v := range w.Values {
			q.Set(fmt.Sprintf("%s[values][%d]", p, j), v)
		}
	}
	for i, o := range opts.OrderBy {
		if o.Column == "" {
			return nil, fmt.Errorf("keboola: order %d needs a column", i)
		}
		q.Set(fmt.Sprintf("orderBy[%d][column]", i), o.Column)
		order := "ASC"
		if o.Descending {
			order = "DESC"
		}
		q.Set(fmt.Sprintf("orderBy[%d][order]", i), order)
	}
	body, err := c.storageRead(ctx, request{method: "GET", path: "/tables/" + url.PathEscape(tableID) + "/data-preview",
		query: q, accept: "text/csv"})
	if err != nil {
		return nil, err
	}
	return parsePreviewCSV(body)
}

func parsePreviewCSV(body []byte) (*TablePreview, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("keboola: the data preview is not valid CSV: %w", err)
	}
	p := &TablePreview{}
	if len(records) == 0 {
		return p, nil
	}
	p.Columns, p.Rows = records[0], records[1:]
	return p, nil
}

// MetadataInput is one key/value to write.
type MetadataInput struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// userProvider is the provider of metadata a person (via the tools) writes.
const userProvider = "user"

func checkMetadata(items []MetadataInput) error {
	for _, m := range items {
		if strings.TrimSpace(m.Key) == "" {
			return errors.New("keboola: metadata key must not be empty")
		}
	}
	return nil
}

// SetBucketMetadata writes user metadata on a bucket and returns the bucket's
// full metadata list. Metadata is written unbranched on any branch, as the
// Python server does: a branch path holds no bucket on most projects.
func (c *Client) SetBucketMetadata(ctx context.Context, bucketID string, items []MetadataInput) (Metadata, error) {
	if err := checkBucketID(bucketID); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errors.New("keboola: no metadata to write")
	}
	if err := checkMetadata(items); err != nil {
		return nil, err
	}
	var out Metadata
	err := c.doJSON(ctx, request{method: "POST", path: "/v2/storage/buckets/" + url.PathEscape(bucketID) + "/metadata",
		body: map[string]any{"provider": userProvider, "metadata": items}, idempotent: true}, &out)
	return out, err
}

// TableMetadata is the metadata of a table and of its columns.
type TableMetadata struct {
	Metadata        Metadata          `json:"metadata"`
	ColumnsMetadata FlexMap[Metadata] `json:"columnsMetadata"`
}

// SetTableMetadata writes user metadata on a table and/or its columns,
// unbranched like SetBucketMetadata.
func (c *Client) SetTableMetadata(ctx context.Context, tableID string, table []MetadataInput, columns map[string][]MetadataInput) (*TableMetadata, error) {
	if err := checkTableID(tableID); err != nil {
		return nil, err
	}
	if len(table) == 0 && len(columns) == 0 {
		return nil, errors.New("keboola: no metadata to write")
	}
	if err := checkMetadata(table); err != nil {
		return nil, err
	}
	body := map[string]any{"provider": userProvider}
	if len(table) > 0 {
		body["metadata"] = table
	}
	if len(columns) > 0 {
		type colItem struct {
			MetadataInput
			ColumnName string `json:"columnName"`
		}
		cm := make(map[string][]colItem, len(columns))
		for col, items := range columns {
			if strings.TrimSpace(col) == "" {
				return nil, errors.New("keboola: column name must not be empty")
			}
			if err := checkMetadata(items); err != nil {
				return nil, err
			}
			for _, it := range items {
				cm[col] = append(cm[col], colItem{it, col})
			}
		}
		body["columnsMetadata"] = cm
	}
	var out TableMetadata
	if err := c.doJSON(ctx, request{method: "POST", path: "/v2/storage/tables/" + url.PathEscape(tableID) + "/metadata",
		body: body, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// BranchMetadata returns the metadata of the client's branch (the project
// description lives here on the default branch).
func (c *Client) BranchMetadata(ctx context.Context) (Metadata, error) {
	var out Metadata
	err := c.doJSON(ctx, request{method: "GET", path: c.branchPath("/metadata")}, &out)
	return out, err
}

// SetBranchMetadata writes metadata on the client's branch and returns the full list.
func (c *Client) SetBranchMetadata(ctx context.Context, items []MetadataInput) (Metadata, error) {
	if len(items) == 0 {
		return nil, errors.New("keboola: no metadata to write")
	}
	if err := checkMetadata(items); err != nil {
		return nil, err
	}
	var out Metadata
	err := c.doJSON(ctx, request{method: "POST", path: c.branchPath("/metadata"),
		body: map[string]any{"metadata": items}, idempotent: true}, &out)
	return out, err
}

// checkBucketID accepts stage.c-name ids (two dot-separated parts).
func checkBucketID(id string) error {
	if parts := strings.Split(id, "."); len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return fmt.Errorf("keboola: %q is not a bucket id (expected stage.name, e.g. in.c-main)", id)
	}
	return nil
}

// checkTableID accepts bucket.table ids (three dot-separated parts).
func checkTableID(id string) error {
	if parts := strings.SplitN(id, ".", 3); len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return fmt.Errorf("keboola: %q is not a table id (expected stage.bucket.table, e.g. in.c-main.customers)", id)
	}
	return nil
}

// checkID rejects empty ids and ids that would change the path.
// pageParams checks the paging of a listing (a zero limit means def) and
// returns it as query parameters.
func pageParams(what string, limit, offset, def, maxLimit int) (url.Values, error) {
	n := limit
	if n == 0 {
		n = def
	}
	if n < 1 || n > maxLimit || offset < 0 {
		return nil, fmt.Errorf("keboola: %s limit must be 1..%d and offset not negative (got %d, %d)", what, maxLimit, limit, offset)
	}
	return url.Values{"limit": {strconv.Itoa(n)}, "offset": {strconv.Itoa(offset)}}, nil
}

func checkID(what, id string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("keboola: %s is required", what)
	}
	if strings.ContainsAny(id, "/?#") || id == "." || id == ".." {
		return fmt.Errorf("keboola: %s %q contains characters not allowed in an id", what, id)
	}
	return nil
}
