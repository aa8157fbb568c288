package mcpserver

import (
	"context"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

// sessionClients resolves a tool call's Keboola client from the Access in
// its context: the user's session in the one cache of this server.
func sessionClients(sessions *keboola.Sessions) tools.ClientFunc {
	return func(ctx context.Context) (*keboola.Client, error) {
		a, ok := access.From(ctx)
		if !ok {
			return nil, errNoAccess
		}
		return sessions.Client(a.Credentials)
	}
}
