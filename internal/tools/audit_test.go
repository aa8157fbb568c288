package tools

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

// The Python server files one Storage event per tool call under
// keboola.mcp-server-tool, success or error, with the call's arguments
// (errors.py, _trigger_event); project admins audit MCP use from it. The
// fake records each event; secrets must not reach it.
func TestEveryToolCallLeavesOneAuditEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{NoDemo: true})
	f.stack.ResetRequests()
	if text, isErr := f.call(t, "get_buckets", nil); isErr {
		t.Fatal(text)
	}
	if text, isErr := f.call(t, "get_tables", map[string]any{"table_ids": []string{"in.c-nowhere.x"}}); !isErr {
		t.Fatalf("a missing table is not an error: %s", text)
	}
	if text, isErr := f.call(t, "create_config", map[string]any{"component_id": "keboola.ex-http", "name": "API", "description": "d",
		"parameters": map[string]any{"baseUrl": "https://example.com", "#password": "hunter2", "auth": map[string]any{"token": "tok-123"}}}); isErr {
		t.Fatal(text)
	}
	if n := f.requests("POST", "/v2/storage/events"); n != 3 {
		t.Errorf("%d event posts for 3 tool calls", n)
	}
	events, err := f.client.ListEvents(context.Background(), keboola.EventQuery{Component: "keboola.mcp-server-tool"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 {
		t.Fatalf("%d audit events, want 3: %+v", len(events), events)
	}
	// Newest first.
	for i, want := range []struct{ tool, typ string }{{"create_config", "success"}, {"get_tables", "error"}, {"get_buckets", "success"}} {
		e := events[i]
		if e.Type != want.typ || !strings.Contains(e.Message, want.tool) {
			t.Errorf("event %d: %s %q, want %s naming %s", i, e.Type, e.Message, want.typ, want.tool)
		}
		var p struct {
			Tool struct {
				Name string `json:"name"`
			} `json:"tool"`
			Context struct {
				UserAgent string `json:"userAgent"`
			} `json:"mcpServerContext"`
		}
		if err := json.Unmarshal(e.Params, &p); err != nil || p.Tool.Name != want.tool || p.Context.UserAgent != "test-client/test" {
			t.Errorf("event %d params %s (%v)", i, e.Params, err)
		}
	}
	params := string(events[0].Params)
	if strings.Contains(params, "hunter2") || strings.Contains(params, "tok-123") || !strings.Contains(params, "example.com") {
		t.Errorf("create_config event params leak secrets or lost the arguments: %s", params)
	}
}

// A failing event log (here: the events endpoint answers 500) never fails
// the tool call it records.
func TestAuditFailureDoesNotFailTheCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{NoDemo: true})
	if err := f.stack.InjectFault(fakestack.Fault{PathPrefix: "/v2/storage/events", Fail5xx: 100}); err != nil {
		t.Fatal(err)
	}
	if text, isErr := f.call(t, "get_buckets", nil); isErr {
		t.Fatalf("the call failed with the event log: %s", text)
	}
}

// In the Worker the answer must not wait for the audit event
// (WithAfterAnswer): the call leaves the post for later, and Run posts it.
func TestAuditAfterAnswerPostsOnlyWhenRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{NoDemo: true})
	var later AfterAnswer
	ctx := WithAfterAnswer(context.Background(), &later)
	audit := postAuditEvent(slog.New(slog.DiscardHandler))
	doOrLeave(ctx, func(ctx context.Context) {
		audit(ctx, f.client, toolCallEvent("get_buckets", "test", nil, nil, time.Millisecond))
	})
	if n := f.requests("POST", "/v2/storage/events"); n != 0 || !later.Pending() {
		t.Fatalf("the audit call posted in line (%d posts) or left nothing for later", n)
	}
	later.Run(context.Background())
	if n := f.requests("POST", "/v2/storage/events"); n != 1 || later.Pending() {
		t.Fatalf("%d event posts after Run, want 1 and nothing left", n)
	}
	events, err := f.client.ListEvents(context.Background(), keboola.EventQuery{Component: "keboola.mcp-server-tool"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || !strings.Contains(events[0].Message, "get_buckets") {
		t.Fatalf("want the one audit event, got %+v", events)
	}
}
