package tools

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

// The shapes these tests expect are Keboola's
// (https://developers.keboola.com/integrate/variables/): definitions
// {"variables": [{name, type}]} in a keboola.variables configuration, values
// {"values": [{name, value}]} in its row, and the configuration that uses
// them holding variables_id and variables_values_id. The row's name, the
// variables configuration's name and the update semantics (a list replaces,
// [] removes, leaving it out keeps) are the Python server's
// (tools/components/utils.py, _apply_vars_to_parent_cfg).

// linkOf reads the variables link of a stored configuration.
func linkOf(t *testing.T, f *fixture, comp, id string) (varsID, valuesID string, version int) {
	t.Helper()
	cfg := storedConfig(t, f, comp, id)
	var body struct {
		VariablesID      *string `json:"variables_id"`
		VariableValuesID *string `json:"variables_values_id"`
	}
	if err := json.Unmarshal(cfg.Configuration, &body); err != nil {
		t.Fatalf("configuration %s/%s: %v (%s)", comp, id, err, cfg.Configuration)
	}
	if body.VariablesID != nil {
		varsID = *body.VariablesID
	}
	if body.VariableValuesID != nil {
		valuesID = *body.VariableValuesID
	}
	return varsID, valuesID, cfg.Version
}

// variablesContent returns a keboola.variables configuration's definitions
// and the values of its row valuesID.
func variablesContent(t *testing.T, f *fixture, varsID, valuesID string) (name, defs, values string) {
	t.Helper()
	cfg := storedConfig(t, f, variablesComponentID, varsID)
	for _, r := range cfg.Rows {
		if r.ID.String() == valuesID {
			if r.Name != "Default Values" {
				t.Errorf("values row %s is named %q, want Default Values", valuesID, r.Name)
			}
			values = string(r.Configuration)
		}
	}
	if valuesID != "" && values == "" {
		t.Errorf("keboola.variables configuration %s has no row %s", varsID, valuesID)
	}
	return cfg.Name, string(cfg.Configuration), values
}

