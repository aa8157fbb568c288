package tools

import (
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

func TestGetSharedBuckets(t *testing.T) {
	t.Parallel()
	f := readFixture(t)
	f.check(t, "get_shared_buckets", []expect{
		{name: "lists what other projects share", contains: []string{"1 bucket shared with this project",
			"source_project_id,source_project,source_bucket_id,name,tables,rows,size,sharing,linked_as,description",
			"5678,Marketing Hub,out.c-industry-benchmarks", "organization-project", "link_shared_bucket"}},
		{name: "offset past the end", args: map[string]any{"offset": 5}, contains: []string{"Offset 5 is past the end"},
			absent: []string{"out.c-industry-benchmarks"}},
		{name: "limit over the maximum is a schema error", args: map[string]any{"limit": listPageMax + 1}, isError: true},
	})
}

func TestLinkSharedBucket_LinksOnceAndShowsItAsLinked(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	link := map[string]any{"source_project_id": "5678", "source_bucket_id": "out.c-industry-benchmarks", "target_bucket_name": "c-benchmarks"}
	f.check(t, "link_shared_bucket", []expect{
		{name: "links with the source's stage, dropping a c- prefix", args: link,
			contains: []string{"Linked the shared bucket as out.c-benchmarks", "Source: out.c-industry-benchmarks of project Marketing Hub (5678)", "Read-only: yes", "/storage/out.c-benchmarks"}},
		{name: "a second link is refused", args: link, isError: true, contains: []string{"linked already, as out.c-benchmarks"}},
	})
	f.check(t, "get_shared_buckets", []expect{{name: "shows the link", contains: []string{"organization-project,out.c-benchmarks,"}}})
	f.check(t, "get_tables", []expect{{name: "the linked tables are listed", args: map[string]any{"bucket_ids": []string{"out.c-benchmarks"}},
		contains: []string{"out.c-benchmarks."}}})
}

func TestLinkSharedBucket_RefusesBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakestack.Options{})
	f.check(t, "link_shared_bucket", []expect{
		{name: "bucket that is not shared", args: map[string]any{"source_project_id": "5678", "source_bucket_id": "out.c-secret", "target_bucket_name": "x"},
			isError: true, contains: []string{"shares no bucket out.c-secret", "get_shared_buckets"}},
		{name: "name that is taken", args: map[string]any{"source_project_id": "5678", "source_bucket_id": "out.c-industry-benchmarks", "target_bucket_name": "crm", "target_stage": "in"},
			isError: true, contains: []string{"in.c-crm exists already"}},
		{name: "bad name", args: map[string]any{"source_project_id": "5678", "source_bucket_id": "out.c-industry-benchmarks", "target_bucket_name": "my bucket"},
			isError: true, contains: []string{"letters, digits"}},
		{name: "stage cannot be told", args: map[string]any{"source_project_id": "5678", "source_bucket_id": "benchmarks", "target_bucket_name": "x"},
			isError: true, contains: []string{"give target_stage"}},
		{name: "bad stage is a schema error", args: map[string]any{"source_project_id": "5678", "source_bucket_id": "out.c-industry-benchmarks", "target_bucket_name": "x", "target_stage": "sys"},
			isError: true},
	})
	if n := f.requests("POST", "/buckets"); n != 0 {
		t.Errorf("%d buckets created from bad input", n)
	}
}
