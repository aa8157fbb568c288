package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/configparams"
)

// Writing component configurations and rows, and the component actions
// around them (sync actions, OAuth authorisation links).

var configTools = []Tool{
	define("get_config_examples", "Get configuration examples",
		"Shows example configurations of a component (root and row JSON), as Keboola's documentation has "+
			"them. Use them, with the schema from get_components, to write parameters for create_config and "+
			"add_config_row.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) { minLen(s, "component_id", 1) },
		getConfigExamples),
	define("create_config", "Create a configuration",
		"Creates a configuration of a component (an extractor, writer or application) from its parameters "+
			"and, where the component reads or writes Storage, its storage mapping. Parameters are checked "+
			"against the component's schema (get_components shows it; get_config_examples has examples) and "+
			"values under keys starting with # are encrypted before they are stored. Row-based components "+
			"(e.g. database extractors) keep shared settings here and one table per row: add rows with "+
			"add_config_row. SQL transformations have create_sql_transformation; flows have their own tools. "+
			"variables declares {{ name }} placeholders the configuration uses, with optional default values. "+
			"Returns the new configuration's id, version and link.",
		hints{}, func(s *jsonschema.Schema) {
			minLen(s, "component_id", 1)
			minLen(s, "name", 1)
			variablesSchema(s)
		}, createConfig),
	define("add_config_row", "Add a configuration row",
		"Adds a row to an existing configuration: for row-based components, one row is usually one table "+
			"or query to extract or write. Parameters are checked against the component's row schema "+
			"(get_components) and secrets (keys starting with #) are encrypted before they are stored. Returns the "+
			"new row's id and the configuration's link.",
		hints{}, func(s *jsonschema.Schema) {
			minLen(s, "component_id", 1)
			minLen(s, "configuration_id", 1)
			minLen(s, "name", 1)
		}, addConfigRow),
	define("update_config", "Update a configuration",
		"Changes an existing configuration: name, description, individual parameters (parameter_updates: "+
			"set, str_replace, remove or list_append at a path), the whole storage mapping, or the processors. "+
			"What is not given stays as it is. Read it first with get_configs. Secrets show there as "+
			"[REDACTED]: leave them out of the edits to keep them, or set a new plain value, which is "+
			"encrypted. variables replaces the configuration's variables ([] removes them). Rows are changed with "+
			"update_config_row. Returns the new version, what changed and a link.",
		hints{destructive: true}, func(s *jsonschema.Schema) {
			updateSchema(s)
			variablesSchema(s)
		}, updateConfig),
	define("update_config_row", "Update a configuration row",
		"Changes one row of a configuration: name, description, individual parameters (parameter_updates: "+
			"set, str_replace, remove or list_append at a path), its whole storage mapping or processors. "+
			"What is not given stays as it is. get_configs shows the rows with their ids. Returns the row's new "+
			"version, what changed and a link.",
		hints{destructive: true}, func(s *jsonschema.Schema) {
			updateSchema(s)
			minLen(s, "configuration_row_id", 1)
		}, updateConfigRow),
	define("run_sync_action", "Run a component action",
		"Runs a synchronous action of a component and returns its answer, e.g. testConnection to check "+
			"credentials or getTables to list what a database extractor can read. The action gets the stored "+
			"configuration (with a row's settings over it when configuration_row_id is given), or config_data "+
			"as given. Which actions exist depends on the component (its documentation names them).",
		hints{}, func(s *jsonschema.Schema) {
			minLen(s, "component_id", 1)
			minLen(s, "action", 1)
		}, runSyncAction),
	define("create_oauth_url", "Create an authorization link",
		"Creates the link a user opens to authorise a component configuration with an external service "+
			"(Google, Facebook, …) through Keboola's OAuth broker. Use it after creating the configuration "+
			"of a component that signs in with OAuth. The link carries a Storage token that can only use "+
			"this component and expires in one hour: give it to the user, do not open it yourself.",
		hints{}, func(s *jsonschema.Schema) {
			minLen(s, "component_id", 1)
			minLen(s, "config_id", 1)
		}, createOAuthURL),
}

func updateSchema(s *jsonschema.Schema) {
	minLen(s, "component_id", 1)
	minLen(s, "configuration_id", 1)
	minLen(s, "change_description", 1)
	itemEnum(s, "parameter_updates", "op", configparams.Ops...)
}

// itemEnum restricts a string field of the objects in an array property.
func itemEnum(s *jsonschema.Schema, list, field string, values ...string) {
	items := prop(s, list).Items
	if items == nil {
		panic(fmt.Sprintf("schema property %q is not a list", list))
	}
	enum(items, field, values...)
}

// --- get_config_examples ---------------------------------------------------

type getConfigExamplesInput struct {
	ComponentID string `json:"component_id" jsonschema:"The component id, e.g. keboola.ex-db-mysql."`
}

