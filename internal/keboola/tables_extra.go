package keboola

import (
	"context"
	"net/url"
)

// ListAllTables returns every table of the project in one request, with
// columns and table metadata (not column metadata, which would make the
// answer of a large project several times bigger). The search tool uses it
// instead of one ListTables call per bucket.
func (c *Client) ListAllTables(ctx context.Context) ([]Table, error) {
	return storageList(ctx, c, "/tables", url.Values{"include": {"columns,metadata"}}, tableID, tableMetadata)
}
