package keboola

import (
	"context"
	"fmt"
	"net/url"
)

// Job is a Jobs Queue job (a component run).
type Job struct {
	ID              FlexString   `json:"id"`
	RunID           FlexString   `json:"runId"`
	Status          string       `json:"status"`
	IsFinished      bool         `json:"isFinished"`
	Component       string       `json:"component"`
	Config          FlexString   `json:"config"`
	ConfigRowIDs    []FlexString `json:"configRowIds"`
	Mode            string       `json:"mode"`
	BranchID        FlexString   `json:"branchId"`
	CreatedTime     Time         `json:"createdTime"`
	StartTime       Time         `json:"startTime"`
	EndTime         Time         `json:"endTime"`
	DurationSeconds float64      `json:"durationSeconds"`
	URL             string       `json:"url"`
	Result          JobResult    `json:"result"`
}

// JobResult is the outcome message of a finished job.
type JobResult struct {
	Message string `json:"message"`
}

// UnmarshalJSON accepts the empty-array form Keboola sends for unfinished jobs.
func (r *JobResult) UnmarshalJSON(b []byte) error {
	var m FlexMap[any]
	if err := (&m).UnmarshalJSON(b); err != nil {
		return err
	}
	if msg, ok := m["message"].(string); ok {
		r.Message = msg
	}
	return nil
}

// JobRequest starts a component configuration.
type JobRequest struct {
	ComponentID  string
	ConfigID     string
	ConfigRowIDs []string
}

// RunJob queues a run of a configuration on the client's branch. It is not
// retried on server errors: a repeat could run the job twice.
func (c *Client) RunJob(ctx context.Context, req JobRequest) (*Job, error) {
	if err := checkID("component id", req.ComponentID); err != nil {
		return nil, err
	}
	if err := checkID("configuration id", req.ConfigID); err != nil {
		return nil, err
	}
	body := map[string]any{"component": req.ComponentID, "config": req.ConfigID, "mode": "run"}
	if len(req.ConfigRowIDs) > 0 {
		body["configRowIds"] = req.ConfigRowIDs
	}
	if c.branchID != "" {
		body["branchId"] = c.branchID
	}
	var out Job
	if err := c.doJSON(ctx, request{service: ServiceQueue, method: "POST", path: "/jobs", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetJob returns a queue job.
func (c *Client) GetJob(ctx context.Context, jobID string) (*Job, error) {
	if err := checkID("job id", jobID); err != nil {
		return nil, err
	}
	var out Job
	if err := c.doJSON(ctx, request{service: ServiceQueue, method: "GET", path: "/jobs/" + url.PathEscape(jobID)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// JobSearch filters SearchJobs. The queue's search index is eventually
// consistent: a job created a moment ago may be missing.
type JobSearch struct {
	ComponentID string
	ConfigID    string
	Statuses    []string
	// Limit is 1..500; zero means 100.
	Limit  int
	Offset int
	// SortBy is a job field (default startTime); SortDesc sorts newest first.
	SortBy   string
	SortDesc bool
}

var jobStatuses = map[string]bool{
	"created": true, "waiting": true, "processing": true, "success": true, "error": true, "warning": true,
	"terminating": true, "cancelled": true, "terminated": true,
}

var jobSortFields = map[string]bool{
	"id": true, "runId": true, "componentId": true, "configId": true, "status": true, "createdTime": true,
	"updatedTime": true, "startTime": true, "endTime": true, "durationSeconds": true,
}

// SearchJobs lists queue jobs of the client's branch.
func (c *Client) SearchJobs(ctx context.Context, s JobSearch) ([]Job, error) {
	q, err := pageParams("job search", s.Limit, s.Offset, 100, 500)
	if err != nil {
		return nil, err
	}
	if s.ComponentID != "" {
		q.Set("componentId", s.ComponentID)
	}
	if s.ConfigID != "" {
		q.Set("configId", s.ConfigID)
	}
	for _, st := range s.Statuses {
		if !jobStatuses[st] {
			return nil, fmt.Errorf("keboola: unknown job status %q", st)
		}
		q.Add("status", st)
	}
	sortBy := s.SortBy
	if sortBy == "" {
		sortBy = "startTime"
	}
	if !jobSortFields[sortBy] {
		return nil, fmt.Errorf("keboola: cannot sort jobs by %q (use id, createdTime, startTime, endTime, durationSeconds, status, componentId or configId)", s.SortBy)
	}
	q.Set("sortBy", sortBy)
	if s.SortDesc {
		q.Set("sortOrder", "desc")
	} else {
		q.Set("sortOrder", "asc")
	}
	if c.branchID != "" {
		q.Set("branchId", c.branchID)
	}
	var out []Job
	err = c.doJSON(ctx, request{service: ServiceQueue, method: "GET", path: "/search/jobs", query: q}, &out)
	return out, err
}

// KillJob asks the queue to stop a job; repeating it is harmless, so it is retried like a read.
func (c *Client) KillJob(ctx context.Context, jobID string) (*Job, error) {
	if err := checkID("job id", jobID); err != nil {
		return nil, err
	}
	var out Job
	if err := c.doJSON(ctx, request{service: ServiceQueue, method: "POST", path: "/jobs/" + url.PathEscape(jobID) + "/kill", idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
