package fakestack

import (
	"fmt"
	"net/http"
)

// Metastore (service "metastore", under /metastore): a JSON:API repository of
// typed objects. The semantic layer keeps its models, datasets, metrics,
// relationships, glossary terms and constraints there; objects other than a
// model name their model in attributes.modelUUID. Lists answer
// {"data":[…]} paged by limit/offset, details {"data":{…}}, and
// /api/v1/schema/{type} the type's JSON schema.

type metaObject struct {
	typ, id, name string
	attributes    map[string]any
	updated       string
}

func (o *metaObject) json(projectID int) map[string]any {
	return map[string]any{"type": o.typ, "id": o.id, "attributes": o.attributes, "meta": map[string]any{
		"name": o.name, "branch": "main", "revision": 1, "schemaVersion": "1.0.0", "projectId": projectID,
		"createdAt": o.updated, "lastUpdated": o.updated,
	}}
}

func (s *Stack) metastoreRoutes(mux *http.ServeMux) {
	auth := func(h storageHandler) http.HandlerFunc { return s.withAuth(headerOrBearer, storageErrors, h) }
	mux.Handle("GET /metastore/api/v1/repository/{type}", auth(s.handleMetaList))
	mux.Handle("GET /metastore/api/v1/repository/{type}/{id}", auth(s.handleMetaObject))
	mux.Handle("GET /metastore/api/v1/schema/{type}", auth(s.handleMetaSchema))
}

