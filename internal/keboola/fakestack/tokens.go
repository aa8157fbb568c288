package fakestack

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// token is a Storage API token of the project.
type token struct {
	id                    string
	secret                string
	description           string
	created               time.Time
	master                bool
	canManageBuckets      bool
	canManageTokens       bool
	canReadAllFileUploads bool
	bucketPermissions     map[string]string // bucket id → read|write|manage
	componentAccess       []string
	expires               time.Time // zero: never
	revoked               bool
	// role is the project role of the member behind a master token (admin,
	// share, readOnly, guest); other tokens act for no member.
	role string
}

// Project roles as tokens/verify reports them in admin.role.
const (
	RoleAdmin    = "admin"
	RoleShare    = "share"
	RoleReadOnly = "readOnly"
	RoleGuest    = "guest"
)

// adminContext reports whether the caller acts in a project admin's context:
// a master token, or a Keboola OAuth session of one, of a member who may
// manage the project (admin or share). A token minted with POST tokens has
// no member and no admin context, however wide its permissions: the
// Scheduler and Data Science's git credentials refuse it (the Python
// server's clients/client.py, AI-3398: "the SAPI token minted for OAuth
// sessions does not" carry the admin context).
func (c *caller) adminContext() bool {
	return c.tok.master && (c.tok.role == RoleAdmin || c.tok.role == RoleShare)
}

// denyNonAdmin writes the 403 the admin-only services answer.
func denyNonAdmin(w http.ResponseWriter) {
	writeError(w, storageErrors, http.StatusForbidden, "accessDenied", "This action needs a project admin's token or Keboola sign-in; a token created in the project does not carry that context")
}

func (t *token) valid(now time.Time) bool {
	return !t.revoked && (t.expires.IsZero() || now.Before(t.expires))
}

// bucketAccess is the token's permission on a bucket: "" (none), read, write or manage.
func (t *token) bucketAccess(bucketID string) string {
	if t.master || t.canManageBuckets {
		return "manage"
	}
	return t.bucketPermissions[bucketID]
}

func (t *token) canRead(bucketID string) bool { return t.bucketAccess(bucketID) != "" }

func (t *token) canWrite(bucketID string) bool {
	a := t.bucketAccess(bucketID)
	return a == "write" || a == "manage"
}

// TokenOptions describe a limited token added with AddToken.
type TokenOptions struct {
	Description      string
	CanManageBuckets bool
	CanManageTokens  bool
	// BucketPermissions maps bucket ids to "read", "write" or "manage".
	BucketPermissions map[string]string
	// ComponentAccess lists the components whose configurations the token may use.
	ComponentAccess []string
	// ExpiresIn makes the token invalid after this long (by the stack's clock); 0 = never.
	ExpiresIn time.Duration
}

// AddToken creates a Storage token in the project and returns its secret.
func (s *Stack) AddToken(o TokenOptions) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.addToken(o, false).secret
}

// RevokeToken makes a token (Storage token or Keboola OAuth access token)
// invalid; it reports whether the token existed.
func (s *Stack) RevokeToken(secret string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.state.tokens[secret]; ok {
		t.revoked = true
		return true
	}
	if a, ok := s.state.oauthAccess[secret]; ok {
		delete(s.state.oauthAccess, secret)
		return a != nil
	}
	return false
}

func (st *state) addToken(o TokenOptions, master bool) *token {
	id := strconv.Itoa(st.nextID())
	t := &token{
		id:                id,
		secret:            fmt.Sprintf("%d-%s-%s", st.s.opts.ProjectID, id, randomHex(20)),
		description:       o.Description,
		created:           st.s.now(),
		master:            master,
		canManageBuckets:  master || o.CanManageBuckets,
		canManageTokens:   master || o.CanManageTokens,
		bucketPermissions: map[string]string{},
		componentAccess:   o.ComponentAccess,
	}
	for k, v := range o.BucketPermissions {
		t.bucketPermissions[k] = v
	}
	if o.ExpiresIn > 0 {
		t.expires = t.created.Add(o.ExpiresIn)
	}
	st.tokens[t.secret] = t
	st.tokensByID[t.id] = t
	return t
}

// caller is the authenticated identity of a request.
type caller struct {
	tok   *token
	oauth bool // authenticated with a Keboola OAuth access token (Bearer)
}

// authMode says which credentials a service accepts.
type authMode int

