package fakestack

import (
	"net/http"
	"strings"
	"testing"
)

// A job resolves the variables its configuration links before it runs, as
// https://developers.keboola.com/integrate/variables/ describes: every
// defined variable needs a value (here: from the variables_values_id row),
// a placeholder of no defined variable becomes empty, and a link to a
// missing configuration or row fails the job (the stricter reading: the
// page does not say what Keboola answers then).
func TestTransformationJob_ResolvesLinkedVariables(t *testing.T) {
	cases := []struct {
		name     string
		defs     []any  // definitions; nil: no variables configuration
		values   []any  // default values; nil: no values row
		link     string // "vars", "vars+values", "missing vars", "missing values"
		wantErr  string
		wantCell string
	}{
		{name: "defaults fill the placeholders", defs: []any{map[string]any{"name": "label", "type": "string"}},
			values: []any{map[string]any{"name": "label", "value": "eu"}}, link: "vars+values", wantCell: "eu/"},
		{name: "a defined variable without a value fails", defs: []any{map[string]any{"name": "label", "type": "string"}},
			link: "vars", wantErr: `No value provided for variable "label"`},
		{name: "a values row without the variable fails", defs: []any{map[string]any{"name": "label", "type": "string"}, map[string]any{"name": "other", "type": "string"}},
			values: []any{map[string]any{"name": "label", "value": "eu"}}, link: "vars+values", wantErr: `No value provided for variable "other"`},
		{name: "a link to a missing variables configuration fails", link: "missing vars", wantErr: "Variable configuration"},
		{name: "a link to a missing values row fails", defs: []any{}, link: "missing values", wantErr: "Variable values"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clk := newClocked(t, Options{})
			body := transformationConfig([]string{`CREATE TABLE "x" AS SELECT '{{ label }}/{{ undefined }}' AS "a";`}, nil, [][2]string{{"x", "out.c-t.x"}})
			varsID, rowID := "404404", "505505"
			if tc.defs != nil {
				varsID = createConfig(t, s, variablesComponent, "Variables", map[string]any{"variables": tc.defs})
			}
			if tc.values != nil {
				r := api(t, s, "POST", "/v2/storage/branch/default/components/"+variablesComponent+"/configs/"+varsID+"/rows",
					map[string]any{"name": "Default Values", "configuration": map[string]any{"values": tc.values}})
				wantStatus(t, r, http.StatusCreated)
				rowID = r.object(t)["id"].(string)
			}
			body["variables_id"] = varsID
			if strings.Contains(tc.link, "values") {
				body["variables_values_id"] = rowID
			}
			cfg := createConfig(t, s, snowflakeTransformation, "With variables", body)
			job := runJob(t, s, map[string]any{"component": snowflakeTransformation, "config": cfg})
			clk.Advance(3 * testStep)
			done := jobStatus(t, s, job["id"])
			msg, _ := path(t, done, "result", "message").(string)
			if tc.wantErr != "" {
				if done["status"] != "error" || !strings.Contains(msg, tc.wantErr) {
					t.Fatalf("job %v %q; want an error naming %q", done["status"], msg, tc.wantErr)
				}
				return
			}
			if done["status"] != "success" {
				t.Fatalf("job %v %q", done["status"], msg)
			}
			var got string
			if err := s.db.QueryRow(`SELECT a FROM "out.c-t".x`).Scan(&got); err != nil || got != tc.wantCell {
				t.Errorf("output %q (%v), want %q", got, err, tc.wantCell)
			}
		})
	}
}
