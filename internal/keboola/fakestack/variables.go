package fakestack

import (
	"fmt"
	"regexp"
	"strings"
)

// Configuration variables, as Keboola resolves them when a job starts
// (https://developers.keboola.com/integrate/variables/): a configuration
// whose body has variables_id is a mustache template. The linked
// keboola.variables configuration defines the variables
// ({"variables": [{name, type}]}); the row named by variables_id's sibling
// variables_values_id holds their default values ({"values": [{name,
// value}]}). Every defined variable needs a value, or the job fails ("No
// value provided for variable", the error the Keboola help names); a
// placeholder naming no defined variable becomes empty. Values given with
// the job (variableValuesId, variableValuesData) are not modelled: the fake
// runs every job with the defaults, the stricter reading for a client that
// relies on them. Storage itself stores both configurations as any other,
// without checking them, as the real API does.

const variablesComponent = "keboola.variables"

// placeholder is a mustache variable tag, {{ name }}.
var placeholder = regexp.MustCompile(`\{\{\s*([^{}\s]+)\s*\}\}`)

// resolveVariables returns configuration with its variables filled in, or
// configuration itself when it links no variables. The caller holds s.mu.
func (s *Stack) resolveVariables(configuration map[string]any) (map[string]any, error) {
	varsID := idValue(configuration["variables_id"])
	if varsID == "" {
		return configuration, nil
	}
	var vars *config
	for _, c := range s.state.configs[variablesComponent] {
		if c.id == varsID && !c.isDeleted {
			vars = c
		}
	}
	if vars == nil {
		return nil, serviceErrorf("Variable configuration %q was not found.", varsID)
	}
	values := map[string]string{}
	if rowID := idValue(configuration["variables_values_id"]); rowID != "" {
		var row *configRow
		for _, r := range vars.rows {
			if r.id == rowID {
				row = r
			}
		}
		if row == nil {
			return nil, serviceErrorf("Variable values %q were not found in variable configuration %q.", rowID, varsID)
		}
		list, _ := row.configuration["values"].([]any)
		for _, v := range list {
			m, _ := v.(map[string]any)
			name, _ := m["name"].(string)
			if value, ok := m["value"]; ok && name != "" {
				values[name] = fmt.Sprint(value)
			}
		}
	}
	defs, _ := vars.configuration["variables"].([]any)
	for _, d := range defs {
		m, _ := d.(map[string]any)
		name, _ := m["name"].(string)
		if _, ok := values[name]; !ok {
			return nil, serviceErrorf("No value provided for variable %q.", name)
		}
	}
	resolved, _ := fillPlaceholders(configuration, values).(map[string]any)
	return resolved, nil
}

// fillPlaceholders replaces the placeholders in every string of v.
func fillPlaceholders(v any, values map[string]string) any {
	switch x := v.(type) {
	case string:
		return placeholder.ReplaceAllStringFunc(x, func(tag string) string {
			return values[placeholder.FindStringSubmatch(tag)[1]]
		})
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, sub := range x {
			out[k] = fillPlaceholders(sub, values)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, sub := range x {
			out[i] = fillPlaceholders(sub, values)
		}
		return out
	}
	return v
}

// idValue reads an id a body may hold as a string or a number.
func idValue(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case float64:
		return fmt.Sprint(int64(x))
	}
	return ""
}