func (s *Stack) handleMetaList(w http.ResponseWriter, r *http.Request, _ *caller) {
	q := r.URL.Query()
	limit, offset, err := queryPage(q, 1000)
	if err != nil {
		badRequest(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	typ := r.PathValue("type")
	if _, ok := semanticSchemas[typ]; !ok {
		writeError(w, storageErrors, http.StatusNotFound, "notFound", fmt.Sprintf("Unknown object type %q", typ))
		return
	}
	var all []*metaObject
	for _, o := range s.state.metaObjects {
		if o.typ == typ {
			all = append(all, o)
		}
	}
	out := []any{}
	for _, o := range pageOf(all, limit, offset) {
		out = append(out, o.json(s.opts.ProjectID))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (s *Stack) handleMetaObject(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.state.metaObjects {
		if o.typ == r.PathValue("type") && o.id == r.PathValue("id") {
			writeJSON(w, http.StatusOK, map[string]any{"data": o.json(s.opts.ProjectID)})
			return
		}
	}
	writeError(w, storageErrors, http.StatusNotFound, "notFound", fmt.Sprintf("Object %s of type %s not found", r.PathValue("id"), r.PathValue("type")))
}

func (s *Stack) handleMetaSchema(w http.ResponseWriter, r *http.Request, _ *caller) {
	schema, ok := semanticSchemas[r.PathValue("type")]
	if !ok {
		writeError(w, storageErrors, http.StatusNotFound, "notFound", fmt.Sprintf("No schema for object type %q", r.PathValue("type")))
		return
	}
	writeJSON(w, http.StatusOK, schema)
}

func jsonSchema(title string, required []string, props map[string]any) map[string]any {
	return map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, "version": "1.0.0",
		"type": "object", "required": required, "properties": props}
}

var (
	schemaStr  = map[string]any{"type": "string"}
	schemaStrs = map[string]any{"type": "array", "items": schemaStr}
)

// semanticSchemas are the JSON schemas of the semantic object types.
var semanticSchemas = map[string]map[string]any{
	"semantic-model": jsonSchema("semantic-model", []string{"name", "sql_dialect"}, map[string]any{
		"name": schemaStr, "description": schemaStr, "sql_dialect": map[string]any{"enum": []string{"snowflake", "bigquery"}}}),
	"semantic-dataset": jsonSchema("semantic-dataset", []string{"name", "tableId", "fqn", "modelUUID"}, map[string]any{
		"name": schemaStr, "description": schemaStr, "tableId": schemaStr, "fqn": schemaStr, "modelUUID": schemaStr,
		"columns": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{"name": schemaStr, "description": schemaStr}}}}),
	"semantic-metric": jsonSchema("semantic-metric", []string{"name", "sql", "dataset", "modelUUID"}, map[string]any{
		"name": schemaStr, "description": schemaStr, "sql": schemaStr, "dataset": schemaStr, "modelUUID": schemaStr}),
	"semantic-relationship": jsonSchema("semantic-relationship", []string{"name", "from", "to", "on", "modelUUID"}, map[string]any{
		"name": schemaStr, "from": schemaStr, "to": schemaStr, "type": map[string]any{"enum": []string{"one-to-one", "one-to-many", "many-to-one"}},
		"on": schemaStr, "modelUUID": schemaStr}),
	"semantic-glossary": jsonSchema("semantic-glossary", []string{"term", "definition", "modelUUID"}, map[string]any{
		"term": schemaStr, "definition": schemaStr, "synonyms": schemaStrs, "modelUUID": schemaStr}),
	"semantic-constraint": jsonSchema("semantic-constraint", []string{"name", "constraintType", "modelUUID"}, map[string]any{
		"name": schemaStr, "description": schemaStr, "modelUUID": schemaStr, "rule": schemaStr, "errorMessage": schemaStr, "remediation": schemaStr,
		"constraintType": map[string]any{"enum": []string{"composition", "exclusion", "conditional", "range", "equality", "inequality", "temporal"}},
		"severity":       map[string]any{"enum": []string{"error", "warning", "info"}},
		"metrics":        schemaStrs, "datasets": schemaStrs,
		"ai": map[string]any{"type": "object", "properties": map[string]any{"preQueryCheck": map[string]any{"type": "boolean"}}},
		"validationQuery": map[string]any{"type": "object", "properties": map[string]any{
			"snowflake": schemaStr, "bigquery": schemaStr, "default": schemaStr}}}),
}

// seedSemanticLayer adds a semantic model of the demo's sales data.
func seedSemanticLayer(s *Stack) {
	st := s.state
	updated := fmtTime(demoEpoch)
	uuid := func() string { return fmt.Sprintf("5e3a0000-0000-4000-8000-%012d", st.nextID()) }
	add := func(typ, name string, attrs map[string]any) string {
		o := &metaObject{typ: typ, id: uuid(), name: name, attributes: attrs, updated: updated}
		st.metaObjects = append(st.metaObjects, o)
		return o.id
	}
	fqn := func(tableID string) string {
		t := st.tables[tableID]
		return fmt.Sprintf("%q.%q.%q", s.bucketDatabase(t.bucket), t.bucket.schema(), t.name)
	}
	model := add("semantic-model", "Retail sales", map[string]any{"name": "Retail sales", "sql_dialect": "snowflake",
		"description": "Orders, customers and revenue of the demo retail shop."})
	dataset := func(tableID, name, desc string) {
		add("semantic-dataset", name, map[string]any{"name": name, "description": desc, "tableId": tableID, "fqn": fqn(tableID), "modelUUID": model})
	}
	dataset("in.c-crm.orders", "Orders", "One row per order with its status and total in US dollars.")
	dataset("in.c-crm.customers", "Customers", "Customer accounts with segment and country.")
	metric := func(name, sql, desc string) {
		add("semantic-metric", name, map[string]any{"name": name, "sql": sql, "dataset": "in.c-crm.orders", "description": desc, "modelUUID": model})
	}
	metric("Revenue", `SUM("total_usd")`, "Revenue of completed orders in US dollars.")
	metric("Order count", `COUNT(DISTINCT "order_id")`, "Number of distinct orders.")
	add("semantic-relationship", "Orders to customers", map[string]any{"name": "Orders to customers", "from": "in.c-crm.orders",
		"to": "in.c-crm.customers", "type": "many-to-one", "on": `orders."customer_id" = customers."customer_id"`, "modelUUID": model})
	add("semantic-glossary", "Net revenue", map[string]any{"term": "Net revenue", "synonyms": []any{"sales"},
		"definition": "Revenue of completed orders; refunded and pending orders are left out.", "modelUUID": model})
	add("semantic-constraint", "Revenue with order count", map[string]any{"name": "Revenue with order count",
		"constraintType": "composition", "severity": "error", "metrics": []any{"Revenue", "Order count"}, "modelUUID": model,
		"errorMessage": "Revenue must be reported together with the order count.", "remediation": `Add COUNT(DISTINCT "order_id") to the query.`})
	add("semantic-constraint", "Completed orders only", map[string]any{"name": "Completed orders only",
		"constraintType": "conditional", "severity": "warning", "metrics": []any{"Revenue"}, "modelUUID": model,
		"rule": `"status" = 'completed'`, "ai": map[string]any{"preQueryCheck": true},
		"errorMessage": `Revenue counts completed orders only: filter on "status" = 'completed'.`})
	add("semantic-constraint", "Revenue is not negative", map[string]any{"name": "Revenue is not negative",
		"constraintType": "range", "severity": "error", "datasets": []any{"in.c-crm.orders"}, "modelUUID": model,
		"validationQuery": map[string]any{"snowflake": `SELECT COUNT(*) FROM ` + fqn("in.c-crm.orders") + ` WHERE "total_usd" < 0`}})
}
