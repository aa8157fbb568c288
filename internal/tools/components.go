package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

var componentTypes = []string{keboola.ComponentTypeExtractor, keboola.ComponentTypeTransformation,
	keboola.ComponentTypeWriter, keboola.ComponentTypeApplication}

var componentTools = []Tool{
	define("get_components", "List or get components",
		"Without component_ids: lists the components the project uses (id, type, name, number of "+
			"configurations), optionally only of some types. With component_ids: describes those components "+
			"(what they do, documentation link, configuration count), also ones the project does not use yet.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) { enum(s, "types", componentTypes...) },
		getComponents),
	define("get_configs", "List or get configurations",
		"Without configs: lists configurations (component, id, name, description, disabled), filtered by "+
			"component_types and/or component_ids, paged with limit/offset. With configs: returns each named "+
			"configuration in full: its JSON (secrets redacted), its rows and a link.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) {
			enum(s, "component_types", componentTypes...)
			paging(s, listPage, listPageMax)
		}, getConfigs),
	define("find_component_id", "Find a component",
		"Finds the Keboola components that fit a task described in words (e.g. \"load data from Google "+
			"Sheets\"), best match first, with their ids for get_components and configuration.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) { minLen(s, "query", 1) },
		findComponentID),
}

type getComponentsInput struct {
	ComponentIDs []string `json:"component_ids,omitempty" jsonschema:"Ids of the components to describe (e.g. keboola.ex-db-mysql). Leave empty to list the components in use."`
	Types        []string `json:"types,omitempty" jsonschema:"When listing, keep only components of these types."`
}

func getComponents(ctx context.Context, c call, in getComponentsInput) (string, error) {
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	if len(in.ComponentIDs) > 0 {
		return componentDetails(ctx, c.client, u, in.ComponentIDs)
	}
	comps, err := c.client.ListComponents(ctx, keboola.ListComponentsOptions{Types: in.Types, IncludeConfigs: true})
	if err != nil {
		return "", err
	}
	var rows [][]string
	for _, comp := range comps {
		if n := liveConfigs(comp.Configurations); n > 0 {
			rows = append(rows, []string{comp.ID, comp.Type, comp.Name, fmt.Sprint(n)})
		}
	}
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(a[1]+a[0], b[1]+b[0]) })
	if len(rows) == 0 {
		return "The project has no configured components" + typesNote(in.Types) + ".\n" + links("Components", u.UsedComponents()), nil
	}
	return counted(len(rows), "component") + " in use" + typesNote(in.Types) + ".\n" +
		csvTable([]string{"id", "type", "name", "configurations"}, rows) +
		links("Components", u.UsedComponents()), nil
}

func typesNote(types []string) string {
	if len(types) == 0 {
		return ""
	}
	return " (types: " + strings.Join(types, ", ") + ")"
}

func liveConfigs(cfgs []keboola.Config) int {
	n := 0
	for _, cfg := range cfgs {
		if !cfg.IsDeleted {
			n++
		}
	}
	return n
}

