package dataapp

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Streamlit apps keep their code in the configuration (parameters.script).
// A query_data(sql) function is added to the code so the app can run SQL in
// the project's workspace: the platform gives the app KBC_URL and KBC_TOKEN,
// and the configuration's secrets WORKSPACE_ID and BRANCH_ID.

// streamlitPackages are always installed: query_data needs them.
var streamlitPackages = []string{"httpx", "pandas"}

// theme is the config.toml of a new Streamlit app: Keboola's colours, so
// apps look like the rest of the product until their authors restyle them.
const theme = "[theme]\nfont = \"sans serif\"\nprimaryColor = \"#1F8FFF\"\nbackgroundColor = \"#FFFFFF\"\nsecondaryBackgroundColor = \"#E6F2FF\"\ntextColor = \"#222529\""

const (
	// QueryPlaceholder marks where the caller wants query_data in its code.
	QueryPlaceholder = "{QUERY_DATA_FUNCTION}"
	queryBlockStart  = "# --- keboola-mcp: query_data start (generated, replaced on every update) ---"
	queryBlockEnd    = "# --- keboola-mcp: query_data end ---"
)

// injectedBlockRe finds a query_data block added earlier: ours, or the one
// the Python Keboola MCP server writes, so apps it made stay editable.
var injectedBlockRe = regexp.MustCompile(`(?s)(?:` + regexp.QuoteMeta(queryBlockStart) + `.*?` + regexp.QuoteMeta(queryBlockEnd) +
	`|#\s###\sINJECTED_CODE\s####.*?#\s###\sEND_OF_INJECTED_CODE\s####)\n?`)

// UnsupportedBackendError is a project whose SQL backend query_data cannot
// reach, so no Streamlit app of it could read data.
type UnsupportedBackendError struct{ Backend string }

func (e *UnsupportedBackendError) Error() string {
	return fmt.Sprintf("Streamlit data apps support Snowflake and BigQuery projects; this project's backend is %q", e.Backend)
}

// QueryDataCode returns the query_data function for a project's SQL
// backend; the two backends reach their workspace through different APIs.
func QueryDataCode(backend string) (string, error) {
	var body string
	switch strings.ToLower(backend) {
	case "snowflake":
		body = queryDataSnowflake
	case "bigquery":
		body = queryDataBigQuery
	default:
		return "", &UnsupportedBackendError{Backend: backend}
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
// in place of an earlier generated block, or at the top of the code, so
// repeated updates never leave two definitions.
func injectQueryData(source, code string) string {
	if strings.Contains(source, QueryPlaceholder) {
		return strings.Replace(injectedBlockRe.ReplaceAllString(source, ""), QueryPlaceholder, strings.TrimRight(code, "\n"), 1)
	}
	if loc := injectedBlockRe.FindStringIndex(source); loc != nil {
		rest := injectedBlockRe.ReplaceAllString(source[loc[1]:], "")
		return source[:loc[0]] + code + rest
	}
	return code + "\n" + strings.TrimLeft(source, "\n")
}

// mergePackages merges the requested pip requirements with the ones query_data
// needs, sorted and without duplicates, as parameters.packages holds them.
func mergePackages(requested []string) []any {
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

// HasQueryData tells whether the code already holds a generated query_data
// block, ours or the Python server's.
func HasQueryData(source string) bool { return injectedBlockRe.MatchString(source) }

// Streamlit is what a Streamlit app's configuration is made of; empty
// fields of an update keep what the app has.
type Streamlit struct {
	// Slug is the URL prefix; on update, empty keeps it.
	Slug string
	// Source is the app's Python code; QueryData is the query_data block
	// (QueryDataCode) put into it.
	Source, QueryData string
	// Packages are pip requirements besides the ones query_data needs.
	Packages []string
	// Secrets reach the app as environment variables; on update, secrets
	// the app has already win, so a user's edit in the UI survives.
	Secrets map[string]any
	// Authorization is an Authorization block; on update, nil keeps the
	// app's.
	Authorization map[string]any
}

// NewStreamlit is the configuration of a new Streamlit app: the smallest
// size, suspended after 15 idle minutes, with Keboola's theme.
func NewStreamlit(s Streamlit) Body {
	return Body{
		"parameters": map[string]any{
			"size": "tiny", "autoSuspendAfterSeconds": 900,
			"dataApp":  map[string]any{"slug": s.Slug, "streamlit": map[string]any{"config.toml": theme}, "secrets": s.Secrets},
			"script":   []any{injectQueryData(s.Source, s.QueryData)},
			"packages": mergePackages(s.Packages),
		},
		"authorization": s.Authorization,
	}
}

// ErrNotStreamlitBody is a body without parameters.dataApp, which the
// Streamlit edit needs and must not invent.
var ErrNotStreamlitBody = errors.New("the configuration lacks parameters.dataApp")

// UpdateStreamlit applies an update to a Streamlit app's body in place.
// The packages are always merged again, so query_data's own stay installed,
// and empty storage objects, which the UI's mapping editor cannot read, are
// dropped.
func (b Body) UpdateStreamlit(s Streamlit) error {
	params, _ := b["parameters"].(map[string]any)
	block := b.Block()
	if params == nil || block == nil {
		return ErrNotStreamlitBody
	}
	if s.Slug != "" {
		block["slug"] = s.Slug
	}
	if strings.TrimSpace(s.Source) != "" {
		params["script"] = []any{injectQueryData(s.Source, s.QueryData)}
	}
	requested := s.Packages
	if len(requested) == 0 {
		list, _ := params["packages"].([]any)
		for _, p := range list {
			if name, ok := p.(string); ok {
				requested = append(requested, name)
			}
		}
	}
	params["packages"] = mergePackages(requested)
	kept, _ := block["secrets"].(map[string]any)
	if kept == nil {
		kept = map[string]any{}
	}
	for k, v := range s.Secrets {
		if _, ok := kept[k]; !ok {
			kept[k] = v
		}
	}
	block["secrets"] = kept
	if s.Authorization != nil {
		b["authorization"] = s.Authorization
	}
	if st, ok := b["storage"].(map[string]any); ok {
		if pruned, _ := pruneEmptyObjects(st).(map[string]any); len(pruned) > 0 {
			b["storage"] = pruned
		} else {
			delete(b, "storage")
		}
	} else {
		delete(b, "storage") // [] left by earlier writes breaks the UI's mapping editor
	}
	return nil
}
