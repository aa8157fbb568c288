package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/flow"
)

// Flows are configurations of two components: keboola.orchestrator (legacy
// flows: phases ordered by dependsOn) and keboola.flow (conditional flows:
// phases joined by transitions with conditions). Schedules that run them
// are keboola.scheduler configurations activated in the Scheduler service.

var flowTypes = []string{keboola.ConditionalFlowComponentID, keboola.LegacyFlowComponentID}

var flowTools = []Tool{
	define("get_flows", "List or get flows",
		"Without flow_ids: lists the project's flows of both kinds (keboola.flow conditional flows and "+
			"keboola.orchestrator legacy flows) with their number of phases, tasks and schedules, paged with "+
			"limit/offset. With flow_ids: each flow in full: an outline of its phases, tasks and transitions, its "+
			"schedules with recent runs, and its configuration JSON to edit with modify_flow.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) { paging(s, listPage, listPageMax) }, getFlows),
	define("get_flow_schema", "Get the flow schema",
		"Returns the JSON schema of the phases and tasks of a flow type: keboola.flow (conditional flows) or "+
			"keboola.orchestrator (legacy flows). Read it before create_flow, create_conditional_flow or modify_flow "+
			"when unsure of the shape.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) { enum(s, "flow_type", flowTypes...) },
		getFlowSchema),
	define("get_flow_examples", "Get flow examples",
		"Returns complete, valid example configurations (phases and tasks) of a flow type to mirror when "+
			"building a flow: keboola.flow (conditional flows) or keboola.orchestrator (legacy flows).",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) { enum(s, "flow_type", flowTypes...) },
		getFlowExamples),
	define("create_flow", "Create a legacy flow",
		"Creates a legacy flow (keboola.orchestrator): phases run one after another as their dependsOn says, the "+
			"tasks of a phase run in parallel, each task runs one component configuration. Use it for plain "+
			"ordered pipelines when the user asks for a legacy flow or conditional flows are off in the project; "+
			"otherwise prefer create_conditional_flow. Phases and tasks are checked (ids, references, cycles, that "+
			"each task's configuration exists) before anything is written. Returns the new flow's configuration id, "+
			"version and links.",
		hints{}, createFlowTweak, createLegacyFlow),
	define("create_conditional_flow", "Create a conditional flow",
		"Creates a conditional flow (keboola.flow), the default kind of flow: one entry phase, phases joined by "+
			"transitions in next (goto a phase, or null to end), each transition optionally guarded by a condition "+
			"on earlier results; tasks run jobs, send notifications or set variables, with optional retries. The "+
			"structure is checked (one entry phase, every phase reachable, no loops, conditions reading only phases "+
			"that have run, existing configurations) before anything is written. Returns the new flow's "+
			"configuration id, version and links.",
		hints{}, createFlowTweak, createConditionalFlow),
	define("update_flow", "Update a flow",
		"Changes an existing flow of either kind: its name, description, phases or tasks. phases and tasks, when "+
			"given, replace the current lists whole (read them with get_flows first); omit them to keep them. The "+
			"result is checked like a new flow before it is written. For schedules use modify_flow. Returns the new "+
			"version and what changed.",
		hints{destructive: true}, updateFlowTweak, updateFlow),
	define("modify_flow", "Modify a flow and its schedules",
		"Like update_flow (name, description, phases, tasks of an existing flow; given lists replace the current "+
			"ones), and also adds, updates or removes the flow's schedules. Change schedules only when the user asks. "+
			"Everything is checked before the first write. Returns one line per change made, flow and schedules.",
		hints{destructive: true}, func(s *jsonschema.Schema) {
			updateFlowTweak(s)
			sched := prop(s, "schedules").Items
			if sched == nil || sched.Properties["action"] == nil {
				panic("modify_flow: schedules items have no action")
			}
			setEnum(sched.Properties["action"], "add", "update", "remove")
			setEnum(sched.Properties["state"], "enabled", "disabled")
		}, modifyFlow),
}

func setEnum(p *jsonschema.Schema, values ...string) {
	p.Enum = make([]any, len(values))
	for i, v := range values {
		p.Enum[i] = v
	}
}

func createFlowTweak(s *jsonschema.Schema) {
	minLen(s, "name", 1)
	minLen(s, "phases", 1)
}

