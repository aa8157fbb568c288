package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/store"
)

// RequireBearer authenticates MCP requests with our access token and
// attaches the grant's Keboola credentials as access.Access. The token is
// accepted only in the Authorization header, only for this resource
// (RFC 8707 audience), and never leaves this server: tools talk to Keboola
// with the user's own credentials from the grant.
func (s *Server) RequireBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Has("access_token") {
			s.challenge(w, r, http.StatusBadRequest, "invalid_request", "send the access token in the Authorization header, never in the URL")
			return
		}
		auth := r.Header.Values("Authorization")
		if len(auth) > 1 {
			// A proxy in front might check or log one and we another.
			s.challenge(w, r, http.StatusBadRequest, "invalid_request", "send exactly one Authorization header")
			return
		}
		var scheme, tok string
		if len(auth) == 1 {
			scheme, tok, _ = strings.Cut(strings.TrimSpace(auth[0]), " ")
			tok = strings.TrimSpace(tok)
		}
		if !strings.EqualFold(scheme, "Bearer") {
			// No bearer credentials at all (RFC 6750 §3.1): a bare
			// challenge, so the client starts authorization.
			s.challenge(w, r, http.StatusUnauthorized, "", "")
			return
		}
		if tok == "" {
			s.challenge(w, r, http.StatusBadRequest, "invalid_request", "use Authorization: Bearer <token>")
			return
		}
		a, err := s.access(r, tok)
		if errors.Is(err, errTokenUnchecked) {
			w.Header().Set("Retry-After", "5")
			writeJSON(w, http.StatusServiceUnavailable, errorf(errTemporarilyUnavailable, "%v", err))
			return
		}
		if err != nil {
			s.challenge(w, r, http.StatusUnauthorized, "invalid_token", err.Error())
			return
		}
		next.ServeHTTP(w, r.WithContext(access.With(r.Context(), a)))
	})
}

var (
	errTokenInvalid  = errors.New("the access token is invalid, expired or revoked")
	errTokenAudience = errors.New("the access token was issued for another resource")
	// errTokenUnchecked: the store could not be read. Not the token's
	// fault, so not invalid_token, which makes clients discard it.
	errTokenUnchecked = errors.New("the access token could not be checked right now; retry shortly")
)

func (s *Server) access(r *http.Request, tok string) (access.Access, error) {
	if !hasPrefix(tok, prefixAccess) {
		return access.Access{}, errTokenInvalid
	}
	t, g, err := s.cfg.Store.AccessToken(r.Context(), hashToken(tok), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return access.Access{}, errTokenInvalid
	}
	if err != nil {
		s.log.Error("bearer: store failed", "err", err)
		return access.Access{}, errTokenUnchecked
	}
	if !slices.Contains(s.audiences, t.Resource) {
		return access.Access{}, errTokenAudience
	}
	dk, err := s.keys.unwrapKey(tok, t.WrappedKey)
	if err != nil {
		return access.Access{}, errTokenInvalid
	}
	plain, err := open(dk, g.Sealed, []byte(g.ID))
	if err != nil {
		return access.Access{}, errTokenInvalid
	}
	var props grantProps
	if err := json.Unmarshal(plain, &props); err != nil {
		return access.Access{}, errTokenInvalid
	}
	creds := keboola.Credentials{StackURL: props.StackURL, StorageToken: keboola.Secret(props.StorageToken)}
	if up := props.Upstream; up != nil && s.now().Before(time.Unix(up.Expiry, 0)) {
		// A "Sign in with Keboola" grant: the Keboola OAuth bearer carries
		// the member's admin context, which some services need (see
		// keboola.Credentials.OAuthToken). Once it has expired the minted
		// Storage token serves alone until our refresh renews both.
		creds.OAuthToken = keboola.Secret(up.AccessToken)
	}
	return access.Access{
		Credentials: creds,
		ReadOnly:    !slices.Contains(strings.Fields(t.Scope), access.ScopeWrite),
	}, nil
}

// challenge answers 401/400 with the RFC 6750 / RFC 9728 WWW-Authenticate
// header that starts (or restarts) a client's authorization.
func (s *Server) challenge(w http.ResponseWriter, r *http.Request, status int, code, desc string) {
	meta := s.ResourceMetadataURL()
	if strings.HasPrefix(r.URL.Path, "/sse") || strings.HasPrefix(r.URL.Path, "/messages") {
		meta = s.cfg.Issuer + "/.well-known/oauth-protected-resource/sse"
	}
	v := fmt.Sprintf(`Bearer resource_metadata=%q, scope=%q`, meta, strings.Join(supportedScopes, " "))
	if code != "" {
		v += fmt.Sprintf(`, error=%q`, code)
	}
	if desc != "" {
		v += fmt.Sprintf(`, error_description=%q`, desc)
	}
	w.Header().Set("WWW-Authenticate", v)
	msg := desc
	if msg == "" {
		msg = "authorization required: this MCP server uses OAuth; see " + meta
	}
	writeJSON(w, status, map[string]string{"error": orDefault(code, "unauthorized"), "error_description": msg})
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
