package flow

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// obj parses a JSON object for the table tests.
func obj(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}

func objs(t *testing.T, items ...string) []map[string]any {
	out := make([]map[string]any, len(items))
	for i, s := range items {
		out[i] = obj(t, s)
	}
	return out
}

const (
	jobMySQL = `"task":{"componentId":"keboola.ex-db-mysql","configId":"7410001"}`
	cjob     = `"task":{"type":"job","componentId":"keboola.ex-db-mysql","configId":"7410001","mode":"run"}`
)

func TestBuildLegacyFlow_ReportsEveryProblem(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		phases []string
		tasks  []string
		want   []string
	}{
		{"task in a missing phase", []string{`{"id":1,"name":"A"}`}, []string{`{"id":1,"name":"t","phase":2,` + jobMySQL + `}`},
			[]string{"task 1 belongs to phase 2, which does not exist"}},
		{"dependency on a missing phase", []string{`{"id":1,"name":"A","dependsOn":[7]}`}, nil,
			[]string{"phase 1 depends on phase 7, which does not exist"}},
		{"self dependency", []string{`{"id":1,"name":"A","dependsOn":[1]}`}, nil, []string{"phase 1 depends on itself"}},
		{"cycle", []string{`{"id":1,"name":"A","dependsOn":[3]}`, `{"id":2,"name":"B","dependsOn":[1]}`, `{"id":3,"name":"C","dependsOn":[2]}`}, nil,
			[]string{"in a circle: 1 → 3 → 2 → 1"}},
		{"duplicate ids", []string{`{"id":1,"name":"A"}`, `{"id":"1","name":"B"}`},
			[]string{`{"id":5,"phase":1,` + jobMySQL + `}`, `{"id":5,"phase":1,` + jobMySQL + `}`},
			[]string{"phase id 1 is used twice", "task id 5 is used twice"}},
		{"task without what to run", []string{`{"id":1,"name":"A"}`}, []string{`{"id":1,"phase":1,"task":{"mode":"run"}}`, `{"id":2,"phase":1}`},
			[]string{"task 1: task.componentId", "task 1: task.configId", "task 2: task must be an object"}},
		{"bad flags", []string{`{"id":1,"name":"A","dependsOn":"2"}`}, []string{`{"id":1,"phase":1,"enabled":"yes",` + jobMySQL + `}`},
			[]string{"phase 1: dependsOn must be a list", "task 1: enabled must be true or false"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(keboola.LegacyFlowComponentID, objs(t, tc.phases...), objs(t, tc.tasks...))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range append(tc.want, "nothing was written") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestBuildLegacyFlow_FillsIdsAndDefaults(t *testing.T) {
	t.Parallel()
	spec, err := Build(keboola.LegacyFlowComponentID,
		objs(t, `{"name":"Extract"}`, `{"id":1,"name":"Load","depends_on":[2]}`),
		objs(t, `{"phase":2,"task":{"componentId":"keboola.ex-db-mysql","configId":7410001}}`, `{"phase":1,`+jobMySQL+`}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(spec.Configuration)
	want := `{"phases":[{"dependsOn":[],"id":2,"name":"Extract"},{"dependsOn":[2],"id":1,"name":"Load"}],` +
		`"tasks":[{"continueOnFailure":false,"enabled":true,"id":20001,"name":"Task 20001","phase":2,"task":{"componentId":"keboola.ex-db-mysql","configId":"7410001","mode":"run"}},` +
		`{"continueOnFailure":false,"enabled":true,"id":20002,"name":"Task 20002","phase":1,"task":{"componentId":"keboola.ex-db-mysql","configId":"7410001","mode":"run"}}]}`
	if string(got) != want {
		t.Errorf("configuration\n got %s\nwant %s", got, want)
	}
	if len(spec.Jobs) != 2 || spec.Jobs[0].ConfigID != "7410001" || !spec.Jobs[0].Enabled {
		t.Errorf("jobs = %+v", spec.Jobs)
	}
}

func TestBuildConditionalFlow_ReportsEveryProblem(t *testing.T) {
	t.Parallel()
	const a, b = `{"id":"a","name":"A","next":[{"id":"n","goto":"b"}]}`, `{"id":"b","name":"B"}`
	cond := func(c string) string { return `{"id":"x","goto":"b","condition":` + c + `}` }
	eq := func(l string) string {
		return `{"type":"operator","operator":"EQUALS","operands":[` + l + `,{"type":"const","value":"success"}]}`
	}
	cases := []struct {
		name   string
		phases []string
		tasks  []string
		want   []string
	}{
		{"no phases", nil, nil, []string{"at least one phase"}},
		{"phase without id", []string{`{"name":"A"}`}, nil, []string{"phases[0]: id is required"}},
		{"two entry phases", []string{`{"id":"a","name":"A"}`, b}, nil, []string{"exactly one entry phase", "a, b"}},
		{"loop", []string{`{"id":"s","name":"S","next":[{"goto":"a"}]}`, `{"id":"a","name":"A","next":[{"goto":"b"}]}`, `{"id":"b","name":"B","next":[{"goto":"a"}]}`}, nil,
			[]string{"in a circle: a → b → a"}},
		{"unreachable phase", []string{a, b, `{"id":"c","name":"C","next":[{"goto":"b"}]}`}, nil, []string{"exactly one entry phase"}},
		{"goto a missing phase", []string{`{"id":"a","name":"A","next":[{"id":"n","goto":"zz"}]}`}, nil,
			[]string{"phase a, transition n goes to phase zz, which does not exist"}},
		{"goto missing", []string{`{"id":"a","name":"A","next":[{"id":"n"}]}`}, nil, []string{"transition n: goto is required"}},
		{"unconditional transition not last", []string{`{"id":"a","name":"A","next":[{"id":"n","goto":"b"},` + cond(eq(`{"type":"phase","phase":"a","value":"status"}`)) + `]}`, b}, nil,
			[]string{"transition n has no condition", "transition x: the last transition must have no condition"}},
		{"condition reads a missing task and a phase not yet run",
			[]string{`{"id":"a","name":"A","next":[` + cond(`{"type":"operator","operator":"AND","operands":[`+eq(`{"type":"task","task":"nope","value":"status"}`)+`,`+eq(`{"type":"phase","phase":"b","value":"status"}`)+`]}`) + `,{"id":"d","goto":null}]}`, b},
			nil, []string{"reads task nope, which does not exist", "a condition reads phase b, which has not run when phase a ends"}},
		{"bad operators and values",
			[]string{`{"id":"a","name":"A","next":[` + cond(`{"type":"operator","operator":"EQUALS","operands":[{"type":"const","value":1}]}`) + `,` +
				`{"id":"y","goto":"b","condition":{"type":"operator","operator":"LIKE","operands":[]}},` +
				`{"id":"z","goto":"b","condition":` + eq(`{"type":"task","task":"*","value":"colour"}`) + `},{"id":"d","goto":null}]}`, b},
			nil, []string{"EQUALS compares exactly two operands, got 1", `operator must be one of`, `not "LIKE"`,
				`task "*" is allowed only inside`, "value, one of status, taskId"}},
		{"condition that is not an operator", []string{`{"id":"a","name":"A","next":[` + cond(`{"type":"const","value":true}`) + `,{"id":"d","goto":null}]}`, b}, nil,
			[]string{"condition must be an operator condition"}},
		{"bad tasks", []string{`{"id":"a","name":"A"}`}, []string{
			`{"id":"j","phase":"a","task":{"type":"job","componentId":"keboola.ex-db-mysql","configId":"1","mode":"debug","delay":-5}}`,
			`{"id":"m","phase":"a","task":{"type":"notification","channel":{"type":"email","recipients":["not an address"]}}}`,
			`{"id":"w","phase":"a","task":{"type":"notification","title":"t","channel":{"type":"webhook","recipients":["ftp://x"]}}}`,
			`{"id":"v","phase":"a","task":{"type":"variable","name":"x","value":"1","source":{"type":"const","value":1}}}`,
			`{"id":"s","phase":"a","task":{"type":"variable","name":"x","source":{"type":"operator","operator":"AND","operands":[]}}}`,
			`{"id":"r","phase":"a","task":{"type":"job","componentId":"c.x","configId":"1","retry":{"strategy":"exponential","strategyParams":{"maxRetries":1.5}}}}`,
			`{"id":"q","phase":"a","task":{"type":"sleep"}}`,
			`{"id":"j","phase":"zz",` + cjob + `}`,
		}, []string{`task j: task.mode must be "run"`, "task j: task.delay", "task m: a notification needs a title", `"not an address" is not an e-mail address`,
			`"ftp://x" is not an http(s) URL`, "task v: a variable task needs either value", "a variable source cannot be an operator",
			`strategy must be "linear"`, "strategyParams.maxRetries must be a whole number", `task.type must be job, notification or variable, not "sleep"`,
			"task id j is used twice", "task j belongs to phase zz"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(keboola.ConditionalFlowComponentID, objs(t, tc.phases...), objs(t, tc.tasks...))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestBuildConditionalFlow_NormalisesIds(t *testing.T) {
	t.Parallel()
	spec, err := Build(keboola.ConditionalFlowComponentID,
		objs(t, `{"id":1,"name":"A","next":[{"goto":2}]}`, `{"id":"2","name":"B","next":[{"goto":null}]}`),
		objs(t, `{"name":"x","phase":1,"task":{"componentId":"keboola.ex-db-mysql","configId":7410001}}`,
			`{"name":"y","phase":"2","task":{"type":"notification","title":"t","recipients":[{"channel":"email","address":"a@example.com"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(spec.Configuration)
	// Ids become strings, a lone "goto null" is dropped (no next means the
	// end), missing ids, types and modes are filled in.
	want := `{"phases":[{"id":"1","name":"A","next":[{"goto":"2","id":"1-next-1"}]},{"id":"2","name":"B"}],` +
		`"tasks":[{"enabled":true,"id":"task-1","name":"x","phase":"1","task":{"componentId":"keboola.ex-db-mysql","configId":"7410001","mode":"run","type":"job"}},` +
		`{"enabled":true,"id":"task-2","name":"y","phase":"2","task":{"recipients":[{"address":"a@example.com","channel":"email"}],"title":"t","type":"notification"}}]}`
	if string(got) != want {
		t.Errorf("configuration\n got %s\nwant %s", got, want)
	}
}