func updateFlowTweak(s *jsonschema.Schema) {
	minLen(s, "configuration_id", 1)
	minLen(s, "change_description", 1)
	enum(s, "flow_type", flowTypes...)
}

// ---- reading ----

type getFlowsInput struct {
	FlowIDs []string `json:"flow_ids,omitempty" jsonschema:"Configuration ids of flows to show in full. Leave empty to list all flows."`
	Limit   int      `json:"limit,omitempty" jsonschema:"Maximum number of flows to list."`
	Offset  int      `json:"offset,omitempty" jsonschema:"Number of flows to skip, for paging."`
}

// flowItem is a flow with its component.
type flowItem struct {
	typ string
	cfg keboola.Config
}

// listFlows returns the flows of both components, conditional ones first.
// A stack that does not know a flow component has no flows of it.
func listFlows(ctx context.Context, c *keboola.Client) ([]flowItem, error) {
	var out []flowItem
	for _, typ := range flowTypes {
		cfgs, err := c.ListConfigs(ctx, typ)
		if errors.Is(err, keboola.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, cfg := range cfgs {
			if !cfg.IsDeleted {
				out = append(out, flowItem{typ: typ, cfg: cfg})
			}
		}
	}
	return out, nil
}

// schedulesByFlow groups the project's schedules by the flow they run; one
// request serves every flow (the Python server asked once per flow).
func schedulesByFlow(ctx context.Context, c *keboola.Client) (map[string][]keboola.Schedule, error) {
	all, err := c.ListSchedules(ctx, "", "")
	if err != nil {
		return nil, err
	}
	out := map[string][]keboola.Schedule{}
	for _, s := range all {
		k := s.Target.ComponentID + "/" + s.Target.ConfigurationID.String()
		out[k] = append(out[k], s)
	}
	return out, nil
}

// flowBody is the part of a flow configuration the tools read.
type flowBody struct {
	Phases []map[string]any `json:"phases"`
	Tasks  []map[string]any `json:"tasks"`
}

func parseFlowBody(raw keboola.RawObject) flowBody {
	var b flowBody
	if len(raw) > 0 {
		// A configuration the UI saved in another shape reads as empty
		// rather than failing the whole listing.
		_ = json.Unmarshal(raw, &b)
	}
	return b
}

func flowKind(typ string) string {
	if typ == keboola.ConditionalFlowComponentID {
		return "conditional"
	}
	return "legacy"
}

func getFlows(ctx context.Context, c call, in getFlowsInput) (string, error) {
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	flows, err := listFlows(ctx, c.client)
	if err != nil {
		return "", err
	}
	// The flows are worth showing even when the Scheduler cannot be read
	// (an outage, a token without access to it); the answer says so.
	scheds, err := schedulesByFlow(ctx, c.client)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, keboola.ErrInvalidToken) {
			return "", err
		}
		scheds = nil
	}
	schedNote := ""
	if scheds == nil {
		schedNote = "The schedules could not be read (" + flowErrorText(err) + ").\n"
	}
	if len(in.FlowIDs) > 0 {
		text, err := flowDetails(u, flows, scheds, in.FlowIDs)
		return text + schedNote, err
	}
	footer := links("Conditional flows", u.FlowsOf(keboola.ConditionalFlowComponentID),
		"Legacy flows", u.FlowsOf(keboola.LegacyFlowComponentID), "Flows documentation", keboola.FlowsDocsURL)
	if len(flows) == 0 {
		return "The project has no flows yet; create_conditional_flow creates one.\n" + footer, nil
	}
	rows := make([][]string, 0, len(flows))
	for _, f := range flows {
		b := parseFlowBody(f.cfg.Configuration)
		disabled := ""
		if f.cfg.IsDisabled {
			disabled = "yes"
		}
		id := f.cfg.ID.String()
		nScheds := "?"
		if scheds != nil {
			nScheds = fmt.Sprint(len(scheds[f.typ+"/"+id]))
		}
		rows = append(rows, []string{id, f.typ, f.cfg.Name, shorten(f.cfg.Description, 100),
			fmt.Sprint(len(b.Phases)), fmt.Sprint(len(b.Tasks)), nScheds, disabled, u.FlowOf(f.typ, id)})
	}
	lo, hi, note := window(len(rows), in.Offset, defaultInt(in.Limit, listPage))
	var out strings.Builder
	out.WriteString(counted(len(rows), "flow") + ".\n")
	if hi > lo {
		out.WriteString(csvTable([]string{"configuration_id", "flow_type", "name", "description", "phases", "tasks", "schedules", "disabled", "link"}, rows[lo:hi]))
	}
	if note != "" {
		out.WriteString(note + "\n")
	}
	out.WriteString(schedNote + footer)
	return out.String(), nil
}

