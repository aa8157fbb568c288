package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// The semantic layer describes a project's data for analysts and models:
// semantic models, each with datasets (tables with a fully qualified SQL
// name), metrics (SQL expressions over a dataset), relationships (joins),
// glossary terms and constraints (business rules). The objects live in the
// Metastore; matching and validation happen here.

const (
	semModel        = "semantic-model"
	semDataset      = "semantic-dataset"
	semMetric       = "semantic-metric"
	semRelationship = "semantic-relationship"
	semGlossary     = "semantic-glossary"
	semConstraint   = "semantic-constraint"
)

var semanticTypes = []string{semModel, semDataset, semMetric, semRelationship, semGlossary, semConstraint}

var semanticTools = []Tool{
	define("search_semantic_context", "Search the semantic layer",
		"Finds semantic objects (models, datasets, metrics, relationships, glossary terms, constraints) whose "+
			"name or any attribute value matches one of the regular expressions in patterns (case-insensitive "+
			"unless case_sensitive). Use it to discover what the semantic layer says about business terms, table "+
			"ids or column names when you do not know object ids; semantic_types and semantic_model_ids narrow "+
			"the search. Returns one line per match: model, type, id, name and where it matched.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) {
			minLen(s, "patterns", 1)
			enum(s, "semantic_types", semanticTypes...)
			bounds(s, "max_results", 1, 500, 100)
		}, searchSemanticContext),
	define("get_semantic_context", "Load semantic objects",
		"Loads semantic objects by type. For a selection without ids, lists every object of that type in "+
			"compact form (one CSV line each); with ids, returns those objects with all their attributes. "+
			"semantic_model_ids limits the result to some models. List the models with "+
			"[{\"object_type\":\"semantic-model\"}]. To discover objects by keyword use search_semantic_context.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) {
			minLen(s, "semantic_objects", 1)
			selectionSchema(prop(s, "semantic_objects").Items)
		}, getSemanticContext),
	define("get_semantic_schema", "Get semantic object schemas",
		"Returns the JSON schema of each requested semantic object type: which attributes its objects have "+
			"and what they mean. Useful before searching for something specific.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) {
			minLen(s, "semantic_types", 1)
			enum(s, "semantic_types", semanticTypes...)
		}, getSemanticSchema),
	define("validate_semantic_query", "Check SQL against the semantic layer",
		"Checks a SQL query against one or more semantic models without running it: which datasets, metrics "+
			"and relationships it uses, which business rules (constraints) it breaks before execution, and which "+
			"checks to run on its result. valid=no means an error-severity rule is broken: fix the query before "+
			"query_data. With expected_semantic_objects it also says which expected objects the query misses and "+
			"which others it uses. Detection matches names and SQL fragments textually; it is a best-effort "+
			"review, not proof.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) {
			minLen(s, "sql_query", 1)
			minLen(s, "semantic_model_ids", 1)
			selectionSchema(prop(s, "expected_semantic_objects").Items)
		}, validateSemanticQuery),
}

// selectionSchema restricts a selection's type and makes its optional ids a
// plain array, as define does for top-level lists.
func selectionSchema(item *jsonschema.Schema) {
	enum(item, "object_type", semanticTypes...)
	ids := prop(item, "ids")
	ids.Type, ids.Types = "array", nil
}

// semObj is a semantic object with the attributes the tools read.
type semObj struct {
	typ, id, name string
	attrs         map[string]any
}

func (o *semObj) str(key string) string {
	v, _ := o.attrs[key].(string)
	return strings.TrimSpace(v)
}

