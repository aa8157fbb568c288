package fakestack

import (
	"sort"
	"strconv"
	"time"
)

// defaultBranchID is the numeric id of the project's default branch.
const defaultBranchID = 1001

// state is everything the stack holds besides table rows (which live in
// DuckDB). It is guarded by Stack.mu.
type state struct {
	s       *Stack
	counter int

	tokens     map[string]*token // by secret
	tokensByID map[string]*token

	oauthCodes   map[string]*oauthCode
	oauthAccess  map[string]*oauthAccess
	oauthRefresh map[string]*oauthRefresh

	branchMeta []*metadata
	branches   map[int]*devBranch // development branches by id

	buckets       []*bucket
	bucketsByID   map[string]*bucket
	sharedBuckets []*bucket // shared into the organisation by other projects
	tables        map[string]*table

	catalogue   []*component
	components  map[string]*component
	configs     map[string][]*config // component id → configurations in creation order
	events      []*event
	storageJobs map[int]*storageJob
	workspaces  map[int]*workspace
	queueJobs   []*queueJob
	queryJobs   map[string]*queryJob
	schedules   map[string]*schedule // by keboola.scheduler configuration id
	dataApps    []*dataApp           // Data Science apps in creation order
	metaObjects []*metaObject        // Metastore objects in creation order
}

func newState(s *Stack) *state {
	st := &state{
		s:            s,
		counter:      100,
		tokens:       map[string]*token{},
		tokensByID:   map[string]*token{},
		oauthCodes:   map[string]*oauthCode{},
		oauthAccess:  map[string]*oauthAccess{},
		oauthRefresh: map[string]*oauthRefresh{},
		bucketsByID:  map[string]*bucket{},
		tables:       map[string]*table{},
		components:   map[string]*component{},
		configs:      map[string][]*config{},
		storageJobs:  map[int]*storageJob{},
		workspaces:   map[int]*workspace{},
		queryJobs:    map[string]*queryJob{},
		schedules:    map[string]*schedule{},
		branches:     map[int]*devBranch{},
	}
	master := st.addToken(TokenOptions{Description: "Master Token (Demo Admin)"}, true)
	master.role = s.opts.MemberRole
	// The master token's secret is the configured one, so a restarted dev
	// stack keeps the token a demo was set up with.
	delete(st.tokens, master.secret)
	master.secret = s.opts.MasterToken
	st.tokens[master.secret] = master
	return st
}

// nextID hands out ids from one sequence, so ids of different kinds never
// collide and always grow.
func (st *state) nextID() int {
	st.counter++
	return st.counter
}

func (st *state) dataSize() int64 {
	var n int64
	for _, t := range st.tables {
		n += t.dataSize
	}
	return n
}

func (st *state) rowCount() int64 {
	var n int64
	for _, t := range st.tables {
		n += int64(t.rowsCount)
	}
	return n
}

// metadata is one Storage metadata entry. The same key may exist once per provider.
type metadata struct {
	id        string
	key       string
	value     string
	provider  string
	timestamp time.Time
}

func metadataJSON(ms []*metadata) []any {
	out := make([]any, 0, len(ms))
	for _, m := range ms {
		out = append(out, map[string]any{
			"id": m.id, "key": m.key, "value": m.value, "provider": m.provider, "timestamp": fmtTime(m.timestamp),
		})
	}
	return out
}

// setMetadata inserts or updates key for provider and returns the new list.
func (st *state) setMetadata(list []*metadata, provider, key, value string) []*metadata {
	now := st.s.now()
	for _, m := range list {
		if m.provider == provider && m.key == key {
			m.value = value
			m.timestamp = now
			return list
		}
	}
	return append(list, &metadata{id: strconv.Itoa(st.nextID()), key: key, value: value, provider: provider, timestamp: now})
}

// metaValue returns the newest value of key across providers.
func metaValue(list []*metadata, key string) string {
	var best *metadata
	for _, m := range list {
		if m.key == key && (best == nil || !m.timestamp.Before(best.timestamp)) {
			best = m
		}
	}
	if best == nil {
		return ""
	}
	return best.value
}

type bucket struct {
	id          string // in.c-crm
	stage       string // in | out
	name        string // c-crm
	displayName string
	created     time.Time
	metadata    []*metadata
	tables      []*table
	// project owns the bucket; nil for this stack's own project (shared
	// buckets of other projects name theirs).
	project *projectRef
	// source is the shared bucket a linked bucket mirrors (read-only).
	source *bucket
}

// projectRef names another project of the organisation.
type projectRef struct {
	id   int
	name string
}

// schema is the DuckDB schema holding the bucket's rows: a linked bucket
// reads its source's.
func (b *bucket) schema() string {
	if b.source != nil {
		return b.source.id
	}
	return b.id
}

type column struct {
	name     string
	kbcType  string // INTEGER, NUMERIC, VARCHAR, DATE, TIMESTAMP, BOOLEAN
	nullable bool
	length   string // NUMERIC precision and scale ("38,2"); empty for the demo's "12,2"
}

type table struct {
	id         string // in.c-crm.customers
	name       string
	bucket     *bucket
	primaryKey []string
	columns    []column
	rowsCount  int
	dataSize   int64
	created    time.Time
	lastImport time.Time
	metadata   []*metadata
	colMeta    map[string][]*metadata
	source     *table // the shared table an alias in a linked bucket mirrors
}

func (t *table) hasColumn(name string) bool {
	for _, c := range t.columns {
		if c.name == name {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
