package tools

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
)

// update rewrites the schema snapshots and docs/tools.md:
//
//	go test ./internal/tools -run 'TestToolSchemas|TestToolReference' -update
var update = flag.Bool("update", false, "rewrite testdata/schemas/*.json and docs/tools.md")

func TestRegistry_EveryToolIsDescribedAndAnnotated(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, tool := range All() {
		d := tool.Definition()
		if seen[d.Name] {
			t.Errorf("tool name %s is used twice", d.Name)
		}
		seen[d.Name] = true
		if len(d.Description) < 40 {
			t.Errorf("%s: description %q is too short to guide a model", d.Name, d.Description)
		}
		if d.Title == "" || d.Annotations == nil || d.Annotations.Title == "" {
			t.Errorf("%s: missing title", d.Name)
		}
		raw, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var wire struct {
			Annotations map[string]any `json:"annotations"`
			InputSchema struct {
				Properties map[string]struct {
					Description string `json:"description"`
				} `json:"properties"`
			} `json:"inputSchema"`
		}
		if err := json.Unmarshal(raw, &wire); err != nil {
			t.Fatal(err)
		}
		if _, ok := wire.Annotations["readOnlyHint"]; !ok {
			t.Errorf("%s: readOnlyHint is not explicit on the wire", d.Name)
		}
		if !tool.ReadOnly() {
			if _, ok := wire.Annotations["destructiveHint"]; !ok {
				t.Errorf("%s: a write tool must state destructiveHint", d.Name)
			}
		}
		for prop, p := range wire.InputSchema.Properties {
			if p.Description == "" {
				t.Errorf("%s: parameter %s has no description", d.Name, prop)
			}
		}
	}
}

func TestRegistry_HoldsTheCoreTools(t *testing.T) {
	t.Parallel()
	core := map[string]bool{ // name → read-only
		"get_project_info": true, "get_buckets": true, "get_tables": true, "update_descriptions": false,
		"query_data": true, "get_components": true, "get_configs": true, "get_jobs": true, "run_job": false,
		"search": true, "docs_query": true, "find_component_id": true, "update_project_description": false,
	}
	for name, readOnly := range core {
		tool, ok := Lookup(name)
		if !ok {
			t.Errorf("core tool %s is missing", name)
			continue
		}
		if tool.ReadOnly() != readOnly {
			t.Errorf("%s: ReadOnly() = %v, want %v", name, tool.ReadOnly(), readOnly)
		}
	}
	if _, ok := Lookup("no_such_tool"); ok {
		t.Error("Lookup found a tool that does not exist")
	}
}

// TestToolSchemas compares each tool's marshalled definition with its
// snapshot, so every change of a tool's surface shows up in review.
func TestToolSchemas(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "schemas")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{}
	for _, tool := range All() {
		got, err := json.MarshalIndent(tool.Definition(), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		file := filepath.Join(dir, tool.Name()+".json")
		want[filepath.Base(file)] = true
		if *update {
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s: no snapshot (%v); run go test ./internal/tools -run TestToolSchemas -update", tool.Name(), err)
			continue
		}
		if !bytes.Equal(old, got) {
			t.Errorf("%s: definition differs from %s; review the change and rerun with -update.\ngot:\n%s", tool.Name(), file, got)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("stale snapshot %s for a tool that no longer exists", e.Name())
		}
	}
}

// TestToolReference keeps docs/tools.md in step with the code.
func TestToolReference(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "docs", "tools.md")
	got := Reference()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run go test ./internal/tools -run TestToolReference -update", err)
	}
	if string(old) != got {
		t.Errorf("docs/tools.md is stale; run go test ./internal/tools -run TestToolReference -update")
	}
	for _, tool := range All() {
		if !strings.Contains(got, "## "+tool.Name()) {
			t.Errorf("reference lacks a section for %s", tool.Name())
		}
	}
}

// TestRegistry_ToolsFollowOneConvention checks what should read the same
// on every tool: hints, paging and parameter names for shared concepts.
func TestRegistry_ToolsFollowOneConvention(t *testing.T) {
	t.Parallel()
	// Names that differ from ours only in spelling would make a model guess;
	// the Python server's config_id survives where it uses it, so prompts
	// written for it keep working.
	wrongNames := map[string]string{"config_ids": "configuration_ids", "componentId": "component_id",
		"configurationId": "configuration_id", "row_id": "configuration_row_id", "config_row_ids": "configuration_row_ids"}
	pythonConfigID := map[string]bool{"get_jobs": true, "create_oauth_url": true}
	for _, tool := range All() {
		d := tool.Definition()
		a := d.Annotations
		if a.ReadOnlyHint && !a.IdempotentHint {
			t.Errorf("%s: read-only tools have no effect to repeat, so they are idempotent", d.Name)
		}
		if d.InputSchema == nil {
			continue
		}
		props := d.InputSchema.(*jsonschema.Schema).Properties
		for name := range props {
			if want, bad := wrongNames[name]; bad {
				t.Errorf("%s: parameter %s should be named %s", d.Name, name, want)
			}
			if name == "config_id" && !pythonConfigID[d.Name] {
				t.Errorf("%s: parameter config_id should be configuration_id", d.Name)
			}
		}
		limit, ok := props["limit"]
		if !ok {
			continue
		}
		wantDef, wantMax := listPage, listPageMax
		if d.Name == "search" {
			wantDef, wantMax = searchPage, searchPageMax
		}
		if string(limit.Default) != strconv.Itoa(wantDef) || limit.Maximum == nil || int(*limit.Maximum) != wantMax {
			t.Errorf("%s: limit defaults to %s with maximum %v; listings use %d and %d", d.Name, limit.Default, limit.Maximum, wantDef, wantMax)
		}
		if _, ok := props["offset"]; !ok {
			t.Errorf("%s: limit without offset cannot page", d.Name)
		}
	}
}
