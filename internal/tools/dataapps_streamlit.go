package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// Streamlit apps keep their code in the configuration (parameters.script).
// The tool adds a query_data(sql) function to the code that runs SQL in the
// project's workspace from inside the app: the platform gives the app
// KBC_URL and KBC_TOKEN, and the configuration's secrets WORKSPACE_ID and
// BRANCH_ID.

type modifyStreamlitInput struct {
	Name               string   `json:"name,omitempty" jsonschema:"Name of the data app (its URL prefix is derived from it, at most 50 characters). Required on create; on update, empty keeps the name."`
	Description        string   `json:"description,omitempty" jsonschema:"Description of the data app. On update, empty keeps it."`
	SourceCode         string   `json:"source_code,omitempty" jsonschema:"The complete Streamlit app in Python, with the {QUERY_DATA_FUNCTION} placeholder. Required on create; on update, empty keeps the code."`
	Packages           []string `json:"packages,omitempty" jsonschema:"Extra pip requirements, e.g. [\"plotly\", \"requests~=2.32\"]. On update, empty keeps the current list."`
	AuthenticationType string   `json:"authentication_type,omitempty" jsonschema:"basic-auth protects the app with a password, no-auth makes it public, default keeps an existing app's setting (basic-auth for new apps)."`
	ConfigurationID    string   `json:"configuration_id,omitempty" jsonschema:"Configuration id of the app to update; empty creates a new app."`
	ChangeDescription  string   `json:"change_description,omitempty" jsonschema:"What changed, for the version history (updates)."`
	pythonFolder
}

// streamlitPackages are always installed: query_data needs them.
var streamlitPackages = []string{"httpx", "pandas"}

const streamlitTheme = "[theme]\nfont = \"sans serif\"\nprimaryColor = \"#1F8FFF\"\nbackgroundColor = \"#FFFFFF\"\nsecondaryBackgroundColor = \"#E6F2FF\"\ntextColor = \"#222529\""

const (
	queryPlaceholder = "{QUERY_DATA_FUNCTION}"
	queryBlockStart  = "# --- keboola-mcp: query_data start (generated, replaced on every update) ---"
	queryBlockEnd    = "# --- keboola-mcp: query_data end ---"
)

// injectedBlockRe finds a query_data block added earlier: ours, or the one
// the Python Keboola MCP server writes, so apps it made stay editable.
var injectedBlockRe = regexp.MustCompile(`(?s)(?:` + regexp.QuoteMeta(queryBlockStart) + `.*?` + regexp.QuoteMeta(queryBlockEnd) +
	`|#\s###\sINJECTED_CODE\s####.*?#\s###\sEND_OF_INJECTED_CODE\s####)\n?`)

// queryDataCode returns the query_data function for a SQL backend.
func queryDataCode(backend string) (string, error) {
	var body string
	switch strings.ToLower(backend) {
	case "snowflake":
		body = queryDataSnowflake
	case "bigquery":
		body = queryDataBigQuery
	default:
		return "", errorf("Streamlit data apps support Snowflake and BigQuery projects; this project's backend is %q", backend)
	}
	return queryBlockStart + "\n" + queryDataCommon + body + queryBlockEnd + "\n", nil
}

const queryDataCommon = `import os
import time

import httpx
import pandas as pd


def _keboola_env():
    names = ("KBC_URL", "KBC_TOKEN", "BRANCH_ID", "WORKSPACE_ID")
    env = {name: os.environ.get(name, "") for name in names}
    missing = [name for name in names if not env[name]]
    if missing:
        raise RuntimeError("query_data needs these environment variables: " + ", ".join(missing))
    token = env["KBC_TOKEN"]
    auth = {"Authorization": token} if token.startswith("Bearer ") else {"X-StorageApi-Token": token}
    return env, {"Accept": "application/json", **auth}

`