func (o *semObj) strs(key string) []string {
	list, _ := o.attrs[key].([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out
}

// modelID is the model an object belongs to (a model belongs to itself).
func (o *semObj) modelID() string {
	if o.typ == semModel {
		return o.id
	}
	return o.str("modelUUID")
}

func toSemObj(m keboola.MetastoreObject, typ string) *semObj {
	o := &semObj{typ: typ, id: m.ID, attrs: map[string]any{}}
	if len(m.Attributes) > 0 {
		_ = json.Unmarshal(m.Attributes, &o.attrs) // attributes that are not an object leave only the meta name
	}
	o.name = firstNonBlank(o.str("name"), o.str("term"), m.Meta.Name, m.ID)
	return o
}

func firstNonBlank(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// pageSize per type: the Metastore fails on large pages of big objects, so
// datasets (which carry column lists) and metrics are fetched in small pages.
func pageSize(typ string) int {
	switch typ {
	case semDataset:
		return 1
	case semMetric:
		return 5
	}
	return 20
}

// maxSemanticObjects bounds one listing, so a runaway repository cannot
// keep a call paging for ever.
const maxSemanticObjects = 5000

// listSemantic returns every object of a type, optionally only of some models.
func listSemantic(ctx context.Context, c *keboola.Client, typ string, models map[string]bool) ([]*semObj, error) {
	limit := pageSize(typ)
	var out []*semObj
	for offset := 0; offset < maxSemanticObjects; offset += limit {
		page, err := c.ListMetastoreObjects(ctx, typ, limit, offset)
		if err != nil {
			return nil, semanticErr(err)
		}
		for _, m := range page {
			o := toSemObj(m, typ)
			if len(models) == 0 || models[o.modelID()] {
				out = append(out, o)
			}
		}
		if len(page) < limit {
			break
		}
	}
	return out, nil
}

// semanticErr explains a refused or missing Metastore: projects without
// the semantic layer have none.
func semanticErr(err error) error {
	if errors.Is(err, keboola.ErrForbidden) || errors.Is(err, keboola.ErrNotFound) {
		return errorf("the semantic layer (Metastore) is not available to this project or token: %v", err)
	}
	return err
}

func idSet(ids []string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" {
			out[id] = true
		}
	}
	return out
}

// uniqueIDs returns the non-blank ids, trimmed, without repeats, sorted, so
// answers list objects in a stable order.
func uniqueIDs(ids []string) []string {
	var out []string
	for id := range idSet(ids) {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

type semanticSelection struct {
	ObjectType string   `json:"object_type" jsonschema:"The semantic object type."`
	IDs        []string `json:"ids,omitempty" jsonschema:"UUIDs of the objects to return in full; empty lists every object of the type in compact form."`
}

type getSemanticContextInput struct {
	SemanticObjects  []semanticSelection `json:"semantic_objects" jsonschema:"What to load: one item per object type."`
	SemanticModelIDs []string            `json:"semantic_model_ids,omitempty" jsonschema:"Keep only objects of these semantic models (UUIDs); empty means all models."`
}

// compactColumns are the CSV columns of a type's compact listing; each is
// an attribute name, with id and name from the object itself.
var compactColumns = map[string][]string{
	semModel:        {"id", "name", "sql_dialect", "description"},
	semDataset:      {"id", "name", "tableId", "fqn", "modelUUID", "description"},
	semMetric:       {"id", "name", "dataset", "sql", "modelUUID", "description"},
	semRelationship: {"id", "name", "from", "to", "type", "on", "modelUUID"},
	semGlossary:     {"id", "name", "definition", "modelUUID"},
	semConstraint:   {"id", "name", "constraintType", "severity", "rule", "modelUUID", "description"},
}

func compactRow(o *semObj) []string {
	cols := compactColumns[o.typ]
	row := make([]string, len(cols))
	for i, col := range cols {
		switch col {
		case "id":
			row[i] = o.id
		case "name":
			row[i] = o.name
		case "description", "definition":
			row[i] = shorten(o.str(col), 200)
		default:
			row[i] = oneLine(o.str(col))
		}
	}
	return row
}

func getSemanticContext(ctx context.Context, c call, in getSemanticContextInput) (string, error) {
	if len(in.SemanticObjects) == 0 {
		return "", errorf("semantic_objects needs at least one item, e.g. [{\"object_type\":\"semantic-model\"}]")
	}
	models := idSet(in.SemanticModelIDs)
	var out strings.Builder
	for _, sel := range in.SemanticObjects {
		if !slices.Contains(semanticTypes, sel.ObjectType) {
			return "", errorf("unknown object_type %q; use one of %s", sel.ObjectType, strings.Join(semanticTypes, ", "))
		}
		if out.Len() > 0 {
			out.WriteString("\n")
		}
		if len(sel.IDs) == 0 {
			objs, err := listSemantic(ctx, c.client, sel.ObjectType, models)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&out, "%s: %s\n", sel.ObjectType, counted(len(objs), "object"))
			if len(objs) > 0 {
				rows := make([][]string, len(objs))
				for i, o := range objs {
					rows[i] = compactRow(o)
				}
				out.WriteString(csvTable(compactColumns[sel.ObjectType], rows))
			}
			continue
		}
		var missing []string
		n := 0
		for _, id := range uniqueIDs(sel.IDs) {
			m, err := c.client.GetMetastoreObject(ctx, sel.ObjectType, id)
			if errors.Is(err, keboola.ErrNotFound) {
				missing = append(missing, id)
				continue
			}
			if err != nil {
				return "", semanticErr(err)
			}
			o := toSemObj(*m, sel.ObjectType)
			if len(models) > 0 && !models[o.modelID()] {
				missing = append(missing, id+" (in another model)")
				continue
			}
			n++
			attrs, _ := json.Marshal(o.attrs)
			fmt.Fprintf(&out, "%s %s %q:\n%s\n", sel.ObjectType, o.id, o.name, attrs)
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(&out, "Not found among %s objects: %s (search_semantic_context finds objects by name).\n", sel.ObjectType, strings.Join(missing, ", "))
		}
		if n == 0 && len(in.SemanticObjects) == 1 {
			return "", errorf("no %s objects found with ids %s; search_semantic_context finds objects by name", sel.ObjectType, strings.Join(sel.IDs, ", "))
		}
	}
	return out.String(), nil
}

type getSemanticSchemaInput struct {
	SemanticTypes []string `json:"semantic_types" jsonschema:"The semantic object types whose JSON schemas to return."`
}

func getSemanticSchema(ctx context.Context, c call, in getSemanticSchemaInput) (string, error) {
	if len(in.SemanticTypes) == 0 {
		return "", errorf("semantic_types needs at least one type")
	}
	var out strings.Builder
	seen := map[string]bool{}
	for _, typ := range in.SemanticTypes {
		if seen[typ] {
			continue
		}
		seen[typ] = true
		schema, err := c.client.MetastoreSchema(ctx, typ)
		if errors.Is(err, keboola.ErrNotFound) {
			return "", errorf("the Metastore has no schema for %s", typ)
		}
		if err != nil {
			return "", semanticErr(err)
		}
		var v any
		if err := json.Unmarshal(schema, &v); err != nil {
			return "", fmt.Errorf("schema of %s: %w", typ, err)
		}
		compact, _ := json.Marshal(v)
		fmt.Fprintf(&out, "%s schema:\n%s\n", typ, compact)
	}
	return out.String(), nil
}

type searchSemanticInput struct {
	Patterns         []string `json:"patterns" jsonschema:"Regular expressions (RE2 syntax) matched against object names and attribute values, e.g. [\"revenue\", \"in.c-crm.orders\"]."`
	SemanticTypes    []string `json:"semantic_types,omitempty" jsonschema:"Search only these object types; empty searches all."`
	SemanticModelIDs []string `json:"semantic_model_ids,omitempty" jsonschema:"Search only objects of these semantic models (UUIDs); empty searches all."`
	CaseSensitive    bool     `json:"case_sensitive,omitempty" jsonschema:"Match letter case exactly."`
	MaxResults       int      `json:"max_results,omitempty" jsonschema:"Maximum number of matching objects to return."`
}

func searchSemanticContext(ctx context.Context, c call, in searchSemanticInput) (string, error) {
	var res []*regexp.Regexp
	for _, p := range in.Patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !in.CaseSensitive {
			p = "(?i)" + p
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return "", errorf("pattern %q is not a valid regular expression: %v", strings.TrimPrefix(p, "(?i)"), err)
		}
		res = append(res, re)
	}
	if len(res) == 0 {
		return "", errorf("patterns needs at least one non-empty regular expression")
	}
	types := in.SemanticTypes
	if len(types) == 0 {
		types = semanticTypes
	}
	maxResults := defaultInt(in.MaxResults, 100)
	models := idSet(in.SemanticModelIDs)
	var rows [][]string
	truncated := false
	for _, typ := range types {
		if len(rows) >= maxResults {
			truncated = true
			break
		}
		objs, err := listSemantic(ctx, c.client, typ, models)
		if err != nil {
			return "", err
		}
		for _, o := range objs {
			paths := matchPaths(o, res)
			if len(paths) == 0 {
				continue
			}
			if len(rows) >= maxResults {
				truncated = true
				break
			}
			rows = append(rows, []string{o.modelID(), typ, o.id, o.name, strings.Join(paths, " ")})
		}
	}
	if len(rows) == 0 {
		return "No semantic object matches. Try broader patterns, or get_semantic_context to list objects.\n", nil
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	out := csvTable([]string{"model_id", "object_type", "id", "name", "matched_paths"}, rows)
	if truncated {
		out += fmt.Sprintf("Stopped at max_results=%d; narrow the patterns or types for the rest.\n", maxResults)
	}
	return out + "get_semantic_context with ids gives the objects in full.\n", nil
}

// matchPaths returns where any pattern matches: "name" for the object's
// name, else the attribute path (e.g. columns[2].description).
func matchPaths(o *semObj, res []*regexp.Regexp) []string {
	hit := func(s string) bool {
		return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(s) })
	}
	var out []string
	if hit(o.name) {
		out = append(out, "name")
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, x[k])
			}
		case []any:
			for i, e := range x {
				walk(path+"["+strconv.Itoa(i)+"]", e)
			}
		case nil:
		default:
			if hit(fmt.Sprint(x)) && !slices.Contains(out, path) {
				out = append(out, path)
			}
		}
	}
	walk("", o.attrs)
	return out
}

