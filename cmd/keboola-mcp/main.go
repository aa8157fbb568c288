// Command keboola-mcp is a Model Context Protocol server for Keboola projects.
//
// Subcommands:
//
//	stdio      serve MCP over stdin/stdout with a Storage API token from the environment
//	serve      serve MCP over HTTP (/mcp, /sse) with OAuth 2.1 authorization
//	version    print the version
//
// The fake Keboola stack for demos and tests is a separate command,
// keboola-dev-stack: its SQL engine (DuckDB) needs cgo, and this binary
// stays static pure Go.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/keboola-mcp/keboola-mcp/internal/cliflags"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"stdio", "serve MCP over stdin/stdout (env KBC_STORAGE_TOKEN, KBC_STORAGE_API_URL, ...)", runStdio},
	{"serve", "serve MCP over HTTP with OAuth 2.1 (see --help)", runServe},
	{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
		_, err := fmt.Fprintln(stdout, "keboola-mcp", version)
		return err
	}},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, cliflags.ErrUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "keboola-mcp %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "keboola-mcp: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: keboola-mcp <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}
