package fakestack

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Data Science API (service "data-science", under /data-science): data apps.
// Each app has a Storage configuration of keboola.data-apps (its code and
// settings; parameters.id names the app) and a lifecycle the fake derives
// from the time of the last state change: a deploy is "starting" for one
// JobStepDelay, then "running"; a stop is "stopping", then "stopped". An app
// never deployed is "created". Logs exist only while the app runs.
//
// Python-js apps are deployed from git: a production app created with
// useManagedGitRepo gets a managed repository (and HTTPS credentials can be
// minted for it); a draft instead names an external repository in
// parameters.dataApp.git. Repository hosts are made-up .invalid names.

const dataAppComponent = "keboola.data-apps"

type dataApp struct {
	id          string
	configID    string
	typ         string
	slug        string
	created     time.Time
	desired     string // "running" or "stopped"
	changed     time.Time
	everStarted bool
	configVer   string
	managedRepo bool
	credentials int
	runs        []*dataAppRun
}

type dataAppRun struct {
	id        string
	mode      string
	created   time.Time
	stopped   time.Time
	failure   string // reason code; "" for a run that started
	message   string
	startLogs string
}

func (s *Stack) dataScienceRoutes(mux *http.ServeMux) {
	auth := func(h storageHandler) http.HandlerFunc { return s.withAuth(headerOrBearer, storageErrors, h) }
	mux.Handle("GET /data-science/apps", auth(s.handleListApps))
	mux.Handle("POST /data-science/apps", auth(s.handleCreateApp))
	mux.Handle("GET /data-science/apps/{id}", auth(s.handleGetApp))
	mux.Handle("PATCH /data-science/apps/{id}", auth(s.handlePatchApp))
	mux.Handle("DELETE /data-science/apps/{id}", auth(s.handleDeleteApp))
	mux.Handle("GET /data-science/apps/{id}/logs/tail", auth(s.handleAppLogs))
	mux.Handle("GET /data-science/apps/{id}/runs", auth(s.handleAppRuns))
	mux.Handle("GET /data-science/apps/{id}/git-repo", auth(s.handleAppGitRepo))
	mux.Handle("POST /data-science/apps/{id}/git-repo/credentials", auth(s.handleAppGitCredential))
}

// appState derives where the app is now.
func (s *Stack) appState(a *dataApp) string {
	settled := !s.now().Before(a.changed.Add(s.opts.JobStepDelay))
	switch {
	case a.desired == "running" && settled:
		return "running"
	case a.desired == "running":
		return "starting"
	case !a.everStarted:
		return "created"
	case settled:
		return "stopped"
	}
	return "stopping"
}

func (s *Stack) appConfig(a *dataApp) *config {
	for _, c := range s.state.configs[dataAppComponent] {
		if c.id == a.configID {
			return c
		}
	}
	return nil
}

func (s *Stack) appJSON(a *dataApp) map[string]any {
	state := s.appState(a)
	out := map[string]any{
		"id": a.id, "projectId": strconv.Itoa(s.opts.ProjectID), "componentId": dataAppComponent, "branchId": nil,
		"configId": a.configID, "configVersion": a.configVer, "type": a.typ, "state": state, "desiredState": a.desired,
		"url": nil, "autoSuspendAfterSeconds": 900, "size": "tiny", "lastRequestTimestamp": nil, "lastStartTimestamp": nil,
	}
	if cfg := s.appConfig(a); cfg != nil {
		if p, ok := cfg.configuration["parameters"].(map[string]any); ok {
			if n, ok := intField(p, "autoSuspendAfterSeconds"); ok {
				out["autoSuspendAfterSeconds"] = n
			}
		}
	}
	if state == "running" || state == "starting" {
		out["url"] = fmt.Sprintf("https://%s-%s.hub.fakestack.invalid/", a.slug, a.id)
		out["lastStartTimestamp"] = fmtTime(a.changed)
	}
	return out
}

func (s *Stack) findApp(w http.ResponseWriter, id string) *dataApp {
	for _, a := range s.state.dataApps {
		if a.id == id {
			return a
		}
	}
	writeError(w, storageErrors, http.StatusNotFound, "notFound", fmt.Sprintf("App %s not found", id))
	return nil
}

