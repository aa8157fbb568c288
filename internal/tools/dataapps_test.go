package tools

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

// demoApps returns the configuration ids of the data apps by name, after
// checking the demo ones are there.
func demoApps(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	out := demoAppsByName(t, f)
	for _, name := range []string{"Revenue dashboard", "Customer explorer", "Customer explorer (draft)"} {
		if out[name] == "" {
			t.Fatalf("demo app %q missing: %v", name, out)
		}
	}
	return out
}

func TestGetDataApps(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	ids := demoApps(t, f)
	dash, prod, draft := ids["Revenue dashboard"], ids["Customer explorer"], ids["Customer explorer (draft)"]
	f.check(t, "get_data_apps", []expect{
		{name: "lists apps with names and drafts", contains: []string{"3 data apps.\nconfiguration_id,name,type,state,url,draft_of",
			dash + ",Revenue dashboard,streamlit,running,https://", draft + ",Customer explorer (draft),python-js,stopped,," + prod, "/data-apps"}},
		{name: "pages", args: map[string]any{"limit": 1}, contains: []string{"Revenue dashboard", "offset=1"}, absent: []string{"Customer explorer"}},
		{name: "running streamlit app in full", args: map[string]any{"configuration_ids": []string{dash}},
			contains: []string{"Data app: Revenue dashboard", "Type: streamlit", "State: running", "Authentication: basic (password)",
				"Recent log lines:", "Last deployment: running prod", `"script":`, "/data-apps/" + dash}},
		{name: "draft shows its failed start and hides its token", args: map[string]any{"configuration_ids": []string{draft}},
			contains: []string{"Draft of: " + prod, "Git branch: country-filters", "Managed repository: no", "Failure: StartupProbeFailed",
				"missing script: start", `"#password":"[REDACTED]"`},
			absent: []string{"KBC::ProjectSecure", "Recent log lines:"}},
		{name: "production app lists its drafts", args: map[string]any{"configuration_ids": []string{prod}},
			contains: []string{"Managed repository: yes", "Repository: https://git.fakestack.invalid/", "Drafts:", draft + ",Customer explorer (draft),country-filters"}},
		{name: "unknown app", args: map[string]any{"configuration_ids": []string{"404404"}}, isError: true,
			contains: []string{"404404", "get_data_apps"}},
		{name: "some unknown", args: map[string]any{"configuration_ids": []string{dash, "404404"}},
			contains: []string{"Revenue dashboard", "Not found: 404404"}},
	})
}

func TestDeployDataApp(t *testing.T) {
	t.Parallel()
	// Apps stay in their transitional states for the whole test.
	f := newFixture(t, fakestack.Options{JobStepDelay: time.Hour})
	ids := demoApps(t, f)
	dash, prod, draft := ids["Revenue dashboard"], ids["Customer explorer"], ids["Customer explorer (draft)"]
	f.check(t, "deploy_data_app", []expect{
		{name: "dev mode is for drafts", args: map[string]any{"action": "deploy", "configuration_id": dash, "mode": "dev"}, isError: true,
			contains: []string{"python-js drafts only"}},
		{name: "stops a running app", args: map[string]any{"action": "stop", "configuration_id": dash},
			contains: []string{"State: stopping"}},
		{name: "deploys a draft as a preview", args: map[string]any{"action": "deploy", "configuration_id": draft, "mode": "dev"},
			contains: []string{"State: starting", "URL: https://customer-explorer-draft-1a2b3c-", "Last deployment: starting dev"}},
		{name: "deploys a production app", args: map[string]any{"action": "deploy", "configuration_id": prod},
			contains: []string{"State: starting", "/data-apps/" + prod}},
		{name: "unknown action is a schema error", args: map[string]any{"action": "restart", "configuration_id": prod}, isError: true},
		{name: "unknown app", args: map[string]any{"action": "deploy", "configuration_id": "404404"}, isError: true, contains: []string{"not found"}},
	})
}

