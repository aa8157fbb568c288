package keboola

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// WorkspaceComponentID is the component whose configurations own the
// workspaces this server creates for SQL.
const WorkspaceComponentID = "keboola.mcp-server-tool"

// Workspace is a database schema with credentials, used to run SQL.
type Workspace struct {
	ID                    FlexString          `json:"id"`
	Type                  string              `json:"type"`
	Name                  string              `json:"name"`
	Component             string              `json:"component"`
	ConfigurationID       FlexString          `json:"configurationId"`
	Created               Time                `json:"created"`
	ReadOnlyStorageAccess bool                `json:"readOnlyStorageAccess"`
	Connection            WorkspaceConnection `json:"connection"`
}

// WorkspaceConnection says where the workspace lives. Passwords are never
// part of it (Keboola returns them only at creation, and we do not ask).
type WorkspaceConnection struct {
	Backend   string `json:"backend"`
	Host      string `json:"host"`
	Database  string `json:"database"`
	Schema    string `json:"schema"`
	Warehouse string `json:"warehouse"`
	Region    string `json:"region"`
	User      string `json:"user"`
	LoginType string `json:"loginType"`
}

// WorkspaceRequest describes a workspace to create.
type WorkspaceRequest struct {
	// Backend is "snowflake" or "bigquery" (the project's default backend).
	Backend string
	// LoginType is how the workspace's user logs in; empty means the one the
	// Python server asks for (workspace.py _create_ws): snowflake-person-sso
	// on Snowflake, default on BigQuery. Without it Keboola makes a legacy
	// password user on Snowflake.
	LoginType string
	// ConfigName names the keboola.mcp-server-tool configuration that owns the
	// workspace; default "Keboola MCP server workspace".
	ConfigName string
}

// CreateWorkspace creates a read-only-storage workspace: a
// keboola.mcp-server-tool configuration, then the workspace itself through an
// asynchronous Storage job, which it waits for.
func (c *Client) CreateWorkspace(ctx context.Context, req WorkspaceRequest) (*Workspace, error) {
	return c.createWorkspaceIn(ctx, c.branchSegment(), req)
}

// defaultLoginTypes are the login types asked for by backend.
var defaultLoginTypes = map[string]string{"snowflake": "snowflake-person-sso", "bigquery": "default"}

func (c *Client) createWorkspaceIn(ctx context.Context, branch string, req WorkspaceRequest) (*Workspace, error) {
	backend := strings.ToLower(strings.TrimSpace(req.Backend))
	loginType, ok := defaultLoginTypes[backend]
	if !ok {
		return nil, fmt.Errorf("keboola: workspace backend must be snowflake or bigquery, got %q", req.Backend)
	}
	if req.LoginType != "" {
		loginType = req.LoginType
	}
	name := req.ConfigName
	if name == "" {
		name = "Keboola MCP server workspace"
	}
	cfg, err := c.createConfigIn(ctx, branch, WorkspaceComponentID, ConfigInput{
		Name:        name,
		Description: "Holds the SQL workspace of the Keboola MCP server.",
	})
	if err != nil {
		return nil, fmt.Errorf("keboola: creating the workspace configuration: %w", err)
	}
	p, err := configPathIn(branch, WorkspaceComponentID, string(cfg.ID))
	if err != nil {
		return nil, err
	}
	body := map[string]any{"backend": backend, "readOnlyStorageAccess": true, "loginType": loginType}
	var job StorageJob
	if err := c.doJSON(ctx, request{method: "POST", path: p + "/workspaces", query: url.Values{"async": {"true"}}, body: body}, &job); err != nil {
		return nil, fmt.Errorf("keboola: creating the workspace: %w", err)
	}
	done, err := c.WaitStorageJob(ctx, string(job.ID))
	if err != nil {
		return nil, err
	}
	var res struct {
		ID FlexString `json:"id"`
	}
	if err := json.Unmarshal(done.Results, &res); err != nil || res.ID == "" {
		return nil, fmt.Errorf("keboola: workspace job %s finished without a workspace id", job.ID)
	}
	return c.getWorkspaceIn(ctx, branch, string(res.ID))
}

// GetWorkspace returns a workspace of the client's branch.
func (c *Client) GetWorkspace(ctx context.Context, workspaceID string) (*Workspace, error) {
	return c.getWorkspaceIn(ctx, c.branchSegment(), workspaceID)
}

