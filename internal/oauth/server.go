// Package oauth is the OAuth 2.1 authorization server and resource-server
// check of `keboola-mcp serve`: RFC 8414 and RFC 9728 metadata, /authorize
// with the Keboola login + consent page, /token (authorization code with
// PKCE S256, refresh with rotation), /register (RFC 7591), client metadata
// documents, /revoke (RFC 7009), /oauth/callback for Sign in with Keboola,
// and the bearer middleware that turns our token into the user's Keboola
// credentials. The security rules it enforces are listed in docs/security.md.
package oauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/login"
	"github.com/keboola-mcp/keboola-mcp/internal/store"
)

// Config configures a Server. Zero durations mean the defaults.
type Config struct {
	// Issuer is the public base URL (--public-url), e.g. https://mcp.example.com.
	// It is the issuer identifier and the base of every advertised URL, and is
	// never derived from request headers. It must have no path.
	Issuer string
	Store  store.Store
	// Secret is the server secret (≥ 32 bytes); keys for sealing grants,
	// forms and cookies are derived from it.
	Secret []byte
	Stacks *login.Allowlist
	// Upstream enables "Sign in with Keboola"; nil hides it.
	Upstream *login.Upstream
	// Keboola configures token verification calls.
	Keboola keboola.Options
	// AccessTTL defaults to 1 h, RefreshTTL to 30 days.
	AccessTTL, RefreshTTL time.Duration
	// RefreshGrace is how long a just-rotated refresh token still gets the
	// same answer; default 10 s.
	RefreshGrace time.Duration
	// InsecureCookies drops __Host-/Secure for plain-http loopback use.
	InsecureCookies bool
	CIMD            CIMDOptions
	// RegisterPerMinute and RegisterBurst bound, per remote address,
	// registrations and client metadata document fetches together (both
	// make this server do work for an anonymous caller); defaults 10 and 20.
	RegisterPerMinute, RegisterBurst int
	Logger                           *slog.Logger
	// Now is the clock; tests move it.
	Now func() time.Time
}

// Server is the authorization server. Create it with New.
type Server struct {
	cfg         Config
	keys        keys
	guard       *login.Guard
	cimd        *cimdFetcher
	clientLimit *limiter
	log         *slog.Logger
	audiences   []string
}

const (
	codeTTL     = 10 * time.Minute
	formTTL     = 10 * time.Minute
	maxFormBody = 64 << 10
)

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("public URL %q must be an absolute http(s) URL", cfg.Issuer)
	}
	if strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("public URL %q must not have a path: serve keboola-mcp at the root of its host", cfg.Issuer)
	}
	if u.Scheme == "http" && !access.IsLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("public URL %q must use https (plain http is only for loopback)", cfg.Issuer)
	}
	cfg.Issuer = u.Scheme + "://" + u.Host
	if cfg.Store == nil || cfg.Stacks == nil {
		return nil, errors.New("oauth: Store and Stacks are required")
	}
	if len(cfg.Secret) < 32 {
		return nil, errors.New("oauth: the server secret must be at least 32 bytes")
	}
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = time.Hour
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.RefreshTTL < cfg.AccessTTL {
		return nil, errors.New("oauth: the refresh token lifetime must not be shorter than the access token lifetime")
	}
	if cfg.RefreshGrace <= 0 {
		cfg.RefreshGrace = 10 * time.Second
	}
	if cfg.RegisterPerMinute <= 0 {
		cfg.RegisterPerMinute = 10
	}
	if cfg.RegisterBurst <= 0 {
		cfg.RegisterBurst = 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	k := deriveKeys(cfg.Secret)
	s := &Server{
		cfg:         cfg,
		keys:        k,
		guard:       login.NewGuard(k.cookie, cfg.InsecureCookies),
		cimd:        newCIMDFetcher(cfg.CIMD, cfg.Now),
		clientLimit: newLimiter(cfg.RegisterPerMinute, cfg.RegisterBurst),
		log:         cfg.Logger,
		audiences:   []string{cfg.Issuer + "/mcp", cfg.Issuer + "/sse", cfg.Issuer},
	}
	return s, nil
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// Issuer returns the normalised issuer URL.
func (s *Server) Issuer() string { return s.cfg.Issuer }

// Resource is the canonical resource identifier of the MCP endpoint.
func (s *Server) Resource() string { return s.audiences[0] }

// ResourceMetadataURL is the RFC 9728 metadata URL for the MCP endpoint,
// advertised in WWW-Authenticate challenges.
func (s *Server) ResourceMetadataURL() string {
	return s.cfg.Issuer + "/.well-known/oauth-protected-resource/mcp"
}

// Mount registers every authorization endpoint on mux.
func (s *Server) Mount(mux *http.ServeMux) {
	mux.HandleFunc("/.well-known/oauth-authorization-server", s.cors(s.handleASMetadata))
	mux.HandleFunc("/.well-known/oauth-protected-resource", s.cors(s.prm("/mcp")))
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", s.cors(s.prm("/mcp")))
	mux.HandleFunc("/.well-known/oauth-protected-resource/sse", s.cors(s.prm("/sse")))
	mux.HandleFunc("/authorize", s.handleAuthorize)
	mux.HandleFunc("/token", s.cors(s.handleToken))
	mux.HandleFunc("/register", s.cors(s.handleRegister))
	mux.HandleFunc("/revoke", s.cors(s.handleRevoke))
	mux.HandleFunc("/oauth/callback", s.handleCallback)
}

// cors lets browser-based MCP clients read the metadata and call the token
// endpoints. No cookies are involved there, so any origin is safe.
func (s *Server) cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
			w.Header().Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h(w, r)
	}
}

