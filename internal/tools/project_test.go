package tools

import (
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
)

func TestGetProjectInfo_DescribesProjectDialectAndLinks(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "get_project_info", []expect{{
		name: "demo project",
		contains: []string{"Demo Retail Analytics (id 1234)", "SQL dialect: Snowflake", "master token",
			f.stack.URL() + "/admin/projects/1234"},
		absent: []string{f.stack.MasterToken(), "null"},
	}})
}

func TestUpdateProjectDescription_IsShownByGetProjectInfo(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "update_project_description", []expect{
		{name: "empty description is a schema error", args: map[string]any{"description": ""}, isError: true},
		{name: "missing description is a schema error", args: map[string]any{}, isError: true, contains: []string{"description"}},
		{name: "sets it", args: map[string]any{"description": "# Retail\nSales and stock."}, contains: []string{"updated"}},
	})
	text, _ := f.call(t, "get_project_info", nil)
	if !strings.Contains(text, "# Retail\nSales and stock.") {
		t.Errorf("get_project_info does not show the new description:\n%s", text)
	}
}

func TestTools_ReportAnInvalidTokenPlainly(t *testing.T) {
	t.Parallel()
	stack := shared.Get(t)
	token := stack.AddToken(fakestack.TokenOptions{Description: "soon revoked", CanManageBuckets: true})
	stack.RevokeToken(token)
	f := newFixtureFor(t, stack, keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(token)})
	for _, tool := range []string{"get_project_info", "get_buckets"} {
		text, isErr := f.call(t, tool, nil)
		if !isErr || !strings.Contains(text, "the Keboola token is invalid or expired") {
			t.Errorf("%s: isError=%v text=%q, want the invalid-token message", tool, isErr, text)
		}
		if strings.Contains(text, token) {
			t.Errorf("%s: the answer leaks the token", tool)
		}
	}
}

func TestTools_NameTheUnreachableStack(t *testing.T) {
	t.Parallel()
	stack := fakestacktest.NewServer(t, fakestack.Options{NoDemo: true})
	url := stack.URL()
	stack.Close() // nothing listens on its port any more
	f := newFixtureFor(t, stack, keboola.Credentials{StackURL: url, StorageToken: "123-abc"})
	text, isErr := f.call(t, "get_buckets", nil)
	host := strings.TrimPrefix(url, "http://")
	if !isErr || !strings.Contains(text, host) || !strings.Contains(text, "cannot reach") {
		t.Errorf("isError=%v text=%q, want an error naming %s", isErr, text, host)
	}
}

// A maintenance window (503 + Retry-After + {"status":"maintenance"}, see
// /work/shared/keboola-api.md) or a rate limit that outlasts the client's
// retries must reach the model as what it is, with when to try again, even
// when Keboola's answer carries no reason text of its own. The Retry-After
// here is beyond the client's 30 s retry budget, so the call fails at once.
func TestTools_NameMaintenanceAndRateLimitWithWhenToRetry(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault fakestack.Fault
		want  []string
	}{
		{"maintenance", fakestack.Fault{Maintenance: true, RetryAfter: 120}, []string{"under maintenance", "try again in 2m0s", "HTTP 503"}},
		{"rate limit", fakestack.Fault{Fail429: 1, RetryAfter: 90}, []string{"limiting the request rate", "try again in 1m30s", "HTTP 429"}},
	}
	for _, c := range cases {
		stack := fakestacktest.NewServer(t, fakestack.Options{NoDemo: true})
		if err := stack.InjectFault(c.fault); err != nil {
			t.Fatal(err)
		}
		f := newFixtureFor(t, stack, keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())})
		text, isErr := f.call(t, "get_buckets", nil)
		for _, w := range c.want {
			if !isErr || !strings.Contains(text, w) {
				t.Errorf("%s: isError=%v text=%q, want it to contain %q", c.name, isErr, text, w)
			}
		}
	}
}