type validateSemanticInput struct {
	SQLQuery                string              `json:"sql_query" jsonschema:"The SQL to check; it is not run."`
	SemanticModelIDs        []string            `json:"semantic_model_ids" jsonschema:"UUIDs of the semantic models to check against; objects are detected across all of them, rules are applied per model."`
	ExpectedSemanticObjects []semanticSelection `json:"expected_semantic_objects,omitempty" jsonschema:"Objects the query is meant to use: a type alone expects some object of that type, ids expect those objects."`
}

// modelContext is what validation needs of one model.
type modelContext struct {
	model                                      *semObj
	datasets, metrics, relationships, ruleSets []*semObj
}

// usage is the set of objects a query uses (detected or expected).
type usage struct {
	datasets, metrics, relationships []*semObj
}

func (u usage) byType() map[string][]*semObj {
	return map[string][]*semObj{semDataset: u.datasets, semMetric: u.metrics, semRelationship: u.relationships}
}

// finding is one constraint outcome.
type finding struct {
	constraint *semObj
	severity   string
	status     string
	message    string
	query      string
}

func validateSemanticQuery(ctx context.Context, c call, in validateSemanticInput) (string, error) {
	sql := strings.TrimSpace(in.SQLQuery)
	if sql == "" {
		return "", errorf("sql_query must not be empty")
	}
	modelIDs := uniqueIDs(in.SemanticModelIDs)
	if len(modelIDs) == 0 {
		return "", errorf("semantic_model_ids needs at least one model UUID; get_semantic_context with [{\"object_type\":\"semantic-model\"}] lists them")
	}
	ctxs, err := loadModelContexts(ctx, c.client, modelIDs)
	if err != nil {
		return "", err
	}
	detected := detectUsage(sql, ctxs)
	// The rules of the expected objects apply too (as in the Python
	// server, which validates the union); an expected object the SQL
	// misses makes the query invalid, so the union never hides a rule the
	// SQL itself breaks. One verdict covers both.
	checked := detected
	var expectations strings.Builder
	missingExpected := false
	if len(in.ExpectedSemanticObjects) > 0 {
		expected, err := loadExpected(ctx, c.client, in.ExpectedSemanticObjects, modelIDs)
		if err != nil {
			return "", err
		}
		checked = detected.with(expected)
		missingExpected = writeExpectations(&expectations, in.ExpectedSemanticObjects, detected, expected)
	}
	var out strings.Builder
	writeValidation(&out, ctxs, checked, len(detected.datasets) > 0, missingExpected)
	out.WriteString(expectations.String())
	return out.String(), nil
}

