package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/store"
	"github.com/keboola-mcp/keboola-mcp/internal/store/storetest"
)

// servers are the throwaway PostgreSQL and Redis servers of this test
// binary, started by the first test that needs each.
var servers storetest.Servers

func TestMain(m *testing.M) {
	code := m.Run()
	servers.Stop()
	os.Exit(code)
}

func TestOpen_DispatchesOnScheme(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "open.db")
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(*testing.T) string { return "sqlite:" + path },
		"postgres": func(t *testing.T) string { return servers.PostgresDSN(t) },
		"postgresql alias": func(t *testing.T) string {
			return strings.Replace(servers.PostgresDSN(t), "postgres://", "postgresql://", 1)
		},
		"redis": func(t *testing.T) string { return servers.RedisURL(t) + "?key_prefix=open-test:" },
	} {
		t.Run(name, func(t *testing.T) {
			s, err := store.Open(ctx, dsn(t), store.Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if _, err := s.Stats(ctx); err != nil {
				t.Errorf("Stats on the opened store: %v", err)
			}
		})
	}
}

func TestOpen_RefusesWhatItCannotOpenWithoutRevealingThePassword(t *testing.T) {
	const pw = "s3cr3t-Pa55"
	ctx := context.Background()
	for _, tc := range []struct {
		name, dsn, want string
	}{
		{"no scheme", "./keboola-mcp.db", "no scheme"},
		{"empty sqlite path", "sqlite:", "file path"},
		{"unknown scheme", "mysql://u:" + pw + "@127.0.0.1/db", `unknown scheme "mysql"`},
		{"password before the first colon", pw + "@host:5432", "does not start with a scheme"},
		{"postgres bad port", "postgres://u:" + pw + "@127.0.0.1:notaport/db", "postgres"},
		{"postgres nobody listening", "postgres://u:" + pw + "@127.0.0.1:1/db?connect_timeout=2", "postgres"},
		{"postgres password parameter", "postgres://u@127.0.0.1:1/db?password=" + pw + "&connect_timeout=2", "postgres"},
		{"redis bad port", "redis://:" + pw + "@127.0.0.1:notaport/0", "redis DSN"},
		{"redis bad database", "redis://:" + pw + "@127.0.0.1:6379/x", "redis DSN"},
		{"redis unknown option", "redis://:" + pw + "@127.0.0.1:6379/0?frobnicate=1", "redis DSN"},
		{"redis empty prefix", "redis://:" + pw + "@127.0.0.1:6379/0?key_prefix=", "key_prefix"},
		{"redis nobody listening", "rediss://:" + pw + "@127.0.0.1:1/0?dial_timeout=2s", "redis at 127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.Open(ctx, tc.dsn, store.Options{Timeout: 5 * time.Second})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("the error reveals the password: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestOpen_RedactedErrorsStillMatchContextErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := store.Open(ctx, "redis://:pw-in-error@127.0.0.1:1/0", store.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context = %v, want it to match context.Canceled", err)
	}
}
