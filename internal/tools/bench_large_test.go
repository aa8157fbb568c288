package tools

import (
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
)

// large is the generated large project (5,000 tables, 20,000
// configurations), started by the first benchmark that needs it.
var large = fakestacktest.Shared{Options: fakestack.Options{NoDemo: true, LargeProject: true, JobStepDelay: time.Millisecond}}

// benchTool calls a tool b.N times against the large project and reports,
// besides the time, the Keboola requests and the bytes of their answers per
// call, as the fake received them.
func benchTool(b *testing.B, tool string, args map[string]any) {
	s := large.Get(b)
	f := newFixtureFor(b, s, keboola.Credentials{StackURL: s.URL(), StorageToken: keboola.Secret(s.MasterToken())})
	// Audit events are not what is measured.
	if text, isErr := f.call(b, tool, args); isErr {
		b.Fatalf("%s: %s", tool, text)
	}
	s.ResetRequests()
	b.ResetTimer()
	for range b.N {
		if text, isErr := f.call(b, tool, args); isErr {
			b.Fatalf("%s: %s", tool, text)
		}
	}
	b.StopTimer()
	var reqs, bytes int64
	for _, r := range s.Requests() {
		if r.Method == "POST" && r.Path == "/v2/storage/events" {
			continue // the audit event of each call
		}
		reqs++
		bytes += r.Bytes
	}
	b.ReportMetric(float64(reqs)/float64(b.N), "keboola-requests/op")
	b.ReportMetric(float64(bytes)/float64(b.N), "keboola-bytes/op")
}

// BenchmarkLargeProject_Search compares the two ways search reads a large
// project: the global search API (the project has the feature) and the
// listings, which regular expressions always take.
func BenchmarkLargeProject_Search(b *testing.B) {
	b.Run("global-search", func(b *testing.B) {
		benchTool(b, "search", map[string]any{"patterns": []string{"invoices_042"}})
	})
	b.Run("listings", func(b *testing.B) {
		benchTool(b, "search", map[string]any{"patterns": []string{"invoices_042"}, "mode": "regex"})
	})
}

// BenchmarkLargeProject_GetTables lists one bucket's 50 tables and gets
// the details of five tables.
func BenchmarkLargeProject_GetTables(b *testing.B) {
	b.Run("bucket", func(b *testing.B) {
		benchTool(b, "get_tables", map[string]any{"bucket_ids": []string{"in.c-invoices-002"}})
	})
	b.Run("details", func(b *testing.B) {
		benchTool(b, "get_tables", map[string]any{"table_ids": []string{"in.c-invoices-002.invoices_001", "in.c-invoices-002.invoices_002",
			"in.c-invoices-002.invoices_003", "in.c-invoices-002.invoices_004", "in.c-invoices-002.invoices_005"}})
	})
}
