package fakestack

import (
	"net/http"
	"strings"
	"testing"
)

func TestScheduler_ActivateListAndDelete(t *testing.T) {
	s := newTestServer(t, Options{})
	demo := api(t, s, "GET", "/scheduler/schedules?componentId=keboola.orchestrator&configurationId="+demoFlowConfig, nil).array(t)
	if len(demo) != 1 || path(t, demo, 0, "schedule", "cronTab") != "0 2 * * *" || len(path(t, demo, 0, "executions").([]any)) == 0 {
		t.Fatalf("demo schedule %v", demo)
	}
	cfg := api(t, s, "POST", "/v2/storage/branch/default/components/keboola.scheduler/configs", map[string]any{"name": "hourly",
		"configuration": map[string]any{
			"schedule": map[string]any{"cronTab": "0 * * * *", "timezone": "UTC", "state": "enabled"},
			"target":   map[string]any{"componentId": "keboola.ex-http", "configurationId": demoHTTPConfig, "mode": "run"},
		}})
	wantStatus(t, cfg, http.StatusCreated)
	cfgID := cfg.object(t)["id"].(string)
	r := call(t, "POST", s.URL()+"/scheduler/schedules", tokenHeader(s.MasterToken()), map[string]any{"configurationId": cfgID})
	wantStatus(t, r, http.StatusCreated)
	sc := r.object(t)
	if path(t, sc, "target", "configurationId") != demoHTTPConfig || sc["configurationId"] != cfgID {
		t.Errorf("activated schedule %v", sc)
	}
	got := api(t, s, "GET", "/scheduler/schedules/"+sc["id"].(string), nil).object(t)
	if path(t, got, "schedule", "state") != "enabled" {
		t.Errorf("schedule detail %v", got)
	}
	if all := api(t, s, "GET", "/scheduler/schedules", nil).array(t); len(all) != 2 {
		t.Errorf("%d schedules, want the demo one and the new one", len(all))
	}
	wantStatus(t, api(t, s, "DELETE", "/scheduler/configurations/"+cfgID, nil), http.StatusNoContent)
	wantStatus(t, api(t, s, "GET", "/scheduler/schedules/"+sc["id"].(string), nil), http.StatusNotFound)

	bad := api(t, s, "POST", "/v2/storage/components/keboola.scheduler/configs", map[string]any{"name": "broken",
		"configuration": map[string]any{"schedule": map[string]any{"cronTab": "every hour"}, "target": map[string]any{}}})
	r = api(t, s, "POST", "/scheduler/schedules", map[string]any{"configurationId": bad.object(t)["id"]})
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(r.object(t)["error"].(string), "cronTab") {
		t.Errorf("error does not name the bad field: %s", r.body)
	}
	wantStatus(t, api(t, s, "POST", "/scheduler/schedules", map[string]any{"configurationId": "404"}), http.StatusNotFound)
}

func TestSyncActions_MySQLActionsAndErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	good := map[string]any{"parameters": map[string]any{"db": map[string]any{"host": "h", "user": "u", "#password": "p", "database": "crm"}}}
	r := api(t, s, "POST", "/sync-actions/actions", map[string]any{"componentId": "keboola.ex-db-mysql", "action": "testConnection", "configData": good})
	wantStatus(t, r, http.StatusOK)
	if r.object(t)["status"] != "success" {
		t.Errorf("testConnection %s", r.body)
	}
	tables := api(t, s, "POST", "/sync-actions/actions", map[string]any{"componentId": "keboola.ex-db-mysql", "action": "getTables", "configData": good}).array(t)
	if len(tables) != 2 || path(t, tables, 0, "name") != "customers" {
		t.Errorf("getTables %v", tables)
	}
	cases := []struct {
		name   string
		body   map[string]any
		status int
		want   string
	}{
		{"missing credentials", map[string]any{"componentId": "keboola.ex-db-mysql", "action": "testConnection", "configData": map[string]any{}}, 400, "parameters.db.host"},
		{"unknown action", map[string]any{"componentId": "keboola.ex-db-mysql", "action": "dance", "configData": good}, 400, "testConnection"},
		{"unknown component", map[string]any{"componentId": "keboola.nope", "action": "x", "configData": good}, 404, "not found"},
		{"no configData", map[string]any{"componentId": "keboola.ex-db-mysql", "action": "x", "configData": "[1"}, 400, "configData"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := api(t, s, "POST", "/sync-actions/actions", tc.body)
			wantStatus(t, r, tc.status)
			if msg, _ := r.object(t)["error"].(string); !strings.Contains(msg, tc.want) {
				t.Errorf("error %q lacks %q", msg, tc.want)
			}
		})
	}
	wantStatus(t, call(t, "POST", s.URL()+"/sync-actions/actions", bearer(s.MasterToken()), map[string]any{}), http.StatusUnauthorized)
}

// The Scheduler acts for a project admin: a master token or OAuth session
// of an admin or share member. A minted token and a read-only member are
// refused; tokens/verify reports the member's role.
func TestScheduler_NeedsAnAdminContext(t *testing.T) {
	for _, tc := range []struct {
		role string
		want int
	}{
		{RoleAdmin, http.StatusOK},
		{RoleShare, http.StatusOK},
		{RoleReadOnly, http.StatusForbidden},
		{RoleGuest, http.StatusForbidden},
	} {
		t.Run(tc.role, func(t *testing.T) {
			s := newTestServer(t, Options{NoDemo: true, MemberRole: tc.role})
			if role := path(t, api(t, s, "GET", "/v2/storage/tokens/verify", nil).object(t), "admin", "role"); role != tc.role {
				t.Errorf("admin.role = %v", role)
			}
			wantStatus(t, call(t, "GET", s.URL()+"/scheduler/schedules", tokenHeader(s.MasterToken()), nil), tc.want)
			bearerToken, err := s.SignIn(s.MasterToken())
			if err != nil {
				t.Fatal(err)
			}
			wantStatus(t, call(t, "GET", s.URL()+"/scheduler/schedules", bearer(bearerToken), nil), tc.want)
		})
	}
	s := newTestServer(t, Options{NoDemo: true})
	minted := s.AddToken(TokenOptions{Description: "minted", CanManageBuckets: true})
	wantStatus(t, call(t, "GET", s.URL()+"/scheduler/schedules", tokenHeader(minted), nil), http.StatusForbidden)
	// The Queue answers 401 to a bearer.
	bearerToken, _ := s.SignIn(s.MasterToken())
	wantStatus(t, call(t, "GET", s.URL()+"/queue/search/jobs", bearer(bearerToken), nil), http.StatusUnauthorized)
}