func TestModifyPythonJSDataApp_CreatesProductionAppAndDraft(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	ctx := context.Background()
	text, isErr := f.call(t, "modify_python_js_data_app", map[string]any{"name": "Stock Monitor!", "description": "Inventory levels"})
	if isErr {
		t.Fatal(text)
	}
	for _, want := range []string{"Created: python-js data app Stock Monitor!", "Slug: stock-monitor", "Repository: https://git.fakestack.invalid/keboola/app-",
		"Authentication: basic (password)", "create_python_js_data_app_git_credential"} {
		if !strings.Contains(text, want) {
			t.Errorf("create lacks %q:\n%s", want, text)
		}
	}
	prod := demoAppsByName(t, f)["Stock Monitor!"]
	cfg, err := f.client.GetConfig(ctx, keboola.DataAppComponentID, prod)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg.Configuration), `"WORKSPACE_ID":"`) || !strings.Contains(string(cfg.Configuration), `"autoSuspendAfterSeconds":900`) {
		t.Errorf("production configuration = %s", cfg.Configuration)
	}

	text, isErr = f.call(t, "modify_python_js_data_app", map[string]any{"name": "Stock Monitor draft", "parent_configuration_id": prod,
		"branch": "low-stock-alert", "authentication_type": "no-auth"})
	if isErr {
		t.Fatal(text)
	}
	if strings.Contains(text, "draft-draft") {
		t.Errorf("the draft's slug says draft twice:\n%s", text)
	}
	for _, want := range []string{"Draft of: " + prod, "Branch: low-stock-alert", "Clone URL (contains a push token; shown once): https://kai:gitpat_",
		"Slug: stock-monitor-draft-", "Authentication: none (public)", "mode=dev"} {
		if !strings.Contains(text, want) {
			t.Errorf("draft create lacks %q:\n%s", want, text)
		}
	}
	draft := demoAppsByName(t, f)["Stock Monitor draft"]
	cfg, err = f.client.GetConfig(ctx, keboola.DataAppComponentID, draft)
	if err != nil {
		t.Fatal(err)
	}
	body := string(cfg.Configuration)
	if !strings.Contains(body, `"#password":"KBC::ProjectSecure::`) || !strings.Contains(body, `"isDraft":true`) || strings.Contains(body, "gitpat_") {
		t.Errorf("draft configuration stores the token unencrypted or lacks the draft flag: %s", body)
	}

	f.check(t, "modify_python_js_data_app", []expect{
		{name: "repoints a draft's branch", args: map[string]any{"name": "", "configuration_id": draft, "branch": "low-stock-v2"},
			contains: []string{"Branch set to low-stock-v2", "Version: 2"}},
		{name: "switches authentication", args: map[string]any{"name": "Stock Monitor", "configuration_id": prod, "authentication_type": "no-auth",
			"storage": map[string]any{"input": map[string]any{"tables": []any{map[string]any{"source": "in.c-erp.inventory"}}}, "output": map[string]any{}}},
			contains: []string{"Updated: Stock Monitor", "Authentication: none (public)"}},
		{name: "managed repository branch belongs to the platform", args: map[string]any{"name": "", "configuration_id": prod, "branch": "x"},
			isError: true, contains: []string{"Keboola-managed"}},
		{name: "slug is fixed", args: map[string]any{"name": "", "configuration_id": prod, "slug": "new"}, isError: true, contains: []string{"slug cannot change"}},
		{name: "main is the production branch", args: map[string]any{"name": "x", "parent_configuration_id": prod, "branch": "main"}, isError: true,
			contains: []string{"branch main"}},
		{name: "a draft cannot parent a draft", args: map[string]any{"name": "x", "parent_configuration_id": draft}, isError: true,
			contains: []string{"itself a draft", prod}},
		{name: "branch needs a parent on create", args: map[string]any{"name": "x", "branch": "b"}, isError: true, contains: []string{"parent_configuration_id"}},
		{name: "bad slug", args: map[string]any{"name": "x", "slug": "Bad Slug"}, isError: true, contains: []string{"lowercase"}},
		{name: "storage with unknown keys", args: map[string]any{"name": "x", "storage": map[string]any{"tables": []any{}}}, isError: true,
			contains: []string{"input and output"}},
		{name: "streamlit apps are not python-js", args: map[string]any{"name": "", "configuration_id": demoAppsByName(t, f)["Revenue dashboard"], "authentication_type": "no-auth"},
			isError: true, contains: []string{"streamlit"}},
	})
	cfg, err = f.client.GetConfig(ctx, keboola.DataAppComponentID, prod)
	if err != nil {
		t.Fatal(err)
	}
	if body := string(cfg.Configuration); !strings.Contains(body, `"input":{"tables"`) || strings.Contains(body, `"output"`) {
		t.Errorf("storage was not replaced with empty objects pruned: %s", body)
	}
}

