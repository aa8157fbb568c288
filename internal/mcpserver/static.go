package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
)

// Static answers let the Worker serve the requests that need no Keboola call
// (initialize, ping, the initialized notification, and tools/list once the
// grant's gate is known) without starting the Go server in wasm. They are
// recorded here, at build time, by sending each request to the Streamable
// HTTP handler the Worker runs, so they are this server's answers by
// construction; the Worker only puts the caller's JSON-RPC id back in.
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

// StaticMethods are the JSON-RPC methods answered statically for every
// grant, keyed by StaticGates.
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

// StaticListMethod is answered statically per session gate (Gate.Key): which
// tools a session sees depends on its token's role and its project's
// features, which the Worker learns from Go at login (Server.GateKey) and
// from Go's later answers (GateReport).
const StaticListMethod = "tools/list"

// WorkerToolGates are the gates a Worker grant can have. The Worker sets no
// branch and no tool lists, so only four facts vary: the grant's scope or a
// readOnly role, the project's flow feature, the token's role (or a Keboola
// OAuth session) for modify_flow, and the project's semantic models.
func WorkerToolGates() []Gate {
	var out []Gate
	for bits := range 16 {
		out = append(out, Gate{ReadOnly: bits&1 != 0, LegacyFlows: bits&2 != 0, ModifyFlow: bits&4 != 0, Semantic: bits&8 != 0})
	}
	return out
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
	// Body is the concatenation of these Parts, with the caller's JSON-encoded
	// request id at StaticIDPart; empty for an empty body.
	Body []int `json:"body"`
}

// StaticIDPart stands in StaticAnswer.Body for the request id.
const StaticIDPart = -1

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
	record := func(ctx context.Context, key, hv string, body []byte) error {
		a, err := serveStatic(ctx, h, hv, body).staticAnswer(part)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		out.Answers[key] = a
		return nil
	}
	headerVersions := append([]string{""}, StaticProtocolVersions...)
	for _, gate := range StaticGates {
		ctx := access.With(context.Background(), gate.Access)
		for _, hv := range headerVersions {
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
					if err := record(ctx, StaticKey(gate.Key, hv, method, iv), hv, StaticRequestBody(method, staticIDMarker, requested)); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	for _, gate := range WorkerToolGates() {
		ctx := context.WithValue(access.With(context.Background(), access.Access{ReadOnly: gate.ReadOnly}), recordingGate{}, gate)
		for _, hv := range headerVersions {
			if err := record(ctx, StaticKey(gate.Key(), hv, StaticListMethod, ""), hv, StaticRequestBody(StaticListMethod, staticIDMarker, "")); err != nil {
				return nil, err
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

// serveStatic sends one POST /mcp to h as the Worker forwards it (the same
// headers, no Host, no connection) with ctx, and records the answer.
func serveStatic(ctx context.Context, h http.Handler, headerVersion string, body []byte) *Recorder {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/mcp", bytes.NewReader(body))
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

// staticAnswer splits the recorded body into parts around the request id
// and, in a tools/list answer, around each tool, so that the pages of all
// gates share one copy of each tool's definition.
func (r *Recorder) staticAnswer(part func(string) int) (StaticAnswer, error) {
	a := StaticAnswer{Status: r.StatusCode(), Headers: [][2]string{}, Body: []int{}}
	for _, name := range slices.Sorted(maps.Keys(r.header)) {
		for _, v := range r.header[name] {
			a.Headers = append(a.Headers, [2]string{name, v})
		}
	}
	body := r.Body.String()
	if body == "" {
		return a, nil
	}
	quoted := fmt.Sprintf("%q", staticIDMarker)
	if n := strings.Count(body, quoted); n > 1 {
		return a, fmt.Errorf("the request id appears %d times in the answer", n)
	}
	before, after, hasID := strings.Cut(body, quoted)
	if !hasID {
		a.Body = []int{part(body)}
		return a, nil
	}
	a.Body = append(a.Body, part(before), StaticIDPart)
	var list struct {
		Result struct {
			Tools []json.RawMessage `json:"tools"`
		} `json:"result"`
	}
	// Each tool's JSON is a verbatim slice of the body, so finding each one
	// after the previous splits the body exactly; joined back it must be the body.
	if json.Unmarshal([]byte(body), &list) == nil {
		for _, t := range list.Result.Tools {
			i := strings.Index(after, string(t))
			if i < 0 {
				return a, fmt.Errorf("tool %.40s is not in the answer as encoded", t)
			}
			if i > 0 {
				a.Body = append(a.Body, part(after[:i]))
			}
			a.Body = append(a.Body, part(string(t)))
			after = after[i+len(t):]
		}
	}
	if after != "" {
		a.Body = append(a.Body, part(after))
	}
	return a, nil
}

// WorkerOptions are the options of the server in the Worker (wasm), which
// the static answers are recorded with: stateless JSON answers, no tool
// filters. The Worker adds its resource metadata URL and Keboola client.
func WorkerOptions(version string) Options {
	return Options{JSONResponse: true, Version: version}
}
