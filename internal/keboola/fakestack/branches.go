package fakestack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// featureStorageBranches is the project feature under which a development
// branch holds storage of its own. Both models are served:
//
//   - without it, branch/{dev}/buckets and branch/{dev}/tables are empty and
//     every bucket and table (production's) lives at the default paths;
//   - with it, branch/{dev}/… holds only the buckets and tables changed in
//     the branch (see BranchTable), and the default paths hold production's.
//
// Configurations are per branch in both models: a new branch starts with a
// copy of production's, and changes in one branch stay there.
const featureStorageBranches = "storage-branches"

// devBranch is a development branch.
type devBranch struct {
	id          int
	name        string
	description string
	created     time.Time
	creator     *token
	// configs are the branch's configurations by component id.
	configs map[string][]*config
	// buckets, bucketsByID and tables are the branch's own storage
	// (storage-branches projects only).
	buckets     []*bucket
	bucketsByID map[string]*bucket
	tables      map[string]*table
}

func (s *Stack) hasFeature(name string) bool {
	return slices.Contains(s.features(), name)
}

type branchKey struct{}

// branchOf is the development branch a Storage request addresses; nil for
// the default branch (and the unbranched paths).
func branchOf(r *http.Request) *devBranch {
	b, _ := r.Context().Value(branchKey{}).(*devBranch)
	return b
}

// resolveBranch reads {branch} of branch/{branch}/… paths; it writes the
// 404 for an unknown branch and reports false.
func (s *Stack) resolveBranch(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	seg := r.PathValue("branch")
	if seg == "" || seg == "default" || seg == strconv.Itoa(defaultBranchID) {
		return r, true
	}
	id, err := strconv.Atoi(seg)
	s.mu.Lock()
	b := s.state.branches[id]
	s.mu.Unlock()
	if err != nil || b == nil {
		writeError(w, storageErrors, http.StatusNotFound, "storage.devBranches.notFound", fmt.Sprintf("Branch %q not found", seg))
		return r, false
	}
	return r.WithContext(context.WithValue(r.Context(), branchKey{}, b)), true
}

// storageScope is the storage a request sees: production's, a branch's own
// (storage-branches), or nothing (a branch path of any other project).
type storageScope struct {
	buckets     []*bucket
	bucketsByID map[string]*bucket
	tables      map[string]*table
}

// storageIn returns the request's storage; call with s.mu held.
func (s *Stack) storageIn(r *http.Request) storageScope {
	b := branchOf(r)
	switch {
	case b == nil:
		return storageScope{s.state.buckets, s.state.bucketsByID, s.state.tables}
	case s.hasFeature(featureStorageBranches):
		return storageScope{b.buckets, b.bucketsByID, b.tables}
	default:
		return storageScope{}
	}
}

// configsIn returns the request branch's configurations; call with s.mu held.
func (s *Stack) configsIn(r *http.Request) map[string][]*config {
	if b := branchOf(r); b != nil {
		return b.configs
	}
	return s.state.configs
}

func (s *Stack) devBranchJSON(b *devBranch) map[string]any {
	return map[string]any{
		"id":           b.id,
		"name":         b.name,
		"description":  b.description,
		"isDefault":    false,
		"created":      fmtTime(b.created),
		"creatorToken": tokenRef(b.creator),
		"updated":      nil,
	}
}

