package fakestack

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// storageHandler is a Storage API handler for an authenticated caller.
type storageHandler func(http.ResponseWriter, *http.Request, *caller)

// sapi registers a Storage API route at /v2/storage<path> and, like the real
// API, at /v2/storage/branch/{branch}<path>, where {branch} is "default",
// the default branch's numeric id or a development branch's (see
// branches.go for what each branch holds).
func (s *Stack) sapi(mux *http.ServeMux, method, path string, h storageHandler) {
	hf := s.withAuth(headerOrBearer, storageErrors, func(w http.ResponseWriter, r *http.Request, c *caller) {
		r, ok := s.resolveBranch(w, r)
		if ok {
			h(w, r, c)
		}
	})
	mux.Handle(method+" /v2/storage"+path, hf)
	mux.Handle(method+" /v2/storage/branch/{branch}"+path, hf)
}

func (s *Stack) storageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v2/storage", s.handleIndex)
	mux.HandleFunc("GET /v2/storage/{$}", s.handleIndex)

	s.sapi(mux, "GET", "/tokens/verify", s.handleVerify)
	s.sapi(mux, "GET", "/tokens", s.handleListTokens)
	s.sapi(mux, "POST", "/tokens", s.handleCreateToken)
	s.sapi(mux, "DELETE", "/tokens/{id}", s.handleDeleteToken)

	s.sapi(mux, "GET", "/dev-branches", s.handleBranches)
	s.sapi(mux, "POST", "/dev-branches", s.handleCreateBranch)
	s.sapi(mux, "GET", "/dev-branches/{id}", s.handleBranchDetail)
	s.sapi(mux, "DELETE", "/dev-branches/{id}", s.handleDeleteBranch)
	s.sapi(mux, "GET", "/metadata", s.handleBranchMetadata)
	s.sapi(mux, "POST", "/metadata", s.handleBranchMetadata)

	s.sapi(mux, "GET", "/buckets", s.handleBuckets)
	s.sapi(mux, "GET", "/buckets/{id}", s.handleBucket)
	s.sapi(mux, "GET", "/buckets/{id}/metadata", s.handleBucketMetadata)
	s.sapi(mux, "POST", "/buckets/{id}/metadata", s.handleBucketMetadata)
	s.sapi(mux, "DELETE", "/buckets/{id}/metadata/{metadataId}", s.handleDeleteBucketMetadata)
	s.sapi(mux, "GET", "/buckets/{id}/tables", s.handleBucketTables)

	s.sapi(mux, "GET", "/tables", s.handleTables)
	s.sapi(mux, "GET", "/tables/{id}", s.handleTable)
	s.sapi(mux, "GET", "/tables/{id}/metadata", s.handleTableMetadata)
	s.sapi(mux, "POST", "/tables/{id}/metadata", s.handleTableMetadata)
	s.sapi(mux, "DELETE", "/tables/{id}/metadata/{metadataId}", s.handleDeleteTableMetadata)
	s.sapi(mux, "GET", "/tables/{id}/data-preview", s.handleDataPreview)

	s.sharingRoutes(mux)
	s.componentRoutes(mux)
}