// maxExamples bounds each list of examples; a few show the shape, more
// only cost tokens.
const maxExamples = 5

func getConfigExamples(ctx context.Context, c call, in getConfigExamplesInput) (string, error) {
	id := strings.TrimSpace(in.ComponentID)
	docs, err := c.client.GetComponentDocs(ctx, id)
	if errors.Is(err, keboola.ErrNotFound) {
		return "", errorf("component %s not found; find_component_id finds components by purpose", id)
	}
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Configuration examples of %s, as its documentation gives them; get_components shows the schema they follow.\n", id)
	writeExamples(&b, "Root configuration", docs.RootConfigurationExamples)
	writeExamples(&b, "Row configuration", docs.RowConfigurationExamples)
	if len(docs.RootConfigurationExamples)+len(docs.RowConfigurationExamples) == 0 {
		b.WriteString("\nKeboola's documentation has no examples for this component. get_components shows its configuration schema.\n")
	}
	return b.String() + links("Documentation", docs.DocumentationURL), nil
}

func writeExamples(b *strings.Builder, title string, examples []keboola.RawObject) {
	if len(examples) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s examples:\n", title)
	for i, ex := range examples[:min(len(examples), maxExamples)] {
		var v any
		if json.Unmarshal(ex, &v) != nil {
			continue
		}
		// Compact JSON: indentation would cost tokens and tell nothing.
		compact, _ := json.Marshal(v)
		fmt.Fprintf(b, "\n%d.\n```json\n%s\n```\n", i+1, compact)
	}
	if len(examples) > maxExamples {
		fmt.Fprintf(b, "\n(%d more not shown.)\n", len(examples)-maxExamples)
	}
}

// --- create_config / add_config_row ----------------------------------------

// configBody is the content of a new configuration or row.
type configBody struct {
	Name             string           `json:"name" jsonschema:"A short name that says what the configuration does."`
	Description      string           `json:"description" jsonschema:"What the configuration is for: its source or target, what data and why."`
	Parameters       map[string]any   `json:"parameters" jsonschema:"The component's parameters, following its configuration schema (get_components) and examples (get_config_examples). Put secrets under keys starting with #."`
	Storage          map[string]any   `json:"storage,omitempty" jsonschema:"Storage mapping for components that read or write tables or files: {input: {tables: [{source, destination}]}, output: {tables: [{source, destination}]}}."`
	ProcessorsBefore []map[string]any `json:"processors_before,omitempty" jsonschema:"Processors to run before the component, each {definition: {component: <id>}, parameters: {…}}."`
	ProcessorsAfter  []map[string]any `json:"processors_after,omitempty" jsonschema:"Processors to run after the component, each {definition: {component: <id>}, parameters: {…}}."`
}

type createConfigInput struct {
	ComponentID string `json:"component_id" jsonschema:"The component to configure, e.g. keboola.ex-db-mysql."`
	configBody
	pythonVariables
}

type addConfigRowInput struct {
	ComponentID     string `json:"component_id" jsonschema:"The component of the configuration."`
	ConfigurationID string `json:"configuration_id" jsonschema:"The configuration to add the row to."`
	configBody
}

// notConfigurable lists components whose configurations have tools of
// their own; a generic write would skip the checks those tools make.
var notConfigurable = map[string]string{
	"keboola.orchestrator": "a flow: use the flow tools (create_flow, update_flow)",
	"keboola.flow":         "a conditional flow: use the flow tools (create_conditional_flow, update_flow)",
	"keboola.scheduler":    "a schedule: flows are scheduled with the flow tools",
	"keboola.data-apps":    "a data app: use the data app tools",
}

// lookupComponent returns a component's detail, refusing ones that have
// dedicated tools and turning a 404 into an actionable message.
func lookupComponent(ctx context.Context, c *keboola.Client, id string) (*keboola.Component, error) {
	id = strings.TrimSpace(id)
	if why, ok := notConfigurable[id]; ok {
		return nil, errorf("%s is %s", id, why)
	}
	comp, err := c.GetComponent(ctx, id)
	if errors.Is(err, keboola.ErrNotFound) {
		return nil, errorf("component %s not found; find_component_id finds components by purpose", id)
	}
	return comp, err
}

func createConfig(ctx context.Context, c call, in createConfigInput) (string, error) {
	if err := in.check(); err != nil {
		return "", err
	}
	comp, err := lookupComponent(ctx, c.client, in.ComponentID)
	if err != nil {
		return "", err
	}
	body, note, err := newConfiguration(comp, comp.ConfigurationSchema, in.configBody)
	if err != nil {
		return "", err
	}
	enc, err := encryptIfSecret(ctx, c.client, comp.ID, "", body)
	if err != nil {
		return "", err
	}
	cfg, err := createMarkedConfig(ctx, c, comp.ID, in.Name, in.Description, enc)
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("Created configuration %s %q of %s (version %d).\n%s", cfg.id, cfg.Name, comp.ID, cfg.Version, note) + cfg.note +
		linkNewVariables(ctx, c.client, comp.ID, cfg, in.Variables, "update_config")
	if nonEmptyObject(comp.ConfigurationRowSchema) {
		out += "This component is configured in rows: add them with add_config_row.\n"
	}
	return out + links("Configuration", cfg.links.Config(comp.ID, cfg.id)), nil
}

