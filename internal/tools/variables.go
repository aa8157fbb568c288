package tools

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// Variables of a configuration, kept the way the Keboola UI and the Python
// server keep them (https://developers.keboola.com/integrate/variables/):
// the definitions, {"variables": [{name, type}]}, in a configuration of the
// keboola.variables component; the default values, {"values": [{name,
// value}]}, in its row named "Default Values"; and the configuration that
// uses them pointing at both with variables_id and variables_values_id.
// When a job runs, Keboola fills the configuration's {{ name }} placeholders
// from those values; a defined variable without a value fails the job.

const (
	variablesComponentID = "keboola.variables"
	defaultValuesRowName = "Default Values"
	variablesIDKey       = "variables_id"
	variableValuesIDKey  = "variables_values_id"
)

// pythonVariables is the Python server's variables parameter.
type pythonVariables struct {
	Variables []configVariable `json:"variables,omitempty" jsonschema:"Variables the configuration uses as {{ name }} placeholders in its parameters, code or storage mapping; Keboola fills them in when a job runs. Kept in a linked keboola.variables configuration, with the default values in its Default Values row. On create, leave out or [] for none. On update, the list replaces all current variables, [] removes them (and their keboola.variables configuration), and leaving it out keeps them."`
}

type configVariable struct {
	Name         string  `json:"name" jsonschema:"The variable's name, used as {{ name }}: letters, digits, _ and -."`
	Type         string  `json:"type,omitempty" jsonschema:"string (the default) or vault."`
	DefaultValue *string `json:"default_value,omitempty" jsonschema:"The value used when a run gives none; a variable without one needs a value at every run."`
}

// variablesSchema restricts the variables' types in a tool's schema.
func variablesSchema(s *jsonschema.Schema) {
	itemEnum(s, "variables", "type", "string", "vault")
}

// variableName is what a mustache placeholder can name: a dot would be read
// as a path into nested values, spaces and braces end the tag.
var variableName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// check refuses variables Keboola would store but no run could fill.
func (v pythonVariables) check() error {
	seen := map[string]int{}
	for i, x := range v.Variables {
		name := strings.TrimSpace(x.Name)
		switch {
		case name == "":
			return errorf("variables[%d] needs a name", i)
		case !variableName.MatchString(name):
			return errorf("variables[%d] name %q can hold only letters, digits, _ and - (it is written {{ name }} in the configuration)", i, x.Name)
		}
		if j, dup := seen[name]; dup {
			return errorf("variables[%d] and variables[%d] are both named %q; give each variable its own name", j, i, name)
		}
		seen[name] = i
		if x.Type != "" && x.Type != "string" && x.Type != "vault" {
			return errorf("variables[%d] type %q must be string or vault", i, x.Type)
		}
	}
	return nil
}

// variablesConfigName names the keboola.variables configuration of a
// configuration as the Python server does, so that either server finds the
// one the other created.
func variablesConfigName(compID, cfgID string) string {
	return fmt.Sprintf("Variables definition for %s/%s", compID, cfgID)
}

// linkedVariables is what linkVariables did to a configuration body.
type linkedVariables struct {
	// changed says the body now points elsewhere and must be saved.
	changed bool
	// unlinked is a keboola.variables configuration to delete once the saved
	// body no longer points at it; deleting it first would leave a dangling
	// variables_id if the save failed.
	unlinked string
	// change is the version history's word for it; summary tells what the
	// variables are now, for the answer.
	change, summary string
}

