package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

// The Python server documents for every folder parameter that an empty
// string removes an existing folder assignment (its
// clear_configuration_folder_metadata: read the configuration's metadata,
// delete the KBC.configuration.folderName entries by id). These tests drive
// that through each family of tools that take a folder, against the fake
// stack, whose DELETE behaves as Keboola's (see fakestack/configmeta_test.go).

// folderFamily is one kind of configuration the tools file into folders.
type folderFamily struct {
	name string
	comp string
	// create makes a configuration of the family that is in no folder.
	create func(t *testing.T, f *fixture) string
	// update is the tool call that changes the folder of id and, when
	// rename is not empty, renames it too.
	update func(id, folder, rename string) (string, map[string]any)
	// versionPerUpdate: every update saves a version (data apps), so the
	// folder is never a change on its own.
	versionPerUpdate bool
}

// createdInNoFolder creates a configuration with the client, as the Keboola
// UI would, so no tool has filed it anywhere.
func createdInNoFolder(comp, body string) func(*testing.T, *fixture) string {
	return func(t *testing.T, f *fixture) string {
		t.Helper()
		cfg, err := f.client.CreateConfig(context.Background(), comp, keboola.ConfigInput{Name: "Unfiled " + comp, Configuration: json.RawMessage(body)})
		if err != nil {
			t.Fatal(err)
		}
		return cfg.ID.String()
	}
}

// withRename adds a new name to args when rename is set.
func withRename(args map[string]any, rename string) map[string]any {
	if rename != "" {
		args["name"] = rename
	}
	return args
}

var folderFamilies = []folderFamily{
	{name: "SQL transformation", comp: "keboola.snowflake-transformation",
		create: createdInNoFolder("keboola.snowflake-transformation", `{"parameters":{"blocks":[]}}`),
		update: func(id, folder, rename string) (string, map[string]any) {
			return "update_sql_transformation", withRename(map[string]any{"configuration_id": id, "change_description": "Refile", "folder": folder}, rename)
		}},
	{name: "flow", comp: keboola.LegacyFlowComponentID,
		create: createdInNoFolder(keboola.LegacyFlowComponentID, `{"phases":[],"tasks":[]}`),
		update: func(id, folder, rename string) (string, map[string]any) {
			return "update_flow", withRename(map[string]any{"configuration_id": id, "change_description": "Refile", "folder": folder}, rename)
		}},
	{name: "flow through modify_flow", comp: keboola.LegacyFlowComponentID,
		create: createdInNoFolder(keboola.LegacyFlowComponentID, `{"phases":[],"tasks":[]}`),
		update: func(id, folder, rename string) (string, map[string]any) {
			return "modify_flow", withRename(map[string]any{"configuration_id": id, "change_description": "Refile", "folder": folder}, rename)
		}},
	{name: "configuration", comp: "keboola.ex-db-mysql",
		create: createdInNoFolder("keboola.ex-db-mysql", `{"parameters":{}}`),
		update: func(id, folder, rename string) (string, map[string]any) {
			return "update_config", withRename(map[string]any{"component_id": "keboola.ex-db-mysql", "configuration_id": id,
				"change_description": "Refile", "folder": folder}, rename)
		}},
	{name: "data app", comp: keboola.DataAppComponentID, versionPerUpdate: true,
		create: func(t *testing.T, f *fixture) string {
			t.Helper()
			name := fmt.Sprintf("Unfiled app %d", fixtures.Add(1))
			if text, isErr := f.call(t, "modify_streamlit_data_app", map[string]any{"name": name,
				"source_code": "import streamlit as st\n{QUERY_DATA_FUNCTION}\n"}); isErr {
				t.Fatal(text)
			}
			return demoAppsByName(t, f)[name]
		},
		update: func(id, folder, rename string) (string, map[string]any) {
			return "modify_streamlit_data_app", withRename(map[string]any{"configuration_id": id, "folder": folder}, rename)
		}},
}

// metadataEntry is a configuration metadata entry as the fake lists it.
type metadataEntry struct{ ID, Key, Value string }

// metadataIn lists a configuration's metadata in a branch ("default" for
// production).
func metadataIn(t *testing.T, f *fixture, branch, comp, id string) []metadataEntry {
	t.Helper()
	b := configMetadataIn(t, f, branch, comp, id)
	var out []metadataEntry
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("metadata of %s %s: %v: %s", comp, id, err, b)
	}
	return out
}

