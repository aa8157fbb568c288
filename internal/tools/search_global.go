package tools

import (
	"context"
	"encoding/json"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// featureGlobalSearch is the project feature behind Keboola's global
// search API.
const featureGlobalSearch = "global-search"

// searchAPITypes are the global-search item types each of our kinds is
// found among: data apps are plain configurations there.
var searchAPITypes = map[string][]string{
	"bucket": {"bucket"}, "table": {"table"}, "configuration": {"configuration"},
	"configuration-row": {"configuration-row"}, "transformation": {"transformation"},
	"flow": {"flow"}, "data-app": {"configuration"},
}

const (
	// globalSearchPage is the API's largest page.
	globalSearchPage = 100
	// globalSearchMaxHits bounds the hits read per pattern: a pattern
	// matching more than this is too broad to page through anyway.
	globalSearchMaxHits = 1000
)

// useGlobalSearch tells whether a search can be served by the global
// search API: textual, literal and case-insensitive (the API matches names
// as a person types them), on a project with the feature, and not asking
// for columns, which the API does not index. A large project's listings
// are what it saves: every table with its columns and every configuration
// with its content (the Python server searches this way where it can,
// tools/search.py).
func useGlobalSearch(ctx context.Context, c *keboola.Client, in searchInput) (bool, error) {
	if in.SearchType == searchConfigBased || in.Mode == modeRegex || in.CaseSensitive {
		return false, nil
	}
	for _, k := range in.ItemTypes {
		if k == "column" {
			return false, nil
		}
	}
	info, err := c.VerifyToken(ctx)
	if err != nil {
		return false, err
	}
	return info.Owner.HasFeature(featureGlobalSearch), nil
}

// globalSearchHits asks the global search for each pattern and turns the
// items into hits of the kinds wanted, each item once.
func globalSearchHits(ctx context.Context, c *keboola.Client, u keboola.Links, in searchInput, want func(...string) bool) ([]hit, error) {
	var types []string
	seenType := map[string]bool{}
	for _, k := range in.ItemTypes {
		for _, t := range searchAPITypes[k] {
			if !seenType[t] {
				seenType[t] = true
				types = append(types, t)
			}
		}
	}
	var hits []hit
	seen := map[string]bool{}
	for _, p := range in.Patterns {
		if p == "" {
			continue
		}
		for offset := 0; offset < globalSearchMaxHits; offset += globalSearchPage {
			page, err := c.GlobalSearch(ctx, keboola.SearchQuery{Query: p, Types: types, Limit: globalSearchPage, Offset: offset})
			if err != nil {
				return nil, err
			}
			for _, it := range page.Items {
				h, ok := searchItemHit(it, u)
				if !ok || !want(h.kind) || seen[h.kind+"\x00"+h.id] {
					continue
				}
				seen[h.kind+"\x00"+h.id] = true
				hits = append(hits, h)
			}
			if len(page.Items) < globalSearchPage || offset+len(page.Items) >= page.All {
				break
			}
		}
	}
	return hits, nil
}

// searchItemHit maps a global-search item to our hit; items of kinds we
// do not list (workspaces, shared code) are dropped.
func searchItemHit(it keboola.SearchItem, u keboola.Links) (hit, bool) {
	id := it.ID.String()
	switch it.Type {
	case "bucket":
		return hit{"bucket", id, it.Name, "name", u.Bucket(id)}, true
	case "table":
		bucket := pathID(it.FullPath, "bucket")
		return hit{"table", id, it.Name, "name", u.Table(bucket, it.Name)}, true
	case "configuration", "transformation", "flow":
		comp := it.ComponentID
		if comp == "" {
			return hit{}, false
		}
		kind, link := configKind(keboola.Component{ID: comp, Type: componentTypeOf(it.Type)}, u)
		return hit{kind, comp + "/" + id, it.Name, "name", link(id)}, true
	case "configuration-row":
		cfg := pathID(it.FullPath, "configuration")
		if it.ComponentID == "" || cfg == "" {
			return hit{}, false
		}
		_, link := configKind(keboola.Component{ID: it.ComponentID}, u)
		return hit{"configuration-row", it.ComponentID + "/" + cfg + "/" + id, it.Name, "name", link(cfg)}, true
	}
	return hit{}, false
}

// componentTypeOf is what an item's API type says of its component.
func componentTypeOf(apiType string) string {
	if apiType == "transformation" {
		return keboola.ComponentTypeTransformation
	}
	return ""
}

// pathID reads the id of one step of a hit's fullPath.
func pathID(fullPath keboola.FlexMap[json.RawMessage], step string) string {
	var ref struct {
		ID keboola.FlexString `json:"id"`
	}
	if raw, ok := fullPath[step]; ok {
		_ = json.Unmarshal(raw, &ref)
	}
	return ref.ID.String()
}