const (
	// headerOrBearer: X-StorageApi-Token, or Authorization: Bearer with a
	// Keboola OAuth access token (Storage, Query Service).
	headerOrBearer authMode = iota
	// headerOnly: X-StorageApi-Token only (Jobs Queue, AI Service).
	headerOnly
)

// authenticate resolves the request's credentials; nil means 401.
func (s *Stack) authenticate(r *http.Request, mode authMode) *caller {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := r.Header.Get("X-StorageApi-Token"); v != "" {
		if t, ok := s.state.tokens[v]; ok && t.valid(now) {
			return &caller{tok: t}
		}
		return nil
	}
	if mode == headerOnly {
		return nil
	}
	auth := r.Header.Get("Authorization")
	bearer, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || bearer == "" {
		return nil
	}
	if a, ok := s.state.oauthAccess[bearer]; ok && now.Before(a.expires) && a.tok.valid(now) {
		return &caller{tok: a.tok, oauth: true}
	}
	return nil
}

// withAuth wraps a handler with authentication in a service's error style.
func (s *Stack) withAuth(mode authMode, style errorStyle, h func(http.ResponseWriter, *http.Request, *caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := s.authenticate(r, mode)
		if c == nil {
			code := "storage.tokenInvalid"
			msg := "Invalid access token"
			if mode == headerOnly && r.Header.Get("X-StorageApi-Token") == "" {
				code = "storage.tokenMissing"
				msg = "Access token must be set in the X-StorageApi-Token header"
			}
			writeError(w, style, http.StatusUnauthorized, code, msg)
			return
		}
		h(w, r, c)
	}
}

// tokenJSON renders a token like GET /v2/storage/tokens/verify does.
func (s *Stack) tokenJSON(t *token) map[string]any {
	perms := any([]any{}) // the API sends [] rather than {} when there are none
	if len(t.bucketPermissions) > 0 {
		m := map[string]string{}
		for k, v := range t.bucketPermissions {
			m[k] = v
		}
		perms = m
	}
	out := map[string]any{
		"id":                    t.id,
		"description":           t.description,
		"created":               fmtTime(t.created),
		"refreshed":             fmtTime(t.created),
		"uri":                   s.url + "/v2/storage/tokens/" + t.id,
		"isMasterToken":         t.master,
		"canManageBuckets":      t.canManageBuckets,
		"canManageTokens":       t.canManageTokens,
		"canReadAllFileUploads": t.master || t.canReadAllFileUploads,
		"canPurgeTrash":         t.master,
		"expires":               fmtTimePtr(t.expires),
		"isExpired":             !t.expires.IsZero() && !s.now().Before(t.expires),
		"isDisabled":            false,
		"dailyCapacity":         0,
		"bucketPermissions":     perms,
		"owner":                 s.ownerJSON(),
		"organization":          map[string]any{"id": organizationID},
		"creatorToken":          nil,
	}
	if len(t.componentAccess) > 0 {
		out["componentAccess"] = t.componentAccess
	}
	if t.master {
		out["admin"] = map[string]any{"id": 5001, "name": "Demo Admin", "role": t.role, "isOrganizationMember": true, "features": []string{}}
	}
	return out
}

const organizationID = 901

// features are the project's feature flags: the demo set less
// Options.WithoutFeatures, plus Options.ExtraFeatures.
func (s *Stack) features() []string {
	out := []string{}
	for _, f := range []string{"global-search", "queuev2", "workspace-snowflake-dynamic-backend-size", "input-mapping-read-only-storage"} {
		if !slices.Contains(s.opts.WithoutFeatures, f) {
			out = append(out, f)
		}
	}
	return append(out, s.opts.ExtraFeatures...)
}

func (s *Stack) ownerJSON() map[string]any {
	return map[string]any{
		"id":                  s.opts.ProjectID, // an int, as observed
		"name":                s.opts.ProjectName,
		"type":                "production",
		"region":              "us-east-1",
		"created":             fmtTime(demoEpoch),
		"expires":             nil,
		"features":            s.features(),
		"dataSizeBytes":       s.state.dataSize(),
		"rowsCount":           s.state.rowCount(),
		"hasSnowflake":        s.opts.Backend == "snowflake",
		"hasRedshift":         false,
		"hasSynapse":          false,
		"hasExasol":           false,
		"hasTeradata":         false,
		"hasBigquery":         s.opts.Backend == "bigquery",
		"defaultBackend":      s.opts.Backend,
		"fileStorageProvider": "aws",
		"isDisabled":          false,
		"limits": map[string]any{
			"components.jobsParallelism": map[string]any{"name": "components.jobsParallelism", "value": 10},
			"kbc.adminsCount":            map[string]any{"name": "kbc.adminsCount", "value": 10},
			"storage.dataSizeBytes":      map[string]any{"name": "storage.dataSizeBytes", "value": 50000000000},
			"storage.jobsParallelism":    map[string]any{"name": "storage.jobsParallelism", "value": 10},
		},
		"metrics": map[string]any{},
	}
}

