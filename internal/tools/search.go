package tools

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

var searchItemTypes = []string{"bucket", "table", "column", "configuration", "transformation"}

var searchTools = []Tool{
	define("search", "Search the project",
		"Finds buckets, tables, columns and configurations (transformations included) whose id, name or "+
			"description contains any of the patterns (case-insensitive substrings, e.g. [\"customer\", "+
			"\"churn\"]). Returns the type, id, name, where it matched and a link, paged with limit/offset. Use it "+
			"to locate data before get_tables and query_data.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) {
			minLen(s, "patterns", 1)
			enum(s, "item_types", searchItemTypes...)
			paging(s, 50, 200)
		}, search),
}

type searchInput struct {
	Patterns  []string `json:"patterns" jsonschema:"Substrings to look for; an item matching any of them is returned."`
	ItemTypes []string `json:"item_types,omitempty" jsonschema:"Kinds of items to search; empty searches all kinds."`
	Limit     int      `json:"limit,omitempty" jsonschema:"Maximum number of hits to return."`
	Offset    int      `json:"offset,omitempty" jsonschema:"Number of hits to skip, for paging."`
}

// hit is one search result.
type hit struct{ kind, id, name, matched, link string }

// matcher finds the first pattern in the searched texts.
type matcher []string

func (m matcher) match(field, text string) (string, bool) {
	lower := strings.ToLower(text)
	for _, p := range m {
		if strings.Contains(lower, p) {
			return field, true
		}
	}
	return "", false
}

// first returns where the first of the fields (name, text pairs) matched.
func (m matcher) first(pairs ...string) (string, bool) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if f, ok := m.match(pairs[i], pairs[i+1]); ok {
			return f, true
		}
	}
	return "", false
}

// search loads only the listings the requested kinds need: buckets (one
// request), tables with columns (one request) and configurations (one).
func search(ctx context.Context, c call, in searchInput) (string, error) {
	var m matcher
	for _, p := range in.Patterns {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			m = append(m, p)
		}
	}
	if len(m) == 0 {
		return "", errorf("patterns must contain at least one non-empty text to look for")
	}
	want := func(kind string) bool { return len(in.ItemTypes) == 0 || slices.Contains(in.ItemTypes, kind) }
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	var hits []hit
	if want("bucket") {
		buckets, err := c.client.ListBuckets(ctx)
		if err != nil {
			return "", err
		}
		for _, b := range buckets {
			if where, ok := m.first("id", b.ID, "name", b.DisplayName, "description", b.DescriptionText()); ok {
				hits = append(hits, hit{"bucket", b.ID, b.DisplayName, where, u.Bucket(b.ID)})
			}
		}
	}
	if want("table") || want("column") {
		tables, err := c.client.ListAllTables(ctx)
		if err != nil {
			return "", err
		}
		hits = append(hits, tableHits(m, tables, u, want("table"), want("column"))...)
	}
	if want("configuration") || want("transformation") {
		comps, err := c.client.ListComponents(ctx, keboola.ListComponentsOptions{IncludeConfigs: true})
		if err != nil {
			return "", err
		}
		for _, comp := range comps {
			kind := "configuration"
			if comp.Type == keboola.ComponentTypeTransformation {
				kind = "transformation"
			}
			if !want(kind) {
				continue
			}
			for _, cfg := range comp.Configurations {
				if cfg.IsDeleted {
					continue
				}
				if where, ok := m.first("name", cfg.Name, "description", cfg.Description, "id", cfg.ID.String()); ok {
					hits = append(hits, hit{kind, comp.ID + "/" + cfg.ID.String(), cfg.Name, where, u.Config(comp.ID, cfg.ID.String())})
				}
			}
		}
	}
	if len(hits) == 0 {
		return fmt.Sprintf("Nothing matches %s. Try shorter or other words, or list buckets with get_buckets.\n", strings.Join(in.Patterns, ", ")), nil
	}
	lo, hi, note := window(len(hits), in.Offset, defaultInt(in.Limit, 50))
	var out strings.Builder
	fmt.Fprintf(&out, "%d matches.\n", len(hits))
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
	return out.String(), nil
}

func tableHits(m matcher, tables []keboola.Table, u keboola.Links, wantTables, wantColumns bool) []hit {
	var hits []hit
	for _, t := range tables {
		link := u.Table(bucketOf(t), t.Name)
		if wantTables {
			if where, ok := m.first("id", t.ID, "name", t.DisplayName, "description", tableDescription(t)); ok {
				hits = append(hits, hit{"table", t.ID, t.DisplayName, where, link})
				continue
			}
		}
		if wantColumns {
			for _, col := range t.Columns {
				if _, ok := m.match("column", col); ok {
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
