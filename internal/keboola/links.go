package keboola

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Links builds Keboola UI addresses for one project. The UI lives on the
// Storage API host: https://connection.<stack>/admin/projects/{id}/….
type Links struct {
	base string
}

// NewLinks returns link builders for a project on a stack.
func NewLinks(stackURL, projectID string) (Links, error) {
	u, err := ParseStackURL(stackURL)
	if err != nil {
		return Links{}, err
	}
	if !isDigits(projectID) {
		return Links{}, fmt.Errorf("keboola: project id %q must be numeric", projectID)
	}
	return Links{base: u.String() + "/admin/projects/" + projectID}, nil
}

// Links returns the UI link builder for the client's project (the project id
// comes from the cached token verification).
func (c *Client) Links(ctx context.Context) (Links, error) {
	info, err := c.VerifyToken(ctx)
	if err != nil {
		return Links{}, err
	}
	if info.Owner.ID == "" {
		return Links{}, errors.New("keboola: the token's project id is unknown")
	}
	return NewLinks(c.stack.String(), string(info.Owner.ID))
}

func (l Links) join(parts ...string) string {
	var b strings.Builder
	b.WriteString(l.base)
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}

// Project is the project dashboard.
func (l Links) Project() string { return l.base }

// Storage lists the project's buckets.
func (l Links) Storage() string { return l.join("storage") }

// Bucket is a bucket's detail page.
func (l Links) Bucket(bucketID string) string { return l.join("storage", bucketID) }

// Table is a table's detail page.
func (l Links) Table(bucketID, tableName string) string {
	return l.join("storage", bucketID, "table", tableName)
}

// Component lists a component's configurations.
func (l Links) Component(componentID string) string { return l.join("components", componentID) }

// UsedComponents lists every configured component.
func (l Links) UsedComponents() string { return l.join("components", "configurations") }

// Config is a configuration's detail page.
func (l Links) Config(componentID, configID string) string {
	return l.join("components", componentID, configID)
}

// Transformations lists the transformations.
func (l Links) Transformations() string { return l.join("transformations-v2") }

// Jobs lists the project's jobs.
func (l Links) Jobs() string { return l.join("queue") }

// Job is a job's detail page.
func (l Links) Job(jobID string) string { return l.join("queue", jobID) }

// Flows lists the project's flows.
func (l Links) Flows() string { return l.join("flows") }

// Flow is a flow's detail page.
func (l Links) Flow(configID string) string { return l.join("flows", configID) }

// FlowsDocsURL is the public documentation of flows.
const FlowsDocsURL = "https://help.keboola.com/flows/"
