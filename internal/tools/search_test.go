package tools

import (
	"context"
	"fmt"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

func TestSearch(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.resetRequests()
	f.check(t, "search", []expect{
		{name: "finds buckets, tables and configurations", args: map[string]any{"patterns": []string{"CUSTOMER"}},
			contains: []string{"type,id,name,matched,link", "bucket,in.c-crm,", "table,in.c-crm.customers,", "configuration,keboola.ex-db-mysql/7410001,",
				// The table matches too; its matching column is still a hit (issue 13).
				"column,in.c-crm.customers.customer_id,customer_id,column name"}},
		{name: "finds columns of tables that do not match themselves", args: map[string]any{"patterns": []string{"email"}},
			contains: []string{"column,in.c-crm.customers.email,email,column name"}},
		{name: "narrows by type and links transformations to their section", args: map[string]any{"patterns": []string{"revenue"}, "item_types": []string{"transformation"}},
			contains: []string{"transformation,keboola.snowflake-transformation/7410010,Revenue reports,name,", "/transformations-v2/"},
			absent:   []string{"table,", "flow,"}},
		{name: "types flows as flows with their flow page", args: map[string]any{"patterns": []string{"pipeline"}, "item_types": []string{"flow"}},
			contains: []string{"flow,keboola.orchestrator/7410030,Daily revenue pipeline,name,", "/flows/7410030"}},
		{name: "finds configuration rows under their configuration", args: map[string]any{"patterns": []string{"forecast"}, "item_types": []string{"configuration-row"}},
			contains: []string{"configuration-row,keboola.wr-google-sheets/7410021/7410021001,Forecast,name,", "/components/keboola.wr-google-sheets/7410021"},
			absent:   []string{"configuration,keboola.wr-google-sheets/7410021,"}},
		{name: "literal mode takes regex characters as text", args: map[string]any{"patterns": []string{"daily.*pipeline"}, "item_types": []string{"flow"}},
			contains: []string{"Nothing matches"}},
		{name: "regex mode matches expressions", args: map[string]any{"patterns": []string{"^daily .*pipeline$"}, "mode": "regex", "item_types": []string{"flow"}},
			contains: []string{"flow,keboola.orchestrator/7410030,"}},
		{name: "case-sensitive literal misses other casing", args: map[string]any{"patterns": []string{"daily revenue pipeline"}, "case_sensitive": true, "item_types": []string{"flow"}},
			contains: []string{"Nothing matches"}},
		{name: "case-sensitive literal finds exact casing", args: map[string]any{"patterns": []string{"Daily revenue pipeline"}, "case_sensitive": true, "item_types": []string{"flow"}},
			contains: []string{"flow,keboola.orchestrator/7410030,"}},
		{name: "case-sensitive regex", args: map[string]any{"patterns": []string{"^daily"}, "mode": "regex", "case_sensitive": true, "item_types": []string{"flow"}},
			contains: []string{"Nothing matches"}},
		{name: "bad regex names the pattern and the way out", args: map[string]any{"patterns": []string{"(unclosed"}, "mode": "regex"},
			isError: true, contains: []string{`pattern "(unclosed" is not a valid regular expression`, "mode=literal"}},
		{name: "unknown mode is a schema error", args: map[string]any{"patterns": []string{"x"}, "mode": "glob"}, isError: true},
		{name: "config-based finds where a table is read", args: map[string]any{"patterns": []string{"in.c-crm.orders"}, "search_type": "config-based"},
			contains: []string{"transformation,keboola.snowflake-transformation/7410010,Revenue reports,configuration,",
				"configuration-row,keboola.ex-db-mysql/7410001/7410001002,orders,configuration,"},
			absent: []string{"table,", "bucket,"}},
		{name: "config-based finds the flows that run a configuration", args: map[string]any{"patterns": []string{"7410010"}, "search_type": "config-based", "item_types": []string{"flow"}},
			contains: []string{"flow,keboola.orchestrator/7410030,Daily revenue pipeline,configuration,"}},
		{name: "scopes narrow config-based search and name the path", args: map[string]any{"patterns": []string{"in.c-crm.orders"},
			"search_type": "config-based", "scopes": []string{"storage.output", "storage.input"}},
			contains: []string{"transformation,keboola.snowflake-transformation/7410010,Revenue reports,configuration.storage.input,"},
			absent:   []string{"configuration-row,"}},
		{name: "a scope on a string value matches the text itself", args: map[string]any{"patterns": []string{`^in\.c-crm\.orders$`}, "mode": "regex",
			"search_type": "config-based", "scopes": []string{"parameters.outputTable"}},
			contains: []string{"configuration-row,keboola.ex-db-mysql/7410001/7410001002,orders,configuration.parameters.outputTable,"}},
		{name: "a scope that matches nothing", args: map[string]any{"patterns": []string{"in.c-crm.orders"},
			"search_type": "config-based", "scopes": []string{"storage.output"}}, contains: []string{"Nothing matches"}},
		{name: "config-based ignores names", args: map[string]any{"patterns": []string{"Daily revenue pipeline"}, "search_type": "config-based"},
			contains: []string{"Nothing matches"}},
		{name: "scopes need config-based", args: map[string]any{"patterns": []string{"x"}, "scopes": []string{"parameters"}},
			isError: true, contains: []string{"search_type=config-based"}},
		{name: "scope with an empty step", args: map[string]any{"patterns": []string{"x"}, "search_type": "config-based", "scopes": []string{"storage..input"}},
			isError: true, contains: []string{`scope "storage..input" has an empty step`}},
		{name: "config-based on tables only is refused", args: map[string]any{"patterns": []string{"x"}, "search_type": "config-based", "item_types": []string{"table"}},
			isError: true, contains: []string{"have no configuration"}},
		{name: "pages", args: map[string]any{"patterns": []string{"c"}, "limit": 2}, contains: []string{"Showing 1–2 of", "offset=2"}},
		{name: "no match", args: map[string]any{"patterns": []string{"zebra-unicorn"}}, contains: []string{"Nothing matches zebra-unicorn"}},
		{name: "blank patterns", args: map[string]any{"patterns": []string{" "}}, isError: true, contains: []string{"patterns"}},
		{name: "no patterns is a schema error", args: map[string]any{"patterns": []string{}}, isError: true},
	})
	if n := f.requests("GET", "/buckets"); n > 4 {
		t.Errorf("search listed buckets %d times; it should list once per call at most, and only when buckets or tables are wanted", n)
	}
}

func TestSearch_ConfigurationKindsNeedOneComponentsListing(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.resetRequests()
	text, isErr := f.call(t, "search", map[string]any{"patterns": []string{"revenue"},
		"item_types": []string{"configuration", "configuration-row", "transformation", "flow", "data-app"}})
	if isErr {
		t.Fatal(text)
	}
	if n := f.requests("GET", "/components"); n != 1 {
		t.Errorf("listed components %d times, want once for all configuration-like kinds", n)
	}
	if n := f.requests("GET", "/buckets"); n != 0 {
		t.Errorf("listed buckets or tables %d times for configuration-like kinds only, want none", n)
	}
}

func TestSearch_FindsDataAppsAndConditionalFlows(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	ctx := context.Background()
	app, err := f.client.CreateConfig(ctx, keboola.DataAppComponentID, keboola.ConfigInput{Name: "Churn explorer", Configuration: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	flow, err := f.client.CreateConfig(ctx, keboola.ConditionalFlowComponentID, keboola.ConfigInput{Name: "Churn nightly", Configuration: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	f.check(t, "search", []expect{
		{name: "data app typed and linked", args: map[string]any{"patterns": []string{"churn"}},
			contains: []string{"data-app,keboola.data-apps/" + app.ID.String() + ",Churn explorer,name,", "/data-apps/" + app.ID.String(),
				"flow,keboola.flow/" + flow.ID.String() + ",Churn nightly,name,", "/flows-v2/" + flow.ID.String()}},
		{name: "data apps only", args: map[string]any{"patterns": []string{"churn"}, "item_types": []string{"data-app"}},
			contains: []string{"data-app,"}, absent: []string{"flow,"}},
	})
}

// BenchmarkConfigHits measures matching over a large project's components
// listing (2,000 configurations with two rows each), textual and
// config-based with a scope; the listing request itself is not included.
func BenchmarkConfigHits(b *testing.B) {
	var comps []keboola.Component
	for c := range 20 {
		comp := keboola.Component{ID: fmt.Sprintf("keboola.ex-%d", c), Type: "extractor"}
		for i := range 100 {
			body := keboola.RawObject(fmt.Sprintf(`{"parameters":{"db":{"host":"db-%d.example.com"}},"storage":{"input":{"tables":[{"source":"in.c-b%d.t%d"}]}}}`, i, c, i))
			cfg := keboola.Config{ID: keboola.FlexString(fmt.Sprint(c*1000 + i)), Name: fmt.Sprintf("Config %d of %d", i, c), Description: "Loads the nightly export", Configuration: body}
			for r := range 2 {
				cfg.Rows = append(cfg.Rows, keboola.ConfigRow{ID: keboola.FlexString(fmt.Sprint(r)), Name: fmt.Sprintf("row %d", r), Configuration: body})
			}
			comp.Configurations = append(comp.Configurations, cfg)
		}
		comps = append(comps, comp)
	}
	u, err := keboola.NewLinks("https://connection.keboola.com", "1")
	if err != nil {
		b.Fatal(err)
	}
	m, err := newMatcher([]string{"in.c-b7.t42"}, modeLiteral, false)
	if err != nil {
		b.Fatal(err)
	}
	all := func(...string) bool { return true }
	for _, bc := range []struct {
		name  string
		match itemMatch
	}{
		{"textual", textMatch(m)},
		{"config-based", configMatch(m, nil)},
		{"config-based scoped", configMatch(m, [][]string{{"storage", "input"}})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				configHits(bc.match, comps, u, all)
			}
		})
	}
}