// queryDataSnowflake runs the query through the Query Service.
const queryDataSnowflake = `
def query_data(sql: str) -> pd.DataFrame:
    """Run one SQL query in the project's workspace. Every value is returned as a string."""
    env, headers = _keboola_env()
    base = env["KBC_URL"].rstrip("/").replace("://connection.", "://query.", 1) + "/api/v1"
    with httpx.Client(headers=headers, timeout=httpx.Timeout(60.0, connect=10.0)) as http:
        sent = http.post(f"{base}/branches/{env['BRANCH_ID']}/workspaces/{env['WORKSPACE_ID']}/queries",
                         json={"statements": [sql]})
        sent.raise_for_status()
        job_id = sent.json()["queryJobId"]
        deadline, pause = time.monotonic() + 300, 0.5
        while True:
            polled = http.get(f"{base}/queries/{job_id}")
            polled.raise_for_status()
            job = polled.json()
            if job.get("status") in ("completed", "failed", "canceled"):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"query job {job_id} did not finish within 5 minutes")
            time.sleep(pause)
            pause = min(pause * 2, 3.0)
        statement = (job.get("statements") or [{}])[0]
        if job.get("status") != "completed":
            raise RuntimeError(f"query failed: {statement.get('error') or job.get('status')}")
        names, rows = [], []
        while True:
            page = http.get(f"{base}/queries/{job_id}/{statement['id']}/results",
                            params={"offset": len(rows), "pageSize": 1000})
            page.raise_for_status()
            result = page.json()
            names = names or [column["name"] for column in result.get("columns", [])]
            batch = result.get("data") or []
            rows.extend(batch)
            if not batch or len(rows) >= (result.get("numberOfRows") or 0):
                break
    return pd.DataFrame(rows, columns=names)

`

// queryDataBigQuery runs the query through the Storage API's workspace
// query endpoint, which BigQuery projects use instead of the Query Service.
const queryDataBigQuery = `
def query_data(sql: str) -> pd.DataFrame:
    """Run one SQL query in the project's workspace. Every value is returned as a string."""
    env, headers = _keboola_env()
    url = f"{env['KBC_URL'].rstrip('/')}/v2/storage/branch/{env['BRANCH_ID']}/workspaces/{env['WORKSPACE_ID']}/query"
    with httpx.Client(headers=headers, timeout=httpx.Timeout(300.0, connect=10.0)) as http:
        answer = http.post(url, json={"query": sql})
        answer.raise_for_status()
        result = answer.json()
    if result.get("status") == "error":
        raise RuntimeError(f"query failed: {result.get('message')}")
    return pd.DataFrame(result["data"]["rows"])

`

// injectQueryData puts the query_data function where the placeholder is,
// in place of an earlier generated block, or at the top of the code.
func injectQueryData(source, code string) string {
	if strings.Contains(source, queryPlaceholder) {
		return strings.Replace(injectedBlockRe.ReplaceAllString(source, ""), queryPlaceholder, strings.TrimRight(code, "\n"), 1)
	}
	if loc := injectedBlockRe.FindStringIndex(source); loc != nil {
		rest := injectedBlockRe.ReplaceAllString(source[loc[1]:], "")
		return source[:loc[0]] + code + rest
	}
	return code + "\n" + strings.TrimLeft(source, "\n")
}

// placementNote tells where query_data went when the code had no
// placeholder: the description asks for one, and a model that forgot it must
// learn that the function sits at the top (before its own imports), not
// believe the code was taken as written.
func placementNote(source string) string {
	if source == "" || strings.Contains(source, queryPlaceholder) || injectedBlockRe.MatchString(source) {
		return ""
	}
	return "The source code has no " + queryPlaceholder + " placeholder, so the query_data function was put at the top of the app; " +
		"put the placeholder where it belongs if that place is wrong.\n"
}

// appPackages merges the requested packages with the ones query_data needs.
func appPackages(requested []string) []any {
	var all []string
	for _, p := range append(slices.Clone(requested), streamlitPackages...) {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(all, p) {
			all = append(all, p)
		}
	}
	slices.Sort(all)
	out := make([]any, len(all))
	for i, p := range all {
		out[i] = p
	}
	return out
}

