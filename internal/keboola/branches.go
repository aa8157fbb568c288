package keboola

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

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

// branchMetadataKey marks, on projects without storage-branches, a bucket or
// table a development branch created in the shared storage; other branches
// (and production) do not see it (the Python server's _filter_current_branch
// in tools/storage_helpers.py, MetadataField.FAKE_DEVELOPMENT_BRANCH).
const branchMetadataKey = "KBC.createdBy.branch.id"

// storageList reads a Storage listing the way the project's branch model
// needs: the default branch's list (less other branches' objects), and on a
// storage-branches dev branch also the branch's own list, whose objects
// replace production's of the same id (tools/storage_helpers.py,
// _merge_by_id). The branch path alone would hold only the objects changed
// in the branch, and on other projects nothing at all.
func storageList[T any](ctx context.Context, c *Client, rest string, query url.Values, id func(T) string, meta func(T) Metadata) ([]T, error) {
	branched, err := c.branchedStorage(ctx)
	if err != nil {
		return nil, err
	}
	var prod []T
	if err := c.doJSON(ctx, request{method: "GET", path: "/v2/storage" + rest, query: query}, &prod); err != nil {
		return nil, err
	}
	if !branched {
		return slices.DeleteFunc(prod, func(x T) bool {
			b, ok := meta(x).Get(branchMetadataKey)
			return ok && b != "" && b != c.branchID
		}), nil
	}
	var own []T
	if err := c.doJSON(ctx, request{method: "GET", path: "/v2/storage/branch/" + c.branchID + rest, query: query}, &own); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(own))
	for _, x := range own {
		seen[id(x)] = true
	}
	for _, x := range prod {
		if !seen[id(x)] {
			own = append(own, x)
		}
	}
	return own, nil
}

// storageRead sends a read of one Storage object: on a storage-branches dev
// branch to the branch first (its version wins), falling back to the
// default branch when the branch has not changed the object; otherwise to
// the default branch, where all objects live.
func (c *Client) storageRead(ctx context.Context, req request) ([]byte, error) {
	branched, err := c.branchedStorage(ctx)
	if err != nil {
		return nil, err
	}
	rest := req.path
	if branched {
		req.path = "/v2/storage/branch/" + c.branchID + rest
		body, err := c.do(ctx, req)
		if !errors.Is(err, ErrNotFound) {
			return body, err
		}
	}
	req.path = "/v2/storage" + rest
	return c.do(ctx, req)
}

// storageReadJSON is storageRead decoding a JSON answer into out.
func (c *Client) storageReadJSON(ctx context.Context, req request, out any) error {
	body, err := c.storageRead(ctx, req)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("keboola storage API: %s %s: cannot decode the answer: %w", req.method, req.path, err)
	}
	return nil
}

// CreateBranch creates a development branch. Keboola does it as an
// asynchronous Storage job whose results are the branch; it is waited for.
func (c *Client) CreateBranch(ctx context.Context, name, description string) (*Branch, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("keboola: a branch name is required")
	}
	var job StorageJob
	if err := c.doJSON(ctx, request{method: "POST", path: "/v2/storage/dev-branches",
		body: map[string]any{"name": name, "description": description}}, &job); err != nil {
		return nil, err
	}
	done, err := c.WaitStorageJob(ctx, string(job.ID))
	if err != nil {
		return nil, err
	}
	var b Branch
	if err := json.Unmarshal(done.Results, &b); err != nil || b.ID == "" {
		return nil, fmt.Errorf("keboola: branch job %s finished without a branch", job.ID)
	}
	return &b, nil
}

// DeleteBranch deletes a development branch and waits for the Storage job
// doing it.
func (c *Client) DeleteBranch(ctx context.Context, branchID string) error {
	if !isDigits(branchID) {
		return fmt.Errorf("keboola: branch id %q must be numeric", branchID)
	}
	var job StorageJob
	if err := c.doJSON(ctx, request{method: "DELETE", path: "/v2/storage/dev-branches/" + branchID}, &job); err != nil {
		return err
	}
	_, err := c.WaitStorageJob(ctx, string(job.ID))
	return err
}
