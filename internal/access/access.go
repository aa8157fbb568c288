// Package access describes who is calling: the Keboola credentials a request
// acts with, what it may do, and the rules every way of authenticating shares
// (scope names, loopback hosts). Each authenticator (the OAuth bearer check,
// the Worker's signed proxy headers, a trusted gateway's headers, stdio's
// environment) produces an Access; the MCP server only consumes it. The
// package imports nothing of the project, so the authorization server can
// depend on it without linking the tools.
package access

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
)

// Scopes a grant may carry. keboola:write implies keboola:read.
const (
	ScopeRead  = "keboola:read"
	ScopeWrite = "keboola:write"
)

// MaxRequestBytes bounds an MCP request body wherever one is read: the
// native server's front, the signed-proxy verifier, the MCP handler and the
// Worker. Tool arguments are small; this leaves room for code and SQL.
const MaxRequestBytes = 4 << 20

// Scopes lists every scope, in the order metadata and challenges name them.
func Scopes() []string { return []string{ScopeRead, ScopeWrite} }

// ReadOnlyScopes reports whether a granted scope list lacks keboola:write.
func ReadOnlyScopes(scopes []string) bool { return !slices.Contains(scopes, ScopeWrite) }

// Access is what an authenticated request may do.
type Access struct {
	Credentials Credentials
	// ReadOnly is true for a keboola:read grant or a read-only session:
	// only read-only tools are listed, and calling a write tool is answered
	// with HTTP 403 insufficient_scope so the client can ask for more.
	ReadOnly bool
	// AllowedTools, when not nil, is the only tools this request may see
	// and call; DisallowedTools are removed from what remains. Both are
	// tool names, as a gateway's headers name them.
	AllowedTools    []string
	DisallowedTools []string
	// ConversationID ties a request to the client's conversation, for the
	// audit trail; it is never used for authorization.
	ConversationID string
}

// AllowsTool reports whether the tool lists allow name (read-only is a
// separate check, since it answers with a scope challenge).
func (a Access) AllowsTool(name string) bool {
	if a.AllowedTools != nil && !slices.Contains(a.AllowedTools, name) {
		return false
	}
	return !slices.Contains(a.DisallowedTools, name)
}

type contextKey struct{}

// With returns a context carrying a.
func With(ctx context.Context, a Access) context.Context {
	return context.WithValue(ctx, contextKey{}, a)
}

// From returns the Access attached by With.
func From(ctx context.Context) (Access, bool) {
	a, ok := ctx.Value(contextKey{}).(Access)
	return a, ok
}

// Authenticator guards the MCP endpoints: Wrap returns a handler that either
// answers the request itself (401, 403, ...) or calls next with an Access
// attached to the request context.
type Authenticator interface {
	Wrap(next http.Handler) http.Handler
}

// AuthenticatorFunc adapts a middleware function to Authenticator.
type AuthenticatorFunc func(next http.Handler) http.Handler

// Wrap implements Authenticator.
func (f AuthenticatorFunc) Wrap(next http.Handler) http.Handler { return f(next) }

// Static authenticates every request as a: stdio, and `serve --auth none`,
// which is allowed only on a loopback address.
func Static(a Access) Authenticator {
	return AuthenticatorFunc(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(With(r.Context(), a)))
		})
	})
}

// IsLoopbackHost reports whether host (no port; IPv6 with or without
// brackets) names this machine: localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackHostPort is IsLoopbackHost for a host:port (or a bare host).
func IsLoopbackHostPort(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	return IsLoopbackHost(host)
}
