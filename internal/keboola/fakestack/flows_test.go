package fakestack

import (
	"slices"
	"testing"
)

func TestDemo_ConditionalFlowReferencesDemoConfigurations(t *testing.T) {
	s := newTestServer(t, Options{})
	flow := api(t, s, "GET", "/v2/storage/components/keboola.flow/configs/"+demoConditionalFlowConfig, nil).object(t)
	tasks := path(t, flow, "configuration", "tasks").([]any)
	for i := range tasks {
		task := path(t, tasks, i, "task").(map[string]any)
		if task["type"] != "job" {
			continue
		}
		r := api(t, s, "GET", "/v2/storage/components/"+task["componentId"].(string)+"/configs/"+task["configId"].(string), nil)
		wantStatus(t, r, 200)
	}
	if path(t, flow, "configuration", "phases", 0, "next", 0, "goto") != "alert" {
		t.Errorf("the first phase does not branch to the alert: %v", flow["configuration"])
	}
	none := api(t, s, "GET", "/scheduler/schedules?componentId=keboola.flow&configurationId="+demoConditionalFlowConfig, nil).array(t)
	if len(none) != 0 {
		t.Errorf("the conditional flow has schedules: %v", none)
	}
}

func TestOptions_ExtraFeaturesAreReportedWithTheProject(t *testing.T) {
	s := newTestServer(t, Options{NoDemo: true, ExtraFeatures: []string{"hide-conditional-flows"}})
	features := path(t, api(t, s, "GET", "/v2/storage/tokens/verify", nil).object(t), "owner", "features").([]any)
	if !slices.Contains(features, any("hide-conditional-flows")) || !slices.Contains(features, any("global-search")) {
		t.Errorf("features = %v", features)
	}
}
