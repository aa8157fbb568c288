package mcpserver

import (
	"context"
	"errors"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// ServeStdio serves one MCP session over stdin/stdout with fixed
// credentials until the client closes stdin or ctx ends. Logs must go to
// stderr (Options.Logger): stdout carries the protocol.
func ServeStdio(ctx context.Context, opts Options, creds keboola.Credentials) error {
	return serveTransport(ctx, opts, creds, &mcp.StdioTransport{})
}

// serveTransport serves one session over t with fixed credentials. Tests
// use it with in-memory transports.
func serveTransport(ctx context.Context, opts Options, creds keboola.Credentials, t mcp.Transport) error {
	s, err := New(opts)
	if err != nil {
		return err
	}
	ctx = access.With(ctx, access.Access{Credentials: creds, ReadOnly: opts.ReadOnly})
	err = s.set(false).srv.Run(ctx, t)
	// Tool calls answered last may still be filing their audit events.
	settle, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if serr := s.Settle(settle); serr != nil {
		s.log.Warn("stopped before every tool call's audit event was posted", "err", serr)
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil // asked to stop
	}
	return err
}
