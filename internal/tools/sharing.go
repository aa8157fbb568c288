package tools

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// Buckets that other projects of the organisation share (Keboola's Data
// Catalog), and linking them into this project.

var sharingTools = []Tool{
	define("get_shared_buckets", "List buckets shared with the project",
		"Lists the buckets other Keboola projects of the organisation share with this project (the Data "+
			"Catalog's \"shared with me\"): source project, stage, tables, size, and whether and as which bucket "+
			"this project has linked it already. get_buckets shows only buckets already in the project. "+
			"link_shared_bucket makes one usable here. Paged with limit/offset.",
		hints{readOnly: true, idempotent: true}, func(s *jsonschema.Schema) { paging(s, listPage, listPageMax) },
		getSharedBuckets),
	define("link_shared_bucket", "Link a shared bucket",
		"Links a bucket another project shares (from get_shared_buckets) into this project as a read-only "+
			"bucket, so its tables can be read, queried and used in transformations like the project's own. "+
			"The data stays in the source project and updates with it. Returns the new bucket's id.",
		hints{}, func(s *jsonschema.Schema) {
			minLen(s, "source_project_id", 1)
			stringOrInteger(s, "source_project_id")
			minLen(s, "source_bucket_id", 1)
			minLen(s, "target_bucket_name", 1)
			enum(s, "target_stage", "in", "out")
		}, linkSharedBucket),
}

type getSharedBucketsInput struct {
	Limit  int `json:"limit,omitempty" jsonschema:"Maximum number of buckets to list."`
	Offset int `json:"offset,omitempty" jsonschema:"Number of buckets to skip, for paging."`
}

// linkedAs maps "<project>/<bucket>" of linked sources to the local bucket ids.
func linkedAs(buckets []keboola.Bucket) map[string][]string {
	out := map[string][]string{}
	for _, b := range buckets {
		if b.SourceBucket != nil {
			k := string(b.SourceBucket.Project.ID) + "/" + b.SourceBucket.ID
			out[k] = append(out[k], b.ID)
		}
	}
	return out
}

