package mcpserver

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
)

// Static answers let the Worker serve the requests that need no Keboola call
// (initialize, ping, the initialized notification) without
// starting the Go server in wasm. They are recorded here, at build time, by
// sending each request to the Streamable HTTP handler the Worker runs, so
// they are this server's answers by construction; the Worker only puts the
// caller's JSON-RPC id back in.
//
// The Worker answers from them only what they were recorded for (see
// StaticKey): any other request, or one whose body is not exactly as a
// recorded one would look with another id, goes to the Go server.

// StaticProtocolVersions are the MCP-Protocol-Version header values (besides
// none) and the initialize protocol versions the Worker answers without Go.
// 2026-07-28 and later are absent: they need the Mcp-Method header and
// per-request _meta, which only the Go server checks.
var StaticProtocolVersions = []string{"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}

// StaticOtherVersion stands for every initialize protocolVersion not in
// StaticProtocolVersions: the server answers all of them alike (it offers its
// own newest version), which the tests check with several.
const StaticOtherVersion = "*"

// StaticMethods are the JSON-RPC methods answered statically. tools/list is
// not one: which tools a session sees depends on its token's role and its
// project's features and branch (see Gate), which only a Keboola call tells.
var StaticMethods = []string{"initialize", "ping", "notifications/initialized"}

// StaticGate is one tool set the Worker can answer for: Key is what the
// Worker computes from the grant, Access what the server sees for it. Adding
// a gate (a per-session tool filter, say) adds a key; the lookup is unchanged.
type StaticGate struct {
	Key    string
	Access access.Access
}

// StaticGates are the tool sets of a grant: every tool, or the read-only ones.
var StaticGates = []StaticGate{
	{Key: "full", Access: access.Access{ReadOnly: false}},
	{Key: "read", Access: access.Access{ReadOnly: true}},
}

// staticIDMarker is the JSON-RPC id of every recorded request; the Worker
// puts the caller's id where it appears in the answer.
const staticIDMarker = "keboola-mcp-static-id"

// StaticAnswers is the data file the Worker reads (worker/build/mcp-static.json).
type StaticAnswers struct {
	// Version is the server version the answers carry (initialize's serverInfo).
	Version string `json:"version"`
	// Parts holds each distinct piece of an answer body once: many answers
	// share the same tools/list page.
	Parts []string `json:"parts"`
	// Answers by StaticKey.
	Answers map[string]StaticAnswer `json:"answers"`
}

// StaticAnswer is one recorded HTTP answer.
type StaticAnswer struct {
	Status int `json:"status"`
	// Headers as the handler set them, in sorted order.
	Headers [][2]string `json:"headers"`
	// Body indexes Parts: [before, after] the JSON-encoded request id, or
	// [whole] for an answer without an id (a notification's 202), or empty.
	Body []int `json:"body"`
}

// StaticKey names the answer to a request: the gate, the MCP-Protocol-Version
// header ("" when absent), the method and, for initialize, the requested
// protocol version (StaticOtherVersion for one not in
// StaticProtocolVersions), joined by "|".
func StaticKey(gate, headerVersion, method, initVersion string) string {
	return strings.Join([]string{gate, headerVersion, method, initVersion}, "|")
}

// StaticAnswers records the handler's answer to every request the Worker may
// answer statically, for every gate.
func (s *Server) StaticAnswers() (*StaticAnswers, error) {
	out := &StaticAnswers{Version: s.opts.Version, Answers: map[string]StaticAnswer{}}
	if out.Version == "" {
		out.Version = "dev"
	}
	parts := map[string]int{}
	part := func(p string) int {
		i, ok := parts[p]
		if !ok {
			i = len(out.Parts)
			parts[p] = i
			out.Parts = append(out.Parts, p)
		}
		return i
	}
	h := s.StreamableHandler()
	for _, gate := range StaticGates {
		for _, hv := range append([]string{""}, StaticProtocolVersions...) {
			for _, method := range StaticMethods {
				initVersions := []string{""}
				if method == "initialize" {
					initVersions = append(slices.Clone(StaticProtocolVersions), StaticOtherVersion)
				}
				for _, iv := range initVersions {
					requested := iv
					if iv == StaticOtherVersion {
						requested = "2099-01-01"
					}
					rec := ServeStatic(h, gate.Access, hv, StaticRequestBody(method, staticIDMarker, requested))
					a, err := rec.staticAnswer(part)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", StaticKey(gate.Key, hv, method, iv), err)
					}
					out.Answers[StaticKey(gate.Key, hv, method, iv)] = a
				}
			}
		}
	}
	return out, nil
}

// StaticRequestBody is the body of a recorded request: compact JSON, the
// shape the Worker accepts. id is a string; notifications have none.
// initVersion is initialize's requested protocol version.
func StaticRequestBody(method, id, initVersion string) []byte {
	switch method {
	case "initialize":
		return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%q,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"keboola-mcp-static","version":"1"}}}`, id, initVersion)
	case "notifications/initialized":
		return []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	default:
		return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%q,"method":%q}`, id, method)
	}
}

// ServeStatic sends one POST /mcp to h as the Worker forwards it (the same
// headers, no Host, no connection) with a attached, and records the answer.
func ServeStatic(h http.Handler, a access.Access, headerVersion string, body []byte) *Recorder {
	req, _ := http.NewRequestWithContext(access.With(context.Background(), a), http.MethodPost, "/mcp", bytes.NewReader(body))
	req.RequestURI = "/mcp"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if headerVersion != "" {
		req.Header.Set("MCP-Protocol-Version", headerVersion)
	}
	rec := NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func (r *Recorder) staticAnswer(part func(string) int) (StaticAnswer, error) {
	a := StaticAnswer{Status: r.StatusCode(), Headers: [][2]string{}, Body: []int{}}
	for _, name := range slices.Sorted(maps.Keys(r.header)) {
		for _, v := range r.header[name] {
			a.Headers = append(a.Headers, [2]string{name, v})
		}
	}
	body := r.Body.String()
	quoted := fmt.Sprintf("%q", staticIDMarker)
	switch n := strings.Count(body, quoted); n {
	case 0:
		if body != "" {
			a.Body = []int{part(body)}
		}
	case 1:
		before, after, _ := strings.Cut(body, quoted)
		a.Body = []int{part(before), part(after)}
	default:
		return a, fmt.Errorf("the request id appears %d times in the answer", n)
	}
	return a, nil
}

// WorkerOptions are the options of the server in the Worker (wasm), which
// the static answers are recorded with: stateless JSON answers, no tool
// filters. The Worker adds its resource metadata URL and Keboola client.
func WorkerOptions(version string) Options {
	return Options{JSONResponse: true, Version: version}
}
