package tools

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// demoSemantic returns the ids of the demo semantic objects by name.
func demoSemantic(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, typ := range semanticTypes {
		objs, err := listSemantic(context.Background(), f.client, typ, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			out[o.name] = o.id
		}
	}
	if out["Retail sales"] == "" || out["Revenue"] == "" || out["Orders"] == "" {
		t.Fatalf("demo semantic objects missing: %v", out)
	}
	return out
}

const demoOrders = `"KEBOOLA_1234"."in.c-crm"."orders"`

func TestGetSemanticContext(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	ids := demoSemantic(t, f)
	f.check(t, "get_semantic_context", []expect{
		{name: "lists models", args: map[string]any{"semantic_objects": []map[string]any{{"object_type": "semantic-model"}}},
			contains: []string{"semantic-model: 1 object\n", "id,name,sql_dialect,description", ids["Retail sales"] + ",Retail sales,snowflake"}},
		{name: "lists datasets and metrics of a model", args: map[string]any{"semantic_model_ids": []string{ids["Retail sales"]},
			"semantic_objects": []map[string]any{{"object_type": "semantic-dataset"}, {"object_type": "semantic-metric"}}},
			contains: []string{"semantic-dataset: 2 objects", "in.c-crm.orders", "semantic-metric: 2 objects", `"SUM(""total_usd"")"`}},
		{name: "other models hide everything", args: map[string]any{"semantic_model_ids": []string{"nope"},
			"semantic_objects": []map[string]any{{"object_type": "semantic-metric"}}}, contains: []string{"semantic-metric: 0 objects"}},
		{name: "objects in full", args: map[string]any{"semantic_objects": []map[string]any{{"object_type": "semantic-constraint", "ids": []string{ids["Revenue with order count"]}}}},
			contains: []string{`semantic-constraint ` + ids["Revenue with order count"] + ` "Revenue with order count"`, `"constraintType":"composition"`, `"remediation"`}},
		{name: "unknown id", args: map[string]any{"semantic_objects": []map[string]any{{"object_type": "semantic-metric", "ids": []string{ids["Orders"]}}}},
			isError: true, contains: []string{"search_semantic_context"}},
		{name: "unknown type is a schema error", args: map[string]any{"semantic_objects": []map[string]any{{"object_type": "robot"}}}, isError: true},
		{name: "empty selection is a schema error", args: map[string]any{"semantic_objects": []map[string]any{}}, isError: true},
	})
}

func TestGetSemanticSchema(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "get_semantic_schema", []expect{
		{name: "returns schemas", args: map[string]any{"semantic_types": []string{"semantic-metric", "semantic-constraint"}},
			contains: []string{"semantic-metric schema:", `"sql":{"type":"string"}`, "semantic-constraint schema:", "composition"}},
		{name: "unknown type is a schema error", args: map[string]any{"semantic_types": []string{"robot"}}, isError: true},
	})
}

func TestSearchSemanticContext(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	ids := demoSemantic(t, f)
	f.check(t, "search_semantic_context", []expect{
		{name: "finds by name and attribute", args: map[string]any{"patterns": []string{"REVENUE"}},
			contains: []string{"model_id,object_type,id,name,matched_paths", ids["Retail sales"] + ",semantic-metric," + ids["Revenue"] + ",Revenue,name description",
				"semantic-glossary," + ids["Net revenue"]}},
		{name: "case sensitive", args: map[string]any{"patterns": []string{"REVENUE"}, "case_sensitive": true}, contains: []string{"No semantic object matches"}},
		{name: "by type and table id", args: map[string]any{"patterns": []string{`in\.c-crm\.customers`}, "semantic_types": []string{"semantic-relationship"}},
			contains: []string{"Orders to customers,to"}, absent: []string{"semantic-dataset"}},
		{name: "nested paths", args: map[string]any{"patterns": []string{"^sales$"}, "semantic_types": []string{"semantic-glossary"}},
			contains: []string{"synonyms[0]"}},
		{name: "caps results", args: map[string]any{"patterns": []string{"."}, "max_results": 2}, contains: []string{"Stopped at max_results=2"}},
		{name: "bad regex", args: map[string]any{"patterns": []string{"(unclosed"}}, isError: true, contains: []string{"(unclosed"}},
		{name: "no patterns is a schema error", args: map[string]any{"patterns": []string{}}, isError: true},
	})
}