func demoAppsByName(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	cfgs, err := f.client.ListConfigs(context.Background(), keboola.DataAppComponentID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range cfgs {
		out[c.Name] = c.ID.String()
	}
	return out
}

func TestCreateDataAppGitCredential(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	ids := demoApps(t, f)
	f.check(t, "create_python_js_data_app_git_credential", []expect{
		{name: "mints a clone URL on the production app", args: map[string]any{"configuration_id": ids["Customer explorer"]},
			contains: []string{"Clone URL: https://kai:gitpat_", "@git.fakestack.invalid/keboola/app-", "Permissions: readWrite", "Token: gitpat_"}},
		{name: "drafts point to their production app", args: map[string]any{"configuration_id": ids["Customer explorer (draft)"]}, isError: true,
			contains: []string{"draft", ids["Customer explorer"]}},
		{name: "streamlit apps have no repository", args: map[string]any{"configuration_id": ids["Revenue dashboard"]}, isError: true,
			contains: []string{"is a streamlit app; only python-js apps have a git repository"}},
		{name: "empty id is a schema error", args: map[string]any{"configuration_id": ""}, isError: true},
	})
}

func TestDeletePythonJSDraft(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	ids := demoApps(t, f)
	f.check(t, "delete_python_js_data_app_draft", []expect{
		{name: "refuses a production app", args: map[string]any{"configuration_id": ids["Customer explorer"]}, isError: true,
			contains: []string{"production app"}},
		{name: "refuses a streamlit app", args: map[string]any{"configuration_id": ids["Revenue dashboard"]}, isError: true,
			contains: []string{"is a streamlit app; only python-js drafts can be deleted"}},
		{name: "deletes a draft", args: map[string]any{"configuration_id": ids["Customer explorer (draft)"]},
			contains: []string{"Deleted draft: Customer explorer (draft)", "Production app: " + ids["Customer explorer"], "/data-apps/" + ids["Customer explorer"]}},
	})
	if _, isErr := f.call(t, "get_data_apps", map[string]any{"configuration_ids": []string{ids["Customer explorer (draft)"]}}); !isErr {
		t.Error("the deleted draft is still listed")
	}
	if f.requests("DELETE", "/v2/storage/") != 0 {
		t.Error("the draft's configuration was deleted through Storage too, which purges it from the trash")
	}
}

func TestDataApps_RefusedOnDevelopmentBranch(t *testing.T) {
	t.Parallel()
	s := shared.Get(t)
	f := newFixtureFor(t, s, keboola.Credentials{StackURL: s.URL(), StorageToken: keboola.Secret(s.MasterToken()), BranchID: "987"})
	text, isErr := f.call(t, "get_data_apps", nil)
	if !isErr || !strings.Contains(text, "production branch") {
		t.Fatalf("isError=%v text=%s", isErr, text)
	}
}

func TestModifyStreamlitDataApp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	ctx := context.Background()
	source := "import streamlit as st\n{QUERY_DATA_FUNCTION}\nst.dataframe(query_data('SELECT 1'))\n"
	text, isErr := f.call(t, "modify_streamlit_data_app", map[string]any{"name": "Top Customers", "description": "LTV",
		"source_code": source, "packages": []string{"plotly", "pandas"}})
	if isErr {
		t.Fatal(text)
	}
	for _, want := range []string{"Created: Streamlit data app Top Customers", "Slug: top-customers", "Authentication: basic (password)", "deploy_data_app"} {
		if !strings.Contains(text, want) {
			t.Errorf("create lacks %q:\n%s", want, text)
		}
	}
	id := demoAppsByName(t, f)["Top Customers"]
	cfg, err := f.client.GetConfig(ctx, keboola.DataAppComponentID, id)
	if err != nil {
		t.Fatal(err)
	}
	body := string(cfg.Configuration)
	for _, want := range []string{`def query_data(sql: str)`, `/queries/{job_id}`, `"packages":["httpx","pandas","plotly"]`, `"BRANCH_ID":"1001"`, `"WORKSPACE_ID":"`} {
		if !strings.Contains(body, want) {
			t.Errorf("configuration lacks %s: %s", want, body)
		}
	}
	if strings.Contains(body, "{QUERY_DATA_FUNCTION}") {
		t.Errorf("placeholder left in the code: %s", body)
	}

	f.check(t, "modify_streamlit_data_app", []expect{
		{name: "updates code and authentication", args: map[string]any{"name": "", "configuration_id": id, "authentication_type": "no-auth",
			"source_code": source + "st.write('v2')\n", "change_description": "v2"},
			contains: []string{"Updated: Top Customers", "Version: 2", "Authentication: none (public)"}},
		// name is optional on update (issue 13).
		{name: "keeps the name when none is given", args: map[string]any{"configuration_id": id, "source_code": "import streamlit as st\nst.write('v3')\n"},
			contains: []string{"Updated: Top Customers", "Version: 3", "has no {QUERY_DATA_FUNCTION} placeholder, so the query_data function was put at the top"}},
		{name: "keeps code when none is given", args: map[string]any{"name": "Top Customers 2", "configuration_id": id},
			contains: []string{"Updated: Top Customers 2", "Version: 4"}, absent: []string{"placeholder"}},
		{name: "new apps need code", args: map[string]any{"name": "x"}, isError: true, contains: []string{"source_code"}},
		{name: "python-js apps are refused", args: map[string]any{"name": "", "configuration_id": demoAppsByName(t, f)["Customer explorer"], "source_code": "x"},
			isError: true, contains: []string{"python-js"}},
	})
	if n := f.requests("POST", "/components/keboola.data-apps/configs/"+id+"/metadata"); n != 4 {
		t.Errorf("%d metadata writes marking the app as made through MCP, want 4 (create and three updates)", n)
	}
	cfg, err = f.client.GetConfig(ctx, keboola.DataAppComponentID, id)
	if err != nil {
		t.Fatal(err)
	}
	body = string(cfg.Configuration)
	if n := strings.Count(body, "def query_data("); n != 1 || !strings.Contains(body, "st.write('v3')") || !strings.Contains(body, `"slug":"top-customers-2"`) {
		t.Errorf("after updates: %d query_data functions; body %s", n, body)
	}
}