func flowDetails(u keboola.Links, flows []flowItem, scheds map[string][]keboola.Schedule, ids []string) (string, error) {
	return describeEach(ids, "flow(s)", "get_flows without flow_ids lists the flows.", func(id string) (string, bool, error) {
		i := slices.IndexFunc(flows, func(f flowItem) bool { return f.cfg.ID.String() == strings.TrimSpace(id) })
		if i < 0 {
			return "", false, nil
		}
		f := flows[i]
		var out strings.Builder
		writeFlowDetail(&out, u, f, scheds != nil, scheds[f.typ+"/"+f.cfg.ID.String()])
		return out.String(), true, nil
	})
}

func writeFlowDetail(out *strings.Builder, u keboola.Links, f flowItem, schedsKnown bool, scheds []keboola.Schedule) {
	id := f.cfg.ID.String()
	var fl fields
	fl.add("Flow", id)
	fl.add("Name", f.cfg.Name)
	fl.add("Type", f.typ+" ("+flowKind(f.typ)+")")
	fl.add("Description", f.cfg.Description)
	fl.add("Version", fmt.Sprint(f.cfg.Version))
	if f.cfg.IsDisabled {
		fl.add("Disabled", "yes")
	}
	fl.add("Last change", f.cfg.ChangeDescription)
	out.WriteString(fl.String())
	b := parseFlowBody(f.cfg.Configuration)
	if f.typ == keboola.ConditionalFlowComponentID {
		writeConditionalOutline(out, b)
	} else {
		writeLegacyOutline(out, b)
	}
	switch {
	case !schedsKnown:
		out.WriteString("Schedules: unknown.\n")
	case len(scheds) == 0:
		out.WriteString("Schedules: none (modify_flow adds one).\n")
	default:
		out.WriteString("Schedules:\n")
		for _, s := range scheds {
			fmt.Fprintf(out, "- schedule %s: %q %s, %s", s.ConfigurationID, s.Schedule.CronTab, s.Schedule.Timezone, s.Schedule.State)
			if len(s.Executions) > 0 {
				// The order of executions is not documented: pick the newest.
				last := slices.MaxFunc(s.Executions, func(a, b keboola.ScheduleExecution) int {
					return a.ExecutionTime.Compare(b.ExecutionTime.Time)
				})
				fmt.Fprintf(out, "; last run %s (job %s)", day(last.ExecutionTime.Time), last.JobID)
			}
			out.WriteString("\n")
		}
	}
	if body := redactedJSON(f.cfg.Configuration); body != "" {
		out.WriteString("Configuration JSON:\n" + body + "\n")
	}
	out.WriteString(links("Flow", u.FlowOf(f.typ, id), "Schedules", u.FlowSchedules(f.typ, id)))
}

// taskSummary renders a task as name (what it runs).
func taskSummary(t map[string]any) string {
	name, _ := t["name"].(string)
	body, _ := t["task"].(map[string]any)
	what := ""
	switch typ, _ := body["type"].(string); typ {
	case "notification":
		what = "notification"
	case "variable":
		v, _ := body["name"].(string)
		what = "sets variable " + v
	default:
		comp, _ := body["componentId"].(string)
		cfg, _ := flow.ID(body["configId"])
		what = strings.TrimSpace(comp + " " + cfg)
	}
	s := fmt.Sprintf("%s (%s)", oneLine(name), what)
	if e, ok := t["enabled"].(bool); ok && !e {
		s += " [disabled]"
	}
	if c, _ := t["continueOnFailure"].(bool); c {
		s += " [continues on failure]"
	}
	return s
}

