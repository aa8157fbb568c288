package keboola_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
)

// These tests drive every client call against the fake stack over real HTTP.

// shared is one fake stack for all tests in this file: seeding the demo
// project is the slow part (seconds under -race), and the tests touch
// disjoint objects.
var shared = fakestacktest.Shared{Options: fakestack.Options{JobStepDelay: 5 * time.Millisecond, Clock: fakeClock}}

// clock is the shared stack's time, which can be frozen so asynchronous
// jobs hold still.
var clock struct {
	mu     sync.Mutex
	frozen time.Time
}

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

func fakeClock() time.Time {
	clock.mu.Lock()
	defer clock.mu.Unlock()
	if !clock.frozen.IsZero() {
		return clock.frozen
	}
	return time.Now()
}

// freezeClock stops the fake's time until the test ends, so jobs created
// meanwhile stay in their first state.
func freezeClock(t *testing.T) {
	clock.mu.Lock()
	clock.frozen = time.Now()
	clock.mu.Unlock()
	t.Cleanup(func() {
		clock.mu.Lock()
		clock.frozen = time.Time{}
		clock.mu.Unlock()
	})
}

func newFake(t *testing.T) (*fakestack.Stack, *keboola.Client) {
	t.Helper()
	fs := shared.Get(t)
	c, err := keboola.New(keboola.Credentials{StackURL: fs.URL(), StorageToken: keboola.Secret(fs.MasterToken())},
		keboola.Options{Retry: keboola.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return fs, c
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// result lets a two-value call be checked inline: try(f()).must(t).
type result[T any] struct {
	v   T
	err error
}

func try[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func TestFake_TokenAndProject(t *testing.T) {
	fs, c := newFake(t)
	ctx := ctxFor(t)
	info := try(c.VerifyToken(ctx)).must(t)
	if string(info.Owner.ID) != strconv.Itoa(fs.ProjectID()) || !info.IsMasterToken || info.Owner.DefaultBackend != "snowflake" {
		t.Errorf("token info = %+v", info)
	}
	if _, err := keboola.VerifyToken(ctx, fs.URL(), "nope", keboola.Options{}); !errors.Is(err, keboola.ErrInvalidToken) {
		t.Errorf("bad token: %v", err)
	}
	nt := try(c.CreateToken(ctx, keboola.TokenRequest{Description: "integration", CanReadAllFileUploads: true, ExpiresIn: time.Hour})).must(t)
	minted := try(keboola.VerifyToken(ctx, fs.URL(), nt.Token, keboola.Options{})).must(t)
	if minted.Description != "integration" || minted.IsMasterToken {
		t.Errorf("minted token = %+v", minted)
	}
	if id := try(c.DefaultBranchID(ctx)).must(t); id != strconv.Itoa(fs.DefaultBranchID()) {
		t.Errorf("default branch = %s", id)
	}
	links := try(c.Links(ctx)).must(t)
	if !strings.HasSuffix(links.Project(), "/admin/projects/"+strconv.Itoa(fs.ProjectID())) {
		t.Errorf("project link = %s", links.Project())
	}
}

func TestFake_StorageReadsAndMetadata(t *testing.T) {
	_, c := newFake(t)
	ctx := ctxFor(t)
	buckets := try(c.ListBuckets(ctx)).must(t)
	if len(buckets) == 0 {
		t.Fatal("no buckets in the demo project")
	}
	crm := try(c.GetBucket(ctx, "in.c-crm")).must(t)
	if crm.DescriptionText() == "" || crm.Stage != "in" {
		t.Errorf("bucket = %+v", crm)
	}
	tables := try(c.ListTables(ctx, "in.c-crm")).must(t)
	if len(tables) == 0 || len(tables[0].Columns) == 0 {
		t.Fatalf("tables = %+v", tables)
	}
	all := try(c.ListAllTables(ctx)).must(t)
	if len(all) < len(tables) {
		t.Errorf("ListAllTables returned %d tables, fewer than one bucket's %d", len(all), len(tables))
	}
	tb := try(c.GetTable(ctx, "in.c-crm.customers")).must(t)
	name, err := tb.SQLName("snowflake")
	if err != nil || !strings.HasSuffix(name, `."customers"`) {
		t.Errorf("SQL name = %q, %v", name, err)
	}
	preview := try(c.PreviewTable(ctx, tb.ID, keboola.PreviewOptions{Limit: 3, Columns: tb.Columns[:2],
		OrderBy: []keboola.OrderBy{{Column: tb.Columns[0], Descending: true}}})).must(t)
	if len(preview.Rows) != 3 || len(preview.Columns) != 2 {
		t.Errorf("preview = %+v", preview)
	}
	if _, err := c.GetTable(ctx, "in.c-crm.missing"); !errors.Is(err, keboola.ErrNotFound) {
		t.Errorf("missing table: %v", err)
	}

	md := try(c.SetBucketMetadata(ctx, "in.c-crm", []keboola.MetadataInput{{Key: keboola.MetadataKeyDescription, Value: "CRM data"}})).must(t)
	if v, _ := md.Get(keboola.MetadataKeyDescription); v != "CRM data" {
		t.Errorf("bucket description after write = %q", v)
	}
	col := tb.Columns[0]
	tm := try(c.SetTableMetadata(ctx, tb.ID, []keboola.MetadataInput{{Key: keboola.MetadataKeyDescription, Value: "People"}},
		map[string][]keboola.MetadataInput{col: {{Key: keboola.MetadataKeyDescription, Value: "The key"}}})).must(t)
	if v, _ := tm.Metadata.Get(keboola.MetadataKeyDescription); v != "People" {
		t.Errorf("table description = %q", v)
	}
	if v, _ := tm.ColumnsMetadata[col].Get(keboola.MetadataKeyDescription); v != "The key" {
		t.Errorf("column description = %q (%+v)", v, tm.ColumnsMetadata)
	}
	again := try(c.GetTable(ctx, tb.ID)).must(t)
	if v, _ := again.ColumnMetadata[col].Get(keboola.MetadataKeyDescription); v != "The key" {
		t.Errorf("column description not persisted: %q", v)
	}
	try(c.SetBranchMetadata(ctx, []keboola.MetadataInput{{Key: keboola.MetadataKeyProjectDescription, Value: "Demo project"}})).must(t)
	bm := try(c.BranchMetadata(ctx)).must(t)
	if v, _ := bm.Get(keboola.MetadataKeyProjectDescription); v != "Demo project" {
		t.Errorf("project description = %q", v)
	}
	branches := try(c.ListBranches(ctx)).must(t)
	if len(branches) == 0 || !branches[0].IsDefault {
		t.Errorf("branches = %+v", branches)
	}
}

func TestFake_ComponentsAndConfigurations(t *testing.T) {
	_, c := newFake(t)
	ctx := ctxFor(t)
	comps := try(c.ListComponents(ctx, keboola.ListComponentsOptions{Types: []string{keboola.ComponentTypeExtractor}, IncludeConfigs: true})).must(t)
	if len(comps) == 0 {
		t.Fatal("no extractors")
	}
	for _, comp := range comps {
		if comp.Type != keboola.ComponentTypeExtractor {
			t.Errorf("component %s has type %s", comp.ID, comp.Type)
		}
	}
	detail := try(c.GetComponent(ctx, "keboola.ex-http")).must(t)
	if detail.Name == "" {
		t.Errorf("component = %+v", detail)
	}

	cfg := try(c.CreateConfig(ctx, "keboola.ex-http", keboola.ConfigInput{Name: "Rates", Description: "FX rates",
		Configuration: json.RawMessage(`{"parameters":{"baseUrl":"https://example.com/"}}`), ChangeDescription: "created by test"})).must(t)
	if cfg.ID == "" || cfg.Version != 1 {
		t.Fatalf("created = %+v", cfg)
	}
	listed := try(c.ListConfigs(ctx, "keboola.ex-http")).must(t)
	if !containsConfig(listed, string(cfg.ID)) {
		t.Errorf("new config not listed")
	}
	name := "Rates v2"
	upd := try(c.UpdateConfig(ctx, "keboola.ex-http", string(cfg.ID), keboola.ConfigUpdate{Name: &name,
		Configuration: json.RawMessage(`{"parameters":{"baseUrl":"https://example.org/"}}`), ChangeDescription: "rename"})).must(t)
	if upd.Name != name || upd.Version != 2 {
		t.Errorf("updated = %+v", upd)
	}
	got := try(c.GetConfig(ctx, "keboola.ex-http", string(cfg.ID))).must(t)
	if !strings.Contains(string(got.Configuration), "example.org") {
		t.Errorf("configuration = %s", got.Configuration)
	}
	row := try(c.CreateConfigRow(ctx, "keboola.ex-http", string(cfg.ID), keboola.ConfigInput{Name: "EUR",
		Configuration: json.RawMessage(`{"parameters":{"path":"eur"}}`)})).must(t)
	rowName := "EUR daily"
	try(c.UpdateConfigRow(ctx, "keboola.ex-http", string(cfg.ID), string(row.ID), keboola.ConfigUpdate{Name: &rowName})).must(t)
	rows := try(c.ListConfigRows(ctx, "keboola.ex-http", string(cfg.ID))).must(t)
	if len(rows) != 1 || rows[0].Name != rowName {
		t.Errorf("rows = %+v", rows)
	}
	if err := c.DeleteConfig(ctx, "keboola.ex-http", string(cfg.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetConfig(ctx, "keboola.ex-http", "does-not-exist"); !errors.Is(err, keboola.ErrNotFound) {
		t.Errorf("missing config: %v", err)
	}
}

func containsConfig(cfgs []keboola.Config, id string) bool {
	for _, c := range cfgs {
		if string(c.ID) == id {
			return true
		}
	}
	return false
}

func TestFake_WorkspaceAndQueries(t *testing.T) {
	_, c := newFake(t)
	ctx := ctxFor(t)
	ws := try(c.CreateWorkspace(ctx, keboola.WorkspaceRequest{Backend: "snowflake"})).must(t)
	if ws.ID == "" || !ws.ReadOnlyStorageAccess || ws.Connection.Schema == "" {
		t.Fatalf("workspace = %+v", ws)
	}
	if got := try(c.GetWorkspace(ctx, string(ws.ID))).must(t); got.ID != ws.ID {
		t.Errorf("workspace detail = %+v", got)
	}
	if list := try(c.ListWorkspaces(ctx)).must(t); len(list) == 0 {
		t.Error("workspace not listed")
	}
	tb := try(c.GetTable(ctx, "in.c-crm.customers")).must(t)
	name := try(tb.SQLName("snowflake")).must(t)

	var statuses []string
	res := try(c.RunQuery(ctx, string(ws.ID), "SELECT * FROM "+name, keboola.QueryOptions{MaxRows: 5,
		PollInterval: 5 * time.Millisecond, Progress: func(s string, _ time.Duration) { statuses = append(statuses, s) }})).must(t)
	if len(res.Rows) != 5 || !res.Truncated || res.TotalRows != tb.RowsCount || len(res.Columns) != len(tb.Columns) {
		t.Errorf("result: %d rows of %d, truncated %v, %d columns (table has %d rows)", len(res.Rows), res.TotalRows, res.Truncated, len(res.Columns), tb.RowsCount)
	}
	if len(statuses) == 0 || statuses[len(statuses)-1] != keboola.QueryStatusCompleted {
		t.Errorf("progress = %v", statuses)
	}

	_, err := c.RunQuery(ctx, string(ws.ID), "SELECT no_such_column FROM "+name, keboola.QueryOptions{PollInterval: 5 * time.Millisecond})
	var qe *keboola.QueryFailedError
	if !errors.As(err, &qe) || qe.Message == "" {
		t.Errorf("bad SQL: %v", err)
	}

	id := try(c.SubmitQuery(ctx, string(ws.ID), []string{"SELECT 1"})).must(t)
	if err := c.CancelQuery(ctx, id, "test"); err != nil {
		t.Errorf("cancel: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := try(c.QueryStatus(ctx, id)).must(t)
		if st.Status == keboola.QueryStatusCanceled || st.Status == keboola.QueryStatusCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("query stuck in %s after cancel", st.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFake_JobsEventsSearchAndAI(t *testing.T) {
	_, c := newFake(t)
	freezeClock(t) // the new job stays unfinished, so it can be killed
	ctx := ctxFor(t)
	cfgs := try(c.ListConfigs(ctx, "keboola.ex-http")).must(t)
	if len(cfgs) == 0 {
		t.Fatal("no demo configuration of keboola.ex-http")
	}
	job := try(c.RunJob(ctx, keboola.JobRequest{ComponentID: "keboola.ex-http", ConfigID: string(cfgs[0].ID)})).must(t)
	if job.ID == "" || job.Component != "keboola.ex-http" {
		t.Fatalf("job = %+v", job)
	}
	if got := try(c.GetJob(ctx, string(job.ID))).must(t); got.ID != job.ID {
		t.Errorf("job detail = %+v", got)
	}
	found := try(c.SearchJobs(ctx, keboola.JobSearch{ComponentID: "keboola.ex-http", Limit: 50, SortDesc: true})).must(t)
	if len(found) == 0 {
		t.Error("no jobs found for the component")
	}
	for _, j := range found {
		if j.Component != "keboola.ex-http" {
			t.Errorf("search returned a job of %s", j.Component)
		}
	}
	if _, err := c.KillJob(ctx, string(job.ID)); err != nil {
		t.Errorf("kill: %v", err)
	}

	ev := try(c.CreateEvent(ctx, keboola.EventInput{Message: "tool called", Component: "keboola.mcp-server", Params: map[string]any{"tool": "get_buckets"}})).must(t)
	if ev.ID == "" {
		t.Errorf("event = %+v", ev)
	}
	if events := try(c.ListEvents(ctx, keboola.EventQuery{Limit: 10})).must(t); len(events) == 0 {
		t.Error("no events")
	}
	try(c.ListEvents(ctx, keboola.EventQuery{JobID: string(job.ID)})).must(t)

	sealed := try(c.EncryptSecrets(ctx, "keboola.ex-http", string(cfgs[0].ID), json.RawMessage(`{"#token":"plain","n":1}`))).must(t)
	if strings.Contains(string(sealed), "plain") || !strings.Contains(string(sealed), "KBC::") {
		t.Errorf("encrypted = %s", sealed)
	}

	hits := try(c.GlobalSearch(ctx, keboola.SearchQuery{Query: "customers"})).must(t)
	if hits.All == 0 || len(hits.Items) == 0 {
		t.Errorf("search = %+v", hits)
	}

	ans := try(c.AskDocs(ctx, "How do I run a job?")).must(t)
	if ans.Text == "" {
		t.Errorf("answer = %+v", ans)
	}
	try(c.SuggestComponents(ctx, "load data from MySQL")).must(t)
	docs := try(c.GetComponentDocs(ctx, "keboola.ex-http")).must(t)
	if docs.Documentation == "" && len(docs.ConfigurationSchema) == 0 {
		t.Errorf("docs = %+v", docs)
	}
}

func TestFake_RetriesInjectedFaults(t *testing.T) {
	fs, c := newFake(t)
	ctx := ctxFor(t)
	try(c.ListBuckets(ctx)).must(t) // warm discovery
	if err := fs.InjectFault(fakestack.Fault{PathPrefix: "/v2/storage/buckets", Fail5xx: 2, Status5xx: 503}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListBuckets(ctx); err != nil {
		t.Fatalf("two 503s then success should succeed: %v", err)
	}
	fs.ClearFaults()
	t.Cleanup(fs.ClearFaults)
	if err := fs.InjectFault(fakestack.Fault{PathPrefix: "/v2/storage/buckets", Maintenance: true, RetryAfter: 3600}); err != nil {
		t.Fatal(err)
	}
	_, err := c.ListBuckets(ctx)
	var apiErr *keboola.APIError
	if !errors.Is(err, keboola.ErrMaintenance) || !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Hour {
		t.Fatalf("maintenance: %v", err)
	}
	fs.ClearFaults()
	if err := fs.InjectFault(fakestack.Fault{PathPrefix: "/v2/storage/branch/default/components/keboola.ex-http/configs", Fail5xx: 1}); err != nil {
		t.Fatal(err)
	}
	before := len(fs.Requests())
	if _, err := c.CreateConfig(ctx, "keboola.ex-http", keboola.ConfigInput{Name: "x"}); err == nil {
		t.Fatal("a failed create must not be retried into success")
	}
	if n := len(fs.Requests()) - before; n != 1 {
		t.Errorf("create sent %d times", n)
	}
}