func TestModifyPythonJSDataApp_UsesThePlatformWorkspaceWhenTheProjectHasIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{ExtraFeatures: []string{storageWorkspaceFeature}})
	if text, isErr := f.call(t, "modify_python_js_data_app", map[string]any{"name": "Per-app workspace"}); isErr {
		t.Fatal(text)
	}
	cfg, err := f.client.GetConfig(context.Background(), keboola.DataAppComponentID, demoAppsByName(t, f)["Per-app workspace"])
	if err != nil {
		t.Fatal(err)
	}
	if body := string(cfg.Configuration); !strings.Contains(body, `"runtime":{"workspace":{"enabled":true}}`) || strings.Contains(body, "WORKSPACE_ID") {
		t.Errorf("configuration = %s", body)
	}
	if n := f.requests("POST", "/workspaces"); n != 0 {
		t.Errorf("%d workspace creations; the platform provides the workspace", n)
	}
}

func TestModifyDataApps_UpdateOfARunningAppAsksForARedeploy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{JobStepDelay: time.Hour})
	ids := demoApps(t, f)
	for _, tc := range []struct{ tool, app string }{
		{"modify_streamlit_data_app", "Revenue dashboard"},
		{"modify_python_js_data_app", "Customer explorer"},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			if text, isErr := f.call(t, "deploy_data_app", map[string]any{"action": "deploy", "configuration_id": ids[tc.app]}); isErr {
				t.Fatal(text)
			}
			text, isErr := f.call(t, tc.tool, map[string]any{"name": "", "configuration_id": ids[tc.app], "description": "new words", "change_description": "describe"})
			if isErr {
				t.Fatal(text)
			}
			for _, want := range []string{"Updated: " + tc.app, "Configuration: " + ids[tc.app], "redeploy with deploy_data_app(action=deploy)", "/data-apps/" + ids[tc.app]} {
				if !strings.Contains(text, want) {
					t.Errorf("answer lacks %q:\n%s", want, text)
				}
			}
		})
	}
}
