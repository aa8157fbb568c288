package keboola

// Credentials are what a tool needs to act for one user in one Keboola project.
// Native stdio reads them from the environment; the HTTP server takes them from
// an OAuth grant (or from the Worker's signed headers) for each request.
type Credentials struct {
	// StackURL is the Storage API base URL, e.g. https://connection.keboola.com.
	// Callers must have checked it against the stack allowlist.
	StackURL string
	// StorageToken is sent as X-StorageApi-Token.
	StorageToken Secret
	// BranchID selects a development branch; empty means the default branch.
	BranchID string
	// WorkspaceSchema pins the workspace used for SQL; empty means find or create one.
	WorkspaceSchema string
}