func (c *Client) getWorkspaceIn(ctx context.Context, branch, workspaceID string) (*Workspace, error) {
	if err := checkID("workspace id", workspaceID); err != nil {
		return nil, err
	}
	var out Workspace
	if err := c.doJSON(ctx, request{method: "GET", path: "/v2/storage/branch/" + branch + "/workspaces/" + url.PathEscape(workspaceID)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListWorkspaces returns the workspaces of the client's branch that the token can see.
func (c *Client) ListWorkspaces(ctx context.Context) ([]Workspace, error) {
	return c.listWorkspacesIn(ctx, c.branchSegment())
}

func (c *Client) listWorkspacesIn(ctx context.Context, branch string) ([]Workspace, error) {
	var out []Workspace
	err := c.doJSON(ctx, request{method: "GET", path: "/v2/storage/branch/" + branch + "/workspaces"}, &out)
	return out, err
}

// listConfigWorkspacesIn returns the workspaces one configuration owns
// (GET branch/{b}/components/{c}/configs/{id}/workspaces), which needs only
// read access to that configuration.
func (c *Client) listConfigWorkspacesIn(ctx context.Context, branch, componentID, configID string) ([]Workspace, error) {
	p, err := configPathIn(branch, componentID, configID)
	if err != nil {
		return nil, err
	}
	var out []Workspace
	err = c.doJSON(ctx, request{method: "GET", path: p + "/workspaces"}, &out)
	return out, err
}

// StorageJob is an asynchronous Storage operation.
type StorageJob struct {
	ID        FlexString       `json:"id"`
	Status    string           `json:"status"`
	Operation string           `json:"operationName"`
	Results   RawObject        `json:"results,omitempty"`
	Error     *StorageJobError `json:"error,omitempty"`
	Created   Time             `json:"createdTime"`
	EndTime   Time             `json:"endTime"`
}

// StorageJobError is why a Storage job failed.
type StorageJobError struct {
	Code        FlexString `json:"code"`
	Message     string     `json:"message"`
	ExceptionID string     `json:"exceptionId"`
}

// Finished reports whether the job reached a final status.
func (j *StorageJob) Finished() bool { return j.Status == "success" || j.Status == "error" }

// GetStorageJob returns the current state of a Storage job.
func (c *Client) GetStorageJob(ctx context.Context, jobID string) (*StorageJob, error) {
	if err := checkID("storage job id", jobID); err != nil {
		return nil, err
	}
	var out StorageJob
	if err := c.doJSON(ctx, request{method: "GET", path: "/v2/storage/jobs/" + url.PathEscape(jobID)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

const (
	storageJobFirstPoll = 50 * time.Millisecond
	storageJobMaxPoll   = 3 * time.Second
	storageJobMaxWait   = 10 * time.Minute
)

// WaitStorageJob polls a Storage job (50 ms, doubling, at most 3 s apart)
// until it finishes, ctx ends or 10 minutes pass. A job that ends in error is
// returned as an error carrying Keboola's message.
func (c *Client) WaitStorageJob(ctx context.Context, jobID string) (*StorageJob, error) {
	ctx, cancel := context.WithTimeout(ctx, storageJobMaxWait)
	defer cancel()
	wait := storageJobFirstPoll
	for {
		job, err := c.GetStorageJob(ctx, jobID)
		if err != nil {
			return nil, err
		}
		if job.Status == "success" {
			return job, nil
		}
		if job.Status == "error" {
			msg := "no reason given"
			if job.Error != nil && job.Error.Message != "" {
				msg = job.Error.Message
			}
			return job, fmt.Errorf("keboola: storage job %s failed: %s", jobID, msg)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("keboola: waiting for storage job %s: %w", jobID, err)
		}
		wait = min(wait*2, storageJobMaxPoll)
	}
}

// Event is one entry of the project's event log (e.g. a job's log line).
type Event struct {
	ID          FlexString `json:"id"`
	Event       string     `json:"event"`
	Component   string     `json:"component"`
	ConfigID    FlexString `json:"configurationId"`
	RunID       FlexString `json:"runId"`
	Type        string     `json:"type"`
	Message     string     `json:"message"`
	Description string     `json:"description"`
	Created     Time       `json:"created"`
	Params      RawObject  `json:"params,omitempty"`
}

// EventQuery filters ListEvents.
type EventQuery struct {
	// JobID asks for the events a Queue job logged. It is sent as runId
	// with forceUuid=true, which makes Keboola match the job's id; without
	// it runId is matched against the events' run id, which for a job a
	// flow started is "<parent run id>.<job id>", so the job's log comes
	// back empty. The Python server asks this way (clients/storage.py,
	// job events: "runId matches the job's id").
	JobID string
	// Component keeps the events of one component.
	Component string
	// Limit is 1..1000; zero means 100.
	Limit  int
	Offset int
}

// ListEvents returns events, newest first.
func (c *Client) ListEvents(ctx context.Context, q EventQuery) ([]Event, error) {
	v, err := pageParams("event", q.Limit, q.Offset, 100, 1000)
	if err != nil {
		return nil, err
	}
	if q.JobID != "" {
		v.Set("runId", q.JobID)
		v.Set("forceUuid", "true")
	}
	if q.Component != "" {
		v.Set("component", q.Component)
	}
	var out []Event
	err = c.doJSON(ctx, request{method: "GET", path: "/v2/storage/events", query: v}, &out)
	return out, err
}

// EventInput is an event to record.
type EventInput struct {
	Message   string
	Component string
	// Type is info, warn, error or success; empty means info.
	Type     string
	Params   map[string]any
	Duration time.Duration
}

var eventTypes = map[string]bool{"info": true, "warn": true, "error": true, "success": true}

// CreateEvent records an event in the project's log.
func (c *Client) CreateEvent(ctx context.Context, in EventInput) (*Event, error) {
	if strings.TrimSpace(in.Message) == "" || strings.TrimSpace(in.Component) == "" {
		return nil, errors.New("keboola: an event needs a message and a component")
	}
	typ := in.Type
	if typ == "" {
		typ = "info"
	}
	if !eventTypes[typ] {
		return nil, fmt.Errorf("keboola: event type must be info, warn, error or success, got %q", in.Type)
	}
	body := map[string]any{"message": in.Message, "component": in.Component, "type": typ}
	if len(in.Params) > 0 {
		body["params"] = in.Params
	}
	if in.Duration > 0 {
		body["duration"] = in.Duration.Seconds()
	}
	var out Event
	if err := c.doJSON(ctx, request{method: "POST", path: "/v2/storage/events", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SearchQuery is a global search over the project's objects (feature "global-search").
type SearchQuery struct {
	Query string
	// Types narrows the object types (e.g. table, bucket, configuration, flow).
	Types []string
	// Limit is 1..100; zero means 50.
	Limit  int
	Offset int
	// AllBranches searches every branch of the project; by default only
	// the client's branch (production on the default branch).
	AllBranches bool
}

// SearchResult is one page of global search hits.
type SearchResult struct {
	All   int          `json:"all"`
	Items []SearchItem `json:"items"`
}

// SearchItem is one hit.
type SearchItem struct {
	ID          FlexString               `json:"id"`
	Name        string                   `json:"name"`
	Type        string                   `json:"type"`
	ComponentID string                   `json:"componentId"`
	ProjectID   FlexString               `json:"projectId"`
	Created     Time                     `json:"created"`
	FullPath    FlexMap[json.RawMessage] `json:"fullPath"`
}

// GlobalSearch finds buckets, tables, configurations and flows by name, in
// the client's project and branch. Keboola's global search spans the whole
// organisation, so the request names the project (projectIds[]) and the
// branch (branchTypes[] production, or development with branchIds[]), as
// the Python server does (clients/storage.py global_search).
func (c *Client) GlobalSearch(ctx context.Context, q SearchQuery) (*SearchResult, error) {
	if strings.TrimSpace(q.Query) == "" {
		return nil, errors.New("keboola: a search query is required")
	}
	v, err := pageParams("search", q.Limit, q.Offset, 50, 100)
	if err != nil {
		return nil, err
	}
	v.Set("query", q.Query)
	for _, t := range q.Types {
		v.Add("types[]", t)
	}
	info, err := c.VerifyToken(ctx)
	if err != nil {
		return nil, err
	}
	v.Set("projectIds[]", string(info.Owner.ID))
	switch {
	case q.AllBranches:
	case c.branchID == "":
		v.Set("branchTypes[]", "production")
	default:
		v.Set("branchTypes[]", "development")
		v.Set("branchIds[]", c.branchID)
	}
	var out SearchResult
	if err := c.doJSON(ctx, request{method: "GET", path: "/v2/storage/global-search", query: v}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
