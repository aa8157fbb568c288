package tools_test

import (
	"regexp"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/mcpserver"
	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

// The server instructions guide a model through the whole tool surface;
// they live in mcpserver, but they are about these tools, so they are
// checked against them here.
func TestInstructions_NameEveryToolAndOnlyRealOnes(t *testing.T) {
	t.Parallel()
	const maxLen = 2500 // read once per session, so kept short
	if n := len(mcpserver.Instructions); n >= maxLen {
		t.Errorf("instructions are %d bytes, want fewer than %d", n, maxLen)
	}
	// Every snake_case word in the instructions is a tool name.
	for _, w := range regexp.MustCompile(`\b[a-z]+(?:_[a-z]+)+\b`).FindAllString(mcpserver.Instructions, -1) {
		if _, ok := tools.Lookup(w); !ok {
			t.Errorf("instructions name %s, which is no tool", w)
		}
	}
	for _, tool := range tools.All() {
		if !regexp.MustCompile(`\b` + tool.Name() + `\b`).MatchString(mcpserver.Instructions) {
			t.Errorf("instructions do not mention %s", tool.Name())
		}
	}
}
