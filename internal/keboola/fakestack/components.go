package fakestack

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// component is an entry of the stack's component catalogue.
type component struct {
	id               string
	typ              string // extractor, writer, transformation, application, other
	name             string
	description      string
	longDescription  string
	categories       []string
	flags            []string
	configSchema     map[string]any
	rowSchema        map[string]any
	documentation    string // served by the AI Service's /docs/components; empty → 404 there
	documentationURL string
	rootExamples     []any
	rowExamples      []any
}

func (c *component) json(full bool) map[string]any {
	out := map[string]any{
		"id":               c.id,
		"type":             c.typ,
		"name":             c.name,
		"description":      c.description,
		"longDescription":  c.longDescription,
		"version":          1,
		"complexity":       "medium",
		"categories":       nonNil(c.categories),
		"hasUI":            true,
		"hasRun":           c.typ != "other",
		"ico32":            "https://assets.example.invalid/" + c.id + "/32.png",
		"ico64":            "https://assets.example.invalid/" + c.id + "/64.png",
		"flags":            nonNil(c.flags),
		"uri":              "https://syrup.keboola.com/docker/" + c.id,
		"documentationUrl": c.documentationURL,
	}
	if full {
		out["data"] = map[string]any{"definition": map[string]any{"type": "aws-ecr", "uri": "147946154733.dkr.ecr.us-east-1.amazonaws.com/developer-portal-v2/" + c.id}}
		out["configurationSchema"] = orEmpty(c.configSchema)
		out["configurationRowSchema"] = orEmpty(c.rowSchema)
		out["emptyConfiguration"] = map[string]any{}
		out["emptyConfigurationRow"] = map[string]any{}
		out["uiOptions"] = map[string]any{}
		out["configurationDescription"] = nil
		out["features"] = []string{}
		out["expiredOn"] = nil
	}
	return out
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

type configRow struct {
	id                string
	name              string
	description       string
	isDisabled        bool
	version           int
	created           time.Time
	changeDescription string
	configuration     map[string]any
	state             map[string]any
}

func (r *configRow) json() map[string]any {
	return map[string]any{
		"id":                r.id,
		"name":              r.name,
		"description":       r.description,
		"isDisabled":        r.isDisabled,
		"version":           r.version,
		"created":           fmtTime(r.created),
		"changeDescription": r.changeDescription,
		"configuration":     orEmpty(r.configuration),
		"state":             orEmpty(r.state),
	}
}

type configVersion struct {
	version           int
	created           time.Time
	creator           *token
	changeDescription string
	name              string
	description       string
	isDeleted         bool
	configuration     map[string]any
	rows              []configRow
}

// config is a component configuration. Configuration maps are replaced,
// never mutated, so handlers may render them after other writes.
type config struct {
	componentID       string
	id                string
	name              string
	description       string
	created           time.Time
	creator           *token
	version           int
	changeDescription string
	isDisabled        bool
	isDeleted         bool
	configuration     map[string]any
	state             map[string]any
	rows              []*configRow
	versions          []configVersion
	metadata          []*metadata
	// failMessage makes queue runs of this configuration end in error (demo data).
	failMessage string
}

func tokenRef(t *token) map[string]any {
	if t == nil {
		return map[string]any{}
	}
	return map[string]any{"id": t.id, "description": t.description}
}

func (c *config) json(withConfiguration, withRows, withState bool) map[string]any {
	out := map[string]any{
		"id":                c.id,
		"name":              c.name,
		"description":       c.description,
		"created":           fmtTime(c.created),
		"creatorToken":      tokenRef(c.creator),
		"version":           c.version,
		"changeDescription": c.changeDescription,
		"isDisabled":        c.isDisabled,
		"isDeleted":         c.isDeleted,
	}
	if withConfiguration {
		out["configuration"] = orEmpty(c.configuration)
		last := c.versions[len(c.versions)-1]
		out["currentVersion"] = map[string]any{"created": fmtTime(last.created), "creatorToken": tokenRef(last.creator), "changeDescription": last.changeDescription}
		ids := make([]string, len(c.rows))
		for i, r := range c.rows {
			ids[i] = r.id
		}
		out["rowsSortOrder"] = ids
	}
	if withRows {
		rows := make([]any, len(c.rows))
		for i, r := range c.rows {
			rows[i] = r.json()
		}
		out["rows"] = rows
	}
	if withState {
		out["state"] = orEmpty(c.state)
	}
	return out
}

// snapshot records the configuration's current content as a new version.
func (c *config) snapshot(now time.Time, by *token) {
	rows := make([]configRow, len(c.rows))
	for i, r := range c.rows {
		rows[i] = *r
	}
	c.versions = append(c.versions, configVersion{
		version: c.version, created: now, creator: by, changeDescription: c.changeDescription,
		name: c.name, description: c.description, isDeleted: c.isDeleted, configuration: c.configuration, rows: rows,
	})
}

// bump increments the version after a change and records it.
func (c *config) bump(now time.Time, by *token, change string) {
	c.version++
	c.changeDescription = change
	c.snapshot(now, by)
}

func (s *Stack) componentRoutes(mux *http.ServeMux) {
	const cfg = "/components/{component}/configs/{config}"
	s.sapi(mux, "GET", "/components", s.handleComponents)
	s.sapi(mux, "GET", "/components/{component}", s.handleComponent)
	s.sapi(mux, "GET", "/components/{component}/configs", s.handleConfigs)
	s.sapi(mux, "POST", "/components/{component}/configs", s.handleCreateConfig)
	s.sapi(mux, "GET", cfg, s.handleConfig)
	s.sapi(mux, "PUT", cfg, s.handleUpdateConfig)
	s.sapi(mux, "DELETE", cfg, s.handleDeleteConfig)
	s.sapi(mux, "GET", cfg+"/rows", s.handleRows)
	s.sapi(mux, "POST", cfg+"/rows", s.handleCreateRow)
	s.sapi(mux, "GET", cfg+"/rows/{row}", s.handleRow)
	s.sapi(mux, "PUT", cfg+"/rows/{row}", s.handleUpdateRow)
	s.sapi(mux, "DELETE", cfg+"/rows/{row}", s.handleDeleteRow)
	s.sapi(mux, "GET", cfg+"/versions", s.handleVersions)
	s.sapi(mux, "GET", cfg+"/versions/{version}", s.handleVersion)
	s.sapi(mux, "GET", cfg+"/metadata", s.handleConfigMetadata)
	s.sapi(mux, "POST", cfg+"/metadata", s.handleConfigMetadata)
	s.sapi(mux, "DELETE", cfg+"/metadata/{metadataId}", s.handleDeleteConfigMetadata)
	s.sapi(mux, "POST", cfg+"/workspaces", s.handleCreateWorkspace)
	s.sapi(mux, "GET", cfg+"/workspaces", s.handleConfigWorkspaces)
	s.sapi(mux, "POST", "/workspaces", s.handleCreateBareWorkspace)
	s.sapi(mux, "GET", "/workspaces", s.handleWorkspaces)
	s.sapi(mux, "GET", "/workspaces/{id}", s.handleWorkspace)
	s.sapi(mux, "GET", "/jobs/{id}", s.handleStorageJob)
	s.sapi(mux, "GET", "/events", s.handleEvents)
	s.sapi(mux, "POST", "/events", s.handleCreateEvent)
	s.sapi(mux, "GET", "/global-search", s.handleGlobalSearch)
}

func (s *Stack) handleComponents(w http.ResponseWriter, r *http.Request, _ *caller) {
	typ := r.URL.Query().Get("componentType")
	inc := includes(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, comp := range s.state.catalogue {
		if typ != "" && comp.typ != typ {
			continue
		}
		var cfgs []any
		for _, c := range s.configsIn(r)[comp.id] {
			if !c.isDeleted {
				cfgs = append(cfgs, c.json(inc["configuration"], inc["rows"], inc["state"]))
			}
		}
		if len(cfgs) == 0 {
			continue // the list holds only components the project has configured
		}
		j := comp.json(true)
		j["configurations"] = cfgs
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
}

// findComponent writes the 404 for an unknown component.
func (s *Stack) findComponent(w http.ResponseWriter, id string) *component {
	comp, ok := s.state.components[id]
	if !ok {
		writeError(w, storageErrors, http.StatusNotFound, "storage.components.notFound", fmt.Sprintf("Component %s not found", id))
		return nil
	}
	return comp
}

func (s *Stack) handleComponent(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if comp := s.findComponent(w, r.PathValue("component")); comp != nil {
		writeJSON(w, http.StatusOK, comp.json(true))
	}
}

func (s *Stack) handleConfigs(w http.ResponseWriter, r *http.Request, _ *caller) {
	deleted, _ := strconv.ParseBool(r.URL.Query().Get("isDeleted"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.findComponent(w, r.PathValue("component")) == nil {
		return
	}
	out := []any{}
	for _, c := range s.configsIn(r)[r.PathValue("component")] {
		if c.isDeleted == deleted {
			out = append(out, c.json(true, true, true))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// findConfig writes the 404 for an unknown component or configuration; a
// configuration in the trash is found only when trash is set.
func (s *Stack) findConfig(w http.ResponseWriter, r *http.Request, trash bool) *config {
	if s.findComponent(w, r.PathValue("component")) == nil {
		return nil
	}
	id := r.PathValue("config")
	for _, c := range s.configsIn(r)[r.PathValue("component")] {
		if c.id == id && (trash || !c.isDeleted) {
			return c
		}
	}
	writeError(w, storageErrors, http.StatusNotFound, "storage.components.configurations.notFound",
		fmt.Sprintf("Configuration %s not found", id))
	return nil
}

// canConfigure reports whether the token may change configurations of a component.
func canConfigure(t *token, componentID string) bool {
	return t.master || t.canManageBuckets || slices.Contains(t.componentAccess, componentID)
}

func denyConfigure(w http.ResponseWriter, componentID string) {
	writeError(w, storageErrors, http.StatusForbidden, "accessDenied", fmt.Sprintf("You don't have access to the component %s", componentID))
}

func (s *Stack) handleConfig(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.findConfig(w, r, false); c != nil {
		writeJSON(w, http.StatusOK, c.json(true, true, true))
	}
}

// configFields are the writable fields of a configuration or row body.
type configFields struct {
	name, description, change *string
	isDisabled                *bool
	configuration, state      map[string]any
	hasConfiguration          bool
	hasState                  bool
	version                   *int
}

func parseConfigFields(body map[string]any) (configFields, error) {
	var f configFields
	if v, ok := strField(body, "name"); ok {
		f.name = &v
	}
	if v, ok := strField(body, "description"); ok {
		f.description = &v
	}
	if v, ok := strField(body, "changeDescription"); ok {
		f.change = &v
	}
	if _, present := body["isDisabled"]; present {
		v, ok := boolField(body, "isDisabled")
		if !ok {
			return f, fmt.Errorf("isDisabled must be a boolean")
		}
		f.isDisabled = &v
	}
	var err error
	if f.configuration, f.hasConfiguration, err = objectField(body, "configuration"); err != nil {
		return f, err
	}
	if f.state, f.hasState, err = objectField(body, "state"); err != nil {
		return f, err
	}
	if _, present := body["version"]; present {
		v, ok := intField(body, "version")
		if !ok {
			return f, fmt.Errorf("version must be an integer")
		}
		f.version = &v
	}
	return f, nil
}

func badRequest(w http.ResponseWriter, err error) {
	writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", err.Error())
}

// readConfigBody reads a configuration or row body, answering 400 (and
// reporting false) when it cannot be decoded or a field has the wrong type.
func readConfigBody(w http.ResponseWriter, r *http.Request) (map[string]any, configFields, bool) {
	body, err := readBody(r)
	if err != nil {
		badRequest(w, err)
		return nil, configFields{}, false
	}
	f, err := parseConfigFields(body)
	if err != nil {
		badRequest(w, err)
		return nil, configFields{}, false
	}
	return body, f, true
}

// configToEdit finds the configuration of the request path for a change by
// the caller, answering 404 or 403 (and returning nil) otherwise. s.mu must
// be held.
func (s *Stack) configToEdit(w http.ResponseWriter, r *http.Request, c *caller, trash bool) *config {
	cfg := s.findConfig(w, r, trash)
	if cfg == nil {
		return nil
	}
	if !canConfigure(c.tok, cfg.componentID) {
		denyConfigure(w, cfg.componentID)
		return nil
	}
	return cfg
}

// applyTo overwrites the given fields of a configuration or row with those
// the body set, leaving the others as they are.
func (f configFields) applyTo(name, description *string, isDisabled *bool, configuration, state *map[string]any) {
	if f.name != nil {
		*name = *f.name
	}
	if f.description != nil {
		*description = *f.description
	}
	if f.isDisabled != nil {
		*isDisabled = *f.isDisabled
	}
	if f.hasConfiguration {
		*configuration = f.configuration
	}
	if f.hasState {
		*state = f.state
	}
}

func (s *Stack) handleCreateConfig(w http.ResponseWriter, r *http.Request, c *caller) {
	body, f, ok := readConfigBody(w, r)
	if !ok {
		return
	}
	if f.name == nil || strings.TrimSpace(*f.name) == "" {
		badRequest(w, fmt.Errorf("name is required"))
		return
	}
	compID := r.PathValue("component")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.findComponent(w, compID) == nil {
		return
	}
	if !canConfigure(c.tok, compID) {
		denyConfigure(w, compID)
		return
	}
	id, _ := strField(body, "configurationId")
	if id == "" {
		id = strconv.Itoa(s.state.nextID() * 1000)
	}
	configs := s.configsIn(r)
	for _, other := range configs[compID] {
		if other.id == id {
			writeError(w, storageErrors, http.StatusBadRequest, "storage.components.configurations.alreadyExists", fmt.Sprintf("Configuration %s already exists", id))
			return
		}
	}
	cfg := s.state.addConfigIn(configs, compID, id, *f.name, deref(f.description), f.configuration, c.tok)
	if f.state != nil {
		cfg.state = f.state
	}
	if f.isDisabled != nil {
		cfg.isDisabled = *f.isDisabled
	}
	if f.change != nil {
		cfg.changeDescription = *f.change
		cfg.versions[0].changeDescription = *f.change
	}
	writeJSON(w, http.StatusCreated, cfg.json(true, true, true))
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// addConfig creates a configuration of the default branch at version 1.
func (st *state) addConfig(compID, id, name, description string, configuration map[string]any, by *token) *config {
	return st.addConfigIn(st.configs, compID, id, name, description, configuration, by)
}

// addConfigIn creates a configuration in a branch's configurations.
func (st *state) addConfigIn(configs map[string][]*config, compID, id, name, description string, configuration map[string]any, by *token) *config {
	now := st.s.now()
	c := &config{
		componentID: compID, id: id, name: name, description: description, created: now, creator: by,
		version: 1, changeDescription: "Configuration created", configuration: configuration, state: map[string]any{},
	}
	c.snapshot(now, by)
	configs[compID] = append(configs[compID], c)
	return c
}

// handleUpdateConfig implements PUT …/configs/{id}. A body "version" that is
// not the current version is a conflicting edit and gets 409.
func (s *Stack) handleUpdateConfig(w http.ResponseWriter, r *http.Request, c *caller) {
	_, f, ok := readConfigBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.configToEdit(w, r, c, false)
	if cfg == nil {
		return
	}
	if f.version != nil && *f.version != cfg.version {
		writeError(w, storageErrors, http.StatusConflict, "storage.components.configurations.versionConflict",
			fmt.Sprintf("Configuration %s was changed meanwhile: you edited version %d, the current version is %d", cfg.id, *f.version, cfg.version))
		return
	}
	if f.name != nil && strings.TrimSpace(*f.name) == "" {
		badRequest(w, fmt.Errorf("name must not be empty"))
		return
	}
	f.applyTo(&cfg.name, &cfg.description, &cfg.isDisabled, &cfg.configuration, &cfg.state)
	cfg.bump(s.now(), c.tok, derefOr(f.change, "Configuration updated"))
	writeJSON(w, http.StatusOK, cfg.json(true, true, true))
}

func derefOr(p *string, def string) string {
	if p == nil || *p == "" {
		return def
	}
	return *p
}

// handleDeleteConfig moves a configuration to the trash; deleting it from the
// trash removes it for good, as the real API does.
func (s *Stack) handleDeleteConfig(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.configToEdit(w, r, c, true)
	if cfg == nil {
		return
	}
	if !cfg.isDeleted {
		cfg.isDeleted = true
		cfg.bump(s.now(), c.tok, "Configuration deleted")
	} else {
		configs := s.configsIn(r)
		configs[cfg.componentID] = slices.DeleteFunc(configs[cfg.componentID], func(x *config) bool { return x == cfg })
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Stack) handleRows(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.findConfig(w, r, false)
	if cfg == nil {
		return
	}
	out := make([]any, len(cfg.rows))
	for i, row := range cfg.rows {
		out[i] = row.json()
	}
	writeJSON(w, http.StatusOK, out)
}

func findRow(w http.ResponseWriter, cfg *config, id string) (int, *configRow) {
	for i, row := range cfg.rows {
		if row.id == id {
			return i, row
		}
	}
	writeError(w, storageErrors, http.StatusNotFound, "storage.components.configurations.rows.notFound", fmt.Sprintf("Row %s not found in configuration %s", id, cfg.id))
	return -1, nil
}

func (s *Stack) handleRow(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.findConfig(w, r, false)
	if cfg == nil {
		return
	}
	if _, row := findRow(w, cfg, r.PathValue("row")); row != nil {
		writeJSON(w, http.StatusOK, row.json())
	}
}

func (s *Stack) handleCreateRow(w http.ResponseWriter, r *http.Request, c *caller) {
	body, f, ok := readConfigBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.configToEdit(w, r, c, false)
	if cfg == nil {
		return
	}
	id, _ := strField(body, "rowId")
	if id == "" {
		id = strconv.Itoa(s.state.nextID() * 1000)
	}
	for _, other := range cfg.rows {
		if other.id == id {
			writeError(w, storageErrors, http.StatusBadRequest, "storage.components.configurations.rows.alreadyExists", fmt.Sprintf("Row %s already exists", id))
			return
		}
	}
	row := &configRow{id: id, name: deref(f.name), description: deref(f.description), version: 1, created: s.now(),
		changeDescription: derefOr(f.change, "Row created"), configuration: f.configuration, state: f.state}
	if f.isDisabled != nil {
		row.isDisabled = *f.isDisabled
	}
	cfg.rows = append(cfg.rows, row)
	cfg.bump(s.now(), c.tok, fmt.Sprintf("Row %s added", id))
	writeJSON(w, http.StatusCreated, row.json())
}

func (s *Stack) handleUpdateRow(w http.ResponseWriter, r *http.Request, c *caller) {
	_, f, ok := readConfigBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.configToEdit(w, r, c, false)
	if cfg == nil {
		return
	}
	_, old := findRow(w, cfg, r.PathValue("row"))
	if old == nil {
		return
	}
	if f.version != nil && *f.version != old.version {
		writeError(w, storageErrors, http.StatusConflict, "storage.components.configurations.rows.versionConflict",
			fmt.Sprintf("Row %s was changed meanwhile: you edited version %d, the current version is %d", old.id, *f.version, old.version))
		return
	}
	// Rows are copied on write so that earlier version snapshots keep their content.
	row := *old
	f.applyTo(&row.name, &row.description, &row.isDisabled, &row.configuration, &row.state)
	row.version++
	row.changeDescription = derefOr(f.change, "Row updated")
	for i := range cfg.rows {
		if cfg.rows[i] == old {
			cfg.rows[i] = &row
		}
	}
	cfg.bump(s.now(), c.tok, fmt.Sprintf("Row %s changed: %s", row.id, row.changeDescription))
	writeJSON(w, http.StatusOK, row.json())
}

func (s *Stack) handleDeleteRow(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.configToEdit(w, r, c, false)
	if cfg == nil {
		return
	}
	i, row := findRow(w, cfg, r.PathValue("row"))
	if row == nil {
		return
	}
	cfg.rows = slices.Delete(slices.Clone(cfg.rows), i, i+1)
	cfg.bump(s.now(), c.tok, fmt.Sprintf("Row %s deleted", row.id))
	w.WriteHeader(http.StatusNoContent)
}

func (v configVersion) json(full bool) map[string]any {
	out := map[string]any{
		"version":           v.version,
		"created":           fmtTime(v.created),
		"creatorToken":      tokenRef(v.creator),
		"changeDescription": v.changeDescription,
		"isDeleted":         v.isDeleted,
		"name":              v.name,
		"description":       v.description,
	}
	if full {
		out["configuration"] = orEmpty(v.configuration)
		rows := make([]any, len(v.rows))
		for i, r := range v.rows {
			rows[i] = r.json()
		}
		out["rows"] = rows
	}
	return out
}

func (s *Stack) handleVersions(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.findConfig(w, r, true)
	if cfg == nil {
		return
	}
	out := make([]any, 0, len(cfg.versions))
	for i := len(cfg.versions) - 1; i >= 0; i-- {
		out = append(out, cfg.versions[i].json(false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Stack) handleVersion(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.findConfig(w, r, true)
	if cfg == nil {
		return
	}
	n, err := strconv.Atoi(r.PathValue("version"))
	if err == nil && n >= 1 && n <= len(cfg.versions) {
		writeJSON(w, http.StatusOK, cfg.versions[n-1].json(true))
		return
	}
	writeError(w, storageErrors, http.StatusNotFound, "storage.components.configurations.versions.notFound",
		fmt.Sprintf("Version %s of configuration %s not found", r.PathValue("version"), cfg.id))
}

func (s *Stack) handleConfigMetadata(w http.ResponseWriter, r *http.Request, c *caller) {
	if r.Method == http.MethodGet {
		s.mu.Lock()
		defer s.mu.Unlock()
		if cfg := s.findConfig(w, r, false); cfg != nil {
			writeJSON(w, http.StatusOK, metadataJSON(cfg.metadata))
		}
		return
	}
	entries, provider, ok := parseMetadataBody(w, r, "user")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.configToEdit(w, r, c, false)
	if cfg == nil {
		return
	}
	for _, e := range entries {
		cfg.metadata = s.state.setMetadata(cfg.metadata, provider, e.key, e.value)
	}
	writeJSON(w, http.StatusCreated, metadataJSON(cfg.metadata))
}

// handleDeleteConfigMetadata deletes one metadata entry by its id, as
// Keboola does (apiary.apib "Components Configurations Metadata": 204).
// Keboola's own API tests (storage-api-php-client,
// tests/Common/ConfigurationMetadataTest.php, testDeleteMetadata) pin the
// rest: an id the configuration does not hold in this branch (deleted
// already, another configuration's, another branch's) is 404, and a
// development branch cannot delete configuration metadata at all (501).
func (s *Stack) handleDeleteConfigMetadata(w http.ResponseWriter, r *http.Request, c *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.configToEdit(w, r, c, false)
	if cfg == nil {
		return
	}
	if branchOf(r) != nil {
		writeError(w, storageErrors, http.StatusNotImplemented, "notImplemented", "Delete metadata is not implemented for development branch")
		return
	}
	var ok bool
	if cfg.metadata, ok = removeMetadata(w, cfg.metadata, r.PathValue("metadataId")); ok {
		w.WriteHeader(http.StatusNoContent)
	}
}
