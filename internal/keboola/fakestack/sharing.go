package fakestack

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Bucket sharing: another project of the organisation shares a bucket that
// this project can link. A linked bucket is read-only, its tables are
// aliases, and its backend path (so its SQL name) is the source project's.

// sharedProject is the organisation's other project in the demo.
var sharedProject = projectRef{id: 5678, name: "Marketing Hub"}

func (s *Stack) sharingRoutes(mux *http.ServeMux) {
	s.sapi(mux, "GET", "/shared-buckets", s.handleSharedBuckets)
	s.sapi(mux, "POST", "/buckets", s.handleCreateBucket)
	s.sapi(mux, "DELETE", "/buckets/{id}", s.handleDeleteBucket)
}

func (s *Stack) handleSharedBuckets(w http.ResponseWriter, r *http.Request, _ *caller) {
	inc := includes(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, b := range s.state.sharedBuckets {
		j := s.bucketJSON(b, inc["metadata"])
		tables := make([]any, len(b.tables))
		for i, t := range b.tables {
			tables[i] = map[string]any{"id": t.id, "name": t.name, "displayName": t.name}
		}
		j["tables"] = tables
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
}

var bucketNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,96}$`)

// handleCreateBucket creates an empty bucket {stage, name, description?} or,
// given sourceProjectId and sourceBucketId, links a shared bucket. With
// async=true it answers 202 with a Storage job whose results are the bucket.
func (s *Stack) handleCreateBucket(w http.ResponseWriter, r *http.Request, c *caller) {
	body, err := readBody(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	stage, _ := strField(body, "stage")
	name, _ := strField(body, "name")
	displayName, _ := strField(body, "displayName")
	description, _ := strField(body, "description")
	if stage != "in" && stage != "out" {
		badRequest(w, fmt.Errorf("stage must be in or out, got %q", stage))
		return
	}
	if !bucketNameRE.MatchString(name) {
		badRequest(w, fmt.Errorf("name must be 1 to 96 letters, digits, dashes or underscores, got %q", name))
		return
	}
	if displayName == "" {
		displayName = name
	}
	srcProject, hasSrc := strField(body, "sourceProjectId")
	srcBucket, _ := strField(body, "sourceBucketId")
	async, _ := strconv.ParseBool(r.URL.Query().Get("async"))
	if !c.tok.canManageBuckets {
		writeError(w, storageErrors, http.StatusForbidden, "accessDenied", "You don't have access to manage buckets")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := stage + ".c-" + name
	if _, exists := s.state.bucketsByID[id]; exists {
		writeError(w, storageErrors, http.StatusBadRequest, "storage.buckets.alreadyExists", fmt.Sprintf("Bucket %s already exists", id))
		return
	}
	b := &bucket{id: id, stage: stage, name: "c-" + name, displayName: displayName, created: s.now()}
	if hasSrc {
		var src *bucket
		for _, sb := range s.state.sharedBuckets {
			if strconv.Itoa(sb.project.id) == srcProject && sb.id == srcBucket {
				src = sb
			}
		}
		if src == nil {
			writeError(w, storageErrors, http.StatusNotFound, "storage.buckets.notFound",
				fmt.Sprintf("Shared bucket %s of project %s not found", srcBucket, srcProject))
			return
		}
		b.source = src
		for _, st := range src.tables {
			alias := *st
			alias.id, alias.bucket, alias.source = id+"."+st.name, b, st
			// Metadata entries are updated in place, so the alias gets its own.
			alias.metadata = cloneMetadata(st.metadata)
			alias.colMeta = map[string][]*metadata{}
			for col, list := range st.colMeta {
				alias.colMeta[col] = cloneMetadata(list)
			}
			b.tables = append(b.tables, &alias)
		}
	}
	if description != "" {
		b.metadata = s.state.setMetadata(nil, "user", "KBC.description", description)
	}
	s.state.buckets = append(s.state.buckets, b)
	s.state.bucketsByID[id] = b
	for _, t := range b.tables {
		s.state.tables[t.id] = t
	}
	if !async {
		writeJSON(w, http.StatusCreated, s.bucketJSON(b, true))
		return
	}
	op := "bucketCreate"
	if hasSrc {
		op = "bucketLink"
	}
	job := s.state.addStorageJob(op, map[string]any{"stage": stage, "name": name}, s.bucketJSON(b, true), c.tok)
	writeJSON(w, http.StatusAccepted, s.storageJobJSON(job))
}

// handleDeleteBucket removes (or unlinks) a bucket; one with tables needs
// force=true unless it is a linked bucket.
func (s *Stack) handleDeleteBucket(w http.ResponseWriter, r *http.Request, c *caller) {
	q := r.URL.Query()
	force, _ := strconv.ParseBool(q.Get("force"))
	async, _ := strconv.ParseBool(q.Get("async"))
	if !c.tok.canManageBuckets {
		writeError(w, storageErrors, http.StatusForbidden, "accessDenied", "You don't have access to manage buckets")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.visibleBucket(w, r, r.PathValue("id"), c)
	if b == nil {
		return
	}
	if len(b.tables) > 0 && b.source == nil && !force {
		writeError(w, storageErrors, http.StatusBadRequest, "storage.buckets.notEmpty",
			fmt.Sprintf("Bucket %s is not empty; delete its tables first or pass force=true", b.id))
		return
	}
	s.state.buckets = slices.DeleteFunc(s.state.buckets, func(x *bucket) bool { return x == b })
	delete(s.state.bucketsByID, b.id)
	for _, t := range b.tables {
		delete(s.state.tables, t.id)
	}
	if !async {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	job := s.state.addStorageJob("bucketDelete", map[string]any{"bucketId": b.id}, map[string]any{}, c.tok)
	writeJSON(w, http.StatusAccepted, s.storageJobJSON(job))
}

// seedSharedBuckets adds the bucket the organisation's other project shares.
func seedSharedBuckets(st *state, stats map[string]tableStats) {
	created := demoEpoch.Add(-30 * 24 * time.Hour)
	b := &bucket{id: sharedBucketSpec.id, stage: "out", name: "c-industry-benchmarks", displayName: sharedBucketSpec.displayName,
		created: created, project: &sharedProject}
	b.metadata = []*metadata{{id: fmt.Sprint(st.nextID()), key: "KBC.description", value: sharedBucketSpec.desc, provider: "user", timestamp: created}}
	for _, ts := range sharedTables {
		t := newDemoTable(st, ts, b, created, created.Add(24*time.Hour))
		t.rowsCount, t.dataSize = stats[t.id].rows, stats[t.id].size
		b.tables = append(b.tables, t)
	}
	st.sharedBuckets = append(st.sharedBuckets, b)
}

func cloneMetadata(list []*metadata) []*metadata {
	out := make([]*metadata, len(list))
	for i, m := range list {
		c := *m
		out[i] = &c
	}
	return out
}
