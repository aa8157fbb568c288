package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/flow"
)

// Schedules of a flow. A schedule is a keboola.scheduler configuration
// ({schedule{cronTab, timezone, state}, target{componentId, configurationId,
// mode}}) that the Scheduler service runs once activated. Every request is
// checked, and the schedules it names looked up, before the first write.

type flowScheduleRequest struct {
	Action     string `json:"action" jsonschema:"add, update or remove."`
	ScheduleID string `json:"schedule_id,omitempty" jsonschema:"For update and remove: the schedule's id, as get_flows shows it."`
	CronTab    string `json:"cron_tab,omitempty" jsonschema:"Five cron fields: minute hour day-of-month month day-of-week, e.g. '0 6 * * 1-5' (06:00 on weekdays). Required for add."`
	Timezone   string `json:"timezone,omitempty" jsonschema:"IANA time zone of cron_tab, e.g. Europe/Prague; UTC when a schedule is added without one."`
	State      string `json:"state,omitempty" jsonschema:"enabled or disabled; a new schedule is enabled unless told otherwise."`
	// The Python server's published schema spells two fields in camelCase.
	ScheduleIDCamel string `json:"scheduleId,omitempty" jsonschema:"Another spelling of schedule_id (the Python server's)."`
	CronTabCamel    string `json:"cronTab,omitempty" jsonschema:"Another spelling of cron_tab (the Python server's)."`
}

// scheduleOp is a checked schedule request.
type scheduleOp struct {
	action, id              string
	cron, timezone, state   string
	hasCron, hasTZ, hasStat bool
}

func parseScheduleRequests(reqs []flowScheduleRequest) ([]scheduleOp, error) {
	var iss flow.Issues
	ops := make([]scheduleOp, 0, len(reqs))
	seen := map[string]bool{}
	for i, r := range reqs {
		where := fmt.Sprintf("schedules[%d] (%s)", i, r.Action)
		op := scheduleOp{action: r.Action, id: strings.TrimSpace(cmp.Or(r.ScheduleID, r.ScheduleIDCamel)),
			cron: strings.Join(strings.Fields(cmp.Or(r.CronTab, r.CronTabCamel)), " "), timezone: strings.TrimSpace(r.Timezone), state: r.State}
		op.hasCron, op.hasTZ, op.hasStat = op.cron != "", op.timezone != "", op.state != ""
		switch r.Action {
		case "add":
			if op.id != "" {
				iss.Addf("%s: schedule_id is given by Keboola for a new schedule; leave it out", where)
			}
			if !op.hasCron {
				iss.Addf("%s: cron_tab is required", where)
			}
		case "update", "remove":
			if op.id == "" {
				iss.Addf("%s: schedule_id is required (get_flows shows the flow's schedules)", where)
			} else if seen[op.id] {
				iss.Addf("%s: schedule %s is changed twice in one call", where, op.id)
			}
			seen[op.id] = true
			if r.Action == "update" && !op.hasCron && !op.hasTZ && !op.hasStat {
				iss.Addf("%s: give cron_tab, timezone or state to change", where)
			}
			if r.Action == "remove" && (op.hasCron || op.hasTZ || op.hasStat) {
				iss.Addf("%s: remove takes only schedule_id", where)
			}
		default:
			iss.Addf("schedules[%d]: action must be add, update or remove, not %q", i, r.Action)
		}
		if op.hasCron {
			if err := checkCron(op.cron); err != nil {
				iss.Addf("%s: %v", where, err)
			}
		}
		if op.hasTZ && !validTimezone(op.timezone) {
			iss.Addf("%s: %q is not a time zone; use an IANA name such as UTC, Europe/Prague or America/New_York", where, op.timezone)
		}
		if op.hasStat && op.state != "enabled" && op.state != "disabled" {
			iss.Addf("%s: state must be enabled or disabled", where)
		}
		ops = append(ops, op)
	}
	if problems := iss.List(); len(problems) > 0 {
		return nil, errorf("the schedule changes are not valid, nothing was written:\n- %s", strings.Join(problems, "\n- "))
	}
	return ops, nil
}

// cronFields are the ranges of the five cron fields.
var cronFields = []struct {
	name   string
	lo, hi int
}{{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 7}}

// checkCron accepts standard five-field cron: *, numbers, lists (1,15),
// ranges (1-5) and steps (*/15, 0-30/10); L for the last day of the month.
func checkCron(expr string) error {
	parts := strings.Fields(expr)
	if len(parts) != len(cronFields) {
		return fmt.Errorf("cron_tab %q has %d fields, want 5: minute hour day-of-month month day-of-week (e.g. '30 2 * * *' runs daily at 02:30)", expr, len(parts))
	}
	for i, part := range parts {
		f := cronFields[i]
		for _, item := range strings.Split(part, ",") {
			if i == 2 && item == "L" {
				continue
			}
			if err := checkCronItem(item, f.lo, f.hi); err != nil {
				return fmt.Errorf("cron_tab %q: %s field %q: %v (allowed %d-%d, *, lists, ranges and /steps)", expr, f.name, part, err, f.lo, f.hi)
			}
		}
	}
	return nil
}