func componentDetails(ctx context.Context, c *keboola.Client, u keboola.Links, ids []string) (string, error) {
	return describeEach(ids, "component(s)", "find_component_id finds components for a task; get_components without component_ids lists the ones in use.", func(id string) (string, bool, error) {
		comp, err := c.GetComponent(ctx, id)
		if errors.Is(err, keboola.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		var f fields
		f.add("Component", comp.ID)
		f.add("Name", comp.Name)
		f.add("Type", comp.Type)
		f.add("Description", comp.Description)
		if comp.LongDescription != "" && comp.LongDescription != comp.Description {
			f.add("Details", shorten(comp.LongDescription, 600))
		}
		// The component detail carries no configurations: count them from
		// the component's own list.
		cfgs, err := c.ListConfigs(ctx, comp.ID)
		if err != nil && !errors.Is(err, keboola.ErrNotFound) {
			return "", false, err
		}
		f.add("Configurations", fmt.Sprint(liveConfigs(cfgs)))
		f.add("Documentation", comp.DocumentationURL)
		f.add("Link", u.Component(comp.ID))
		out := f.String()
		// create_config, add_config_row and update_config send the model
		// here for the parameters' shape.
		if schema := compactJSON(comp.ConfigurationSchema); schema != "" {
			out += "Configuration schema (parameters of create_config / update_config):\n" + schema + "\n"
		}
		if schema := compactJSON(comp.ConfigurationRowSchema); schema != "" {
			out += "Row schema (parameters of add_config_row / update_config_row):\n" + schema + "\n"
		}
		return out, true, nil
	})
}

type configRef struct {
	ComponentID     string `json:"component_id" jsonschema:"The component id, e.g. keboola.snowflake-transformation."`
	ConfigurationID string `json:"configuration_id" jsonschema:"The configuration id within the component."`
}

type getConfigsInput struct {
	ComponentTypes []string    `json:"component_types,omitempty" jsonschema:"When listing, keep only configurations of components of these types."`
	ComponentIDs   []string    `json:"component_ids,omitempty" jsonschema:"When listing, keep only configurations of these components."`
	Configs        []configRef `json:"configs,omitempty" jsonschema:"Configurations to return in full."`
	Limit          int         `json:"limit,omitempty" jsonschema:"Maximum number of configurations to list."`
	Offset         int         `json:"offset,omitempty" jsonschema:"Number of configurations to skip, for paging."`
}

func getConfigs(ctx context.Context, c call, in getConfigsInput) (string, error) {
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	if len(in.Configs) > 0 {
		return configDetails(ctx, c.client, u, in.Configs)
	}
	// One request lists every configuration; filtering by id here is
	// cheaper than a request per component.
	comps, err := c.client.ListComponents(ctx, keboola.ListComponentsOptions{Types: in.ComponentTypes, IncludeConfigs: true})
	if err != nil {
		return "", err
	}
	var rows [][]string
	seen := map[string]bool{}
	for _, comp := range comps {
		if len(in.ComponentIDs) > 0 && !slices.Contains(in.ComponentIDs, comp.ID) {
			continue
		}
		seen[comp.ID] = true
		for _, cfg := range comp.Configurations {
			if cfg.IsDeleted {
				continue
			}
			disabled := ""
			if cfg.IsDisabled {
				disabled = "yes"
			}
			rows = append(rows, []string{comp.ID, cfg.ID.String(), cfg.Name, shorten(cfg.Description, 100), disabled, u.Config(comp.ID, cfg.ID.String())})
		}
	}
	var unused []string
	for _, id := range in.ComponentIDs {
		if !seen[id] {
			unused = append(unused, id)
		}
	}
	if len(unused) > 0 && len(rows) == 0 {
		return "", errorf("no configurations of %s%s. get_components lists the components in use.", strings.Join(unused, ", "), typesNote(in.ComponentTypes))
	}
	if len(rows) == 0 {
		return "No configurations match.\n" + links("Components", u.UsedComponents()), nil
	}
	lo, hi, note := window(len(rows), in.Offset, defaultInt(in.Limit, listPage))
	var out strings.Builder
	out.WriteString(counted(len(rows), "configuration") + ".\n")
	if hi > lo {
		out.WriteString(csvTable([]string{"component_id", "configuration_id", "name", "description", "disabled", "link"}, rows[lo:hi]))
	}
	if note != "" {
		out.WriteString(note + "\n")
	}
	if len(unused) > 0 {
		fmt.Fprintf(&out, "No configurations of: %s.\n", strings.Join(unused, ", "))
	}
	return out.String(), nil
}

func configDetails(ctx context.Context, c *keboola.Client, u keboola.Links, refs []configRef) (string, error) {
	ids := make([]string, len(refs))
	byID := make(map[string]configRef, len(refs))
	for i, ref := range refs {
		if ref.ComponentID == "" || ref.ConfigurationID == "" {
			return "", errorf("each item of configs needs component_id and configuration_id")
		}
		ids[i] = ref.ComponentID + "/" + ref.ConfigurationID
		byID[ids[i]] = ref
	}
	return describeEach(ids, "configuration(s)", "get_configs without configs lists the existing ones.", func(id string) (string, bool, error) {
		ref := byID[id]
		cfg, err := c.GetConfig(ctx, ref.ComponentID, ref.ConfigurationID)
		if errors.Is(err, keboola.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		var out strings.Builder
		var f fields
		f.add("Component", ref.ComponentID)
		f.add("Configuration", cfg.ID.String())
		f.add("Name", cfg.Name)
		f.add("Description", cfg.Description)
		f.add("Version", fmt.Sprint(cfg.Version))
		if cfg.IsDisabled {
			f.add("Disabled", "yes")
		}
		f.add("Link", u.Config(ref.ComponentID, cfg.ID.String()))
		out.WriteString(f.String())
		if body := redactedJSON(cfg.Configuration); body != "" {
			out.WriteString("Configuration JSON:\n" + body + "\n")
		}
		for _, row := range cfg.Rows {
			fmt.Fprintf(&out, "Row %s %q", row.ID, row.Name)
			if row.IsDisabled {
				out.WriteString(" (disabled)")
			}
			out.WriteString(":\n")
			if body := redactedJSON(row.Configuration); body != "" {
				out.WriteString(body + "\n")
			}
		}
		return out.String(), true, nil
	})
}

// redactedJSON renders a configuration compactly with the values of
// secret keys (those starting with #) replaced, empty for no configuration.
func redactedJSON(raw keboola.RawObject) string {
	return renderObject(raw, redactSecrets)
}

// compactJSON renders a JSON object on one line, empty for none or {}.
func compactJSON(raw keboola.RawObject) string {
	return renderObject(raw, func(v any) any { return v })
}

func renderObject(raw keboola.RawObject, transform func(any) any) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return ""
	}
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return ""
	}
	b, err := json.Marshal(transform(v))
	if err != nil {
		return ""
	}
	return string(b)
}

func redactSecrets(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if strings.HasPrefix(k, "#") {
				x[k] = "[REDACTED]"
			} else {
				x[k] = redactSecrets(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = redactSecrets(x[i])
		}
	}
	return v
}

type findComponentIDInput struct {
	Query string `json:"query" jsonschema:"What the component should do, in plain words, e.g. extract data from PostgreSQL."`
}

func findComponentID(ctx context.Context, c call, in findComponentIDInput) (string, error) {
	q := strings.TrimSpace(in.Query)
	if q == "" {
		return "", errorf("query must describe what the component should do")
	}
	sugg, err := c.client.SuggestComponents(ctx, q)
	if err != nil {
		return "", err
	}
	if len(sugg) == 0 {
		return "No component fits that description; rephrase it, or ask docs_query.\n", nil
	}
	rows := make([][]string, 0, len(sugg))
	for _, s := range sugg {
		rows = append(rows, []string{s.ComponentID, fmt.Sprintf("%.2f", s.Score)})
	}
	return csvTable([]string{"component_id", "score"}, rows) + "Use get_components with these ids for details.\n", nil
}