func TestValidateSemanticQuery(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	ids := demoSemantic(t, f)
	model := []string{ids["Retail sales"]}
	revenueOnly := `SELECT SUM("total_usd") FROM ` + demoOrders + ` WHERE "status" = 'completed'`
	full := `SELECT o."order_date", SUM(o."total_usd"), COUNT(DISTINCT o."order_id") FROM "in.c-crm"."orders" o ` +
		`JOIN ` + strings.ReplaceAll(demoOrders, "orders", "customers") + ` c ON o."customer_id" = c."customer_id" GROUP BY 1`
	f.check(t, "validate_semantic_query", []expect{
		{name: "breaks a composition rule", args: map[string]any{"sql_query": revenueOnly, "semantic_model_ids": model},
			contains: []string{"Valid: no", "Revenue,in.c-crm.orders", "missing_metrics", "Revenue must be reported together with the order count.",
				"Remediation:", "pre_query_check", "Checks to run on the result:", `WHERE ""total_usd"" < 0`}},
		{name: "uses metrics, join and short table names", args: map[string]any{"sql_query": full, "semantic_model_ids": model},
			contains: []string{"Valid: yes", "Orders,in.c-crm.orders", "Customers,in.c-crm.customers", "Order count", "Relationships:", "Orders to customers"},
			absent:   []string{"missing_metrics"}},
		{name: "unknown tables", args: map[string]any{"sql_query": "SELECT 1", "semantic_model_ids": model},
			contains: []string{"Valid: yes", "No dataset of these models was recognised"}},
		{name: "compares with expectations", args: map[string]any{"sql_query": revenueOnly, "semantic_model_ids": model,
			"expected_semantic_objects": []map[string]any{{"object_type": "semantic-metric", "ids": []string{ids["Revenue"], ids["Order count"]}}, {"object_type": "semantic-relationship"}}},
			contains: []string{"Used as expected:\nobject_type,id,name\nsemantic-metric," + ids["Revenue"], "Expected but not found in the SQL:",
				"semantic-relationship,(any)", "semantic-metric," + ids["Order count"] + ",Order count",
				"Valid: no\nThe SQL does not use every expected object"},
			absent: []string{"Valid: yes", "No dataset of these models was recognised"}},
		// One verdict, and no "no dataset recognised" after listing the
		// datasets the SQL uses (issue 13).
		{name: "meets its expectations", args: map[string]any{"sql_query": full, "semantic_model_ids": model,
			"expected_semantic_objects": []map[string]any{{"object_type": "semantic-metric", "ids": []string{ids["Revenue"], ids["Order count"]}}}},
			contains: []string{"Valid: yes", "Orders,in.c-crm.orders", "Customers,in.c-crm.customers", "The query uses exactly the expected objects.",
				// A rule to confirm is not a violation of a valid query.
				"Rules to confirm the SQL follows before running:\nconstraint_id,name,severity,status,message,validation_query\n" + ids["Completed orders only"]},
			absent: []string{"Valid: no", "No dataset of these models was recognised", "Expected but not found", "Violations"}},
		{name: "expected object of another type", args: map[string]any{"sql_query": revenueOnly, "semantic_model_ids": model,
			"expected_semantic_objects": []map[string]any{{"object_type": "semantic-metric", "ids": []string{ids["Orders"]}}}},
			isError: true, contains: []string{"not found", "search_semantic_context"}},
		{name: "unknown model", args: map[string]any{"sql_query": revenueOnly, "semantic_model_ids": []string{"nope"}}, isError: true,
			contains: []string{"semantic model nope not found"}},
		{name: "empty SQL", args: map[string]any{"sql_query": " ", "semantic_model_ids": model}, isError: true, contains: []string{"sql_query"}},
	})
}

func TestJoinColumns(t *testing.T) {
	t.Parallel()
	for on, want := range map[string]string{
		`orders."customer_id" = customers."customer_id"`:            "customer_id",
		`f.FK_COL = d.PK_COL AND d.kind = 'AVG'`:                    "FK_COL PK_COL kind",
		`"db"."schema"."t"."a" = b AND c IS NOT NULL`:               "a b c",
		`lower(x.email) = lower(y.email) and x.day between 1 and 2`: "email day",
	} {
		if got := strings.Join(joinColumns(on), " "); got != want {
			t.Errorf("joinColumns(%q) = %q, want %q", on, got, want)
		}
	}
}

