package fakestack

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// queueJob is a Jobs Queue job. Its status follows from the clock: created
// for one step, waiting for one step, processing for runFor, then success or
// error (failMessage). A kill moves it to terminating for one step, then
// terminated.
type queueJob struct {
	id        string
	component string
	configID  string
	rowIDs    []string
	mode      string
	tag       string
	created   time.Time
	runFor    time.Duration
	creator   *token
	branchID  string // "" for the default branch (sent as null)
	// parentRunID is the run id of the job that started this one (a flow's
	// task jobs); "" for a job started on its own.
	parentRunID string
	failMessage string
	killedAt    time.Time
	// work is what the job does when the clock reaches it (jobrun.go); nil
	// once done, or for components that do nothing.
	work *jobWork
	// taskName and continueOnFailure describe a flow's task job.
	taskName          string
	continueOnFailure bool
}

// runID is the job's run id: its own id, or for a child job its parent's
// run id, a dot and its own id (so a child's run id differs from its id).
func (j *queueJob) runID() string {
	if j.parentRunID == "" {
		return j.id
	}
	return j.parentRunID + "." + j.id
}

func (j *queueJob) times(step time.Duration) (waiting, start, end time.Time) {
	waiting = j.created.Add(step)
	start = waiting.Add(step)
	end = start.Add(j.runFor)
	if !j.killedAt.IsZero() && j.killedAt.Before(end) {
		end = j.killedAt.Add(step)
	}
	return waiting, start, end
}

// updated is when the job last changed state, as of now.
func (j *queueJob) updated(now time.Time, step time.Duration) time.Time {
	waiting, start, end := j.times(step)
	last := j.created
	for _, t := range []time.Time{waiting, start, j.killedAt, end} {
		if !t.IsZero() && !now.Before(t) && t.After(last) {
			last = t
		}
	}
	return last
}

// status returns the job's status at now.
func (j *queueJob) status(now time.Time, step time.Duration) string {
	waiting, start, end := j.times(step)
	switch {
	case j.work != nil && !now.Before(start) && j.killedAt.IsZero():
		return "processing" // its outcome is not settled yet (settleJobs)
	case !j.killedAt.IsZero() && !now.Before(j.killedAt) && now.Before(end):
		return "terminating"
	case !now.Before(end) && !j.killedAt.IsZero():
		return "terminated"
	case !now.Before(end) && j.failMessage != "":
		return "error"
	case !now.Before(end):
		return "success"
	case !now.Before(start):
		return "processing"
	case !now.Before(waiting):
		return "waiting"
	default:
		return "created"
	}
}

func isFinished(status string) bool {
	switch status {
	case "success", "error", "warning", "cancelled", "terminated":
		return true
	}
	return false
}

