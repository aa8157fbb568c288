// Package flow checks Keboola flow configurations, legacy (keboola.orchestrator)
// and conditional (keboola.flow), before anything is written, and reports
// every problem at once, each naming the phase, task or transition at fault,
// so a caller (a model) can fix them in one round. A configuration is
// handled as generic JSON: fields this package does not know are kept as
// they are, since the Keboola UI adds its own.
package flow

import (
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// maxIssues bounds the problems listed in one answer.
const maxIssues = 25

// Issues collects the problems found in a flow or its schedules.
type Issues struct{ list []string }

// Addf records a problem.
func (f *Issues) Addf(format string, args ...any) {
	if len(f.list) < maxIssues {
		f.list = append(f.list, fmt.Sprintf(format, args...))
	} else if len(f.list) == maxIssues {
		f.list = append(f.list, "(more problems not listed)")
	}
}

// List returns the problems recorded.
func (f *Issues) List() []string { return f.list }

// Err returns the problems as an *InvalidError about a flow of flowType, or
// nil when there are none.
func (f *Issues) Err(flowType string) error {
	if len(f.list) == 0 {
		return nil
	}
	return &InvalidError{FlowType: flowType, Problems: f.list}
}

// InvalidError is a flow configuration that cannot be stored, with every
// problem found.
type InvalidError struct {
	FlowType string
	Problems []string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("the %s flow is not valid, nothing was written:\n- %s", e.FlowType, strings.Join(e.Problems, "\n- "))
}

// JobRef is a configuration a job task runs.
type JobRef struct {
	Task, ComponentID, ConfigID string
	Enabled                     bool
}

// Spec is a checked flow configuration, ready to store.
type Spec struct {
	Configuration map[string]any
	Jobs          []JobRef
}

// ID reads an id given as a string or an integer; ok is false for
// anything else (a missing id included).
func ID(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		return s, s != ""
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) {
			return strconv.FormatInt(int64(x), 10), true
		}
	}
	return "", false
}

// flowObject returns v as a JSON object, copied so that normalising it does
// not change the caller's value.
func flowObject(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	out := make(map[string]any, len(m))
	for k, val := range m {
		out[k] = val
	}
	return out, true
}

// flowBool checks an optional boolean field and sets its default.
func flowBool(m map[string]any, key string, def bool, where string, iss *Issues) bool {
	v, present := m[key]
	if !present || v == nil {
		m[key] = def
		return def
	}
	b, ok := v.(bool)
	if !ok {
		iss.Addf("%s: %s must be true or false", where, key)
		return def
	}
	return b
}

// flowName sets a default name when none is given and checks its type.
func flowName(m map[string]any, def, where string, iss *Issues) string {
	switch v := m["name"].(type) {
	case nil:
		m["name"] = def
		return def
	case string:
		if strings.TrimSpace(v) == "" {
			m["name"] = def
			return def
		}
		return v
	}
	iss.Addf("%s: name must be a string", where)
	return def
}

// Build checks and normalises phases and tasks for a flow component.
func Build(flowType string, phases, tasks []map[string]any) (*Spec, error) {
	var iss Issues
	var spec *Spec
	if flowType == keboola.ConditionalFlowComponentID {
		spec = buildConditionalFlow(phases, tasks, &iss)
	} else {
		spec = buildLegacyFlow(phases, tasks, &iss)
	}
	if err := iss.Err(flowType); err != nil {
		return nil, err
	}
	return spec, nil
}

// ---- legacy flows (keboola.orchestrator) ----

