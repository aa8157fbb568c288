package tools

import (
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

// oauthSession is a "Sign in with Keboola" session on a fresh demo stack:
// the member's Keboola OAuth access token plus the Storage token minted
// from it, as the OAuth grant hands them to the tools.
func oauthSession(t *testing.T, opts fakestack.Options) *fixture {
	t.Helper()
	f := newFixture(t, opts)
	bearer, err := f.stack.SignIn(f.stack.MasterToken())
	if err != nil {
		t.Fatal(err)
	}
	minted := f.stack.AddToken(fakestack.TokenOptions{Description: "MCP session", CanManageBuckets: true})
	return newFixtureFor(t, f.stack, keboola.Credentials{StackURL: f.stack.URL(),
		StorageToken: keboola.Secret(minted), OAuthToken: keboola.Secret(bearer)})
}

// Evidence: the Python server sends the Keboola OAuth bearer to Storage,
// Scheduler, Data Science and Metastore and the minted Storage token only
// to the Queue, AI and sync actions (clients/client.py: the Scheduler and
// git credentials need the bearer's admin context, AI-3398; the Queue
// re-sends what it gets to Storage as a Storage token, INC-02580). The fake
// refuses the minted token at the Scheduler and git credentials and a
// bearer at the Queue.
func TestOAuthSession_EachServiceGetsTheCredentialItAccepts(t *testing.T) {
	t.Parallel()
	f := oauthSession(t, fakestack.Options{})
	ids := demoApps(t, f)
	f.stack.ResetRequests()

	text, isErr := f.call(t, "modify_flow", map[string]any{"configuration_id": demoConditionalFlow, "change_description": "Run on weekdays",
		"schedules": []any{map[string]any{"action": "add", "cron_tab": "0 6 * * 1-5", "timezone": "Europe/Prague"}}})
	if isErr || !strings.Contains(text, "Added schedule ") {
		t.Fatalf("add schedule in an OAuth session: %s", text)
	}
	text, isErr = f.call(t, "create_python_js_data_app_git_credential", map[string]any{"configuration_id": ids["Customer explorer"]})
	if isErr || !strings.Contains(text, "Clone URL: ") {
		t.Fatalf("git credential in an OAuth session: %s", text)
	}
	text, isErr = f.call(t, "run_job", map[string]any{"component_id": "keboola.ex-http", "configuration_id": "7410002"})
	if isErr || !strings.Contains(text, "Job started") {
		t.Fatalf("run_job in an OAuth session: %s", text)
	}

	want := map[string]string{
		fakestack.ServiceStorage: fakestack.AuthBearer, fakestack.ServiceScheduler: fakestack.AuthBearer,
		fakestack.ServiceDataSci: fakestack.AuthBearer, fakestack.ServiceQueue: fakestack.AuthStorageToken,
	}
	seen := map[string]bool{}
	for _, r := range f.stack.Requests() {
		if w, ok := want[r.Service]; ok {
			seen[r.Service] = true
			if r.Auth != w {
				t.Errorf("%s %s (%s) sent %q, want %q", r.Method, r.Path, r.Service, r.Auth, w)
			}
		}
	}
	for svc := range want {
		if !seen[svc] {
			t.Errorf("no request reached %s", svc)
		}
	}
}

// A minted Storage token alone (what the session held before the bearer was
// kept) is refused by the Scheduler: the fake models that, so the test
// above cannot pass by accident.
func TestMintedTokenAloneCannotSchedule(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	minted := f.stack.AddToken(fakestack.TokenOptions{Description: "MCP session", CanManageBuckets: true})
	g := newFixtureFor(t, f.stack, keboola.Credentials{StackURL: f.stack.URL(), StorageToken: keboola.Secret(minted)})
	text, isErr := g.call(t, "modify_flow", map[string]any{"configuration_id": demoConditionalFlow, "change_description": "Run on weekdays",
		"schedules": []any{map[string]any{"action": "add", "cron_tab": "0 6 * * 1-5", "timezone": "Europe/Prague"}}})
	if !isErr || !strings.Contains(text, "permission") {
		t.Fatalf("a minted token scheduled a flow: %s", text)
	}
}
