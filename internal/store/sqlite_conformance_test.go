package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/store"
	"github.com/keboola-mcp/keboola-mcp/internal/store/storetest"
)

func openSQLite(t testing.TB, path string) *store.SQLite {
	t.Helper()
	s, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite_Conformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openSQLite(t, filepath.Join(t.TempDir(), "conformance.db"))
	})
}

func TestSQLite_SharedFileConformance(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "shared.db")
		return openSQLite(t, path), openSQLite(t, path)
	})
}

func BenchmarkRotateRefresh_SQLite(b *testing.B) {
	storetest.Benchmark(b, openSQLite(b, filepath.Join(b.TempDir(), "bench.db")))
}
