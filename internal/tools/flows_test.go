package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/flow"
)

// Demo ids (see fakestack/demo_components.go and fakestack/flows.go).
const (
	demoLegacyFlow      = "7410030"
	demoConditionalFlow = "7410031"
	demoSchedule        = "7410050"
)

func TestGetFlows(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "get_flows", []expect{
		{name: "lists flows of both kinds with counts", contains: []string{"2 flows.",
			"configuration_id,flow_type,name,description,phases,tasks,schedules,disabled,link",
			demoConditionalFlow + ",keboola.flow,Inventory refresh with alerting,",
			",3,3,0,,", demoLegacyFlow + ",keboola.orchestrator,Daily revenue pipeline,", ",3,5,1,,",
			"/flows-v2/" + demoConditionalFlow, "/flows/" + demoLegacyFlow}},
		{name: "pages", args: map[string]any{"limit": 1, "offset": 1}, contains: []string{"Showing 2–2 of 2", demoLegacyFlow},
			absent: []string{demoConditionalFlow + ","}},
		{name: "legacy flow in full with its schedule", args: map[string]any{"flow_ids": []string{demoLegacyFlow}},
			contains: []string{"Type: keboola.orchestrator (legacy)", `- 2 "Transform" after 1: Revenue reports (keboola.snowflake-transformation 7410010)`,
				`- schedule ` + demoSchedule + `: "0 2 * * *" Europe/Prague, enabled; last run`, `Configuration JSON:`, `"dependsOn":["1"]`,
				"/flows/" + demoLegacyFlow + "/schedules"}},
		{name: "conditional flow outline shows transitions", args: map[string]any{"flow_ids": []string{demoConditionalFlow}},
			contains: []string{"Type: keboola.flow (conditional)", `- load "Load ERP" [retries]: ERP (keboola.ex-aws-s3 7410003)`,
				`→ alert if phase load.status NOT_EQUALS "success"`, "  → refresh\n", "E-mail (notification)", "then the flow ends",
				"Schedules: none"}},
		{name: "unknown and known ids", args: map[string]any{"flow_ids": []string{demoConditionalFlow, "999"}},
			contains: []string{"Flow: " + demoConditionalFlow, "Not found: 999"}},
		{name: "unknown id only", args: map[string]any{"flow_ids": []string{"999"}}, isError: true, contains: []string{"999", "get_flows"}},
	})
}

func TestGetFlows_ReadsEachServiceOnce(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.resetRequests()
	if _, isErr := f.call(t, "get_flows", map[string]any{"flow_ids": []string{demoLegacyFlow, demoConditionalFlow}}); isErr {
		t.Fatal("get_flows failed")
	}
	if n := f.requests("GET", "/scheduler/schedules"); n != 1 {
		t.Errorf("%d schedule listings, want one for all flows", n)
	}
	if n := f.requests("GET", "/configs"); n != 2 {
		t.Errorf("%d configuration listings, want one per flow component", n)
	}
}

func TestGetFlowSchemaAndExamples(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "get_flow_schema", []expect{
		{name: "conditional", args: map[string]any{"flow_type": "keboola.flow"}, contains: []string{"```json", `"goto"`, "ALL_TASKS_IN_PHASE"}},
		{name: "legacy", args: map[string]any{"flow_type": "keboola.orchestrator"}, contains: []string{`"dependsOn"`}, absent: []string{`"goto"`}},
		{name: "unknown type is a schema error", args: map[string]any{"flow_type": "keboola.scheduler"}, isError: true},
	})
	f.check(t, "get_flow_examples", []expect{
		{name: "conditional", args: map[string]any{"flow_type": "keboola.flow"}, contains: []string{"1. ", "3. ", `"type":"notification"`}},
		{name: "legacy", args: map[string]any{"flow_type": "keboola.orchestrator"}, contains: []string{"2. ", `"dependsOn":["sales","stock"]`}},
	})

	off := newFixture(t, fakestack.Options{NoDemo: true, ExtraFeatures: []string{keboola.FeatureHideConditionalFlows}})
	for _, tool := range []string{"get_flow_schema", "get_flow_examples"} {
		off.check(t, tool, []expect{
			{name: "conditional flows turned off", args: map[string]any{"flow_type": "keboola.flow"}, isError: true,
				contains: []string{"turned off", "keboola.orchestrator"}},
			{name: "legacy still served", args: map[string]any{"flow_type": "keboola.orchestrator"}},
		})
	}
}

