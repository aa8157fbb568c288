package tools

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

// Evidence: on projects with the global-search feature the Python server
// searches names through the global search API, scoped to its project and
// branch, and lists the project only when that finds nothing or fails
// (tools/search.py, tools/search_global.py); listing every table with its
// columns and every configuration is what breaks on large projects.
func TestSearch_UsesGlobalSearchWhereTheProjectHasIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	f.stack.ResetRequests()
	text, isErr := f.call(t, "search", map[string]any{"patterns": []string{"customer"}})
	if isErr {
		t.Fatal(text)
	}
	for _, want := range []string{"table,in.c-crm.customers,customers,name,", "data-app,keboola.data-apps/"} {
		if !strings.Contains(text, want) {
			t.Errorf("result lacks %q:\n%s", want, text)
		}
	}
	if n := f.requests("GET", "/tables") + f.requests("GET", "/components"); n != 0 {
		t.Errorf("listed tables or components %d times although global search answered", n)
	}
	var searches int
	for _, r := range f.stack.Requests() {
		if r.Path != "/v2/storage/global-search" {
			continue
		}
		searches++
		q, _ := url.ParseQuery(r.Query)
		if q.Get("projectIds[]") != strconv.Itoa(f.stack.ProjectID()) || q.Get("branchTypes[]") != "production" {
			t.Errorf("global search not scoped to the project's production branch: %s", r.Query)
		}
	}
	if searches != 1 {
		t.Errorf("%d global searches for one pattern", searches)
	}

	// Nothing found by name (a column): the listings are searched instead.
	f.stack.ResetRequests()
	text, isErr = f.call(t, "search", map[string]any{"patterns": []string{"lifetime value"}})
	if isErr || f.requests("GET", "/v2/storage/global-search") != 1 || f.requests("GET", "/v2/storage/tables") != 1 {
		t.Errorf("fallback to listings: %s (requests %+v)", text, f.stack.Requests())
	}
	// Regular expressions are not what the API matches: listings.
	f.stack.ResetRequests()
	if text, isErr := f.call(t, "search", map[string]any{"patterns": []string{"^cust"}, "mode": "regex"}); isErr ||
		f.requests("GET", "/v2/storage/global-search") != 0 {
		t.Errorf("regex search used the global search: %s", text)
	}
}
