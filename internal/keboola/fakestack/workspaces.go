package fakestack

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// mcpToolComponent is the component whose configurations own the workspaces
// the MCP server queries through.
const mcpToolComponent = "keboola.mcp-server-tool"

type workspace struct {
	id              int
	componentID     string
	configurationID string
	created         time.Time
	creator         *token
	readOnly        bool
	loginType       string
}

func (s *Stack) workspaceJSON(ws *workspace) map[string]any {
	schema := fmt.Sprintf("WORKSPACE_%d", ws.id)
	return map[string]any{
		"id":              ws.id,
		"type":            "table",
		"name":            schema,
		"component":       ws.componentID,
		"configurationId": ws.configurationID,
		"created":         fmtTime(ws.created),
		"connection": map[string]any{
			"backend":   s.opts.Backend,
			"host":      "fakestack.snowflakecomputing.invalid",
			"database":  s.projectDatabase(),
			"schema":    schema,
			"warehouse": "KEBOOLA_PROD_SMALL",
			"region":    "us-west-2",
			"user":      "KEBOOLA_" + schema,
			"loginType": ws.loginType,
		},
		"backendSize":             "small",
		"statementTimeoutSeconds": 7200,
		"creatorToken":            tokenRef(ws.creator),
		"readOnlyStorageAccess":   ws.readOnly,
		"platformUsageType":       nil,
	}
}

// loginTypes are the workspace login types each backend accepts. "default"
// (also what an absent loginType means) is a password user on Snowflake,
// which Snowflake is retiring for people: the Python server asks for
// snowflake-person-sso there and "default" on BigQuery (workspace.py
// _create_ws).
var loginTypes = map[string][]string{
	"snowflake": {"default", "snowflake-legacy-service-password", "snowflake-person-sso", "snowflake-person-keypair", "snowflake-service-keypair"},
	"bigquery":  {"default"},
}

// AddWorkspace creates a workspace owned by a configuration (e.g. a
// transformation's sandbox) and returns its id and schema.
func (s *Stack) AddWorkspace(componentID, configID string, readOnly bool) (id int, schema string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws := s.state.addWorkspace(componentID, configID, readOnly, "snowflake-person-keypair", s.state.tokens[s.opts.MasterToken])
	return ws.id, fmt.Sprintf("WORKSPACE_%d", ws.id)
}

// WorkspaceLoginType is the login type a workspace was created with; "" if
// there is no such workspace.
func (s *Stack) WorkspaceLoginType(id int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ws, ok := s.state.workspaces[id]; ok {
		return ws.loginType
	}
	return ""
}

// addWorkspace creates a workspace for a configuration.
func (st *state) addWorkspace(compID, configID string, readOnly bool, loginType string, by *token) *workspace {
	ws := &workspace{id: st.nextID(), componentID: compID, configurationID: configID, created: st.s.now(),
		creator: by, readOnly: readOnly, loginType: loginType}
	st.workspaces[ws.id] = ws
	return ws
}

// handleCreateWorkspace implements POST …/configs/{id}/workspaces: a
// workspace owned by a configuration.
func (s *Stack) handleCreateWorkspace(w http.ResponseWriter, r *http.Request, c *caller) {
	s.createWorkspace(w, r, c, true)
}

// handleCreateBareWorkspace implements POST branch/{b}/workspaces: a
// workspace owned by no configuration (the Python server's way).
func (s *Stack) handleCreateBareWorkspace(w http.ResponseWriter, r *http.Request, c *caller) {
	s.createWorkspace(w, r, c, false)
}

