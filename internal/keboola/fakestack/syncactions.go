package fakestack

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Sync Actions API (service "sync-actions", under /sync-actions, Storage
// token header only): POST /actions {componentId, action, configData,
// branchId?}. The fake knows the MySQL extractor's testConnection and
// getTables, answered from the CRM demo tables.

type syncAction func(configData map[string]any) (any, error)

func (s *Stack) syncActions() map[string]map[string]syncAction {
	return map[string]map[string]syncAction{
		"keboola.ex-db-mysql": {
			"testConnection": func(cd map[string]any) (any, error) {
				if err := mysqlCredentials(cd); err != nil {
					return nil, err
				}
				return map[string]any{"status": "success"}, nil
			},
			"getTables": func(cd map[string]any) (any, error) {
				if err := mysqlCredentials(cd); err != nil {
					return nil, err
				}
				var out []any
				for _, ts := range demoTables {
					if ts.bucket != "in.c-crm" {
						continue
					}
					cols := make([]any, len(ts.cols))
					for i, c := range ts.cols {
						cols[i] = map[string]any{"name": c.name, "type": strings.ToLower(engineType(c.typ)), "primaryKey": len(ts.pk) > 0 && ts.pk[0] == c.name}
					}
					out = append(out, map[string]any{"name": ts.name, "schema": "crm", "columns": cols})
				}
				return out, nil
			},
		},
	}
}

// mysqlCredentials checks the connection part of a MySQL configuration.
func mysqlCredentials(cd map[string]any) error {
	params, _ := cd["parameters"].(map[string]any)
	db, _ := params["db"].(map[string]any)
	var missing []string
	for _, k := range []string{"host", "user", "#password", "database"} {
		if v, _ := db[k].(string); v == "" {
			missing = append(missing, "parameters.db."+k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("connection failed: missing %s", strings.Join(missing, ", "))
	}
	return nil
}

func (s *Stack) syncActionRoutes(mux *http.ServeMux) {
	mux.Handle("POST /sync-actions/actions", s.withAuth(headerOnly, queueErrors, s.handleSyncAction))
}

func (s *Stack) handleSyncAction(w http.ResponseWriter, r *http.Request, _ *caller) {
	body, err := readBody(r)
	if err != nil {
		queueFail(w, http.StatusBadRequest, err.Error())
		return
	}
	comp, _ := strField(body, "componentId")
	action, _ := strField(body, "action")
	cd, _, err := objectField(body, "configData")
	if err != nil || comp == "" || action == "" {
		queueFail(w, http.StatusBadRequest, "componentId, action and a configData object are required")
		return
	}
	s.mu.Lock()
	_, known := s.state.components[comp]
	s.mu.Unlock()
	if !known {
		queueFail(w, http.StatusNotFound, fmt.Sprintf("Component %s not found", comp))
		return
	}
	actions := s.syncActions()[comp]
	fn, ok := actions[action]
	if !ok {
		names := make([]string, 0, len(actions))
		for n := range actions {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(names) == 0 {
			names = []string{"none for this component"}
		}
		queueFail(w, http.StatusBadRequest, fmt.Sprintf("Action %q is not defined for component %s (the fake stack knows: %s)", action, comp, strings.Join(names, ", ")))
		return
	}
	out, err := fn(cd)
	if err != nil {
		queueFail(w, http.StatusBadRequest, "User error: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, out)
}
