// Package mcpserver builds the MCP server for Keboola on the official go-sdk
// and serves it over stdio, Streamable HTTP and legacy SSE.
//
// Servers are built once per tool set (the full set and the read-only set),
// on first use and never per request: tool schemas are inferred and resolved once, and the
// tools/list answer is encoded once (see toolListCache). Which Keboola
// project a tool call works in is decided per call, from the credentials in
// the request context (see package access), so the same server serves every
// user.
package mcpserver

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

// Options configure a Server. The zero value serves every tool.
type Options struct {
	// ReadOnly serves only read-only tools, whatever the request's Access allows.
	ReadOnly bool
	// Tools, if not empty, serves only the named tools.
	Tools []string
	// ExcludeTools removes the named tools.
	ExcludeTools []string
	// ResourceMetadataURL is the RFC 9728 protected resource metadata URL
	// named in the WWW-Authenticate header of an insufficient_scope answer.
	ResourceMetadataURL string
	// JSONResponse makes Streamable HTTP answer with a single JSON body
	// instead of an event stream (suits the Worker; no progress
	// notifications reach the client then).
	JSONResponse bool
	// MessagesPath is where legacy SSE clients POST their messages; default
	// "/messages".
	MessagesPath string
	// Version is reported to clients as the server version.
	Version string
	// Logger receives server logs; nil discards them.
	Logger *slog.Logger
	// Client configures the Keboola clients made for tool calls.
	Client keboola.Options
}

// Server is the Keboola MCP server and its tool sets.
type Server struct {
	opts Options
	deps tools.Deps
	// full serves every enabled tool; readOnly only the read-only ones. They
	// are the same set when Options.ReadOnly is set.
	full, readOnly *lazySet
	// writeTools names the enabled tools a read-only Access may not call.
	writeTools map[string]bool
	// readOnlyTool maps every enabled tool to its read-only flag, for gating.
	readOnlyTool map[string]bool
	// sessions is the one cache of Keboola sessions of this server.
	sessions *keboola.Sessions
	log      *slog.Logger
	sse      *sseHandler
	// afterAnswers runs the tool calls' audit events (see postAfterAnswer).
	afterAnswers sync.WaitGroup
}

// lazySet builds its toolSet on first use. Building one (inferring and
// resolving ~40 tool schemas) is most of a server's start, many times over
// in the Worker's wasm, where an isolate usually serves one kind of grant
// and so needs one set.
type lazySet struct {
	tools []tools.Tool
	once  sync.Once
	built toolSet
}

// toolSet is one built server and the names of the tools it serves.
type toolSet struct {
	srv   *mcp.Server
	names []string
	list  *toolListCache
}

// New builds the servers for the enabled tools. It fails on a tool name in
// Tools or ExcludeTools that does not exist, listing the valid names, and on a
// write tool named in Tools of a ReadOnly server.
func New(opts Options) (*Server, error) {
	enabled, err := selectTools(opts)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.MessagesPath == "" {
		opts.MessagesPath = "/messages"
	}
	s := &Server{opts: opts, writeTools: map[string]bool{}, readOnlyTool: map[string]bool{}, log: log,
		sessions: keboola.NewSessions(opts.Client, keboola.SessionOptions{})}
	s.sse = &sseHandler{s: s, sessions: map[string]*sseSession{}}
	var readOnly []tools.Tool
	for _, t := range enabled {
		s.readOnlyTool[t.Name()] = t.ReadOnly()
		if t.ReadOnly() {
			readOnly = append(readOnly, t)
		} else {
			s.writeTools[t.Name()] = true
		}
	}
	s.deps = tools.Deps{Clients: sessionClients(s.sessions), Logger: log, ServerVersion: opts.Version}
	s.readOnly = &lazySet{tools: readOnly}
	if opts.ReadOnly {
		s.full = s.readOnly
		clear(s.writeTools)
	} else {
		s.full = &lazySet{tools: enabled}
	}
	return s, nil
}

// ToolNames returns the names of the tools an Access with the given
// read-only flag sees, sorted.
func (s *Server) ToolNames(readOnly bool) []string {
	return slices.Clone(s.set(readOnly).names)
}

// MCPServer returns the go-sdk server for an Access with the given read-only
// flag, for transports this package does not provide. Its tools must not be
// added or removed: the server answers tools/list from a cached page.
func (s *Server) MCPServer(readOnly bool) *mcp.Server { return s.set(readOnly).srv }

// Prepare builds the tool set a session of that scope is served with, which
// its first request would otherwise build. The Worker calls it in the
// background of a fresh isolate's first answers, so that the first tool
// call does not pay for it.
func (s *Server) Prepare(readOnly bool) { s.set(readOnly) }

func (s *Server) set(readOnly bool) toolSet {
	l := s.full
	if readOnly {
		l = s.readOnly
	}
	l.once.Do(func() { l.built = s.build(l.tools, s.deps) })
	return l.built
}