func checkCronItem(item string, lo, hi int) error {
	rng, step, hasStep := strings.Cut(item, "/")
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n < 1 || n > hi {
			return fmt.Errorf("step %q is not a number from 1 to %d", step, hi)
		}
	}
	if rng == "*" {
		return nil
	}
	a, b, isRange := strings.Cut(rng, "-")
	from, err := cronNumber(a, lo, hi)
	if err != nil {
		return err
	}
	if !isRange {
		return nil
	}
	to, err := cronNumber(b, lo, hi)
	if err != nil {
		return err
	}
	if to < from {
		return fmt.Errorf("range %s goes backwards", rng)
	}
	return nil
}

func cronNumber(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not a number from %d to %d", s, lo, hi)
	}
	return n, nil
}

// validTimezone checks a zone name against the zone database when the host
// has one; without one (a minimal container, the wasm build) only the shape
// of the name is checked and the Scheduler has the last word.
func validTimezone(tz string) bool {
	if strings.ContainsAny(tz, " \t\\") || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
		return false
	}
	if _, err := time.LoadLocation(tz); err == nil {
		return true
	}
	_, dbErr := time.LoadLocation("Europe/Prague")
	return dbErr != nil
}

// schedulePlan is a checked list of schedule changes with the current
// configurations of the schedules it updates.
type schedulePlan struct {
	ops     []scheduleOp
	current map[string]*keboola.Config
}

// planSchedules makes sure every schedule an op names belongs to the flow,
// and reads the configurations the updates will change. A renamed flow also
// relabels every schedule it keeps (see scheduleLabels).
func planSchedules(ctx context.Context, c *keboola.Client, flowType, flowID string, ops []scheduleOp, flowRenamed bool) (*schedulePlan, error) {
	plan := &schedulePlan{ops: ops, current: map[string]*keboola.Config{}}
	needsLookup := flowRenamed
	for _, op := range ops {
		needsLookup = needsLookup || op.action != "add"
	}
	if !needsLookup {
		return plan, nil
	}
	existing, err := c.ListSchedules(ctx, flowType, flowID)
	if err != nil {
		return nil, err
	}
	own := map[string]bool{}
	var ids []string
	for _, s := range existing {
		own[s.ConfigurationID.String()] = true
		ids = append(ids, s.ConfigurationID.String())
	}
	if flowRenamed {
		named := map[string]bool{}
		for _, op := range ops {
			named[op.id] = true
		}
		for _, id := range ids {
			if !named[id] {
				// An update that changes no timing only relabels.
				plan.ops = append(plan.ops, scheduleOp{action: "update", id: id})
			}
		}
	}
	for _, op := range plan.ops {
		if op.action == "add" {
			continue
		}
		if !own[op.id] {
			list := "it has none"
			if len(ids) > 0 {
				list = "its schedules are " + strings.Join(ids, ", ")
			}
			return nil, errorf("schedule %s is not a schedule of flow %s (%s); nothing was written", op.id, flowID, list)
		}
		if op.action == "update" {
			cfg, err := c.GetConfig(ctx, keboola.SchedulerComponentID, op.id)
			if err != nil {
				return nil, err
			}
			plan.current[op.id] = cfg
		}
	}
	return plan, nil
}

// scheduleBody is a keboola.scheduler configuration.
type scheduleBody struct {
	Schedule map[string]any `json:"schedule"`
	Target   map[string]any `json:"target"`
}

// applySchedules carries out a plan: removals, then updates, then
// additions. It returns a line per change made, also when a later one fails;
// an update with nothing to change makes none.
func applySchedules(ctx context.Context, c *keboola.Client, flowType, flowID, flowName string, plan *schedulePlan) ([]string, error) {
	var done []string
	for _, pass := range []string{"remove", "update", "add"} {
		for _, op := range plan.ops {
			if op.action != pass {
				continue
			}
			var line string
			var err error
			switch pass {
			case "remove":
				line, err = removeSchedule(ctx, c, op.id)
			case "update":
				line, err = updateSchedule(ctx, c, flowID, flowName, plan.current[op.id], op)
			default:
				line, err = addSchedule(ctx, c, flowType, flowID, flowName, op)
			}
			if err != nil {
				return done, err
			}
			if line != "" {
				done = append(done, line)
			}
		}
	}
	return done, nil
}

func removeSchedule(ctx context.Context, c *keboola.Client, id string) (string, error) {
	// A schedule whose activation is already gone still has its
	// configuration to delete.
	if err := c.DeactivateSchedule(ctx, id); err != nil && !errors.Is(err, keboola.ErrNotFound) {
		return "", err
	}
	if err := c.DeleteConfig(ctx, keboola.SchedulerComponentID, id); err != nil && !errors.Is(err, keboola.ErrNotFound) {
		return "", err
	}
	return "Removed schedule " + id + ".", nil
}