func tasksOf(b flowBody, phase string) string {
	var list []string
	for _, t := range b.Tasks {
		if p, _ := flow.ID(t["phase"]); p == phase {
			list = append(list, taskSummary(t))
		}
	}
	if len(list) == 0 {
		return "no tasks"
	}
	return strings.Join(list, ", ")
}

func writeLegacyOutline(out *strings.Builder, b flowBody) {
	if len(b.Phases) == 0 {
		out.WriteString("Phases: none.\n")
		return
	}
	out.WriteString("Phases (each starts when the phases it depends on end; its tasks run in parallel):\n")
	for _, p := range b.Phases {
		id, _ := flow.ID(p["id"])
		name, _ := p["name"].(string)
		fmt.Fprintf(out, "- %s %q", id, oneLine(name))
		if deps, _ := p["dependsOn"].([]any); len(deps) > 0 {
			ids := make([]string, 0, len(deps))
			for _, d := range deps {
				s, _ := flow.ID(d)
				ids = append(ids, s)
			}
			fmt.Fprintf(out, " after %s", strings.Join(ids, ", "))
		}
		fmt.Fprintf(out, ": %s\n", tasksOf(b, id))
	}
}

func writeConditionalOutline(out *strings.Builder, b flowBody) {
	if len(b.Phases) == 0 {
		out.WriteString("Phases: none.\n")
		return
	}
	out.WriteString("Phases (transitions are tried in order when a phase ends):\n")
	for _, p := range b.Phases {
		id, _ := flow.ID(p["id"])
		name, _ := p["name"].(string)
		fmt.Fprintf(out, "- %s %q", id, oneLine(name))
		if _, ok := p["retry"]; ok {
			out.WriteString(" [retries]")
		}
		fmt.Fprintf(out, ": %s\n", tasksOf(b, id))
		next, _ := p["next"].([]any)
		if len(next) == 0 {
			out.WriteString("  then the flow ends\n")
		}
		for _, raw := range next {
			tr, _ := raw.(map[string]any)
			target := "end"
			if g, ok := flow.ID(tr["goto"]); ok {
				target = g
			}
			if cond, ok := tr["condition"]; ok && cond != nil {
				fmt.Fprintf(out, "  → %s if %s\n", target, flow.ConditionText(cond))
			} else {
				fmt.Fprintf(out, "  → %s\n", target)
			}
		}
	}
}

// ---- schema and examples ----

type flowTypeInput struct {
	FlowType string `json:"flow_type" jsonschema:"keboola.flow for conditional flows, keboola.orchestrator for legacy flows."`
}

// requireConditionalFlows refuses keboola.flow in projects that turned
// conditional flows off.
func requireConditionalFlows(ctx context.Context, c *keboola.Client, flowType string) error {
	if flowType != keboola.ConditionalFlowComponentID {
		return nil
	}
	info, err := c.VerifyToken(ctx)
	if err != nil {
		return err
	}
	if info.Owner.HasFeature(keboola.FeatureHideConditionalFlows) {
		return errorf("conditional flows (keboola.flow) are turned off in project %q; use flow_type=%s (legacy flows, create_flow) instead, or ask the project admin to turn conditional flows on.",
			info.Owner.Name, keboola.LegacyFlowComponentID)
	}
	return nil
}

func checkFlowType(t string) error {
	if !slices.Contains(flowTypes, t) {
		return errorf("flow_type must be %s or %s, not %q", keboola.ConditionalFlowComponentID, keboola.LegacyFlowComponentID, t)
	}
	return nil
}

func getFlowSchema(ctx context.Context, c call, in flowTypeInput) (string, error) {
	if err := checkFlowType(in.FlowType); err != nil {
		return "", err
	}
	if err := requireConditionalFlows(ctx, c.client, in.FlowType); err != nil {
		return "", err
	}
	return fmt.Sprintf("JSON schema of the phases and tasks of a %s flow (%s):\n```json\n%s\n```\n", flowKind(in.FlowType), in.FlowType,
		strings.TrimSpace(string(flowSchemaJSON(in.FlowType)))), nil
}

