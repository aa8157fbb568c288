package keboola_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
)

// These tests pin what a real Keboola project needs beyond what a friendly
// fake would let pass (issue 10). Each names the evidence it models.

// Evidence: the Python server pages query results 1,000 rows at a time
// (workspace.py, _PAGE_SIZE = 1_000); larger pages of wide tables are what
// time out on real stacks.
func TestReal_QueryResultsComeInPagesOf1000Rows(t *testing.T) {
	fs, c := newFake(t)
	ctx := ctxFor(t)
	ws := try(c.CreateWorkspace(ctx, keboola.WorkspaceRequest{Backend: "snowflake"})).must(t)
	tb := try(c.GetTable(ctx, "in.c-crm.orders")).must(t)
	if tb.RowsCount < 2500 {
		t.Fatalf("the demo orders table has %d rows; the test needs at least 2,500", tb.RowsCount)
	}
	name := try(tb.SQLName("snowflake")).must(t)
	res := try(c.RunQuery(ctx, string(ws.ID), "SELECT * FROM "+name, keboola.QueryOptions{MaxRows: 2500, PollInterval: 5 * time.Millisecond})).must(t)
	if len(res.Rows) != 2500 {
		t.Fatalf("got %d rows, want 2500", len(res.Rows))
	}
	var sizes []int
	for _, r := range fs.Requests() {
		if r.Service != "query" || !strings.HasSuffix(r.Path, "/results") || !strings.Contains(r.Path, res.QueryJobID) {
			continue
		}
		q, _ := url.ParseQuery(r.Query)
		n, _ := strconv.Atoi(q.Get("pageSize"))
		sizes = append(sizes, n)
	}
	if len(sizes) != 3 || sizes[0] != 1000 || sizes[1] != 1000 || sizes[2] != 500 {
		t.Errorf("result pages requested with pageSize %v, want [1000 1000 500]", sizes)
	}
}

// Evidence: the Python server lists a job's log by the job id with
// forceUuid=true (clients/storage.py, job events: "runId matches the job's
// id, not the job's hierarchical runId"). A flow's task job has the run id
// "<flow run id>.<job id>"; the fake matches runId against that unless
// forceUuid is set, so a client asking any other way gets no log.
func TestReal_ChildJobLogIsFoundByJobIDWithForceUUID(t *testing.T) {
	_, c := newFake(t)
	ctx := ctxFor(t)
	jobs := try(c.SearchJobs(ctx, keboola.JobSearch{ComponentID: "keboola.ex-http", Limit: 5})).must(t)
	var child *keboola.Job
	for i, j := range jobs {
		if string(j.RunID) != string(j.ID) {
			child = &jobs[i]
			break
		}
	}
	if child == nil {
		t.Fatalf("the demo has no job started by a flow: %+v", jobs)
	}
	events := try(c.ListEvents(ctx, keboola.EventQuery{JobID: string(child.ID)})).must(t)
	if len(events) == 0 {
		t.Fatalf("no log for child job %s (run id %s)", child.ID, child.RunID)
	}
	for _, e := range events {
		if string(e.RunID) != string(child.RunID) {
			t.Errorf("event %s of run %s is not the job's (run %s)", e.ID, e.RunID, child.RunID)
		}
	}
}

// newProject starts a fake stack of its own (empty project unless opts say
// otherwise) and a client for its master token on branch.
func newProject(t *testing.T, opts fakestack.Options, branch string) (*fakestack.Stack, *keboola.Client) {
	t.Helper()
	if opts.JobStepDelay == 0 {
		opts.JobStepDelay = time.Millisecond
	}
	return newClientFor(t, fakestacktest.NewServer(t, opts), branch)
}

