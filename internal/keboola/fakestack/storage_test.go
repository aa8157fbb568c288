package fakestack

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestIndex_AdvertisesEveryServiceOnTheSameListener(t *testing.T) {
	s := newTestServer(t, Options{})
	r := call(t, "GET", s.URL()+"/v2/storage?exclude=components", nil, nil)
	wantStatus(t, r, http.StatusOK)
	idx := r.object(t)
	if _, has := idx["components"]; has {
		t.Error("exclude=components still lists components")
	}
	got := map[string]string{}
	for _, svc := range idx["services"].([]any) {
		m := svc.(map[string]any)
		got[m["id"].(string)] = m["url"].(string)
	}
	for id, prefix := range map[string]string{"queue": "/queue", "query": "/query", "ai": "/ai", "encryption": "/encryption", "scheduler": "/scheduler", "sync-actions": "/sync-actions"} {
		if got[id] != s.URL()+prefix {
			t.Errorf("service %s at %q, want %q", id, got[id], s.URL()+prefix)
		}
	}
	full := call(t, "GET", s.URL()+"/v2/storage", nil, nil).object(t)
	if comps, _ := full["components"].([]any); len(comps) == 0 {
		t.Error("the index without exclude lists no components")
	}
}

var keboolaTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$`)

func TestVerify_MasterTokenHasObservedShape(t *testing.T) {
	s := newTestServer(t, Options{MasterToken: "1234-100-fixed"})
	v := api(t, s, "GET", "/v2/storage/tokens/verify", nil).object(t)
	if _, ok := v["id"].(string); !ok {
		t.Errorf("id %v is not a string", v["id"])
	}
	if perms, ok := v["bucketPermissions"].([]any); !ok || len(perms) != 0 {
		t.Errorf("bucketPermissions = %v, want [] for a token without explicit permissions", v["bucketPermissions"])
	}
	if id, ok := path(t, v, "owner", "id").(float64); !ok || int(id) != 1234 {
		t.Errorf("owner.id = %v, want the number 1234", path(t, v, "owner", "id"))
	}
	if path(t, v, "owner", "defaultBackend") != "snowflake" || v["isMasterToken"] != true {
		t.Errorf("owner.defaultBackend/isMasterToken wrong: %v", v)
	}
	if _, ok := v["admin"].(map[string]any); !ok {
		t.Error("a master token must carry an admin object")
	}
	if !keboolaTimestamp.MatchString(v["created"].(string)) {
		t.Errorf("created %q is not in the Storage API timestamp format", v["created"])
	}
}

func TestAuth_InvalidCredentialsGetServiceErrors(t *testing.T) {
	s, clk := newClocked(t, Options{})
	revoked := s.AddToken(TokenOptions{Description: "soon revoked", CanManageBuckets: true})
	s.RevokeToken(revoked)
	expiring := s.AddToken(TokenOptions{Description: "expires", CanManageBuckets: true, ExpiresIn: time.Minute})
	clk.Advance(2 * time.Minute)
	cases := []struct {
		name    string
		path    string
		headers map[string]string
		code    string
	}{
		{"no token", "/v2/storage/buckets", nil, "storage.tokenInvalid"},
		{"unknown token", "/v2/storage/buckets", tokenHeader("1234-1-nope"), "storage.tokenInvalid"},
		{"revoked token", "/v2/storage/buckets", tokenHeader(revoked), "storage.tokenInvalid"},
		{"expired token", "/v2/storage/buckets", tokenHeader(expiring), "storage.tokenInvalid"},
		{"storage token as bearer is not an OAuth token", "/v2/storage/buckets", bearer(s.MasterToken()), "storage.tokenInvalid"},
		{"queue refuses bearer", "/queue/jobs/1", bearer(s.MasterToken()), "storage.tokenMissing"},
		{"ai refuses bearer", "/ai/docs/components/keboola.ex-http", bearer(s.MasterToken()), "storage.tokenMissing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, "GET", s.URL()+tc.path, tc.headers, nil)
			wantStatus(t, r, http.StatusUnauthorized)
			body := r.object(t)
			if strings.HasPrefix(tc.path, "/queue") {
				if body["code"] != float64(401) {
					t.Errorf("queue error code %v, want the int 401", body["code"])
				}
				return
			}
			if body["code"] != tc.code {
				t.Errorf("code %v, want %s", body["code"], tc.code)
			}
		})
	}
}

func TestTokens_LimitedTokenSeesOnlyPermittedBuckets(t *testing.T) {
	s := newTestServer(t, Options{})
	created := api(t, s, "POST", "/v2/storage/tokens", map[string]any{
		"description": "crm reader", "bucketPermissions": map[string]any{"in.c-crm": "read"}, "expiresIn": 3600,
	})
	wantStatus(t, created, http.StatusCreated)
	tok, _ := created.object(t)["token"].(string)
	if tok == "" {
		t.Fatalf("created token carries no secret: %s", created.body)
	}
	ver := call(t, "GET", s.URL()+"/v2/storage/tokens/verify", tokenHeader(tok), nil).object(t)
	if path(t, ver, "bucketPermissions", "in.c-crm") != "read" || ver["expires"] == nil || ver["isMasterToken"] != false {
		t.Errorf("verify of the limited token: %v", ver)
	}
	buckets := call(t, "GET", s.URL()+"/v2/storage/buckets", tokenHeader(tok), nil).array(t)
	if len(buckets) != 1 || path(t, buckets, 0, "id") != "in.c-crm" {
		t.Errorf("limited token lists %v, want only in.c-crm", buckets)
	}
	wantStorageError(t, call(t, "GET", s.URL()+"/v2/storage/tables/in.c-web.sessions", tokenHeader(tok), nil), http.StatusForbidden, "accessDenied")
	wantStorageError(t, call(t, "POST", s.URL()+"/v2/storage/buckets/in.c-crm/metadata", tokenHeader(tok),
		map[string]any{"provider": "user", "metadata": []any{map[string]any{"key": "KBC.description", "value": "x"}}}), http.StatusForbidden, "accessDenied")
	wantStorageError(t, call(t, "POST", s.URL()+"/v2/storage/tokens", tokenHeader(tok), map[string]any{"description": "x"}), http.StatusForbidden, "accessDenied")
	wantStorageError(t, api(t, s, "POST", "/v2/storage/tokens", map[string]any{"bucketPermissions": map[string]any{"in.c-nope": "read"}}),
		http.StatusBadRequest, "storage.buckets.notFound")
	wantStatus(t, api(t, s, "POST", "/v2/storage/tokens", map[string]any{"bucketPermissions": map[string]any{"in.c-crm": "admin"}}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", "/v2/storage/tokens", map[string]any{"expiresIn": -5}), http.StatusBadRequest)

	id := created.object(t)["id"].(string)
	listed := api(t, s, "GET", "/v2/storage/tokens", nil).array(t)
	if len(listed) != 2 {
		t.Errorf("tokens listed: %d, want master and the new one", len(listed))
	}
	wantStatus(t, api(t, s, "DELETE", "/v2/storage/tokens/"+id, nil), http.StatusNoContent)
	wantStatus(t, call(t, "GET", s.URL()+"/v2/storage/tokens/verify", tokenHeader(tok), nil), http.StatusUnauthorized)
	wantStorageError(t, api(t, s, "DELETE", "/v2/storage/tokens/"+id, nil), http.StatusNotFound, "storage.tokens.notFound")
	masterID := api(t, s, "GET", "/v2/storage/tokens/verify", nil).object(t)["id"].(string)
	wantStatus(t, api(t, s, "DELETE", "/v2/storage/tokens/"+masterID, nil), http.StatusBadRequest)
}

func TestBuckets_ListIsAPlainArrayWithBackendPath(t *testing.T) {
	s := newTestServer(t, Options{})
	buckets := api(t, s, "GET", "/v2/storage/buckets?include=metadata", nil).array(t)
	ids := map[string]bool{}
	for _, b := range buckets {
		m := b.(map[string]any)
		ids[m["id"].(string)] = true
		if bp := m["backendPath"].([]any); len(bp) != 2 || bp[0] != "KEBOOLA_1234" || bp[1] != m["id"] {
			t.Errorf("bucket %v backendPath %v", m["id"], bp)
		}
		if md, _ := m["metadata"].([]any); len(md) == 0 {
			t.Errorf("bucket %v: include=metadata gave no metadata", m["id"])
		}
	}
	for _, id := range []string{"in.c-crm", "in.c-web", "in.c-erp", "out.c-reports"} {
		if !ids[id] {
			t.Errorf("demo bucket %s missing", id)
		}
	}
	plain := api(t, s, "GET", "/v2/storage/buckets", nil).array(t)
	if _, has := plain[0].(map[string]any)["metadata"]; has {
		t.Error("metadata listed without include=metadata")
	}
	detail := api(t, s, "GET", "/v2/storage/branch/default/buckets/in.c-crm", nil).object(t)
	if detail["description"] == "" || detail["stage"] != "in" {
		t.Errorf("bucket detail %v", detail)
	}
	wantStorageError(t, api(t, s, "GET", "/v2/storage/buckets/in.c-nope", nil), http.StatusNotFound, "storage.buckets.notFound")
}

func TestTables_ShapesAndBranchPaths(t *testing.T) {
	s := newTestServer(t, Options{})
	all := api(t, s, "GET", "/v2/storage/tables?include=columns,metadata,columnMetadata", nil).array(t)
	if len(all) < 8 {
		t.Fatalf("%d demo tables, want at least 8", len(all))
	}
	for _, p := range []string{"/v2/storage/tables/in.c-crm.orders", "/v2/storage/branch/default/tables/in.c-crm.orders", "/v2/storage/branch/1001/tables/in.c-crm.orders"} {
		tbl := api(t, s, "GET", p, nil).object(t)
		if tbl["id"] != "in.c-crm.orders" || path(t, tbl, "bucket", "backendPath", 1) != "in.c-crm" {
			t.Fatalf("%s: %s", p, tbl)
		}
		if cols := tbl["columns"].([]any); len(cols) != 7 || cols[0] != "order_id" {
			t.Errorf("%s columns %v", p, cols)
		}
		desc := path(t, tbl, "columnMetadata", "total_usd", 0)
		if path(t, desc, "key") != "KBC.description" || !keboolaTimestamp.MatchString(path(t, desc, "timestamp").(string)) || path(t, desc, "provider") != "user" {
			t.Errorf("column metadata entry %v", desc)
		}
	}
	web := api(t, s, "GET", "/v2/storage/tables/in.c-web.sessions", nil).object(t)
	if cm, ok := web["columnMetadata"].([]any); !ok || len(cm) != 0 {
		t.Errorf("columnMetadata of a table without column metadata = %v, want []", web["columnMetadata"])
	}
	if web["rowsCount"].(float64) < 10000 {
		t.Errorf("sessions has %v rows, want at least 10000", web["rowsCount"])
	}
	inBucket := api(t, s, "GET", "/v2/storage/buckets/in.c-erp/tables?include=columns", nil).array(t)
	if len(inBucket) != 2 || path(t, inBucket, 0, "columns") == nil {
		t.Errorf("in.c-erp tables %v", inBucket)
	}
	wantStorageError(t, api(t, s, "GET", "/v2/storage/tables/in.c-crm.nope", nil), http.StatusNotFound, "storage.tables.notFound")
	wantStorageError(t, api(t, s, "GET", "/v2/storage/branch/999/tables/in.c-crm.orders", nil), http.StatusNotFound, "storage.devBranches.notFound")
	branches := api(t, s, "GET", "/v2/storage/dev-branches", nil).array(t)
	if path(t, branches, 0, "id") != float64(s.DefaultBranchID()) || path(t, branches, 0, "isDefault") != true {
		t.Errorf("dev-branches %v", branches)
	}
}

func previewRows(t *testing.T, s *Stack, table string, q url.Values) [][]string {
	t.Helper()
	r := api(t, s, "GET", "/v2/storage/tables/"+table+"/data-preview?"+q.Encode(), nil)
	wantStatus(t, r, http.StatusOK)
	for i, line := range strings.Split(strings.TrimSuffix(string(r.body), "\r\n"), "\r\n") {
		for _, field := range strings.Split(line, ",") {
			if !strings.HasPrefix(field, `"`) || !strings.HasSuffix(field, `"`) {
				t.Fatalf("line %d field %s is not quoted: %s", i, field, line)
			}
		}
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestDataPreview_FiltersOrdersAndLimits(t *testing.T) {
	s := newTestServer(t, Options{})
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name  string
		table string
		q     url.Values
		check func(t *testing.T, rows [][]string)
	}{
		{"default limit 100 with header", "in.c-web.sessions", q(), func(t *testing.T, rows [][]string) {
			if len(rows) != 101 || rows[0][0] != "session_id" {
				t.Errorf("%d rows, header %v", len(rows), rows[0])
			}
		}},
		{"columns and limit", "in.c-crm.customers", q("columns", "customer_id,segment", "limit", "5"), func(t *testing.T, rows [][]string) {
			if len(rows) != 6 || len(rows[0]) != 2 || rows[0][1] != "segment" {
				t.Errorf("rows %v", rows)
			}
		}},
		{"eq with several values", "in.c-crm.orders", q("whereFilters[0][column]", "status", "whereFilters[0][operator]", "eq",
			"whereFilters[0][values][0]", "refunded", "whereFilters[0][values][1]", "pending", "limit", "1000"), func(t *testing.T, rows [][]string) {
			if len(rows) < 2 {
				t.Fatal("no refunded or pending orders")
			}
			for _, r := range rows[1:] {
				if r[4] != "refunded" && r[4] != "pending" {
					t.Fatalf("row %v slipped past the filter", r)
				}
			}
		}},
		{"ge on a number and descending order", "in.c-crm.orders", q("whereFilters[0][column]", "quantity", "whereFilters[0][operator]", "ge",
			"whereFilters[0][values][0]", "5", "orderBy[0][column]", "total_usd", "orderBy[0][order]", "DESC", "columns", "quantity,total_usd"), func(t *testing.T, rows [][]string) {
			prev := 1e18
			for _, r := range rows[1:] {
				if r[0] != "5" {
					t.Fatalf("quantity %s, want 5", r[0])
				}
				v, err := strconv.ParseFloat(r[1], 64)
				if err != nil || v > prev {
					t.Fatalf("totals not descending at %v", r)
				}
				prev = v
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, previewRows(t, s, tc.table, tc.q)) })
	}
	js := api(t, s, "GET", "/v2/storage/tables/in.c-web.sessions/data-preview?format=json&limit=2&columns=customer_id", nil).object(t)
	if rows := js["rows"].([]any); len(rows) != 2 || path(t, js, "columns", 0) != "customer_id" || path(t, rows, 0, 0, "columnName") != "customer_id" {
		t.Errorf("json preview %v", js)
	}
	bad := []url.Values{
		q("limit", "1001"),
		q("format", "xml"),
		q("columns", "nope"),
		q("whereFilters[0][column]", "status", "whereFilters[0][operator]", "like", "whereFilters[0][values][0]", "x"),
		q("whereFilters[0][column]", "status"),
		q("orderBy[0][column]", "status", "orderBy[0][order]", "sideways"),
	}
	for _, b := range bad {
		r := api(t, s, "GET", "/v2/storage/tables/in.c-crm.orders/data-preview?"+b.Encode(), nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", b.Encode(), r.status)
		}
	}
}

func TestMetadata_UpdatesPerProviderAndReturnsFullLists(t *testing.T) {
	s, clk := newClocked(t, Options{})
	post := func(p string, body any) resp {
		clk.Advance(time.Second)
		return api(t, s, "POST", p, body)
	}
	md := func(k, v string) []any { return []any{map[string]any{"key": k, "value": v}} }

	r := post("/v2/storage/buckets/in.c-crm/metadata", map[string]any{"provider": "user", "metadata": md("KBC.description", "new text")})
	wantStatus(t, r, http.StatusCreated)
	list := r.array(t)
	if len(list) != 1 || path(t, list, 0, "value") != "new text" {
		t.Errorf("same key and provider must update in place: %v", list)
	}
	if got := api(t, s, "GET", "/v2/storage/buckets/in.c-crm", nil).object(t)["description"]; got != "new text" {
		t.Errorf("bucket description %v after the update", got)
	}
	post("/v2/storage/buckets/in.c-crm/metadata", map[string]any{"provider": "ai", "metadata": md("KBC.description", "from another provider")})
	if got := api(t, s, "GET", "/v2/storage/buckets/in.c-crm/metadata", nil).array(t); len(got) != 2 {
		t.Errorf("another provider adds its own entry: %v", got)
	}

	r = post("/v2/storage/tables/in.c-web.sessions/metadata", map[string]any{
		"provider": "user", "metadata": md("KBC.description", "sessions!"),
		"columnsMetadata": map[string]any{"device": md("KBC.description", "device class")},
	})
	wantStatus(t, r, http.StatusCreated)
	if path(t, r.object(t), "columnsMetadata", "device", 0, "value") != "device class" {
		t.Errorf("table metadata response %s", r.body)
	}
	tbl := api(t, s, "GET", "/v2/storage/tables/in.c-web.sessions", nil).object(t)
	if path(t, tbl, "columnMetadata", "device", 0, "value") != "device class" {
		t.Errorf("column metadata not stored: %v", tbl["columnMetadata"])
	}
	wantStorageError(t, post("/v2/storage/tables/in.c-web.sessions/metadata", map[string]any{"provider": "user",
		"columnsMetadata": map[string]any{"nope": md("KBC.description", "x")}}), http.StatusBadRequest, "storage.tables.columnNotFound")
	wantStorageError(t, post("/v2/storage/tables/in.c-web.sessions/metadata", map[string]any{"metadata": md("a", "b")}),
		http.StatusBadRequest, "storage.metadata.invalidProvider")

	r = post("/v2/storage/branch/default/metadata", map[string]any{"metadata": md("KBC.projectDescription", "A new story")})
	wantStatus(t, r, http.StatusCreated)
	got := api(t, s, "GET", "/v2/storage/branch/default/metadata", nil).array(t)
	if len(got) != 1 || path(t, got, 0, "value") != "A new story" {
		t.Errorf("project description %v", got)
	}
}

func TestGlobalSearch_FindsByNameWithTypeFilter(t *testing.T) {
	s := newTestServer(t, Options{})
	r := api(t, s, "GET", "/v2/storage/global-search?query=revenue&types[]=table&limit=10", nil).object(t)
	if r["all"] != float64(1) || path(t, r, "items", 0, "id") != "out.c-reports.daily_revenue" || path(t, r, "byType", "table") != float64(1) {
		t.Errorf("search result %v", r)
	}
	item := path(t, r, "items", 0).(map[string]any)
	for _, k := range []string{"name", "type", "fullPath", "projectId", "projectName", "organizationId", "created"} {
		if item[k] == nil {
			t.Errorf("item lacks %s: %v", k, item)
		}
	}
	none := api(t, s, "GET", "/v2/storage/global-search?query=zzzz", nil).object(t)
	if bt, ok := none["byType"].([]any); !ok || len(bt) != 0 || none["all"] != float64(0) {
		t.Errorf("empty search %v, want all 0 and byType []", none)
	}
	flows := api(t, s, "GET", "/v2/storage/global-search?query=pipeline&types[]=flow", nil).object(t)
	if path(t, flows, "items", 0, "componentId") != "keboola.orchestrator" {
		t.Errorf("flow search %v", flows)
	}
	wantStatus(t, api(t, s, "GET", "/v2/storage/global-search", nil), http.StatusBadRequest)

	// The search spans the organisation unless projectIds[] narrows it.
	org := api(t, s, "GET", "/v2/storage/global-search?query=benchmarks&types[]=bucket", nil).object(t)
	if org["all"] != float64(1) || path(t, org, "items", 0, "projectId") == float64(s.ProjectID()) {
		t.Errorf("organisation-wide search %v, want the other project's shared bucket", org)
	}
	own := api(t, s, "GET", fmt.Sprintf("/v2/storage/global-search?query=benchmarks&types[]=bucket&projectIds[]=%d", s.ProjectID()), nil).object(t)
	if own["all"] != float64(0) {
		t.Errorf("project-scoped search %v found another project's bucket", own)
	}
	// Branch filters: a development branch holds copies of the configurations.
	dev := s.AddBranch("dev")
	both := api(t, s, "GET", "/v2/storage/global-search?query=pipeline&types[]=flow", nil).object(t)
	prodOnly := api(t, s, "GET", "/v2/storage/global-search?query=pipeline&types[]=flow&branchTypes[]=production", nil).object(t)
	devOnly := api(t, s, "GET", fmt.Sprintf("/v2/storage/global-search?query=pipeline&types[]=flow&branchTypes[]=development&branchIds[]=%d", dev), nil).object(t)
	if both["all"] != float64(2) || prodOnly["all"] != float64(1) || devOnly["all"] != float64(1) ||
		path(t, devOnly, "items", 0, "fullPath", "branch", "id") != float64(dev) {
		t.Errorf("branch filters: all %v, production %v, development %v", both["all"], prodOnly["all"], devOnly)
	}
	wantStatus(t, api(t, s, "GET", "/v2/storage/global-search?query=x&branchTypes[]=staging", nil), http.StatusBadRequest)
}

func TestEvents_PostedEventIsListedNewestFirst(t *testing.T) {
	s, clk := newClocked(t, Options{})
	clk.Advance(time.Second)
	r := api(t, s, "POST", "/v2/storage/events", map[string]any{"message": "hello from a test", "component": "keboola.mcp-server-tool", "type": "info", "runId": "r-1"})
	wantStatus(t, r, http.StatusCreated)
	got := api(t, s, "GET", "/v2/storage/events?runId=r-1", nil).array(t)
	if len(got) != 1 || path(t, got, 0, "message") != "hello from a test" {
		t.Errorf("events %v", got)
	}
	wantStatus(t, api(t, s, "POST", "/v2/storage/events", map[string]any{"message": "no component"}), http.StatusBadRequest)
	wantStatus(t, api(t, s, "POST", "/v2/storage/events", map[string]any{"message": "m", "component": "c", "type": "loud"}), http.StatusBadRequest)
	page := api(t, s, "GET", "/v2/storage/events?limit=2", nil).array(t)
	if len(page) != 2 || path(t, page, 0, "message") != "hello from a test" {
		t.Errorf("newest event first: %v", page)
	}
}
