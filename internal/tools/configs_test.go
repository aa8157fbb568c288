package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

func TestGetConfigExamples(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "get_config_examples", []expect{
		{name: "root and row examples", args: map[string]any{"component_id": "keboola.ex-db-mysql"},
			contains: []string{"Root configuration examples:", `"host":"mysql.example.com"`, "Row configuration examples:", `"tableName":"orders"`, "help.keboola.com"},
			absent:   []string{"# Configuration", "## ", "\n  "}},
		{name: "component without examples", args: map[string]any{"component_id": "keboola.ex-salesforce-v2"},
			contains: []string{"no examples", "get_components"}},
		{name: "unknown component", args: map[string]any{"component_id": "keboola.ex-nope"}, isError: true,
			contains: []string{"keboola.ex-nope", "find_component_id"}},
		{name: "empty id is a schema error", args: map[string]any{"component_id": ""}, isError: true},
	})
}

// configMetadata returns the raw metadata list of a configuration in production.
func configMetadata(t *testing.T, f *fixture, comp, id string) string {
	t.Helper()
	return string(configMetadataIn(t, f, "default", comp, id))
}

// configMetadataIn returns the raw metadata list of a configuration in a
// branch ("default" for production), straight from the fake stack, past the
// client under test.
func configMetadataIn(t *testing.T, f *fixture, branch, comp, id string) []byte {
	t.Helper()
	req, err := http.NewRequest("GET", f.stack.URL()+"/v2/storage/branch/"+branch+"/components/"+comp+"/configs/"+id+"/metadata", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-StorageApi-Token", f.stack.MasterToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// storedConfig reads a configuration back from the fake stack.
func storedConfig(t *testing.T, f *fixture, comp, id string) *keboola.Config {
	t.Helper()
	cfg, err := f.client.GetConfig(context.Background(), comp, id)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var createdID = regexp.MustCompile(`Created configuration (\d+) `)

func mysqlParams(password string) map[string]any {
	return map[string]any{"db": map[string]any{"host": "db.example.com", "port": 3306, "database": "shop", "user": "u", "#password": password}}
}

func TestCreateConfig_StoresEncryptedSecretsAndChecksTheSchema(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	text, isErr := f.call(t, "create_config", map[string]any{"component_id": "keboola.ex-db-mysql", "name": "Shop DB",
		"description": "Orders from the shop", "parameters": mysqlParams("plain-pw"),
		"processors_after": []any{map[string]any{"definition": map[string]any{"component": "keboola.processor-move-files"}}}})
	if isErr {
		t.Fatal(text)
	}
	for _, want := range []string{`"Shop DB" of keboola.ex-db-mysql (version 1)`, "Parameters match", "add_config_row", "/components/keboola.ex-db-mysql/"} {
		if !strings.Contains(text, want) {
			t.Errorf("answer lacks %q:\n%s", want, text)
		}
	}
	m := createdID.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no id in %q", text)
	}
	body := string(storedConfig(t, f, "keboola.ex-db-mysql", m[1]).Configuration)
	if strings.Contains(body, "plain-pw") || !strings.Contains(body, `"#password":"KBC::`) {
		t.Errorf("secret not encrypted: %s", body)
	}
	if !strings.Contains(body, `"processors":{"after":[{"definition":{"component":"keboola.processor-move-files"}}]}`) {
		t.Errorf("processors not stored: %s", body)
	}
	if md := configMetadata(t, f, "keboola.ex-db-mysql", m[1]); !strings.Contains(md, `"key":"KBC.MCP.createdBy"`) {
		t.Errorf("not marked as created through MCP: %s", md)
	}
}

func TestCreateConfig_RefusesBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	base := func(over map[string]any) map[string]any {
		args := map[string]any{"component_id": "keboola.ex-db-mysql", "name": "X", "description": "d", "parameters": mysqlParams("pw")}
		for k, v := range over {
			args[k] = v
		}
		return args
	}
	f.check(t, "create_config", []expect{
		{name: "parameters outside the schema", args: base(map[string]any{"parameters": map[string]any{"db": map[string]any{"host": 1}}}),
			isError: true, contains: []string{"do not fit the schema of keboola.ex-db-mysql", "get_config_examples"}},
		{name: "unknown component", args: base(map[string]any{"component_id": "keboola.ex-nope"}), isError: true, contains: []string{"find_component_id"}},
		{name: "flows have their own tools", args: base(map[string]any{"component_id": "keboola.orchestrator"}), isError: true, contains: []string{"flow tools"}},
		{name: "a redacted placeholder is no secret", args: base(map[string]any{"parameters": mysqlParams("[REDACTED]")}), isError: true,
			contains: []string{"parameters.db.#password is [REDACTED]"}},
		{name: "storage mapping without sources", args: base(map[string]any{"storage": map[string]any{"input": map[string]any{"tables": []any{map[string]any{"destination": "x"}}}}}),
			isError: true, contains: []string{"storage.input.tables[0] needs source"}},
		{name: "processor without component", args: base(map[string]any{"processors_before": []any{map[string]any{}}}), isError: true,
			contains: []string{"processors_before[0] needs definition.component"}},
		{name: "blank name", args: base(map[string]any{"name": " "}), isError: true, contains: []string{"name must not be empty"}},
		{name: "missing parameters is a schema error", args: map[string]any{"component_id": "keboola.ex-db-mysql", "name": "X", "description": "d"}, isError: true},
	})
	if n := f.requests("POST", "/configs"); n != 0 {
		t.Errorf("%d configurations created from bad input", n)
	}
}

func TestAddConfigRow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	f.check(t, "add_config_row", []expect{
		{name: "adds a row", args: map[string]any{"component_id": "keboola.ex-db-mysql", "configuration_id": "7410001", "name": "products",
			"description": "Product catalogue", "parameters": map[string]any{"table": map[string]any{"schema": "crm", "tableName": "products"}, "outputTable": "in.c-crm.products"}},
			contains: []string{`"products" to configuration 7410001 of keboola.ex-db-mysql`, "Parameters match"}},
		{name: "row outside the row schema", args: map[string]any{"component_id": "keboola.ex-db-mysql", "configuration_id": "7410001", "name": "bad",
			"description": "d", "parameters": map[string]any{"table": map[string]any{"schema": "crm"}}},
			isError: true, contains: []string{"do not fit the schema"}},
		{name: "unknown configuration", args: map[string]any{"component_id": "keboola.ex-db-mysql", "configuration_id": "999", "name": "x",
			"description": "d", "parameters": map[string]any{"outputTable": "in.c-x.y"}},
			isError: true, contains: []string{"keboola.ex-db-mysql/999 not found", "get_configs"}},
		{name: "unknown configuration before the row's schema", args: map[string]any{"component_id": "keboola.ex-db-mysql", "configuration_id": "999", "name": "x",
			"description": "d", "parameters": map[string]any{"table": map[string]any{"schema": "crm"}}},
			isError: true, contains: []string{"keboola.ex-db-mysql/999 not found"}, absent: []string{"schema"}},
	})
	rows := storedConfig(t, f, "keboola.ex-db-mysql", "7410001").Rows
	if len(rows) != 3 || rows[2].Name != "products" {
		t.Errorf("rows after adding = %+v", rows)
	}
}