// TestFlowExamples_PassSchemaAndValidator keeps the published schema, the
// examples and the validator in agreement.
func TestFlowExamples_PassSchemaAndValidator(t *testing.T) {
	t.Parallel()
	for _, typ := range flowTypes {
		var schema jsonschema.Schema
		if err := json.Unmarshal(flowSchemaJSON(typ), &schema); err != nil {
			t.Fatalf("%s schema: %v", typ, err)
		}
		resolved, err := schema.Resolve(nil)
		if err != nil {
			t.Fatalf("%s schema: %v", typ, err)
		}
		examples, err := flowExamples(typ)
		if err != nil || len(examples) < 2 {
			t.Fatalf("%s examples: %v (%d)", typ, err, len(examples))
		}
		for i, ex := range examples {
			var v any
			if err := json.Unmarshal(ex.Configuration, &v); err != nil {
				t.Fatal(err)
			}
			if err := resolved.Validate(v); err != nil {
				t.Errorf("%s example %d breaks the schema: %v", typ, i+1, err)
			}
			var body flowBody
			if err := json.Unmarshal(ex.Configuration, &body); err != nil {
				t.Fatal(err)
			}
			if _, err := flow.Build(typ, body.Phases, body.Tasks); err != nil {
				t.Errorf("%s example %d fails validation: %v", typ, i+1, err)
			}
		}
		// The schema must also catch a broken configuration.
		if err := resolved.Validate(map[string]any{"phases": "x"}); err == nil {
			t.Errorf("%s schema accepts phases that are not a list", typ)
		}
	}
}

// obj parses a JSON object for the table tests.
func obj(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}

const (
	jobMySQL = `"task":{"componentId":"keboola.ex-db-mysql","configId":"7410001"}`
	cjob     = `"task":{"type":"job","componentId":"keboola.ex-db-mysql","configId":"7410001","mode":"run"}`
)

func TestCheckCron(t *testing.T) {
	t.Parallel()
	good := []string{"0 2 * * *", "*/15 * * * *", "0 8 * * 1-5", "30 6 1,15 * *", "0 10 L * *", "0 0-23/2 * 1-12/3 0,7"}
	for _, c := range good {
		if err := checkCron(c); err != nil {
			t.Errorf("%q refused: %v", c, err)
		}
	}
	bad := map[string]string{
		"every hour":   "has 2 fields",
		"60 * * * *":   `minute field "60"`,
		"0 24 * * *":   "hour field",
		"0 0 0 * *":    "day of month field",
		"0 0 * 13 *":   "month field",
		"0 0 * * 8":    "day of week field",
		"*/0 * * * *":  "step",
		"0 5-1 * * *":  "goes backwards",
		"0 0 * * MON":  `"MON" is not a number`,
		"0 0 * * * *":  "has 6 fields",
		"0 0 1-L * * ": "day of month",
	}
	for c, want := range bad {
		if err := checkCron(c); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to mention %q", c, err, want)
		}
	}
}

// flowConfig reads a stored flow configuration back through the client.
func flowConfig(t *testing.T, f *fixture, typ, id string) (*keboola.Config, flowBody) {
	t.Helper()
	cfg, err := f.client.GetConfig(context.Background(), typ, id)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, parseFlowBody(cfg.Configuration)
}

// flowCreatedID finds the configuration id in a create answer.
func flowCreatedID(t *testing.T, text string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, "configuration ")
	id, _, _ := strings.Cut(rest, " ")
	if !ok || id == "" {
		t.Fatalf("no configuration id in %q", text)
	}
	return id
}

