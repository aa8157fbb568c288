package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/cliflags"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/login"
	"github.com/keboola-mcp/keboola-mcp/internal/mcpserver"
)

// defaultStackURL is the Storage API of the US AWS stack, the Python
// server's default.
const defaultStackURL = "https://connection.keboola.com"

// stackFromEnv normalises KBC_STORAGE_API_URL as the Python server does (a
// bare host gets https://, a path is dropped), saying so in the log.
func stackFromEnv(raw string, log *slog.Logger) (string, error) {
	n, amended, err := login.LenientStackURL(raw)
	if err != nil {
		return "", fmt.Errorf("KBC_STORAGE_API_URL: %w", err)
	}
	if amended {
		log.Warn("amended KBC_STORAGE_API_URL", "given", raw, "used", n)
	}
	return n, nil
}

// runStdio serves MCP over stdin/stdout for one project, with credentials
// from the same environment variables the Python server reads, so existing
// client configurations keep working.
func runStdio(ctx context.Context, args []string, _ io.Writer, stderr io.Writer) error {
	return stdioMain(ctx, args, stderr, os.Getenv, func(ctx context.Context, opts mcpserver.Options, creds keboola.Credentials) error {
		return mcpserver.ServeStdio(ctx, opts, creds)
	})
}

// stdioMain parses flags and environment into server options and
// credentials, then calls serve. Split from runStdio for tests.
func stdioMain(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string,
	serve func(context.Context, mcpserver.Options, keboola.Credentials) error) error {
	fs := cliflags.NewFlagSet("keboola-mcp stdio", stderr)
	readOnly := fs.Bool("read-only", false, "serve only the tools that do not change the project")
	var only, exclude cliflags.StringList
	fs.Var(&only, "tools", "serve only this tool (repeatable, or comma-separated in KEBOOLA_MCP_TOOLS)")
	fs.Var(&exclude, "exclude-tools", "do not serve this tool (repeatable)")
	logLevel := fs.String("log-level", "info", "log level on stderr: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: keboola-mcp stdio [flags]

Serves MCP over stdin/stdout for one Keboola project. Environment:
  KBC_STORAGE_TOKEN     Storage API token (required)
  KBC_STORAGE_API_URL   Storage API URL of the stack (default `+defaultStackURL+`)
  KBC_WORKSPACE_SCHEMA  workspace schema for query_data (default: find or create one)
  KBC_BRANCH_ID         development branch id (default: the main branch)

Flags (each also read from KEBOOLA_MCP_<FLAG>):
`)
		fs.PrintDefaults()
	}
	if err := cliflags.Parse(fs, args, getenv); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	token := getenv("KBC_STORAGE_TOKEN")
	if token == "" {
		return errors.New("KBC_STORAGE_TOKEN is not set: set it to a Keboola Storage API token of your project " +
			"(Keboola UI → Project settings → API tokens)")
	}
	stack := getenv("KBC_STORAGE_API_URL")
	if stack == "" {
		stack = defaultStackURL
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	stack, err := stackFromEnv(stack, logger)
	if err != nil {
		return err
	}
	creds := keboola.Credentials{
		StackURL:        stack,
		StorageToken:    keboola.Secret(token),
		BranchID:        access.NormalizeBranchID(getenv("KBC_BRANCH_ID")),
		WorkspaceSchema: getenv("KBC_WORKSPACE_SCHEMA"),
	}
	opts := mcpserver.Options{
		ReadOnly:     *readOnly,
		Tools:        only,
		ExcludeTools: exclude,
		Version:      version,
		Logger:       logger,
		Client:       keboola.Options{Logger: logger, UserAgent: "keboola-mcp/" + version},
	}
	logger.Info("serving MCP over stdio", "stack", stack, "branch", creds.BranchID, "read_only", *readOnly)
	return serve(ctx, opts, creds)
}
