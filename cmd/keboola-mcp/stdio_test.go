package main

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/mcpserver"
)

func TestStdio_ConfigFromEnvironmentAndFlags(t *testing.T) {
	errServed := errors.New("served")
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		// logged must appear on stderr.
		logged string
		check  func(t *testing.T, o mcpserver.Options, c keboola.Credentials)
	}{
		{name: "token is required", env: map[string]string{}, wantErr: "KBC_STORAGE_TOKEN is not set"},
		{name: "bad stack URL", env: map[string]string{"KBC_STORAGE_TOKEN": "t", "KBC_STORAGE_API_URL": "ftp://connection.keboola.com"},
			wantErr: "KBC_STORAGE_API_URL"},
		// The Python server amends a bare host or a path, and reads these
		// branch names as the main branch (its Config.__post_init__).
		{name: "stack without scheme, with a path; branch named default", env: map[string]string{"KBC_STORAGE_TOKEN": "t",
			"KBC_STORAGE_API_URL": "connection.eu-central-1.keboola.com/v2/storage", "KBC_BRANCH_ID": "default"},
			logged: "amended KBC_STORAGE_API_URL",
			check: func(t *testing.T, _ mcpserver.Options, c keboola.Credentials) {
				if c.StackURL != "https://connection.eu-central-1.keboola.com" || c.BranchID != "" {
					t.Errorf("creds %+v", c)
				}
			}},
		{name: "defaults", env: map[string]string{"KBC_STORAGE_TOKEN": "123-secret"},
			check: func(t *testing.T, o mcpserver.Options, c keboola.Credentials) {
				if c.StackURL != "https://connection.keboola.com" || c.StorageToken.Reveal() != "123-secret" || o.ReadOnly {
					t.Errorf("creds %+v, read-only %v", c, o.ReadOnly)
				}
			}},
		{name: "Python server's variables", env: map[string]string{"KBC_STORAGE_TOKEN": "t", "KBC_STORAGE_API_URL": "https://connection.eu-central-1.keboola.com",
			"KBC_WORKSPACE_SCHEMA": "WORKSPACE_1", "KBC_BRANCH_ID": "42"},
			check: func(t *testing.T, _ mcpserver.Options, c keboola.Credentials) {
				if c.StackURL != "https://connection.eu-central-1.keboola.com" || c.WorkspaceSchema != "WORKSPACE_1" || c.BranchID != "42" {
					t.Errorf("creds %+v", c)
				}
			}},
		{name: "flags and KEBOOLA_MCP_ variables", args: []string{"--read-only", "--exclude-tools", "search"},
			env: map[string]string{"KBC_STORAGE_TOKEN": "t", "KEBOOLA_MCP_TOOLS": "get_buckets, search"},
			check: func(t *testing.T, o mcpserver.Options, _ keboola.Credentials) {
				if !o.ReadOnly || !slices.Equal(o.Tools, []string{"get_buckets", "search"}) || !slices.Equal(o.ExcludeTools, []string{"search"}) {
					t.Errorf("options %+v", o)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			err := stdioMain(context.Background(), tc.args, &stderr, func(k string) string { return tc.env[k] },
				func(_ context.Context, o mcpserver.Options, c keboola.Credentials) error {
					if tc.check != nil {
						tc.check(t, o, c)
					}
					return errServed
				})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if !errors.Is(err, errServed) {
				t.Fatalf("err = %v, want the server to run", err)
			}
			if !strings.Contains(stderr.String(), tc.logged) {
				t.Errorf("stderr lacks %q: %s", tc.logged, stderr.String())
			}
			if strings.Contains(stderr.String(), tc.env["KBC_STORAGE_TOKEN"]+"\n") || strings.Contains(stderr.String(), "123-secret") {
				t.Errorf("stderr shows the token: %s", stderr.String())
			}
		})
	}
}

func TestStdio_UnknownToolFailsBeforeServing(t *testing.T) {
	err := runStdioWithEnv(t, []string{"--tools", "no_such_tool"}, map[string]string{"KBC_STORAGE_TOKEN": "t"})
	if err == nil || !strings.Contains(err.Error(), "no_such_tool") {
		t.Fatalf("err = %v, want an error naming the unknown tool", err)
	}
}

// runStdioWithEnv runs the real server path up to where it would read stdin.
func runStdioWithEnv(t *testing.T, args []string, env map[string]string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a server that starts returns at once
	return stdioMain(ctx, args, io.Discard, func(k string) string { return env[k] }, mcpserver.ServeStdio)
}
