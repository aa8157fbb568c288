package fakestack

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// event is a Storage event. Events are appended with their own timestamps,
// which may lie in the future (a queue job's later log lines): they become
// visible when the clock reaches them.
type event struct {
	id        int
	component string
	configID  string
	runID     string
	// jobID is the Queue job that logged the event ("" for others); with
	// forceUuid=true the runId filter matches it instead of runID.
	jobID       string
	typ         string // info, success, warn, error
	message     string
	description string
	params      map[string]any
	created     time.Time
	creator     *token
}

func (e *event) json() map[string]any {
	return map[string]any{
		"id":              strconv.Itoa(e.id),
		"uuid":            fmt.Sprintf("0190fa1e-%04x-7000-8000-%012x", e.id%0xffff, e.id),
		"event":           "ext." + e.component + ".",
		"component":       e.component,
		"configurationId": e.configID,
		"message":         e.message,
		"description":     e.description,
		"type":            e.typ,
		"runId":           e.runID,
		"created":         fmtTime(e.created),
		"params":          orEmpty(e.params),
		"results":         map[string]any{},
		"performance":     map[string]any{},
		"token":           map[string]any{"id": tokenRef(e.creator)["id"], "name": tokenRef(e.creator)["description"]},
		"attachments":     []any{},
	}
}

// matchesRun applies the runId filter (see handleEvents).
func (e *event) matchesRun(runID string, byJob bool) bool {
	if byJob {
		return e.jobID == runID
	}
	return e.runID == runID && !strings.Contains(e.runID, ".")
}

func (st *state) addEvent(e *event) *event {
	e.id = st.nextID()
	st.events = append(st.events, e)
	return e
}

