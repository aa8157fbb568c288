package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

// postAfterAnswer is a receiving middleware that lets a tool call answer
// without waiting for its audit event: the event's Storage round trip (tens
// of milliseconds on a real stack) runs alongside the answer, tracked so that
// Settle can wait for it when the server stops. A caller that collects the
// work itself (the Worker, which posts it once the answer is out) is left to.
func (s *Server) postAfterAnswer(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != "tools/call" || tools.LeavesForLater(ctx) {
			return next(ctx, method, req)
		}
		later := &tools.AfterAnswer{}
		res, err := next(tools.WithAfterAnswer(ctx, later), method, req)
		if later.Pending() {
			// The request's values (its credentials) without its end: the
			// post outlives the request, within its own timeout.
			detached := context.WithoutCancel(ctx)
			s.afterAnswers.Go(func() { later.Run(detached) })
		}
		return res, err
	}
}

// Settle waits until the work tool calls left after their answers is done,
// or ctx ends. A server stops with it, so no audit event is lost to a
// shutdown.
func (s *Server) Settle(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.afterAnswers.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
