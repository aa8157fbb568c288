package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keboola-mcp/keboola-mcp/internal/store"
)

// client is a resolved OAuth client: registered here (DCR) or described by
// its metadata document (CIMD).
type client struct {
	ID           string
	Name         string
	RedirectURIs []string
	AuthMethod   string
	SecretHash   []byte
	// GrantTypes the client registered; empty means both.
	GrantTypes []string
	// Verified: the client id is an https URL whose owner published the
	// metadata, so the redirect host is vouched for by that domain.
	Verified bool
}

// Registration limits.
const (
	maxRegisterBody  = 16 << 10
	maxRedirectURIs  = 10
	maxClientNameLen = 200
)

var authMethods = []string{"none", "client_secret_basic", "client_secret_post"}

// registration is the RFC 7591 client metadata we read; unknown members are
// ignored as the RFC requires.
type registration struct {
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
}

// validateRegistration decodes and checks client metadata. It returns the
// metadata with defaults filled in.
func validateRegistration(body []byte) (*registration, *oauthError) {
	var m registration
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&m); err != nil {
		return nil, errorf(errInvalidClientMetadata, "the body must be a JSON object of client metadata (RFC 7591): %v", err)
	}
	if dec.More() {
		return nil, errorf(errInvalidClientMetadata, "the body must hold exactly one JSON object")
	}
	if len(m.RedirectURIs) == 0 {
		return nil, errorf(errInvalidRedirectURI, "redirect_uris is required")
	}
	if len(m.RedirectURIs) > maxRedirectURIs {
		return nil, errorf(errInvalidRedirectURI, "at most %d redirect_uris are accepted", maxRedirectURIs)
	}
	for _, u := range m.RedirectURIs {
		if err := validateRedirectURI(u); err != nil {
			return nil, errorf(errInvalidRedirectURI, "%v", err)
		}
	}
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = "client_secret_basic" // RFC 7591 §2 default
	}
	if !slices.Contains(authMethods, m.TokenEndpointAuthMethod) {
		return nil, errorf(errInvalidClientMetadata, "token_endpoint_auth_method must be one of %s", strings.Join(authMethods, ", "))
	}
	if len(m.GrantTypes) == 0 {
		m.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	for _, g := range m.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return nil, errorf(errInvalidClientMetadata, "grant type %q is not supported; use authorization_code and refresh_token", trunc(g))
		}
	}
	if !slices.Contains(m.GrantTypes, "authorization_code") {
		return nil, errorf(errInvalidClientMetadata, "grant_types must include authorization_code")
	}
	if len(m.ResponseTypes) == 0 {
		m.ResponseTypes = []string{"code"}
	}
	for _, rt := range m.ResponseTypes {
		if rt != "code" {
			return nil, errorf(errInvalidClientMetadata, "response type %q is not supported; use code", trunc(rt))
		}
	}
	if err := checkName(m.ClientName); err != nil {
		return nil, err
	}
	if m.Scope != "" {
		if _, err := parseScope(m.Scope); err != nil {
			return nil, errorf(errInvalidClientMetadata, "%s", err.Description)
		}
	}
	return &m, nil
}

func checkName(name string) *oauthError {
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxClientNameLen {
		return errorf(errInvalidClientMetadata, "client_name must be valid UTF-8 of at most %d characters", maxClientNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return errorf(errInvalidClientMetadata, "client_name must not contain control characters")
		}
	}
	return nil
}

// handleRegister is the RFC 7591 registration endpoint: open, but
// rate-limited per remote address, size-limited and validated. Secrets are
// returned once and stored only as hashes.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, errorf(errInvalidRequest, "use POST"))
		return
	}
	if !s.clientLimit.allow(remoteIP(r), s.now()) {
		w.Header().Set("Retry-After", "60")
		writeJSON(w, http.StatusTooManyRequests, errorf(errTemporarilyUnavailable, "too many registrations from this address; retry in a minute"))
		return
	}
	body, ok := readBody(w, r, maxRegisterBody)
	if !ok {
		return
	}
	m, oerr := validateRegistration(body)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	now := s.now()
	c := &store.Client{
		ID:           newToken("kmcp_c_"),
		RedirectURIs: m.RedirectURIs,
		Name:         m.ClientName,
		AuthMethod:   m.TokenEndpointAuthMethod,
		GrantTypes:   m.GrantTypes,
		Scope:        m.Scope,
		CreatedAt:    now,
	}
	var secret string
	if m.TokenEndpointAuthMethod != "none" {
		secret = newToken(prefixClient)
		h := sha256.Sum256([]byte(secret))
		c.SecretHash = h[:]
	}
	if err := s.cfg.Store.CreateClient(r.Context(), c); err != nil {
		s.log.Error("register: store failed", "err", err)
		writeError(w, errorf(errServerError, "the registration could not be saved"))
		return
	}
	resp := map[string]any{
		"client_id":                  c.ID,
		"client_id_issued_at":        now.Unix(),
		"redirect_uris":              m.RedirectURIs,
		"token_endpoint_auth_method": m.TokenEndpointAuthMethod,
		"grant_types":                m.GrantTypes,
		"response_types":             m.ResponseTypes,
	}
	if m.ClientName != "" {
		resp["client_name"] = m.ClientName
	}
	if m.Scope != "" {
		resp["scope"] = m.Scope
	}
	if secret != "" {
		resp["client_secret"] = secret
		resp["client_secret_expires_at"] = 0
	}
	writeJSON(w, http.StatusCreated, resp)
}