// handleEvents implements GET events?runId&forceUuid&component&configurationId&q&limit&offset,
// newest first. With forceUuid=true, runId matches the id of the Queue job
// that logged the event, which is how the Python server reads a job's log
// (clients/storage.py, job events: runId "matches the job's id, not the
// job's hierarchical runId"). Without it runId is the legacy run-id lookup,
// which finds no event of a job a flow started (run id "<parent>.<id>"):
// the stricter reading of "child jobs come back empty otherwise".
func (s *Stack) handleEvents(w http.ResponseWriter, r *http.Request, _ *caller) {
	q := r.URL.Query()
	limit, offset, err := queryPage(q, 1000)
	if err != nil {
		badRequest(w, err)
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	byJob := q.Get("forceUuid") == "true"
	var match []*event
	for _, e := range s.state.events {
		if e.created.After(now) ||
			(q.Get("runId") != "" && !e.matchesRun(q.Get("runId"), byJob)) ||
			(q.Get("component") != "" && e.component != q.Get("component")) ||
			(q.Get("configurationId") != "" && e.configID != q.Get("configurationId")) ||
			(q.Get("q") != "" && !strings.Contains(strings.ToLower(e.message), strings.ToLower(q.Get("q")))) {
			continue
		}
		match = append(match, e)
	}
	sort.SliceStable(match, func(i, j int) bool {
		if !match[i].created.Equal(match[j].created) {
			return match[i].created.After(match[j].created)
		}
		return match[i].id > match[j].id
	})
	out := []any{}
	for _, e := range pageOf(match, limit, offset) {
		out = append(out, e.json())
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Stack) handleCreateEvent(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := readBody(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	msg, _ := strField(body, "message")
	comp, _ := strField(body, "component")
	if strings.TrimSpace(msg) == "" || strings.TrimSpace(comp) == "" {
		badRequest(w, fmt.Errorf("message and component are required"))
		return
	}
	typ, _ := strField(body, "type")
	if typ == "" {
		typ = "info"
	}
	if typ != "info" && typ != "success" && typ != "warn" && typ != "error" {
		badRequest(w, fmt.Errorf("type must be info, success, warn or error, got %q", typ))
		return
	}
	params, _, err := objectField(body, "params")
	if err != nil {
		badRequest(w, err)
		return
	}
	desc, _ := strField(body, "description")
	runID, _ := strField(body, "runId")
	cfgID, _ := strField(body, "configurationId")
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.state.addEvent(&event{component: comp, configID: cfgID, runID: runID, typ: typ, message: msg,
		description: desc, params: params, created: s.now(), creator: c.tok})
	writeJSON(w, http.StatusCreated, e.json())
}

// searchItem is one hit of the global search.
type searchItem struct {
	id, name, typ, componentID string
	fullPath                   map[string]any
	created                    time.Time
	projectID                  int
	branchID                   int  // defaultBranchID for production
	development                bool // the item lives in a development branch
}

// handleGlobalSearch implements GET global-search?query&types[]&projectIds[]
// &branchTypes[]&branchIds[]&limit&offset: a case-insensitive name match
// over buckets, tables, configurations, rows, flows, transformations and
// workspaces. Like Keboola's it searches the whole organisation (here: this
// project's branches and the buckets other projects share) unless
// projectIds[] narrows it; branchTypes[] (production, development) and
// branchIds[] narrow the branches, as the Python server asks
// (clients/storage.py global_search).
func (s *Stack) handleGlobalSearch(w http.ResponseWriter, r *http.Request, c *caller) {
	q := r.URL.Query()
	query := strings.ToLower(strings.TrimSpace(q.Get("query")))
	if query == "" {
		badRequest(w, fmt.Errorf("query is required"))
		return
	}
	limit, offset, err := queryPage(q, 100)
	if err != nil {
		badRequest(w, err)
		return
	}
	filter, err := newSearchFilter(q)
	if err != nil {
		badRequest(w, err)
		return
	}
	s.mu.Lock()
	items := s.searchItems(c)
	s.mu.Unlock()
	var hits []searchItem
	byType := map[string]int{}
	byProject := map[string]string{}
	for _, it := range items {
		if !strings.Contains(strings.ToLower(it.name), query) || !filter.keeps(it) {
			continue
		}
		hits = append(hits, it)
		byType[it.typ]++
		byProject[strconv.Itoa(it.projectID)] = it.fullPath["project"].(map[string]any)["name"].(string)
	}
	out := []any{}
	for _, it := range pageOf(hits, limit, offset) {
		project := it.fullPath["project"].(map[string]any)
		j := map[string]any{
			"id": it.id, "name": it.name, "type": it.typ, "fullPath": it.fullPath,
			"organizationId": organizationID, "projectId": it.projectID, "projectName": project["name"],
			"created": fmtTime(it.created),
		}
		if it.componentID != "" {
			j["componentId"] = it.componentID
		}
		out = append(out, j)
	}
	body := map[string]any{
		"all": len(hits), "items": out,
		"byType":    any([]any{}), // [] when empty, as the API sends
		"byProject": any([]any{}),
	}
	if len(byType) > 0 {
		body["byType"] = byType
		body["byProject"] = byProject
	}
	writeJSON(w, http.StatusOK, body)
}

// searchFilter is the narrowing a global search asks for.
type searchFilter struct {
	types       map[string]bool
	projects    map[int]bool
	branchTypes map[string]bool
	branches    map[int]bool
}

func newSearchFilter(q url.Values) (searchFilter, error) {
	f := searchFilter{types: map[string]bool{}, projects: map[int]bool{}, branchTypes: map[string]bool{}, branches: map[int]bool{}}
	for _, t := range queryList(q, "types") {
		f.types[t] = true
	}
	for _, p := range queryList(q, "projectIds") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return f, fmt.Errorf("projectIds must be numbers, got %q", p)
		}
		f.projects[n] = true
	}
	for _, t := range queryList(q, "branchTypes") {
		if t != "production" && t != "development" {
			return f, fmt.Errorf("branchTypes must be production or development, got %q", t)
		}
		f.branchTypes[t] = true
	}
	for _, b := range queryList(q, "branchIds") {
		n, err := strconv.Atoi(b)
		if err != nil {
			return f, fmt.Errorf("branchIds must be numbers, got %q", b)
		}
		f.branches[n] = true
	}
	return f, nil
}

func (f searchFilter) keeps(it searchItem) bool {
	branchType := "production"
	if it.development {
		branchType = "development"
	}
	return (len(f.types) == 0 || f.types[it.typ]) &&
		(len(f.projects) == 0 || f.projects[it.projectID]) &&
		(len(f.branchTypes) == 0 || f.branchTypes[branchType]) &&
		(len(f.branches) == 0 || f.branches[it.branchID])
}

// searchItems lists everything the global search can find; caller holds s.mu.
func (s *Stack) searchItems(c *caller) []searchItem {
	project := map[string]any{"id": s.opts.ProjectID, "name": s.opts.ProjectName}
	main := map[string]any{"id": defaultBranchID, "name": "Main"}
	var out []searchItem
	add := func(it searchItem, branch map[string]any, dev bool) {
		it.fullPath["project"], it.fullPath["branch"] = project, branch
		it.projectID, it.branchID, it.development = s.opts.ProjectID, branch["id"].(int), dev
		out = append(out, it)
	}
	addStorage := func(buckets []*bucket, branch map[string]any, dev bool) {
		for _, b := range buckets {
			if !c.tok.canRead(b.id) {
				continue
			}
			add(searchItem{id: b.id, name: b.displayName, typ: "bucket", created: b.created, fullPath: map[string]any{}}, branch, dev)
			for _, t := range b.tables {
				add(searchItem{id: t.id, name: t.name, typ: "table", created: t.created,
					fullPath: map[string]any{"bucket": map[string]any{"id": b.id, "name": b.displayName}}}, branch, dev)
			}
		}
	}
	addConfigs := func(configs map[string][]*config, branch map[string]any, dev bool) {
		for _, comp := range s.state.catalogue {
			for _, cfg := range configs[comp.id] {
				if cfg.isDeleted {
					continue
				}
				typ := "configuration"
				switch {
				case comp.id == "keboola.orchestrator" || comp.id == "keboola.flow":
					typ = "flow"
				case comp.typ == "transformation":
					typ = "transformation"
				}
				compRef := map[string]any{"id": comp.id, "name": comp.name}
				add(searchItem{id: cfg.id, name: cfg.name, typ: typ, componentID: comp.id, created: cfg.created,
					fullPath: map[string]any{"component": compRef}}, branch, dev)
				for _, row := range cfg.rows {
					add(searchItem{id: row.id, name: row.name, typ: "configuration-row", componentID: comp.id, created: row.created,
						fullPath: map[string]any{"component": compRef, "configuration": map[string]any{"id": cfg.id, "name": cfg.name}}}, branch, dev)
				}
			}
		}
	}
	addStorage(s.state.buckets, main, false)
	addConfigs(s.state.configs, main, false)
	for _, id := range sortedIntKeys(s.state.branches) {
		b := s.state.branches[id]
		ref := map[string]any{"id": b.id, "name": b.name}
		addStorage(b.buckets, ref, true)
		addConfigs(b.configs, ref, true)
	}
	for _, id := range sortedIntKeys(s.state.workspaces) {
		ws := s.state.workspaces[id]
		add(searchItem{id: strconv.Itoa(ws.id), name: fmt.Sprintf("WORKSPACE_%d", ws.id), typ: "workspace",
			componentID: ws.componentID, created: ws.created, fullPath: map[string]any{}}, main, false)
	}
	// Buckets other projects of the organisation share are theirs: only a
	// search not narrowed to this project finds them.
	for _, b := range s.state.sharedBuckets {
		other := map[string]any{"id": b.project.id, "name": b.project.name}
		otherMain := map[string]any{"id": b.project.id*10 + 1, "name": "Main"}
		out = append(out, searchItem{id: b.id, name: b.displayName, typ: "bucket", created: b.created,
			fullPath: map[string]any{"project": other, "branch": otherMain}, projectID: b.project.id, branchID: otherMain["id"].(int)})
		for _, t := range b.tables {
			out = append(out, searchItem{id: t.id, name: t.name, typ: "table", created: t.created,
				fullPath:  map[string]any{"project": other, "branch": otherMain, "bucket": map[string]any{"id": b.id, "name": b.displayName}},
				projectID: b.project.id, branchID: otherMain["id"].(int)})
		}
	}
	return out
}
