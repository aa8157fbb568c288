package tools

import (
	"context"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

var docsTools = []Tool{
	define("docs_query", "Ask Keboola documentation",
		"Answers a question about Keboola (how a feature works, how to configure a component, what an error "+
			"means) from Keboola's documentation, with links to the sources. Ask in plain words.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) { minLen(s, "query", 1) },
		docsQuery),
}

type docsQueryInput struct {
	Query string `json:"query" jsonschema:"The question, e.g. How do I schedule a flow?"`
}

func docsQuery(ctx context.Context, c call, in docsQueryInput) (string, error) {
	q := strings.TrimSpace(in.Query)
	if q == "" {
		return "", errorf("query must be a question about Keboola")
	}
	ans, err := c.client.AskDocs(ctx, q)
	if err != nil {
		return "", err
	}
	text := strings.TrimSpace(ans.Text)
	if text == "" {
		text = "The documentation service had no answer; rephrase the question."
	}
	var b strings.Builder
	b.WriteString(text)
	b.WriteString("\n")
	if len(ans.SourceURLs) > 0 {
		b.WriteString("\nSources:\n")
		for _, u := range ans.SourceURLs {
			b.WriteString("- " + u + "\n")
		}
	}
	return b.String(), nil
}