// folderEntries returns the values of the folder entries in a branch.
func folderEntries(t *testing.T, f *fixture, branch, comp, id string) []string {
	t.Helper()
	var out []string
	for _, e := range metadataIn(t, f, branch, comp, id) {
		if e.Key == folderMetadataKey {
			out = append(out, e.Value)
		}
	}
	return out
}

// refile calls the family's update and fails the test on a tool error.
func (fam folderFamily) refile(t *testing.T, f *fixture, id, folder, rename string) string {
	t.Helper()
	tool, args := fam.update(id, folder, rename)
	text, isErr := f.call(t, tool, args)
	if isErr {
		t.Fatalf("%s folder %q: %s", tool, folder, text)
	}
	return text
}

func TestFolder_EmptyFolderTakesTheConfigurationOutOfItsFolder(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	for _, fam := range folderFamilies {
		t.Run(fam.name, func(t *testing.T) {
			id := fam.create(t, f)
			if text := fam.refile(t, f, id, "Finance", ""); !strings.Contains(text, `Filed in folder "Finance".`) {
				t.Fatalf("filing: %s", text)
			}
			if got := folderEntries(t, f, "default", fam.comp, id); len(got) != 1 || got[0] != "Finance" {
				t.Fatalf("folder entries after filing: %q", got)
			}
			version := storedConfig(t, f, fam.comp, id).Version
			f.resetRequests()
			text := fam.refile(t, f, id, " ", "")
			if !strings.Contains(text, `Removed from folder "Finance".`) {
				t.Errorf("the answer does not say it left the folder:\n%s", text)
			}
			if got := folderEntries(t, f, "default", fam.comp, id); len(got) != 0 {
				t.Errorf("folder entries left: %q", got)
			}
			if n := f.requests("DELETE", "/v2/storage/branch/default/components/"+fam.comp+"/configs/"+id+"/metadata/"); n != 1 {
				t.Errorf("%d metadata DELETEs in production, want 1", n)
			}
			if v := storedConfig(t, f, fam.comp, id).Version; !fam.versionPerUpdate && v != version {
				t.Errorf("taking it out of its folder made version %d (was %d)", v, version)
			}
		})
	}
}

func TestFolder_EmptyFolderOnAConfigurationInNoFolderChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	for _, fam := range folderFamilies {
		t.Run(fam.name, func(t *testing.T) {
			id := fam.create(t, f)
			before := metadataIn(t, f, "default", fam.comp, id)
			version := storedConfig(t, f, fam.comp, id).Version
			f.resetRequests()
			text := fam.refile(t, f, id, "", "")
			if !strings.Contains(text, "It was in no folder") || strings.Contains(text, "Removed from folder") {
				t.Errorf("the answer does not say it was in no folder:\n%s", text)
			}
			if n := f.requests("DELETE", "/metadata/"); n != 0 {
				t.Errorf("%d metadata DELETEs for a configuration in no folder", n)
			}
			if fam.versionPerUpdate {
				return // its update saved a version, and marked it as the MCP server's
			}
			after := metadataIn(t, f, "default", fam.comp, id)
			if fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("metadata changed:\nbefore %v\nafter  %v", before, after)
			}
			if v := storedConfig(t, f, fam.comp, id).Version; v != version {
				t.Errorf("version %d, was %d", v, version)
			}
		})
	}
}

// A new configuration is in no folder: an empty folder on create files
// nothing and says nothing about folders (the Python server's is_new).
func TestFolder_EmptyFolderOnCreateFilesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	text, isErr := f.call(t, "create_sql_transformation", map[string]any{"name": "Unfiled on create", "description": "d",
		"sql_code_blocks": []any{map[string]any{"name": "One", "script": `SELECT 1;`}}, "folder": ""})
	if isErr || strings.Contains(strings.ToLower(text), "folder") {
		t.Fatalf("isError=%v:\n%s", isErr, text)
	}
	id := createdTransformation.FindStringSubmatch(text)[1]
	if got := folderEntries(t, f, "default", "keboola.snowflake-transformation", id); len(got) != 0 {
		t.Errorf("folder entries %q", got)
	}
}

