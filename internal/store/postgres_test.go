package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/keboola-mcp/keboola-mcp/internal/store"
	"github.com/keboola-mcp/keboola-mcp/internal/store/storetest"
)

func openPostgres(t testing.TB, dsn string) *store.Postgres {
	t.Helper()
	s, err := store.OpenPostgres(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgres_Conformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openPostgres(t, servers.PostgresDSN(t)) })
}

func TestPostgres_SharedDatabaseConformance(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		dsn := servers.PostgresDSN(t)
		return openPostgres(t, dsn), openPostgres(t, dsn)
	})
}

func TestPostgres_ReplicasStartingTogetherMigrateOnce(t *testing.T) {
	dsn := servers.PostgresDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := store.OpenPostgres(context.Background(), dsn, store.Options{})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	// Reopening finds the schema current and keeps the data.
	s := openPostgres(t, dsn)
	if err := s.CreateClient(context.Background(), &store.Client{ID: "kept", AuthMethod: "none"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := openPostgres(t, dsn).Client(context.Background(), "kept"); err != nil {
		t.Errorf("client after reopening: %v", err)
	}
}

func TestPostgres_RefusesASchemaNewerThanItKnows(t *testing.T) {
	ctx := context.Background()
	dsn := servers.PostgresDSN(t)
	openPostgres(t, dsn).Close()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	// A newer binary ran against this database and was rolled back.
	if _, err := c.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	_, err = store.OpenPostgres(ctx, dsn, store.Options{})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("OpenPostgres on a newer schema = %v, want a refusal naming the version mismatch", err)
	}
}

func BenchmarkRotateRefresh_Postgres(b *testing.B) {
	storetest.Benchmark(b, openPostgres(b, servers.PostgresDSN(b)))
}