func modifyStreamlitDataApp(ctx context.Context, c call, in modifyStreamlitInput) (string, error) {
	if err := onProduction(ctx, c.client); err != nil {
		return "", err
	}
	info, err := c.client.VerifyToken(ctx)
	if err != nil {
		return "", err
	}
	code, err := queryDataCode(firstNonBlank(info.Owner.DefaultBackend, "snowflake"))
	if err != nil {
		return "", err
	}
	ws, err := c.client.QueryWorkspace(ctx)
	if err != nil {
		return "", err
	}
	branch, err := c.client.DefaultBranchID(ctx)
	if err != nil {
		return "", err
	}
	if b := c.client.BranchID(); b != "" {
		branch = b
	}
	secrets := map[string]any{"WORKSPACE_ID": ws, "BRANCH_ID": branch}
	if in.ConfigurationID != "" {
		return updateStreamlitApp(ctx, c.client, in, code, secrets)
	}
	if strings.TrimSpace(in.Name) == "" {
		return "", errorf("name is required to create a data app")
	}
	if strings.TrimSpace(in.SourceCode) == "" {
		return "", errorf("source_code is required to create a data app")
	}
	slug := deriveSlug(in.Name, false)
	body := map[string]any{
		"parameters": map[string]any{
			"size": "tiny", "autoSuspendAfterSeconds": 900,
			"dataApp":  map[string]any{"slug": slug, "streamlit": map[string]any{"config.toml": streamlitTheme}, "secrets": secrets},
			"script":   []any{injectQueryData(in.SourceCode, code)},
			"packages": appPackages(in.Packages),
		},
		"authorization": authorizationBlock(in.AuthenticationType != "no-auth"),
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	if raw, err = c.client.EncryptSecrets(ctx, keboola.DataAppComponentID, "", raw); err != nil {
		return "", err
	}
	ds, err := c.client.CreateDataApp(ctx, keboola.NewDataApp{Name: in.Name, Description: in.Description,
		Type: keboola.DataAppTypeStreamlit, Config: raw})
	if err != nil {
		return "", err
	}
	note := markWrittenByMCP(ctx, c.client, keboola.DataAppComponentID, ds.ConfigID.String(), 0) +
		in.applyToNew(ctx, c.client, keboola.DataAppComponentID, ds.ConfigID.String())
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	var f fields
	f.add("Created", "Streamlit data app "+in.Name)
	f.add("Configuration", ds.ConfigID.String())
	f.add("App id", ds.ID.String())
	f.add("Slug", slug)
	f.add("Authentication", authentication(body))
	return f.String() + placementNote(in.SourceCode) + note + fmt.Sprintf("Next: deploy_data_app(action=deploy, configuration_id=%s) to start it.\n", ds.ConfigID) +
		links("Data app", u.DataApp(ds.ConfigID.String())), nil
}

func updateStreamlitApp(ctx context.Context, c *keboola.Client, in modifyStreamlitInput, code string, secrets map[string]any) (string, error) {
	a, err := loadApp(ctx, c, in.ConfigurationID)
	if err != nil {
		return "", err
	}
	if a.ds.Type != keboola.DataAppTypeStreamlit {
		return "", errorf("configuration %s is a %s app; modify_streamlit_data_app changes Streamlit apps only", in.ConfigurationID, a.ds.Type)
	}
	params, _ := a.body["parameters"].(map[string]any)
	block := a.dataAppBlock()
	if params == nil || block == nil {
		return "", errorf("configuration %s lacks parameters.dataApp; it is not a Streamlit app this tool can edit", in.ConfigurationID)
	}
	if n := strings.TrimSpace(in.Name); n != "" {
		block["slug"] = deriveSlug(n, false)
	}
	if strings.TrimSpace(in.SourceCode) != "" {
		params["script"] = []any{injectQueryData(in.SourceCode, code)}
	}
	requested := in.Packages
	if len(requested) == 0 {
		for _, p := range asList(params["packages"]) {
			if s, ok := p.(string); ok {
				requested = append(requested, s)
			}
		}
	}
	params["packages"] = appPackages(requested)
	kept, _ := block["secrets"].(map[string]any)
	if kept == nil {
		kept = map[string]any{}
	}
	for k, v := range secrets {
		if _, ok := kept[k]; !ok {
			kept[k] = v
		}
	}
	block["secrets"] = kept
	if in.AuthenticationType == "basic-auth" || in.AuthenticationType == "no-auth" {
		a.body["authorization"] = authorizationBlock(in.AuthenticationType == "basic-auth")
	}
	if st, ok := a.body["storage"].(map[string]any); ok {
		if pruned, _ := pruneEmptyObjects(st).(map[string]any); len(pruned) > 0 {
			a.body["storage"] = pruned
		} else {
			delete(a.body, "storage")
		}
	} else {
		delete(a.body, "storage") // [] left by earlier writes breaks the UI's mapping editor
	}
	return saveDataAppUpdate(ctx, c, a, a.body, appUpdate{configID: in.ConfigurationID, name: in.Name, description: in.Description,
		change: firstNonBlank(in.ChangeDescription, "Update Streamlit data app"), folder: in.pythonFolder}, []string{strings.TrimSpace(placementNote(strings.TrimSpace(in.SourceCode)))})
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