func updateSchedule(ctx context.Context, c *keboola.Client, flowID, flowName string, cur *keboola.Config, op scheduleOp) (string, error) {
	conf := map[string]any{}
	if len(cur.Configuration) > 0 {
		if err := json.Unmarshal(cur.Configuration, &conf); err != nil {
			return "", fmt.Errorf("schedule %s has a configuration that is not JSON: %w", op.id, err)
		}
	}
	sched, _ := conf["schedule"].(map[string]any)
	if sched == nil {
		sched = map[string]any{}
	}
	if op.hasCron {
		sched["cronTab"] = op.cron
	}
	if op.hasTZ {
		sched["timezone"] = op.timezone
	}
	if op.hasStat {
		sched["state"] = op.state
	}
	conf["schedule"] = sched
	body, err := json.Marshal(conf)
	if err != nil {
		return "", err
	}
	upd := keboola.ConfigUpdate{Configuration: body, ChangeDescription: "Schedule changed by the Keboola MCP server"}
	str := func(k string) string { v, _ := sched[k].(string); return v }
	name, desc := scheduleLabels(flowID, flowName, str("cronTab"), str("timezone"), str("state"))
	// Labels someone wrote by hand are theirs; only ours follow the change.
	if strings.HasPrefix(cur.Name, scheduleNamePrefix) && cur.Name != name {
		upd.Name = &name
	}
	if isScheduleDescription(cur.Description) && cur.Description != desc {
		upd.Description = &desc
	}
	retimed := op.hasCron || op.hasTZ || op.hasStat
	if !retimed && upd.Name == nil && upd.Description == nil {
		return "", nil
	}
	if !retimed {
		upd.Configuration = nil
	}
	cfg, err := c.UpdateConfig(ctx, keboola.SchedulerComponentID, op.id, upd)
	if err != nil {
		return "", err
	}
	mark := markWrittenByMCP(ctx, c, keboola.SchedulerComponentID, op.id, cfg.Version)
	if !retimed {
		return strings.TrimSpace(fmt.Sprintf("Renamed schedule %s to %q. %s", op.id, cfg.Name, mark)), nil
	}
	s, err := c.ActivateSchedule(ctx, op.id)
	if err != nil {
		return "", err
	}
	// A failed mark is told on the same line: the caller lists one line per change.
	return strings.TrimSpace("Updated schedule " + op.id + ": " + scheduleText(s.Schedule) + ". " + mark), nil
}

// scheduleNamePrefix starts the name this server gives a schedule.
const scheduleNamePrefix = "Schedule of "

// scheduleLabels names and describes a schedule after its flow and timing.
// The Keboola UI and search show these labels, so they follow every change
// of the flow's name or the schedule's timing (issue 13: a stale "Runs flow
// ... at 0 6 * * 1-5" after the cron changed misled users and search).
func scheduleLabels(flowID, flowName, cron, tz, state string) (name, description string) {
	description = "Runs flow " + flowID + " at " + cron + " " + tz + "."
	if state == "disabled" {
		description = "Paused; when enabled, runs flow " + flowID + " at " + cron + " " + tz + "."
	}
	return scheduleNamePrefix + flowName, description
}

func isScheduleDescription(d string) bool {
	return strings.HasPrefix(d, "Runs flow ") || strings.HasPrefix(d, "Paused; when enabled, runs flow ")
}

func addSchedule(ctx context.Context, c *keboola.Client, flowType, flowID, flowName string, op scheduleOp) (string, error) {
	tz, state := op.timezone, op.state
	if tz == "" {
		tz = "UTC"
	}
	if state == "" {
		state = "enabled"
	}
	body, err := json.Marshal(scheduleBody{
		Schedule: map[string]any{"cronTab": op.cron, "timezone": tz, "state": state},
		Target:   map[string]any{"componentId": flowType, "configurationId": flowID, "mode": "run"},
	})
	if err != nil {
		return "", err
	}
	name, desc := scheduleLabels(flowID, flowName, op.cron, tz, state)
	cfg, err := c.CreateConfig(ctx, keboola.SchedulerComponentID, keboola.ConfigInput{
		Name: name, Description: desc, Configuration: body, ChangeDescription: createdChange})
	if err != nil {
		return "", err
	}
	id := cfg.ID.String()
	s, err := c.ActivateSchedule(ctx, id)
	if err != nil {
		// A configuration the Scheduler refused would only confuse the UI.
		_ = c.DeleteConfig(context.WithoutCancel(ctx), keboola.SchedulerComponentID, id)
		return "", err
	}
	return strings.TrimSpace("Added schedule " + id + ": " + scheduleText(s.Schedule) + ". " +
		markWrittenByMCP(ctx, c, keboola.SchedulerComponentID, id, 0)), nil
}

func scheduleText(s keboola.ScheduleSpec) string {
	return fmt.Sprintf("%q %s, %s", s.CronTab, s.Timezone, s.State)
}