// A session in a development branch changes the folder in that branch only.
// Keboola's own API tests expect a branch to refuse deleting configuration
// metadata (501, storage-api-php-client ConfigurationMetadataTest::
// testDeleteMetadata), so taking a configuration out of its folder there
// fails, says why, and leaves production as it was. Data apps are not here:
// their tools refuse development branches.
func TestFolder_DevelopmentBranchSessionChangesItsBranchOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	var families []folderFamily
	for _, fam := range folderFamilies {
		if fam.comp != keboola.DataAppComponentID {
			families = append(families, fam)
		}
	}
	ids := make([]string, len(families))
	for i, fam := range families {
		ids[i] = fam.create(t, f)
		if fam.refile(t, f, ids[i], "Production", ""); len(folderEntries(t, f, "default", fam.comp, ids[i])) != 1 {
			t.Fatalf("%s not filed in production", fam.name)
		}
	}
	branch := strconv.Itoa(f.stack.AddBranch("folders"))
	dev := newFixtureFor(t, f.stack, keboola.Credentials{StackURL: f.stack.URL(), StorageToken: keboola.Secret(f.stack.MasterToken()), BranchID: branch})
	for i, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			id := ids[i]
			if text := fam.refile(t, dev, id, "Branch work", ""); !strings.Contains(text, `Filed in folder "Branch work".`) {
				t.Fatalf("filing in the branch: %s", text)
			}
			if got := folderEntries(t, f, branch, fam.comp, id); len(got) != 1 || got[0] != "Branch work" {
				t.Errorf("branch folder entries %q", got)
			}
			dev.resetRequests()
			tool, args := fam.update(id, "", "")
			text, isErr := dev.call(t, tool, args)
			if !isErr || !strings.Contains(text, `taking it out of folder "Branch work" failed`) ||
				!strings.Contains(text, "not implemented for development branch") || strings.Contains(text, "is saved") {
				t.Errorf("isError=%v, want a failure that names Keboola's reason and saves nothing:\n%s", isErr, text)
			}
			if n := dev.requests("DELETE", "/v2/storage/branch/"+branch+"/components/"+fam.comp+"/configs/"+id+"/metadata/"); n != 1 {
				t.Errorf("%d metadata DELETEs in the branch, want 1", n)
			}
			if n := dev.requests("DELETE", "/branch/default/"); n != 0 {
				t.Errorf("%d DELETEs in production from a branch session", n)
			}
			if got := folderEntries(t, f, branch, fam.comp, id); len(got) != 1 || got[0] != "Branch work" {
				t.Errorf("branch folder entries after the refused removal %q", got)
			}
			if got := folderEntries(t, f, "default", fam.comp, id); len(got) != 1 || got[0] != "Production" {
				t.Errorf("production folder entries %q, want Production untouched", got)
			}
		})
	}
}

// A removal that fails after the rest of the call is saved does not hide
// the saved change: the answer says both, as filing does.
func TestFolder_FailedRemovalAfterASavedChangeSaysBoth(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	for _, fam := range folderFamilies {
		t.Run(fam.name, func(t *testing.T) {
			id := fam.create(t, f)
			fam.refile(t, f, id, "Finance", "")
			metadataPath := "/v2/storage/branch/default/components/" + fam.comp + "/configs/" + id + "/metadata/"
			if err := f.stack.InjectFault(fakestack.Fault{PathPrefix: metadataPath, Fail5xx: 1}); err != nil {
				t.Fatal(err)
			}
			rename := "Renamed " + fam.name
			text := fam.refile(t, f, id, "", rename)
			if !strings.Contains(text, `The change is saved, but taking it out of folder "Finance" failed`) {
				t.Errorf("the answer does not report the saved change and the failed removal:\n%s", text)
			}
			if got := storedConfig(t, f, fam.comp, id).Name; got != rename {
				t.Errorf("name %q, want the saved %q", got, rename)
			}
			if got := folderEntries(t, f, "default", fam.comp, id); len(got) != 1 || got[0] != "Finance" {
				t.Errorf("folder entries %q after the failed removal", got)
			}
			f.stack.ClearFaults()
		})
	}
}

// With nothing else to change, a failed removal fails the call: nothing was
// saved, so the answer must not claim a change.
func TestFolder_FailedRemovalAloneFailsTheCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	fam := folderFamilies[0]
	id := fam.create(t, f)
	fam.refile(t, f, id, "Finance", "")
	if err := f.stack.InjectFault(fakestack.Fault{PathPrefix: "/v2/storage/branch/default/components/" + fam.comp + "/configs/" + id + "/metadata/", Fail5xx: 1}); err != nil {
		t.Fatal(err)
	}
	tool, args := fam.update(id, "", "")
	text, isErr := f.call(t, tool, args)
	if !isErr || !strings.Contains(text, `taking it out of folder "Finance" failed`) || strings.Contains(text, "is saved") {
		t.Errorf("isError=%v:\n%s", isErr, text)
	}
}
