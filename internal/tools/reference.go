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
	return b.String()
}

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
		vals := make([]string, len(p.Enum))
		for i, v := range p.Enum {
			vals[i] = fmt.Sprintf("`%v`", v)
		}
		return strings.Join(vals, " \\| ")
	}
	typ := p.Type
	if typ == "" {
		for _, t := range p.Types {
			if t != "null" {
				typ = t
			}
		}
	}
	if typ == "array" && p.Items != nil {
		return "array of " + typeOf(p.Items)
	}
	return typ
}