func addConfigRow(ctx context.Context, c call, in addConfigRowInput) (string, error) {
	comp, err := lookupComponent(ctx, c.client, in.ComponentID)
	if err != nil {
		return "", err
	}
	cfgID := strings.TrimSpace(in.ConfigurationID)
	// A missing configuration is the first thing to tell: its parameters'
	// schema errors would send the model on a fruitless fix.
	if _, err := c.client.GetConfig(ctx, comp.ID, cfgID); errors.Is(err, keboola.ErrNotFound) {
		return "", errorf("configuration %s/%s not found; get_configs lists the existing ones", comp.ID, cfgID)
	} else if err != nil {
		return "", err
	}
	body, note, err := newConfiguration(comp, comp.ConfigurationRowSchema, in.configBody)
	if err != nil {
		return "", err
	}
	enc, err := encryptIfSecret(ctx, c.client, comp.ID, cfgID, body)
	if err != nil {
		return "", err
	}
	row, err := c.client.CreateConfigRow(ctx, comp.ID, cfgID, keboola.ConfigInput{Name: in.Name, Description: in.Description,
		Configuration: enc, ChangeDescription: "Row added by the Keboola MCP server"})
	if errors.Is(err, keboola.ErrNotFound) {
		return "", errorf("configuration %s/%s not found; get_configs lists the existing ones", comp.ID, cfgID)
	}
	if err != nil {
		return "", err
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Added row %s %q to configuration %s of %s.\n%s", row.ID, row.Name, cfgID, comp.ID, note) +
		markWrittenByMCP(ctx, c.client, comp.ID, cfgID, row.Version) + links("Configuration", u.Config(comp.ID, cfgID)), nil
}

// newConfiguration builds a configuration or row body from the tool input,
// checked against schema, and says how it was checked.
func newConfiguration(comp *keboola.Component, schema keboola.RawObject, in configBody) (map[string]any, string, error) {
	if strings.TrimSpace(in.Name) == "" {
		return nil, "", errorf("name must not be empty")
	}
	if in.Parameters == nil {
		in.Parameters = map[string]any{}
	}
	if err := refuseRedacted(in.Parameters, "parameters"); err != nil {
		return nil, "", err
	}
	note, err := checkParameters(comp.ID, schema, in.Parameters)
	if err != nil {
		return nil, "", err
	}
	body := map[string]any{"parameters": in.Parameters}
	if in.Storage != nil {
		if err := checkStorage(in.Storage); err != nil {
			return nil, "", err
		}
		body["storage"] = in.Storage
	}
	if err := setProcessors(body, in.ProcessorsBefore, in.ProcessorsAfter); err != nil {
		return nil, "", err
	}
	return body, note, nil
}

// setProcessors puts processor lists into a configuration body; nil keeps
// what is there, an empty list clears it.
func setProcessors(body map[string]any, before, after []map[string]any) error {
	for _, p := range []struct {
		name string
		list []map[string]any
	}{{"before", before}, {"after", after}} {
		if p.list == nil {
			continue
		}
		for i, proc := range p.list {
			def, _ := proc["definition"].(map[string]any)
			if id, _ := def["component"].(string); strings.TrimSpace(id) == "" {
				return errorf("processors_%s[%d] needs definition.component, the processor's component id", p.name, i)
			}
		}
		procs, _ := body["processors"].(map[string]any)
		if procs == nil {
			procs = map[string]any{}
			body["processors"] = procs
		}
		items := make([]any, len(p.list))
		for i, proc := range p.list {
			items[i] = proc
		}
		procs[p.name] = items
	}
	return nil
}

// checkStorage catches mappings that Keboola would store but no component
// could use: input and output must be objects whose tables and files are lists.
func checkStorage(st map[string]any) error {
	for key, v := range st {
		if key != "input" && key != "output" {
			continue
		}
		side, ok := v.(map[string]any)
		if !ok {
			return errorf("storage.%s must be an object like {\"tables\": [...]}", key)
		}
		for _, kind := range []string{"tables", "files"} {
			list, present := side[kind]
			if !present {
				continue
			}
			items, ok := list.([]any)
			if !ok {
				return errorf("storage.%s.%s must be a list", key, kind)
			}
			for i, it := range items {
				m, ok := it.(map[string]any)
				if !ok {
					return errorf("storage.%s.%s[%d] must be an object", key, kind, i)
				}
				if kind == "tables" {
					for _, f := range []string{"source", "destination"} {
						if s, _ := m[f].(string); key == "output" && s == "" {
							return errorf("storage.output.tables[%d] needs %s", i, f)
						}
					}
					if s, _ := m["source"].(string); key == "input" && s == "" {
						return errorf("storage.input.tables[%d] needs source, the Storage table id", i)
					}
				}
			}
		}
	}
	return nil
}

// nonEmptyObject reports whether a schema or body has any content ({} and [] do not).
func nonEmptyObject(r keboola.RawObject) bool { return len(strings.TrimSpace(string(r))) > 2 }

// checkParameters validates parameters against a component's JSON schema.
// Keboola schemas are mostly draft-04 with UI extensions; they are brought
// to a form the validator accepts, and a schema that still cannot be used
// is skipped (Keboola validates again when the job runs) and said so.
func checkParameters(componentID string, schema keboola.RawObject, params map[string]any) (string, error) {
	if !nonEmptyObject(schema) {
		return "", nil
	}
	resolved, ok := resolveSchema(schema)
	if !ok {
		return "The component's schema could not be used to check the parameters; Keboola checks them when the configuration runs.\n", nil
	}
	// The validator expects values as encoding/json produces them.
	var inst any
	b, _ := json.Marshal(params)
	_ = json.Unmarshal(b, &inst)
	if err := resolved.Validate(inst); err != nil {
		return "", errorf("the parameters do not fit the schema of %s: %v. get_components shows the schema; get_config_examples has examples.", componentID, err)
	}
	return "Parameters match the component's schema.\n", nil
}

func resolveSchema(raw keboola.RawObject) (*jsonschema.Resolved, bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	delete(m, "$schema") // the validator refuses draft-04 by name, not by content
	normalizeSchema(m)
	b, _ := json.Marshal(m)
	var s jsonschema.Schema
	if json.Unmarshal(b, &s) != nil {
		return nil, false
	}
	r, err := s.Resolve(nil)
	if err != nil {
		return nil, false
	}
	return r, true
}

// normalizeSchema rewrites draft-03/04 habits found in component schemas:
// "required": true on a property becomes an entry of its parent's required
// list, and boolean exclusiveMinimum/Maximum are dropped.
func normalizeSchema(v any) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "exclusiveMinimum")
		delete(x, "exclusiveMaximum")
		if props, ok := x["properties"].(map[string]any); ok {
			var req []any
			if r, ok := x["required"].([]any); ok {
				req = r
			}
			for name, p := range props {
				if pm, ok := p.(map[string]any); ok {
					if b, isBool := pm["required"].(bool); isBool {
						delete(pm, "required")
						if b {
							req = append(req, name)
						}
					}
				}
			}
			if _, isBool := x["required"].(bool); isBool || len(req) > 0 {
				x["required"] = req
			}
		}
		if _, isBool := x["required"].(bool); isBool {
			delete(x, "required")
		}
		for _, child := range x {
			normalizeSchema(child)
		}
	case []any:
		for _, child := range x {
			normalizeSchema(child)
		}
	}
}

