package keboola

import (
	"context"
	"net/url"
)

// Component ids of flows and of their schedules. A flow is a configuration of
// one of the two flow components; a schedule is a configuration of the
// scheduler component whose target names the flow, activated in the
// Scheduler service.
const (
	// LegacyFlowComponentID runs phases in dependsOn order ("flows" in the UI).
	LegacyFlowComponentID = "keboola.orchestrator"
	// ConditionalFlowComponentID runs phases along conditional transitions.
	ConditionalFlowComponentID = "keboola.flow"
	// SchedulerComponentID holds schedule configurations.
	SchedulerComponentID = "keboola.scheduler"
)

// FeatureHideConditionalFlows is the project feature that turns conditional
// flows off; projects without it may use keboola.flow.
const FeatureHideConditionalFlows = "hide-conditional-flows"

// Schedule is an activated schedule as the Scheduler service reports it.
type Schedule struct {
	// ID is the Scheduler's own id; ConfigurationID is the keboola.scheduler
	// configuration that defines the schedule, the id used everywhere else.
	ID                     FlexString          `json:"id"`
	ConfigurationID        FlexString          `json:"configurationId"`
	ConfigurationVersionID FlexString          `json:"configurationVersionId"`
	Schedule               ScheduleSpec        `json:"schedule"`
	Target                 ScheduleTarget      `json:"target"`
	Executions             []ScheduleExecution `json:"executions"`
}

// ScheduleSpec is when a schedule fires.
type ScheduleSpec struct {
	// CronTab has five fields: minute hour day-of-month month day-of-week.
	CronTab  string `json:"cronTab"`
	Timezone string `json:"timezone"`
	// State is "enabled" or "disabled".
	State string `json:"state"`
}

// ScheduleTarget is what a schedule runs.
type ScheduleTarget struct {
	ComponentID     string     `json:"componentId"`
	ConfigurationID FlexString `json:"configurationId"`
	Mode            string     `json:"mode"`
}

// ScheduleExecution is one recent run started by a schedule.
type ScheduleExecution struct {
	JobID         FlexString `json:"jobId"`
	ExecutionTime Time       `json:"executionTime"`
}

// ListSchedules returns the project's activated schedules; with both ids set,
// only those whose target is that configuration of that component.
func (c *Client) ListSchedules(ctx context.Context, targetComponentID, targetConfigID string) ([]Schedule, error) {
	q := url.Values{}
	if targetComponentID != "" || targetConfigID != "" {
		if err := checkID("component id", targetComponentID); err != nil {
			return nil, err
		}
		if err := checkID("configuration id", targetConfigID); err != nil {
			return nil, err
		}
		q.Set("componentId", targetComponentID)
		q.Set("configurationId", targetConfigID)
	}
	var out []Schedule
	err := c.doJSON(ctx, request{service: ServiceScheduler, method: "GET", path: "/schedules", query: q}, &out)
	return out, err
}

// ActivateSchedule makes the Scheduler (re)read a keboola.scheduler
// configuration: call it after creating or changing one. Activating the same
// configuration again replaces the earlier activation, so a repeat is safe.
func (c *Client) ActivateSchedule(ctx context.Context, scheduleConfigID string) (*Schedule, error) {
	if err := checkID("schedule configuration id", scheduleConfigID); err != nil {
		return nil, err
	}
	var out Schedule
	err := c.doJSON(ctx, request{service: ServiceScheduler, method: "POST", path: "/schedules",
		body: map[string]string{"configurationId": scheduleConfigID}, idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeactivateSchedule removes the Scheduler's activation of a keboola.scheduler
// configuration; the configuration itself stays until DeleteConfig.
func (c *Client) DeactivateSchedule(ctx context.Context, scheduleConfigID string) error {
	if err := checkID("schedule configuration id", scheduleConfigID); err != nil {
		return err
	}
	return c.doJSON(ctx, request{service: ServiceScheduler, method: "DELETE",
		path: "/configurations/" + url.PathEscape(scheduleConfigID)}, nil)
}
