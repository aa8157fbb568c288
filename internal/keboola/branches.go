package keboola

import "context"

// FeatureStorageBranches is the project feature under which development
// branches hold their own storage (buckets and tables changed in the branch).
// Without it a branch has no storage of its own: branch/{id}/buckets and
// branch/{id}/tables are empty and every read goes to the default branch.
const FeatureStorageBranches = "storage-branches"

// branchedStorage reports whether storage reads must look into the client's
// development branch: only on a branch, and only when the project has
// storage-branches (the Python server's has_storage_branches in
// tools/storage_helpers.py).
func (c *Client) branchedStorage(ctx context.Context) (bool, error) {
	if c.branchID == "" {
		return false, nil
	}
	info, err := c.VerifyToken(ctx)
	if err != nil {
		return false, err
	}
	return info.Owner.HasFeature(FeatureStorageBranches), nil
}

// queryBranch is the {b} of the branch SQL runs on: the development branch
// on storage-branches projects (its tables differ from production's), the
// default branch otherwise, where the project's one query workspace lives
// (the Python server's WorkspaceManager.create takes the production client
// unless has_storage_branches).
func (c *Client) queryBranch(ctx context.Context) (string, error) {
	branched, err := c.branchedStorage(ctx)
	if err != nil || !branched {
		return "default", err
	}
	return c.branchID, nil
}