type asMetadata struct {
	Issuer                                 string   `json:"issuer"`
	AuthorizationEndpoint                  string   `json:"authorization_endpoint"`
	TokenEndpoint                          string   `json:"token_endpoint"`
	RegistrationEndpoint                   string   `json:"registration_endpoint"`
	RevocationEndpoint                     string   `json:"revocation_endpoint"`
	ResponseTypesSupported                 []string `json:"response_types_supported"`
	ResponseModesSupported                 []string `json:"response_modes_supported"`
	GrantTypesSupported                    []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported"`
	ScopesSupported                        []string `json:"scopes_supported"`
	ClientIDMetadataDocumentSupported      bool     `json:"client_id_metadata_document_supported"`
	AuthorizationResponseIssParameter      bool     `json:"authorization_response_iss_parameter_supported"`
	ServiceDocumentation                   string   `json:"service_documentation,omitempty"`
}

func (s *Server) handleASMetadata(w http.ResponseWriter, r *http.Request) {
	if !getOnly(w, r) {
		return
	}
	is := s.cfg.Issuer
	writeJSON(w, http.StatusOK, asMetadata{
		Issuer:                                 is,
		AuthorizationEndpoint:                  is + "/authorize",
		TokenEndpoint:                          is + "/token",
		RegistrationEndpoint:                   is + "/register",
		RevocationEndpoint:                     is + "/revoke",
		ResponseTypesSupported:                 []string{"code"},
		ResponseModesSupported:                 []string{"query"},
		GrantTypesSupported:                    []string{"authorization_code", "refresh_token"},
		CodeChallengeMethodsSupported:          []string{"S256"},
		TokenEndpointAuthMethodsSupported:      authMethods,
		RevocationEndpointAuthMethodsSupported: authMethods,
		ScopesSupported:                        supportedScopes,
		ClientIDMetadataDocumentSupported:      true,
		AuthorizationResponseIssParameter:      true,
	})
}

type prMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name"`
}

func (s *Server) prm(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !getOnly(w, r) {
			return
		}
		writeJSON(w, http.StatusOK, prMetadata{
			Resource:               s.cfg.Issuer + path,
			AuthorizationServers:   []string{s.cfg.Issuer},
			ScopesSupported:        supportedScopes,
			BearerMethodsSupported: []string{"header"},
			ResourceName:           "Keboola MCP server",
		})
	}
}

func getOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}