// Evidence: the Python server adopts only a read-only workspace of a
// keboola.mcp-server-tool configuration, found through that configuration
// (workspace.py _find_ws_in_branch), and creates its own with loginType
// snowflake-person-sso on Snowflake (workspace.py _create_ws); another
// read-only workspace (a transformation's sandbox) is not ours to use.
func TestReal_QueryWorkspaceIsTheServerConfigurationsOwn(t *testing.T) {
	fs, c := newProject(t, fakestack.Options{NoDemo: true}, "")
	ctx := ctxFor(t)
	sandbox, _ := fs.AddWorkspace("keboola.snowflake-transformation", "42", true)
	id := try(c.QueryWorkspace(ctx)).must(t)
	if id == strconv.Itoa(sandbox) {
		t.Fatalf("adopted the transformation's sandbox workspace %d", sandbox)
	}
	n, _ := strconv.Atoi(id)
	if got := fs.WorkspaceLoginType(n); got != "snowflake-person-sso" {
		t.Errorf("workspace %s created with loginType %q, want snowflake-person-sso", id, got)
	}
	ws := try(c.GetWorkspace(ctx, id)).must(t)
	if ws.Component != keboola.WorkspaceComponentID || !ws.ReadOnlyStorageAccess {
		t.Errorf("workspace = %+v", ws)
	}

	// A new session finds the same workspace through its configuration.
	_, again := newClientFor(t, fs, "")
	if got := try(again.QueryWorkspace(ctx)).must(t); got != id {
		t.Errorf("second session uses workspace %s, want %s", got, id)
	}
}

