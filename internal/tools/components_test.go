package tools

import (
	"testing"
)

func TestGetComponents(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "get_components", []expect{
		{name: "lists components in use", contains: []string{"components in use", "id,type,name,configurations",
			"keboola.ex-db-mysql,extractor,MySQL,1", "keboola.snowflake-transformation,transformation"}},
		{name: "filters by type", args: map[string]any{"types": []string{"writer"}},
			contains: []string{"keboola.wr-google-sheets,writer"}, absent: []string{"keboola.ex-db-mysql"}},
		{name: "details, also of a component not in use", args: map[string]any{"component_ids": []string{"keboola.ex-db-mysql", "keboola.ex-salesforce-v2"}},
			contains: []string{"Component: keboola.ex-db-mysql", "Name: MySQL", "Component: keboola.ex-salesforce-v2", "/components/keboola.ex-db-mysql",
				// The demo has one MySQL configuration (7410001); create_config and
				// add_config_row send the model here for the schemas.
				"Configurations: 1\n", "Configuration schema (parameters of create_config", `"host":{"title":"Hostname"`,
				"Row schema (parameters of add_config_row", `"tableName":{"title":"Table"`}},
		{name: "unknown component", args: map[string]any{"component_ids": []string{"keboola.ex-nope"}}, isError: true,
			contains: []string{"keboola.ex-nope", "find_component_id"}},
		{name: "unknown type is a schema error", args: map[string]any{"types": []string{"robot"}}, isError: true},
	})
}

func TestGetConfigs(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "get_configs", []expect{
		{name: "lists all", contains: []string{"component_id,configuration_id,name,description,disabled,link",
			"keboola.ex-db-mysql,7410001,CRM production database"}},
		{name: "by component", args: map[string]any{"component_ids": []string{"keboola.wr-google-sheets"}},
			contains: []string{"2 configurations.", "7410020", "7410021"}, absent: []string{"keboola.ex-db-mysql"}},
		{name: "by type", args: map[string]any{"component_types": []string{"transformation"}},
			contains: []string{"keboola.snowflake-transformation,7410010"}, absent: []string{"keboola.ex-http"}},
		{name: "pages", args: map[string]any{"limit": 1}, contains: []string{"Showing 1–1 of", "offset=1"}},
		{name: "details redact secrets", args: map[string]any{"configs": []map[string]string{{"component_id": "keboola.ex-db-mysql", "configuration_id": "7410001"}}},
			contains: []string{"Configuration: 7410001", "Configuration JSON:", `"#password":"[REDACTED]"`, "keboola_reader"},
			absent:   []string{"KBC::ProjectSecure"}},
		{name: "unknown configuration", args: map[string]any{"configs": []map[string]string{{"component_id": "keboola.ex-db-mysql", "configuration_id": "999"}}},
			isError: true, contains: []string{"keboola.ex-db-mysql/999", "get_configs"}},
		{name: "component without configurations", args: map[string]any{"component_ids": []string{"keboola.ex-nope"}},
			isError: true, contains: []string{"keboola.ex-nope", "get_components"}},
	})
}

func TestFindComponentID(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "find_component_id", []expect{
		{name: "finds by purpose", args: map[string]any{"query": "extract data from a MySQL database"},
			contains: []string{"component_id,score", "keboola.ex-db-mysql"}},
		{name: "empty query is a schema error", args: map[string]any{"query": ""}, isError: true},
	})
}
