package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// nullableOptionals lets every optional property of s, at every depth, be
// null, as the Python server's schemas do. The null never reaches a handler:
// nullsAsAbsent drops it first, so null means "not given" and the default
// applies.
func nullableOptionals(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	for name, p := range s.Properties {
		if !slices.Contains(s.Required, name) {
			allowNull(p)
		}
		nullableOptionals(p)
	}
	nullableOptionals(s.Items)
	for _, alt := range s.AnyOf {
		nullableOptionals(alt)
	}
}

func allowNull(p *jsonschema.Schema) {
	switch {
	case p.Type != "":
		p.Types, p.Type = []string{p.Type, "null"}, ""
	case len(p.Types) > 0 && !slices.Contains(p.Types, "null"):
		p.Types = append(p.Types, "null")
	case len(p.Types) == 0:
		return // any type: null is already allowed
	}
	if p.Enum != nil && !slices.Contains(p.Enum, nil) {
		p.Enum = append(p.Enum, nil)
	}
}

// nullsAsAbsent removes the optional properties a tools/call sets to null,
// at every depth the tool's schema describes, before the SDK validates the
// arguments and applies defaults: a Python-shaped {"limit": null} then
// means what it means there, the default limit. Values under free-form
// objects (configuration parameters, storage mappings) keep their nulls.
func nullsAsAbsent(schemas map[string]*jsonschema.Schema) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			call, ok := req.(*mcp.CallToolRequest)
			if !ok || call.Params == nil || !bytes.Contains(call.Params.Arguments, []byte("null")) {
				return next(ctx, method, req)
			}
			schema := schemas[call.Params.Name]
			var args map[string]any
			if schema == nil || json.Unmarshal(call.Params.Arguments, &args) != nil {
				return next(ctx, method, req) // the SDK reports what is wrong
			}
			if dropNulls(args, schema) {
				if b, err := json.Marshal(args); err == nil {
					call.Params.Arguments = b
				}
			}
			return next(ctx, method, req)
		}
	}
}

// dropNulls deletes obj's null optional properties and recurses into the
// objects and arrays s describes. It reports whether it changed anything.
func dropNulls(obj map[string]any, s *jsonschema.Schema) bool {
	changed := false
	for name, v := range obj {
		p, known := s.Properties[name]
		if !known {
			continue
		}
		if v == nil {
			if !slices.Contains(s.Required, name) {
				delete(obj, name)
				changed = true
			}
			continue
		}
		if dropNullsIn(v, p) {
			changed = true
		}
	}
	return changed
}

func dropNullsIn(v any, s *jsonschema.Schema) bool {
	changed := false
	switch v := v.(type) {
	case map[string]any:
		if len(s.Properties) > 0 {
			changed = dropNulls(v, s)
		}
		for _, alt := range s.AnyOf {
			if len(alt.Properties) > 0 && dropNulls(v, alt) {
				changed = true
			}
		}
	case []any:
		if s.Items == nil {
			return false
		}
		for _, item := range v {
			if dropNullsIn(item, s.Items) {
				changed = true
			}
		}
	}
	return changed
}