const redacted = "[REDACTED]"

// refuseRedacted catches a secret copied from get_configs' redacted view
// into a new configuration, where there is no stored value to keep.
func refuseRedacted(v any, at string) error {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && s == redacted && strings.HasPrefix(k, "#") {
				return errorf("%s.%s is %s: give the real secret value (it is encrypted before it is stored)", at, k, redacted)
			}
			if err := refuseRedacted(val, at+"."+k); err != nil {
				return err
			}
		}
	case []any:
		for i, val := range x {
			if err := refuseRedacted(val, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// restoreRedacted puts the stored (encrypted) value back wherever an edit
// left a secret as the [REDACTED] placeholder that get_configs shows, so
// that rewriting a section does not overwrite a password with the
// placeholder. A placeholder with nothing stored at its place is an error.
func restoreRedacted(v, old any, at string) error {
	switch x := v.(type) {
	case map[string]any:
		om, _ := old.(map[string]any)
		for k, val := range x {
			if s, ok := val.(string); ok && s == redacted && strings.HasPrefix(k, "#") {
				prev, ok := om[k].(string)
				if !ok || prev == redacted {
					return errorf("%s.%s is %s but no secret is stored there: give the real value", at, k, redacted)
				}
				x[k] = prev
				continue
			}
			if err := restoreRedacted(val, om[k], at+"."+k); err != nil {
				return err
			}
		}
	case []any:
		ol, _ := old.([]any)
		for i, val := range x {
			var prev any
			if i < len(ol) {
				prev = ol[i]
			}
			if err := restoreRedacted(val, prev, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// hasPlainSecret reports whether a value under a # key is not yet encrypted.
func hasPlainSecret(v any, secret bool) bool {
	switch x := v.(type) {
	case string:
		return secret && !strings.HasPrefix(x, "KBC::")
	case map[string]any:
		for k, val := range x {
			if hasPlainSecret(val, secret || strings.HasPrefix(k, "#")) {
				return true
			}
		}
	case []any:
		for _, val := range x {
			if hasPlainSecret(val, secret) {
				return true
			}
		}
	}
	return false
}

// encryptIfSecret marshals body, encrypting its secrets first when it has
// plain ones (the common case has none, and then no request is made).
func encryptIfSecret(ctx context.Context, c *keboola.Client, componentID, configID string, body map[string]any) (json.RawMessage, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	if !hasPlainSecret(body, false) {
		return raw, nil
	}
	return c.EncryptSecrets(ctx, componentID, configID, raw)
}

// --- update_config / update_config_row -------------------------------------

// configEdit is what update_config and update_config_row may change.
// paramUpdate is one edit of parameter_updates; its fields are those of
// configparams.Edit, which does the editing.
type paramUpdate struct {
	Op          string `json:"op" jsonschema:"set: put value at path (creating missing objects); str_replace: replace search_for with replace_with in every string at or under path; remove: delete the key or list item at path; list_append: append value to the list at path (creating it if missing)."`
	Path        string `json:"path" jsonschema:"Where, relative to parameters: dot-separated keys with [n] list indexes, e.g. db.host, tables[0].columns, ['key.with.dots']. $ alone means the whole parameters object (set only)."`
	Value       any    `json:"value,omitempty" jsonschema:"The new value, any JSON (set, list_append)."`
	SearchFor   string `json:"search_for,omitempty" jsonschema:"Text to find (str_replace)."`
	ReplaceWith string `json:"replace_with,omitempty" jsonschema:"Replacement text, may be empty (str_replace)."`
}

type configEdit struct {
	ComponentID       string           `json:"component_id" jsonschema:"The component of the configuration."`
	ConfigurationID   string           `json:"configuration_id" jsonschema:"The configuration to change."`
	ChangeDescription string           `json:"change_description" jsonschema:"What changes and why, for the version history, e.g. Add the orders table."`
	Name              string           `json:"name,omitempty" jsonschema:"A new name; leave out to keep it."`
	Description       string           `json:"description,omitempty" jsonschema:"A new description; leave out to keep it."`
	ParameterUpdates  []paramUpdate    `json:"parameter_updates,omitempty" jsonschema:"Edits of the parameters, applied in order; the smallest edits that do the job. Leave out to keep the parameters."`
	Storage           map[string]any   `json:"storage,omitempty" jsonschema:"A new storage mapping, replacing the whole current one (include what should stay). Leave out to keep it."`
	ProcessorsBefore  []map[string]any `json:"processors_before,omitempty" jsonschema:"New processors to run before the component, replacing the current ones; [] removes them."`
	ProcessorsAfter   []map[string]any `json:"processors_after,omitempty" jsonschema:"New processors to run after the component, replacing the current ones; [] removes them."`
}

type updateConfigInput struct {
	configEdit
	pythonFolder
	pythonVariables
}

type updateConfigRowInput struct {
	configEdit
	ConfigurationRowID string `json:"configuration_row_id" jsonschema:"The row to change (get_configs shows row ids)."`
	IsDisabled         *bool  `json:"is_disabled,omitempty" jsonschema:"true disables the row (a run of the configuration skips it), false enables it; omit to keep it as it is."`
}

// edited applies an edit to a stored configuration body. It returns the new
// body (nil when the body does not change) and what changed.
func (e configEdit) edited(compID string, schema, current keboola.RawObject) (map[string]any, []string, string, error) {
	if len(e.ParameterUpdates) == 0 && e.Storage == nil && e.ProcessorsBefore == nil && e.ProcessorsAfter == nil {
		return nil, nil, "", nil
	}
	old := map[string]any{}
	if len(current) > 0 {
		if err := json.Unmarshal(current, &old); err != nil || old == nil {
			return nil, nil, "", fmt.Errorf("the stored configuration is not a JSON object")
		}
	}
	// Edit a deep copy, so that old stays the reference for secrets.
	var body map[string]any
	b, _ := json.Marshal(old)
	_ = json.Unmarshal(b, &body)
	var changes []string
	note := ""
	if len(e.ParameterUpdates) > 0 {
		params, _ := body["parameters"].(map[string]any)
		if params == nil {
			params = map[string]any{}
		}
		edits := make([]configparams.Edit, len(e.ParameterUpdates))
		for i, u := range e.ParameterUpdates {
			edits[i] = configparams.Edit(u)
		}
		params, done, err := configparams.Apply(params, edits)
		var bad *configparams.EditError
		if errors.As(err, &bad) {
			return nil, nil, "", errorf("parameter_updates[%d] (%s %s): %v", bad.Index, bad.Edit.Op, bad.Edit.Path, bad.Err)
		}
		if err != nil {
			return nil, nil, "", err
		}
		if err := restoreRedacted(params, old["parameters"], "parameters"); err != nil {
			return nil, nil, "", err
		}
		if note, err = checkParameters(compID, schema, params); err != nil {
			return nil, nil, "", err
		}
		body["parameters"] = params
		changes = append(changes, done...)
	}
	if e.Storage != nil {
		if err := checkStorage(e.Storage); err != nil {
			return nil, nil, "", err
		}
		if err := restoreRedacted(e.Storage, old["storage"], "storage"); err != nil {
			return nil, nil, "", err
		}
		body["storage"] = e.Storage
		changes = append(changes, "replaced the storage mapping")
	}
	if err := setProcessors(body, e.ProcessorsBefore, e.ProcessorsAfter); err != nil {
		return nil, nil, "", err
	}
	if e.ProcessorsBefore != nil || e.ProcessorsAfter != nil {
		changes = append(changes, "replaced processors")
	}
	return body, changes, note, nil
}

// update is the ConfigUpdate for an edit; it fails when nothing would change.
func (e configEdit) update(body json.RawMessage, otherChange bool) (keboola.ConfigUpdate, error) {
	u := keboola.ConfigUpdate{Configuration: body, ChangeDescription: strings.TrimSpace(e.ChangeDescription)}
	if u.ChangeDescription == "" {
		return u, errorf("change_description must say what changes")
	}
	if n := strings.TrimSpace(e.Name); n != "" {
		u.Name = &n
	}
	if e.Description != "" {
		u.Description = &e.Description
	}
	if u.Name == nil && u.Description == nil && body == nil && !otherChange {
		return u, errorf("nothing to change: give name, description, parameter_updates, storage or processors")
	}
	return u, nil
}

// current looks up the component an edit names and its configuration cfgID.
func (e configEdit) current(ctx context.Context, c call, cfgID string) (*keboola.Component, *keboola.Config, error) {
	comp, err := lookupComponent(ctx, c.client, e.ComponentID)
	if err != nil {
		return nil, nil, err
	}
	cur, err := c.client.GetConfig(ctx, comp.ID, cfgID)
	if errors.Is(err, keboola.ErrNotFound) {
		return nil, nil, errorf("configuration %s/%s not found; get_configs lists the existing ones", comp.ID, cfgID)
	}
	if err != nil {
		return nil, nil, err
	}
	return comp, cur, nil
}

// prepare turns an edit of a configuration or row whose stored body is
// current into the update to send, with new secrets encrypted, what changed
// and checkParameters' note.
// otherChange says the caller changes something besides the edit (a row's
// is_disabled), so an edit that changes nothing is not refused.
func (e configEdit) prepare(ctx context.Context, c call, compID, cfgID string, schema, current keboola.RawObject, otherChange bool) (keboola.ConfigUpdate, []string, string, error) {
	body, changes, note, err := e.edited(compID, schema, current)
	if err != nil {
		return keboola.ConfigUpdate{}, nil, "", err
	}
	var enc json.RawMessage
	if body != nil {
		if enc, err = encryptIfSecret(ctx, c.client, compID, cfgID, body); err != nil {
			return keboola.ConfigUpdate{}, nil, "", err
		}
	}
	upd, err := e.update(enc, otherChange)
	if err != nil {
		return keboola.ConfigUpdate{}, nil, "", err
	}
	return upd, changes, note, nil
}

func updateConfig(ctx context.Context, c call, in updateConfigInput) (string, error) {
	if err := in.check(); err != nil {
		return "", err
	}
	e := in.configEdit
	cfgID := strings.TrimSpace(e.ConfigurationID)
	comp, cur, err := e.current(ctx, c, cfgID)
	if err != nil {
		return "", err
	}
	upd, changes, note, err := e.prepare(ctx, c, comp.ID, cfgID, comp.ConfigurationSchema, cur.Configuration, in.changesFolder() || in.Variables != nil)
	if err != nil {
		return "", err
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	var link linkedVariables
	if in.Variables != nil {
		base := []byte(cur.Configuration)
		if upd.Configuration != nil {
			base = upd.Configuration // the edited body, secrets encrypted
		}
		body, err := decodeObject(base)
		if err != nil {
			return "", err
		}
		if link, err = linkVariables(ctx, c.client, comp.ID, cfgID, body, in.Variables); err != nil {
			return "", err
		}
		if link.changed {
			if upd.Configuration, err = json.Marshal(body); err != nil {
				return "", err
			}
			changes = append(changes, link.change)
		}
	}
	if upd.Name == nil && upd.Description == nil && upd.Configuration == nil {
		// Only the folder changes (or there were no variables to remove):
		// that is metadata, not a new version.
		filed, err := in.applyAlone(ctx, c.client, comp.ID, cfgID)
		if err != nil {
			return "", err
		}
		return link.finish(ctx, c.client) + filed + links("Configuration", u.Config(comp.ID, cfgID)), nil
	}
	cfg, err := c.client.UpdateConfig(ctx, comp.ID, cfgID, upd)
	if err != nil {
		return "", conflictHint(err)
	}
	return fmt.Sprintf("Updated configuration %s %q of %s (now version %d).\n", cfgID, cfg.Name, comp.ID, cfg.Version) +
		changeList(upd, changes) + note + markWrittenByMCP(ctx, c.client, comp.ID, cfgID, cfg.Version) +
		link.finish(ctx, c.client) + in.apply(ctx, c.client, comp.ID, cfgID) + links("Configuration", u.Config(comp.ID, cfgID)), nil
}

func updateConfigRow(ctx context.Context, c call, in updateConfigRowInput) (string, error) {
	e := in.configEdit
	cfgID, rowID := strings.TrimSpace(e.ConfigurationID), strings.TrimSpace(in.ConfigurationRowID)
	comp, cur, err := e.current(ctx, c, cfgID)
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(cur.Rows, func(r keboola.ConfigRow) bool { return r.ID.String() == rowID })
	if i < 0 {
		ids := make([]string, len(cur.Rows))
		for j, r := range cur.Rows {
			ids[j] = r.ID.String()
		}
		return "", errorf("configuration %s/%s has no row %s (its rows: %s)", comp.ID, cfgID, rowID, orNone(ids))
	}
	upd, changes, note, err := e.prepare(ctx, c, comp.ID, cfgID, comp.ConfigurationRowSchema, cur.Rows[i].Configuration, in.IsDisabled != nil)
	if err != nil {
		return "", err
	}
	if in.IsDisabled != nil {
		upd.IsDisabled = in.IsDisabled
		changes = append(changes, map[bool]string{true: "disabled", false: "enabled"}[*in.IsDisabled])
	}
	row, err := c.client.UpdateConfigRow(ctx, comp.ID, cfgID, rowID, upd)
	if err != nil {
		return "", conflictHint(err)
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Updated row %s %q of configuration %s of %s (row version %d).\n", rowID, row.Name, cfgID, comp.ID, row.Version) +
		changeList(upd, changes) + note + markWrittenByMCP(ctx, c.client, comp.ID, cfgID, row.Version) + links("Configuration", u.Config(comp.ID, cfgID)), nil
}

func orNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

func changeList(u keboola.ConfigUpdate, changes []string) string {
	if u.Name != nil {
		changes = append([]string{"renamed"}, changes...)
	}
	if u.Description != nil {
		changes = append(changes, "new description")
	}
	return "Changes: " + strings.Join(changes, "; ") + ".\n"
}

// conflictHint explains a version conflict: someone else saved meanwhile.
func conflictHint(err error) error {
	if errors.Is(err, keboola.ErrConflict) {
		return errorf("the configuration was changed by someone else meanwhile; read it again with get_configs and repeat the change (%v)", err)
	}
	return err
}

// --- run_sync_action -------------------------------------------------------

type runSyncActionInput struct {
	ComponentID        string         `json:"component_id" jsonschema:"The component, e.g. keboola.ex-db-mysql."`
	Action             string         `json:"action,omitempty" jsonschema:"The action name, e.g. testConnection or getTables."`
	ActionName         string         `json:"action_name,omitempty" jsonschema:"The Python server's name for action; give one of the two."`
	ConfigurationID    string         `json:"configuration_id,omitempty" jsonschema:"Run the action with this stored configuration (its secrets stay encrypted; the component decrypts them)."`
	ConfigurationRowID string         `json:"configuration_row_id,omitempty" jsonschema:"With configuration_id: merge this row's settings over the configuration's, as a run of the row sees them."`
	ConfigData         map[string]any `json:"config_data,omitempty" jsonschema:"Instead of a stored configuration: the configuration to use, e.g. {parameters: {…}}."`
}

// maxActionAnswer bounds a sync action's answer in the tool result; a
// getTables on a big database can return megabytes.
const maxActionAnswer = 20000

func runSyncAction(ctx context.Context, c call, in runSyncActionInput) (string, error) {
	compID, action := strings.TrimSpace(in.ComponentID), strings.TrimSpace(cmp.Or(in.Action, in.ActionName))
	if action == "" {
		return "", errorf("action (or action_name) is required, e.g. testConnection")
	}
	cfgID, rowID := strings.TrimSpace(in.ConfigurationID), strings.TrimSpace(in.ConfigurationRowID)
	var data map[string]any
	switch {
	case in.ConfigData != nil && cfgID != "":
		return "", errorf("give either configuration_id or config_data, not both")
	case in.ConfigData != nil:
		data = in.ConfigData
	case cfgID != "":
		var err error
		if data, err = storedConfigData(ctx, c.client, compID, cfgID, rowID); err != nil {
			return "", err
		}
	default:
		return "", errorf("give configuration_id (a stored configuration) or config_data")
	}
	if rowID != "" && cfgID == "" {
		return "", errorf("configuration_row_id needs configuration_id")
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return "", err
	}
	out, err := c.client.RunSyncAction(ctx, compID, action, raw)
	if err != nil {
		var apiErr *keboola.APIError
		if errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 && apiErr.Status != 401 && apiErr.Status != 403 {
			return "", errorf("action %s of %s failed: %s", action, compID, apiErr.Message)
		}
		return "", err
	}
	var v any
	_ = json.Unmarshal(out, &v)
	pretty, _ := json.Marshal(redactSecrets(v))
	text := string(pretty)
	if len(text) > maxActionAnswer {
		text = text[:maxActionAnswer] + fmt.Sprintf("… (answer cut at %d of %d characters)", maxActionAnswer, len(pretty))
	}
	return fmt.Sprintf("Action %s of %s answered:\n%s\n", action, compID, text), nil
}

// storedConfigData is the configData for an action on a stored
// configuration: its body with a row's merged over it, as a job run of that
// row sees it (the Python server replaces whole top-level keys instead, so
// a row's parameters lose the connection settings of the configuration).
func storedConfigData(ctx context.Context, c *keboola.Client, compID, cfgID, rowID string) (map[string]any, error) {
	cfg, err := c.GetConfig(ctx, compID, cfgID)
	if errors.Is(err, keboola.ErrNotFound) {
		return nil, errorf("configuration %s/%s not found; get_configs lists the existing ones", compID, cfgID)
	}
	if err != nil {
		return nil, err
	}
	data := map[string]any{}
	if len(cfg.Configuration) > 0 {
		_ = json.Unmarshal(cfg.Configuration, &data)
	}
	if rowID == "" {
		return data, nil
	}
	for _, r := range cfg.Rows {
		if r.ID.String() != rowID {
			continue
		}
		row := map[string]any{}
		if len(r.Configuration) > 0 {
			_ = json.Unmarshal(r.Configuration, &row)
		}
		return mergeObjects(data, row), nil
	}
	return nil, errorf("configuration %s/%s has no row %s", compID, cfgID, rowID)
}

// mergeObjects merges over into base: objects merge key by key, anything
// else in over replaces what base has.
func mergeObjects(base, over map[string]any) map[string]any {
	for k, v := range over {
		bm, baseIsObj := base[k].(map[string]any)
		om, overIsObj := v.(map[string]any)
		if baseIsObj && overIsObj {
			base[k] = mergeObjects(bm, om)
			continue
		}
		base[k] = v
	}
	return base
}

// --- create_oauth_url ------------------------------------------------------

type createOAuthURLInput struct {
	ComponentID string `json:"component_id" jsonschema:"The component to authorise, e.g. keboola.ex-google-analytics-v4."`
	ConfigID    string `json:"config_id" jsonschema:"The configuration to store the authorisation in."`
}

// oauthBrokerURL is Keboola's OAuth broker page, common to every stack.
const oauthBrokerURL = "https://external.keboola.com/oauth/index.html"

// oauthTokenTTL bounds the token in the link: long enough for a user to
// sign in, short enough that a leaked link soon stops working.
const oauthTokenTTL = time.Hour

func createOAuthURL(ctx context.Context, c call, in createOAuthURLInput) (string, error) {
	compID, cfgID := strings.TrimSpace(in.ComponentID), strings.TrimSpace(in.ConfigID)
	// Checking the component and the configuration first avoids minting a
	// token for a link that could not work.
	comp, err := lookupComponent(ctx, c.client, compID)
	if err != nil {
		return "", err
	}
	if !comp.UsesOAuth() {
		return "", errorf("%s does not sign in with OAuth, so it has no authorisation link; its credentials are parameters of the configuration (update_config, secrets under keys starting with #)", compID)
	}
	if _, err := c.client.GetConfig(ctx, compID, cfgID); errors.Is(err, keboola.ErrNotFound) {
		return "", errorf("configuration %s/%s not found; get_configs lists the existing ones, create_config makes a new one", compID, cfgID)
	} else if err != nil {
		return "", err
	}
	tok, err := c.client.CreateToken(ctx, keboola.TokenRequest{
		Description:     fmt.Sprintf("OAuth authorization of %s/%s (Keboola MCP server)", compID, cfgID),
		ComponentAccess: []string{compID},
		ExpiresIn:       oauthTokenTTL,
	})
	if err != nil {
		return "", err
	}
	q := url.Values{"token": {tok.Token.Reveal()}, "sapiUrl": {c.client.StackURL()}}
	link := oauthBrokerURL + "?" + q.Encode() + "#/" + url.PathEscape(compID) + "/" + url.PathEscape(cfgID)
	return fmt.Sprintf("Ask the user to open this link and sign in to authorise %s configuration %s (the link works for one hour):\n%s\n", compID, cfgID, link), nil
}