// linkVariables makes the keboola.variables configuration of compID/cfgID
// define vars (with their default values) and points body at it; no vars
// unlinks them. It writes the variables configuration, not body: the caller
// saves body, then calls finish.
func linkVariables(ctx context.Context, c *keboola.Client, compID, cfgID string, body map[string]any, vars []configVariable) (linkedVariables, error) {
	current, err := findVariablesConfig(ctx, c, compID, cfgID, idString(body[variablesIDKey]))
	if err != nil {
		return linkedVariables{}, fmt.Errorf("looking up the configuration's variables: %w", err)
	}
	if len(vars) == 0 {
		var out linkedVariables
		for _, k := range []string{variablesIDKey, variableValuesIDKey} {
			if _, ok := body[k]; ok {
				delete(body, k)
				out.changed = true
			}
		}
		if current != nil {
			out.unlinked = current.ID.String()
		}
		out.change, out.summary = "removed the variables", "Variables: none (removed)."
		if !out.changed && current == nil {
			out.summary = "Variables: none (there were none to remove)."
		}
		return out, nil
	}
	defs := make([]any, len(vars))
	var values []any
	var names, withoutDefault []string
	for i, v := range vars {
		name := strings.TrimSpace(v.Name)
		defs[i] = map[string]any{"name": name, "type": cmp.Or(v.Type, "string")}
		names = append(names, name)
		if v.DefaultValue != nil {
			values = append(values, map[string]any{"name": name, "value": *v.DefaultValue})
		} else {
			withoutDefault = append(withoutDefault, name)
		}
	}
	definitions, _ := json.Marshal(map[string]any{"variables": defs})
	var varsID string
	if current == nil {
		created, err := c.CreateConfig(ctx, variablesComponentID, keboola.ConfigInput{Name: variablesConfigName(compID, cfgID),
			Configuration: definitions, ChangeDescription: createdChange})
		if err != nil {
			return linkedVariables{}, fmt.Errorf("creating the keboola.variables configuration: %w", err)
		}
		varsID = created.ID.String()
	} else {
		varsID = current.ID.String()
		if _, err := c.UpdateConfig(ctx, variablesComponentID, varsID, keboola.ConfigUpdate{Configuration: definitions,
			ChangeDescription: "Variable definitions replaced by the Keboola MCP server"}); err != nil {
			return linkedVariables{}, fmt.Errorf("updating keboola.variables configuration %s: %w", varsID, err)
		}
	}
	valuesID, err := writeDefaultValues(ctx, c, varsID, current, values)
	if err != nil {
		return linkedVariables{}, err
	}
	body[variablesIDKey] = varsID
	if valuesID != "" {
		body[variableValuesIDKey] = valuesID
	} else {
		delete(body, variableValuesIDKey)
	}
	summary := fmt.Sprintf("Variables: %s (keboola.variables configuration %s", strings.Join(names, ", "), varsID)
	if valuesID != "" {
		summary += fmt.Sprintf(", default values in its row %s", valuesID)
	}
	summary += "); use them as {{ name }}."
	if len(withoutDefault) > 0 {
		// run_job cannot pass values: only a flow task (variableValuesData)
		// or the Keboola UI can, so say how to make run_job work.
		summary += fmt.Sprintf(" %s %s no default value: a run fails unless it is given one (a flow task's variableValuesData); "+
			"add a default_value to run it with run_job.",
			strings.Join(withoutDefault, ", "), map[bool]string{true: "has", false: "have"}[len(withoutDefault) == 1])
	}
	return linkedVariables{changed: true, change: "variables " + strings.Join(names, ", "), summary: summary}, nil
}

// writeDefaultValues stores the default values in the Default Values row
// of the variables configuration and returns the row's id; without values
// an existing row is emptied (the Python server keeps it) and "" returned.
func writeDefaultValues(ctx context.Context, c *keboola.Client, varsID string, current *keboola.Config, values []any) (string, error) {
	var row *keboola.ConfigRow
	if current != nil {
		if i := slices.IndexFunc(current.Rows, func(r keboola.ConfigRow) bool { return r.Name == defaultValuesRowName }); i >= 0 {
			row = &current.Rows[i]
		}
	}
	content, _ := json.Marshal(map[string]any{"values": nonNilList(values)})
	switch {
	case len(values) > 0 && row == nil:
		created, err := c.CreateConfigRow(ctx, variablesComponentID, varsID, keboola.ConfigInput{Name: defaultValuesRowName,
			Configuration: content, ChangeDescription: createdChange})
		if err != nil {
			return "", fmt.Errorf("saving the variables' default values: %w", err)
		}
		return created.ID.String(), nil
	case row != nil:
		change := "Default values replaced by the Keboola MCP server"
		if len(values) == 0 {
			change = "Default values cleared by the Keboola MCP server"
		}
		if _, err := c.UpdateConfigRow(ctx, variablesComponentID, varsID, row.ID.String(), keboola.ConfigUpdate{Configuration: content,
			ChangeDescription: change}); err != nil {
			return "", fmt.Errorf("saving the variables' default values: %w", err)
		}
		if len(values) == 0 {
			return "", nil
		}
		return row.ID.String(), nil
	}
	return "", nil
}