func TestUpdateConfig_EditsParametersAndKeepsRedactedSecrets(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	before := storedConfig(t, f, "keboola.ex-db-mysql", "7410001")
	var old map[string]map[string]map[string]any
	_ = json.Unmarshal(before.Configuration, &old)
	text, isErr := f.call(t, "update_config", map[string]any{"component_id": "keboola.ex-db-mysql", "configuration_id": "7410001",
		"change_description": "Move to the replica", "name": "CRM replica",
		"parameter_updates": []any{
			map[string]any{"op": "set", "path": "db", "value": map[string]any{"host": "replica.example.com", "port": 3306, "database": "crm", "user": "keboola_reader", "#password": "[REDACTED]"}},
		}})
	if isErr {
		t.Fatal(text)
	}
	for _, want := range []string{`Updated configuration 7410001 "CRM replica"`, "now version", "Changes: renamed; set db.", "Parameters match"} {
		if !strings.Contains(text, want) {
			t.Errorf("answer lacks %q:\n%s", want, text)
		}
	}
	after := storedConfig(t, f, "keboola.ex-db-mysql", "7410001")
	var got map[string]map[string]map[string]any
	_ = json.Unmarshal(after.Configuration, &got)
	if got["parameters"]["db"]["host"] != "replica.example.com" || got["parameters"]["db"]["#password"] != old["parameters"]["db"]["#password"] {
		t.Errorf("stored db = %v (stored password was %v)", got["parameters"]["db"], old["parameters"]["db"]["#password"])
	}
	if after.Version != before.Version+1 || after.Name != "CRM replica" || len(after.Rows) != len(before.Rows) {
		t.Errorf("after = version %d name %q rows %d", after.Version, after.Name, len(after.Rows))
	}
	if md := configMetadata(t, f, "keboola.ex-db-mysql", "7410001"); !strings.Contains(md, fmt.Sprintf(`"key":"KBC.MCP.updatedBy.version.%d"`, after.Version)) {
		t.Errorf("version %d not marked as made through MCP: %s", after.Version, md)
	}
}

