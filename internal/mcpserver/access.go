package mcpserver

import (
	"context"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// Access is what an authenticated request may do: whose Keboola project it
// works in and whether it may call write tools. The HTTP layer (OAuth bearer
// check, the Worker's signed proxy headers, or --auth none on loopback)
// attaches it to the request context with WithAccess before the MCP handler
// runs; the MCP handler never authenticates anything itself.
type Access struct {
	Credentials keboola.Credentials
	// ReadOnly is true for a keboola:read grant: only read-only tools are
	// listed, and calling a write tool is answered with HTTP 403
	// insufficient_scope so the client can ask for more.
	ReadOnly bool
}

type accessKey struct{}

// WithAccess returns a context carrying a.
func WithAccess(ctx context.Context, a Access) context.Context {
	return context.WithValue(ctx, accessKey{}, a)
}

// AccessFrom returns the Access attached by WithAccess.
func AccessFrom(ctx context.Context) (Access, bool) {
	a, ok := ctx.Value(accessKey{}).(Access)
	return a, ok
}