func buildLegacyFlow(phases, tasks []map[string]any, iss *Issues) *Spec {
	spec := &Spec{}
	outPhases := make([]any, 0, len(phases))
	ids := map[string]bool{}
	for i, raw := range phases {
		if id, ok := ID(raw["id"]); ok {
			if ids[id] {
				iss.Addf("phases[%d]: phase id %s is used twice", i, id)
			}
			ids[id] = true
		}
	}
	next := 1
	deps := map[string][]string{}
	var order []string
	for i, raw := range phases {
		p, _ := flowObject(raw)
		id, ok := ID(p["id"])
		if !ok {
			if p["id"] != nil && p["id"] != "" {
				iss.Addf("phases[%d]: id must be a string or an integer", i)
			}
			for ids[strconv.Itoa(next)] {
				next++
			}
			id = strconv.Itoa(next)
			ids[id] = true
			p["id"] = next
		}
		where := "phase " + id
		flowName(p, "Phase "+id, where, iss)
		if v, ok := p["depends_on"]; ok && p["dependsOn"] == nil {
			p["dependsOn"] = v
			delete(p, "depends_on")
		}
		var list []string
		switch d := p["dependsOn"].(type) {
		case nil:
			p["dependsOn"] = []any{}
		case []any:
			for _, v := range d {
				dep, ok := ID(v)
				switch {
				case !ok:
					iss.Addf("%s: dependsOn holds %v, which is not a phase id", where, v)
				case dep == id:
					iss.Addf("%s depends on itself", where)
				case !ids[dep]:
					iss.Addf("%s depends on phase %s, which does not exist", where, dep)
				default:
					list = append(list, dep)
				}
			}
		default:
			iss.Addf("%s: dependsOn must be a list of phase ids", where)
		}
		deps[id] = list
		order = append(order, id)
		outPhases = append(outPhases, p)
	}
	if cycle := flowCycle(order, deps); cycle != nil {
		iss.Addf("phases depend on each other in a circle: %s", strings.Join(cycle, " → "))
	}

	outTasks := make([]any, 0, len(tasks))
	taskIDs := map[string]bool{}
	for _, raw := range tasks {
		if id, ok := ID(raw["id"]); ok {
			taskIDs[id] = true
		}
	}
	seen := map[string]bool{}
	nextTask := 20001
	for i, raw := range tasks {
		t, _ := flowObject(raw)
		id, ok := ID(t["id"])
		if !ok {
			for taskIDs[strconv.Itoa(nextTask)] {
				nextTask++
			}
			id = strconv.Itoa(nextTask)
			taskIDs[id] = true
			t["id"] = nextTask
		}
		where := "task " + id
		if seen[id] {
			iss.Addf("tasks[%d]: task id %s is used twice", i, id)
		}
		seen[id] = true
		flowName(t, "Task "+id, where, iss)
		if ph, ok := ID(t["phase"]); !ok {
			iss.Addf("%s: phase must name the id of the phase the task belongs to", where)
		} else if !ids[ph] {
			iss.Addf("%s belongs to phase %s, which does not exist", where, ph)
		}
		enabled := flowBool(t, "enabled", true, where, iss)
		flowBool(t, "continueOnFailure", false, where, iss)
		job, ok := flowObject(t["task"])
		if !ok {
			iss.Addf("%s: task must be an object with componentId, configId and mode", where)
		} else {
			if ref, ok := checkJob(job, where, false, iss); ok {
				ref.Task, ref.Enabled = id, enabled
				spec.Jobs = append(spec.Jobs, ref)
			}
			t["task"] = job
		}
		outTasks = append(outTasks, t)
	}
	spec.Configuration = map[string]any{"phases": outPhases, "tasks": outTasks}
	return spec
}

// checkJob checks the part of a task that runs a configuration. strictMode
// requires mode "run" (the only mode keboola.flow accepts).
func checkJob(job map[string]any, where string, strictMode bool, iss *Issues) (JobRef, bool) {
	comp, _ := job["componentId"].(string)
	if strings.TrimSpace(comp) == "" {
		iss.Addf("%s: task.componentId must name the component to run, e.g. keboola.ex-db-mysql", where)
	}
	cfg, hasCfg := ID(job["configId"])
	if hasCfg {
		job["configId"] = cfg // Keboola stores configuration ids as strings
	} else if _, inline := job["configData"].(map[string]any); !inline {
		iss.Addf("%s: task.configId must name the configuration to run (get_configs lists them)", where)
	}
	switch m := job["mode"].(type) {
	case nil:
		job["mode"] = "run"
	case string:
		if strictMode && m != "run" {
			iss.Addf("%s: task.mode must be \"run\", not %q", where, m)
		}
	default:
		iss.Addf("%s: task.mode must be \"run\"", where)
	}
	return JobRef{ComponentID: comp, ConfigID: cfg}, comp != "" && hasCfg
}