func TestUpdateConfig_RefusesBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	args := func(over map[string]any) map[string]any {
		a := map[string]any{"component_id": "keboola.ex-db-mysql", "configuration_id": "7410001", "change_description": "c"}
		for k, v := range over {
			a[k] = v
		}
		return a
	}
	f.check(t, "update_config", []expect{
		{name: "nothing to change", args: args(nil), isError: true, contains: []string{"nothing to change"}},
		{name: "an empty edit list changes nothing", args: args(map[string]any{"parameter_updates": []any{}}), isError: true, contains: []string{"nothing to change"}},
		{name: "edit at a missing place", args: args(map[string]any{"parameter_updates": []any{map[string]any{"op": "remove", "path": "db.nope"}}}),
			isError: true, contains: []string{"parameter_updates[0] (remove db.nope)"}},
		{name: "edit that breaks the schema", args: args(map[string]any{"parameter_updates": []any{map[string]any{"op": "remove", "path": "db.host"}}}),
			isError: true, contains: []string{"do not fit the schema"}},
		{name: "unknown op is a schema error", args: args(map[string]any{"parameter_updates": []any{map[string]any{"op": "merge", "path": "db"}}}), isError: true},
		{name: "unknown configuration", args: args(map[string]any{"configuration_id": "999", "name": "x"}), isError: true, contains: []string{"get_configs"}},
	})
	if n := f.requests("PUT", "/configs/"); n != 0 {
		t.Errorf("%d updates sent for bad input", n)
	}
}

func TestUpdateConfigRow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	f.check(t, "update_config_row", []expect{
		{name: "edits one row", args: map[string]any{"component_id": "keboola.ex-db-mysql", "configuration_id": "7410001", "configuration_row_id": "7410001002",
			"change_description": "Full loads", "parameter_updates": []any{map[string]any{"op": "set", "path": "incremental", "value": false}}},
			contains: []string{`Updated row 7410001002 "orders"`, "set incremental"}},
		{name: "unknown row lists the rows", args: map[string]any{"component_id": "keboola.ex-db-mysql", "configuration_id": "7410001", "configuration_row_id": "1",
			"change_description": "x", "name": "y"}, isError: true, contains: []string{"no row 1", "7410001001, 7410001002"}},
	})
	for _, r := range storedConfig(t, f, "keboola.ex-db-mysql", "7410001").Rows {
		if r.ID.String() == "7410001002" && !strings.Contains(string(r.Configuration), `"incremental":false`) {
			t.Errorf("row not changed: %s", r.Configuration)
		}
	}
}

