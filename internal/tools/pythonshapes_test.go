package tools

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

// TestPythonCallShapes feeds calls shaped like the Python Keboola MCP
// server's (keboola/mcp-server v1.76) through a real client session: the
// SDK's schema validation, then our argument decoding. The calls in
// testdata/python-shapes.json were derived from the input schemas that server
// publishes in its TOOLS.md: per tool, only the required parameters; every
// optional parameter null; every parameter given (nested optional ones too,
// and every enum value); nested optional parameters null. A tool may answer
// a made-up id with a domain error; it must not refuse the shape.
func TestPythonCallShapes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "python-shapes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var shapes map[string][]struct {
		Name      string         `json:"name"`
		Arguments map[string]any `json:"arguments"`
	}
	if err := json.Unmarshal(raw, &shapes); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range All() {
		names = append(names, tool.Name())
		if len(shapes[tool.Name()]) == 0 {
			t.Errorf("%s: no Python call shape in testdata/python-shapes.json", tool.Name())
		}
	}
	for name := range shapes {
		if !slices.Contains(names, name) {
			t.Errorf("python-shapes.json names %s, which is not one of our tools", name)
		}
	}
	// Its own stack: some shapes call write tools with example values.
	f := newFixture(t, fakestack.Options{})
	for _, name := range names {
		for _, shape := range shapes[name] {
			t.Run(name+"/"+shape.Name, func(t *testing.T) {
				text, isErr := f.call(t, name, shape.Arguments)
				if isErr && refusesShape(text) {
					args, _ := json.Marshal(shape.Arguments)
					t.Errorf("refused a Python-shaped call: %s\narguments: %s", text, args)
				}
			})
		}
	}
}

// refusesShape reports whether a tool error is the SDK refusing the
// arguments (schema validation or decoding) rather than the tool answering.
func refusesShape(text string) bool {
	return strings.Contains(text, `validating "arguments"`) || strings.Contains(text, "cannot unmarshal") ||
		strings.Contains(text, "unknown field")
}
