package oauth

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// OAuth error codes (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 8707 §2).
const (
	errInvalidRequest          = "invalid_request"
	errInvalidClient           = "invalid_client"
	errInvalidGrant            = "invalid_grant"
	errUnauthorizedClient      = "unauthorized_client"
	errUnsupportedGrantType    = "unsupported_grant_type"
	errUnsupportedResponseType = "unsupported_response_type"
	errInvalidScope            = "invalid_scope"
	errInvalidTarget           = "invalid_target"
	errAccessDenied            = "access_denied"
	errServerError             = "server_error"
	errInvalidRedirectURI      = "invalid_redirect_uri"
	errInvalidClientMetadata   = "invalid_client_metadata"
	errTemporarilyUnavailable  = "temporarily_unavailable"
)

// oauthError is an RFC 6749 error response.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func errorf(code, format string, args ...any) *oauthError {
	return &oauthError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// status is the HTTP status RFC 6749 §5.2 assigns to a token endpoint error.
func (e *oauthError) status() int {
	switch e.Code {
	case errInvalidClient:
		return http.StatusUnauthorized
	case errServerError:
		return http.StatusInternalServerError
	case errTemporarilyUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

// writeJSON answers with a JSON body that must not be cached: token
// responses and errors may carry credentials or describe them.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *oauthError) {
	if e.Code == errInvalidClient {
		w.Header().Set("WWW-Authenticate", `Basic realm="keboola-mcp"`)
	}
	writeJSON(w, e.status(), e)
}