func getFlowExamples(ctx context.Context, c call, in flowTypeInput) (string, error) {
	if err := checkFlowType(in.FlowType); err != nil {
		return "", err
	}
	if err := requireConditionalFlows(ctx, c.client, in.FlowType); err != nil {
		return "", err
	}
	examples, err := flowExamples(in.FlowType)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	fmt.Fprintf(&out, "Example %s flows (%s). Replace the component and configuration ids with ones from get_configs.\n", flowKind(in.FlowType), in.FlowType)
	for i, ex := range examples {
		fmt.Fprintf(&out, "\n%d. %s\n```json\n%s\n```\n", i+1, ex.Title, ex.Configuration)
	}
	return out.String(), nil
}

// ---- writing ----

type createFlowInput struct {
	pythonFolder
	Name        string           `json:"name" jsonschema:"A short name for the flow."`
	Description string           `json:"description,omitempty" jsonschema:"What the flow does and why."`
	Phases      []map[string]any `json:"phases" jsonschema:"The phases, as get_flow_schema describes them."`
	Tasks       []map[string]any `json:"tasks" jsonschema:"The tasks; each belongs to a phase by its phase id."`
}

func createLegacyFlow(ctx context.Context, c call, in createFlowInput) (string, error) {
	return createFlow(ctx, c, keboola.LegacyFlowComponentID, in)
}

func createConditionalFlow(ctx context.Context, c call, in createFlowInput) (string, error) {
	return createFlow(ctx, c, keboola.ConditionalFlowComponentID, in)
}

func createFlow(ctx context.Context, c call, flowType string, in createFlowInput) (string, error) {
	if strings.TrimSpace(in.Name) == "" {
		return "", errorf("name must not be empty")
	}
	if len(in.Phases) == 0 {
		return "", errorf("phases must hold at least one phase")
	}
	if err := requireConditionalFlows(ctx, c.client, flowType); err != nil {
		return "", err
	}
	spec, err := flow.Build(flowType, in.Phases, in.Tasks)
	if err != nil {
		return "", flowProblems(err)
	}
	if err := checkFlowJobs(ctx, c.client, flowType, "", spec.Jobs); err != nil {
		return "", err
	}
	body, err := flowConfigurationJSON(ctx, c.client, flowType, "", spec.Configuration)
	if err != nil {
		return "", err
	}
	cfg, err := createMarkedConfig(ctx, c, flowType, in.Name, in.Description, body)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Created %s flow %q: configuration %s of %s, version %d, %s and %s.\n",
		flowKind(flowType), cfg.Name, cfg.id, flowType, cfg.Version, counted(len(in.Phases), "phase"), counted(len(in.Tasks), "task")) +
		cfg.note + in.applyToNew(ctx, c.client, flowType, cfg.id) + links("Flow", cfg.links.FlowOf(flowType, cfg.id), "Flows", cfg.links.FlowsOf(flowType), "Flows documentation", keboola.FlowsDocsURL), nil
}

// flowConfigurationJSON encodes a configuration, encrypting secret values
// (keys starting with #, e.g. in a job task's inline configData) first.
func flowConfigurationJSON(ctx context.Context, c *keboola.Client, flowType, configID string, conf map[string]any) (json.RawMessage, error) {
	body, err := json.Marshal(conf)
	if err != nil {
		return nil, fmt.Errorf("encoding the flow configuration: %w", err)
	}
	if !flowHasSecrets(conf) {
		return body, nil
	}
	return c.EncryptSecrets(ctx, flowType, configID, body)
}

func flowHasSecrets(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if strings.HasPrefix(k, "#") || flowHasSecrets(val) {
				return true
			}
		}
	case []any:
		for _, val := range x {
			if flowHasSecrets(val) {
				return true
			}
		}
	}
	return false
}

// flowProblems turns a flow's problems into an answer that also says where
// the expected shape is described.
func flowProblems(err error) error {
	var invalid *flow.InvalidError
	if errors.As(err, &invalid) {
		return errorf("%v\nget_flow_schema and get_flow_examples (flow_type=%s) show the expected shape.", invalid, invalid.FlowType)
	}
	return err
}

// flowLookups bounds the configuration lookups in flight for one check.
const flowLookups = 4

