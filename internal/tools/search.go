package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// Item types the search knows, named as the Python server names them so
// prompts written for it keep working; "column" is ours.
var searchItemTypes = []string{"bucket", "table", "column", "configuration", "configuration-row", "transformation", "flow", "data-app",
	"component", "workspace", "shared-code", "rows", "state"}

// pythonItemTypes are the Python server's item types that name no kind of
// ours, with the kinds that hold those items here: its "component" means the
// configurations and rows of extractors, writers and applications, "rows"
// configuration rows; workspaces, shared code and states are configurations
// of their own components, which our configuration search covers.
var pythonItemTypes = map[string][]string{
	"component":   {"configuration", "configuration-row"},
	"rows":        {"configuration-row"},
	"workspace":   {"configuration"},
	"shared-code": {"configuration"},
	"state":       {"configuration"},
}

// Pattern modes: literal substrings by default (what a person types),
// regular expressions on request.
const (
	modeLiteral = "literal"
	modeRegex   = "regex"
)

// Search types, as the Python server names them: textual matches ids,
// names and descriptions; config-based matches the configuration JSON of
// configuration-like items (optionally only under some paths), which finds
// where a table, a configuration id or a parameter value is used.
const (
	searchTextual     = "textual"
	searchConfigBased = "config-based"
)

var searchTools = []Tool{
	define("search", "Search the project",
		"Finds items whose id, name or description matches any of the patterns: buckets, tables, columns, "+
			"configurations, configuration rows, transformations, flows and data apps. Patterns are "+
			"case-insensitive substrings by default (e.g. [\"customer\", \"churn\"]); mode=regex takes regular "+
			"expressions (RE2 syntax) and case_sensitive=true matches case exactly. Use it when the user names "+
			"something without its id; to list every item of one kind use get_tables, get_configs, get_flows or "+
			"get_data_apps instead. Returns CSV (type, id, name, matched field, UI link), paged with limit/offset. "+
			"Ids of configuration-like items are component_id/configuration_id (plus /row_id for rows): pass "+
			"those parts to get_configs, get_flows or get_data_apps. search_type=config-based matches the "+
			"configuration JSON of configurations, rows, transformations, flows and data apps instead (e.g. "+
			"which flows run configuration 123, which transformations read in.c-crm.orders); scopes limits it "+
			"to paths such as storage.input, parameters or tasks.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) {
			minLen(s, "patterns", 1)
			enum(s, "item_types", searchItemTypes...)
			enum(s, "mode", modeLiteral, modeRegex)
			prop(s, "mode").Default = mustJSON(modeLiteral)
			enum(s, "search_type", searchTextual, searchConfigBased)
			prop(s, "search_type").Default = mustJSON(searchTextual)
			prop(s, "case_sensitive").Default = mustJSON(false)
			paging(s, searchPage, searchPageMax)
		}, search),
}

type searchInput struct {
	Patterns      []string `json:"patterns" jsonschema:"Texts (or, with mode=regex, regular expressions) to look for; an item matching any of them is returned."`
	ItemTypes     []string `json:"item_types,omitempty" jsonschema:"Kinds of items to search; empty searches all kinds."`
	Mode          string   `json:"mode,omitempty" jsonschema:"How to read the patterns: literal (plain text, the default) or regex (RE2 regular expressions)."`
	CaseSensitive bool     `json:"case_sensitive,omitempty" jsonschema:"Match letter case exactly; by default case is ignored."`
	SearchType    string   `json:"search_type,omitempty" jsonschema:"textual (the default) matches ids, names and descriptions; config-based matches the configuration JSON of configuration-like items."`
	Scopes        []string `json:"scopes,omitempty" jsonschema:"With config-based: dot-separated paths to search within each configuration, e.g. storage.input, parameters, tasks; empty searches the whole configuration."`
	Limit         int      `json:"limit,omitempty" jsonschema:"Maximum number of hits to return."`
	Offset        int      `json:"offset,omitempty" jsonschema:"Number of hits to skip, for paging."`
}

// hit is one search result.
type hit struct{ kind, id, name, matched, link string }

// matcher reports whether a text matches any of the search patterns.
type matcher []func(string) bool

// newMatcher compiles the patterns. Go's regexp is RE2: matching takes
// time linear in the text whatever the pattern, so a model's regular
// expression cannot stall the server.
func newMatcher(patterns []string, mode string, caseSensitive bool) (matcher, error) {
	var m matcher
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		switch {
		case mode == modeRegex:
			expr := p
			if !caseSensitive {
				expr = "(?i)" + p
			}
			re, err := regexp.Compile(expr)
			if err != nil {
				return nil, errorf("pattern %q is not a valid regular expression (RE2 syntax): %v; fix it, or call search with mode=literal to look for the text as typed", p, err)
			}
			m = append(m, re.MatchString)
		case caseSensitive:
			m = append(m, func(s string) bool { return strings.Contains(s, p) })
		default:
			lp := strings.ToLower(p)
			m = append(m, func(s string) bool { return strings.Contains(strings.ToLower(s), lp) })
		}
	}
	if len(m) == 0 {
		return nil, errorf("patterns must contain at least one non-empty text to look for")
	}
	return m, nil
}