// semFixture builds a semantic object for the pure-function tests.
func semFixture(typ, id, name string, attrs map[string]any) *semObj {
	o := &semObj{typ: typ, id: id, name: name, attrs: attrs}
	if o.attrs == nil {
		o.attrs = map[string]any{}
	}
	return o
}

func TestValidation_RulesStayWithinTheirModel(t *testing.T) {
	t.Parallel()
	a := &modelContext{model: semFixture(semModel, "A", "Sales", map[string]any{"sql_dialect": "snowflake"})}
	a.datasets = []*semObj{semFixture(semDataset, "d1", "Orders", map[string]any{"tableId": "t.orders", "fqn": `"db"."t"."orders"`, "modelUUID": "A"})}
	a.metrics = []*semObj{
		semFixture(semMetric, "m1", "Gross", map[string]any{"sql": "SUM(gross)", "dataset": "t.orders", "modelUUID": "A"}),
		semFixture(semMetric, "m2", "Net", map[string]any{"sql": "SUM(net)", "dataset": "t.orders", "modelUUID": "A"}),
	}
	a.ruleSets = []*semObj{semFixture(semConstraint, "c1", "Gross or net", map[string]any{"constraintType": "exclusion", "severity": "warning", "metrics": []any{"Gross", "Net"}, "modelUUID": "A"})}
	b := &modelContext{model: semFixture(semModel, "B", "Web", map[string]any{"sql_dialect": "bigquery"})}
	// A rule of model B naming a metric called like one of model A must not
	// judge queries over model A.
	b.ruleSets = []*semObj{semFixture(semConstraint, "c2", "Gross with sessions", map[string]any{"constraintType": "composition", "metrics": []any{"Gross", "Sessions"}, "modelUUID": "B"})}

	cases := []struct {
		name, sql     string
		want, notWant []string
	}{
		{"mixing excluded metrics", `SELECT SUM(gross), SUM(net) FROM "t"."orders"`,
			[]string{"Valid: yes", "excluded_combination", "Warning: the models use different SQL dialects"}, []string{"missing_metrics"}},
		{"one of them is fine", `SELECT SUM(gross) FROM "db"."t"."orders"`,
			[]string{"Valid: yes", "m1,Gross", "No rule applies"}, []string{"excluded_combination", "m2,Net", "missing_metrics"}},
		{"metrics count only with their dataset", `SELECT SUM(gross), SUM(net) FROM other`,
			[]string{"Valid: yes", "No dataset of these models was recognised"}, []string{"excluded_combination", "Metrics:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctxs := []*modelContext{a, b}
			var out strings.Builder
			u := detectUsage(tc.sql, ctxs)
			writeValidation(&out, ctxs, u, len(u.datasets) > 0, false)
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("has %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func BenchmarkDetectUsage(b *testing.B) {
	mc := &modelContext{model: semFixture(semModel, "M", "Big", nil)}
	for i := range 500 {
		table := fmt.Sprintf("in.c-b.t%d", i)
		mc.datasets = append(mc.datasets, semFixture(semDataset, fmt.Sprint("d", i), table, map[string]any{"tableId": table, "fqn": fmt.Sprintf(`"DB"."in.c-b"."t%d"`, i), "modelUUID": "M"}))
		mc.metrics = append(mc.metrics, semFixture(semMetric, fmt.Sprint("m", i), fmt.Sprint("metric", i), map[string]any{"sql": fmt.Sprintf(`SUM("c%d")`, i), "dataset": table, "modelUUID": "M"}))
	}
	sql := `SELECT SUM("c7"), SUM("c8") FROM "DB"."in.c-b"."t7" JOIN "DB"."in.c-b"."t8" ON a = b`
	ctxs := []*modelContext{mc}
	b.ReportAllocs()
	for b.Loop() {
		if u := detectUsage(sql, ctxs); len(u.datasets) != 2 || len(u.metrics) != 2 {
			b.Fatalf("detected %d datasets, %d metrics", len(u.datasets), len(u.metrics))
		}
	}
}
