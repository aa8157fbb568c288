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

// QueryWorkspace returns the id of the workspace this session runs SQL in:
// the one pinned by the credentials' WorkspaceSchema, else a read-only
// workspace of this server's component, else any read-only workspace, else a
// new one. The answer is remembered for the session.
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
	list, err := c.ListWorkspaces(ctx)
	if err != nil {
		return "", err
	}
	if pinned := c.creds.WorkspaceSchema; pinned != "" {
		for _, w := range list {
			if strings.EqualFold(w.Connection.Schema, pinned) {
				if !w.ReadOnlyStorageAccess {
					return "", fmt.Errorf("the workspace %s (KBC_WORKSPACE_SCHEMA) does not have read-only storage access; only such workspaces can be used for queries", pinned)
				}
				return w.ID.String(), nil
			}
		}
		return "", fmt.Errorf("no workspace with schema %s (KBC_WORKSPACE_SCHEMA) is visible to this token", pinned)
	}
	var fallback string
	for _, w := range list {
		if !w.ReadOnlyStorageAccess {
			continue
		}
		if w.Component == WorkspaceComponentID {
			return w.ID.String(), nil
		}
		if fallback == "" {
			fallback = w.ID.String()
		}
	}
	if fallback != "" {
		return fallback, nil
	}
	info, err := c.VerifyToken(ctx)
	if err != nil {
		return "", err
	}
	ws, err := c.CreateWorkspace(ctx, WorkspaceRequest{Backend: info.Owner.Backend()})
	if err != nil {
		return "", fmt.Errorf("creating a read-only workspace for SQL: %w", err)
	}
	return ws.ID.String(), nil
}
