package tools

import (
	"testing"
)

func TestSearch(t *testing.T) {
	f := readFixture(t)
	f.stack.ResetRequests()
	f.check(t, "search", []expect{
		{name: "finds buckets, tables and configurations", args: map[string]any{"patterns": []string{"CUSTOMER"}},
			contains: []string{"type,id,name,matched,link", "bucket,in.c-crm,", "table,in.c-crm.customers,", "configuration,keboola.ex-db-mysql/7410001,"}},
		{name: "finds columns of tables that do not match themselves", args: map[string]any{"patterns": []string{"email"}},
			contains: []string{"column,in.c-crm.customers.email,email,column name"}},
		{name: "narrows by type", args: map[string]any{"patterns": []string{"revenue"}, "item_types": []string{"transformation"}},
			contains: []string{"transformation,keboola.snowflake-transformation/7410010,Revenue reports,name"}, absent: []string{"table,"}},
		{name: "pages", args: map[string]any{"patterns": []string{"c"}, "limit": 2}, contains: []string{"Showing 1–2 of", "offset=2"}},
		{name: "no match", args: map[string]any{"patterns": []string{"zebra-unicorn"}}, contains: []string{"Nothing matches zebra-unicorn"}},
		{name: "blank patterns", args: map[string]any{"patterns": []string{" "}}, isError: true, contains: []string{"patterns"}},
		{name: "no patterns is a schema error", args: map[string]any{"patterns": []string{}}, isError: true},
	})
	if n := f.requests("GET", "/buckets"); n > 4 {
		t.Errorf("search listed buckets %d times in 6 calls; it should list once per call at most", n)
	}
}