// checkFlowJobs makes sure every enabled job task runs a configuration that
// exists, and that a flow does not run itself. Each distinct configuration
// is looked up once.
func checkFlowJobs(ctx context.Context, c *keboola.Client, flowType, selfID string, jobs []flow.JobRef) error {
	var iss flow.Issues
	type key struct{ comp, cfg string }
	tasksOf := map[key][]string{}
	var keys []key
	for _, j := range jobs {
		if !j.Enabled {
			continue
		}
		if j.ComponentID == flowType && j.ConfigID == selfID && selfID != "" {
			iss.Addf("task %s runs this flow itself", j.Task)
			continue
		}
		k := key{j.ComponentID, j.ConfigID}
		if _, ok := tasksOf[k]; !ok {
			keys = append(keys, k)
		}
		tasksOf[k] = append(tasksOf[k], j.Task)
	}
	errs := make([]error, len(keys))
	sem := make(chan struct{}, flowLookups)
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, errs[i] = c.GetConfig(ctx, k.comp, k.cfg)
		}()
	}
	wg.Wait()
	for i, k := range keys {
		switch err := errs[i]; {
		case errors.Is(err, keboola.ErrNotFound):
			iss.Addf("task %s runs configuration %s of %s, which does not exist (get_configs lists the configurations)",
				strings.Join(tasksOf[k], ", "), k.cfg, k.comp)
		case err != nil:
			return err
		}
	}
	return flowProblems(iss.Err(flowType))
}

type updateFlowInput struct {
	ConfigurationID   string           `json:"configuration_id" jsonschema:"The flow's configuration id (get_flows lists them)."`
	FlowType          string           `json:"flow_type,omitempty" jsonschema:"The flow's component: keboola.flow or keboola.orchestrator. Found from the id when omitted; it cannot be changed."`
	ChangeDescription string           `json:"change_description" jsonschema:"What changed and why, for the flow's version history."`
	Name              string           `json:"name,omitempty" jsonschema:"A new name; omit to keep the current one."`
	Description       string           `json:"description,omitempty" jsonschema:"A new description; omit to keep the current one."`
	Phases            []map[string]any `json:"phases,omitempty" jsonschema:"The new full list of phases; omit to keep the current phases."`
	Tasks             []map[string]any `json:"tasks,omitempty" jsonschema:"The new full list of tasks; omit to keep the current tasks."`
	IsDisabled        *bool            `json:"is_disabled,omitempty" jsonschema:"true disables the flow (it and its schedules stop running), false enables it; omit to keep it as it is."`
	pythonFolder
}

// modifyFlowInput is update_flow's input and the schedule changes.
type modifyFlowInput struct {
	updateFlowInput
	Schedules []flowScheduleRequest `json:"schedules,omitempty" jsonschema:"Schedule changes, applied after the flow change: add (cron_tab, optional timezone and state), update (schedule_id and the fields to change) or remove (schedule_id)."`
}

func updateFlow(ctx context.Context, c call, in updateFlowInput) (string, error) {
	// Checked here, not in modifyFlow, whose message names schedules,
	// which update_flow does not take.
	if in.Name == "" && in.Description == "" && in.Phases == nil && in.Tasks == nil && in.IsDisabled == nil && in.Folder == nil {
		return "", errorf("nothing to change: give name, description, phases, tasks, is_disabled or folder (modify_flow changes schedules)")
	}
	return modifyFlow(ctx, c, modifyFlowInput{updateFlowInput: in})
}

