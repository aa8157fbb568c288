package tools

import (
	"strings"
	"testing"
)

func TestGetBuckets(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "get_buckets", []expect{
		{name: "lists all with counts", contains: []string{"4 buckets (3 input, 1 output)", "id,name,stage,description",
			"in.c-crm,", "out.c-reports,", "/admin/projects/1234/storage"}},
		{name: "pages", args: map[string]any{"limit": 2}, contains: []string{"Showing 1–2 of 4", "offset=2"}, absent: []string{"out.c-reports"}},
		{name: "second page", args: map[string]any{"limit": 2, "offset": 2}, contains: []string{"Showing 3–4 of 4", "out.c-reports"}, absent: []string{"in.c-crm,"}},
		{name: "details", args: map[string]any{"bucket_ids": []string{"in.c-crm"}},
			contains: []string{"Bucket: in.c-crm", "Description: Customers and orders", "Link: ", "/storage/in.c-crm"}},
		{name: "details with one unknown", args: map[string]any{"bucket_ids": []string{"in.c-crm", "in.c-nope"}},
			contains: []string{"Bucket: in.c-crm", "Not found: in.c-nope"}},
		{name: "unknown bucket", args: map[string]any{"bucket_ids": []string{"in.c-nope"}}, isError: true,
			contains: []string{"in.c-nope", "get_buckets"}},
		{name: "limit out of range is a schema error", args: map[string]any{"limit": 0}, isError: true},
		{name: "wrong type is a schema error", args: map[string]any{"bucket_ids": "in.c-crm"}, isError: true},
	})
}

func TestGetTables(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "get_tables", []expect{
		// The Python server's include_usage: where the tables are read or written.
		{name: "include_usage lists the configurations mapping the table", args: map[string]any{"table_ids": []string{"in.c-crm.orders"}, "include_usage": true},
			contains: []string{"Where these tables are used", "transformation,keboola.snowflake-transformation/7410010,Revenue reports,configuration.storage"}},
		{name: "without include_usage no usage", args: map[string]any{"table_ids": []string{"in.c-crm.orders"}},
			absent: []string{"Where these tables are used"}},
		{name: "needs a filter", isError: true, contains: []string{"bucket_ids", "table_ids"}},
		{name: "lists a bucket", args: map[string]any{"bucket_ids": []string{"in.c-crm"}},
			contains: []string{"2 tables", "id,name,rows,primary_key,description", "in.c-crm.customers,", "in.c-crm.orders,"}},
		{name: "details with SQL name and typed columns", args: map[string]any{"table_ids": []string{"in.c-crm.customers"}},
			contains: []string{"Table: in.c-crm.customers", `SQL name: "KEBOOLA_1234"."in.c-crm"."customers"`,
				"Columns:", "name,type,nullable,description", "customer_id,INTEGER,false,Customer account id."},
			absent: []string{",null,", ",null\n"}},
		{name: "unknown table", args: map[string]any{"table_ids": []string{"in.c-crm.nope"}}, isError: true,
			contains: []string{"in.c-crm.nope", "get_tables"}},
		{name: "unknown bucket", args: map[string]any{"bucket_ids": []string{"in.c-nope"}}, isError: true,
			contains: []string{"in.c-nope", "get_buckets"}},
	})
}

func TestUpdateDescriptions(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "update_descriptions", []expect{
		{name: "bucket, table and columns", args: map[string]any{"updates": []map[string]string{
			{"item_id": "in.c-web", "description": "Web analytics."},
			{"item_id": "in.c-web.sessions", "description": "One row per visit."},
			{"item_id": "in.c-web.sessions.session_id", "description": "Visit id."},
		}}, contains: []string{"3 of 3 descriptions updated", "in.c-web.sessions.session_id,updated"}},
		{name: "partial failure names the bad item", args: map[string]any{"updates": []map[string]string{
			{"item_id": "in.c-web", "description": "Web."},
			{"item_id": "in.c-nope.t", "description": "x"},
			{"item_id": "bad", "description": "x"},
		}}, contains: []string{"1 of 3", "in.c-nope.t,not found", "bad,"}},
		{name: "all failing is an error", args: map[string]any{"updates": []map[string]string{{"item_id": "in.c-nope", "description": "x"}}},
			isError: true, contains: []string{"in.c-nope", "not found"}},
		{name: "no updates is a schema error", args: map[string]any{"updates": []any{}}, isError: true},
	})
	text, _ := f.call(t, "get_tables", map[string]any{"table_ids": []string{"in.c-web.sessions"}})
	for _, want := range []string{"Description: One row per visit.", "Visit id."} {
		if !strings.Contains(text, want) {
			t.Errorf("get_tables lacks %q after the update:\n%s", want, text)
		}
	}
}
