package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

// Gate is which tools one session sees and may call, decided per session
// from who it is (its Access) and what its project is, with the Python
// server's rules (its ToolsFilteringMiddleware):
//
//   - a token whose member role is readOnly gets the read-only tools only;
//   - modify_flow (which also manages schedules) is for admin and share
//     roles and Keboola OAuth sessions; update_flow for every other role;
//   - create_flow (legacy flows) only where the project has the
//     hide-conditional-flows feature, create_conditional_flow elsewhere;
//   - data app tools only on the main branch;
//   - semantic tools only where the project has a semantic model;
//   - a gateway's allowed/disallowed tool lists.
//
// The OAuth scope (Access.ReadOnly) picks the tool set before the gate
// applies, so the stricter of the two always wins. Sessions with equal gates
// see the same tools/list page: Key names it.
type Gate struct {
	ReadOnly    bool // the read-only tools only
	LegacyFlows bool // create_flow instead of create_conditional_flow
	ModifyFlow  bool // modify_flow instead of update_flow
	DevBranch   bool // no data app tools
	Semantic    bool // the semantic tools
	Allowed     []string
	Disallowed  []string
	// Unrecorded is set for a request without credentials, as the Worker's
	// static answers are recorded at build time: no project is known, so
	// only the Access rules (read-only, tool lists) apply.
	Unrecorded bool
}

// GateFor computes a session's gate from its Access, its token's
// verification and its project's facts. It is the one place the rules are
// written; the Worker's fast path keys its tools/list pages on the same Key.
func GateFor(a access.Access, info *keboola.TokenInfo, devBranch, semantic bool) Gate {
	role := ""
	if info != nil && info.Admin != nil {
		role = strings.ToLower(info.Admin.Role)
	}
	var features []string
	if info != nil {
		features = info.Owner.Features
	}
	keboolaOAuth := !a.Credentials.OAuthToken.IsZero()
	return Gate{
		ReadOnly:    a.ReadOnly || role == "readonly",
		LegacyFlows: slices.Contains(features, "hide-conditional-flows"),
		ModifyFlow:  role == "admin" || role == "share" || keboolaOAuth,
		DevBranch:   devBranch,
		Semantic:    semantic,
		Allowed:     a.AllowedTools,
		Disallowed:  a.DisallowedTools,
	}
}

// Key names the gate compactly: equal keys, equal tool lists.
func (g Gate) Key() string {
	bit := func(b bool) byte {
		if b {
			return '1'
		}
		return '0'
	}
	k := []byte{bit(g.ReadOnly), bit(g.LegacyFlows), bit(g.ModifyFlow), bit(g.DevBranch), bit(g.Semantic), bit(g.Unrecorded)}
	if g.Allowed == nil && len(g.Disallowed) == 0 {
		return string(k)
	}
	allowed := "*"
	if g.Allowed != nil {
		allowed = strings.Join(sortedCopy(g.Allowed), ",")
	}
	return string(k) + "|" + allowed + "|" + strings.Join(sortedCopy(g.Disallowed), ",")
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}

// Tools hidden by project facts or role, by name.
var (
	dataAppTools = []string{"get_data_apps", "modify_streamlit_data_app", "modify_python_js_data_app",
		"create_python_js_data_app_git_credential", "deploy_data_app", "delete_python_js_data_app_draft"}
	semanticTools = []string{"search_semantic_context", "get_semantic_context", "get_semantic_schema", "validate_semantic_query"}
)

// refusal returns why the gate hides a tool, "" when it does not. The
// messages tell the model what to use instead.
func (g Gate) refusal(name string, readOnlyTool bool) string {
	switch {
	case g.ReadOnly && !readOnlyTool:
		return fmt.Sprintf("the tool %s changes the project, and this session may only read (a read-only token role or grant)", name)
	case g.Allowed != nil && !slices.Contains(g.Allowed, name), slices.Contains(g.Disallowed, name):
		return fmt.Sprintf("the tool %s is not enabled for this session", name)
	case g.Unrecorded:
		return ""
	case !g.Semantic && slices.Contains(semanticTools, name):
		return fmt.Sprintf("the tool %s is not available: this project has no semantic model", name)
	case g.LegacyFlows && name == "create_conditional_flow":
		return "create_conditional_flow is not available: this project has conditional flows turned off (feature hide-conditional-flows); use create_flow"
	case !g.LegacyFlows && name == "create_flow":
		return "create_flow is not available: this project uses conditional flows; use create_conditional_flow"
	case g.ModifyFlow && name == "update_flow":
		return "update_flow is not available for this token; use modify_flow, which also manages schedules"
	case !g.ModifyFlow && name == "modify_flow":
		return "modify_flow is not available for this token role; use update_flow"
	case g.DevBranch && slices.Contains(dataAppTools, name):
		return fmt.Sprintf("the tool %s is not available on a development branch: data apps live only on the main branch", name)
	}
	return ""
}