func TestCreateFlow_LegacyIsCheckedThenStored(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	args := map[string]any{"name": "Nightly load", "description": "Loads the CRM.",
		"phases": []any{obj(t, `{"name":"Extract"}`), obj(t, `{"name":"Publish","dependsOn":[1]}`)},
		"tasks":  []any{obj(t, `{"name":"CRM","phase":1,"task":{"componentId":"keboola.ex-db-mysql","configId":"7410001"}}`), obj(t, `{"name":"Sheet","phase":2,"task":{"componentId":"keboola.wr-google-sheets","configId":"7410020"}}`)}}
	text, isErr := f.call(t, "create_flow", args)
	if isErr {
		t.Fatal(text)
	}
	for _, w := range []string{`Created legacy flow "Nightly load"`, "of keboola.orchestrator, version 1, 2 phases and 2 tasks", "/flows/"} {
		if !strings.Contains(text, w) {
			t.Errorf("answer lacks %q:\n%s", w, text)
		}
	}
	cfg, body := flowConfig(t, f, keboola.LegacyFlowComponentID, flowCreatedID(t, text))
	if cfg.Description != "Loads the CRM." || len(body.Phases) != 2 || body.Tasks[1]["phase"] != float64(2) {
		t.Errorf("stored %s / %+v", cfg.Description, body)
	}

	f.resetRequests()
	args["tasks"] = []any{obj(t, `{"name":"Gone","phase":1,"task":{"componentId":"keboola.ex-db-mysql","configId":"404404"}}`)}
	text, isErr = f.call(t, "create_flow", args)
	if !isErr || !strings.Contains(text, "runs configuration 404404 of keboola.ex-db-mysql, which does not exist") {
		t.Errorf("missing configuration accepted: %s", text)
	}
	if n := f.requests("POST", "/configs"); n != 0 {
		t.Errorf("%d configurations created for an invalid flow", n)
	}
}

func TestCreateConditionalFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	phases := []any{obj(t, `{"id":"load","name":"Load","next":[{"goto":"done"}]}`), obj(t, `{"id":"done","name":"Done"}`)}
	text, isErr := f.call(t, "create_conditional_flow", map[string]any{"name": "With secrets", "phases": phases,
		"tasks": []any{
			obj(t, `{"id":"t1","name":"Inline","phase":"load","task":{"type":"job","componentId":"keboola.ex-http","mode":"run","configData":{"parameters":{"#token":"plain-secret"}}}}`),
			obj(t, `{"id":"t2","name":"Report","phase":"done",`+cjob+`}`),
		}})
	if isErr {
		t.Fatal(text)
	}
	if !strings.Contains(text, `Created conditional flow "With secrets"`) || !strings.Contains(text, "/flows-v2/") {
		t.Errorf("answer: %s", text)
	}
	cfg, body := flowConfig(t, f, keboola.ConditionalFlowComponentID, flowCreatedID(t, text))
	if strings.Contains(string(cfg.Configuration), "plain-secret") || !strings.Contains(string(cfg.Configuration), "KBC::") {
		t.Errorf("secret stored unencrypted: %s", cfg.Configuration)
	}
	if next := body.Phases[0]["next"].([]any); next[0].(map[string]any)["id"] != "load-next-1" {
		t.Errorf("transition id not filled in: %v", next)
	}
	got, _ := f.call(t, "get_flows", map[string]any{"flow_ids": []string{cfg.ID.String()}})
	if !strings.Contains(got, `"#token":"[REDACTED]"`) {
		t.Errorf("get_flows shows the secret: %s", got)
	}

	f.check(t, "create_conditional_flow", []expect{
		{name: "invalid structure is refused with every problem", args: map[string]any{"name": "Bad",
			"phases": []any{obj(t, `{"id":"a","name":"A"}`), obj(t, `{"id":"b","name":"B"}`)},
			"tasks":  []any{obj(t, `{"id":"t","name":"T","phase":"c",`+cjob+`}`)}},
			isError: true, contains: []string{"exactly one entry phase", "task t belongs to phase c"}},
		{name: "no phases is a schema error", args: map[string]any{"name": "Empty", "phases": []any{}, "tasks": []any{}}, isError: true},
	})

	off := newFixture(t, fakestack.Options{NoDemo: true, ExtraFeatures: []string{keboola.FeatureHideConditionalFlows}})
	off.check(t, "create_conditional_flow", []expect{{name: "turned off in the project", args: map[string]any{"name": "X", "phases": phases, "tasks": []any{}},
		isError: true, contains: []string{"turned off", "create_flow"}}})
}

