package fakestack

import (
	"fmt"
	"strconv"
	"time"
)

// Large-project mode (Options.LargeProject) adds a generated project of the
// size where listings stop being cheap: 100 buckets of 50 tables (5,000
// tables, 12 columns each, with descriptions) and 20,000 configurations
// spread over the catalogue's extractors, writers and transformations, each
// with a few rows' worth of JSON. Benchmarks measure the tools on it. The
// generated tables have no rows in the SQL engine: data preview and queries
// of them are not modelled.
const (
	largeBuckets         = 100
	largeTablesPerBucket = 50
	largeColumns         = 12
	largeConfigs         = 20000
)

// largeTopics name the generated buckets and tables, so searches have
// something realistic to find.
var largeTopics = []string{"orders", "customers", "invoices", "shipments", "payments", "products", "sessions", "campaigns", "tickets", "inventory"}

func seedLargeProject(st *state, master *token) {
	created := demoEpoch.Add(-90 * 24 * time.Hour)
	for i := range largeBuckets {
		topic := largeTopics[i%len(largeTopics)]
		stage := "in"
		if i%4 == 3 {
			stage = "out"
		}
		name := fmt.Sprintf("c-%s-%03d", topic, i)
		b := &bucket{id: stage + "." + name, stage: stage, name: name, displayName: fmt.Sprintf("%s-%03d", topic, i), created: created}
		b.metadata = []*metadata{{id: strconv.Itoa(st.nextID()), key: "KBC.description", value: "Generated " + topic + " data, source " + strconv.Itoa(i),
			provider: "user", timestamp: created}}
		for j := range largeTablesPerBucket {
			t := &table{id: fmt.Sprintf("%s.%s_%03d", b.id, topic, j), name: fmt.Sprintf("%s_%03d", topic, j), bucket: b,
				primaryKey: []string{"id"}, rowsCount: 1000 * (j + 1), dataSize: int64(64000 * (j + 1)), created: created, lastImport: created.Add(time.Duration(j) * time.Hour)}
			for k := range largeColumns {
				col := "id"
				if k > 0 {
					col = fmt.Sprintf("%s_attribute_%02d", topic, k)
				}
				t.columns = append(t.columns, column{name: col, kbcType: "VARCHAR", nullable: k > 0})
			}
			t.metadata = []*metadata{{id: strconv.Itoa(st.nextID()), key: "KBC.description", value: fmt.Sprintf("Generated %s table %d of bucket %s.", topic, j, b.id),
				provider: "user", timestamp: created}}
			b.tables = append(b.tables, t)
			st.tables[t.id] = t
		}
		st.buckets = append(st.buckets, b)
		st.bucketsByID[b.id] = b
	}
	var comps []*component
	for _, c := range st.catalogue {
		if c.typ == "extractor" || c.typ == "writer" || c.typ == "transformation" {
			comps = append(comps, c)
		}
	}
	for i := range largeConfigs {
		comp := comps[i%len(comps)]
		topic := largeTopics[i%len(largeTopics)]
		bucketNo := i % largeBuckets
		body := map[string]any{
			"parameters": map[string]any{"source": fmt.Sprintf("%s_source_%d", topic, i), "incremental": i%2 == 0},
			"storage": map[string]any{
				"input":  map[string]any{"tables": []any{map[string]any{"source": fmt.Sprintf("in.c-%s-%03d.%s_%03d", topic, bucketNo, topic, i%largeTablesPerBucket)}}},
				"output": map[string]any{"tables": []any{map[string]any{"destination": fmt.Sprintf("out.c-%s-%03d.%s_%03d", topic, bucketNo, topic, i%largeTablesPerBucket)}}},
			},
		}
		st.addConfig(comp.id, strconv.Itoa(9000000+i), fmt.Sprintf("%s %s %05d", comp.name, topic, i),
			"Generated configuration loading "+topic+".", body, master)
	}
}
