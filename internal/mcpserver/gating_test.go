package mcpserver

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
)

// gatedSession serves every tool over the in-memory transport to a session
// with Access a, as stdio does.
func gatedSession(t *testing.T, a access.Access) *mcp.ClientSession {
	t.Helper()
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	serverT, clientT := mcp.NewInMemoryTransports()
	ctx, cancel := context.WithCancel(access.With(context.Background(), a))
	t.Cleanup(cancel)
	go func() { _ = srv.set(false).srv.Run(ctx, serverT) }()
	return connectWith(t, clientT)
}

// TestGating_FollowsThePythonServersRules checks tools/list and tools/call
// per token role and project feature, against the rules of the Python
// server's ToolsFilteringMiddleware (keboola/mcp-server, mcp.py): readOnly
// role → read tools only; admin/share or Keboola OAuth → modify_flow, other
// roles → update_flow; hide-conditional-flows → create_flow, else
// create_conditional_flow.
func TestGating_FollowsThePythonServersRules(t *testing.T) {
	stack := shared.Get(t)
	legacy := fakestacktest.NewServer(t, fakestack.Options{ExtraFeatures: []string{"hide-conditional-flows"}})
	// A member's master token carries the member's project role.
	member := func(role string) keboola.Credentials {
		s := fakestacktest.NewServer(t, fakestack.Options{MemberRole: role})
		return keboola.Credentials{StackURL: s.URL(), StorageToken: keboola.Secret(s.MasterToken())}
	}
	creds := func(s *fakestack.Stack, token string) keboola.Credentials {
		return keboola.Credentials{StackURL: s.URL(), StorageToken: keboola.Secret(token)}
	}
	guest, share, reader := member(fakestack.RoleGuest), member(fakestack.RoleShare), member(fakestack.RoleReadOnly)
	for _, tc := range []struct {
		name         string
		access       access.Access
		visible      []string
		hidden       []string
		refusedCall  string // a hidden tool whose call must be refused
		refusalWords string
	}{
		{name: "admin", access: access.Access{Credentials: creds(stack, stack.MasterToken())},
			visible: []string{"modify_flow", "create_conditional_flow", "get_data_apps", "search_semantic_context", "create_config"},
			hidden:  []string{"update_flow", "create_flow"}, refusedCall: "update_flow", refusalWords: "use modify_flow"},
		{name: "share role", access: access.Access{Credentials: share},
			visible: []string{"modify_flow"}, hidden: []string{"update_flow"}},
		{name: "guest role", access: access.Access{Credentials: guest},
			visible: []string{"update_flow", "create_conditional_flow", "create_config"},
			hidden:  []string{"modify_flow", "create_flow"}, refusedCall: "modify_flow", refusalWords: "use update_flow"},
		{name: "readOnly role", access: access.Access{Credentials: reader},
			visible:     []string{"get_buckets", "query_data", "get_flows"},
			hidden:      []string{"create_config", "modify_flow", "update_flow", "run_job", "update_descriptions"},
			refusedCall: "create_config", refusalWords: "may only read"},
		{name: "hide-conditional-flows", access: access.Access{Credentials: creds(legacy, legacy.MasterToken())},
			visible: []string{"create_flow", "modify_flow"}, hidden: []string{"create_conditional_flow"},
			refusedCall: "create_conditional_flow", refusalWords: "use create_flow"},
		{name: "gateway tool lists", access: access.Access{Credentials: creds(stack, stack.MasterToken()),
			AllowedTools: []string{"get_buckets", "get_tables", "run_job"}, DisallowedTools: []string{"run_job"}},
			visible: []string{"get_buckets", "get_tables"}, hidden: []string{"run_job", "query_data"},
			refusedCall: "query_data", refusalWords: "not enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := gatedSession(t, tc.access)
			names := toolNames(t, cs)
			for _, n := range tc.visible {
				if !slices.Contains(names, n) {
					t.Errorf("%s is not listed; listed: %v", n, names)
				}
			}
			for _, n := range tc.hidden {
				if slices.Contains(names, n) {
					t.Errorf("%s is listed", n)
				}
			}
			if tc.refusedCall != "" {
				text, isErr := callText(t, cs, tc.refusedCall, map[string]any{})
				if !isErr || !strings.Contains(text, tc.refusalWords) {
					t.Errorf("call of hidden %s: isError=%v, want a refusal saying %q: %s", tc.refusedCall, isErr, tc.refusalWords, text)
				}
			}
		})
	}
}

