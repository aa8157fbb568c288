package tools

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update rewrites the schema snapshots and docs/tools.md:
//
//	go test ./internal/tools -run 'TestToolSchemas|TestToolReference' -update
var update = flag.Bool("update", false, "rewrite testdata/schemas/*.json and docs/tools.md")

func TestRegistry_EveryToolIsDescribedAndAnnotated(t *testing.T) {
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