func (s *Stack) handleVerify(w http.ResponseWriter, _ *http.Request, c *caller) {
	s.mu.Lock()
	body := s.tokenJSON(c.tok)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func (s *Stack) handleListTokens(w http.ResponseWriter, _ *http.Request, c *caller) {
	if !c.tok.canManageTokens {
		writeError(w, storageErrors, http.StatusForbidden, "accessDenied", "You don't have access to manage tokens")
		return
	}
	s.mu.Lock()
	ts := make([]*token, 0, len(s.state.tokensByID))
	for _, t := range s.state.tokensByID {
		if !t.revoked {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return idLess(ts[i].id, ts[j].id) })
	out := make([]any, 0, len(ts))
	for _, t := range ts {
		out = append(out, s.tokenJSON(t))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// handleCreateToken implements POST /v2/storage/tokens. A token may grant no
// more than its creator holds (master tokens and OAuth sessions of admins may
// grant anything).
func (s *Stack) handleCreateToken(w http.ResponseWriter, r *http.Request, c *caller) {
	if !c.tok.canManageTokens {
		writeError(w, storageErrors, http.StatusForbidden, "accessDenied", "You don't have access to manage tokens")
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", err.Error())
		return
	}
	var o TokenOptions
	o.Description, _ = strField(body, "description")
	o.CanManageBuckets, _ = boolField(body, "canManageBuckets")
	readAll, _ := boolField(body, "canReadAllFileUploads")
	if v, ok := body["bucketPermissions"]; ok && v != nil {
		perms, isMap := v.(map[string]any)
		if arr, isArr := v.([]any); isArr && len(arr) == 0 {
			perms, isMap = map[string]any{}, true
		}
		if !isMap {
			writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", "bucketPermissions must be an object of bucket id → read|write|manage")
			return
		}
		o.BucketPermissions = map[string]string{}
		for b, p := range perms {
			ps, _ := p.(string)
			if ps != "read" && ps != "write" && ps != "manage" {
				writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", fmt.Sprintf("bucketPermissions[%s] must be read, write or manage", b))
				return
			}
			o.BucketPermissions[b] = ps
		}
	}
	if v, ok := body["componentAccess"].([]any); ok {
		for _, c := range v {
			if cs, ok := c.(string); ok {
				o.ComponentAccess = append(o.ComponentAccess, cs)
			}
		}
	}
	if _, present := body["expiresIn"]; present {
		n, ok := intField(body, "expiresIn")
		if !ok || n < 0 {
			writeError(w, storageErrors, http.StatusBadRequest, "storage.validation", "expiresIn must be a non-negative number of seconds")
			return
		}
		o.ExpiresIn = time.Duration(n) * time.Second
	}
	s.mu.Lock()
	for b := range o.BucketPermissions {
		if _, ok := s.state.bucketsByID[b]; !ok {
			s.mu.Unlock()
			writeError(w, storageErrors, http.StatusBadRequest, "storage.buckets.notFound", fmt.Sprintf("Bucket %s not found", b))
			return
		}
	}
	t := s.state.addToken(o, false)
	t.canReadAllFileUploads = readAll
	out := s.tokenJSON(t)
	out["token"] = t.secret
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

func (s *Stack) handleDeleteToken(w http.ResponseWriter, r *http.Request, c *caller) {
	if !c.tok.canManageTokens {
		writeError(w, storageErrors, http.StatusForbidden, "accessDenied", "You don't have access to manage tokens")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.state.tokensByID[r.PathValue("id")]
	switch {
	case !ok || t.revoked:
		writeError(w, storageErrors, http.StatusNotFound, "storage.tokens.notFound", "Token not found")
	case t.master:
		writeError(w, storageErrors, http.StatusBadRequest, "storage.tokens.cannotDeleteMaster", "The master token cannot be deleted")
	default:
		t.revoked = true
		w.WriteHeader(http.StatusNoContent)
	}
}

// idLess orders numeric string ids numerically.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