func TestGate_HidesDataAppsOnDevBranchesAndSemanticToolsWithoutModels(t *testing.T) {
	info := &keboola.TokenInfo{Admin: &keboola.TokenAdmin{Role: "admin"}}
	onMain := GateFor(access.Access{}, info, false, true)
	onDev := GateFor(access.Access{}, info, true, false)
	for _, name := range slices.Concat(dataAppTools, semanticTools) {
		if why := onMain.refusal(name, true); why != "" {
			t.Errorf("main branch with semantic models hides %s: %s", name, why)
		}
		if onDev.refusal(name, true) == "" {
			t.Errorf("a dev branch without semantic models shows %s", name)
		}
	}
	// A Keboola OAuth session gets modify_flow whatever the member's role.
	guest := &keboola.TokenInfo{Admin: &keboola.TokenAdmin{Role: "guest"}}
	oauth := access.Access{Credentials: keboola.Credentials{OAuthToken: "keboola-oauth-access-token"}}
	if g := GateFor(oauth, guest, false, true); g.refusal("modify_flow", false) != "" || g.refusal("update_flow", false) == "" {
		t.Errorf("a guest's Keboola OAuth session: modify_flow %q, update_flow %q", g.refusal("modify_flow", false), g.refusal("update_flow", false))
	}
	if g := GateFor(access.Access{}, guest, false, true); g.refusal("modify_flow", false) == "" {
		t.Error("a guest's Storage token is offered modify_flow")
	}
	if onMain.Key() == onDev.Key() {
		t.Errorf("different gates share the key %q", onMain.Key())
	}
	a := GateFor(access.Access{AllowedTools: []string{"b", "a"}}, info, false, true)
	b := GateFor(access.Access{AllowedTools: []string{"a", "b", "a"}}, info, false, true)
	if a.Key() != b.Key() {
		t.Errorf("the same allowed set keys differently: %q vs %q", a.Key(), b.Key())
	}
	if none := GateFor(access.Access{AllowedTools: []string{}}, info, false, true); none.Key() == onMain.Key() {
		t.Error("an empty allow list (nothing allowed) keys like no list at all")
	}
}

func TestGating_ADevBranchIsVerifiedAndTheDefaultBranchIsMain(t *testing.T) {
	stack := shared.Get(t)
	c := keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}
	c.BranchID = "987654"
	cs := gatedSession(t, access.Access{Credentials: c})
	// Listing still works (the Python server skips the branch check for
	// lists), reading the unknown branch as a development branch; a call
	// names the missing branch.
	names := toolNames(t, cs)
	if !slices.Contains(names, "get_buckets") || slices.Contains(names, "get_data_apps") {
		t.Errorf("tools/list on a branch the project lacks: %v", names)
	}
	if text, isErr := callText(t, cs, "get_buckets", nil); !isErr || !strings.Contains(text, "no branch 987654") {
		t.Errorf("a call on a branch the project lacks: isError=%v %s, want an error naming the branch", isErr, text)
	}
	// The default branch's own id means the main branch (the Python server
	// normalises it so): data app tools stay.
	client, err := keboola.New(keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}, keboola.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.BranchID, err = client.DefaultBranchID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if names := toolNames(t, gatedSession(t, access.Access{Credentials: c})); !slices.Contains(names, "get_data_apps") {
		t.Errorf("on the default branch by id, data app tools are hidden: %v", names)
	}
}

// TestGateReport_TellsTheGateARequestWasServedWith: the Worker keeps the
// reported key for the grant's later tools/list, so a report must name the
// session's own gate, and a listing that fell back to the read-only tools
// (the token was refused) must report nothing rather than that fallback.
func TestGateReport_TellsTheGateARequestWasServedWith(t *testing.T) {
	stack := fakestacktest.NewServer(t, fakestack.Options{MemberRole: fakestack.RoleGuest, NoDemo: true})
	srv, err := New(WorkerOptions("dev"))
	if err != nil {
		t.Fatal(err)
	}
	h := srv.StreamableHandler()
	guest := access.Access{Credentials: keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}}
	refused := access.Access{Credentials: keboola.Credentials{StackURL: stack.URL(), StorageToken: "not-a-token-of-this-stack"}}
	for _, tc := range []struct {
		name   string
		access access.Access
		body   string
		want   string
	}{
		{"tools/call", guest, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_buckets","arguments":{}}}`, Gate{}.Key()},
		{"tools/list", guest, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, Gate{}.Key()},
		{"read-only tools/list", access.Access{Credentials: guest.Credentials, ReadOnly: true}, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, Gate{ReadOnly: true}.Key()},
		{"ping", guest, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, ""},
		{"tools/list with a refused token", refused, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, report := WithGateReport(access.With(context.Background(), tc.access))
			rec := serveStatic(ctx, h, "2025-06-18", []byte(tc.body))
			if rec.StatusCode() != 200 {
				t.Fatalf("status %d: %s", rec.StatusCode(), rec.Body.String())
			}
			if got := report.Key(); got != tc.want {
				t.Errorf("reported %q, want %q", got, tc.want)
			}
		})
	}
}