// gateFor resolves the gate of the request in ctx. Token verification and
// the project facts are cached per session, so after a session's first
// request this costs map lookups.
func (s *Server) gateFor(ctx context.Context) (Gate, error) { return s.gate(ctx, false) }

// listGateFor is gateFor for tools/list. A branch id the project lacks does
// not stop the listing (as in the Python server, a client can discover the
// tools before the branch exists); the branch counts as a development branch
// then, the stricter reading, and tool calls report the missing branch.
func (s *Server) listGateFor(ctx context.Context) (Gate, error) { return s.gate(ctx, true) }

func (s *Server) gate(ctx context.Context, listing bool) (Gate, error) {
	if g, ok := ctx.Value(recordingGate{}).(Gate); ok {
		return g, nil
	}
	a, ok := access.From(ctx)
	if !ok {
		return Gate{}, errNoAccess
	}
	if a.Credentials.StorageToken.IsZero() {
		return Gate{ReadOnly: a.ReadOnly, Allowed: a.AllowedTools, Disallowed: a.DisallowedTools, Unrecorded: true}, nil
	}
	client, err := s.sessions.Client(a.Credentials)
	if err != nil {
		return Gate{}, err
	}
	info, err := client.VerifyToken(ctx)
	if listing && err != nil && ctx.Err() == nil {
		s.log.Warn("tools/list: token verification failed; listing the read-only tools", "err", err)
		return unverifiedGate(a), nil
	}
	if err != nil {
		return Gate{}, err
	}
	dev, err := client.OnDevBranch(ctx)
	if listing && errors.Is(err, keboola.ErrBranchNotFound) {
		dev, err = true, nil
	}
	if err != nil {
		return Gate{}, err
	}
	g := GateFor(a, info, dev, client.HasSemanticModels(ctx))
	if r, ok := ctx.Value(gateReportKey{}).(*GateReport); ok {
		r.set(g.Key())
	}
	return g, nil
}

// GateKey is the key of the gate of the session whose Access is in ctx. The
// Worker stores it in a grant at login, so that the grant's tools/list can
// be answered from the page recorded for that key (see StaticAnswers)
// without starting this server in wasm.
func (s *Server) GateKey(ctx context.Context) (string, error) {
	g, err := s.gateFor(ctx)
	if err != nil {
		return "", err
	}
	return g.Key(), nil
}

// GateReport receives the key of the gate a request was served with, when
// serving it resolved one from the session's facts (a listing that fell
// back to the read-only tools reports none). The Worker keeps the key for
// the grant: its project's facts may have changed since login.
type GateReport struct {
	mu  sync.Mutex
	key string
}

type gateReportKey struct{}

// WithGateReport returns a context whose requests report their gate to the
// returned GateReport.
func WithGateReport(ctx context.Context) (context.Context, *GateReport) {
	r := &GateReport{}
	return context.WithValue(ctx, gateReportKey{}, r), r
}

// Key is the reported gate's key, "" when the request resolved none.
func (r *GateReport) Key() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.key
}

func (r *GateReport) set(key string) {
	r.mu.Lock()
	r.key = key
	r.mu.Unlock()
}

// recordingGate is the context key of the gate StaticAnswers records a
// tools/list page for: at build time there is no token or project to ask.
// Only this package sets it.
type recordingGate struct{}

// unverifiedGate is the gate of a listing whose token Keboola refused or
// could not check: the read-only tools a session of any role would see, so
// the model can still call one and learn from its error what is wrong.
func unverifiedGate(a access.Access) Gate {
	g := GateFor(a, nil, true, false)
	g.ReadOnly = true
	return g
}

// gating is a receiving middleware that refuses a tools/call of a tool the
// session's gate hides, with a tool error that says why (as the Python
// server does). tools/list is filtered by the list cache.
func (s *Server) gating(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		call, ok := req.(*mcp.CallToolRequest)
		if !ok || call.Params == nil {
			return next(ctx, method, req)
		}
		t, known := s.readOnlyTool[call.Params.Name]
		if !known {
			return next(ctx, method, req) // the SDK answers an unknown tool
		}
		g, err := s.gateFor(ctx)
		if err != nil {
			// Fail closed: no gate, no call; the error says what to fix
			// (a refused token, a missing branch).
			return tools.ErrorResult(err), nil
		}
		if why := g.refusal(call.Params.Name, t); why != "" {
			return tools.ErrorResult(errors.New(why)), nil
		}
		return next(ctx, method, req)
	}
}

// VisibleToolNames returns the names of the tools a session with gate g
// sees, sorted; readOnly selects the tool set of a keboola:read grant.
func (s *Server) VisibleToolNames(g Gate, readOnly bool) []string {
	var out []string
	for _, name := range s.set(readOnly).names {
		if g.refusal(name, s.readOnlyTool[name]) == "" {
			out = append(out, name)
		}
	}
	return out
}
