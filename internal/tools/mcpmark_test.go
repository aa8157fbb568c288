package tools

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

// TestWriteTools_MarkConfigurationsWrittenByMCP covers the write tools the
// configs and transformations tests do not: rows, flows and schedules.
func TestWriteTools_MarkConfigurationsWrittenByMCP(t *testing.T) {
	t.Parallel()
	rowArgs := map[string]any{"component_id": "keboola.ex-db-mysql", "configuration_id": "7410001", "name": "products", "description": "d",
		"parameters": map[string]any{"table": map[string]any{"schema": "crm", "tableName": "products"}, "outputTable": "in.c-crm.products"}}
	flowArgs := map[string]any{"name": "Nightly", "phases": []any{map[string]any{"name": "Extract"}},
		"tasks": []any{map[string]any{"name": "CRM", "phase": 1, "task": map[string]any{"componentId": "keboola.ex-db-mysql", "configId": "7410001"}}}}
	cases := []struct {
		name string
		tool string
		args map[string]any
		// marked returns the component and configuration to look at and
		// the metadata key the call must have set.
		marked func(t *testing.T, f *fixture, text string) (comp, cfg, key string)
	}{
		{"add_config_row marks the row's version", "add_config_row", rowArgs,
			func(*testing.T, *fixture, string) (string, string, string) {
				return "keboola.ex-db-mysql", "7410001", keboola.MetadataKeyUpdatedByMCP(1)
			}},
		{"update_config_row marks the new row version", "update_config_row", map[string]any{"component_id": "keboola.ex-db-mysql",
			"configuration_id": "7410001", "configuration_row_id": "7410001002", "change_description": "rename", "name": "orders v2"},
			func(*testing.T, *fixture, string) (string, string, string) {
				return "keboola.ex-db-mysql", "7410001", keboola.MetadataKeyUpdatedByMCP(2)
			}},
		{"create_flow marks the new flow", "create_flow", flowArgs,
			func(t *testing.T, _ *fixture, text string) (string, string, string) {
				return keboola.LegacyFlowComponentID, flowCreatedID(t, text), keboola.MetadataKeyCreatedByMCP
			}},
		{"update_flow marks the new flow version", "update_flow", map[string]any{"configuration_id": demoLegacyFlow, "name": "Renamed", "change_description": "x"},
			func(*testing.T, *fixture, string) (string, string, string) {
				return keboola.LegacyFlowComponentID, demoLegacyFlow, keboola.MetadataKeyUpdatedByMCP(2)
			}},
		{"modify_flow marks an added schedule", "modify_flow", map[string]any{"configuration_id": demoLegacyFlow, "change_description": "x",
			"schedules": []any{map[string]any{"action": "add", "cron_tab": "0 3 * * *"}}},
			func(t *testing.T, _ *fixture, text string) (string, string, string) {
				_, rest, _ := strings.Cut(text, "Added schedule ")
				id, _, _ := strings.Cut(rest, ":")
				return keboola.SchedulerComponentID, id, keboola.MetadataKeyCreatedByMCP
			}},
		{"modify_flow marks a changed schedule", "modify_flow", map[string]any{"configuration_id": demoLegacyFlow, "change_description": "x",
			"schedules": []any{map[string]any{"action": "update", "schedule_id": demoSchedule, "state": "disabled"}}},
			func(*testing.T, *fixture, string) (string, string, string) {
				return keboola.SchedulerComponentID, demoSchedule, keboola.MetadataKeyUpdatedByMCP(2)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fakestack.Options{})
			text, isErr := f.call(t, tc.tool, tc.args)
			if isErr {
				t.Fatal(text)
			}
			comp, cfg, key := tc.marked(t, f, text)
			if md := configMetadata(t, f, comp, cfg); !strings.Contains(md, `"key":"`+key+`"`) {
				t.Errorf("%s/%s lacks %s; metadata: %s", comp, cfg, key, md)
			}
			if key != keboola.MetadataKeyCreatedByMCP {
				return
			}
			stored, err := f.client.GetConfig(context.Background(), comp, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if stored.ChangeDescription != createdChange {
				t.Errorf("created %s/%s has change description %q, want %q", comp, cfg, stored.ChangeDescription, createdChange)
			}
		})
	}
}

