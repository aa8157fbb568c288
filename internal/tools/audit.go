package tools

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// AuditFunc records one tool call in the project's event log. It must not
// fail the call it records, and must return in bounded time.
type AuditFunc func(ctx context.Context, client *keboola.Client, event keboola.EventInput)

// auditComponent is the component the tool-call events are filed under; the
// Python server files its events there too (errors.py, _trigger_event), so
// project admins find both servers' calls in one place.
const auditComponent = keboola.WorkspaceComponentID

// auditTimeout bounds the event post: it adds one Storage round trip to
// every call, and a slow or failing event log must not hold the answer.
const auditTimeout = 3 * time.Second

// maxAuditValue bounds one argument's JSON in an event; a configuration or
// SQL text can be large and the event log is not its archive.
const maxAuditValue = 1000

// postAuditEvent is the default AuditFunc: one POST /v2/storage/events,
// best effort. It outlives a caller who has gone (the call did happen) but
// not auditTimeout; a failure (a read-only token may not write events) is
// only logged.
func postAuditEvent(logger *slog.Logger) AuditFunc {
	return func(ctx context.Context, client *keboola.Client, event keboola.EventInput) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
		defer cancel()
		if _, err := client.CreateEvent(ctx, event); err != nil {
			logger.WarnContext(ctx, "tools: recording the tool call in Keboola's event log failed", "error", err.Error())
		}
	}
}

// AfterAnswer holds the work tool calls leave for after their answer: their
// audit events, so that no answer waits for that second Keboola round trip.
// Both servers use it (WithAfterAnswer): the native one posts the events
// alongside the answer (mcpserver), the Worker once the answer is out, while
// the request is kept alive (waitUntil). Without one in the context, a tool
// call audits in line. Whoever makes one must Run it.
type AfterAnswer struct {
	mu   sync.Mutex
	work []func(context.Context)
}

type afterAnswerKey struct{}

// WithAfterAnswer returns a context in which tool calls leave their audit
// events to later instead of posting them before they answer.
func WithAfterAnswer(ctx context.Context, later *AfterAnswer) context.Context {
	return context.WithValue(ctx, afterAnswerKey{}, later)
}

// LeavesForLater reports whether ctx already collects the work tool calls
// leave for after their answer.
func LeavesForLater(ctx context.Context) bool {
	_, ok := ctx.Value(afterAnswerKey{}).(*AfterAnswer)
	return ok
}

// doOrLeave runs work now, or leaves it to ctx's AfterAnswer when it has one.
func doOrLeave(ctx context.Context, work func(context.Context)) {
	if later, ok := ctx.Value(afterAnswerKey{}).(*AfterAnswer); ok {
		later.add(work)
		return
	}
	work(ctx)
}

func (a *AfterAnswer) add(work func(context.Context)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.work = append(a.work, work)
}

// Pending reports whether there is work to run.
func (a *AfterAnswer) Pending() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.work) > 0
}

// Run runs the work left so far, concurrently, and returns when it is done.
// ctx carries what the work's requests need where it runs now (in the
// Worker, the call that runs it); its values, not its end, bound the work.
func (a *AfterAnswer) Run(ctx context.Context) {
	a.mu.Lock()
	work := a.work
	a.work = nil
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range work {
		wg.Go(func() { w(ctx) })
	}
	wg.Wait()
}

// toolCallEvent describes a finished tool call. Its params follow the shape
// of the Python server's events (errors.py, _trigger_event; schema
// ext.keboola.mcp-server-tool), with secrets masked.
func toolCallEvent(name, serverVersion string, req *mcp.CallToolRequest, err error, took time.Duration) keboola.EventInput {
	ev := keboola.EventInput{Component: auditComponent, Type: "success", Duration: took,
		Message: "MCP tool " + name + " succeeded."}
	if err != nil {
		ev.Type = "error"
		ev.Message = "MCP tool " + name + " failed: " + shorten(failure(err).Content[0].(*mcp.TextContent).Text, 500)
	}
	context := map[string]any{"version": serverVersion}
	var args []any
	if req != nil {
		if ss := req.Session; ss != nil {
			context["sessionId"] = ss.ID()
			if p := ss.InitializeParams(); p != nil && p.ClientInfo != nil {
				context["userAgent"] = p.ClientInfo.Name + "/" + p.ClientInfo.Version
			}
		}
		if req.Params != nil {
			args = auditArguments(req.Params.Arguments)
		}
	}
	ev.Params = map[string]any{
		"mcpServerContext": context,
		"tool":             map[string]any{"name": name, "arguments": nonNilList(args)},
	}
	return ev
}

// auditArguments lists the call's arguments as {key, value} pairs, each
// value as JSON cut to maxAuditValue bytes, with secrets masked.
func auditArguments(raw json.RawMessage) []any {
	var args map[string]any
	if json.Unmarshal(raw, &args) != nil {
		return nil
	}
	out := make([]any, 0, len(args))
	for _, k := range slices.Sorted(maps.Keys(args)) {
		v := maskSecrets(k, args[k])
		b, _ := json.Marshal(v)
		s := string(b)
		if len(s) > maxAuditValue {
			s = s[:maxAuditValue] + "…"
		}
		out = append(out, map[string]any{"key": k, "value": s})
	}
	return out
}

// isSecretKey tells keys whose values must not reach the event log:
// Keboola's encrypted-value convention (a leading #) and anything naming a
// token, password or secret.
func isSecretKey(k string) bool {
	if strings.HasPrefix(k, "#") {
		return true
	}
	l := strings.ToLower(k)
	return strings.Contains(l, "token") || strings.Contains(l, "password") || strings.Contains(l, "secret")
}

// maskSecrets returns v with the values of secret keys, at any depth,
// replaced by redacted.
func maskSecrets(key string, v any) any {
	if isSecretKey(key) {
		return redacted
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = maskSecrets(k, x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = maskSecrets("", x)
		}
		return out
	}
	return v
}
