// Package tools defines the MCP tools that work with a Keboola project.
//
// Every tool is declared once, statically: its name, title, description,
// annotations (an explicit readOnlyHint on each) and typed input schema. The
// Keboola client is not captured at declaration time; a ClientFunc supplied
// when the tools are registered on a server resolves it from the request
// context, so one declaration serves stdio and per-request HTTP alike.
package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// ClientFunc returns the Keboola client (the user's session, see
// keboola.Sessions) that acts for the request in ctx. An error means the
// request carries no usable credentials; it is an internal fault, since the
// transport should have refused such a request.
type ClientFunc func(ctx context.Context) (*keboola.Client, error)

// Deps is what the tools need from the process that serves them. Handing
// them in, rather than keeping package state, lets every server (and every
// test) choose its own clock, timings and sessions.
type Deps struct {
	// Clients resolves a call's Keboola client. Required.
	Clients ClientFunc
	// QueryTimeout bounds a query_data call; past it the query is cancelled
	// in Keboola [240 s: below the 300 s after which common clients give up].
	QueryTimeout time.Duration
	// QueryPollInterval is the first wait between status checks of a query;
	// the client lengthens it by half after each check [250 ms: short, so the
	// many queries that finish in under a second answer promptly].
	QueryPollInterval time.Duration
	// Logger receives tool-level logs [discard].
	Logger *slog.Logger
	// Audit records every tool call in the project's event log [one
	// POST /v2/storage/events per call, as the Python server does].
	Audit AuditFunc
	// ServerVersion names this server's version in the audit events.
	ServerVersion string
}

func (d Deps) withDefaults() Deps {
	if d.QueryTimeout <= 0 {
		d.QueryTimeout = 240 * time.Second
	}
	if d.QueryPollInterval <= 0 {
		d.QueryPollInterval = 250 * time.Millisecond
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Audit == nil {
		d.Audit = postAuditEvent(d.Logger)
	}
	return d
}

// Tool is one MCP tool: its protocol definition plus the code that serves it.
type Tool struct {
	def *mcp.Tool
	add func(s *mcp.Server, def *mcp.Tool, deps Deps)
}

// Name returns the tool's MCP name.
func (t Tool) Name() string { return t.def.Name }

// ReadOnly reports whether the tool only reads from the project.
func (t Tool) ReadOnly() bool { return t.def.Annotations.ReadOnlyHint }

// Definition returns a copy of the tool's MCP definition (name, title,
// description, annotations, input schema) as tools/list shows it. The input
// schema is shared with the registry and must not be modified.
func (t Tool) Definition() *mcp.Tool {
	d := *t.def
	a := *t.def.Annotations
	d.Annotations = &a
	return &d
}

// All returns every tool, sorted by name. The slice is fresh; the tools are
// shared and immutable.
func All() []Tool {
	return slices.Clone(registry)
}

// Lookup returns the tool with the given name.
func Lookup(name string) (Tool, bool) {
	i, ok := slices.BinarySearchFunc(registry, name, func(t Tool, n string) int {
		switch {
		case t.Name() < n:
			return -1
		case t.Name() > n:
			return 1
		}
		return 0
	})
	if !ok {
		return Tool{}, false
	}
	return registry[i], true
}

// Register adds the given tools to s. Each call of a tool resolves its
// Keboola client with deps.Clients.
func Register(s *mcp.Server, ts []Tool, deps Deps) {
	deps = deps.withDefaults()
	schemas := make(map[string]*jsonschema.Schema, len(ts))
	for _, t := range ts {
		t.add(s, t.def, deps)
		schemas[t.Name()] = t.def.InputSchema.(*jsonschema.Schema)
	}
	s.AddReceivingMiddleware(nullsAsAbsent(schemas), nullArgumentsAsEmpty)
}

// nullArgumentsAsEmpty treats a tools/call with "arguments": null as one
// with no arguments. The SDK (v1.8.0) panics applying schema defaults to a
// null object, which would let any client crash the server.
func nullArgumentsAsEmpty(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if call, ok := req.(*mcp.CallToolRequest); ok && call.Params != nil {
			if a := bytes.TrimSpace(call.Params.Arguments); len(a) == 0 || bytes.Equal(a, []byte("null")) {
				call.Params.Arguments = json.RawMessage("{}")
			}
		}
		return next(ctx, method, req)
	}
}

// registry holds every tool, sorted by name; it is filled at init from the
// per-area files and never changes afterwards.
var registry = func() []Tool {
	var all []Tool
	for _, area := range [][]Tool{projectTools, storageTools, sqlTools, componentTools, jobTools, searchTools, docsTools, dataAppTools, semanticTools, flowTools, configTools, sharingTools, transformationTools} {
		all = append(all, area...)
	}
	slices.SortFunc(all, func(a, b Tool) int {
		switch {
		case a.Name() < b.Name():
			return -1
		case a.Name() > b.Name():
			return 1
		}
		return 0
	})
	return all
}()

