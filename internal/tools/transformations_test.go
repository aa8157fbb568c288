package tools

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

var createdTransformation = regexp.MustCompile(`Created SQL transformation (\d+) `)

func TestCreateSQLTransformation_StoresOneStatementPerItemAndOutputs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	text, isErr := f.call(t, "create_sql_transformation", map[string]any{"name": "Revenue by country!", "description": "Sums revenue per country.",
		"sql_code_blocks":     []any{map[string]any{"name": "Aggregate", "script": `CREATE TABLE "revenue_by_country" AS SELECT 'a;b' AS x; SELECT 2;`}},
		"created_table_names": []string{"revenue_by_country"}})
	if isErr {
		t.Fatal(text)
	}
	for _, want := range []string{"(keboola.snowflake-transformation, version 1)", "bucket out.c-revenue-by-country: revenue_by_country",
		`- b0 "Main": b0.c0 "Aggregate" (2 statements)`, "run_job", "/transformations-v2/keboola.snowflake-transformation/"} {
		if !strings.Contains(text, want) {
			t.Errorf("answer lacks %q:\n%s", want, text)
		}
	}
	m := createdTransformation.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no id in %q", text)
	}
	var body struct {
		Parameters struct {
			Blocks []struct {
				Codes []struct {
					Script []string `json:"script"`
				} `json:"codes"`
			} `json:"blocks"`
		} `json:"parameters"`
		Storage struct {
			Output struct {
				Tables []map[string]string `json:"tables"`
			} `json:"output"`
		} `json:"storage"`
	}
	if err := json.Unmarshal(storedConfig(t, f, "keboola.snowflake-transformation", m[1]).Configuration, &body); err != nil {
		t.Fatal(err)
	}
	if s := body.Parameters.Blocks[0].Codes[0].Script; len(s) != 2 || s[0] != `CREATE TABLE "revenue_by_country" AS SELECT 'a;b' AS x;` {
		t.Errorf("stored script = %q", s)
	}
	if md := configMetadata(t, f, "keboola.snowflake-transformation", m[1]); !strings.Contains(md, "KBC.MCP.createdBy") {
		t.Errorf("not marked as created through MCP: %s", md)
	}
	if o := body.Storage.Output.Tables; len(o) != 1 || o[0]["source"] != "revenue_by_country" || o[0]["destination"] != "out.c-revenue-by-country.revenue_by_country" {
		t.Errorf("stored output mapping = %v", o)
	}
}

func TestCreateSQLTransformation_WarnsAndRefuses(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	code := []any{map[string]any{"name": "A", "script": "SELECT 1;"}}
	f.check(t, "create_sql_transformation", []expect{
		{name: "an output the SQL never names", args: map[string]any{"name": "T", "description": "d", "sql_code_blocks": code, "created_table_names": []string{"ghost"}},
			contains: []string{"Warning: the SQL never names ghost"}},
		{name: "a qualified output name", args: map[string]any{"name": "T", "description": "d", "sql_code_blocks": code, "created_table_names": []string{"out.c-x.y"}},
			isError: true, contains: []string{`created_table_names[0] "out.c-x.y" must be a plain table name`}},
		{name: "a code without SQL", args: map[string]any{"name": "T", "description": "d", "sql_code_blocks": []any{map[string]any{"name": "A", "script": " -- "}}},
			isError: true, contains: []string{"sql_code_blocks[0] has no SQL"}},
		{name: "a code without name", args: map[string]any{"name": "T", "description": "d", "sql_code_blocks": []any{map[string]any{"name": "", "script": "SELECT 1;"}}},
			isError: true, contains: []string{"sql_code_blocks[0] needs a name"}},
		{name: "no code is a schema error", args: map[string]any{"name": "T", "description": "d", "sql_code_blocks": []any{}}, isError: true},
	})
}

