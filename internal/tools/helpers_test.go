package tools

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
)

// fixture is a fake Keboola stack and an MCP client session talking to a
// server with every tool, over the SDK's in-memory transport: each call goes
// through JSON-RPC, schema validation and the tool handler for real.
type fixture struct {
	stack    *fakestack.Stack
	client   *keboola.Client
	session  *mcp.ClientSession
	progress *progressLog
	// userAgent marks this fixture's requests in the stack's log, so tests
	// running in parallel on the shared stack count only their own.
	userAgent string
	// since is the log position before which requests are not counted.
	since uint64
}

var fixtures atomic.Uint64

type progressLog struct {
	mu    sync.Mutex
	notes []*mcp.ProgressNotificationParams
}

func (p *progressLog) all() []*mcp.ProgressNotificationParams {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*mcp.ProgressNotificationParams(nil), p.notes...)
}

// shared is one demo stack for the tests that only read: seeding a stack
// (10,000+ rows into SQLite) is the slowest part of these tests.
// Its project has no global-search feature, so search lists the project
// (search_global_test.go covers projects with it).
var shared = fakestacktest.Shared{Options: fakestack.Options{JobStepDelay: time.Millisecond, WithoutFeatures: []string{"global-search"}}}

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	large.Close()
	os.Exit(code)
}

// readFixture connects to the shared stack with its master token. Tests
// run in parallel: those that change the stack change only what no other
// test asserts on, those that count requests count their fixture's own
// (see requests), and those that inject faults start a stack of their own.
func readFixture(t *testing.T) *fixture {
	t.Helper()
	s := shared.Get(t)
	return newFixtureFor(t, s, keboola.Credentials{StackURL: s.URL(), StorageToken: keboola.Secret(s.MasterToken())})
}

func newFixture(t *testing.T, opts fakestack.Options) *fixture {
	t.Helper()
	if opts.JobStepDelay == 0 {
		opts.JobStepDelay = time.Millisecond
	}
	stack := fakestacktest.NewServer(t, opts)
	return newFixtureFor(t, stack, keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())})
}

func newFixtureFor(t testing.TB, stack *fakestack.Stack, creds keboola.Credentials) *fixture {
	t.Helper()
	ua := fmt.Sprintf("keboola-mcp-test/%d", fixtures.Add(1))
	client, err := keboola.New(creds, keboola.Options{Retry: keboola.RetryPolicy{MaxAttempts: 1}, Timeout: 10 * time.Second, UserAgent: ua})
	if err != nil {
		t.Fatal(err)
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "test"}, nil)
	Register(srv, All(), Deps{Clients: func(context.Context) (*keboola.Client, error) { return client, nil }, QueryPollInterval: 5 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	serverT, clientT := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, serverT, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	prog := &progressLog{}
	c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "test"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			prog.mu.Lock()
			prog.notes = append(prog.notes, req.Params)
			prog.mu.Unlock()
		},
	})
	cs, err := c.Connect(ctx, clientT, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return &fixture{stack: stack, client: client, session: cs, progress: prog, userAgent: ua}
}

// call calls a tool and returns its text and whether it is a tool error.
func (f *fixture) call(t testing.TB, name string, args map[string]any) (string, bool) {
	t.Helper()
	return f.callCtx(context.Background(), t, name, args, nil)
}

func (f *fixture) callCtx(ctx context.Context, t testing.TB, name string, args map[string]any, progressToken any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	params := &mcp.CallToolParams{Name: name, Arguments: args}
	if progressToken != nil {
		params.SetProgressToken(progressToken)
	}
	res, err := f.session.CallTool(ctx, params)
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// requests counts this fixture's requests to the fake stack since the last
// resetRequests whose path contains part.
func (f *fixture) requests(method, part string) int {
	n := 0
	for _, r := range f.stack.Requests() {
		// Every call posts its audit event; it is counted only when asked for.
		if r.Method == "POST" && r.Path == "/v2/storage/events" && part != r.Path {
			continue
		}
		if r.Seq > f.since && r.UserAgent == f.userAgent && (method == "" || r.Method == method) && strings.Contains(r.Path, part) {
			n++
		}
	}
	return n
}

// resetRequests makes requests count from now on.
func (f *fixture) resetRequests() {
	for _, r := range f.stack.Requests() {
		f.since = max(f.since, r.Seq)
	}
}

// expect is a table-driven check of one tool call.
type expect struct {
	name    string
	args    map[string]any
	isError bool
	// contains must all appear in the text.
	contains []string
	// absent must not appear.
	absent []string
}

func (f *fixture) check(t *testing.T, tool string, cases []expect) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text, isErr := f.call(t, tool, tc.args)
			if isErr != tc.isError {
				t.Fatalf("isError = %v, want %v; text:\n%s", isErr, tc.isError, text)
			}
			for _, want := range tc.contains {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q:\n%s", want, text)
				}
			}
			for _, bad := range tc.absent {
				if strings.Contains(text, bad) {
					t.Errorf("text contains %q:\n%s", bad, text)
				}
			}
		})
	}
}