// hints are the behaviour annotations of a tool. Every tool states readOnly
// explicitly; the others are set where they are true.
type hints struct {
	readOnly    bool
	destructive bool
	idempotent  bool
}

// call is what a tool handler gets besides its typed input.
type call struct {
	client *keboola.Client
	req    *mcp.CallToolRequest
	deps   Deps
}

// define declares a tool whose input is In. tweak, if non-nil, adjusts the
// schema inferred from In (enums, bounds, defaults) that struct tags cannot
// express. It panics on a schema that cannot be inferred, which the package
// tests catch at once.
func define[In any](name, title, description string, h hints, tweak func(*jsonschema.Schema),
	handler func(ctx context.Context, c call, in In) (string, error)) Tool {
	return newTool(name, title, description, h, tweak, nil, func(ctx context.Context, c call, in In) (string, any, error) {
		text, err := handler(ctx, c, in)
		return text, nil, err
	})
}

// defineStructured is define for a tool that also answers with
// structuredContent of type Out, announced as its outputSchema, for clients
// that parse results; the text stays the answer for models. A failed call
// has no structured content.
func defineStructured[In, Out any](name, title, description string, h hints, tweak func(*jsonschema.Schema),
	handler func(ctx context.Context, c call, in In) (string, *Out, error)) Tool {
	out, err := jsonschema.For[Out](nil)
	if err != nil {
		panic(fmt.Sprintf("tool %s output: %v", name, err))
	}
	return newTool(name, title, description, h, tweak, out, func(ctx context.Context, c call, in In) (string, any, error) {
		text, structured, err := handler(ctx, c, in)
		if structured == nil {
			return text, nil, err // not a typed nil: that would encode as null
		}
		return text, structured, err
	})
}

func newTool[In any](name, title, description string, h hints, tweak func(*jsonschema.Schema), output *jsonschema.Schema,
	handler func(ctx context.Context, c call, in In) (string, any, error)) Tool {
	schema, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("tool %s: %v", name, err))
	}
	if tweak != nil {
		tweak(schema)
	}
	// The Python server's schemas let every optional parameter be null, and
	// clients and saved calls made for it send null for "not given".
	nullableOptionals(schema)
	ann := &mcp.ToolAnnotations{Title: title, ReadOnlyHint: h.readOnly, IdempotentHint: h.idempotent}
	if !h.readOnly {
		// The MCP default for a write tool is destructive; say so either way.
		ann.DestructiveHint = &h.destructive
	}
	openWorld := false
	ann.OpenWorldHint = &openWorld
	def := &mcp.Tool{
		Name:        name,
		Title:       title,
		Description: description,
		Annotations: ann,
		InputSchema: schema,
	}
	if output != nil {
		def.OutputSchema = output
	}
	add := func(s *mcp.Server, def *mcp.Tool, deps Deps) {
		mcp.AddTool(s, def, func(ctx context.Context, req *mcp.CallToolRequest, in In) (res *mcp.CallToolResult, out any, err error) {
			// The SDK does not recover handler panics; one would end the
			// whole process, every user's session with it.
			defer func() {
				if p := recover(); p != nil {
					res, err = nil, fmt.Errorf("internal error in %s: %v", def.Name, p)
				}
			}()
			ctx, stop := linkCancel(ctx)
			defer stop()
			client, err := deps.Clients(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("no Keboola client for this request: %w", err)
			}
			start := time.Now()
			text, structured, err := handler(ctx, call{client: client, req: req, deps: deps}, in)
			event := toolCallEvent(def.Name, deps.ServerVersion, req, err, time.Since(start))
			doOrLeave(ctx, func(ctx context.Context) { deps.Audit(ctx, client, event) })
			if err != nil {
				return failure(err), nil, nil
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, structured, nil
		})
	}
	return Tool{def: def, add: add}
}

// userError is a failure the model can act on (bad id, bad filter); its
// message is shown as is.
type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }

// errorf returns a model-actionable error.
func errorf(format string, args ...any) error {
	return &userError{msg: fmt.Sprintf(format, args...)}
}