func TestUpdateSQLTransformation_AppliesEditsInOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	text, isErr := f.call(t, "update_sql_transformation", map[string]any{"configuration_id": "7410010", "change_description": "Shipped orders, top list",
		"is_disabled": true,
		"parameter_updates": []any{
			map[string]any{"op": "rename_block", "block_id": "b0", "block_name": "Reporting"},
			map[string]any{"op": "str_replace", "code_id": "b0.c0", "search_for": "'completed'", "replace_with": "'shipped'"},
			map[string]any{"op": "add_code", "block_id": "b0", "code": map[string]any{"name": "Top", "script": `CREATE TABLE "top" AS SELECT 1;`}, "position": "start"},
			map[string]any{"op": "add_script", "code_id": "b0.c2", "script": "SELECT 3; SELECT 4;"},
			map[string]any{"op": "add_block", "block": map[string]any{"name": "Checks"}},
		}})
	if isErr {
		t.Fatal(text)
	}
	for _, want := range []string{`Updated SQL transformation 7410010 "Revenue reports"`, "renamed block b0", `replaced 1 occurrence(s) of "'completed'" in b0.c0`,
		`added code "Top" to block b0`, "added SQL to b0.c2", "disabled",
		`- b0 "Reporting": b0.c0 "Top" (1 statement), b0.c1 "Daily revenue" (1 statement), b0.c2 "Customer lifetime value" (3 statements)`, `- b1 "Checks": no codes`} {
		if !strings.Contains(text, want) {
			t.Errorf("answer lacks %q:\n%s", want, text)
		}
	}
	cfg := storedConfig(t, f, "keboola.snowflake-transformation", "7410010")
	body := string(cfg.Configuration)
	if !cfg.IsDisabled || strings.Count(body, `'shipped'`) != 1 || strings.Count(body, `'completed'`) != 1 || !strings.Contains(body, `"out.c-reports.daily_revenue"`) {
		t.Errorf("stored: disabled %v, body %s", cfg.IsDisabled, body)
	}
	if md := configMetadata(t, f, "keboola.snowflake-transformation", "7410010"); !strings.Contains(md, fmt.Sprintf("KBC.MCP.updatedBy.version.%d", cfg.Version)) {
		t.Errorf("version %d not marked as made through MCP: %s", cfg.Version, md)
	}
}

func TestUpdateSQLTransformation_RefusesBadEdits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	edit := func(ups ...map[string]any) map[string]any {
		list := make([]any, len(ups))
		for i, u := range ups {
			list[i] = u
		}
		return map[string]any{"configuration_id": "7410010", "change_description": "c", "parameter_updates": list}
	}
	f.check(t, "update_sql_transformation", []expect{
		{name: "missing block", args: edit(map[string]any{"op": "remove_block", "block_id": "b5"}), isError: true,
			contains: []string{"parameter_updates[0] (remove_block): there is no block b5: the transformation has 1 blocks"}},
		{name: "missing code", args: edit(map[string]any{"op": "remove_code", "code_id": "b0.c9"}), isError: true, contains: []string{"block b0 has 2 codes"}},
		{name: "code outside the named block", args: edit(map[string]any{"op": "set_code", "block_id": "b1", "code_id": "b0.c0", "script": "SELECT 1;"}), isError: true,
			contains: []string{"code_id b0.c0 is not in block b1"}},
		{name: "malformed id", args: edit(map[string]any{"op": "rename_code", "code_id": "0.0", "code_name": "x"}), isError: true, contains: []string{"not like b0.c1"}},
		{name: "text not found", args: edit(map[string]any{"op": "str_replace", "search_for": "nope"}), isError: true, contains: []string{`"nope" does not occur in all scripts`}},
		{name: "a later edit fails, so nothing is stored", args: edit(map[string]any{"op": "rename_block", "block_id": "b0", "block_name": "X"}, map[string]any{"op": "remove_block", "block_id": "b3"}),
			isError: true, contains: []string{"parameter_updates[1]"}},
		{name: "nothing to change", args: map[string]any{"configuration_id": "7410010", "change_description": "c"}, isError: true, contains: []string{"nothing to change"}},
		{name: "an empty edit list changes nothing", args: edit(), isError: true, contains: []string{"nothing to change"}},
		{name: "unknown transformation", args: map[string]any{"configuration_id": "1", "change_description": "c", "is_disabled": false}, isError: true,
			contains: []string{"SQL transformation 1 not found", "get_configs"}},
		{name: "unknown op is a schema error", args: edit(map[string]any{"op": "drop"}), isError: true},
	})
	if n := f.requests("PUT", "/configs/"); n != 0 {
		t.Errorf("%d updates stored from bad edits", n)
	}
}