// Evidence: the Python server uses the KBC_WORKSPACE_SCHEMA workspace as it
// is (workspace.py _find_ws_by_schema matches the schema only); refusing one
// without read-only storage access broke setups that pin a workspace.
func TestReal_PinnedWorkspaceNeedsNoReadOnlyStorageAccess(t *testing.T) {
	fs := fakestacktest.NewServer(t, fakestack.Options{NoDemo: true, JobStepDelay: time.Millisecond})
	id, schema := fs.AddWorkspace("keboola.sandboxes", "7", false)
	c, err := keboola.New(keboola.Credentials{StackURL: fs.URL(), StorageToken: keboola.Secret(fs.MasterToken()), WorkspaceSchema: schema}, keboola.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := try(c.QueryWorkspace(ctxFor(t))).must(t); got != strconv.Itoa(id) {
		t.Errorf("query workspace %s, want the pinned %d", got, id)
	}
}

func newClientFor(t *testing.T, fs *fakestack.Stack, branch string) (*fakestack.Stack, *keboola.Client) {
	t.Helper()
	c, err := keboola.New(keboola.Credentials{StackURL: fs.URL(), StorageToken: keboola.Secret(fs.MasterToken()), BranchID: branch},
		keboola.Options{Retry: keboola.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return fs, c
}

// Evidence: the Python server reads storage of a development branch from
// the default branch on projects without storage-branches, and on
// storage-branches projects merges the branch's own objects over
// production's (tools/storage_helpers.py: merged_bucket_list,
// merged_table_detail, _merge_by_id); it writes bucket and table metadata
// unbranched. The fake serves an empty branch storage without the feature
// and only the changed objects with it, as Keboola does.
func TestReal_DevBranchStorageWithoutStorageBranches(t *testing.T) {
	fs, prod := newProject(t, fakestack.Options{}, "")
	ctx := ctxFor(t)
	branch := try(prod.CreateBranch(ctx, "feature-x", "try things")).must(t)
	if branch.IsDefault || branch.Name != "feature-x" {
		t.Fatalf("branch = %+v", branch)
	}
	_, c := newClientFor(t, fs, string(branch.ID))

	want := len(try(prod.ListBuckets(ctx)).must(t))
	if got := try(c.ListBuckets(ctx)).must(t); len(got) != want || want == 0 {
		t.Errorf("dev branch sees %d buckets, production has %d", len(got), want)
	}
	if tables := try(c.ListTables(ctx, "in.c-crm")).must(t); len(tables) == 0 {
		t.Error("dev branch sees no tables in in.c-crm")
	}
	if all := try(c.ListAllTables(ctx)).must(t); len(all) == 0 {
		t.Error("dev branch sees no tables at all")
	}
	tb := try(c.GetTable(ctx, "in.c-crm.customers")).must(t)
	if tb.RowsCount == 0 {
		t.Errorf("table = %+v", tb)
	}
	if p := try(c.PreviewTable(ctx, "in.c-crm.customers", keboola.PreviewOptions{Limit: 3})).must(t); len(p.Rows) != 3 {
		t.Errorf("preview has %d rows", len(p.Rows))
	}
	try(c.SetBucketMetadata(ctx, "in.c-crm", []keboola.MetadataInput{{Key: "KBC.description", Value: "from a branch"}})).must(t)
	try(c.SetTableMetadata(ctx, "in.c-crm.customers", []keboola.MetadataInput{{Key: "KBC.description", Value: "from a branch"}}, nil)).must(t)
	if b := try(prod.GetBucket(ctx, "in.c-crm")).must(t); b.DescriptionText() != "from a branch" {
		t.Errorf("bucket description %q: the metadata write did not reach the (unbranched) bucket", b.DescriptionText())
	}

	// Configurations are per branch in both models.
	cfg := try(c.CreateConfig(ctx, "keboola.ex-http", keboola.ConfigInput{Name: "Branch only"})).must(t)
	if containsConfig(try(prod.ListConfigs(ctx, "keboola.ex-http")).must(t), string(cfg.ID)) {
		t.Error("a configuration created in the branch shows in production")
	}
	if !containsConfig(try(c.ListConfigs(ctx, "keboola.ex-http")).must(t), string(cfg.ID)) {
		t.Error("the branch does not list its own configuration")
	}
	if try(c.ListConfigs(ctx, "keboola.ex-http")).must(t)[0].ID == "" {
		t.Error("the branch lost production's configurations")
	}

	// SQL runs on production, where the project's workspace lives.
	fs.ResetRequests()
	ws := try(c.QueryWorkspace(ctx)).must(t)
	name := try(tb.SQLName("snowflake")).must(t)
	try(c.RunQuery(ctx, ws, "SELECT COUNT(*) FROM "+name, keboola.QueryOptions{PollInterval: 5 * time.Millisecond})).must(t)
	for _, r := range fs.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/queries") && !strings.Contains(r.Path, "/branches/"+strconv.Itoa(fs.DefaultBranchID())+"/") {
			t.Errorf("query submitted at %s, not on the production branch", r.Path)
		}
		if strings.Contains(r.Path, "/branch/"+string(branch.ID)+"/") && strings.Contains(r.Path, "workspaces") {
			t.Errorf("looked for the workspace in the dev branch: %s %s", r.Method, r.Path)
		}
	}

	if err := prod.DeleteBranch(ctx, string(branch.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListConfigs(ctx, "keboola.ex-http"); !errors.Is(err, keboola.ErrNotFound) {
		t.Errorf("deleted branch still answers: %v", err)
	}
}

func TestReal_DevBranchStorageWithStorageBranches(t *testing.T) {
	fs, prod := newProject(t, fakestack.Options{ExtraFeatures: []string{keboola.FeatureStorageBranches}}, "")
	ctx := ctxFor(t)
	branchID := fs.AddBranch("feature-y")
	if err := fs.BranchTable(branchID, "in.c-crm.customers", "Customers as the branch changed them"); err != nil {
		t.Fatal(err)
	}
	_, c := newClientFor(t, fs, strconv.Itoa(branchID))

	prodBuckets := try(prod.ListBuckets(ctx)).must(t)
	if got := try(c.ListBuckets(ctx)).must(t); len(got) != len(prodBuckets) {
		t.Errorf("dev branch sees %d buckets, want production's %d with the branch's merged in", len(got), len(prodBuckets))
	}
	prodTables := try(prod.ListTables(ctx, "in.c-crm")).must(t)
	tables := try(c.ListTables(ctx, "in.c-crm")).must(t)
	if len(tables) != len(prodTables) {
		t.Errorf("dev branch sees %d tables in in.c-crm, want %d", len(tables), len(prodTables))
	}
	for _, tb := range tables {
		if tb.ID == "in.c-crm.customers" && describe(tb) != "Customers as the branch changed them" {
			t.Errorf("listing shows production's customers, not the branch's: %q", describe(tb))
		}
	}
	if tb := try(c.GetTable(ctx, "in.c-crm.customers")).must(t); describe(*tb) != "Customers as the branch changed them" {
		t.Errorf("detail shows %q, not the branch's version", describe(*tb))
	}
	if tb := try(c.GetTable(ctx, "in.c-crm.orders")).must(t); tb.ID != "in.c-crm.orders" {
		t.Errorf("an unbranched table is not read from production: %+v", tb)
	}
	if tb := try(prod.GetTable(ctx, "in.c-crm.customers")).must(t); describe(*tb) == "Customers as the branch changed them" {
		t.Error("production sees the branch's table")
	}
}

func describe(t keboola.Table) string {
	d, _ := t.Metadata.Get("KBC.description")
	return d
}

// Evidence: the Python server names itself and its version in User-Agent
// (mcp.py _get_headers), which is how Keboola tells MCP traffic apart in
// its logs. Every service call carries ours.
func TestReal_UserAgentNamesTheServer(t *testing.T) {
	fs := shared.Get(t)
	c, err := keboola.New(keboola.Credentials{StackURL: fs.URL(), StorageToken: keboola.Secret(fs.MasterToken())}, keboola.Options{UserAgent: "keboola-mcp/1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	fs.ResetRequests()
	try(c.ListBuckets(ctx)).must(t)
	try(c.SearchJobs(ctx, keboola.JobSearch{Limit: 1})).must(t)
	reqs := fs.Requests()
	if len(reqs) < 2 {
		t.Fatalf("%d requests logged", len(reqs))
	}
	for _, r := range reqs {
		if r.UserAgent != "keboola-mcp/1.2.3" {
			t.Errorf("%s %s sent User-Agent %q", r.Method, r.Path, r.UserAgent)
		}
	}
}

// Evidence: Keboola's global search spans the organisation; the Python
// server scopes it with projectIds[] and branchTypes[]/branchIds[]
// (clients/storage.py global_search). The fake's organisation has another
// project sharing a bucket, and a development branch whose copy of every
// configuration has the production name: an unscoped search finds both.
func TestReal_GlobalSearchIsScopedToTheProjectAndBranch(t *testing.T) {
	fs, prod := newProject(t, fakestack.Options{}, "")
	ctx := ctxFor(t)
	branchID := fs.AddBranch("feature-z")
	info := try(prod.VerifyToken(ctx)).must(t)

	all := try(prod.GlobalSearch(ctx, keboola.SearchQuery{Query: "benchmark", AllBranches: true})).must(t)
	for _, it := range all.Items {
		if string(it.ProjectID) != string(info.Owner.ID) {
			t.Errorf("hit %s %s of project %s", it.Type, it.ID, it.ProjectID)
		}
	}
	hits := try(prod.GlobalSearch(ctx, keboola.SearchQuery{Query: "revenue", Limit: 100})).must(t)
	if hits.All == 0 {
		t.Fatal("no production hit for revenue")
	}
	hitsOnlyIn(t, "production", hits.Items, fs.DefaultBranchID())
	_, dev := newClientFor(t, fs, strconv.Itoa(branchID))
	devHits := try(dev.GlobalSearch(ctx, keboola.SearchQuery{Query: "revenue", Limit: 100})).must(t)
	if devHits.All == 0 {
		t.Fatal("no hit in the development branch")
	}
	hitsOnlyIn(t, "branch", devHits.Items, branchID)
	// Paging: the pages of a search add up to its total.
	seen := map[string]bool{}
	for off := 0; off < hits.All; off += 2 {
		page := try(prod.GlobalSearch(ctx, keboola.SearchQuery{Query: "revenue", Limit: 2, Offset: off})).must(t)
		for _, it := range page.Items {
			seen[it.Type+"/"+string(it.ID)] = true
		}
	}
	if len(seen) != hits.All {
		t.Errorf("paged search saw %d distinct hits of %d", len(seen), hits.All)
	}
}

// Evidence: on BigQuery a bucket is a dataset (backendPath ["in_c_crm"]),
// tables are named `dataset`.`table`, workspaces log in with loginType
// "default", and alias tables are not materialised, so they cannot be
// queried (the Python server's workspace.py: _create_ws, get_table_info).
func TestReal_BigQueryProject(t *testing.T) {
	fs, c := newProject(t, fakestack.Options{Backend: "bigquery"}, "")
	ctx := ctxFor(t)
	info := try(c.VerifyToken(ctx)).must(t)
	if info.Owner.Backend() != "bigquery" {
		t.Fatalf("owner = %+v", info.Owner)
	}
	tb := try(c.GetTable(ctx, "in.c-crm.customers")).must(t)
	if p := tb.Bucket.BackendPath; len(p) != 1 || p[0] != "in_c_crm" {
		t.Errorf("backendPath = %v", p)
	}
	if name := try(tb.SQLName("bigquery")).must(t); name != "`in_c_crm`.`customers`" {
		t.Errorf("SQL name = %s", name)
	}
	id, _ := strconv.Atoi(try(c.QueryWorkspace(ctx)).must(t))
	if got := fs.WorkspaceLoginType(id); got != "default" {
		t.Errorf("BigQuery workspace loginType %q, want default", got)
	}

	shared := try(c.ListSharedBuckets(ctx)).must(t)
	if len(shared) == 0 {
		t.Fatal("no shared bucket to link")
	}
	linked := try(c.LinkSharedBucket(ctx, keboola.LinkRequest{SourceProjectID: string(shared[0].Project.ID), SourceBucketID: shared[0].ID,
		Stage: "in", Name: "linked-benchmarks"})).must(t)
	aliases := try(c.ListTables(ctx, linked.ID)).must(t)
	if len(aliases) == 0 || !aliases[0].IsAlias {
		t.Fatalf("linked bucket tables = %+v", aliases)
	}
	if _, err := aliases[0].SQLName("bigquery"); err == nil || !strings.Contains(err.Error(), "alias") {
		t.Errorf("an alias table got a BigQuery SQL name (err %v)", err)
	}
}

// hitsOnlyIn fails the test for each search hit outside branch branchID.
func hitsOnlyIn(t *testing.T, search string, items []keboola.SearchItem, branchID int) {
	t.Helper()
	for _, it := range items {
		var branch struct {
			ID json.Number `json:"id"`
		}
		_ = json.Unmarshal(it.FullPath["branch"], &branch)
		if branch.ID.String() != strconv.Itoa(branchID) {
			t.Errorf("%s search found %s %s in branch %s", search, it.Type, it.ID, branch.ID)
		}
	}
}

// The names SQLName builds run on each backend's Query Service, and a
// failed query's message is what the engine said: on BigQuery the Query
// Service wraps it in a serialized error object, of which the client keeps
// only the message, unescaped (the Python server's workspace.py,
// _BigQueryWorkspace._format_error_message); Snowflake's passes unchanged.
func TestReal_QueryErrorMessagePerBackend(t *testing.T) {
	for _, tc := range []struct {
		backend, badSQL string
		wantMessage     func(string) bool
	}{
		{backend: "bigquery", badSQL: `SELECT * FROM "in.c-crm"."customers"`,
			wantMessage: func(m string) bool { return m == `Syntax error: Unexpected string literal "in.c-crm" at [1:15]` }},
		// A Snowflake message quoting a "Message:" stays whole.
		{backend: "snowflake", badSQL: `SELECT "Message: ""x""" FROM "in.c-crm"."customers"`,
			wantMessage: func(m string) bool {
				return strings.HasPrefix(m, "SQL compilation error:") && strings.Contains(m, `Message: "x"`)
			}},
	} {
		t.Run(tc.backend, func(t *testing.T) {
			_, c := newProject(t, fakestack.Options{Backend: tc.backend}, "")
			ctx := ctxFor(t)
			tb := try(c.GetTable(ctx, "in.c-crm.customers")).must(t)
			name := try(tb.SQLName(tc.backend)).must(t)
			ws := try(c.QueryWorkspace(ctx)).must(t)
			opts := keboola.QueryOptions{PollInterval: 5 * time.Millisecond}
			res := try(c.RunQuery(ctx, ws, "SELECT COUNT(*) AS n FROM "+name, opts)).must(t)
			if len(res.Rows) != 1 || fmt.Sprint(res.Rows[0][0]) != strconv.Itoa(int(tb.RowsCount)) {
				t.Errorf("COUNT(*) over %s = %v, want %d", name, res.Rows, tb.RowsCount)
			}
			_, err := c.RunQuery(ctx, ws, tc.badSQL, opts)
			var qe *keboola.QueryFailedError
			if !errors.As(err, &qe) || !tc.wantMessage(qe.Message) {
				t.Errorf("error %v: not the message wanted", err)
			}
		})
	}
}