func TestRunSyncAction(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "run_sync_action", []expect{
		{name: "with a stored configuration", args: map[string]any{"component_id": "keboola.ex-db-mysql", "action": "testConnection", "configuration_id": "7410001"},
			contains: []string{"Action testConnection of keboola.ex-db-mysql answered:", `"status":"success"`}},
		{name: "with a row over the configuration", args: map[string]any{"component_id": "keboola.ex-db-mysql", "action": "getTables", "configuration_id": "7410001", "configuration_row_id": "7410001001"},
			contains: []string{`"name":"customers"`}},
		{name: "with config data", args: map[string]any{"component_id": "keboola.ex-db-mysql", "action": "testConnection", "config_data": map[string]any{"parameters": map[string]any{"db": map[string]any{"host": "h"}}}},
			isError: true, contains: []string{"action testConnection of keboola.ex-db-mysql failed", "parameters.db.#password"}},
		{name: "unknown action", args: map[string]any{"component_id": "keboola.ex-db-mysql", "action": "dropEverything", "configuration_id": "7410001"},
			isError: true, contains: []string{"dropEverything", "getTables"}},
		{name: "both sources", args: map[string]any{"component_id": "keboola.ex-db-mysql", "action": "getTables", "configuration_id": "7410001", "config_data": map[string]any{}},
			isError: true, contains: []string{"either configuration_id or config_data"}},
		{name: "no source", args: map[string]any{"component_id": "keboola.ex-db-mysql", "action": "getTables"}, isError: true, contains: []string{"configuration_id"}},
		{name: "unknown row", args: map[string]any{"component_id": "keboola.ex-db-mysql", "action": "getTables", "configuration_id": "7410001", "configuration_row_id": "5"},
			isError: true, contains: []string{"no row 5"}},
	})
}

func TestCreateOAuthURL(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	text, isErr := f.call(t, "create_oauth_url", map[string]any{"component_id": "keboola.wr-google-sheets", "config_id": "7410020"})
	if isErr {
		t.Fatal(text)
	}
	i := strings.Index(text, "https://external.keboola.com/oauth/index.html?")
	if i < 0 {
		t.Fatalf("no broker link in %q", text)
	}
	link, err := url.Parse(strings.TrimSpace(text[i:]))
	if err != nil {
		t.Fatal(err)
	}
	if link.Fragment != "/keboola.wr-google-sheets/7410020" || link.Query().Get("sapiUrl") != f.stack.URL() {
		t.Errorf("link = %s", link)
	}
	tok := link.Query().Get("token")
	if tok == "" || tok == f.stack.MasterToken() {
		t.Fatalf("link token %q is missing or the caller's own", tok)
	}
	info, err := keboola.VerifyToken(context.Background(), f.stack.URL(), keboola.Secret(tok), keboola.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info.IsMasterToken || info.Expires.IsZero() {
		t.Errorf("link token is master %v, expires %v", info.IsMasterToken, info.Expires)
	}

	before := f.requests("POST", "/v2/storage/tokens")
	f.check(t, "create_oauth_url", []expect{
		{name: "unknown configuration", args: map[string]any{"component_id": "keboola.wr-google-sheets", "config_id": "1"}, isError: true,
			contains: []string{"keboola.wr-google-sheets/1 not found", "get_configs", "create_config"}},
		// MySQL takes a password, not an OAuth sign-in (issue 13).
		{name: "component without OAuth", args: map[string]any{"component_id": "keboola.ex-db-mysql", "config_id": "7410001"}, isError: true,
			contains: []string{"keboola.ex-db-mysql does not sign in with OAuth", "update_config"}},
	})
	if f.requests("POST", "/v2/storage/tokens") != before {
		t.Error("a token was minted for a configuration that does not exist")
	}
}

func TestUpdateConfig_AFailedMarkDoesNotFailTheSavedChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	if err := f.stack.InjectFault(fakestack.Fault{PathPrefix: "/v2/storage/branch/default/components/keboola.ex-http/configs/7410002/metadata", Fail5xx: 1}); err != nil {
		t.Fatal(err)
	}
	f.check(t, "update_config", []expect{{name: "saved, mark reported", args: map[string]any{"component_id": "keboola.ex-http", "configuration_id": "7410002",
		"change_description": "New base URL", "parameter_updates": []any{map[string]any{"op": "set", "path": "baseUrl", "value": "https://new.example.com/"}}},
		contains: []string{"Updated configuration 7410002", "The change is saved, but marking it as made through the MCP server failed"}}})
	if body := string(storedConfig(t, f, "keboola.ex-http", "7410002").Configuration); !strings.Contains(body, "https://new.example.com/") {
		t.Errorf("change not stored: %s", body)
	}
}
