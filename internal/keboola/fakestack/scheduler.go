package fakestack

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Scheduler API (service "scheduler", under /scheduler): a schedule is a
// Storage configuration of keboola.scheduler ({schedule{cronTab, timezone,
// state}, target{componentId, configurationId, mode}}) that POST /schedules
// activates. Nothing runs on the schedule in the fake.

const schedulerComponent = "keboola.scheduler"

type schedule struct {
	id       string
	configID string
	creator  *token
	version  int
}

func (s *Stack) schedulerRoutes(mux *http.ServeMux) {
	// The Scheduler acts for a project admin (see caller.adminContext).
	auth := func(h storageHandler) http.HandlerFunc {
		return s.withAuth(headerOrBearer, storageErrors, func(w http.ResponseWriter, r *http.Request, c *caller) {
			if !c.adminContext() {
				denyNonAdmin(w)
				return
			}
			h(w, r, c)
		})
	}
	mux.Handle("POST /scheduler/schedules", auth(s.handleActivateSchedule))
	mux.Handle("GET /scheduler/schedules", auth(s.handleSchedules))
	mux.Handle("GET /scheduler/schedules/{id}", auth(s.handleSchedule))
	mux.Handle("DELETE /scheduler/configurations/{config}", auth(s.handleDeleteSchedule))
}

// scheduleConfig finds the keboola.scheduler configuration of a schedule.
func (s *Stack) scheduleConfig(configID string) *config {
	for _, c := range s.state.configs[schedulerComponent] {
		if c.id == configID && !c.isDeleted {
			return c
		}
	}
	return nil
}

// scheduleJSON renders a schedule from its configuration's current content.
func (s *Stack) scheduleJSON(sc *schedule) map[string]any {
	cfg := s.scheduleConfig(sc.configID)
	var body map[string]any
	if cfg != nil {
		body = cfg.configuration
	}
	sched, _ := body["schedule"].(map[string]any)
	target, _ := body["target"].(map[string]any)
	str := func(m map[string]any, k, def string) string {
		if v, ok := m[k].(string); ok && v != "" {
			return v
		}
		return def
	}
	var executions []any
	for _, j := range s.state.queueJobs {
		if j.component == str(target, "componentId", "") && j.configID == str(target, "configurationId", "") {
			executions = append(executions, map[string]any{"jobId": j.id, "executionTime": fmtTime(j.created)})
		}
	}
	if len(executions) > 5 {
		executions = executions[len(executions)-5:]
	}
	return map[string]any{
		"id":                     sc.id,
		"tokenId":                sc.creator.id,
		"configurationId":        sc.configID,
		"configurationVersionId": strconv.Itoa(sc.version),
		"schedule": map[string]any{
			"cronTab":  str(sched, "cronTab", ""),
			"timezone": str(sched, "timezone", "UTC"),
			"state":    str(sched, "state", "disabled"),
		},
		"target": map[string]any{
			"componentId":     str(target, "componentId", ""),
			"configurationId": str(target, "configurationId", ""),
			"mode":            str(target, "mode", "run"),
			"tag":             nil,
		},
		"executions": nonNilAny(executions),
	}
}

// validateScheduleConfig checks a keboola.scheduler configuration body.
func (s *Stack) validateScheduleConfig(body map[string]any) error {
	sched, _ := body["schedule"].(map[string]any)
	target, _ := body["target"].(map[string]any)
	if sched == nil || target == nil {
		return fmt.Errorf("the configuration needs schedule{cronTab, timezone, state} and target{componentId, configurationId, mode}")
	}
	cron, _ := sched["cronTab"].(string)
	if len(strings.Fields(cron)) != 5 {
		return fmt.Errorf("schedule.cronTab %q must have five fields (minute hour day month weekday)", cron)
	}
	// The time zone is not checked against a zone database: the fake must
	// not depend on the host having one.
	if _, ok := sched["timezone"].(string); !ok && sched["timezone"] != nil {
		return fmt.Errorf("schedule.timezone must be a string such as \"UTC\" or \"Europe/Prague\"")
	}
	if st, _ := sched["state"].(string); st != "" && st != "enabled" && st != "disabled" {
		return fmt.Errorf("schedule.state must be enabled or disabled, got %q", st)
	}
	comp, _ := target["componentId"].(string)
	cfgID, _ := target["configurationId"].(string)
	for _, c := range s.state.configs[comp] {
		if c.id == cfgID && !c.isDeleted {
			return nil
		}
	}
	return fmt.Errorf("target configuration %s of component %s not found", cfgID, comp)
}

func (s *Stack) handleActivateSchedule(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := readBody(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	cfgID, _ := strField(body, "configurationId")
	if cfgID == "" {
		badRequest(w, fmt.Errorf("configurationId is required"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.scheduleConfig(cfgID)
	if cfg == nil {
		writeError(w, storageErrors, http.StatusNotFound, "storage.components.configurations.notFound",
			fmt.Sprintf("Configuration %s of component %s not found", cfgID, schedulerComponent))
		return
	}
	if err := s.validateScheduleConfig(cfg.configuration); err != nil {
		badRequest(w, err)
		return
	}
	sc := s.state.schedules[cfgID]
	if sc == nil {
		sc = &schedule{id: strconv.Itoa(s.state.nextID()), configID: cfgID}
		s.state.schedules[cfgID] = sc
	}
	sc.creator, sc.version = c.tok, cfg.version
	writeJSON(w, http.StatusCreated, s.scheduleJSON(sc))
}

func (s *Stack) handleSchedules(w http.ResponseWriter, r *http.Request, _ *caller) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, id := range sortedKeys(s.state.schedules) {
		j := s.scheduleJSON(s.state.schedules[id])
		target := j["target"].(map[string]any)
		if q.Get("componentId") != "" && target["componentId"] != q.Get("componentId") {
			continue
		}
		if q.Get("configurationId") != "" && target["configurationId"] != q.Get("configurationId") {
			continue
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Stack) handleSchedule(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.state.schedules {
		if sc.id == r.PathValue("id") {
			writeJSON(w, http.StatusOK, s.scheduleJSON(sc))
			return
		}
	}
	writeError(w, storageErrors, http.StatusNotFound, "scheduler.notFound", fmt.Sprintf("Schedule %s not found", r.PathValue("id")))
}

func (s *Stack) handleDeleteSchedule(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.state.schedules[r.PathValue("config")]; !ok {
		writeError(w, storageErrors, http.StatusNotFound, "scheduler.notFound", fmt.Sprintf("No schedule for configuration %s", r.PathValue("config")))
		return
	}
	delete(s.state.schedules, r.PathValue("config"))
	w.WriteHeader(http.StatusNoContent)
}
