package keboola_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// These tests pin what a real Keboola project needs beyond what a friendly
// fake would let pass (issue 10). Each names the evidence it models.


// Evidence: the Python server pages query results 1,000 rows at a time
// (workspace.py, _PAGE_SIZE = 1_000); larger pages of wide tables are what
// time out on real stacks.
func TestReal_QueryResultsComeInPagesOf1000Rows(t *testing.T) {
	fs, c := newFake(t)
	ctx := ctxFor(t)
	ws := try(c.CreateWorkspace(ctx, keboola.WorkspaceRequest{Backend: "snowflake"})).must(t)
	tb := try(c.GetTable(ctx, "in.c-crm.orders")).must(t)
	if tb.RowsCount < 2500 {
		t.Fatalf("the demo orders table has %d rows; the test needs at least 2,500", tb.RowsCount)
	}
	name := try(tb.SQLName("snowflake")).must(t)
	res := try(c.RunQuery(ctx, string(ws.ID), "SELECT * FROM "+name, keboola.QueryOptions{MaxRows: 2500, PollInterval: 5 * time.Millisecond})).must(t)
	if len(res.Rows) != 2500 {
		t.Fatalf("got %d rows, want 2500", len(res.Rows))
	}
	var sizes []int
	for _, r := range fs.Requests() {
		if r.Service != "query" || !strings.HasSuffix(r.Path, "/results") || !strings.Contains(r.Path, res.QueryJobID) {
			continue
		}
		q, _ := url.ParseQuery(r.Query)
		n, _ := strconv.Atoi(q.Get("pageSize"))
		sizes = append(sizes, n)
	}
	if len(sizes) != 3 || sizes[0] != 1000 || sizes[1] != 1000 || sizes[2] != 500 {
		t.Errorf("result pages requested with pageSize %v, want [1000 1000 500]", sizes)
	}
}