func variablesConfigs(t *testing.T, f *fixture) []keboola.Config {
	t.Helper()
	all, err := f.client.ListConfigs(context.Background(), variablesComponentID)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// A variable's default value fills the script's placeholder when the job
// runs: the fake resolves variables as Keboola's job runner does.
func TestCreateSQLTransformation_VariablesFillTheScriptWhenItRuns(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	text, isErr := f.call(t, "create_sql_transformation", map[string]any{
		"name": "Labelled", "description": "A constant from a variable.",
		"sql_code_blocks":     []any{map[string]any{"name": "Label", "script": `CREATE TABLE "labelled" AS SELECT '{{ label }}' AS "label", '{{label}}' AS "again";`}},
		"created_table_names": []string{"labelled"},
		"variables":           []any{map[string]any{"name": "label", "default_value": "from-the-variable"}}})
	if isErr {
		t.Fatal(text)
	}
	cfgID := createdTransformation.FindStringSubmatch(text)[1]
	varsID, valuesID, version := linkOf(t, f, snowflakeTransformation, cfgID)
	if varsID == "" || valuesID == "" || version != 2 {
		t.Fatalf("link = %q/%q at version %d, want both ids at version 2:\n%s", varsID, valuesID, version, text)
	}
	for _, want := range []string{"Linked the variables (now version 2)", "Variables: label (keboola.variables configuration " + varsID} {
		if !strings.Contains(text, want) {
			t.Errorf("answer lacks %q:\n%s", want, text)
		}
	}
	name, defs, values := variablesContent(t, f, varsID, valuesID)
	if name != "Variables definition for keboola.snowflake-transformation/"+cfgID || defs != `{"variables":[{"name":"label","type":"string"}]}` ||
		values != `{"values":[{"name":"label","value":"from-the-variable"}]}` {
		t.Errorf("keboola.variables configuration %q = %s, values %s", name, defs, values)
	}

	text, isErr = f.call(t, "run_job", map[string]any{"component_id": snowflakeTransformation, "configuration_id": cfgID})
	if isErr {
		t.Fatal(text)
	}
	if job := waitForJob(t, f, startedJob.FindStringSubmatch(text)[1]); !strings.Contains(job, "Status: success") {
		t.Fatalf("the job did not succeed:\n%s", job)
	}
	rows, isErr := f.call(t, "query_data", map[string]any{"query_name": "Label",
		"sql_query": `SELECT "label", "again" FROM "KEBOOLA_1234"."out.c-labelled"."labelled"`})
	if isErr || strings.Count(rows, "from-the-variable") != 2 || strings.Contains(rows, "{{") {
		t.Errorf("the output does not hold the variable's value:\n%s", rows)
	}
}

// A variable without a default value needs one at every run; Keboola fails
// a run without it (the error Keboola's help names), and the answer says so.
func TestCreateConfig_VariableWithoutDefaultFailsARunWithoutValues(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	text, isErr := f.call(t, "create_config", map[string]any{"component_id": "keboola.ex-http", "name": "Daily file",
		"description": "A file per day", "parameters": map[string]any{"baseUrl": "https://example.com/{{ day }}/"},
		"variables": []any{map[string]any{"name": "day", "type": "string"}, map[string]any{"name": "token", "type": "vault", "default_value": ""}}})
	if isErr {
		t.Fatal(text)
	}
	for _, want := range []string{"Variables: day, token", "day has no default value: a run fails unless it is given one"} {
		if !strings.Contains(text, want) {
			t.Errorf("answer lacks %q:\n%s", want, text)
		}
	}
	cfgID := createdID.FindStringSubmatch(text)[1]
	varsID, valuesID, _ := linkOf(t, f, "keboola.ex-http", cfgID)
	// An empty default is a value (the Python server writes it too).
	if _, defs, values := variablesContent(t, f, varsID, valuesID); defs != `{"variables":[{"name":"day","type":"string"},{"name":"token","type":"vault"}]}` ||
		values != `{"values":[{"name":"token","value":""}]}` {
		t.Errorf("definitions %s, values %s", defs, values)
	}
	text, isErr = f.call(t, "run_job", map[string]any{"component_id": "keboola.ex-http", "configuration_id": cfgID})
	if isErr {
		t.Fatal(text)
	}
	if job := waitForJob(t, f, startedJob.FindStringSubmatch(text)[1]); !strings.Contains(job, "Status: error") || !strings.Contains(job, `No value provided for variable "day"`) {
		t.Errorf("the run without a value for day did not fail as Keboola's does:\n%s", job)
	}
}

// Bad variables are refused before anything is written.
func TestVariables_RefusedAtTheBoundary(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	create := func(vars ...any) map[string]any {
		return map[string]any{"component_id": "keboola.ex-http", "name": "Refused", "description": "-",
			"parameters": map[string]any{"baseUrl": "https://example.com"}, "variables": vars}
	}
	update := func(vars ...any) map[string]any {
		return map[string]any{"configuration_id": "7410010", "change_description": "Add variables", "variables": vars}
	}
	v := func(name string, more ...any) map[string]any {
		m := map[string]any{"name": name}
		for i := 0; i+1 < len(more); i += 2 {
			m[more[i].(string)] = more[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name, tool string
		args       map[string]any
		want       string
	}{
		{"no name", "create_config", create(v("a"), v(" ")), "variables[1] needs a name"},
		{"name with a space", "create_config", create(v("my var")), `"my var" can hold only letters, digits, _ and -`},
		{"name with a dot", "update_sql_transformation", update(v("a.b")), `"a.b" can hold only letters`},
		{"name with braces", "create_sql_transformation", map[string]any{"name": "T", "description": "-",
			"sql_code_blocks": []any{map[string]any{"name": "c", "script": "SELECT 1;"}}, "variables": []any{v("{{x}}")}}, "can hold only letters"},
		{"duplicate names", "update_sql_transformation", update(v("day"), v("region"), v(" day ")), `variables[0] and variables[2] are both named "day"`},
		{"unknown type", "create_config", create(v("a", "type", "number")), "type"},
		{"number as a default value", "create_config", create(v("size", "default_value", 42)), "default_value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.resetRequests()
			text, isErr := f.call(t, tc.tool, tc.args)
			if !isErr || !strings.Contains(text, tc.want) {
				t.Errorf("isError %v, want an error naming %q:\n%s", isErr, tc.want, text)
			}
			if n := f.requests("POST", "/configs") + f.requests("PUT", "/configs"); n != 0 {
				t.Errorf("%d configuration writes for a refused call", n)
			}
		})
	}
}

// On update, a list replaces the variables in the keboola.variables
// configuration already linked (its id stays), leaving variables out keeps
// them, and [] unlinks them and moves their configuration to the trash.
func TestUpdateConfig_VariablesReplaceKeepAndRemove(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	ctx := context.Background()
	text, isErr := f.call(t, "create_config", map[string]any{"component_id": "keboola.ex-http", "name": "Regional file",
		"description": "-", "parameters": map[string]any{"baseUrl": "https://example.com/{{ region }}/{{ day }}"},
		"variables": []any{map[string]any{"name": "region", "default_value": "eu"}, map[string]any{"name": "day", "default_value": "mon"}}})
	if isErr {
		t.Fatal(text)
	}
	cfgID := createdID.FindStringSubmatch(text)[1]
	varsID, valuesID, _ := linkOf(t, f, "keboola.ex-http", cfgID)

	steps := []struct {
		name                   string
		args                   map[string]any
		contains               []string
		wantDefs, wantValues   string // "" with wantLinked false: unlinked
		wantLinked, wantValRow bool
	}{
		{name: "a new list replaces the definitions and defaults in place",
			args:     map[string]any{"variables": []any{map[string]any{"name": "region", "default_value": "us"}, map[string]any{"name": "hour"}}},
			contains: []string{"Changes: variables region, hour.", "hour has no default value"},
			wantDefs: `{"variables":[{"name":"region","type":"string"},{"name":"hour","type":"string"}]}`, wantValues: `{"values":[{"name":"region","value":"us"}]}`,
			wantLinked: true, wantValRow: true},
		{name: "leaving variables out keeps them",
			args:     map[string]any{"parameter_updates": []any{map[string]any{"op": "set", "path": "baseUrl", "value": "https://example.org/{{ region }}"}}},
			contains: []string{"Changes: set baseUrl."},
			wantDefs: `{"variables":[{"name":"region","type":"string"},{"name":"hour","type":"string"}]}`, wantValues: `{"values":[{"name":"region","value":"us"}]}`,
			wantLinked: true, wantValRow: true},
		{name: "no default values empties the row and drops the values link",
			args:     map[string]any{"variables": []any{map[string]any{"name": "region"}}},
			contains: []string{"Variables: region (keboola.variables configuration " + varsID + ")"},
			wantDefs: `{"variables":[{"name":"region","type":"string"}]}`, wantLinked: true},
		{name: "an empty list unlinks and trashes them",
			args:     map[string]any{"variables": []any{}},
			contains: []string{"Changes: removed the variables.", "Their keboola.variables configuration " + varsID + " is in the trash."}},
	}
	for _, st := range steps {
		_, _, before := linkOf(t, f, "keboola.ex-http", cfgID)
		args := map[string]any{"component_id": "keboola.ex-http", "configuration_id": cfgID, "change_description": st.name}
		for k, v := range st.args {
			args[k] = v
		}
		text, isErr := f.call(t, "update_config", args)
		if isErr {
			t.Fatalf("%s: %s", st.name, text)
		}
		for _, want := range st.contains {
			if !strings.Contains(text, want) {
				t.Errorf("%s: answer lacks %q:\n%s", st.name, want, text)
			}
		}
		gotVars, gotValues, after := linkOf(t, f, "keboola.ex-http", cfgID)
		if after != before+1 {
			t.Errorf("%s: version %d → %d, want one new version", st.name, before, after)
		}
		if !st.wantLinked {
			if gotVars != "" || gotValues != "" {
				t.Errorf("%s: still linked to %q/%q", st.name, gotVars, gotValues)
			}
			continue
		}
		if gotVars != varsID {
			t.Errorf("%s: variables_id %q, want the linked %s kept", st.name, gotVars, varsID)
		}
		if st.wantValRow != (gotValues == valuesID) || (!st.wantValRow && gotValues != "") {
			t.Errorf("%s: variables_values_id %q (row %s)", st.name, gotValues, valuesID)
		}
		_, defs, _ := variablesContent(t, f, varsID, "")
		row := storedConfig(t, f, variablesComponentID, varsID).Rows
		if defs != st.wantDefs || len(row) != 1 || (st.wantValues != "" && string(row[0].Configuration) != st.wantValues) ||
			(st.wantValues == "" && string(row[0].Configuration) != `{"values":[]}`) {
			t.Errorf("%s: definitions %s, rows %+v", st.name, defs, row)
		}
	}
	if _, err := f.client.GetConfig(ctx, variablesComponentID, varsID); !errors.Is(err, keboola.ErrNotFound) {
		t.Errorf("the unlinked keboola.variables configuration is still live: %v", err)
	}
	if n := len(variablesConfigs(t, f)); n != 0 {
		t.Errorf("%d live keboola.variables configurations; one was made and removed", n)
	}
	// Nothing left to remove: no new version, and the answer says so.
	_, _, before := linkOf(t, f, "keboola.ex-http", cfgID)
	text, isErr = f.call(t, "update_config", map[string]any{"component_id": "keboola.ex-http", "configuration_id": cfgID,
		"change_description": "Remove again", "variables": []any{}})
	if _, _, after := linkOf(t, f, "keboola.ex-http", cfgID); isErr || after != before || !strings.Contains(text, "there were none to remove") {
		t.Errorf("removing no variables: isError %v, version %d → %d:\n%s", isErr, before, after, text)
	}
}

// A keboola.variables configuration named for the configuration but not
// linked (a write that stopped half-way, or the Python server's) is reused,
// not duplicated, as the Python server's name lookup does.
func TestUpdateSQLTransformation_ReusesTheVariablesConfigurationNamedForIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	orphan, err := f.client.CreateConfig(context.Background(), variablesComponentID, keboola.ConfigInput{
		Name: "Variables definition for keboola.snowflake-transformation/7410010", Configuration: json.RawMessage(`{"variables":[{"name":"old","type":"string"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	text, isErr := f.call(t, "update_sql_transformation", map[string]any{"configuration_id": "7410010", "change_description": "Parametrise the status",
		"parameter_updates": []any{map[string]any{"op": "str_replace", "search_for": "'completed'", "replace_with": "'{{ status }}'"}},
		"variables":         []any{map[string]any{"name": "status", "default_value": "completed"}}})
	if isErr {
		t.Fatal(text)
	}
	varsID, valuesID, _ := linkOf(t, f, snowflakeTransformation, "7410010")
	if varsID != orphan.ID.String() || len(variablesConfigs(t, f)) != 1 {
		t.Fatalf("linked %q, want the existing %s reused:\n%s", varsID, orphan.ID, text)
	}
	if _, defs, values := variablesContent(t, f, varsID, valuesID); defs != `{"variables":[{"name":"status","type":"string"}]}` ||
		values != `{"values":[{"name":"status","value":"completed"}]}` {
		t.Errorf("definitions %s, values %s", defs, values)
	}
	body := string(storedConfig(t, f, snowflakeTransformation, "7410010").Configuration)
	if !strings.Contains(body, `'{{ status }}'`) || !strings.Contains(text, "variables status") {
		t.Errorf("the edit and the link are not saved together: %s\n%s", body, text)
	}
	text, isErr = f.call(t, "run_job", map[string]any{"component_id": snowflakeTransformation, "configuration_id": "7410010"})
	if isErr {
		t.Fatal(text)
	}
	if job := waitForJob(t, f, startedJob.FindStringSubmatch(text)[1]); !strings.Contains(job, "Status: success") {
		t.Errorf("the parametrised transformation did not run:\n%s", job)
	}
}

// folder files data apps into the Keboola UI folder on every path that
// writes one, as it does configurations (KBC.configuration.folderName).
func TestDataApps_FolderFilesTheApp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	source := "import streamlit as st\n{QUERY_DATA_FUNCTION}\n"
	for _, tc := range []struct {
		name, tool string
		args       map[string]any
		app        string // the app's name, to find its configuration
	}{
		{"create a Streamlit app", "modify_streamlit_data_app", map[string]any{"name": "Folder streamlit", "source_code": source, "folder": "Finance"}, "Folder streamlit"},
		{"update a Streamlit app", "modify_streamlit_data_app", map[string]any{"configuration_id": "@Folder streamlit", "folder": " Sales "}, "Folder streamlit"},
		{"create a python-js app", "modify_python_js_data_app", map[string]any{"name": "Folder pyjs", "folder": "Ops"}, "Folder pyjs"},
		{"update a python-js app", "modify_python_js_data_app", map[string]any{"name": "", "configuration_id": "@Folder pyjs", "folder": "Ops/Stock"}, "Folder pyjs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ref, ok := tc.args["configuration_id"].(string); ok {
				tc.args["configuration_id"] = demoAppsByName(t, f)[strings.TrimPrefix(ref, "@")]
			}
			text, isErr := f.call(t, tc.tool, tc.args)
			if isErr {
				t.Fatal(text)
			}
			folder := strings.TrimSpace(tc.args["folder"].(string))
			if !strings.Contains(text, `Filed in folder "`+folder+`"`) {
				t.Errorf("answer does not say where the app is filed:\n%s", text)
			}
			md := configMetadata(t, f, keboola.DataAppComponentID, demoAppsByName(t, f)[tc.app])
			var entries []struct{ Key, Value string }
			if err := json.Unmarshal([]byte(md), &entries); err != nil {
				t.Fatal(err)
			}
			filed := ""
			for _, e := range entries {
				if e.Key == "KBC.configuration.folderName" {
					filed = e.Value
				}
			}
			if filed != folder {
				t.Errorf("folder metadata %q, want %q: %s", filed, folder, md)
			}
		})
	}
}