// failure turns a handler error into a tool result with IsError set and a
// message a person or a model can act on. Keboola's own messages are kept:
// they name what was wrong (the SQL engine's error, the missing id).
// A stack that cannot be reached is reported by the client as "cannot reach
// Keboola stack <host>", which names the stack already.
func failure(err error) *mcp.CallToolResult {
	var ue *userError
	msg := err.Error()
	switch {
	case errors.As(err, &ue):
		msg = ue.msg
	case errors.Is(err, keboola.ErrInvalidToken):
		msg = "the Keboola token is invalid or expired: ask the user for a new Storage API token (" + err.Error() + ")"
	case errors.Is(err, keboola.ErrForbidden):
		msg = "the Keboola token lacks the permission for this: " + err.Error()
	case errors.Is(err, keboola.ErrMaintenance):
		msg = "the Keboola stack is under maintenance; " + whenToRetry(err) + " (" + err.Error() + ")"
	case isRateLimited(err):
		msg = "Keboola is limiting the request rate; " + whenToRetry(err) + " (" + err.Error() + ")"
	case errors.Is(err, context.DeadlineExceeded):
		msg = "the call took too long and was stopped: " + err.Error()
	case errors.Is(err, context.Canceled):
		msg = "the call was cancelled"
	}
	res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
	res.SetError(err)
	return res
}

// isRateLimited reports a 429 that outlasted the client's retries.
func isRateLimited(err error) bool {
	var apiErr *keboola.APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests
}

// whenToRetry turns Keboola's Retry-After hint into advice: a model told
// only "HTTP 503" tends to retry at once, which a maintenance window or a
// rate limit answers the same way.
func whenToRetry(err error) string {
	var apiErr *keboola.APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		return "try again in " + apiErr.RetryAfter.Round(time.Second).String()
	}
	return "try again in a few minutes"
}

// ErrorResult is the tool result for a failed call, worded as every tool
// words it (failure); the MCP server uses it for calls it refuses before the
// tool runs.
func ErrorResult(err error) *mcp.CallToolResult { return failure(err) }

type cancelKey struct{}

// CancelWith returns a context that makes every tool call running under it
// stop also when done ends. The HTTP transports use it to stop work (and
// cancel a running query) when the client that asked for it disconnects:
// the SDK keeps a call running until it returns, whatever happens to the
// connection.
func CancelWith(ctx, done context.Context) context.Context {
	return context.WithValue(ctx, cancelKey{}, done)
}

// linkCancel derives a context that also ends when the one registered with
// CancelWith does.
func linkCancel(ctx context.Context) (context.Context, func()) {
	done, ok := ctx.Value(cancelKey{}).(context.Context)
	if !ok {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(done, func() { cancel(context.Cause(done)) })
	return ctx, func() { stop(); cancel(nil) }
}

// Schema tweaks: struct tags give types and descriptions; these add what
// tags cannot say.

// prop returns the named property of an object schema; a typo in a tool
// definition panics at init, which every test run catches.
func prop(s *jsonschema.Schema, name string) *jsonschema.Schema {
	p, ok := s.Properties[name]
	if !ok {
		panic(fmt.Sprintf("schema has no property %q", name))
	}
	return p
}

// bounds sets an integer property's range and default.
func bounds(s *jsonschema.Schema, name string, lo, hi, def int) {
	p := prop(s, name)
	p.Minimum = jsonschema.Ptr(float64(lo))
	p.Maximum = jsonschema.Ptr(float64(hi))
	p.Default = mustJSON(def)
}

// Page sizes: every listing pages the same way, so a model learns one
// rule. Search hits default to fewer, as the Python server's do: a search
// is refined rather than paged through.
const (
	listPage      = 100
	listPageMax   = 500
	searchPage    = 50
	searchPageMax = 200
)

// paging sets the usual limit (1..maxLimit, default def) and offset (≥ 0).
func paging(s *jsonschema.Schema, def, maxLimit int) {
	bounds(s, "limit", 1, maxLimit, def)
	p := prop(s, "offset")
	p.Minimum = jsonschema.Ptr(0.0)
	p.Default = mustJSON(0)
}

// enum restricts a string property (or the items of a string array) to values.
func enum(s *jsonschema.Schema, name string, values ...string) {
	p := prop(s, name)
	if p.Items != nil {
		p = p.Items
	}
	p.Enum = make([]any, len(values))
	for i, v := range values {
		p.Enum[i] = v
	}
}

// minLen requires a string property to be non-empty, or an array to have
// at least n items.
func minLen(s *jsonschema.Schema, name string, n int) {
	p := prop(s, name)
	if p.Type == "array" || slices.Contains(p.Types, "array") {
		p.MinItems = jsonschema.Ptr(n)
		return
	}
	p.MinLength = jsonschema.Ptr(n)
}

// flexibleID is an id a caller may send as a string or a number (the Python
// server takes Keboola project ids as either).
type flexibleID string

func (id *flexibleID) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*id = flexibleID(n.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("an id must be a string or a number")
	}
	*id = flexibleID(s)
	return nil
}

// stringOrInteger widens a flexibleID property's schema to match.
func stringOrInteger(s *jsonschema.Schema, name string) {
	p := prop(s, name)
	p.Type, p.Types = "", []string{"string", "integer"}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
