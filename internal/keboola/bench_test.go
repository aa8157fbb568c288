package keboola

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkVerifyToken_CacheHit is the per-tool-call cost of knowing who the
// token belongs to once it has been verified.
func BenchmarkVerifyToken_CacheHit(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, `{"id":"1","owner":{"id":"9","features":["a","b"]},"bucketPermissions":{"in.c-a":"read"}}`)
	}))
	b.Cleanup(srv.Close)
	c, err := New(Credentials{StackURL: srv.URL, StorageToken: testToken}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.VerifyToken(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.VerifyToken(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeTables decodes a table list of a large project (2000 tables
// with columns and metadata), the biggest answer the tools read routinely.
func BenchmarkDecodeTables(b *testing.B) {
	var sb strings.Builder
	sb.WriteByte('[')
	for i := range 2000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":"in.c-b%d.t%d","name":"t%d","columns":["id","name","email","created","amount"],"rowsCount":%d,`+
			`"created":"2019-08-12T14:36:08+0200","lastImportDate":"2021-01-02 03:04:05",`+
			`"metadata":[{"id":"%d","key":"KBC.description","value":"Table number %d","provider":"user","timestamp":"2020-01-01T00:00:00Z"}],`+
			`"columnMetadata":{"id":[{"key":"KBC.datatype.basetype","value":"INTEGER","provider":"ex","timestamp":"2020-01-01 00:00:00"}]},`+
			`"bucket":{"id":"in.c-b%d","backendPath":["DB","in.c-b%d"]}}`, i%50, i, i, i*10, i, i, i%50, i%50)
	}
	sb.WriteByte(']')
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var out []Table
		if err := json.Unmarshal(data, &out); err != nil {
			b.Fatal(err)
		}
	}
}
