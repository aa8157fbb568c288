package tools

import (
	"testing"
)

func TestDocsQuery(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "docs_query", []expect{
		{name: "answers with sources", args: map[string]any{"query": "How do I schedule a flow?"},
			contains: []string{"Sources:\n- https://"}},
		{name: "empty question is a schema error", args: map[string]any{"query": ""}, isError: true},
	})
}