// with returns u plus the expected objects it lacks.
func (u usage) with(expected map[string][]*semObj) usage {
	add := func(have, more []*semObj) []*semObj {
		out := slices.Clone(have)
		for _, o := range more {
			if !slices.ContainsFunc(out, func(x *semObj) bool { return x.id == o.id }) {
				out = append(out, o)
			}
		}
		return out
	}
	return usage{datasets: add(u.datasets, expected[semDataset]), metrics: add(u.metrics, expected[semMetric]),
		relationships: add(u.relationships, expected[semRelationship])}
}

// loadModelContexts reads the models and, with one listing per object type
// for all of them, their datasets, metrics, relationships and constraints.
func loadModelContexts(ctx context.Context, c *keboola.Client, modelIDs []string) ([]*modelContext, error) {
	byID := map[string]*modelContext{}
	out := make([]*modelContext, 0, len(modelIDs))
	for _, id := range modelIDs {
		m, err := c.GetMetastoreObject(ctx, semModel, id)
		if errors.Is(err, keboola.ErrNotFound) {
			return nil, errorf("semantic model %s not found; get_semantic_context with [{\"object_type\":\"semantic-model\"}] lists the models", id)
		}
		if err != nil {
			return nil, semanticErr(err)
		}
		mc := &modelContext{model: toSemObj(*m, semModel)}
		byID[id] = mc
		out = append(out, mc)
	}
	models := idSet(modelIDs)
	types := []string{semDataset, semMetric, semRelationship, semConstraint}
	lists, errs := make([][]*semObj, len(types)), make([]error, len(types))
	var wg sync.WaitGroup
	for i, typ := range types {
		wg.Go(func() { lists[i], errs[i] = listSemantic(ctx, c, typ, models) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, typ := range types {
		for _, o := range lists[i] {
			mc := byID[o.modelID()]
			switch typ {
			case semDataset:
				mc.datasets = append(mc.datasets, o)
			case semMetric:
				mc.metrics = append(mc.metrics, o)
			case semRelationship:
				mc.relationships = append(mc.relationships, o)
			default:
				mc.ruleSets = append(mc.ruleSets, o)
			}
		}
	}
	return out, nil
}

// sqlContains reports whether the SQL mentions a candidate: as a whole word
// for a plain identifier, as a substring (ignoring case) otherwise.
func sqlContains(sqlLower, candidate string) bool {
	candidate = strings.ToLower(strings.TrimSpace(candidate))
	if candidate == "" {
		return false
	}
	if !identRe.MatchString(candidate) {
		return strings.Contains(sqlLower, candidate)
	}
	isWord := func(b byte) bool { return b == '_' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }
	for from := 0; ; {
		i := strings.Index(sqlLower[from:], candidate)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(candidate)
		if (start == 0 || !isWord(sqlLower[start-1])) && (end == len(sqlLower) || !isWord(sqlLower[end])) {
			return true
		}
		from = start + 1
	}
}

var (
	identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	// aggregateRe finds the column of a one-column aggregate such as SUM("x").
	aggregateRe = regexp.MustCompile(`^\s*\w+\s*\(\s*(?:DISTINCT\s+)?"?([A-Za-z_][A-Za-z0-9_]*)"?\s*\)\s*$`)
	// onIdentRe finds identifiers in a join condition, quoted or not, with
	// an optional table qualifier.
	onIdentRe = regexp.MustCompile(`(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_]*)(?:\s*\.\s*(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_]*))*`)
	literalRe = regexp.MustCompile(`'[^']*'`)
)

var sqlWords = map[string]bool{"and": true, "or": true, "not": true, "in": true, "is": true, "null": true, "true": true,
	"false": true, "on": true, "between": true, "like": true, "cast": true, "as": true, "coalesce": true, "lower": true, "upper": true, "trim": true}

// datasetNames are the ways a query may name a dataset: its fully qualified
// name, or that name without the database part (workspaces resolve both).
func datasetNames(d *semObj) []string {
	fqn := d.str("fqn")
	if fqn == "" {
		return nil
	}
	names := []string{fqn}
	if parts := splitQualified(fqn); len(parts) == 3 {
		names = append(names, parts[1]+"."+parts[2])
	}
	return names
}

// splitQualified splits a dotted SQL name, keeping quoted parts whole.
func splitQualified(name string) []string {
	var parts []string
	var cur strings.Builder
	quoted := false
	for _, r := range name {
		switch {
		case r == '"' || r == '`':
			quoted = !quoted
			cur.WriteRune(r)
		case r == '.' && !quoted:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(parts, cur.String())
}

// joinColumns are the column names of a join condition, qualifiers,
// literals and SQL words removed.
func joinColumns(on string) []string {
	var out []string
	for _, ident := range onIdentRe.FindAllString(literalRe.ReplaceAllString(on, ""), -1) {
		parts := splitQualified(strings.ReplaceAll(ident, " ", ""))
		col := strings.Trim(parts[len(parts)-1], `"`)
		if col != "" && !sqlWords[strings.ToLower(col)] && !slices.Contains(out, col) {
			out = append(out, col)
		}
	}
	return out
}

// detectUsage finds what the SQL uses, narrowing step by step to keep false
// positives down: datasets by name, then metrics of those datasets, then
// relationships between them.
func detectUsage(sql string, ctxs []*modelContext) usage {
	lower := strings.ToLower(sql)
	var u usage
	tables := map[string]bool{}
	for _, mc := range ctxs {
		for _, d := range mc.datasets {
			if slices.ContainsFunc(datasetNames(d), func(n string) bool { return sqlContains(lower, n) }) {
				u.datasets = append(u.datasets, d)
				tables[d.str("tableId")] = true
			}
		}
	}
	for _, mc := range ctxs {
		for _, m := range mc.metrics {
			if !tables[m.str("dataset")] {
				continue
			}
			cands := []string{m.str("sql")}
			if g := aggregateRe.FindStringSubmatch(m.str("sql")); g != nil {
				cands = append(cands, g[1])
			}
			if slices.ContainsFunc(cands, func(s string) bool { return sqlContains(lower, s) }) {
				u.metrics = append(u.metrics, m)
			}
		}
		for _, r := range mc.relationships {
			if !tables[r.str("from")] || !tables[r.str("to")] {
				continue
			}
			cols := joinColumns(r.str("on"))
			if len(cols) > 0 && !slices.ContainsFunc(cols, func(col string) bool { return !sqlContains(lower, col) }) {
				u.relationships = append(u.relationships, r)
			}
		}
	}
	return u
}

// evaluate applies one model's constraints to the objects a query uses.
func evaluate(mc *modelContext, u usage) (valid bool, violations, checks []finding) {
	metricNames, tables := map[string]bool{}, map[string]bool{}
	for _, m := range u.metrics {
		if m.modelID() == mc.model.id {
			metricNames[m.name] = true
		}
	}
	for _, d := range u.datasets {
		if d.modelID() == mc.model.id {
			tables[d.str("tableId")] = true
		}
	}
	valid = true
	dialect := strings.ToLower(mc.model.str("sql_dialect"))
	for _, rule := range mc.ruleSets {
		metrics, datasets := rule.strs("metrics"), rule.strs("datasets")
		usedMetrics := filter(metrics, func(m string) bool { return metricNames[m] })
		usedTables := filter(datasets, func(d string) bool { return tables[d] })
		// A rule scoped to nothing applies to every query of its model.
		if (len(metrics) > 0 || len(datasets) > 0) && len(usedMetrics) == 0 && len(usedTables) == 0 {
			continue
		}
		f := finding{constraint: rule, severity: firstNonBlank(rule.str("severity"), "error"), query: validationQuery(rule, dialect)}
		pre, _ := rule.attrs["ai"].(map[string]any)
		preCheck, _ := pre["preQueryCheck"].(bool)
		switch typ := rule.str("constraintType"); {
		case typ == "composition":
			missing := filter(metrics, func(m string) bool { return !metricNames[m] })
			if len(missing) == 0 {
				continue
			}
			f.status, f.message = "missing_metrics", ruleMessage(rule, "the query should also use: "+strings.Join(missing, ", "))
		case typ == "exclusion":
			if len(usedMetrics) < 2 && len(usedTables) < 2 {
				continue
			}
			f.status, f.message = "excluded_combination", ruleMessage(rule, "these objects must not be combined")
		case preCheck:
			f.status, f.message = "pre_query_check", ruleMessage(rule, "check this rule before trusting the result")
		case slices.Contains([]string{"inequality", "equality", "range", "temporal", "conditional"}, typ) || f.query != "":
			f.status, f.message = "post_query_check", ruleMessage(rule, "verify this rule on the result")
			checks = append(checks, f)
			continue
		default:
			continue
		}
		if f.severity == "error" {
			valid = false
		}
		violations = append(violations, f)
	}
	return valid, violations, checks
}

func filter(xs []string, keep func(string) bool) []string {
	var out []string
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

func ruleMessage(rule *semObj, fallback string) string {
	msg := firstNonBlank(rule.str("errorMessage"), fallback)
	if r := rule.str("remediation"); r != "" {
		msg += " Remediation: " + r
	}
	return msg
}

// validationQuery picks the rule's check query for the model's dialect.
func validationQuery(rule *semObj, dialect string) string {
	q, _ := rule.attrs["validationQuery"].(map[string]any)
	if v, ok := q[dialect].(string); ok && dialect != "" {
		return v
	}
	v, _ := q["default"].(string)
	return v
}

// writeValidation writes the one verdict on the objects checked (found in
// the SQL, plus any expected ones) and the rules that apply to them.
// recognised says whether the SQL itself uses a dataset of the models.
func writeValidation(out *strings.Builder, ctxs []*modelContext, u usage, recognised, missingExpected bool) {
	valid := true
	var violations, checks []finding
	dialects := map[string]bool{}
	var modelRows [][]string
	for _, mc := range ctxs {
		ok, v, ch := evaluate(mc, u)
		valid = valid && ok
		violations, checks = append(violations, v...), append(checks, ch...)
		if d := mc.model.str("sql_dialect"); d != "" {
			dialects[d] = true
		}
		modelRows = append(modelRows, []string{mc.model.id, mc.model.name, mc.model.str("sql_dialect")})
	}
	fmt.Fprintf(out, "Valid: %s\n", yesNo(valid && !missingExpected))
	if missingExpected {
		out.WriteString("The SQL does not use every expected object (see Expected objects below).\n")
	}
	out.WriteString("Models:\n" + csvTable([]string{"id", "name", "sql_dialect"}, modelRows))
	if len(dialects) > 1 {
		out.WriteString("Warning: the models use different SQL dialects; the query may not suit all of them.\n")
	}
	rows := func(objs []*semObj, cols ...string) [][]string {
		var rs [][]string
		for _, o := range objs {
			r := []string{o.id, o.name}
			for _, col := range cols {
				r = append(r, o.str(col))
			}
			rs = append(rs, r)
		}
		return rs
	}
	if len(u.datasets) > 0 {
		out.WriteString("Datasets:\n" + csvTable([]string{"id", "name", "table_id", "fqn"}, rows(u.datasets, "tableId", "fqn")))
	}
	if len(u.metrics) > 0 {
		out.WriteString("Metrics:\n" + csvTable([]string{"id", "name", "dataset", "sql"}, rows(u.metrics, "dataset", "sql")))
	}
	if len(u.relationships) > 0 {
		out.WriteString("Relationships:\n" + csvTable([]string{"id", "name", "on"}, rows(u.relationships, "on")))
	}
	findings := func(fs []finding) string {
		var rs [][]string
		for _, f := range fs {
			rs = append(rs, []string{f.constraint.id, f.constraint.name, f.severity, f.status, f.message, f.query})
		}
		return csvTable([]string{"constraint_id", "name", "severity", "status", "message", "validation_query"}, rs)
	}
	// A pre-query check is a rule to confirm, not something the SQL broke:
	// listing it as a violation told the model to fix a query that complied.
	broken := slices.DeleteFunc(slices.Clone(violations), func(f finding) bool { return f.status == "pre_query_check" })
	toConfirm := slices.DeleteFunc(slices.Clone(violations), func(f finding) bool { return f.status != "pre_query_check" })
	if len(broken) > 0 {
		out.WriteString("Violations (fix before running):\n" + findings(broken))
	}
	if len(toConfirm) > 0 {
		out.WriteString("Rules to confirm the SQL follows before running:\n" + findings(toConfirm))
	}
	if len(checks) > 0 {
		out.WriteString("Checks to run on the result:\n" + findings(checks))
	}
	if !recognised {
		out.WriteString("No dataset of these models was recognised in the SQL; use the fully qualified names (fqn) the datasets list.\n")
	} else if len(violations) == 0 && len(checks) == 0 {
		out.WriteString("No rule applies to this query.\n")
	}
}

// loadExpected reads the expected objects named by id, checking their type
// and model, grouped by type.
func loadExpected(ctx context.Context, c *keboola.Client, sels []semanticSelection, modelIDs []string) (map[string][]*semObj, error) {
	out := map[string][]*semObj{}
	for _, sel := range sels {
		if !slices.Contains(semanticTypes, sel.ObjectType) {
			return nil, errorf("unknown object_type %q; use one of %s", sel.ObjectType, strings.Join(semanticTypes, ", "))
		}
		for _, id := range uniqueIDs(sel.IDs) {
			m, err := c.GetMetastoreObject(ctx, sel.ObjectType, id)
			if errors.Is(err, keboola.ErrNotFound) {
				return nil, errorf("expected %s %s not found; search_semantic_context or get_semantic_context lists the existing objects", sel.ObjectType, id)
			}
			if err != nil {
				return nil, semanticErr(err)
			}
			o := toSemObj(*m, sel.ObjectType)
			if !slices.Contains(modelIDs, o.modelID()) {
				return nil, errorf("expected %s %s belongs to model %s, which is not among semantic_model_ids", sel.ObjectType, id, o.modelID())
			}
			if !slices.ContainsFunc(out[sel.ObjectType], func(x *semObj) bool { return x.id == o.id }) {
				out[sel.ObjectType] = append(out[sel.ObjectType], o)
			}
		}
	}
	return out, nil
}

// writeExpectations compares what the query uses with what was expected and
// reports whether an expected object is missing.
func writeExpectations(out *strings.Builder, sels []semanticSelection, detected usage, expected map[string][]*semObj) bool {
	found := detected.byType()
	var matched, missing, unexpected [][]string
	for _, sel := range sels {
		// A type without ids expects some object of that type.
		if len(sel.IDs) == 0 && len(found[sel.ObjectType]) == 0 && slices.Contains([]string{semDataset, semMetric, semRelationship}, sel.ObjectType) {
			missing = append(missing, []string{sel.ObjectType, "(any)", ""})
		}
	}
	for _, typ := range semanticTypes {
		for _, o := range expected[typ] {
			row := []string{typ, o.id, o.name}
			if slices.ContainsFunc(found[typ], func(x *semObj) bool { return x.id == o.id }) {
				matched = append(matched, row)
			} else {
				missing = append(missing, row)
			}
		}
	}
	expectedTypes := map[string]bool{}
	for _, sel := range sels {
		expectedTypes[sel.ObjectType] = true
	}
	for _, typ := range []string{semDataset, semMetric, semRelationship} {
		for _, o := range found[typ] {
			// Only a type the caller named can hold a surprise: a metric
			// needs its dataset, so expecting metrics does not make their
			// datasets unexpected.
			named := expected[typ]
			if expectedTypes[typ] && len(named) > 0 && !slices.ContainsFunc(named, func(x *semObj) bool { return x.id == o.id }) {
				unexpected = append(unexpected, []string{typ, o.id, o.name})
			}
		}
	}
	header := []string{"object_type", "id", "name"}
	out.WriteString("\nExpected objects:\n")
	if len(matched) > 0 {
		out.WriteString("Used as expected:\n" + csvTable(header, matched))
	}
	if len(missing) > 0 {
		out.WriteString("Expected but not found in the SQL:\n" + csvTable(header, missing))
	}
	if len(unexpected) > 0 {
		out.WriteString("Used but not expected:\n" + csvTable(header, unexpected))
	}
	if len(missing) == 0 && len(unexpected) == 0 {
		out.WriteString("The query uses exactly the expected objects.\n")
	}
	return len(missing) > 0
}
