package tools

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// The flow schemas and examples are data files so that tests can check
// every example against both the schema and the validator.
//
//go:embed flowdata/*.json
var flowData embed.FS

// flowFile names the data file of a flow type: "schema" or "examples".
func flowFile(flowType, what string) string {
	kind := "legacy"
	if flowType == keboola.ConditionalFlowComponentID {
		kind = "conditional"
	}
	return "flowdata/" + kind + "-" + what + ".json"
}

// flowSchemaJSON returns the JSON schema of a flow type's configuration.
func flowSchemaJSON(flowType string) []byte {
	b, err := flowData.ReadFile(flowFile(flowType, "schema"))
	if err != nil {
		panic(err) // embedded at build time; the tests read every file
	}
	return b
}

// flowExample is one example flow configuration.
type flowExample struct {
	Title         string          `json:"title"`
	Configuration json.RawMessage `json:"configuration"`
}

// flowExamples returns a flow type's examples, each configuration compact.
func flowExamples(flowType string) ([]flowExample, error) {
	b, err := flowData.ReadFile(flowFile(flowType, "examples"))
	if err != nil {
		return nil, err
	}
	var out []flowExample
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("flow examples of %s: %w", flowType, err)
	}
	for i := range out {
		var c bytes.Buffer
		if err := json.Compact(&c, out[i].Configuration); err != nil {
			return nil, err
		}
		out[i].Configuration = c.Bytes()
	}
	return out, nil
}