func (s *Stack) queueJobJSON(j *queueJob) map[string]any {
	now := s.now()
	status := j.status(now, s.step)
	_, start, end := j.times(s.step)
	finished := isFinished(status)
	var branch any
	if j.branchID != "" {
		branch = j.branchID
	}
	out := map[string]any{
		"id":                 j.id,
		"runId":              j.runID(),
		"parentRunId":        j.parentRunID,
		"project":            map[string]any{"id": strconv.Itoa(s.opts.ProjectID), "name": s.opts.ProjectName},
		"token":              tokenRef(j.creator),
		"status":             status,
		"desiredStatus":      "processing",
		"mode":               j.mode,
		"component":          j.component,
		"config":             j.configID,
		"configRowIds":       nonNil(j.rowIDs),
		"tag":                nilIfEmpty(j.tag),
		"createdTime":        fmtTime(j.created),
		"updatedTime":        fmtTime(j.updated(now, s.step)),
		"startTime":          nil,
		"endTime":            nil,
		"durationSeconds":    nil,
		"result":             []any{}, // the API sends [] until the job has a result
		"usageData":          []any{},
		"isFinished":         finished,
		"url":                s.url + "/queue/jobs/" + j.id,
		"branchId":           branch,
		"variableValuesId":   nil,
		"variableValuesData": map[string]any{"values": []any{}},
		"backend":            map[string]any{},
		"type":               "standard",
		"orchestrationJobId": nil,
		"metrics":            map[string]any{},
	}
	if !j.killedAt.IsZero() {
		out["desiredStatus"] = "terminating"
	}
	if !now.Before(start) {
		out["startTime"] = fmtTime(start)
	}
	if finished {
		out["endTime"] = fmtTime(end)
		out["durationSeconds"] = int(end.Sub(start).Seconds())
		switch status {
		case "error":
			out["result"] = map[string]any{"message": j.failMessage, "exceptionId": "job-" + j.id, "error": map[string]any{"type": "user"}}
		case "terminated":
			out["result"] = map[string]any{"message": "Job was terminated by a user."}
		default:
			out["result"] = map[string]any{"message": "Component processing finished.", "images": []any{}, "configVersion": "1"}
		}
	}
	return out
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// addQueueJob records a job and its log events (which appear as the clock reaches them).
func (st *state) addQueueJob(j *queueJob) *queueJob {
	j.id = strconv.Itoa(st.nextID() * 10)
	st.queueJobs = append(st.queueJobs, j)
	_, start, end := j.times(st.s.step)
	comp := j.component
	base := event{component: comp, configID: j.configID, runID: j.runID(), jobID: j.id, creator: j.creator}
	add := func(at time.Time, typ, msg string) {
		e := base
		e.created, e.typ, e.message = at, typ, msg
		st.addEvent(&e)
	}
	add(start, "info", fmt.Sprintf("Running component %s (config %s)", comp, j.configID))
	add(start.Add(j.runFor/2), "info", fmt.Sprintf("Component %s is processing data", comp))
	switch {
	case j.work != nil:
		// The outcome is logged when the work is done (settleJobs).
	case j.failMessage != "":
		add(end, "error", j.failMessage)
	default:
		add(end, "success", fmt.Sprintf("Component %s finished successfully", comp))
	}
	return j
}

func (s *Stack) queueRoutes(mux *http.ServeMux) {
	auth := func(h storageHandler) http.HandlerFunc { return s.withAuth(headerOnly, queueErrors, h) }
	mux.Handle("POST /queue/jobs", auth(s.handleRunJob))
	mux.Handle("GET /queue/jobs", auth(s.handleSearchJobs))
	mux.Handle("GET /queue/search/jobs", auth(s.handleSearchJobs))
	mux.Handle("GET /queue/jobs/{id}", auth(s.handleQueueJob))
	mux.Handle("POST /queue/jobs/{id}/kill", auth(s.handleKillJob))
}

func queueFail(w http.ResponseWriter, status int, msg string) {
	writeError(w, queueErrors, status, "", msg)
}

func (s *Stack) handleRunJob(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := readBody(r)
	if err != nil {
		queueFail(w, http.StatusBadRequest, err.Error())
		return
	}
	comp, _ := strField(body, "component")
	cfgID, _ := strField(body, "config")
	mode, _ := strField(body, "mode")
	tag, _ := strField(body, "tag")
	if comp == "" || cfgID == "" {
		queueFail(w, http.StatusBadRequest, "component and config are required")
		return
	}
	if mode == "" {
		mode = "run"
	}
	if mode != "run" && mode != "forceRun" && mode != "debug" {
		queueFail(w, http.StatusBadRequest, fmt.Sprintf("mode must be run, forceRun or debug, got %q", mode))
		return
	}
	branchID := ""
	if _, present := body["branchId"]; present && body["branchId"] != nil {
		b, _ := strField(body, "branchId")
		if b != strconv.Itoa(defaultBranchID) {
			queueFail(w, http.StatusBadRequest, fmt.Sprintf("branch %q does not exist in the project", b))
			return
		}
		branchID = b
	}
	var rowIDs []string
	if v, ok := body["configRowIds"].([]any); ok {
		for _, x := range v {
			id, ok := x.(string)
			if !ok {
				queueFail(w, http.StatusBadRequest, "configRowIds must be an array of strings")
				return
			}
			rowIDs = append(rowIDs, id)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.state.components[comp]; !ok {
		queueFail(w, http.StatusNotFound, fmt.Sprintf("Component %s not found", comp))
		return
	}
	var cfg *config
	for _, x := range s.state.configs[comp] {
		if x.id == cfgID && !x.isDeleted {
			cfg = x
		}
	}
	if cfg == nil {
		queueFail(w, http.StatusNotFound, fmt.Sprintf("Configuration %s of component %s not found", cfgID, comp))
		return
	}
	if cfg.isDisabled && mode != "forceRun" {
		queueFail(w, http.StatusBadRequest, fmt.Sprintf("Configuration %s is disabled; enable it or run with mode forceRun", cfgID))
		return
	}
	for _, id := range rowIDs {
		if !slices.ContainsFunc(cfg.rows, func(r *configRow) bool { return r.id == id }) {
			queueFail(w, http.StatusBadRequest, fmt.Sprintf("Row %s not found in configuration %s", id, cfgID))
			return
		}
	}
	j := &queueJob{component: comp, configID: cfgID, rowIDs: rowIDs, mode: mode, tag: tag,
		created: s.now(), runFor: s.step, creator: c.tok, branchID: branchID, failMessage: cfg.failMessage}
	s.prepareWork(j, cfg)
	s.state.addQueueJob(j)
	writeJSON(w, http.StatusCreated, s.queueJobJSON(j))
}

func (s *Stack) findQueueJob(id string) *queueJob {
	for _, j := range s.state.queueJobs {
		if j.id == id {
			return j
		}
	}
	return nil
}

func (s *Stack) handleQueueJob(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.findQueueJob(r.PathValue("id"))
	if j == nil {
		queueFail(w, http.StatusNotFound, fmt.Sprintf("Job %q not found", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, s.queueJobJSON(j))
}

func (s *Stack) handleKillJob(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.findQueueJob(r.PathValue("id"))
	if j == nil {
		queueFail(w, http.StatusNotFound, fmt.Sprintf("Job %q not found", r.PathValue("id")))
		return
	}
	now := s.now()
	if isFinished(j.status(now, s.step)) {
		queueFail(w, http.StatusBadRequest, fmt.Sprintf("Job %s is already finished", j.id))
		return
	}
	if j.killedAt.IsZero() {
		j.killedAt = now
		// The log ends where the job was stopped.
		s.state.events = slices.DeleteFunc(s.state.events, func(e *event) bool { return e.jobID == j.id && e.created.After(now) })
		s.state.addEvent(&event{component: j.component, configID: j.configID, runID: j.runID(), jobID: j.id, creator: j.creator, typ: "warn",
			message: "Job was terminated by a user", created: now.Add(s.step)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": j.id, "status": j.status(now, s.step), "desiredStatus": "terminating"})
}

// queueSortKeys maps a sortBy value to the job field it orders by.
var queueSortKeys = map[string]string{
	"id": "id", "runId": "runId", "componentId": "component", "configId": "config", "status": "status",
	"createdTime": "createdTime", "updatedTime": "updatedTime", "startTime": "startTime", "endTime": "endTime",
	"durationSeconds": "durationSeconds",
}

// handleSearchJobs implements GET /search/jobs with filters componentId,
// configId, status, branchId, runId (each single or name[]), paging
// (limit ≤ 500, offset) and sortBy/sortOrder.
func (s *Stack) handleSearchJobs(w http.ResponseWriter, r *http.Request, _ *caller) {
	q := r.URL.Query()
	limit, offset, err := queryPage(q, 500)
	if err != nil {
		queueFail(w, http.StatusBadRequest, err.Error())
		return
	}
	sortBy := q.Get("sortBy")
	if sortBy == "" {
		sortBy = "id"
	}
	sortField, ok := queueSortKeys[sortBy]
	if !ok {
		queueFail(w, http.StatusBadRequest, fmt.Sprintf("sortBy must be one of %s; got %q", strings.Join(sortedKeys(queueSortKeys), ", "), sortBy))
		return
	}
	order := strings.ToLower(q.Get("sortOrder"))
	if order == "" {
		order = "desc"
	}
	if order != "asc" && order != "desc" {
		queueFail(w, http.StatusBadRequest, fmt.Sprintf("sortOrder must be asc or desc, got %q", order))
		return
	}
	filters := map[string][]string{}
	for _, k := range []string{"componentId", "configId", "status", "branchId", "runId", "id"} {
		if v := queryList(q, k); len(v) > 0 {
			filters[k] = v
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []map[string]any
	for _, j := range s.state.queueJobs {
		js := s.queueJobJSON(j)
		keep := true
		for k, vals := range filters {
			field := map[string]string{"componentId": "component", "configId": "config"}[k]
			if field == "" {
				field = k
			}
			v := fmt.Sprint(js[field])
			if field == "branchId" && js[field] == nil {
				v = strconv.Itoa(defaultBranchID) // jobs of the default branch carry null
			}
			if !slices.Contains(vals, v) {
				keep = false
			}
		}
		if keep {
			rows = append(rows, js)
		}
	}
	numeric := sortField == "id" || sortField == "runId"
	sort.SliceStable(rows, func(a, b int) bool {
		if order == "desc" {
			a, b = b, a
		}
		return sortLess(rows[a][sortField], rows[b][sortField], numeric)
	})
	out := []any{}
	for _, row := range pageOf(rows, limit, offset) {
		out = append(out, row)
	}
	writeJSON(w, http.StatusOK, out)
}

// sortLess orders job fields: ids numerically, other strings and
// timestamps (one format, one zone) as text, durations as numbers, and
// missing values first.
func sortLess(a, b any, numericIDs bool) bool {
	if a == nil || b == nil {
		return a == nil && b != nil
	}
	switch x := a.(type) {
	case int:
		return x < b.(int)
	case string:
		y := b.(string)
		if numericIDs && len(x) != len(y) {
			return len(x) < len(y)
		}
		return x < y
	}
	return false
}
