package keboola

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
)

// sessionFacts are what a session learns once about its project and keeps:
// whether its branch is a development branch (checked against Storage, so a
// mistyped branch id fails at once with a clear message) and whether the
// project has a semantic model. Both decide which tools the session sees.
type sessionFacts struct {
	mu sync.Mutex

	branchChecked bool
	devBranch     bool

	semanticChecked bool
	semantic        bool
}

// ErrBranchNotFound means the credentials name a branch the project lacks.
var ErrBranchNotFound = errors.New("keboola: branch not found")

// OnDevBranch reports whether the client works on a development branch. A
// branch id is verified with Storage the first time and remembered for the
// session; the id of the default branch counts as the main branch, as in the
// Python server.
func (c *Client) OnDevBranch(ctx context.Context) (bool, error) {
	if c.branchID == "" {
		return false, nil
	}
	f := &c.facts
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.branchChecked {
		return f.devBranch, nil
	}
	var b Branch
	err := c.doJSON(ctx, request{method: "GET", path: "/v2/storage/dev-branches/" + url.PathEscape(c.branchID)}, &b)
	if errors.Is(err, ErrNotFound) {
		return false, fmt.Errorf("%w: the project has no branch %s (X-Branch-Id / KBC_BRANCH_ID)", ErrBranchNotFound, c.branchID)
	}
	if err != nil {
		return false, err
	}
	f.branchChecked, f.devBranch = true, !b.IsDefault
	return f.devBranch, nil
}

// semanticModelType is the metastore type of a semantic model.
const semanticModelType = "semantic-model"

// HasSemanticModels reports whether the project has at least one semantic
// model. A failure to ask (no metastore on the stack, a 5xx) counts as none
// and is asked again next time, as the Python server fails closed here.
func (c *Client) HasSemanticModels(ctx context.Context) bool {
	f := &c.facts
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.semanticChecked {
		return f.semantic
	}
	objs, err := c.ListMetastoreObjects(ctx, semanticModelType, 1, 0)
	if err != nil {
		c.opts.Logger.Debug("semantic model check failed; semantic tools stay hidden", "err", err)
		return false
	}
	f.semanticChecked, f.semantic = true, len(objs) > 0
	return f.semantic
}
