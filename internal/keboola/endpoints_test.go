package keboola

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"
)

// TestEndpoints_SendDocumentedRequestsAndDecodeAnswers checks, for every
// single-request call, the method, path, query and body sent and the decoded
// answer.
func TestEndpoints_SendDocumentedRequestsAndDecodeAnswers(t *testing.T) {
	strp := func(s string) *string { return &s }
	cases := []struct {
		name      string
		branch    string
		call      func(context.Context, *Client) (any, error)
		status    int
		answer    string
		method    string
		path      string
		query     url.Values
		wantBody  string // JSON; "" means no body
		checkResp func(t *testing.T, got any)
	}{
		{
			name: "list branches", method: "GET", path: "/v2/storage/dev-branches",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListBranches(ctx) },
			answer: `[{"id":7,"name":"Main","isDefault":true,"created":"2020-01-02 03:04:05","creatorToken":[]}]`,
			checkResp: func(t *testing.T, got any) {
				b := got.([]Branch)
				if len(b) != 1 || b[0].ID != "7" || !b[0].IsDefault || b[0].Created.Year() != 2020 {
					t.Errorf("branches = %+v", b)
				}
			},
		},
		{
			name: "list buckets on default branch", method: "GET", path: "/v2/storage/buckets",
			query:  url.Values{"include": {"metadata,linkedBuckets"}},
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListBuckets(ctx) },
			answer: `[{"id":"in.c-main","name":"c-main","stage":"in","rowsCount":5,"metadata":[{"key":"KBC.description","value":"Main data","provider":"user","timestamp":"2019-08-12T14:36:08+0200"}],"backendPath":["DB","in.c-main"]}]`,
			checkResp: func(t *testing.T, got any) {
				b := got.([]Bucket)
				if len(b) != 1 || b[0].DescriptionText() != "Main data" || b[0].RowsCount != 5 {
					t.Errorf("buckets = %+v", b)
				}
			},
		},
		{
			name: "bucket detail", method: "GET", path: "/v2/storage/buckets/in.c-main",
			query:  url.Values{"include": {"metadata"}},
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetBucket(ctx, "in.c-main") },
			answer: `{"id":"in.c-main","sourceBucket":{"id":"out.c-shared","project":{"id":12,"name":"Other"}}}`,
			checkResp: func(t *testing.T, got any) {
				if b := got.(*Bucket); b.SourceBucket == nil || b.SourceBucket.Project.ID != "12" {
					t.Errorf("bucket = %+v", b)
				}
			},
		},
		{
			name: "list tables", method: "GET", path: "/v2/storage/buckets/in.c-main/tables",
			query:  url.Values{"include": {"columns,metadata,columnMetadata"}},
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListTables(ctx, "in.c-main") },
			answer: `[{"id":"in.c-main.a","name":"a","columns":["x"],"columnMetadata":[]},{"id":"in.c-main.b","name":"b","columnMetadata":{"x":[{"key":"KBC.description","value":"the x","timestamp":"2017-02-13 23:36:10"}]}}]`,
			checkResp: func(t *testing.T, got any) {
				tb := got.([]Table)
				if len(tb) != 2 || tb[0].ColumnMetadata == nil || len(tb[0].ColumnMetadata) != 0 {
					t.Fatalf("tables = %+v", tb)
				}
				if d, _ := tb[1].ColumnMetadata["x"].Get(MetadataKeyDescription); d != "the x" {
					t.Errorf("column description = %q", d)
				}
			},
		},
		{
			name: "all tables of the project", method: "GET", path: "/v2/storage/tables",
			query:  url.Values{"include": {"columns,metadata"}},
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListAllTables(ctx) },
			answer: `[{"id":"in.c-a.t","name":"t","bucket":{"id":"in.c-a"}}]`,
		},
		{
			name: "table detail", method: "GET", path: "/v2/storage/tables/in.c-main.customers",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetTable(ctx, "in.c-main.customers") },
			answer: `{"id":"in.c-main.customers","name":"customers","primaryKey":["id"],"bucket":{"id":"in.c-main","backendPath":["KBC_DB","in.c-main"]}}`,
			checkResp: func(t *testing.T, got any) {
				if n, err := got.(*Table).SQLName("snowflake"); err != nil || n != `"KBC_DB"."in.c-main"."customers"` {
					t.Errorf("SQLName = %q, %v", n, err)
				}
			},
		},
		{
			name: "data preview with filters and ordering", method: "GET", path: "/v2/storage/tables/in.c-main.t/data-preview",
			query: url.Values{"limit": {"10"}, "format": {"rfc"}, "columns": {"a,b"},
				"whereFilters[0][column]": {"a"}, "whereFilters[0][operator]": {"gt"}, "whereFilters[0][values][0]": {"5"},
				"orderBy[0][column]": {"b"}, "orderBy[0][order]": {"DESC"}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.PreviewTable(ctx, "in.c-main.t", PreviewOptions{Limit: 10, Columns: []string{"a", "b"},
					Where: []WhereFilter{{Column: "a", Operator: "gt", Values: []string{"5"}}}, OrderBy: []OrderBy{{Column: "b", Descending: true}}})
			},
			answer: "\"a\",\"b\"\n\"6\",\"x, \"\"quoted\"\"\"\n",
			checkResp: func(t *testing.T, got any) {
				p := got.(*TablePreview)
				want := &TablePreview{Columns: []string{"a", "b"}, Rows: [][]string{{"6", `x, "quoted"`}}}
				if !reflect.DeepEqual(p, want) {
					t.Errorf("preview = %+v", p)
				}
			},
		},
		{
			name: "bucket metadata write", method: "POST", path: "/v2/storage/buckets/in.c-main/metadata", status: 201,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SetBucketMetadata(ctx, "in.c-main", []MetadataInput{{Key: "KBC.description", Value: "d"}})
			},
			wantBody: `{"provider":"user","metadata":[{"key":"KBC.description","value":"d"}]}`,
			answer:   `[{"id":"1","key":"KBC.description","value":"d","provider":"user"}]`,
		},
		{
			name: "table and column metadata write", method: "POST", path: "/v2/storage/tables/in.c-main.t/metadata",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SetTableMetadata(ctx, "in.c-main.t", []MetadataInput{{Key: "KBC.description", Value: "t"}},
					map[string][]MetadataInput{"col": {{Key: "KBC.description", Value: "c"}}})
			},
			wantBody: `{"provider":"user","metadata":[{"key":"KBC.description","value":"t"}],"columnsMetadata":{"col":[{"key":"KBC.description","value":"c","columnName":"col"}]}}`,
			answer:   `{"metadata":[],"columnsMetadata":[]}`,
		},
		{
			name: "project description read", method: "GET", path: "/v2/storage/branch/default/metadata",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.BranchMetadata(ctx) },
			answer: `[{"key":"KBC.projectDescription","value":"old","timestamp":"2020-01-01T00:00:00Z"},{"key":"KBC.projectDescription","value":"new","timestamp":"2021-01-01T00:00:00Z"}]`,
			checkResp: func(t *testing.T, got any) {
				if v, _ := got.(Metadata).Get(MetadataKeyProjectDescription); v != "new" {
					t.Errorf("description = %q", v)
				}
			},
		},
		{
			name: "project description write", method: "POST", path: "/v2/storage/branch/default/metadata", status: 201,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SetBranchMetadata(ctx, []MetadataInput{{Key: MetadataKeyProjectDescription, Value: "p"}})
			},
			wantBody: `{"metadata":[{"key":"KBC.projectDescription","value":"p"}]}`,
			answer:   `[]`,
		},
		{
			name: "components of one type with configurations", method: "GET", path: "/v2/storage/branch/default/components",
			query: url.Values{"componentType": {"extractor"}, "include": {"configuration,rows"}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListComponents(ctx, ListComponentsOptions{Types: []string{"extractor"}, IncludeConfigs: true})
			},
			answer: `[{"id":"ex-db","type":"extractor","configurations":[{"id":12,"name":"c","configuration":[],"rows":[{"id":"r1","configuration":{"a":1}}]}]}]`,
			checkResp: func(t *testing.T, got any) {
				comps := got.([]Component)
				cfg := comps[0].Configurations[0]
				if cfg.ID != "12" || cfg.ComponentID != "ex-db" || string(cfg.Configuration) != "{}" || string(cfg.Rows[0].Configuration) != `{"a":1}` {
					t.Errorf("config = %+v", cfg)
				}
			},
		},
		{
			name: "component detail on a dev branch", branch: "9", method: "GET", path: "/v2/storage/branch/9/components/keboola.ex-http",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetComponent(ctx, "keboola.ex-http") },
			answer: `{"id":"keboola.ex-http","configurationSchema":{"type":"object"}}`,
		},
		{
			name: "list configurations", method: "GET", path: "/v2/storage/branch/default/components/keboola.ex-http/configs",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListConfigs(ctx, "keboola.ex-http") },
			answer: `[{"id":"1","name":"a","version":3}]`,
			checkResp: func(t *testing.T, got any) {
				if cfgs := got.([]Config); cfgs[0].ComponentID != "keboola.ex-http" || cfgs[0].Version != 3 {
					t.Errorf("configs = %+v", cfgs)
				}
			},
		},
		{
			name: "configuration detail", method: "GET", path: "/v2/storage/branch/default/components/keboola.ex-http/configs/55",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetConfig(ctx, "keboola.ex-http", "55") },
			answer: `{"id":"55","state":[]}`,
		},
		{
			name: "create configuration", method: "POST", path: "/v2/storage/branch/default/components/keboola.ex-http/configs", status: 201,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateConfig(ctx, "keboola.ex-http", ConfigInput{Name: "n", Description: "d",
					Configuration: json.RawMessage(`{"parameters":{"#token":"KBC::x"}}`), ChangeDescription: "why"})
			},
			wantBody: `{"name":"n","description":"d","configuration":{"parameters":{"#token":"KBC::x"}},"changeDescription":"why"}`,
			answer:   `{"id":"77","name":"n","version":1}`,
		},
		{
			name: "update configuration", method: "PUT", path: "/v2/storage/branch/default/components/keboola.ex-http/configs/77",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdateConfig(ctx, "keboola.ex-http", "77", ConfigUpdate{Name: strp("m"), ChangeDescription: "rename"})
			},
			wantBody: `{"name":"m","changeDescription":"rename"}`,
			answer:   `{"id":"77","name":"m","version":2}`,
		},
		{
			name: "delete configuration", method: "DELETE", path: "/v2/storage/branch/default/components/keboola.ex-http/configs/77", status: 204,
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.DeleteConfig(ctx, "keboola.ex-http", "77")
			},
		},
		{
			name: "configuration metadata on a dev branch", branch: "9", method: "GET", path: "/v2/storage/branch/9/components/keboola.ex-http/configs/77/metadata",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ConfigMetadata(ctx, "keboola.ex-http", "77")
			},
			answer: `[{"id":"301","key":"KBC.configuration.folderName","value":"Sales","provider":"user","timestamp":"2024-01-02 03:04:05"}]`,
			checkResp: func(t *testing.T, got any) {
				md := got.(Metadata)
				if len(md) != 1 || md[0].ID != "301" || md[0].Key != "KBC.configuration.folderName" || md[0].Value != "Sales" {
					t.Errorf("metadata = %+v", md)
				}
			},
		},
		{
			name: "delete configuration metadata on a dev branch", branch: "9", method: "DELETE", status: 204,
			path: "/v2/storage/branch/9/components/keboola.ex-http/configs/77/metadata/301",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.DeleteConfigMetadata(ctx, "keboola.ex-http", "77", "301")
			},
		},
		{
			name: "list rows", method: "GET", path: "/v2/storage/branch/default/components/c.x/configs/1/rows",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListConfigRows(ctx, "c.x", "1") },
			answer: `[{"id":1}]`,
		},
		{
			name: "create row", method: "POST", path: "/v2/storage/branch/default/components/c.x/configs/1/rows", status: 201,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateConfigRow(ctx, "c.x", "1", ConfigInput{Name: "r", Configuration: json.RawMessage(`{}`)})
			},
			wantBody: `{"name":"r","description":"","configuration":{}}`,
			answer:   `{"id":"2"}`,
		},
		{
			name: "update row", method: "PUT", path: "/v2/storage/branch/default/components/c.x/configs/1/rows/2",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdateConfigRow(ctx, "c.x", "1", "2", ConfigUpdate{Configuration: json.RawMessage(`{"a":2}`)})
			},
			wantBody: `{"configuration":{"a":2}}`,
			answer:   `{"id":"2"}`,
		},
		{
			name: "workspace detail", method: "GET", path: "/v2/storage/branch/default/workspaces/321",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetWorkspace(ctx, "321") },
			answer: `{"id":321,"readOnlyStorageAccess":true,"connection":{"backend":"snowflake","schema":"WS_1","database":"DB"}}`,
			checkResp: func(t *testing.T, got any) {
				if w := got.(*Workspace); w.ID != "321" || w.Connection.Schema != "WS_1" || !w.ReadOnlyStorageAccess {
					t.Errorf("workspace = %+v", w)
				}
			},
		},
		{
			name: "list workspaces", method: "GET", path: "/v2/storage/branch/default/workspaces",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ListWorkspaces(ctx) },
			answer: `[]`,
		},
		{
			name: "storage job", method: "GET", path: "/v2/storage/jobs/1001",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetStorageJob(ctx, "1001") },
			answer: `{"id":1001,"status":"error","error":{"code":"x","message":"boom"},"results":[]}`,
		},
		{
			name: "events of a job", method: "GET", path: "/v2/storage/events",
			query: url.Values{"runId": {"555"}, "forceUuid": {"true"}, "limit": {"20"}, "offset": {"40"}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListEvents(ctx, EventQuery{JobID: "555", Limit: 20, Offset: 40})
			},
			answer: `[{"id":"9","message":"hello","type":"info","runId":555,"created":"2019-08-12T14:36:08+0200","params":[]}]`,
			checkResp: func(t *testing.T, got any) {
				if e := got.([]Event); e[0].RunID != "555" || e[0].Created.UTC().Hour() != 12 {
					t.Errorf("events = %+v", e)
				}
			},
		},
		{
			name: "create event", method: "POST", path: "/v2/storage/events", status: 201,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateEvent(ctx, EventInput{Message: "m", Component: "keboola.mcp-server", Params: map[string]any{"tool": "x"}, Duration: 1500 * time.Millisecond})
			},
			wantBody: `{"message":"m","component":"keboola.mcp-server","type":"info","params":{"tool":"x"},"duration":1.5}`,
			answer:   `{"id":"10"}`,
		},
		{
			name: "create storage token", method: "POST", path: "/v2/storage/tokens", status: 201,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateToken(ctx, TokenRequest{Description: "mcp", CanManageBuckets: true, CanReadAllFileUploads: true, ExpiresIn: time.Hour})
			},
			wantBody: `{"description":"mcp","canManageBuckets":true,"canReadAllFileUploads":true,"expiresIn":3600}`,
			answer:   `{"id":99,"description":"mcp","token":"99-newsecret"}`,
			checkResp: func(t *testing.T, got any) {
				if nt := got.(*NewToken); nt.ID != "99" || nt.Token.Reveal() != "99-newsecret" {
					t.Errorf("new token = %+v", nt)
				}
			},
		},
		{
			name: "run job", branch: "42", method: "POST", path: "/queue/jobs", status: 201,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.RunJob(ctx, JobRequest{ComponentID: "keboola.ex-http", ConfigID: "77", ConfigRowIDs: []string{"1"}})
			},
			wantBody: `{"component":"keboola.ex-http","config":"77","mode":"run","configRowIds":["1"],"branchId":"42"}`,
			answer:   `{"id":"5001","status":"created","result":[],"branchId":null}`,
		},
		{
			name: "job detail", method: "GET", path: "/queue/jobs/5001",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.GetJob(ctx, "5001") },
			answer: `{"id":"5001","runId":"5001","status":"error","isFinished":true,"result":{"message":"Table not found"},"durationSeconds":12}`,
			checkResp: func(t *testing.T, got any) {
				if j := got.(*Job); j.Result.Message != "Table not found" || !j.IsFinished {
					t.Errorf("job = %+v", j)
				}
			},
		},
		{
			name: "search jobs", method: "GET", path: "/queue/search/jobs",
			query: url.Values{"componentId": {"c.x"}, "configId": {"7"}, "status": {"error", "warning"}, "limit": {"20"},
				"offset": {"20"}, "sortBy": {"startTime"}, "sortOrder": {"desc"}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SearchJobs(ctx, JobSearch{ComponentID: "c.x", ConfigID: "7", Statuses: []string{"error", "warning"}, Limit: 20, Offset: 20, SortDesc: true})
			},
			answer: `[]`,
		},
		{
			name: "kill job", method: "POST", path: "/queue/jobs/5001/kill",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.KillJob(ctx, "5001") },
			answer: `{"id":"5001","status":"terminating"}`,
		},
		{
			name: "query status", method: "GET", path: "/query/api/v1/queries/q1",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.QueryStatus(ctx, "q1") },
			answer: `{"queryJobId":"q1","status":"processing","statements":[{"id":"s1","status":"processing"}]}`,
		},
		{
			name: "query results page", method: "GET", path: "/query/api/v1/queries/q1/s1/results",
			query:  url.Values{"offset": {"100"}, "pageSize": {"500"}},
			call:   func(ctx context.Context, c *Client) (any, error) { return c.QueryResults(ctx, "q1", "s1", 100, 500) },
			answer: `{"status":"completed","columns":[{"name":"n","type":"NUMBER"}],"data":[["12345678901234567890"],[null]],"numberOfRows":2}`,
			checkResp: func(t *testing.T, got any) {
				p := got.(*QueryResultPage)
				if p.Data[0][0] != "12345678901234567890" || p.Data[1][0] != nil {
					t.Errorf("data = %#v", p.Data)
				}
			},
		},
		{
			name: "cancel query", method: "POST", path: "/query/api/v1/queries/q1/cancel",
			call:     func(ctx context.Context, c *Client) (any, error) { return nil, c.CancelQuery(ctx, "q1", "user asked") },
			wantBody: `{"reason":"user asked"}`,
			answer:   `{}`,
		},
		{
			name: "suggest component", method: "POST", path: "/ai/suggest/component",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SuggestComponents(ctx, "load from postgres")
			},
			wantBody: `{"prompt":"load from postgres"}`,
			answer:   `{"components":[{"componentId":"keboola.ex-db-pgsql","score":0.9,"source":"docs"}]}`,
			checkResp: func(t *testing.T, got any) {
				if s := got.([]ComponentSuggestion); len(s) != 1 || s[0].ComponentID != "keboola.ex-db-pgsql" {
					t.Errorf("suggestions = %+v", s)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status := tc.status
			if status == 0 {
				status = http.StatusOK
			}
			s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) { reply(w, status, tc.answer) })
			c := newTestClient(t, s, tc.branch)
			got, err := tc.call(testCtx(t), c)
			if err != nil {
				t.Fatalf("call failed: %v", err)
			}
			calls := s.calls()
			if len(calls) != 1 {
				t.Fatalf("got %d requests, want 1: %+v", len(calls), calls)
			}
			r := calls[0]
			if r.Method != tc.method || r.Path != tc.path {
				t.Errorf("request = %s %s, want %s %s", r.Method, r.Path, tc.method, tc.path)
			}
			gotQuery, _ := url.ParseQuery(r.Query)
			wantQuery := tc.query
			if wantQuery == nil {
				wantQuery = url.Values{}
			}
			if !reflect.DeepEqual(gotQuery, wantQuery) {
				t.Errorf("query = %v, want %v", gotQuery, wantQuery)
			}
			if h := r.Header.Get("X-StorageApi-Token"); h != testToken {
				t.Errorf("token header = %q", h)
			}
			if ua := r.Header.Get("User-Agent"); ua != DefaultUserAgent {
				t.Errorf("User-Agent = %q", ua)
			}
			assertJSONEqual(t, r.Body, tc.wantBody)
			assertNoTokenLeak(t, s, nil)
			if tc.checkResp != nil {
				tc.checkResp(t, got)
			}
		})
	}
}

