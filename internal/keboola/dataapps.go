package keboola

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// DataAppComponentID is the Storage component whose configurations hold data apps.
const DataAppComponentID = "keboola.data-apps"

// Data app types the Data Science API knows.
const (
	DataAppTypeStreamlit = "streamlit"
	DataAppTypePythonJS  = "python-js"
)

// DataApp is a data app as the Data Science API describes it. Its code and
// settings live in a Storage configuration of DataAppComponentID (ConfigID).
type DataApp struct {
	ID            FlexString `json:"id"`
	ProjectID     FlexString `json:"projectId"`
	ComponentID   string     `json:"componentId"`
	BranchID      FlexString `json:"branchId"`
	ConfigID      FlexString `json:"configId"`
	ConfigVersion FlexString `json:"configVersion"`
	Type          string     `json:"type"`
	// State is where the app is (created, starting, running, stopping,
	// stopped, restarting); DesiredState where it is heading.
	State                   string `json:"state"`
	DesiredState            string `json:"desiredState"`
	URL                     string `json:"url"`
	AutoSuspendAfterSeconds int    `json:"autoSuspendAfterSeconds"`
	LastRequestTimestamp    string `json:"lastRequestTimestamp"`
	LastStartTimestamp      string `json:"lastStartTimestamp"`
	Size                    string `json:"size"`
}

