package mcpserver

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// keboolaMeter counts the Keboola requests a server makes and the time
// spent waiting for them, so benchmarks can report the server's own
// overhead apart from the (fake) stack's.
type keboolaMeter struct {
	next     http.RoundTripper
	requests atomic.Int64
	verifies atomic.Int64
	mu       sync.Mutex
	waited   time.Duration
}

func (m *keboolaMeter) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := m.next.RoundTrip(r)
	if err == nil {
		// Count the body read too: the client reads it right after.
		resp.Body = &meteredBody{ReadCloser: resp.Body, m: m, start: start}
	} else {
		m.add(time.Since(start))
	}
	m.requests.Add(1)
	if strings.HasSuffix(r.URL.Path, "/tokens/verify") {
		m.verifies.Add(1)
	}
	return resp, err
}

func (m *keboolaMeter) add(d time.Duration) {
	m.mu.Lock()
	m.waited += d
	m.mu.Unlock()
}

type meteredBody struct {
	io.ReadCloser
	m     *keboolaMeter
	start time.Time
	once  sync.Once
}

func (b *meteredBody) Close() error {
	b.once.Do(func() { b.m.add(time.Since(b.start)) })
	return b.ReadCloser.Close()
}

type transportKind int

const (
	inMemory transportKind = iota
	streamableHTTP
)

// benchSession returns a client session to a server whose Keboola traffic
// goes through the meter.
func benchSession(b *testing.B, kind transportKind) (*mcp.ClientSession, *keboolaMeter) {
	stack := shared.Get(b)
	meter := &keboolaMeter{next: http.DefaultTransport}
	opts := Options{Client: keboola.Options{HTTPClient: &http.Client{Transport: meter}}}
	creds := keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}
	switch kind {
	case inMemory:
		serverT, clientT := mcp.NewInMemoryTransports()
		ctx, cancel := context.WithCancel(context.Background())
		b.Cleanup(cancel)
		go func() { _ = serveTransport(ctx, opts, creds, serverT) }()
		return connectWith(b, clientT), meter
	default:
		srv, err := New(opts)
		if err != nil {
			b.Fatal(err)
		}
		h := srv.StreamableHandler()
		mux := http.NewServeMux()
		mux.Handle("/mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(access.With(r.Context(), access.Access{Credentials: creds})))
		}))
		ts := httptest.NewServer(mux)
		b.Cleanup(ts.Close)
		return connectWith(b, &mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp", MaxRetries: -1}), meter
	}
}

func benchmarkCall(b *testing.B, kind transportKind, tool string, args map[string]any) {
	cs, meter := benchSession(b, kind)
	call := func() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil || res.IsError {
			b.Fatalf("%s: err=%v result=%+v", tool, err, res)
		}
	}
	call() // warm up: discovery, verification and the workspace are cached from here on
	meter.requests.Store(0)
	meter.verifies.Store(0)
	meter.mu.Lock()
	meter.waited = 0
	meter.mu.Unlock()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		call()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	meter.mu.Lock()
	waited := meter.waited
	meter.mu.Unlock()
	b.ReportMetric(float64(meter.requests.Load())/float64(b.N), "keboola-req/op")
	b.ReportMetric(float64(meter.verifies.Load())/float64(b.N), "verify-req/op")
	// Everything but waiting for Keboola: the server plus the client side of
	// the MCP exchange (encoding, transport, decoding) in the same process.
	b.ReportMetric(float64((elapsed-waited).Microseconds())/float64(b.N), "overhead-µs/op")
}

// BenchmarkToolsCall_GetBuckets_InMemory measures a tools/call of
// get_buckets over the stdio-like in-memory transport: the server's own
// time per call (overhead-µs/op, everything but waiting for Keboola) and the
// Keboola requests it makes (one bucket listing; verification is cached).
func BenchmarkToolsCall_GetBuckets_InMemory(b *testing.B) {
	benchmarkCall(b, inMemory, "get_buckets", nil)
}

// BenchmarkToolsCall_GetBuckets_StreamableHTTP is the same over stateless
// Streamable HTTP, where every call is a fresh HTTP request and session.
func BenchmarkToolsCall_GetBuckets_StreamableHTTP(b *testing.B) {
	benchmarkCall(b, streamableHTTP, "get_buckets", nil)
}

// BenchmarkToolsCall_VerificationIsNotRepeated calls get_project_info,
// which needs the token's project: verify-req/op stays at 0 because the
// verification is cached, where the Python server verifies on every call.
func BenchmarkToolsCall_VerificationIsNotRepeated(b *testing.B) {
	benchmarkCall(b, streamableHTTP, "get_project_info", nil)
}

// BenchmarkToolsList measures the server's side of a tools/list over
// stateless Streamable HTTP, called in process as the Worker calls it (no
// network, no client decoding), for both tool sets and both answer framings.
func BenchmarkToolsList(b *testing.B) {
	stack := shared.Get(b)
	creds := keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}
	for _, bc := range []struct {
		name     string
		readOnly bool
		json     bool
	}{
		{"full/json", false, true},
		{"full/sse", false, false},
		{"read-only/json", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv, err := New(Options{JSONResponse: bc.json})
			if err != nil {
				b.Fatal(err)
			}
			h := srv.StreamableHandler()
			ctx := access.With(context.Background(), access.Access{Credentials: creds, ReadOnly: bc.readOnly})
			body := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
			var size int
			for b.Loop() {
				req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/mcp", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("MCP-Protocol-Version", "2025-06-18")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "resp-bytes")
		})
	}
}

// BenchmarkGateFor measures what gating adds to every tools/list and
// tools/call of a session after its first request: the session lookup, the
// cached token verification and project facts, and the page key.
func BenchmarkGateFor(b *testing.B) {
	stack := shared.Get(b)
	srv, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := access.With(context.Background(), access.Access{Credentials: keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}})
	if _, err := srv.gateFor(ctx); err != nil { // warm: verification and facts are cached from here on
		b.Fatal(err)
	}
	for b.Loop() {
		g, err := srv.gateFor(ctx)
		if err != nil {
			b.Fatal(err)
		}
		_ = g.Key()
	}
}