func (m matcher) match(text string) bool {
	if text == "" {
		return false
	}
	for _, f := range m {
		if f(text) {
			return true
		}
	}
	return false
}

// first returns the field (of name, text pairs) that matched first.
func (m matcher) first(pairs ...string) (string, bool) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if m.match(pairs[i+1]) {
			return pairs[i], true
		}
	}
	return "", false
}

// search asks the global search API where it can (see useGlobalSearch) and
// otherwise matches the listings the requested kinds need.
func search(ctx context.Context, c call, in searchInput) (string, error) {
	m, err := newMatcher(in.Patterns, in.Mode, in.CaseSensitive)
	if err != nil {
		return "", err
	}
	for _, t := range slices.Clone(in.ItemTypes) {
		in.ItemTypes = append(in.ItemTypes, pythonItemTypes[t]...)
	}
	byConfig := in.SearchType == searchConfigBased
	scopes, err := searchScopes(in.Scopes, byConfig)
	if err != nil {
		return "", err
	}
	want := func(kinds ...string) bool {
		if len(in.ItemTypes) == 0 {
			return true
		}
		for _, k := range kinds {
			if slices.Contains(in.ItemTypes, k) {
				return true
			}
		}
		return false
	}
	configLike := want("configuration", "configuration-row", "transformation", "flow", "data-app")
	if byConfig && !configLike {
		return "", errorf("search_type=config-based searches configurations, rows, transformations, flows and data apps; buckets, tables and columns have no configuration: search them with search_type=textual")
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	global, err := useGlobalSearch(ctx, c.client, in)
	if err != nil {
		return "", err
	}
	var hits []hit
	if global {
		// The index of a project that just got the feature may still be
		// filling, and the API may fail: nothing found or an error falls
		// back to the listings, as the Python server does.
		if hits, err = globalSearchHits(ctx, c.client, u, in, want); err != nil {
			c.deps.Logger.WarnContext(ctx, "search: global search failed; listing the project instead", "error", err.Error())
			hits = nil
		}
	}
	if len(hits) == 0 {
		if hits, err = listingSearch(ctx, c, in, m, scopes, want, u); err != nil {
			return "", err
		}
	}
	return searchPageOf(hits, in), nil
}

// listingSearch matches the project's listings: buckets (one request),
// tables with columns (one request) and one components listing with
// configurations and rows, which serves every configuration-like kind.
func listingSearch(ctx context.Context, c call, in searchInput, m matcher, scopes [][]string, want func(...string) bool, u keboola.Links) ([]hit, error) {
	byConfig := in.SearchType == searchConfigBased
	configLike := want("configuration", "configuration-row", "transformation", "flow", "data-app")
	var hits []hit
	// Buckets and tables have no configuration to search.
	if want("bucket") && !byConfig {
		buckets, err := c.client.ListBuckets(ctx)
		if err != nil {
			return nil, err
		}
		for _, b := range buckets {
			if where, ok := m.first("id", b.ID, "name", b.DisplayName, "description", b.DescriptionText()); ok {
				hits = append(hits, hit{"bucket", b.ID, b.DisplayName, where, u.Bucket(b.ID)})
			}
		}
	}
	if want("table", "column") && !byConfig {
		tables, err := c.client.ListAllTables(ctx)
		if err != nil {
			return nil, err
		}
		hits = append(hits, tableHits(m, tables, u, want("table"), want("column"))...)
	}
	if configLike {
		comps, err := c.client.ListComponents(ctx, keboola.ListComponentsOptions{IncludeConfigs: true})
		if err != nil {
			return nil, err
		}
		match := textMatch(m)
		if byConfig {
			match = configMatch(m, scopes)
		}
		hits = append(hits, configHits(match, comps, u, want)...)
	}
	return hits, nil
}

// searchPageOf renders a page of hits.
func searchPageOf(hits []hit, in searchInput) string {
	if len(hits) == 0 {
		return fmt.Sprintf("Nothing matches %s. Try shorter or other words, or list buckets with get_buckets.\n", strings.Join(in.Patterns, ", "))
	}
	lo, hi, note := window(len(hits), in.Offset, defaultInt(in.Limit, searchPage))
	var out strings.Builder
	out.WriteString(counted(len(hits), "match") + ".\n")
	if hi > lo {
		rows := make([][]string, 0, hi-lo)
		for _, h := range hits[lo:hi] {
			rows = append(rows, []string{h.kind, h.id, h.name, h.matched, h.link})
		}
		out.WriteString(csvTable([]string{"type", "id", "name", "matched", "link"}, rows))
	}
	if note != "" {
		out.WriteString(note + "\n")
	}
	return out.String()
}

// configKind types a component's configurations for the search and gives
// the UI page of one of them.
func configKind(comp keboola.Component, u keboola.Links) (string, func(cfgID string) string) {
	switch {
	case comp.ID == keboola.LegacyFlowComponentID || comp.ID == keboola.ConditionalFlowComponentID:
		return "flow", func(id string) string { return u.FlowOf(comp.ID, id) }
	case comp.ID == keboola.DataAppComponentID:
		return "data-app", u.DataApp
	case comp.Type == keboola.ComponentTypeTransformation:
		return "transformation", func(id string) string { return u.Transformation(comp.ID, id) }
	}
	return "configuration", func(id string) string { return u.Config(comp.ID, id) }
}

// itemMatch tells where a configuration or row matches, if it does.
type itemMatch func(id, name, description string, body keboola.RawObject) (string, bool)

// textMatch matches names, descriptions and ids.
func textMatch(m matcher) itemMatch {
	return func(id, name, description string, _ keboola.RawObject) (string, bool) {
		return m.first("name", name, "description", description, "id", id)
	}
}

// configMatch matches the configuration JSON, whole or under scopes; the
// hit names the first scope that matched.
func configMatch(m matcher, scopes [][]string) itemMatch {
	return func(_, _, _ string, body keboola.RawObject) (string, bool) {
		if len(body) == 0 {
			return "", false
		}
		if len(scopes) == 0 {
			return "configuration", m.match(string(body))
		}
		for _, path := range scopes {
			if text, ok := atPath(json.RawMessage(body), path); ok && m.match(text) {
				return "configuration." + strings.Join(path, "."), true
			}
		}
		return "", false
	}
}

// atPath returns the JSON text under an object path (a string value
// unquoted); a path through anything but objects finds nothing. Each step
// decodes one level only: decoding whole configurations into maps costs
// most of a scoped search's time.
func atPath(raw json.RawMessage, path []string) (string, bool) {
	for _, k := range path {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return "", false
		}
		var ok bool
		if raw, ok = obj[k]; !ok {
			return "", false
		}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	return string(raw), true
}

// searchScopes checks the scopes and splits them into paths.
func searchScopes(scopes []string, byConfig bool) ([][]string, error) {
	var paths [][]string
	for _, s := range scopes {
		s = strings.Trim(strings.TrimSpace(s), ".")
		if s == "" {
			continue
		}
		if !byConfig {
			return nil, errorf("scopes apply only to search_type=config-based; call search again with it, or without scopes")
		}
		path := strings.Split(s, ".")
		if slices.Contains(path, "") {
			return nil, errorf("scope %q has an empty step; write paths like storage.input or parameters.db", s)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// configHits matches configurations and the rows of any component; a row
// is found even when its configuration matched too, since the row is what
// the user may mean.
func configHits(match itemMatch, comps []keboola.Component, u keboola.Links, want func(...string) bool) []hit {
	var hits []hit
	for _, comp := range comps {
		kind, link := configKind(comp, u)
		wantConfigs, wantRows := want(kind), want("configuration-row")
		if !wantConfigs && !wantRows {
			continue
		}
		for _, cfg := range comp.Configurations {
			if cfg.IsDeleted {
				continue
			}
			id := cfg.ID.String()
			if wantConfigs {
				if where, ok := match(id, cfg.Name, cfg.Description, cfg.Configuration); ok {
					hits = append(hits, hit{kind, comp.ID + "/" + id, cfg.Name, where, link(id)})
				}
			}
			if !wantRows {
				continue
			}
			for _, row := range cfg.Rows {
				if where, ok := match(row.ID.String(), row.Name, row.Description, row.Configuration); ok {
					hits = append(hits, hit{"configuration-row", comp.ID + "/" + id + "/" + row.ID.String(), row.Name, where, link(id)})
				}
			}
		}
	}
	return hits
}

func tableHits(m matcher, tables []keboola.Table, u keboola.Links, wantTables, wantColumns bool) []hit {
	var hits []hit
	for _, t := range tables {
		link := u.Table(bucketOf(t), t.Name)
		if wantTables {
			if where, ok := m.first("id", t.ID, "name", t.DisplayName, "description", tableDescription(t)); ok {
				hits = append(hits, hit{"table", t.ID, t.DisplayName, where, link})
			}
		}
		if wantColumns {
			for _, col := range t.Columns {
				if m.match(col) {
					hits = append(hits, hit{"column", t.ID + "." + col, col, "column name", link})
				}
			}
		}
	}
	return hits
}

// bucketOf returns a table's bucket id, from the embedded bucket or the
// table id (stage.bucket.table).
func bucketOf(t keboola.Table) string {
	if t.Bucket.ID != "" {
		return t.Bucket.ID
	}
	if i := strings.LastIndexByte(t.ID, '.'); i > 0 {
		return t.ID[:i]
	}
	return t.ID
}