// findVariablesConfig returns the keboola.variables configuration of
// compID/cfgID: the linked one, else one named for it (left by a write that
// stopped before linking), else nil.
func findVariablesConfig(ctx context.Context, c *keboola.Client, compID, cfgID, linkedID string) (*keboola.Config, error) {
	if linkedID != "" {
		cfg, err := c.GetConfig(ctx, variablesComponentID, linkedID)
		if !errors.Is(err, keboola.ErrNotFound) {
			return cfg, err
		}
	}
	all, err := c.ListConfigs(ctx, variablesComponentID)
	if err != nil {
		return nil, err
	}
	name := variablesConfigName(compID, cfgID)
	i := slices.IndexFunc(all, func(x keboola.Config) bool { return x.Name == name })
	if i < 0 {
		return nil, nil
	}
	// The listing may leave the rows out; the detail has them.
	return c.GetConfig(ctx, variablesComponentID, all[i].ID.String())
}

// finish deletes the variables configuration the saved body no longer
// points at (to the trash, where it can be restored with an older version
// of the configuration) and returns the answer's note.
func (l linkedVariables) finish(ctx context.Context, c *keboola.Client) string {
	switch {
	case l.summary == "":
		return ""
	case l.unlinked != "":
		if err := c.DeleteConfig(ctx, variablesComponentID, l.unlinked); err != nil && !errors.Is(err, keboola.ErrNotFound) {
			return l.summary + fmt.Sprintf(" Deleting their keboola.variables configuration %s failed: %v\n", l.unlinked, err)
		}
		return l.summary + fmt.Sprintf(" Their keboola.variables configuration %s is in the trash.\n", l.unlinked)
	}
	return l.summary + "\n"
}

// idString reads a configuration id that a body may hold as a string or a
// number.
func idString(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// linkNewVariables links vars to a configuration the call has just created
// and returns the answer's lines. The configuration exists by then, so a
// failure is told rather than returned: a retry would create a second one.
func linkNewVariables(ctx context.Context, c *keboola.Client, compID string, cfg *createdConfig, vars []configVariable, updateTool string) string {
	if len(vars) == 0 {
		return ""
	}
	failed := func(err error) string {
		return fmt.Sprintf("The configuration is created, but linking its variables failed: %v. Link them with %s and the same variables.\n", err, updateTool)
	}
	// Read the body back rather than trust the create answer to carry it:
	// saving an empty body would wipe the configuration.
	stored, err := c.GetConfig(ctx, compID, cfg.id)
	if err != nil {
		return failed(err)
	}
	body, err := decodeObject(stored.Configuration)
	if err != nil {
		return failed(err)
	}
	link, err := linkVariables(ctx, c, compID, cfg.id, body, vars)
	if err != nil {
		return failed(err)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return failed(err)
	}
	saved, err := c.UpdateConfig(ctx, compID, cfg.id, keboola.ConfigUpdate{Configuration: raw, ChangeDescription: "Variables linked by the Keboola MCP server"})
	if err != nil {
		return failed(err)
	}
	return fmt.Sprintf("Linked the variables (now version %d).\n", saved.Version) + link.finish(ctx, c) +
		markWrittenByMCP(ctx, c, compID, cfg.id, saved.Version)
}

// decodeObject decodes a stored configuration body, keeping numbers as
// they are written (a float64 would round large ids).
func decodeObject(raw []byte) (map[string]any, error) {
	body := map[string]any{}
	if len(raw) == 0 {
		return body, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&body); err != nil || body == nil {
		return nil, fmt.Errorf("the stored configuration is not a JSON object")
	}
	return body, nil
}