func TestModifyFlow_ChangesFlowAndSchedules(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	f.check(t, "update_flow", []expect{
		{name: "rename keeps phases", args: map[string]any{"configuration_id": demoConditionalFlow, "name": "Inventory refresh", "change_description": "Shorter name"},
			contains: []string{`Updated conditional flow "Inventory refresh" (keboola.flow ` + demoConditionalFlow + `) to version 2: name.`}},
		{name: "wrong flow type", args: map[string]any{"configuration_id": demoConditionalFlow, "flow_type": "keboola.orchestrator", "name": "x", "change_description": "x"},
			isError: true, contains: []string{"is a conditional flow (keboola.flow), not keboola.orchestrator", "flow_type=keboola.flow"}},
		{name: "unknown flow", args: map[string]any{"configuration_id": "999", "name": "x", "change_description": "x"}, isError: true,
			contains: []string{"flow 999 not found"}},
		{name: "nothing to change", args: map[string]any{"configuration_id": demoLegacyFlow, "change_description": "x"}, isError: true,
			contains: []string{"nothing to change: give name, description, phases, tasks, is_disabled or folder (modify_flow changes schedules)"}},
		{name: "new tasks are checked against the kept phases", args: map[string]any{"configuration_id": demoLegacyFlow, "change_description": "x",
			"tasks": []any{obj(t, `{"id":1,"name":"T","phase":"9",`+jobMySQL+`}`)}}, isError: true, contains: []string{"task 1 belongs to phase 9", "get_flow_schema and get_flow_examples (flow_type=keboola.orchestrator)"}},
		{name: "a flow cannot run itself", args: map[string]any{"configuration_id": demoLegacyFlow, "change_description": "x",
			"tasks": []any{obj(t, `{"id":1,"name":"T","phase":"1","task":{"componentId":"keboola.orchestrator","configId":"`+demoLegacyFlow+`"}}`)}},
			isError: true, contains: []string{"task 1 runs this flow itself"}},
	})
	_, body := flowConfig(t, f, keboola.ConditionalFlowComponentID, demoConditionalFlow)
	if len(body.Phases) != 3 || len(body.Tasks) != 3 {
		t.Errorf("rename changed the structure: %+v", body)
	}

	text, isErr := f.call(t, "update_flow", map[string]any{"configuration_id": demoLegacyFlow, "change_description": "Drop the web extractor",
		"tasks": []any{obj(t, `{"id":11,"name":"CRM","phase":"1",`+jobMySQL+`}`)}})
	if isErr || !strings.Contains(text, "to version 2: 1 task.") {
		t.Fatalf("replace tasks: %s", text)
	}
	cfg, body := flowConfig(t, f, keboola.LegacyFlowComponentID, demoLegacyFlow)
	if len(body.Tasks) != 1 || len(body.Phases) != 3 || cfg.ChangeDescription != "Drop the web extractor" {
		t.Errorf("stored %q %+v", cfg.ChangeDescription, body)
	}

	// Schedules: invalid requests write nothing.
	f.resetRequests()
	f.check(t, "modify_flow", []expect{
		{name: "bad cron and unknown action", args: map[string]any{"configuration_id": demoLegacyFlow, "change_description": "x", "name": "Renamed",
			"schedules": []any{map[string]any{"action": "add", "cron_tab": "0 25 * * *"}, map[string]any{"action": "update", "schedule_id": demoSchedule}}},
			isError: true, contains: []string{"hour field", "give cron_tab, timezone or state", "nothing was written"}},
		{name: "schedule of another flow", args: map[string]any{"configuration_id": demoConditionalFlow, "change_description": "x",
			"schedules": []any{map[string]any{"action": "remove", "schedule_id": demoSchedule}}},
			isError: true, contains: []string{"schedule " + demoSchedule + " is not a schedule of flow " + demoConditionalFlow, "it has none"}},
		{name: "bad time zone", args: map[string]any{"configuration_id": demoLegacyFlow, "change_description": "x",
			"schedules": []any{map[string]any{"action": "add", "cron_tab": "0 1 * * *", "timezone": "Mars/Olympus Mons"}}},
			isError: true, contains: []string{"is not a time zone"}},
	})
	if n := f.requests("PUT", "") + f.requests("POST", "") + f.requests("DELETE", ""); n != 0 {
		t.Errorf("%d writes for refused requests", n)
	}

	text, isErr = f.call(t, "modify_flow", map[string]any{"configuration_id": demoConditionalFlow, "change_description": "Run on weekdays",
		"schedules": []any{map[string]any{"action": "add", "cron_tab": "0 6 * * 1-5", "timezone": "Europe/Prague"}}})
	if isErr || !strings.Contains(text, `Added schedule `) || !strings.Contains(text, `"0 6 * * 1-5" Europe/Prague, enabled`) {
		t.Fatalf("add schedule: %s", text)
	}
	scheds, err := f.client.ListSchedules(context.Background(), keboola.ConditionalFlowComponentID, demoConditionalFlow)
	if err != nil || len(scheds) != 1 {
		t.Fatalf("schedules %v %v", scheds, err)
	}
	newID := scheds[0].ConfigurationID.String()
	flow, err := f.client.GetConfig(context.Background(), keboola.ConditionalFlowComponentID, demoConditionalFlow)
	if err != nil {
		t.Fatal(err)
	}
	// The schedule's name and description follow its timing and its flow's
	// name: the UI and search show them (issue 13).
	labels := func(wantName, wantDesc string) {
		t.Helper()
		cfg, err := f.client.GetConfig(context.Background(), keboola.SchedulerComponentID, newID)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Name != wantName || cfg.Description != wantDesc {
			t.Errorf("schedule labelled %q / %q, want %q / %q", cfg.Name, cfg.Description, wantName, wantDesc)
		}
	}
	labels("Schedule of "+flow.Name, "Runs flow "+demoConditionalFlow+" at 0 6 * * 1-5 Europe/Prague.")

	text, isErr = f.call(t, "modify_flow", map[string]any{"configuration_id": demoConditionalFlow, "change_description": "Pause",
		"schedules": []any{map[string]any{"action": "update", "schedule_id": newID, "state": "disabled", "cron_tab": "30 7 * * *"}}})
	if isErr || !strings.Contains(text, "Updated schedule "+newID+`: "30 7 * * *" Europe/Prague, disabled.`) {
		t.Fatalf("update schedule: %s", text)
	}
	labels("Schedule of "+flow.Name, "Paused; when enabled, runs flow "+demoConditionalFlow+" at 30 7 * * * Europe/Prague.")

	text, isErr = f.call(t, "modify_flow", map[string]any{"configuration_id": demoConditionalFlow, "change_description": "Rename",
		"name": "Weekday revenue refresh"})
	if isErr || !strings.Contains(text, "Renamed schedule "+newID+` to "Schedule of Weekday revenue refresh".`) {
		t.Fatalf("rename flow: %s", text)
	}
	labels("Schedule of Weekday revenue refresh", "Paused; when enabled, runs flow "+demoConditionalFlow+" at 30 7 * * * Europe/Prague.")
	text, _ = f.call(t, "search", map[string]any{"patterns": []string{"Schedule of Weekday revenue"}})
	if !strings.Contains(text, newID) {
		t.Errorf("search does not find the schedule by its new name:\n%s", text)
	}
	text, isErr = f.call(t, "modify_flow", map[string]any{"configuration_id": demoConditionalFlow, "change_description": "Stop",
		"schedules": []any{map[string]any{"action": "remove", "schedule_id": newID}}})
	if isErr || !strings.Contains(text, "Removed schedule "+newID+".") {
		t.Fatalf("remove schedule: %s", text)
	}
	if scheds, _ := f.client.ListSchedules(context.Background(), keboola.ConditionalFlowComponentID, demoConditionalFlow); len(scheds) != 0 {
		t.Errorf("schedule still active: %v", scheds)
	}
	if _, err := f.client.GetConfig(context.Background(), keboola.SchedulerComponentID, newID); err == nil {
		t.Error("schedule configuration not deleted")
	}
}