// DataAppRun is one deployment attempt of a data app.
type DataAppRun struct {
	ID            FlexString `json:"id"`
	State         string     `json:"state"` // starting, running, finished, failed
	Mode          string     `json:"mode"`
	CreatedAt     string     `json:"createdAt"`
	StartedAt     string     `json:"startedAt"`
	StoppedAt     string     `json:"stoppedAt"`
	StartupLogs   string     `json:"startupLogs"`
	FailureReason *struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"failureReason"`
}

// DataAppGitRepo locates the git repository a python-js app is deployed from.
type DataAppGitRepo struct {
	HTTPSURL string `json:"httpsUrl"`
	SSHURL   string `json:"sshUrl"`
	// IsManaged is nil when the service did not say; treat that as unknown.
	IsManaged *bool `json:"isManagedGitRepo"`
}

// DataAppGitCredential is an HTTPS token for an app's managed repository.
// The service returns Secret only once, at creation.
type DataAppGitCredential struct {
	ID          FlexString `json:"id"`
	Type        string     `json:"type"`
	Permissions string     `json:"permissions"`
	CreatedAt   string     `json:"createdAt"`
	Secret      Secret     `json:"-"`
}

// NewDataApp describes a data app to create.
type NewDataApp struct {
	Name        string
	Description string
	Type        string // DataAppTypeStreamlit or DataAppTypePythonJS
	// Config is the app's configuration body (parameters, authorization,
	// storage, runtime); secrets in it must be encrypted already.
	Config json.RawMessage
	// ManagedGitRepo asks the service to provision a git repository
	// (python-js production apps only).
	ManagedGitRepo bool
}

// DeployOptions tune a deployment.
type DeployOptions struct {
	// ConfigVersion pins the Storage configuration version to run
	// (Streamlit apps); empty for python-js apps, whose code is in git.
	ConfigVersion string
	// Mode "dev" runs a python-js draft as a development preview.
	Mode string
}

func dataAppPath(id string, rest ...string) (string, error) {
	if err := checkID("data app id", id); err != nil {
		return "", err
	}
	p := "/apps/" + url.PathEscape(id)
	for _, r := range rest {
		p += "/" + r
	}
	return p, nil
}

// ListDataApps returns a page of the project's data apps.
func (c *Client) ListDataApps(ctx context.Context, limit, offset int) ([]DataApp, error) {
	if limit <= 0 || offset < 0 {
		return nil, errors.New("keboola: data app paging needs limit > 0 and offset >= 0")
	}
	var out []DataApp
	q := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
	if err := c.doJSON(ctx, request{service: ServiceDataScience, method: "GET", path: "/apps", query: q}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetDataApp returns one data app.
func (c *Client) GetDataApp(ctx context.Context, id string) (*DataApp, error) {
	p, err := dataAppPath(id)
	if err != nil {
		return nil, err
	}
	var out DataApp
	if err := c.doJSON(ctx, request{service: ServiceDataScience, method: "GET", path: p}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateDataApp creates a data app and its Storage configuration on the
// client's branch. It is not retried: a repeat could create a second app.
func (c *Client) CreateDataApp(ctx context.Context, in NewDataApp) (*DataApp, error) {
	if strings.TrimSpace(in.Name) == "" {
		return nil, errors.New("keboola: a data app name is required")
	}
	if in.Type != DataAppTypeStreamlit && in.Type != DataAppTypePythonJS {
		return nil, fmt.Errorf("keboola: unknown data app type %q", in.Type)
	}
	if err := checkObject(in.Config); err != nil {
		return nil, err
	}
	body := map[string]any{"name": in.Name, "description": in.Description, "type": in.Type, "config": in.Config, "branchId": nil}
	if c.branchID != "" {
		body["branchId"] = c.branchID
	}
	if in.ManagedGitRepo {
		body["useManagedGitRepo"] = true
	}
	var out DataApp
	if err := c.doJSON(ctx, request{service: ServiceDataScience, method: "POST", path: "/apps", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeployDataApp starts a data app, restarting it when it runs already.
func (c *Client) DeployDataApp(ctx context.Context, id string, opts DeployOptions) (*DataApp, error) {
	body := map[string]any{"desiredState": "running", "restartIfRunning": true, "updateDependencies": false}
	if opts.ConfigVersion != "" {
		body["configVersion"] = opts.ConfigVersion
	}
	if opts.Mode != "" {
		body["mode"] = opts.Mode
	}
	return c.patchDataApp(ctx, id, body)
}

// SuspendDataApp stops a running data app.
func (c *Client) SuspendDataApp(ctx context.Context, id string) (*DataApp, error) {
	return c.patchDataApp(ctx, id, map[string]any{"desiredState": "stopped"})
}

func (c *Client) patchDataApp(ctx context.Context, id string, body map[string]any) (*DataApp, error) {
	p, err := dataAppPath(id)
	if err != nil {
		return nil, err
	}
	var out DataApp
	// Setting a desired state twice has the effect of setting it once.
	if err := c.doJSON(ctx, request{service: ServiceDataScience, method: "PATCH", path: p, body: body, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteDataApp deletes a data app; the service moves its Storage
// configuration to the trash. The service refuses while the app is changing
// state.
func (c *Client) DeleteDataApp(ctx context.Context, id string) error {
	p, err := dataAppPath(id)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, request{service: ServiceDataScience, method: "DELETE", path: p}, nil)
}

// DataAppLogs returns the last lines of a running app's log. A stopped app
// has no log: the service answers with an error then.
func (c *Client) DataAppLogs(ctx context.Context, id string, lines int) (string, error) {
	p, err := dataAppPath(id, "logs", "tail")
	if err != nil {
		return "", err
	}
	body, err := c.do(ctx, request{service: ServiceDataScience, method: "GET", path: p,
		query: url.Values{"lines": {strconv.Itoa(max(lines, 1))}}, accept: "text/plain"})
	if err != nil {
		return "", err
	}
	return string(body), nil
}

// DataAppRuns returns the newest deployment attempts of an app, newest first.
func (c *Client) DataAppRuns(ctx context.Context, id string, limit int) ([]DataAppRun, error) {
	p, err := dataAppPath(id, "runs")
	if err != nil {
		return nil, err
	}
	var out []DataAppRun
	q := url.Values{"limit": {strconv.Itoa(max(limit, 1))}, "offset": {"0"}}
	if err := c.doJSON(ctx, request{service: ServiceDataScience, method: "GET", path: p, query: q}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// DataAppGitRepository returns where a python-js app's code lives.
func (c *Client) DataAppGitRepository(ctx context.Context, id string) (*DataAppGitRepo, error) {
	p, err := dataAppPath(id, "git-repo")
	if err != nil {
		return nil, err
	}
	var out DataAppGitRepo
	if err := c.doJSON(ctx, request{service: ServiceDataScience, method: "GET", path: p}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateDataAppGitCredential mints a read-write HTTPS token for the managed
// repository of a python-js app. Earlier tokens stay valid. Not retried: each
// call mints a new token.
func (c *Client) CreateDataAppGitCredential(ctx context.Context, id string) (*DataAppGitCredential, error) {
	p, err := dataAppPath(id, "git-repo", "credentials")
	if err != nil {
		return nil, err
	}
	var w struct {
		DataAppGitCredential
		Secret string `json:"secret"`
	}
	body := map[string]any{"type": "http_token", "permissions": "readWrite"}
	if err := c.doJSON(ctx, request{service: ServiceDataScience, method: "POST", path: p, body: body}, &w); err != nil {
		return nil, err
	}
	out := w.DataAppGitCredential
	out.Secret = Secret(w.Secret)
	return &out, nil
}

// DataApps lists the project's data apps in the UI.
func (l Links) DataApps() string { return l.join("data-apps") }

// DataApp is a data app's detail page in the UI.
func (l Links) DataApp(configID string) string { return l.join("data-apps", configID) }