// createWorkspace reads {backend, readOnlyStorageAccess, loginType}. With
// async=true it answers 202 with a Storage job whose results carry the
// workspace; otherwise 201 with the workspace.
func (s *Stack) createWorkspace(w http.ResponseWriter, r *http.Request, c *caller, forConfig bool) {
	body, err := readBody(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	backend, _ := strField(body, "backend")
	if backend == "" {
		backend = s.opts.Backend
	}
	if backend != s.opts.Backend {
		badRequest(w, fmt.Errorf("backend %q is not available in this project; use %q", backend, s.opts.Backend))
		return
	}
	readOnly, _ := boolField(body, "readOnlyStorageAccess")
	loginType, _ := strField(body, "loginType")
	if loginType == "" {
		loginType = "default"
	}
	if !slices.Contains(loginTypes[backend], loginType) {
		badRequest(w, fmt.Errorf("loginType %q is not valid for a %s workspace; use one of %v", loginType, backend, loginTypes[backend]))
		return
	}
	async, _ := strconv.ParseBool(r.URL.Query().Get("async"))
	s.mu.Lock()
	defer s.mu.Unlock()
	compID, cfgID := "", ""
	if forConfig {
		cfg := s.findConfig(w, r, false)
		if cfg == nil {
			return
		}
		compID, cfgID = cfg.componentID, cfg.id
	}
	if !canConfigure(c.tok, compID) {
		denyConfigure(w, compID)
		return
	}
	ws := s.state.addWorkspace(compID, cfgID, readOnly, loginType, c.tok)
	if !async {
		writeJSON(w, http.StatusCreated, s.workspaceJSON(ws))
		return
	}
	job := s.state.addStorageJob("workspaceCreate", map[string]any{"backend": backend}, s.workspaceJSON(ws), c.tok)
	writeJSON(w, http.StatusAccepted, s.storageJobJSON(job))
}

func (s *Stack) handleWorkspaces(w http.ResponseWriter, r *http.Request, _ *caller) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, id := range sortedIntKeys(s.state.workspaces) {
		ws := s.state.workspaces[id]
		if q.Get("componentId") != "" && q.Get("componentId") != ws.componentID {
			continue
		}
		if q.Get("configurationId") != "" && q.Get("configurationId") != ws.configurationID {
			continue
		}
		out = append(out, s.workspaceJSON(ws))
	}
	writeJSON(w, http.StatusOK, out)
}

// handleConfigWorkspaces implements GET …/configs/{id}/workspaces: the
// workspaces one configuration owns.
func (s *Stack) handleConfigWorkspaces(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.findConfig(w, r, false)
	if cfg == nil {
		return
	}
	out := []any{}
	for _, id := range sortedIntKeys(s.state.workspaces) {
		if ws := s.state.workspaces[id]; ws.componentID == cfg.componentID && ws.configurationID == cfg.id {
			out = append(out, s.workspaceJSON(ws))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Stack) handleWorkspace(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := strconv.Atoi(r.PathValue("id"))
	ws, ok := s.state.workspaces[id]
	if err != nil || !ok {
		writeError(w, storageErrors, http.StatusNotFound, "workspace.workspaceNotFound", fmt.Sprintf("Workspace %s not found", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, s.workspaceJSON(ws))
}

// storageJob is an asynchronous Storage API job. It waits one step, processes
// one step, then succeeds with its results.
type storageJob struct {
	id        int
	operation string
	params    map[string]any
	results   map[string]any
	created   time.Time
	creator   *token
}

func (st *state) addStorageJob(op string, params, results map[string]any, by *token) *storageJob {
	j := &storageJob{id: st.nextID(), operation: op, params: params, results: results, created: st.s.now(), creator: by}
	st.storageJobs[j.id] = j
	return j
}

// stepsSince counts the job steps elapsed since t by the stack's clock.
func (s *Stack) stepsSince(t time.Time) int {
	d := s.now().Sub(t)
	if d < 0 {
		return 0
	}
	return int(d / s.step)
}

func (s *Stack) storageJobJSON(j *storageJob) map[string]any {
	steps := s.stepsSince(j.created)
	out := map[string]any{
		"id":              j.id,
		"status":          "waiting",
		"url":             fmt.Sprintf("%s/v2/storage/jobs/%d", s.url, j.id),
		"tableId":         nil,
		"operationName":   j.operation,
		"operationParams": j.params,
		"createdTime":     fmtTime(j.created),
		"startTime":       nil,
		"endTime":         nil,
		"runId":           nil,
		"results":         nil,
		"creatorToken":    tokenRef(j.creator),
		"metrics":         map[string]any{"inCompressed": false, "inBytes": 0, "inBytesUncompressed": 0, "outCompressed": false, "outBytes": 0, "outBytesUncompressed": 0},
		"error":           nil,
	}
	if steps >= 1 {
		out["status"] = "processing"
		out["startTime"] = fmtTime(j.created.Add(s.step))
	}
	if steps >= 2 {
		out["status"] = "success"
		out["endTime"] = fmtTime(j.created.Add(2 * s.step))
		out["results"] = j.results
	}
	return out
}

func (s *Stack) handleStorageJob(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := strconv.Atoi(r.PathValue("id"))
	j, ok := s.state.storageJobs[id]
	if err != nil || !ok {
		writeError(w, storageErrors, http.StatusNotFound, "storage.jobs.notFound", fmt.Sprintf("Job %s not found", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, s.storageJobJSON(j))
}

func sortedIntKeys[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
