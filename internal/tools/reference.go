package tools

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// Reference renders the tool reference (docs/tools.md) from the tool
// definitions, so the documentation cannot drift from the code; a test
// fails when the committed file is stale.
func Reference() string {
	var b strings.Builder
	b.WriteString("# Tool reference\n\n")
	b.WriteString("Generated from the tool definitions by `go test ./internal/tools -run TestToolReference -update`; do not edit.\n\n")
	b.WriteString("| tool | kind | title |\n|---|---|---|\n")
	for _, t := range registry {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", t.Name(), t.Name(), kind(t), t.def.Title)
	}
	for _, t := range registry {
		fmt.Fprintf(&b, "\n## %s\n\n**%s** · %s\n\n%s\n", t.Name(), t.def.Title, kind(t), t.def.Description)
		if out, ok := t.def.OutputSchema.(*jsonschema.Schema); ok {
			b.WriteString("\nBesides the text, it answers with `structuredContent` (its `outputSchema`):\n\n| field | type | description |\n|---|---|---|\n")
			for _, name := range propertyNames(out) {
				p := out.Properties[name]
				fmt.Fprintf(&b, "| `%s` | %s | %s |\n", name, typeOf(p), strings.ReplaceAll(p.Description, "|", "\\|"))
			}
		}
		s := t.def.InputSchema.(*jsonschema.Schema)
		if len(s.Properties) == 0 {
			b.WriteString("\nNo parameters.\n")
			continue
		}
		b.WriteString("\n| parameter | type | required | description |\n|---|---|---|---|\n")
		for _, name := range propertyNames(s) {
			p := s.Properties[name]
			req := ""
			if slices.Contains(s.Required, name) {
				req = "yes"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", name, typeOf(p), req, strings.ReplaceAll(p.Description, "|", "\\|"))
		}
	}
	b.WriteString(pythonDifferences)
	return b.String()
}

// pythonDifferences is the hand-written part of the reference: how these
// tools take calls made for the Python Keboola MCP server
// (keboola/mcp-server), and where they deliberately do something else.
const pythonDifferences = `
## Differences from the Python server

Every tool accepts the calls of the Python Keboola MCP server (v1.76): each parameter of its published input
schemas, under the same name, with a type at least as wide and every enum value; ` + "`null`" + ` for any optional
parameter means "not given" (its default applies). ` + "`internal/tools/testdata/python-shapes.json`" + ` holds such calls
for every tool and a test runs them through the MCP SDK's own validation. Where the meaning differs:

| tool | parameter | here | why |
|---|---|---|---|
| ` + "`run_sync_action`" + ` | ` + "`action_name`" + ` | same as ` + "`action`" + `; either may be given | our original name is kept for existing callers |
| ` + "`run_sync_action`" + ` | ` + "`configuration_id`" + ` | optional: ` + "`config_data`" + ` can test a configuration before it is saved | wider, not narrower |
| ` + "`modify_flow`" + ` | ` + "`schedules[].cronTab`" + `, ` + "`scheduleId`" + ` | same as ` + "`cron_tab`" + `, ` + "`schedule_id`" + ` | the Python schema publishes camelCase, its description snake_case; both work |
| ` + "`link_shared_bucket`" + ` | ` + "`source_project_id`" + ` | a string or an integer | as in Python |
| ` + "`search`" + ` | ` + "`item_types`" + ` ` + "`component`" + `, ` + "`rows`" + `, ` + "`workspace`" + `, ` + "`shared-code`" + `, ` + "`state`" + ` | component: configurations and rows; rows: configuration rows; workspace, shared-code, state: configurations | our search knows configurations by kind, not those Python-only types |
| ` + "`update_sql_transformation`" + ` | ` + "`description`" + ` | same as ` + "`updated_description`" + ` | both names work; giving both with different values is refused |
| ` + "`get_jobs`" + ` | ` + "`include_logs`" + ` | job details always end with the job's newest log events, also when it is false | a failed job's reason is always wanted; ` + "`log_tail_lines`" + ` (default 20 here, 50 in Python) and ` + "`log_event_types`" + ` shape the log as in Python |
| ` + "`get_tables`" + ` | ` + "`include_usage`" + ` | applies to ` + "`table_ids`" + ` (the described tables), not to whole-bucket listings | a bucket can hold hundreds of tables; usage is found by a config-based search of storage mappings |
| configurations, SQL transformations, flows, data apps | ` + "`folder`" + ` | files the configuration into the UI folder (` + "`KBC.configuration.folderName`" + ` metadata), also alone; an empty string takes it out of its folder, as in Python; a folder change that fails is told in the answer; ` + "`update_config`" + ` files any component's configuration | Python logs a failed folder change and answers as if it were made, and its ` + "`update_config`" + ` files only Python and R transformations. In a development branch Keboola refuses to delete configuration metadata (HTTP 501), so taking a configuration out of its folder fails there, and the answer says so |
| ` + "`create_config`" + `, ` + "`update_config`" + `, SQL transformations | ` + "`variables`" + ` | as in Python: definitions in a linked ` + "`keboola.variables`" + ` configuration (` + "`variables_id`" + `), default values in its Default Values row (` + "`variables_values_id`" + `); names must be unique and made of letters, digits, ` + "`_`" + ` and ` + "`-`" + `; ` + "`[]`" + ` on update moves that configuration to the trash | Python deletes it for good; from the trash it can be restored along with an older version of the configuration that points at it |

Tool visibility follows the Python server's rules per session (a readOnly token sees read tools only; ` + "`modify_flow`" + ` for
admin, share and Keboola OAuth sessions, ` + "`update_flow`" + ` for other roles; ` + "`create_flow`" + ` only in projects with the
` + "`hide-conditional-flows`" + ` feature, ` + "`create_conditional_flow`" + ` elsewhere; data app tools only on the main branch;
semantic tools only in projects with a semantic model); the stricter of that and the OAuth scope wins.
`

func kind(t Tool) string {
	a := t.def.Annotations
	switch {
	case a.ReadOnlyHint:
		return "read-only"
	case a.DestructiveHint != nil && *a.DestructiveHint:
		return "write, destructive"
	}
	return "write"
}

// propertyNames lists properties in declaration order.
func propertyNames(s *jsonschema.Schema) []string {
	if len(s.PropertyOrder) == len(s.Properties) {
		return s.PropertyOrder
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// typeOf renders a property's JSON type compactly: string, integer,
// array of string, array of object, "a" | "b" for enums.
func typeOf(p *jsonschema.Schema) string {
	if len(p.Enum) > 0 {
		var vals []string
		for _, v := range p.Enum {
			if v != nil { // null: every optional parameter takes it
				vals = append(vals, fmt.Sprintf("`%v`", v))
			}
		}
		return strings.Join(vals, " \\| ")
	}
	typ := p.Type
	if typ == "" {
		var types []string
		for _, t := range p.Types {
			if t != "null" {
				types = append(types, t)
			}
		}
		typ = strings.Join(types, " or ")
	}
	if typ == "array" && p.Items != nil {
		return "array of " + typeOf(p.Items)
	}
	if typ == "" {
		return "any"
	}
	return typ
}