func assertJSONEqual(t *testing.T, got, want string) {
	t.Helper()
	if want == "" {
		if got != "" {
			t.Errorf("unexpected body %s", got)
		}
		return
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad test JSON %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body = %s\nwant   %s", got, want)
	}
}

// TestEndpoints_RejectBadInputBeforeSending checks boundary validation: no
// request leaves for an input Keboola would refuse or that would change the path.
func TestEndpoints_RejectBadInputBeforeSending(t *testing.T) {
	cases := []struct {
		name string
		call func(context.Context, *Client) error
	}{
		{"bucket id without stage", func(ctx context.Context, c *Client) error { _, err := c.GetBucket(ctx, "main"); return err }},
		{"table id with two parts", func(ctx context.Context, c *Client) error { _, err := c.GetTable(ctx, "in.c-main"); return err }},
		{"preview limit too large", func(ctx context.Context, c *Client) error {
			_, err := c.PreviewTable(ctx, "in.c-a.t", PreviewOptions{Limit: 1001})
			return err
		}},
		{"preview unknown operator", func(ctx context.Context, c *Client) error {
			_, err := c.PreviewTable(ctx, "in.c-a.t", PreviewOptions{Where: []WhereFilter{{Column: "a", Operator: "like", Values: []string{"x"}}}})
			return err
		}},
		{"config id with a slash", func(ctx context.Context, c *Client) error { _, err := c.GetConfig(ctx, "c.x", "../1"); return err }},
		{"empty component id", func(ctx context.Context, c *Client) error { _, err := c.ListConfigs(ctx, " "); return err }},
		{"configuration body not an object", func(ctx context.Context, c *Client) error {
			_, err := c.CreateConfig(ctx, "c.x", ConfigInput{Name: "n", Configuration: json.RawMessage(`[1]`)})
			return err
		}},
		{"update that changes nothing", func(ctx context.Context, c *Client) error {
			_, err := c.UpdateConfig(ctx, "c.x", "1", ConfigUpdate{ChangeDescription: "x"})
			return err
		}},
		{"unknown component type", func(ctx context.Context, c *Client) error {
			_, err := c.ListComponents(ctx, ListComponentsOptions{Types: []string{"other"}})
			return err
		}},
		{"unknown job status", func(ctx context.Context, c *Client) error {
			_, err := c.SearchJobs(ctx, JobSearch{Statuses: []string{"done"}})
			return err
		}},
		{"job search limit too large", func(ctx context.Context, c *Client) error {
			_, err := c.SearchJobs(ctx, JobSearch{Limit: 501})
			return err
		}},
		{"empty metadata key", func(ctx context.Context, c *Client) error {
			_, err := c.SetBucketMetadata(ctx, "in.c-a", []MetadataInput{{Key: " "}})
			return err
		}},
		{"empty docs question", func(ctx context.Context, c *Client) error { _, err := c.AskDocs(ctx, ""); return err }},
		{"empty SQL", func(ctx context.Context, c *Client) error {
			_, err := c.SubmitQuery(ctx, "1", []string{" "})
			return err
		}},
		{"token without description", func(ctx context.Context, c *Client) error { _, err := c.CreateToken(ctx, TokenRequest{}); return err }},
		{"bad bucket permission", func(ctx context.Context, c *Client) error {
			_, err := c.CreateToken(ctx, TokenRequest{Description: "d", BucketPermissions: map[string]string{"in.c-a": "all"}})
			return err
		}},
		{"bad event type", func(ctx context.Context, c *Client) error {
			_, err := c.CreateEvent(ctx, EventInput{Message: "m", Component: "c", Type: "debug"})
			return err
		}},
		{"unknown workspace backend", func(ctx context.Context, c *Client) error {
			_, err := c.CreateWorkspace(ctx, WorkspaceRequest{Backend: "redshift"})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) { reply(w, 200, `{}`) })
			err := tc.call(testCtx(t), newTestClient(t, s, ""))
			var apiErr *APIError
			if err == nil || errors.As(err, &apiErr) {
				t.Fatalf("want a validation error, got %v", err)
			}
			if n := len(s.calls()); n != 0 {
				t.Errorf("%d requests sent for invalid input", n)
			}
		})
	}
}