func TestCreateFlow_AFailedMarkIsReportedWithTheFlowSaved(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	// The flow's id is not known before the call, so fail the first request
	// under the component's configurations: the configuration itself is
	// created at .../configs (no trailing slash), then the metadata is set.
	if err := f.stack.InjectFault(fakestack.Fault{PathPrefix: "/v2/storage/branch/default/components/keboola.orchestrator/configs/", Fail5xx: 1}); err != nil {
		t.Fatal(err)
	}
	text, isErr := f.call(t, "create_flow", map[string]any{"name": "Nightly", "phases": []any{map[string]any{"name": "Extract"}},
		"tasks": []any{}})
	if isErr {
		t.Fatalf("a failed mark failed the call: %s", text)
	}
	if !strings.Contains(text, "The change is saved, but marking it as made through the MCP server failed") {
		t.Errorf("failed mark not reported:\n%s", text)
	}
	if _, err := f.client.GetConfig(context.Background(), keboola.LegacyFlowComponentID, flowCreatedID(t, text)); err != nil {
		t.Errorf("flow not saved: %v", err)
	}
}

// TestMarkWrittenByMCP_IsTheOnlyWriterOfTheMarker keeps the marker and the
// folder in one place: a tool that sets or deletes the keys itself would
// drift from the others.
func TestMarkWrittenByMCP_IsTheOnlyWriterOfTheMarker(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "mcpmark.go" {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"MetadataKeyCreatedByMCP", "MetadataKeyUpdatedByMCP", "SetConfigMetadata", "DeleteConfigMetadata", "folderMetadataKey"} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s uses %s; mark configurations through markWrittenByMCP and file them through pythonFolder", name, s)
			}
		}
	}
}

// folder, as the Python server uses it, files a configuration into a Keboola
// UI folder: the KBC.configuration.folderName metadata (its
// apply_folder_metadata). A folder alone changes no version.
func TestFolder_FilesTheConfigurationIntoTheUIFolder(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	const comp = "keboola.snowflake-transformation"
	folderOf := func(id string) string {
		// Writing a harmless key returns the configuration's whole metadata.
		md, err := f.client.SetConfigMetadata(context.Background(), comp, id, []keboola.MetadataInput{{Key: "test.probe", Value: "1"}})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := md.Get(folderMetadataKey)
		return v
	}
	text, isErr := f.call(t, "create_sql_transformation", map[string]any{"name": "Orders per day", "description": "Counts orders.",
		"sql_code_blocks": []any{map[string]any{"name": "Count", "script": `SELECT 1;`}}, "folder": " Sales ", "variables": nil})
	if isErr || !strings.Contains(text, `Filed in folder "Sales".`) {
		t.Fatalf("create: %s", text)
	}
	id := createdTransformation.FindStringSubmatch(text)[1]
	if got := folderOf(id); got != "Sales" {
		t.Errorf("folder after create = %q, want Sales", got)
	}
	version := storedConfig(t, f, comp, id).Version
	text, isErr = f.call(t, "update_sql_transformation", map[string]any{"configuration_id": id, "change_description": "Move to Finance", "folder": "Finance"})
	if isErr || !strings.Contains(text, `Filed in folder "Finance".`) {
		t.Fatalf("folder-only update: %s", text)
	}
	if got := folderOf(id); got != "Finance" {
		t.Errorf("folder after update = %q, want Finance", got)
	}
	if v := storedConfig(t, f, comp, id).Version; v != version {
		t.Errorf("a folder-only update made version %d (was %d)", v, version)
	}
}