func TestGetFlows_SchedulerDownStillListsFlows(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	if err := f.stack.InjectFault(fakestack.Fault{PathPrefix: "/scheduler/", Fail5xx: 100, Status5xx: 502}); err != nil {
		t.Fatal(err)
	}
	f.check(t, "get_flows", []expect{
		{name: "list marks schedule counts unknown", contains: []string{"2 flows.", ",3,5,?,,", "The schedules could not be read", "HTTP 502"}},
		{name: "detail says schedules are unknown", args: map[string]any{"flow_ids": []string{demoLegacyFlow}},
			contains: []string{"Flow: " + demoLegacyFlow, "Schedules: unknown.", "The schedules could not be read"}},
	})
}

func TestModifyFlow_FailedActivationIsRolledBackAndReported(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	before, err := f.client.ListConfigs(context.Background(), keboola.SchedulerComponentID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.stack.InjectFault(fakestack.Fault{PathPrefix: "/scheduler/schedules", Fail5xx: 1}); err != nil {
		t.Fatal(err)
	}
	text, isErr := f.call(t, "modify_flow", map[string]any{"configuration_id": demoLegacyFlow, "change_description": "Describe and schedule",
		"description": "Refreshes revenue every night.", "schedules": []any{map[string]any{"action": "add", "cron_tab": "0 3 * * *"}}})
	if !isErr {
		t.Fatalf("activation failure not reported: %s", text)
	}
	for _, w := range []string{`Updated legacy flow "`, "description.", "then a schedule change failed (the changes above were made)", "HTTP 500"} {
		if !strings.Contains(text, w) {
			t.Errorf("error lacks %q:\n%s", w, text)
		}
	}
	after, err := f.client.ListConfigs(context.Background(), keboola.SchedulerComponentID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("%d schedule configurations after a failed activation, want %d", len(after), len(before))
	}
}

// BenchmarkBuildConditionalFlow checks a large flow: a chain of 200 phases,
// each with 5 job tasks and a conditional transition reading the phase
// before it.
func BenchmarkBuildConditionalFlow(b *testing.B) {
	var phases, tasks []map[string]any
	for i := range 200 {
		id := fmt.Sprintf("p%d", i)
		p := map[string]any{"id": id, "name": id}
		if i < 199 {
			next := fmt.Sprintf("p%d", i+1)
			p["next"] = []any{
				map[string]any{"id": id + "-bad", "goto": nil, "condition": map[string]any{"type": "operator", "operator": "EQUALS",
					"operands": []any{map[string]any{"type": "phase", "phase": id, "value": "status"}, map[string]any{"type": "const", "value": "error"}}}},
				map[string]any{"id": id + "-ok", "goto": next},
			}
		}
		phases = append(phases, p)
		for j := range 5 {
			tasks = append(tasks, map[string]any{"id": fmt.Sprintf("%s-t%d", id, j), "name": "t", "phase": id,
				"task": map[string]any{"type": "job", "componentId": "keboola.ex-http", "configId": "1", "mode": "run"}})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := flow.Build(keboola.ConditionalFlowComponentID, phases, tasks); err != nil {
			b.Fatal(err)
		}
	}
}