// handleCreateBranch implements POST dev-branches {name, description}: an
// asynchronous Storage job whose results are the new branch. The branch
// starts with a copy of production's configurations.
func (s *Stack) handleCreateBranch(w http.ResponseWriter, r *http.Request, c *caller) {
	if !c.adminContext() {
		writeError(w, storageErrors, http.StatusForbidden, "accessDenied", "Only an admin may create development branches")
		return
	}
	body, err := readBody(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	name, _ := strField(body, "name")
	if strings.TrimSpace(name) == "" {
		badRequest(w, fmt.Errorf("name is required"))
		return
	}
	desc, _ := strField(body, "description")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.state.branches {
		if b.name == name {
			badRequest(w, fmt.Errorf("a branch named %q already exists", name))
			return
		}
	}
	b := s.state.addBranch(name, desc, c.tok)
	job := s.state.addStorageJob("devBranchCreate", map[string]any{"name": name}, s.devBranchJSON(b), c.tok)
	writeJSON(w, http.StatusAccepted, s.storageJobJSON(job))
}

// handleDeleteBranch implements DELETE dev-branches/{id}, also an
// asynchronous Storage job.
func (s *Stack) handleDeleteBranch(w http.ResponseWriter, r *http.Request, c *caller) {
	if !c.adminContext() {
		writeError(w, storageErrors, http.StatusForbidden, "accessDenied", "Only an admin may delete development branches")
		return
	}
	id, err := strconv.Atoi(r.PathValue("id"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || s.state.branches[id] == nil {
		if id == defaultBranchID {
			badRequest(w, fmt.Errorf("the default branch cannot be deleted"))
			return
		}
		writeError(w, storageErrors, http.StatusNotFound, "storage.devBranches.notFound", fmt.Sprintf("Branch %q not found", r.PathValue("id")))
		return
	}
	delete(s.state.branches, id)
	job := s.state.addStorageJob("devBranchDelete", map[string]any{"branchId": id}, map[string]any{}, c.tok)
	writeJSON(w, http.StatusAccepted, s.storageJobJSON(job))
}

func (st *state) addBranch(name, desc string, by *token) *devBranch {
	b := &devBranch{id: st.nextID(), name: name, description: desc, created: st.s.now(), creator: by,
		configs: map[string][]*config{}, bucketsByID: map[string]*bucket{}, tables: map[string]*table{}}
	for comp, list := range st.configs {
		for _, c := range list {
			if !c.isDeleted {
				cp := c.copy()
				// The branch's copy of the metadata is rows of its own, with
				// ids of its own: an id from production is not found here.
				for _, m := range cp.metadata {
					m.id = strconv.Itoa(st.nextID())
				}
				b.configs[comp] = append(b.configs[comp], cp)
			}
		}
	}
	st.branches[b.id] = b
	return b
}

// copy is a deep copy of the configuration at its current state.
func (c *config) copy() *config {
	out := *c
	out.configuration = deepCopyMap(c.configuration)
	out.state = deepCopyMap(c.state)
	out.metadata = cloneMetadata(c.metadata)
	out.versions = slices.Clone(c.versions)
	out.rows = make([]*configRow, len(c.rows))
	for i, r := range c.rows {
		row := *r
		row.configuration = deepCopyMap(r.configuration)
		row.state = deepCopyMap(r.state)
		out.rows[i] = &row
	}
	return &out
}

// deepCopyMap copies a decoded JSON object through JSON, so no nested map
// or slice is shared.
func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // decoded JSON always encodes
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// AddBranch creates a development branch (as POST dev-branches does, without
// the job) and returns its id.
func (s *Stack) AddBranch(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.addBranch(name, "", s.state.tokens[s.opts.MasterToken]).id
}

// BranchTable changes a production table in a development branch: on a
// storage-branches project the branch gets its own copy of the table (and of
// its bucket), described by description, which the branch paths serve while
// production keeps the original. Other projects have no branch storage and
// get an error.
func (s *Stack) BranchTable(branchID int, tableID, description string) error {
	if !s.hasFeature(featureStorageBranches) {
		return fmt.Errorf("fakestack: the project has no %s feature, so branches have no storage", featureStorageBranches)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	br := s.state.branches[branchID]
	prod := s.state.tables[tableID]
	if br == nil || prod == nil {
		return fmt.Errorf("fakestack: no branch %d or no table %s", branchID, tableID)
	}
	b := br.bucketsByID[prod.bucket.id]
	if b == nil {
		copyB := *prod.bucket
		copyB.metadata = cloneMetadata(prod.bucket.metadata)
		copyB.tables = nil
		b = &copyB
		br.buckets = append(br.buckets, b)
		br.bucketsByID[b.id] = b
	}
	t := *prod
	t.bucket = b
	t.metadata = s.state.setMetadata(cloneMetadata(prod.metadata), "user", "KBC.description", description)
	t.colMeta = map[string][]*metadata{}
	for col, list := range prod.colMeta {
		t.colMeta[col] = cloneMetadata(list)
	}
	b.tables = append(b.tables, &t)
	br.tables[t.id] = &t
	return nil
}
