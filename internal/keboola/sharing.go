package keboola

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
)

// SharedBucket is a bucket that another project of the organisation shares
// with this one (the Data Catalog's "shared with me"); it may or may not be
// linked here yet.
type SharedBucket struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	DisplayName string   `json:"displayName"`
	Stage       string   `json:"stage"`
	Description string   `json:"description"`
	Backend     string   `json:"backend"`
	Metadata    Metadata `json:"metadata"`
	// Sharing is the scope: organization, organization-project, selected-projects, …
	Sharing        string `json:"sharing"`
	DataSizeBytes  int64  `json:"dataSizeBytes"`
	RowsCount      int64  `json:"rowsCount"`
	Created        Time   `json:"created"`
	LastChangeDate Time   `json:"lastChangeDate"`
	Project        struct {
		ID   FlexString `json:"id"`
		Name string     `json:"name"`
	} `json:"project"`
	Tables []TableRef `json:"tables"`
}

// DescriptionText returns the user description (KBC.description metadata),
// falling back to the description field.
func (b SharedBucket) DescriptionText() string {
	return b.Metadata.descriptionOr(b.Description)
}

// ListSharedBuckets returns the buckets other projects share with this one.
// Keboola does not page this list.
func (c *Client) ListSharedBuckets(ctx context.Context) ([]SharedBucket, error) {
	var out []SharedBucket
	err := c.doJSON(ctx, request{method: "GET", path: c.storagePath("/shared-buckets"),
		query: url.Values{"include": {"metadata"}}}, &out)
	return out, err
}

// LinkRequest links a shared bucket into the client's project.
type LinkRequest struct {
	SourceProjectID string
	SourceBucketID  string
	// Stage is in or out.
	Stage string
	// Name is the new bucket's name without the c- prefix (the id becomes
	// <stage>.c-<name>).
	Name        string
	DisplayName string
}

// validLinkName reports a linked bucket name of 1 to 96 ASCII letters,
// digits, dashes or underscores. A loop rather than a regexp: this package
// is in the Worker's login-only wasm build, where regexp alone was 190 kB.
func validLinkName(s string) bool {
	if len(s) < 1 || len(s) > 96 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (r LinkRequest) check() error {
	switch {
	case !isDigits(r.SourceProjectID):
		return fmt.Errorf("keboola: source project id %q must be numeric", r.SourceProjectID)
	case r.Stage != "in" && r.Stage != "out":
		return fmt.Errorf("keboola: bucket stage must be in or out, got %q", r.Stage)
	case !validLinkName(r.Name):
		return fmt.Errorf("keboola: bucket name %q must be 1 to 96 letters, digits, dashes or underscores", r.Name)
	}
	return checkBucketID(r.SourceBucketID)
}

// LinkSharedBucket creates a bucket in the client's project that links a
// bucket shared by another project, waits for Keboola to finish and returns
// the new bucket. It is not retried: a repeat could try to link twice.
func (c *Client) LinkSharedBucket(ctx context.Context, r LinkRequest) (*Bucket, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	body := map[string]any{"stage": r.Stage, "name": r.Name, "sourceProjectId": r.SourceProjectID, "sourceBucketId": r.SourceBucketID}
	if r.DisplayName != "" {
		body["displayName"] = r.DisplayName
	}
	var job StorageJob
	if err := c.doJSON(ctx, request{method: "POST", path: c.storagePath("/buckets"), query: url.Values{"async": {"true"}}, body: body}, &job); err != nil {
		return nil, err
	}
	if job.ID == "" {
		return nil, errors.New("keboola: linking the bucket returned no storage job")
	}
	done, err := c.WaitStorageJob(ctx, string(job.ID))
	if err != nil {
		return nil, err
	}
	var b Bucket
	if err := json.Unmarshal(done.Results, &b); err != nil || b.ID == "" {
		return nil, fmt.Errorf("keboola: storage job %s linked the bucket but did not describe it", job.ID)
	}
	return &b, nil
}
