package mcpserver

import (
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

// The Python server's six one-click prompts, by name (its prompts/add_prompts.py).
var pythonPrompts = []string{"analyze_project_structure", "project_health_check", "data_quality_assessment",
	"component_usage_summary", "error_analysis_report", "create_project_documentation"}

func TestPrompts_ListedAndServedOverEveryTransport(t *testing.T) {
	e := newEnv(t, Options{})
	stdio := func() *mcp.ClientSession {
		serverT, clientT := mcp.NewInMemoryTransports()
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		creds := keboola.Credentials{StackURL: e.stack.URL(), StorageToken: keboola.Secret(e.stack.MasterToken())}
		go func() { _ = serveTransport(ctx, Options{}, creds, serverT) }()
		return connectWith(t, clientT)
	}
	for name, cs := range map[string]*mcp.ClientSession{
		"stdio":           stdio(),
		"streamable HTTP": e.connect(t, e.stack.MasterToken(), false),
		"SSE":             connectWith(t, &mcp.SSEClientTransport{Endpoint: e.http.URL + "/sse", HTTPClient: e.httpClient(e.stack.MasterToken(), false)}),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			list, err := cs.ListPrompts(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range list.Prompts {
				names = append(names, p.Name)
				if p.Description == "" || p.Title == "" {
					t.Errorf("%s: no title or description", p.Name)
				}
			}
			slices.Sort(names)
			want := slices.Sorted(slices.Values(pythonPrompts))
			if !slices.Equal(names, want) {
				t.Fatalf("prompts = %v, want %v", names, want)
			}
			for _, n := range names {
				got, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: n})
				if err != nil {
					t.Fatalf("%s: %v", n, err)
				}
				if len(got.Messages) != 1 || got.Messages[0].Role != "user" {
					t.Fatalf("%s: messages %+v", n, got.Messages)
				}
				if text, ok := got.Messages[0].Content.(*mcp.TextContent); !ok || len(text.Text) < 200 {
					t.Errorf("%s: no usable text: %+v", n, got.Messages[0].Content)
				}
			}
			if _, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "security_audit"}); err == nil {
				t.Error("an unknown prompt was served")
			}
		})
	}
}

// Prompts steer the model to tools by name: every name that looks like a
// tool must be one, and each prompt must name some.
func TestPrompts_NameOnlyToolsThatExist(t *testing.T) {
	toolName := regexp.MustCompile(`\b(get|search|query|update|create|run|find|modify|deploy|link|validate|docs)_[a-z_]+\b`)
	for _, p := range prompts {
		found := toolName.FindAllString(p.text, -1)
		if len(found) == 0 {
			t.Errorf("%s names no tool", p.name)
		}
		for _, n := range found {
			if _, ok := tools.Lookup(n); !ok {
				t.Errorf("%s names %s, which is not a tool", p.name, n)
			}
		}
	}
}
