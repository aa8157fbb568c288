// Package soak holds the soak benchmark of `make soak` (build tag soak, so
// `go test ./...` and `make test` never run it): several `keboola-mcp serve`
// replicas on shared PostgreSQL and Redis stores, OAuth-issued tokens spread
// across them, concurrent tool calls while the fake Keboola stack injects
// faults, and one replica killed and restarted mid-run. It reports calls,
// MCP-level 5xx, tool errors, latency, lost grants and peak memory.
package soak
