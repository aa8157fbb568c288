package access

import "strings"

// Credentials are what a tool needs to act for one user in one Keboola
// project. stdio reads them from the environment; the HTTP server takes them
// from an OAuth grant, the Worker's signed headers or a trusted gateway's
// headers, for each request.
type Credentials struct {
	// StackURL is the Storage API base URL, e.g. https://connection.keboola.com.
	// Whoever builds Credentials must have checked it against the stack
	// allowlist.
	StackURL string
	// StorageToken is sent as X-StorageApi-Token.
	StorageToken Secret
	// OAuthToken is the Keboola OAuth access token of a "Sign in with
	// Keboola" session, empty otherwise. Keboola sends it as a Bearer to
	// the services that accept one; the StorageToken minted from it serves
	// the rest.
	OAuthToken Secret
	// BranchID selects a development branch; empty means the default branch.
	BranchID string
	// WorkspaceSchema pins the workspace used for SQL; empty means find or
	// create one.
	WorkspaceSchema string
}

// NormalizeBranchID reads a branch id as the Python server reads
// KBC_BRANCH_ID and X-Branch-Id: empty, "default", "production", "none" and
// "null" (any case) mean the main branch, returned as "".
func NormalizeBranchID(id string) string {
	id = strings.TrimSpace(id)
	switch strings.ToLower(id) {
	case "", "default", "production", "none", "null":
		return ""
	}
	return id
}