// lookupClient resolves a client id: an https URL is a metadata document
// client, anything else must have registered here. A document not in the
// cache is fetched only within r's address's rate limit.
func (s *Server) lookupClient(r *http.Request, id string) (*client, error) {
	if id == "" {
		return nil, store.ErrNotFound
	}
	if strings.HasPrefix(id, "https://") {
		return s.cimd.get(r.Context(), id, func() bool { return s.clientLimit.allow(remoteIP(r), s.now()) })
	}
	c, err := s.cfg.Store.Client(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return &client{ID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs, AuthMethod: c.AuthMethod, SecretHash: c.SecretHash, GrantTypes: c.GrantTypes}, nil
}

// authenticateClient identifies the client at /token and /revoke by the
// method it registered: a public client sends only client_id; a
// confidential one proves its secret (Basic or form).
func (s *Server) authenticateClient(r *http.Request) (*client, *oauthError) {
	if len(r.PostForm["client_id"]) > 1 || len(r.PostForm["client_secret"]) > 1 {
		return nil, errorf(errInvalidRequest, "client credentials appear more than once")
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// One authentication method per request (RFC 6749 §2.3.1).
		if r.PostForm.Has("client_secret") {
			return nil, errorf(errInvalidRequest, "send the client secret once: in the Authorization header or in the form, not both")
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, errorf(errInvalidClient, "malformed Basic credentials")
		}
		if formID := r.PostForm.Get("client_id"); formID != "" && formID != id {
			return nil, errorf(errInvalidClient, "client_id in the form differs from the Basic credentials")
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return nil, errorf(errInvalidClient, "client authentication is required (client_id)")
	}
	c, err := s.lookupClient(r, id)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, errCIMD) {
		// 401 invalid_client tells clients such as Claude to register again.
		return nil, errorf(errInvalidClient, "unknown client %q; register again", trunc(id))
	}
	if err != nil {
		s.log.Error("client lookup failed", "err", err)
		return nil, errorf(errServerError, "the client could not be loaded")
	}
	if c.SecretHash == nil {
		if secret != "" && c.AuthMethod == "none" {
			return nil, errorf(errInvalidClient, "this client is public and must not send a secret")
		}
		return c, nil
	}
	// The registered method is the only one (RFC 7591 §2): a secret
	// registered for the Authorization header is refused in a form body,
	// and the other way round.
	if used := map[bool]string{true: "client_secret_basic", false: "client_secret_post"}[basic]; c.AuthMethod != used {
		return nil, errorf(errInvalidClient, "this client registered token_endpoint_auth_method %s; authenticate that way, not with %s", c.AuthMethod, used)
	}
	got := sha256.Sum256([]byte(secret))
	if secret == "" || subtle.ConstantTimeCompare(got[:], c.SecretHash) != 1 {
		return nil, errorf(errInvalidClient, "client authentication failed")
	}
	return c, nil
}

// readBody reads a body up to limit, answering 413 beyond it.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorf(errInvalidRequest, "the body exceeds %d bytes", limit))
		} else {
			writeError(w, errorf(errInvalidRequest, "the body could not be read"))
		}
		return nil, false
	}
	return body, true
}

// parseForm parses a urlencoded body up to limit; query parameters are
// ignored so credentials never travel in URLs.
func parseForm(w http.ResponseWriter, r *http.Request, limit int64) bool {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		writeError(w, errorf(errInvalidRequest, "the body must be application/x-www-form-urlencoded"))
		return false
	}
	body, ok := readBody(w, r, limit)
	if !ok {
		return false
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, errorf(errInvalidRequest, "the form body is malformed"))
		return false
	}
	r.PostForm = v
	r.Form = v
	return true
}
