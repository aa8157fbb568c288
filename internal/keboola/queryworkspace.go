package keboola

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// queryWorkspace remembers the workspace a session queries in.
type queryWorkspace struct {
	mu      sync.Mutex
	id      string
	expires time.Time
}

// queryWorkspaceTTL bounds how long a resolved workspace is trusted without
// asking Keboola again; a workspace deleted meanwhile is forgotten at once
// (ForgetQueryWorkspace) when a query reports it gone.
const queryWorkspaceTTL = 30 * time.Minute

// QueryWorkspace returns the id of the workspace this session runs SQL in,
// on the branch SQL runs on (see queryBranch): the one pinned by the
// credentials' WorkspaceSchema, else a read-only workspace owned by a
// keboola.mcp-server-tool configuration, else a new one. The answer is
// remembered for the session.
func (c *Client) QueryWorkspace(ctx context.Context) (string, error) {
	w := &c.workspace
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.id != "" && time.Now().Before(w.expires) {
		return w.id, nil
	}
	id, err := c.findQueryWorkspace(ctx)
	if err != nil {
		return "", err
	}
	w.id, w.expires = id, time.Now().Add(queryWorkspaceTTL)
	return id, nil
}

// ForgetQueryWorkspace drops the remembered workspace if it is id, so the
// next QueryWorkspace looks again.
func (c *Client) ForgetQueryWorkspace(id string) {
	w := &c.workspace
	w.mu.Lock()
	if w.id == id {
		w.id = ""
	}
	w.mu.Unlock()
}

func (c *Client) findQueryWorkspace(ctx context.Context) (string, error) {
	branch, err := c.queryBranch(ctx)
	if err != nil {
		return "", err
	}
	if pinned := c.creds.WorkspaceSchema; pinned != "" {
		// A pinned workspace is used as it is, read-only storage access or
		// not: whoever set KBC_WORKSPACE_SCHEMA chose it (the Python
		// server's _find_ws_by_schema checks only the schema).
		list, err := c.listWorkspacesIn(ctx, branch)
		if err != nil {
			return "", err
		}
		for _, w := range list {
			if strings.EqualFold(w.Connection.Schema, pinned) {
				return w.ID.String(), nil
			}
		}
		return "", fmt.Errorf("no workspace with schema %s (KBC_WORKSPACE_SCHEMA) is visible to this token", pinned)
	}
	// Only a workspace of this server's own configurations is adopted: any
	// other read-only workspace belongs to someone's transformation or
	// sandbox and may vanish or change with it. Listing per configuration
	// needs read access to those configurations only (the Python server's
	// _find_ws_in_branch).
	configs, err := c.listConfigsIn(ctx, branch, WorkspaceComponentID)
	if err != nil {
		return "", err
	}
	for _, cfg := range configs {
		list, err := c.listConfigWorkspacesIn(ctx, branch, WorkspaceComponentID, string(cfg.ID))
		if err != nil {
			return "", err
		}
		for _, w := range list {
			if w.ReadOnlyStorageAccess {
				return w.ID.String(), nil
			}
		}
	}
	info, err := c.VerifyToken(ctx)
	if err != nil {
		return "", err
	}
	ws, err := c.createWorkspaceIn(ctx, branch, WorkspaceRequest{Backend: info.Owner.Backend()})
	if err != nil {
		return "", fmt.Errorf("creating a read-only workspace for SQL: %w", err)
	}
	return ws.ID.String(), nil
}