// resolveFlow finds a flow by id, in the given flow component or, when none
// is given, in either.
func resolveFlow(ctx context.Context, c *keboola.Client, id, flowType string) (string, *keboola.Config, error) {
	if flowType != "" {
		if err := checkFlowType(flowType); err != nil {
			return "", nil, err
		}
	}
	for _, typ := range flowTypes {
		cfg, err := c.GetConfig(ctx, typ, id)
		if errors.Is(err, keboola.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		if flowType != "" && typ != flowType {
			return "", nil, errorf("flow %s is a %s flow (%s), not %s; a flow's type cannot change: call again with flow_type=%s",
				id, flowKind(typ), typ, flowType, typ)
		}
		return typ, cfg, nil
	}
	return "", nil, errorf("flow %s not found; get_flows lists the flows", id)
}

func modifyFlow(ctx context.Context, c call, in modifyFlowInput) (string, error) {
	id := strings.TrimSpace(in.ConfigurationID)
	if id == "" {
		return "", errorf("configuration_id must name the flow to change")
	}
	if strings.TrimSpace(in.ChangeDescription) == "" {
		return "", errorf("change_description must say what changes")
	}
	changesFlow := in.Name != "" || in.Description != "" || in.Phases != nil || in.Tasks != nil || in.IsDisabled != nil
	if !changesFlow && len(in.Schedules) == 0 && !in.changesFolder() {
		return "", errorf("nothing to change: give name, description, phases, tasks, is_disabled, folder or schedules")
	}
	scheduleOps, err := parseScheduleRequests(in.Schedules)
	if err != nil {
		return "", err
	}
	typ, cur, err := resolveFlow(ctx, c.client, id, in.FlowType)
	if err != nil {
		return "", err
	}
	if err := requireConditionalFlows(ctx, c.client, typ); err != nil {
		return "", err
	}

	// Check everything before the first write.
	upd := keboola.ConfigUpdate{ChangeDescription: in.ChangeDescription, IsDisabled: in.IsDisabled}
	if in.Name != "" {
		upd.Name = &in.Name
	}
	if in.Description != "" {
		upd.Description = &in.Description
	}
	var summary []string
	if in.Phases != nil || in.Tasks != nil {
		conf := map[string]any{}
		if len(cur.Configuration) > 0 {
			if err := json.Unmarshal(cur.Configuration, &conf); err != nil || conf == nil {
				conf = map[string]any{}
			}
		}
		b := parseFlowBody(cur.Configuration)
		phases, tasks := b.Phases, b.Tasks
		if in.Phases != nil {
			phases = in.Phases
			summary = append(summary, counted(len(phases), "phase"))
		}
		if in.Tasks != nil {
			tasks = in.Tasks
			summary = append(summary, counted(len(tasks), "task"))
		}
		spec, err := flow.Build(typ, phases, tasks)
		if err != nil {
			return "", flowProblems(err)
		}
		if err := checkFlowJobs(ctx, c.client, typ, id, spec.Jobs); err != nil {
			return "", err
		}
		// Keys other than phases and tasks are the UI's; keep them.
		conf["phases"], conf["tasks"] = spec.Configuration["phases"], spec.Configuration["tasks"]
		if upd.Configuration, err = flowConfigurationJSON(ctx, c.client, typ, id, conf); err != nil {
			return "", err
		}
	}
	plan, err := planSchedules(ctx, c.client, typ, id, scheduleOps, in.Name != "" && in.Name != cur.Name)
	if err != nil {
		return "", err
	}

	var out strings.Builder
	name := cur.Name
	if changesFlow {
		cfg, err := c.client.UpdateConfig(ctx, typ, id, upd)
		if err != nil {
			return "", err
		}
		name = cfg.Name
		if in.Name != "" {
			summary = append([]string{"name"}, summary...)
		}
		if in.Description != "" {
			summary = append(summary, "description")
		}
		if in.IsDisabled != nil {
			summary = append(summary, map[bool]string{true: "disabled", false: "enabled"}[*in.IsDisabled])
		}
		fmt.Fprintf(&out, "Updated %s flow %q (%s %s) to version %d: %s.\n", flowKind(typ), name, typ, id, cfg.Version, strings.Join(summary, ", "))
		out.WriteString(markWrittenByMCP(ctx, c.client, typ, id, cfg.Version))
	}
	done, err := applySchedules(ctx, c.client, typ, id, name, plan)
	for _, d := range done {
		out.WriteString(d + "\n")
	}
	if err != nil {
		if out.Len() > 0 {
			// The model must learn what was already done, whatever failed.
			return "", errorf("%sthen a schedule change failed (the changes above were made): %s", out.String(), flowErrorText(err))
		}
		return "", err
	}
	if out.Len() > 0 {
		out.WriteString(in.apply(ctx, c.client, typ, id))
	} else {
		filed, err := in.applyAlone(ctx, c.client, typ, id)
		if err != nil {
			return "", err
		}
		out.WriteString(filed)
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	out.WriteString(links("Flow", u.FlowOf(typ, id), "Schedules", u.FlowSchedules(typ, id)))
	return out.String(), nil
}

// flowErrorText is the text of an error as the model should read it.
func flowErrorText(err error) string {
	var ue *userError
	if errors.As(err, &ue) {
		return ue.msg
	}
	return err.Error()
}