func (s *Stack) handleListApps(w http.ResponseWriter, r *http.Request, _ *caller) {
	limit, offset, err := queryPage(r.URL.Query(), 1000)
	if err != nil {
		badRequest(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, a := range pageOf(s.state.dataApps, limit, offset) {
		out = append(out, s.appJSON(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Stack) handleGetApp(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.findApp(w, r.PathValue("id")); a != nil {
		writeJSON(w, http.StatusOK, s.appJSON(a))
	}
}

// handleCreateApp creates the app and its Storage configuration.
func (s *Stack) handleCreateApp(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := readBody(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	name, _ := strField(body, "name")
	desc, _ := strField(body, "description")
	typ, _ := strField(body, "type")
	cfgBody, _, err := objectField(body, "config")
	switch {
	case err != nil:
		badRequest(w, err)
		return
	case strings.TrimSpace(name) == "":
		badRequest(w, fmt.Errorf("name is required"))
		return
	case typ != "streamlit" && typ != "python-js":
		badRequest(w, fmt.Errorf("type must be streamlit or python-js, got %q", typ))
		return
	case cfgBody == nil:
		badRequest(w, fmt.Errorf("config is required"))
		return
	}
	params, _ := cfgBody["parameters"].(map[string]any)
	dataAppBlock, _ := params["dataApp"].(map[string]any)
	slug, _ := dataAppBlock["slug"].(string)
	if slug == "" {
		badRequest(w, fmt.Errorf("config.parameters.dataApp.slug is required"))
		return
	}
	managed, _ := boolField(body, "useManagedGitRepo")
	if managed && typ != "python-js" {
		badRequest(w, fmt.Errorf("only python-js apps can have a managed git repository"))
		return
	}
	if !canConfigure(c.tok, dataAppComponent) {
		denyConfigure(w, dataAppComponent)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.state.addDataApp(typ, name, desc, slug, cfgBody, managed, c.tok)
	writeJSON(w, http.StatusCreated, s.appJSON(a))
}

// addDataApp stores an app and its configuration (whose parameters gain the app id).
func (st *state) addDataApp(typ, name, desc, slug string, cfgBody map[string]any, managed bool, by *token) *dataApp {
	now := st.s.now()
	a := &dataApp{id: strconv.Itoa(st.nextID()), configID: strconv.Itoa(st.nextID()), typ: typ, slug: slug,
		created: now, changed: now, desired: "stopped", configVer: "1", managedRepo: managed}
	body := cloneMap(cfgBody)
	params, _ := body["parameters"].(map[string]any)
	params = cloneMap(params)
	params["id"] = a.id
	body["parameters"] = params
	st.addConfig(dataAppComponent, a.configID, name, desc, body, by)
	st.dataApps = append(st.dataApps, a)
	return a
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// handlePatchApp changes the desired state: deploy (running) or stop.
func (s *Stack) handlePatchApp(w http.ResponseWriter, r *http.Request, _ *caller) {
	body, err := readBody(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	desired, _ := strField(body, "desiredState")
	if desired != "running" && desired != "stopped" {
		badRequest(w, fmt.Errorf("desiredState must be running or stopped, got %q", desired))
		return
	}
	mode, _ := strField(body, "mode")
	if mode != "" && mode != "dev" && mode != "production" {
		badRequest(w, fmt.Errorf("mode must be dev or production, got %q", mode))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r.PathValue("id"))
	if a == nil {
		return
	}
	now := s.now()
	if desired == "stopped" {
		if a.desired == "running" {
			a.desired, a.changed = "stopped", now
			if n := len(a.runs); n > 0 && a.runs[n-1].stopped.IsZero() {
				a.runs[n-1].stopped = now
			}
		}
		writeJSON(w, http.StatusOK, s.appJSON(a))
		return
	}
	ver, hasVer := strField(body, "configVersion")
	cfg := s.appConfig(a)
	switch {
	case a.typ == "streamlit" && !hasVer:
		badRequest(w, fmt.Errorf("configVersion is required to deploy a streamlit app"))
		return
	case hasVer && (cfg == nil || !slices.ContainsFunc(cfg.versions, func(v configVersion) bool { return strconv.Itoa(v.version) == ver })):
		badRequest(w, fmt.Errorf("configuration version %q of app %s does not exist", ver, a.id))
		return
	}
	if hasVer {
		a.configVer = ver
	}
	if n := len(a.runs); n > 0 && a.runs[n-1].stopped.IsZero() {
		a.runs[n-1].stopped = now
	}
	a.desired, a.changed, a.everStarted = "running", now, true
	if mode == "" {
		mode = "prod"
	}
	a.runs = append(a.runs, &dataAppRun{id: strconv.Itoa(s.state.nextID()), mode: mode, created: now,
		startLogs: "Installing dependencies...\nStarting the app on port 8888\nApp is ready"})
	writeJSON(w, http.StatusOK, s.appJSON(a))
}

// handleDeleteApp removes an app that is not changing state and moves its
// configuration to the trash.
func (s *Stack) handleDeleteApp(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r.PathValue("id"))
	if a == nil {
		return
	}
	if st := s.appState(a); st == "starting" || st == "stopping" {
		badRequest(w, fmt.Errorf("app %s is %s; wait until it settles before deleting it", a.id, st))
		return
	}
	if cfg := s.appConfig(a); cfg != nil && !cfg.isDeleted {
		cfg.isDeleted = true
		cfg.bump(s.now(), c.tok, "Configuration deleted")
	}
	s.state.dataApps = slices.DeleteFunc(s.state.dataApps, func(x *dataApp) bool { return x == a })
	w.WriteHeader(http.StatusNoContent)
}

func (s *Stack) handleAppLogs(w http.ResponseWriter, r *http.Request, _ *caller) {
	lines, err := queryInt(r.URL.Query(), "lines", 100, 1, 10000)
	if err != nil {
		badRequest(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r.PathValue("id"))
	if a == nil {
		return
	}
	if s.appState(a) != "running" {
		writeError(w, storageErrors, http.StatusNotFound, "notFound", fmt.Sprintf("App %s is not running, it has no logs", a.id))
		return
	}
	all := []string{
		fmt.Sprintf("%s Collecting usage statistics.", fmtTime(a.changed)),
		fmt.Sprintf("%s You can now view your app in the browser.", fmtTime(a.changed)),
		fmt.Sprintf("%s GET / 200", fmtTime(s.now())),
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(strings.Join(all[max(0, len(all)-lines):], "\n") + "\n"))
}

func (s *Stack) handleAppRuns(w http.ResponseWriter, r *http.Request, _ *caller) {
	limit, err := queryInt(r.URL.Query(), "limit", 5, 1, 100)
	if err != nil {
		badRequest(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r.PathValue("id"))
	if a == nil {
		return
	}
	out := []any{}
	for i := len(a.runs) - 1; i >= 0 && len(out) < limit; i-- {
		run := a.runs[i]
		state := "finished"
		switch {
		case run.failure != "":
			state = "failed"
		case run.stopped.IsZero() && s.appState(a) == "running":
			state = "running"
		case run.stopped.IsZero():
			state = "starting"
		}
		item := map[string]any{"id": run.id, "appId": a.id, "state": state, "mode": run.mode, "createdAt": fmtTime(run.created),
			"startedAt": nil, "stoppedAt": fmtTimePtr(run.stopped), "startupLogs": run.startLogs, "failureReason": nil}
		if run.failure != "" {
			item["failureReason"] = map[string]any{"reason": run.failure, "message": run.message}
		} else if state != "starting" {
			item["startedAt"] = fmtTime(run.created.Add(s.opts.JobStepDelay))
		}
		out = append(out, item)
	}
	writeJSON(w, http.StatusOK, out)
}

// externalGit returns the repository an app names in parameters.dataApp.git.
func (s *Stack) externalGit(a *dataApp) string {
	cfg := s.appConfig(a)
	if cfg == nil {
		return ""
	}
	params, _ := cfg.configuration["parameters"].(map[string]any)
	block, _ := params["dataApp"].(map[string]any)
	git, _ := block["git"].(map[string]any)
	repo, _ := git["repository"].(string)
	return repo
}

func managedRepoURL(a *dataApp) string {
	return "https://git.fakestack.invalid/keboola/app-" + a.id + ".git"
}

func (s *Stack) handleAppGitRepo(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r.PathValue("id"))
	if a == nil {
		return
	}
	switch {
	case a.managedRepo:
		writeJSON(w, http.StatusOK, map[string]any{"httpsUrl": managedRepoURL(a), "sshUrl": "ssh://git@git.fakestack.invalid/keboola/app-" + a.id + ".git", "isManagedGitRepo": true})
	case s.externalGit(a) != "":
		writeJSON(w, http.StatusOK, map[string]any{"httpsUrl": s.externalGit(a), "sshUrl": nil, "isManagedGitRepo": false})
	default:
		writeError(w, storageErrors, http.StatusNotFound, "notFound", fmt.Sprintf("App %s has no git repository", a.id))
	}
}

func (s *Stack) handleAppGitCredential(w http.ResponseWriter, r *http.Request, c *caller) {
	if !c.adminContext() {
		denyNonAdmin(w)
		return
	}
	body, err := readBody(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	typ, _ := strField(body, "type")
	perms, _ := strField(body, "permissions")
	if typ != "http_token" || (perms != "readWrite" && perms != "readOnly") {
		badRequest(w, fmt.Errorf("type must be http_token and permissions readWrite or readOnly"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.findApp(w, r.PathValue("id"))
	if a == nil {
		return
	}
	if !a.managedRepo {
		badRequest(w, fmt.Errorf("app %s has no managed git repository", a.id))
		return
	}
	a.credentials++
	writeJSON(w, http.StatusCreated, map[string]any{"id": strconv.Itoa(s.state.nextID()), "type": typ, "name": "",
		"permissions": perms, "createdAt": fmtTime(s.now()), "secret": "gitpat_" + randomHex(16)})
}

// seedDataApps adds the data app component and three apps: a running
// Streamlit dashboard, a python-js production app with a managed repository,
// and its draft whose last start failed.
func seedDataApps(st *state, master *token) {
	comp := &component{id: dataAppComponent, typ: "other", name: "Data App",
		description:      "Interactive Streamlit or Python/JavaScript applications on top of project data.",
		documentationURL: "https://help.keboola.com/components/data-apps/"}
	st.catalogue = append(st.catalogue, comp)
	st.components[comp.id] = comp

	basicAuth := map[string]any{"app_proxy": map[string]any{
		"auth_providers": []any{map[string]any{"id": "simpleAuth", "type": "password"}},
		"auth_rules":     []any{map[string]any{"type": "pathPrefix", "value": "/", "auth_required": true, "auth": []any{"simpleAuth"}}},
	}}
	dash := st.addDataApp("streamlit", "Revenue dashboard", "Daily revenue and top customers for the finance team.", "revenue-dashboard",
		map[string]any{
			"parameters": map[string]any{"size": "tiny", "autoSuspendAfterSeconds": 900,
				"dataApp": map[string]any{"slug": "revenue-dashboard", "streamlit": map[string]any{"config.toml": "[theme]\nbase = \"light\""},
					"secrets": map[string]any{"WORKSPACE_ID": "", "BRANCH_ID": strconv.Itoa(defaultBranchID)}},
				"script":   []any{"import streamlit as st\n\nst.title(\"Daily revenue\")\n"},
				"packages": []any{"pandas", "httpx"}},
			"authorization": basicAuth,
		}, false, master)
	dash.desired, dash.everStarted, dash.changed = "running", true, demoEpoch
	dash.runs = []*dataAppRun{{id: strconv.Itoa(st.nextID()), mode: "prod", created: demoEpoch, startLogs: "App is ready"}}

	prod := st.addDataApp("python-js", "Customer explorer", "Browse customers and their orders.", "customer-explorer",
		map[string]any{"parameters": map[string]any{"autoSuspendAfterSeconds": 900, "dataApp": map[string]any{"slug": "customer-explorer"}},
			"authorization": basicAuth}, true, master)
	draft := st.addDataApp("python-js", "Customer explorer (draft)", "Adds country filters.", "customer-explorer-draft-1a2b3c",
		map[string]any{"parameters": map[string]any{"autoSuspendAfterSeconds": 900, "dataApp": map[string]any{
			"slug": "customer-explorer-draft-1a2b3c", "isDraft": true, "parentConfigurationId": prod.configID,
			"git": map[string]any{"repository": managedRepoURL(prod), "username": "kai", "#password": "KBC::ProjectSecure::ZmFrZQ==", "branch": "country-filters"},
		}}, "authorization": basicAuth}, false, master)
	draft.everStarted, draft.changed = true, demoEpoch.Add(time.Minute)
	draft.runs = []*dataAppRun{{id: strconv.Itoa(st.nextID()), mode: "dev", created: demoEpoch, stopped: demoEpoch.Add(time.Minute),
		failure: "StartupProbeFailed", message: "The app did not answer on port 8888 within 60 s: npm ERR! missing script: start",
		startLogs: "npm install\nadded 212 packages\nnpm ERR! missing script: start"}}
}