func getSharedBuckets(ctx context.Context, c call, in getSharedBucketsInput) (string, error) {
	shared, err := c.client.ListSharedBuckets(ctx)
	if err != nil {
		return "", err
	}
	if len(shared) == 0 {
		return "No other project shares a bucket with this project.\n", nil
	}
	own, err := c.client.ListBuckets(ctx)
	if err != nil {
		return "", err
	}
	linked := linkedAs(own)
	slices.SortFunc(shared, func(a, b keboola.SharedBucket) int {
		return strings.Compare(string(a.Project.ID)+"/"+a.ID, string(b.Project.ID)+"/"+b.ID)
	})
	lo, hi, note := window(len(shared), in.Offset, defaultInt(in.Limit, listPage))
	rows := make([][]string, 0, hi-lo)
	for _, b := range shared[lo:hi] {
		rows = append(rows, []string{string(b.Project.ID), b.Project.Name, b.ID, displayOr(b.DisplayName, b.Name),
			fmt.Sprint(len(b.Tables)), count(b.RowsCount), bytesize(b.DataSizeBytes), b.Sharing,
			strings.Join(linked[string(b.Project.ID)+"/"+b.ID], " "), shorten(b.DescriptionText(), 120)})
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%s shared with this project.\n", counted(len(shared), "bucket"))
	if hi > lo {
		out.WriteString(csvTable([]string{"source_project_id", "source_project", "source_bucket_id", "name", "tables", "rows", "size",
			"sharing", "linked_as", "description"}, rows))
	}
	if note != "" {
		out.WriteString(note + "\n")
	}
	out.WriteString("link_shared_bucket links one; linked_as names buckets that already link it.\n")
	return out.String(), nil
}

func displayOr(display, name string) string {
	if display != "" {
		return display
	}
	return name
}

type linkSharedBucketInput struct {
	SourceProjectID  flexibleID `json:"source_project_id" jsonschema:"The id of the project that shares the bucket (get_shared_buckets), as a string or a number."`
	SourceBucketID   string     `json:"source_bucket_id" jsonschema:"The shared bucket's id in its project, e.g. out.c-benchmarks (get_shared_buckets)."`
	TargetBucketName string     `json:"target_bucket_name" jsonschema:"The name of the new bucket here: letters, digits, - and _ (the bucket id becomes <stage>.c-<name>)."`
	TargetStage      string     `json:"target_stage,omitempty" jsonschema:"The stage of the new bucket, in or out; by default the shared bucket's own."`
	DisplayName      string     `json:"display_name,omitempty" jsonschema:"A display name for the new bucket."`
}

func linkSharedBucket(ctx context.Context, c call, in linkSharedBucketInput) (string, error) {
	req := keboola.LinkRequest{
		SourceProjectID: strings.TrimSpace(string(in.SourceProjectID)),
		SourceBucketID:  strings.TrimSpace(in.SourceBucketID),
		Stage:           in.TargetStage,
		// Keboola adds the c- prefix itself; a name that has it would end
		// up as c-c-name.
		Name:        strings.TrimPrefix(strings.TrimSpace(in.TargetBucketName), "c-"),
		DisplayName: strings.TrimSpace(in.DisplayName),
	}
	if req.Stage == "" {
		stage, _, _ := strings.Cut(req.SourceBucketID, ".")
		if stage != "in" && stage != "out" {
			return "", errorf("cannot tell the stage from source_bucket_id %q: give target_stage (in or out)", req.SourceBucketID)
		}
		req.Stage = stage
	}
	if !keboolaBucketName(req.Name) {
		return "", errorf("target_bucket_name %q must be 1 to 96 letters, digits, - or _", in.TargetBucketName)
	}
	// Two reads catch the usual mistakes before anything is created: a
	// bucket that is not shared, one linked already, a name that is taken.
	shared, err := c.client.ListSharedBuckets(ctx)
	if err != nil {
		return "", err
	}
	if !slices.ContainsFunc(shared, func(b keboola.SharedBucket) bool {
		return string(b.Project.ID) == req.SourceProjectID && b.ID == req.SourceBucketID
	}) {
		return "", errorf("project %s shares no bucket %s with this project; get_shared_buckets lists what is shared", req.SourceProjectID, req.SourceBucketID)
	}
	own, err := c.client.ListBuckets(ctx)
	if err != nil {
		return "", err
	}
	if ids := linkedAs(own)[req.SourceProjectID+"/"+req.SourceBucketID]; len(ids) > 0 {
		return "", errorf("bucket %s of project %s is linked already, as %s", req.SourceBucketID, req.SourceProjectID, strings.Join(ids, ", "))
	}
	newID := req.Stage + ".c-" + req.Name
	if slices.ContainsFunc(own, func(b keboola.Bucket) bool { return b.ID == newID }) {
		return "", errorf("bucket %s exists already; choose another target_bucket_name", newID)
	}
	b, err := c.client.LinkSharedBucket(ctx, req)
	if errors.Is(err, keboola.ErrForbidden) {
		return "", errorf("the token may not create buckets (it needs the manage-buckets permission): %v", err)
	}
	if err != nil {
		return "", err
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	var f fields
	f.add("Bucket", b.ID)
	f.add("Name", displayOr(b.DisplayName, b.Name))
	if b.SourceBucket != nil {
		f.add("Source", fmt.Sprintf("%s of project %s (%s)", b.SourceBucket.ID, b.SourceBucket.Project.Name, b.SourceBucket.Project.ID))
	}
	f.add("Read-only", "yes")
	return fmt.Sprintf("Linked the shared bucket as %s. get_tables with bucket_ids [%q] lists its tables.\n", b.ID, b.ID) +
		f.String() + links("Bucket", u.Bucket(b.ID)), nil
}

func keboolaBucketName(s string) bool {
	if len(s) == 0 || len(s) > 96 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}
