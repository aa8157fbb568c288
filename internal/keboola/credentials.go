package keboola

import "github.com/keboola-mcp/keboola-mcp/internal/access"

// Credentials and Secret are the caller's, as every authenticator produces
// them (see package access); the client acts with them.
type (
	Credentials = access.Credentials
	Secret      = access.Secret
)
