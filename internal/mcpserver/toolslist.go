package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// toolListCache answers tools/list from a page built once per server.
//
// The SDK builds a tools/list answer from each tool's *jsonschema.Schema on
// every request, and encoding a schema is costly: Schema.MarshalJSON
// re-encodes every nested schema, and encoding/json re-scans each nested
// encoder's output at every level of nesting. With ~40 tools that was most
// of the CPU of a tools/list (and far more under wasm in the Worker). The
// tools never change after New, so the answer never changes either.
//
// The first page is taken from the SDK's own answer to the first request
// without a cursor, so it is the SDK's answer by construction; only each
// tool's input and output schema is replaced by its JSON, encoded the way the
// SDK encodes a result (no HTML escaping). A request with a cursor goes to
// the SDK, so pagination behaves exactly as the SDK's.
type toolListCache struct {
	page atomic.Pointer[toolListPage]
}

// toolListPage is the cached first page. It is shared by concurrent requests
// and never modified: each answer is a new ListToolsResult pointing at it,
// since the SDK annotates results (_meta, resultType) after the middleware.
type toolListPage struct {
	tools      []*mcp.Tool
	nextCursor string
	cacheable  mcp.Cacheable
	meta       mcp.Meta
}

// middleware is a receiving middleware that serves cursor-less tools/list
// requests from the cached page, building it from the SDK's answer to the
// first one.
func (c *toolListCache) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		list, ok := req.(*mcp.ListToolsRequest)
		if !ok || method != "tools/list" || (list.Params != nil && list.Params.Cursor != "") {
			return next(ctx, method, req)
		}
		if p := c.page.Load(); p != nil {
			return p.result(), nil
		}
		res, err := next(ctx, method, req)
		if err != nil {
			return res, err
		}
		if lr, ok := res.(*mcp.ListToolsResult); ok {
			// Concurrent first requests may each build a page; they are
			// equal, and whichever is stored first is kept.
			if p, err := newToolListPage(lr); err == nil {
				c.page.CompareAndSwap(nil, p)
			}
		}
		return res, nil
	}
}

func (p *toolListPage) result() *mcp.ListToolsResult {
	// The SDK adds its server info to a result's _meta in place.
	return &mcp.ListToolsResult{Meta: maps.Clone(p.meta), Tools: p.tools, NextCursor: p.nextCursor, Cacheable: p.cacheable}
}

// newToolListPage copies an SDK answer with every schema pre-encoded.
func newToolListPage(res *mcp.ListToolsResult) (*toolListPage, error) {
	p := &toolListPage{
		meta:       maps.Clone(res.Meta),
		tools:      make([]*mcp.Tool, len(res.Tools)),
		nextCursor: res.NextCursor,
		cacheable:  res.Cacheable,
	}
	for i, t := range res.Tools {
		c := *t
		var err error
		if c.InputSchema, err = encodeSchema(t.InputSchema); err != nil {
			return nil, err
		}
		if c.OutputSchema, err = encodeSchema(t.OutputSchema); err != nil {
			return nil, err
		}
		p.tools[i] = &c
	}
	return p, nil
}

// encodeSchema encodes a schema as the SDK's JSON-RPC layer encodes a
// result, without HTML escaping. A nil schema stays nil, so an omitted
// outputSchema stays omitted.
func encodeSchema(s any) (any, error) {
	if s == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n")), nil
}
