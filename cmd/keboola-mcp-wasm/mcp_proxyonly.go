//go:build js && wasm && proxyonly

package main

import "syscall/js"

// exportMCP adds nothing: the proxyonly build is for a Worker that forwards
// MCP requests to a native keboola-mcp serve --auth proxy, so it leaves the
// MCP server, its tools and the SDK out (about a third of the size).
func (b *bridge) exportMCP(js.Value) {}