// flowCycle returns a cycle in a graph given as node → successors (as a
// path that starts and ends on the same node), or nil when there is none.
// Nodes are visited in order, so the answer is the same on every run.
func flowCycle(order []string, edges map[string][]string) []string {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(n string) []string
	visit = func(n string) []string {
		state[n] = active
		stack = append(stack, n)
		for _, m := range edges[n] {
			switch state[m] {
			case active:
				i := slices.Index(stack, m)
				return append(slices.Clone(stack[i:]), m)
			case unseen:
				if c := visit(m); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return nil
	}
	for _, n := range order {
		if state[n] == unseen {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

// ---- conditional flows (keboola.flow) ----

// flowRefs are the phases and tasks a condition reads.
type flowRefs struct{ phases, tasks []string }

func buildConditionalFlow(phases, tasks []map[string]any, iss *Issues) *Spec {
	spec := &Spec{}
	if len(phases) == 0 {
		iss.Addf("a conditional flow needs at least one phase")
	}
	phaseIDs := map[string]bool{}
	var order []string
	for i, raw := range phases {
		id, ok := ID(raw["id"])
		switch {
		case !ok:
			iss.Addf("phases[%d]: id is required (a string such as \"extract\"); transitions refer to phases by it", i)
		case phaseIDs[id]:
			iss.Addf("phases[%d]: phase id %s is used twice", i, id)
		default:
			phaseIDs[id] = true
			order = append(order, id)
		}
	}

	// Tasks first: conditions may refer to them.
	taskPhase := map[string]string{}
	taskIDs := map[string]bool{}
	for _, raw := range tasks {
		if id, ok := ID(raw["id"]); ok {
			taskIDs[id] = true
		}
	}
	outTasks := make([]any, 0, len(tasks))
	n := 1
	for i, raw := range tasks {
		t, _ := flowObject(raw)
		id, ok := ID(t["id"])
		if !ok {
			for taskIDs["task-"+strconv.Itoa(n)] {
				n++
			}
			id = "task-" + strconv.Itoa(n)
			taskIDs[id] = true
		}
		t["id"] = id
		where := "task " + id
		if _, dup := taskPhase[id]; dup {
			iss.Addf("tasks[%d]: task id %s is used twice", i, id)
		}
		flowName(t, "Task "+id, where, iss)
		ph, ok := ID(t["phase"])
		switch {
		case !ok:
			iss.Addf("%s: phase must name the id of the phase the task belongs to", where)
		case !phaseIDs[ph]:
			iss.Addf("%s belongs to phase %s, which does not exist", where, ph)
		default:
			t["phase"] = ph
		}
		taskPhase[id] = ph
		enabled := flowBool(t, "enabled", true, where, iss)
		if _, present := t["continueOnFailure"]; present {
			flowBool(t, "continueOnFailure", false, where, iss)
		}
		body, ok := flowObject(t["task"])
		if !ok {
			iss.Addf("%s: task must be an object whose type is job, notification or variable", where)
			outTasks = append(outTasks, t)
			continue
		}
		if ref, ok := checkConditionalTask(body, where, phaseIDs, taskIDs, iss); ok {
			ref.Task, ref.Enabled = id, enabled
			spec.Jobs = append(spec.Jobs, ref)
		}
		t["task"] = body
		outTasks = append(outTasks, t)
	}

	// Phases and their transitions.
	succ := map[string][]string{}
	pred := map[string][]string{}
	condRefs := map[string]flowRefs{} // phase id → what its conditions read
	transitionIDs := map[string]bool{}
	outPhases := make([]any, 0, len(phases))
	for i, raw := range phases {
		p, _ := flowObject(raw)
		id, _ := ID(p["id"])
		if id == "" {
			id = fmt.Sprintf("#%d", i)
		} else {
			p["id"] = id
		}
		where := "phase " + id
		flowName(p, "Phase "+id, where, iss)
		if r, present := p["retry"]; present {
			checkRetry(r, where+": retry", iss)
		}
		next, present := p["next"]
		var list []any
		if present && next != nil {
			var ok bool
			if list, ok = next.([]any); !ok {
				iss.Addf("%s: next must be a list of transitions", where)
			}
		}
		var refs flowRefs
		outNext := make([]any, 0, len(list))
		for j, rawTr := range list {
			tr, ok := flowObject(rawTr)
			if !ok {
				iss.Addf("%s: next[%d] must be an object with goto and an optional condition", where, j)
				continue
			}
			trID, ok := ID(tr["id"])
			if !ok {
				k := j + 1
				for transitionIDs[id+"-next-"+strconv.Itoa(k)] {
					k++
				}
				trID = id + "-next-" + strconv.Itoa(k)
			}
			if transitionIDs[trID] {
				iss.Addf("%s: transition id %s is used twice", where, trID)
			}
			transitionIDs[trID] = true
			tr["id"] = trID
			twhere := fmt.Sprintf("%s, transition %s", where, trID)
			goto_, hasGoto := tr["goto"]
			switch {
			case !hasGoto:
				iss.Addf("%s: goto is required: a phase id, or null to end the flow", twhere)
			case goto_ == nil:
			default:
				target, ok := ID(goto_)
				switch {
				case !ok:
					iss.Addf("%s: goto must be a phase id or null", twhere)
				case !phaseIDs[target]:
					iss.Addf("%s goes to phase %s, which does not exist", twhere, target)
				default:
					tr["goto"] = target
					if !slices.Contains(succ[id], target) {
						succ[id] = append(succ[id], target)
						pred[target] = append(pred[target], id)
					}
				}
			}
			if cond, has := tr["condition"]; has && cond != nil {
				if op, _ := cond.(map[string]any); op == nil || op["type"] != "operator" {
					iss.Addf("%s: condition must be an operator condition ({\"type\":\"operator\",\"operator\":…,\"operands\":[…]})", twhere)
				} else {
					c := condChecker{where: twhere + ": condition", phases: phaseIDs, tasks: taskIDs, iss: iss, refs: &refs}
					c.check(cond, 0, condAny)
				}
				if j == len(list)-1 {
					iss.Addf("%s: the last transition must have no condition, so the flow knows where to go when no condition holds (goto null ends the flow)", twhere)
				}
			} else if j < len(list)-1 {
				iss.Addf("%s has no condition, so the transitions after it can never be taken: put it last", twhere)
			}
			outNext = append(outNext, tr)
		}
		condRefs[id] = refs
		// An empty list or a lone unconditional "end" is what no transitions
		// means; the Keboola designer draws ending phases only without one.
		if len(outNext) == 0 || (len(outNext) == 1 && outNext[0].(map[string]any)["goto"] == nil && outNext[0].(map[string]any)["condition"] == nil) {
			delete(p, "next")
		} else {
			p["next"] = outNext
		}
		outPhases = append(outPhases, p)
	}

	if len(order) > 0 {
		var entries []string
		for _, id := range order {
			if len(pred[id]) == 0 {
				entries = append(entries, id)
			}
		}
		cycle := flowCycle(order, succ)
		switch {
		case cycle != nil:
			iss.Addf("transitions go round in a circle: %s; a conditional flow must not loop", strings.Join(cycle, " → "))
		case len(entries) != 1:
			// Without loops, a single entry phase also means that every
			// phase can be reached from it.
			iss.Addf("a conditional flow has exactly one entry phase (one no transition leads to) from which every phase can be reached; these have none leading to them: %s", strings.Join(entries, ", "))
		}
		if cycle == nil {
			checkConditionOrder(order, pred, condRefs, taskPhase, iss)
		}
	}
	spec.Configuration = map[string]any{"phases": outPhases, "tasks": outTasks}
	return spec
}

// checkConditionOrder reports conditions that read a phase or task which
// cannot have run when the transition is evaluated: only the phase itself
// and the phases before it on some path have results.
func checkConditionOrder(order []string, pred map[string][]string, condRefs map[string]flowRefs, taskPhase map[string]string, iss *Issues) {
	for _, id := range order {
		refs := condRefs[id]
		if len(refs.phases)+len(refs.tasks) == 0 {
			continue
		}
		before := flowReach(id, pred)
		for _, ph := range refs.phases {
			if !before[ph] {
				iss.Addf("phase %s: a condition reads phase %s, which has not run when phase %s ends", id, ph, id)
			}
		}
		for _, t := range refs.tasks {
			if ph := taskPhase[t]; ph != "" && !before[ph] {
				iss.Addf("phase %s: a condition reads task %s (phase %s), which has not run when phase %s ends", id, t, ph, id)
			}
		}
	}
}

// flowReach returns the nodes reachable from start, start included.
func flowReach(start string, edges map[string][]string) map[string]bool {
	seen := map[string]bool{start: true}
	todo := []string{start}
	for len(todo) > 0 {
		n := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for _, m := range edges[n] {
			if !seen[m] {
				seen[m] = true
				todo = append(todo, m)
			}
		}
	}
	return seen
}

func checkConditionalTask(body map[string]any, where string, phases, tasks map[string]bool, iss *Issues) (JobRef, bool) {
	typ, _ := body["type"].(string)
	if typ == "" && body["componentId"] != nil {
		typ = "job"
		body["type"] = typ
	}
	switch typ {
	case "job":
		ref, ok := checkJob(body, where, true, iss)
		if d, present := body["delay"]; present {
			if !flowDelay(d) {
				iss.Addf("%s: task.delay must be a number of seconds (0 or more)", where)
			}
		}
		if r, present := body["retry"]; present {
			checkRetry(r, where+": task.retry", iss)
		}
		return ref, ok
	case "notification":
		if t, _ := body["title"].(string); strings.TrimSpace(t) == "" {
			iss.Addf("%s: a notification needs a title", where)
		}
		if m, present := body["message"]; present {
			if _, ok := m.(string); !ok {
				iss.Addf("%s: task.message must be text", where)
			}
		}
		checkNotificationTargets(body, where, iss)
	case "variable":
		if n, _ := body["name"].(string); strings.TrimSpace(n) == "" {
			iss.Addf("%s: a variable task needs a name", where)
		}
		_, hasValue := body["value"]
		src, hasSource := body["source"]
		switch {
		case hasValue == hasSource:
			iss.Addf("%s: a variable task needs either value (text) or source (a condition object), not both or neither", where)
		case hasValue:
			if _, ok := body["value"].(string); !ok {
				iss.Addf("%s: task.value must be text", where)
			}
		default:
			c := condChecker{where: where + ": task.source", phases: phases, tasks: tasks, iss: iss, refs: &flowRefs{}}
			c.check(src, 0, condSource)
		}
	default:
		iss.Addf("%s: task.type must be job, notification or variable, not %q", where, typ)
	}
	return JobRef{}, false
}

// checkNotificationTargets accepts the channel form
// {"channel":{"type":"email","recipients":[…]}} and the older list form
// {"recipients":[{"channel":"email","address":…}]} that existing flows hold.
func checkNotificationTargets(body map[string]any, where string, iss *Issues) {
	if ch, ok := body["channel"].(map[string]any); ok {
		typ, _ := ch["type"].(string)
		list, _ := ch["recipients"].([]any)
		if typ != "email" && typ != "webhook" {
			iss.Addf("%s: channel.type must be email or webhook", where)
			return
		}
		if len(list) == 0 {
			iss.Addf("%s: channel.recipients must list at least one %s", where, recipientKind(typ))
		}
		for _, r := range list {
			s, _ := r.(string)
			checkRecipient(typ, s, where, iss)
		}
		return
	}
	list, ok := body["recipients"].([]any)
	if !ok || len(list) == 0 {
		iss.Addf("%s: a notification needs channel {type: email|webhook, recipients: [...]}", where)
		return
	}
	for _, r := range list {
		m, _ := r.(map[string]any)
		typ, _ := m["channel"].(string)
		addr, _ := m["address"].(string)
		if typ != "email" && typ != "webhook" {
			iss.Addf("%s: each recipient needs channel email or webhook", where)
			continue
		}
		checkRecipient(typ, addr, where, iss)
	}
}

func recipientKind(typ string) string {
	if typ == "webhook" {
		return "https URL"
	}
	return "e-mail address"
}

func checkRecipient(typ, s, where string, iss *Issues) {
	if typ == "webhook" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			iss.Addf("%s: webhook recipient %q is not an http(s) URL", where, s)
		}
		return
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
		iss.Addf("%s: %q is not an e-mail address", where, s)
	}
}

func flowDelay(v any) bool {
	switch d := v.(type) {
	case float64:
		return d >= 0
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(d), 64)
		return err == nil && f >= 0
	}
	return false
}

func checkRetry(v any, where string, iss *Issues) {
	r, ok := v.(map[string]any)
	if !ok {
		iss.Addf("%s must be an object", where)
		return
	}
	if s, present := r["strategy"]; present && s != "linear" {
		iss.Addf("%s: strategy must be \"linear\"", where)
	}
	if p, present := r["strategyParams"]; present {
		params, ok := p.(map[string]any)
		if !ok {
			iss.Addf("%s: strategyParams must be an object", where)
		}
		for _, k := range []string{"maxRetries", "delay"} {
			if x, present := params[k]; present {
				if n, ok := x.(float64); !ok || n < 0 || n != math.Trunc(n) {
					iss.Addf("%s: strategyParams.%s must be a whole number, 0 or more", where, k)
				}
			}
		}
	}
	if on, present := r["retryOn"]; present {
		list, ok := on.([]any)
		if !ok {
			iss.Addf("%s: retryOn must be a list", where)
		}
		for _, item := range list {
			m, _ := item.(map[string]any)
			typ, _ := m["type"].(string)
			val, _ := m["value"].(string)
			if (typ != "errorMessageContains" && typ != "errorMessageExact") || val == "" {
				iss.Addf("%s: each retryOn item needs type errorMessageContains or errorMessageExact and a value", where)
			}
		}
	}
}

// Condition kinds allowed in a position.
const (
	condAny    = iota // inside operators and transitions
	condSource        // a variable task's source: no variables or operators, arrays allowed
)

var (
	condBinary = []string{"EQUALS", "NOT_EQUALS", "GREATER_THAN", "LESS_THAN", "INCLUDES", "CONTAINS"}
	condLogic  = []string{"AND", "OR"}
	condPhase  = []string{"ALL_TASKS_IN_PHASE", "ANY_TASKS_IN_PHASE"}
	// condPhaseValues and condTaskValues are the properties a condition can read.
	condPhaseValues = []string{"status", "phaseId"}
	condTaskValues  = []string{"status", "taskId", "phaseId", "job.id", "job.componentId", "job.configId", "job.status",
		"job.result", "job.startTime", "job.endTime", "job.duration", "job.result.output.tables", "job.result.message"}
)

// condMaxDepth bounds nesting; real conditions are a few levels deep.
const condMaxDepth = 16

type condChecker struct {
	where         string
	phases, tasks map[string]bool
	iss           *Issues
	refs          *flowRefs
	// inPhaseOp allows task "*" (every task of the phase).
	inPhaseOp bool
}

func (c *condChecker) check(v any, depth, kind int) {
	if depth > condMaxDepth {
		c.iss.Addf("%s is nested too deeply", c.where)
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		c.iss.Addf("%s: every condition is an object with a type", c.where)
		return
	}
	typ, _ := m["type"].(string)
	switch typ {
	case "const", "constant":
		switch m["value"].(type) {
		case string, float64, bool, []any:
		default:
			c.iss.Addf("%s: a constant needs a value (text, number, true/false or a list)", c.where)
		}
	case "phase":
		ph, ok := ID(m["phase"])
		switch {
		case !ok:
			c.iss.Addf("%s: a phase condition needs phase (a phase id)", c.where)
		case !c.phases[ph]:
			c.iss.Addf("%s reads phase %s, which does not exist", c.where, ph)
		default:
			c.refs.phases = append(c.refs.phases, ph)
		}
		c.value(m, condPhaseValues, "phase")
	case "task":
		t, ok := ID(m["task"])
		switch {
		case !ok:
			c.iss.Addf("%s: a task condition needs task (a task id)", c.where)
		case t == "*":
			if !c.inPhaseOp {
				c.iss.Addf("%s: task \"*\" is allowed only inside ALL_TASKS_IN_PHASE or ANY_TASKS_IN_PHASE", c.where)
			}
		case !c.tasks[t]:
			c.iss.Addf("%s reads task %s, which does not exist", c.where, t)
		default:
			c.refs.tasks = append(c.refs.tasks, t)
		}
		c.value(m, condTaskValues, "task")
	case "variable":
		if kind == condSource {
			c.iss.Addf("%s: a variable source cannot be another variable", c.where)
		}
		if s, _ := m["value"].(string); strings.TrimSpace(s) == "" {
			c.iss.Addf("%s: a variable condition needs value (the variable's name)", c.where)
		}
	case "operator":
		if kind == condSource {
			c.iss.Addf("%s: a variable source cannot be an operator", c.where)
			return
		}
		op, _ := m["operator"].(string)
		operands := c.operands(m)
		switch {
		case slices.Contains(condBinary, op):
			if len(operands) != 2 {
				c.iss.Addf("%s: %s compares exactly two operands, got %d", c.where, op, len(operands))
			}
		case slices.Contains(condLogic, op):
			if len(operands) == 0 {
				c.iss.Addf("%s: %s needs at least one operand", c.where, op)
			}
		case slices.Contains(condPhase, op):
			ph, ok := ID(m["phase"])
			switch {
			case !ok:
				c.iss.Addf("%s: %s needs phase (a phase id)", c.where, op)
			case !c.phases[ph]:
				c.iss.Addf("%s: %s reads phase %s, which does not exist", c.where, op, ph)
			default:
				c.refs.phases = append(c.refs.phases, ph)
			}
			if len(operands) == 0 {
				c.iss.Addf("%s: %s needs at least one operand", c.where, op)
			}
			inner := *c
			inner.inPhaseOp = true
			for _, o := range operands {
				inner.check(o, depth+1, condAny)
			}
			return
		default:
			c.iss.Addf("%s: operator must be one of %s, not %q", c.where,
				strings.Join(slices.Concat(condLogic, condBinary, condPhase), ", "), op)
		}
		for _, o := range operands {
			c.check(o, depth+1, condAny)
		}
	case "function":
		if f, _ := m["function"].(string); f != "COUNT" && f != "DATE" {
			c.iss.Addf("%s: function must be COUNT or DATE", c.where)
		}
		for _, o := range c.operands(m) {
			c.check(o, depth+1, condAny)
		}
	case "array":
		if kind != condSource {
			c.iss.Addf("%s: an array condition is allowed only as a variable source", c.where)
		}
		for _, o := range c.operands(m) {
			c.check(o, depth+1, condAny)
		}
	default:
		c.iss.Addf("%s: condition type must be one of const, phase, task, variable, operator, function, array; not %q", c.where, typ)
	}
}

func (c *condChecker) operands(m map[string]any) []any {
	list, ok := m["operands"].([]any)
	if !ok {
		c.iss.Addf("%s: operands must be a list of conditions", c.where)
	}
	return list
}

func (c *condChecker) value(m map[string]any, allowed []string, what string) {
	if v, _ := m["value"].(string); !slices.Contains(allowed, v) {
		c.iss.Addf("%s: a %s condition reads value, one of %s; got %v", c.where, what, strings.Join(allowed, ", "), m["value"])
	}
}