func (s *Server) build(ts []tools.Tool, deps tools.Deps) toolSet {
	version := s.opts.Version
	if version == "" {
		version = "dev"
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "keboola-mcp", Title: "Keboola", Version: version}, &mcp.ServerOptions{
		Instructions: Instructions,
		Logger:       s.log,
		// Tools and prompts are fixed for the server's lifetime, so
		// list_changed is never sent.
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}, Prompts: &mcp.PromptCapabilities{}},
	})
	tools.Register(srv, ts, deps)
	addPrompts(srv)
	srv.AddReceivingMiddleware(s.postAfterAnswer)
	srv.AddReceivingMiddleware(s.gating)
	list := &toolListCache{gate: s.listGateFor, readOnlyTool: s.readOnlyTool}
	// Added last, so outermost: a cached tools/list skips the rest.
	srv.AddReceivingMiddleware(list.middleware)
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name()
	}
	return toolSet{srv: srv, names: names, list: list}
}

// selectTools applies the Tools and ExcludeTools filters, rejecting unknown names.
func selectTools(opts Options) ([]tools.Tool, error) {
	var unknown []string
	for _, n := range slices.Concat(opts.Tools, opts.ExcludeTools) {
		if _, ok := tools.Lookup(n); !ok {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		var valid []string
		for _, t := range tools.All() {
			valid = append(valid, t.Name())
		}
		return nil, fmt.Errorf("unknown tool name(s) %s; valid names: %s",
			strings.Join(unknown, ", "), strings.Join(valid, ", "))
	}
	if opts.ReadOnly {
		// Asking for a tool by name and for a read-only server at once is a
		// contradiction the operator must resolve; serving without the tool
		// (or with none at all) would look like a broken server to the client.
		var writers []string
		for _, n := range opts.Tools {
			if t, _ := tools.Lookup(n); !t.ReadOnly() {
				writers = append(writers, n)
			}
		}
		if len(writers) > 0 {
			return nil, fmt.Errorf("--read-only serves only tools that do not change the project, but --tools names %s, which do: drop them from --tools or drop --read-only",
				strings.Join(writers, ", "))
		}
	}
	var out []tools.Tool
	for _, t := range tools.All() {
		if len(opts.Tools) > 0 && !slices.Contains(opts.Tools, t.Name()) {
			continue
		}
		if slices.Contains(opts.ExcludeTools, t.Name()) {
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, errors.New("the tool filters leave no tool to serve")
	}
	return out, nil
}

var errNoAccess = errors.New("the request carries no Keboola credentials")

// Instructions tell the model how to work with a Keboola project through
// these tools. They are sent once, at initialization.
const Instructions = `You are connected to one Keboola project: Storage (buckets and tables), the components and configurations that load, transform and write its data, flows that run them, jobs, data apps and, where set up, a semantic layer.

How to work:
1. Start with get_project_info: the project, its description, its SQL dialect (Snowflake or BigQuery) and links.
2. Find things: search matches names and descriptions of buckets, tables, columns, configurations and their rows, transformations, flows and data apps (plain text, or mode=regex; config-based search looks inside configurations, e.g. which flows run one). get_buckets and get_tables list Storage; get_tables on chosen tables gives columns, types and the fully qualified SQL name. get_shared_buckets and link_shared_bucket bring in data other projects share.
3. Semantic layer: if search_semantic_context or get_semantic_context finds a semantic model, read its datasets, metrics and constraints (get_semantic_schema explains their fields) before writing SQL, and check the SQL with validate_semantic_query.
4. Query with query_data: one read-only SELECT in the project's dialect with fully qualified table names; aggregate and filter in SQL.
5. Components: get_components, get_configs, find_component_id (which component fits a task) and get_config_examples; create_config, add_config_row, update_config, update_config_row; run_sync_action (e.g. test a connection); create_oauth_url for components that sign in with OAuth.
6. Transformations: create_sql_transformation and update_sql_transformation, SQL in the project's dialect; get_configs shows the current SQL.
7. Flows: get_flows; read get_flow_schema and get_flow_examples, then create_conditional_flow (the default) or create_flow (legacy). update_flow changes a flow; modify_flow also adds, changes or removes its schedules.
8. Jobs: run_job starts a configuration or flow; get_jobs follows it and shows why a job failed.
9. Data apps: get_data_apps; modify_streamlit_data_app or modify_python_js_data_app (code in git: create_python_js_data_app_git_credential, delete_python_js_data_app_draft), then deploy_data_app.
10. Descriptions: update_descriptions (buckets, tables, columns), update_project_description. docs_query answers questions from Keboola's documentation.

Tools that create, update, modify, delete, link, deploy or run change the project: use them only when the user asks, and say what changed. Answers end with Keboola UI links: show them to the user.`
