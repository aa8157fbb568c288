package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// toolListCache answers tools/list from pages built once per server and
// gate (see Gate): one page per gating key.
//
// The SDK builds a tools/list answer from each tool's *jsonschema.Schema on
// every request, and encoding a schema is costly: Schema.MarshalJSON
// re-encodes every nested schema, and encoding/json re-scans each nested
// encoder's output at every level of nesting. With ~40 tools that was most
// of the CPU of a tools/list (and far more under wasm in the Worker). The
// tools never change after New, so the answer for one gate never changes
// either.
//
// The base page is taken from the SDK's own answer to the first request
// without a cursor, so it is the SDK's answer by construction; only each
// tool's input and output schema is replaced by its JSON, encoded the way the
// SDK encodes a result (no HTML escaping). A gate's page keeps the base
// page's tools the gate allows, in order. A request with a cursor goes to
// the SDK, so pagination behaves exactly as the SDK's, and is filtered by
// the gate the same way.
type toolListCache struct {
	// gate resolves a request's gate; nil serves every tool (a server
	// without Keboola sessions, as the pagination tests build).
	gate         func(context.Context) (Gate, error)
	readOnlyTool map[string]bool

	base  atomic.Pointer[toolListPage]
	mu    sync.RWMutex
	pages map[string]*toolListPage
}

// maxGatePages bounds the pages kept: the project-fact gates are a few
// dozen, but a gateway's tool lists can make any number of keys. Past the
// bound a page is filtered per request, which is cheap (a slice of pointers).
const maxGatePages = 256

// toolListPage is a cached page. It is shared by concurrent requests and
// never modified: each answer is a new ListToolsResult pointing at it, since
// the SDK annotates results (_meta, resultType) after the middleware.
type toolListPage struct {
	tools      []*mcp.Tool
	nextCursor string
	cacheable  mcp.Cacheable
	meta       mcp.Meta
}

// middleware is a receiving middleware that serves tools/list requests
// filtered by the session's gate, cursor-less ones from the cache.
func (c *toolListCache) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		list, ok := req.(*mcp.ListToolsRequest)
		if !ok || method != "tools/list" {
			return next(ctx, method, req)
		}
		g, err := c.gateOf(ctx)
		if err != nil {
			return nil, err
		}
		if list.Params != nil && list.Params.Cursor != "" {
			res, err := next(ctx, method, req)
			if lr, ok := res.(*mcp.ListToolsResult); ok && err == nil {
				lr.Tools = c.allowed(g, lr.Tools)
			}
			return res, err
		}
		base := c.base.Load()
		if base == nil {
			res, err := next(ctx, method, req)
			if err != nil {
				return res, err
			}
			lr, ok := res.(*mcp.ListToolsResult)
			if !ok {
				return res, nil
			}
			p, err := newToolListPage(lr)
			if err != nil {
				lr.Tools = c.allowed(g, lr.Tools)
				return lr, nil
			}
			// Concurrent first requests may each build a page; they are
			// equal, and whichever is stored first is kept.
			c.base.CompareAndSwap(nil, p)
			base = c.base.Load()
		}
		return c.pageFor(g, base).result(), nil
	}
}

func (c *toolListCache) gateOf(ctx context.Context) (Gate, error) {
	if c.gate == nil {
		return Gate{}, nil
	}
	return c.gate(ctx)
}

// pageFor returns the gate's page, filtering the base page the first time.
func (c *toolListCache) pageFor(g Gate, base *toolListPage) *toolListPage {
	key := g.Key()
	c.mu.RLock()
	p := c.pages[key]
	c.mu.RUnlock()
	if p != nil {
		return p
	}
	p = &toolListPage{tools: c.allowed(g, base.tools), nextCursor: base.nextCursor, cacheable: base.cacheable, meta: base.meta}
	c.mu.Lock()
	if c.pages == nil {
		c.pages = map[string]*toolListPage{}
	}
	if len(c.pages) < maxGatePages {
		c.pages[key] = p
	}
	c.mu.Unlock()
	return p
}

// allowed returns the tools of ts the gate lets the session see.
func (c *toolListCache) allowed(g Gate, ts []*mcp.Tool) []*mcp.Tool {
	if c.gate == nil {
		return ts
	}
	out := make([]*mcp.Tool, 0, len(ts))
	for _, t := range ts {
		if g.refusal(t.Name, c.readOnlyTool[t.Name]) == "" {
			out = append(out, t)
		}
	}
	return out
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