// handleIndex serves the service index. Every service is advertised on this
// listener under its own path prefix.
func (s *Stack) handleIndex(w http.ResponseWriter, r *http.Request) {
	services := []map[string]string{
		{"id": "queue", "url": s.url + "/queue"},
		{"id": "query", "url": s.url + "/query"},
		{"id": "ai", "url": s.url + "/ai"},
		{"id": "encryption", "url": s.url + "/encryption"},
		{"id": "oauth", "url": s.url + "/oauth"},
		{"id": "scheduler", "url": s.url + "/scheduler"},
		{"id": "sync-actions", "url": s.url + "/sync-actions"},
		{"id": "data-science", "url": s.url + "/data-science"},
		{"id": "metastore", "url": s.url + "/metastore"},
	}
	body := map[string]any{
		"api":           "storage",
		"version":       "v2",
		"revision":      "fakestack",
		"documentation": "https://keboola.docs.apiary.io/",
		"services":      services,
		"features":      []string{"global-search", "queuev2"},
		"urlTemplates":  map[string]string{"orchestrationJob": "/admin/projects/{projectId}/orchestrations-v2/{orchestrationId}/jobs/{jobId}"},
	}
	if !strings.Contains(r.URL.Query().Get("exclude"), "components") {
		s.mu.Lock()
		comps := make([]any, 0, len(s.state.catalogue))
		for _, c := range s.state.catalogue {
			comps = append(comps, c.json(false))
		}
		s.mu.Unlock()
		body["components"] = comps
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Stack) branchJSON() map[string]any {
	return map[string]any{
		"id":           defaultBranchID,
		"name":         "Main",
		"description":  "",
		"isDefault":    true,
		"created":      fmtTime(demoEpoch),
		"creatorToken": []any{}, // the API sends [] for the default branch
		"updated":      nil,
	}
}

func (s *Stack) handleBranches(w http.ResponseWriter, _ *http.Request, _ *caller) {
	out := []any{s.branchJSON()}
	s.mu.Lock()
	for _, id := range sortedIntKeys(s.state.branches) {
		out = append(out, s.devBranchJSON(s.state.branches[id]))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Stack) handleBranchDetail(w http.ResponseWriter, r *http.Request, _ *caller) {
	if r.PathValue("id") == strconv.Itoa(defaultBranchID) {
		writeJSON(w, http.StatusOK, s.branchJSON())
		return
	}
	id, _ := strconv.Atoi(r.PathValue("id"))
	s.mu.Lock()
	b := s.state.branches[id]
	var out map[string]any
	if b != nil {
		out = s.devBranchJSON(b)
	}
	s.mu.Unlock()
	if b == nil {
		writeError(w, storageErrors, http.StatusNotFound, "storage.devBranches.notFound", fmt.Sprintf("Branch %q not found", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handleBranchMetadata serves GET and POST of the branch's metadata (the
// project description lives here as KBC.projectDescription).
func (s *Stack) handleBranchMetadata(w http.ResponseWriter, r *http.Request, c *caller) {
	if r.Method == http.MethodPost {
		if !c.tok.canManageBuckets {
			writeError(w, storageErrors, http.StatusForbidden, "accessDenied", "You don't have access to modify branch metadata")
			return
		}
		entries, provider, ok := parseMetadataBody(w, r, "user")
		if !ok {
			return
		}
		s.mu.Lock()
		for _, e := range entries {
			s.state.branchMeta = s.state.setMetadata(s.state.branchMeta, provider, e.key, e.value)
		}
		out := metadataJSON(s.state.branchMeta)
		s.mu.Unlock()
		writeJSON(w, http.StatusCreated, out)
		return
	}
	s.mu.Lock()
	out := metadataJSON(s.state.branchMeta)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

type kv struct{ key, value string }

// parseMetadataBody reads {provider, metadata:[{key,value}]}; it writes the
// 400 itself and reports false on invalid input.
func parseMetadataBody(w http.ResponseWriter, r *http.Request, defProvider string) ([]kv, string, bool) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", err.Error())
		return nil, "", false
	}
	provider, _ := strField(body, "provider")
	if provider == "" {
		provider = defProvider
	}
	if provider == "" {
		writeError(w, storageErrors, http.StatusBadRequest, "storage.metadata.invalidProvider", "provider is required")
		return nil, "", false
	}
	entries, err := parseKVList(body["metadata"])
	if err != nil {
		writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", "metadata: "+err.Error())
		return nil, "", false
	}
	return entries, provider, true
}

func parseKVList(v any) ([]kv, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array of {key, value}")
	}
	out := make([]kv, 0, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("item %d must be an object {key, value}", i)
		}
		k, _ := strField(m, "key")
		val, ok := strField(m, "value")
		if strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("item %d has an empty key", i)
		}
		if !ok {
			return nil, fmt.Errorf("item %d (%s) needs a string value", i, k)
		}
		out = append(out, kv{k, val})
	}
	return out, nil
}

// projectDatabase is the Snowflake database that holds the project's buckets.
func (s *Stack) projectDatabase() string { return projectDatabase(s.opts.ProjectID) }

func projectDatabase(projectID int) string { return fmt.Sprintf("KEBOOLA_%d", projectID) }

// bucketDatabase is the database of the project that stores the bucket's data.
func (s *Stack) bucketDatabase(b *bucket) string {
	if b.source != nil {
		b = b.source
	}
	if b.project != nil {
		return projectDatabase(b.project.id)
	}
	return s.projectDatabase()
}

// backendPath is where the bucket lives in the backend: database and schema
// on Snowflake, the dataset on BigQuery (the bucket id with "." and "-" as
// "_", e.g. in_c_crm).
func (s *Stack) backendPath(b *bucket) []string {
	if s.opts.Backend == "bigquery" {
		return []string{strings.NewReplacer(".", "_", "-", "_").Replace(b.schema())}
	}
	return []string{s.bucketDatabase(b), b.schema()}
}

func (s *Stack) bucketJSON(b *bucket, withMeta bool) map[string]any {
	var rows, size int64
	var lastChange = b.created
	for _, t := range b.tables {
		rows += int64(t.rowsCount)
		size += t.dataSize
		if t.lastImport.After(lastChange) {
			lastChange = t.lastImport
		}
	}
	out := map[string]any{
		"id":                        b.id,
		"name":                      b.name,
		"displayName":               b.displayName,
		"idBranch":                  defaultBranchID,
		"stage":                     b.stage,
		"description":               metaValue(b.metadata, "KBC.description"),
		"tables":                    s.url + "/v2/storage/buckets/" + b.id + "/tables",
		"created":                   fmtTime(b.created),
		"lastChangeDate":            fmtTime(lastChange),
		"updated":                   fmtTime(lastChange),
		"isReadOnly":                b.source != nil,
		"dataSizeBytes":             size,
		"rowsCount":                 rows,
		"isMaintenance":             false,
		"backend":                   s.opts.Backend,
		"sharing":                   nil,
		"hasExternalSchema":         false,
		"databaseName":              "",
		"path":                      b.id,
		"isSnowflakeSharedDatabase": false,
		"color":                     nil,
		"backendPath":               s.backendPath(b),
	}
	if b.source != nil {
		out["sourceBucket"] = map[string]any{"id": b.source.id, "name": b.source.name, "description": metaValue(b.source.metadata, "KBC.description"),
			"project": map[string]any{"id": b.source.project.id, "name": b.source.project.name}}
	}
	if b.project != nil {
		out["project"] = map[string]any{"id": b.project.id, "name": b.project.name}
		out["sharing"] = "organization-project"
		out["sharedBy"] = map[string]any{"id": 7001, "name": "Marketing Admin", "date": fmtTime(b.created)}
	}
	if withMeta {
		out["metadata"] = metadataJSON(b.metadata)
	}
	return out
}

// visibleBucket finds a bucket of the request's storage (see storageIn)
// the caller may read; it writes the 404/403.
func (s *Stack) visibleBucket(w http.ResponseWriter, r *http.Request, id string, c *caller) *bucket {
	b, ok := s.storageIn(r).bucketsByID[id]
	if !ok {
		writeError(w, storageErrors, http.StatusNotFound, "storage.buckets.notFound", fmt.Sprintf("Bucket %s not found", id))
		return nil
	}
	if !c.tok.canRead(id) {
		writeError(w, storageErrors, http.StatusForbidden, "accessDenied", fmt.Sprintf("You don't have access to the bucket %s", id))
		return nil
	}
	return b
}

func (s *Stack) handleBuckets(w http.ResponseWriter, r *http.Request, c *caller) {
	inc := includes(r)
	s.mu.Lock()
	out := []any{}
	for _, b := range s.storageIn(r).buckets {
		if c.tok.canRead(b.id) {
			out = append(out, s.bucketJSON(b, inc["metadata"]))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Stack) handleBucket(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.visibleBucket(w, r, r.PathValue("id"), c); b != nil {
		writeJSON(w, http.StatusOK, s.bucketJSON(b, true))
	}
}

func (s *Stack) handleBucketMetadata(w http.ResponseWriter, r *http.Request, c *caller) {
	id := r.PathValue("id")
	if r.Method == http.MethodPost {
		entries, provider, ok := parseMetadataBody(w, r, "")
		if !ok {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		b := s.visibleBucket(w, r, id, c)
		if b == nil {
			return
		}
		if !c.tok.canWrite(id) {
			writeError(w, storageErrors, http.StatusForbidden, "accessDenied", fmt.Sprintf("You don't have write access to the bucket %s", id))
			return
		}
		for _, e := range entries {
			b.metadata = s.state.setMetadata(b.metadata, provider, e.key, e.value)
		}
		writeJSON(w, http.StatusCreated, metadataJSON(b.metadata))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.visibleBucket(w, r, id, c); b != nil {
		writeJSON(w, http.StatusOK, metadataJSON(b.metadata))
	}
}

func (s *Stack) columnMetadataJSON(t *table) any {
	if len(t.colMeta) == 0 {
		return []any{} // the API sends [] rather than {} when empty
	}
	out := map[string]any{}
	for _, col := range sortedKeys(t.colMeta) {
		out[col] = metadataJSON(t.colMeta[col])
	}
	return out
}

func (s *Stack) tableJSON(t *table, inc map[string]bool) map[string]any {
	out := map[string]any{
		"uri":                        s.url + "/v2/storage/tables/" + t.id,
		"id":                         t.id,
		"name":                       t.name,
		"displayName":                t.name,
		"transactional":              false,
		"primaryKey":                 nonNil(t.primaryKey),
		"indexType":                  nil,
		"indexKey":                   []string{},
		"distributionType":           nil,
		"distributionKey":            []string{},
		"syntheticPrimaryKeyEnabled": false,
		"created":                    fmtTime(t.created),
		"lastImportDate":             fmtTimePtr(t.lastImport),
		"lastChangeDate":             fmtTimePtr(t.lastImport),
		"rowsCount":                  t.rowsCount,
		"dataSizeBytes":              t.dataSize,
		"isAlias":                    t.source != nil,
		"isAliasable":                true,
		"isTyped":                    true,
		"tableType":                  "table",
		"path":                       "/" + t.bucket.id + "/" + t.name,
		"bucket":                     s.bucketJSON(t.bucket, false),
	}
	if t.source != nil {
		out["sourceTable"] = map[string]any{"id": t.source.id, "name": t.source.name, "uri": "",
			"project": map[string]any{"id": t.source.bucket.project.id, "name": t.source.bucket.project.name}}
	}
	if inc["columns"] || inc["all"] {
		names := make([]string, len(t.columns))
		for i, c := range t.columns {
			names[i] = c.name
		}
		out["columns"] = names
	}
	if inc["metadata"] || inc["all"] {
		out["metadata"] = metadataJSON(t.metadata)
	}
	if inc["columnMetadata"] || inc["all"] {
		out["columnMetadata"] = s.columnMetadataJSON(t)
	}
	if inc["definition"] || inc["all"] {
		cols := make([]any, 0, len(t.columns))
		for _, c := range t.columns {
			def := map[string]any{"type": c.kbcType, "nullable": c.nullable}
			if c.kbcType == "NUMERIC" {
				def["length"] = cmp.Or(c.length, "12,2")
			}
			cols = append(cols, map[string]any{"name": c.name, "definition": def, "basetype": baseType(c.kbcType), "canBeFiltered": true})
		}
		out["definition"] = map[string]any{"primaryKeysNames": nonNil(t.primaryKey), "columns": cols}
	}
	return out
}

// baseType maps a column type to Keboola's backend-independent base type.
func baseType(kbcType string) string {
	switch kbcType {
	case "VARCHAR":
		return "STRING"
	default:
		return kbcType
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var allIncludes = map[string]bool{"all": true}

// visibleTable finds a table of the request's storage (see storageIn) the
// caller may read; it writes the 404/403.
func (s *Stack) visibleTable(w http.ResponseWriter, r *http.Request, id string, c *caller) *table {
	t, ok := s.storageIn(r).tables[id]
	if !ok {
		writeError(w, storageErrors, http.StatusNotFound, "storage.tables.notFound", fmt.Sprintf("The table %q was not found in the bucket %q in the project %q", tableName(id), bucketOf(id), strconv.Itoa(s.opts.ProjectID)))
		return nil
	}
	if !c.tok.canRead(t.bucket.id) {
		writeError(w, storageErrors, http.StatusForbidden, "accessDenied", fmt.Sprintf("You don't have access to the table %s", id))
		return nil
	}
	return t
}

func bucketOf(tableID string) string {
	if i := strings.LastIndex(tableID, "."); i > 0 {
		return tableID[:i]
	}
	return ""
}

func tableName(tableID string) string {
	return tableID[strings.LastIndex(tableID, ".")+1:]
}

func (s *Stack) handleBucketTables(w http.ResponseWriter, r *http.Request, c *caller) {
	inc := includes(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.visibleBucket(w, r, r.PathValue("id"), c)
	if b == nil {
		return
	}
	out := make([]any, 0, len(b.tables))
	for _, t := range b.tables {
		out = append(out, s.tableJSON(t, inc))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Stack) handleTables(w http.ResponseWriter, r *http.Request, c *caller) {
	inc := includes(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, b := range s.storageIn(r).buckets {
		if !c.tok.canRead(b.id) {
			continue
		}
		for _, t := range b.tables {
			out = append(out, s.tableJSON(t, inc))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Stack) handleTable(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.visibleTable(w, r, r.PathValue("id"), c); t != nil {
		writeJSON(w, http.StatusOK, s.tableJSON(t, allIncludes))
	}
}

// handleTableMetadata serves GET (table metadata list) and POST
// {provider, metadata?, columnsMetadata?{column:[{key,value}]}}.
func (s *Stack) handleTableMetadata(w http.ResponseWriter, r *http.Request, c *caller) {
	id := r.PathValue("id")
	if r.Method == http.MethodGet {
		s.mu.Lock()
		defer s.mu.Unlock()
		if t := s.visibleTable(w, r, id, c); t != nil {
			writeJSON(w, http.StatusOK, metadataJSON(t.metadata))
		}
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", err.Error())
		return
	}
	provider, _ := strField(body, "provider")
	if provider == "" {
		writeError(w, storageErrors, http.StatusBadRequest, "storage.metadata.invalidProvider", "provider is required")
		return
	}
	entries, err := parseKVList(body["metadata"])
	if err != nil {
		writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", "metadata: "+err.Error())
		return
	}
	colEntries := map[string][]kv{}
	switch cm := body["columnsMetadata"].(type) {
	case nil:
	case []any:
		if len(cm) != 0 {
			writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", "columnsMetadata must be an object: column name → [{key, value}]")
			return
		}
	case map[string]any:
		for col, list := range cm {
			e, err := parseKVList(list)
			if err != nil {
				writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", fmt.Sprintf("columnsMetadata[%s]: %v", col, err))
				return
			}
			colEntries[col] = e
		}
	default:
		writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", "columnsMetadata must be an object: column name → [{key, value}]")
		return
	}
	if len(entries) == 0 && len(colEntries) == 0 {
		writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", "give metadata or columnsMetadata")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.visibleTable(w, r, id, c)
	if t == nil {
		return
	}
	if !c.tok.canWrite(t.bucket.id) {
		writeError(w, storageErrors, http.StatusForbidden, "accessDenied", fmt.Sprintf("You don't have write access to the table %s", id))
		return
	}
	for col := range colEntries {
		if !t.hasColumn(col) {
			writeError(w, storageErrors, http.StatusBadRequest, "storage.tables.columnNotFound", fmt.Sprintf("Column %q not found in table %s", col, id))
			return
		}
	}
	for _, e := range entries {
		t.metadata = s.state.setMetadata(t.metadata, provider, e.key, e.value)
	}
	colsOut := map[string]any{}
	for _, col := range sortedKeys(colEntries) {
		if t.colMeta == nil {
			t.colMeta = map[string][]*metadata{}
		}
		for _, e := range colEntries[col] {
			t.colMeta[col] = s.state.setMetadata(t.colMeta[col], provider, e.key, e.value)
		}
		colsOut[col] = metadataJSON(t.colMeta[col])
	}
	writeJSON(w, http.StatusCreated, map[string]any{"metadata": metadataJSON(t.metadata), "columnsMetadata": colsOut})
}

// removeMetadata deletes the entry with id from list; it writes the 404.
func removeMetadata(w http.ResponseWriter, list []*metadata, id string) ([]*metadata, bool) {
	for i, m := range list {
		if m.id == id {
			return append(list[:i:i], list[i+1:]...), true
		}
	}
	writeError(w, storageErrors, http.StatusNotFound, "storage.metadata.notFound", fmt.Sprintf("Metadata %s not found", id))
	return list, false
}

func (s *Stack) handleDeleteBucketMetadata(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.visibleBucket(w, r, r.PathValue("id"), c)
	if b == nil {
		return
	}
	if !c.tok.canWrite(b.id) {
		writeError(w, storageErrors, http.StatusForbidden, "accessDenied", fmt.Sprintf("You don't have write access to the bucket %s", b.id))
		return
	}
	var ok bool
	if b.metadata, ok = removeMetadata(w, b.metadata, r.PathValue("metadataId")); ok {
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Stack) handleDeleteTableMetadata(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.visibleTable(w, r, r.PathValue("id"), c)
	if t == nil {
		return
	}
	if !c.tok.canWrite(t.bucket.id) {
		writeError(w, storageErrors, http.StatusForbidden, "accessDenied", fmt.Sprintf("You don't have write access to the table %s", t.id))
		return
	}
	var ok bool
	if t.metadata, ok = removeMetadata(w, t.metadata, r.PathValue("metadataId")); ok {
		w.WriteHeader(http.StatusNoContent)
	}
}
