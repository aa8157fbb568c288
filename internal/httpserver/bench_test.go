package httpserver

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
)

// BenchmarkAuthenticatedToolsListVsHealthz measures, on one server in one
// run, the throughput of an authenticated tools/list (bearer lookup, key
// unwrap, credential decryption, MCP handling) against an unauthenticated
// /healthz, and reports their ratio (and the same for an authenticated
// ping).
func BenchmarkAuthenticatedToolsListVsHealthz(b *testing.B) {
	sys := startSystem(b)
	_, h := sys.connect(b, access.ScopeRead, access.ScopeWrite)
	ts, _ := h.TokenSource(context.Background())
	tok, err := ts.Token()
	if err != nil {
		b.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	run := func(n int, f func()) time.Duration {
		start := time.Now()
		for range n {
			f()
		}
		return time.Since(start)
	}
	b.ResetTimer()
	health := run(b.N, func() {
		resp, err := c.Get(sys.url + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("healthz: %v", err)
		}
		resp.Body.Close()
	})
	tools := run(b.N, func() {
		if resp := mcpPost(b, c, sys, tok.AccessToken, "", list); resp.StatusCode != 200 {
			b.Fatalf("tools/list: %d", resp.StatusCode)
		}
	})
	// ping isolates the cost of authentication and MCP framing from the
	// size of the tools/list answer.
	ping := run(b.N, func() {
		if resp := mcpPost(b, c, sys, tok.AccessToken, "", `{"jsonrpc":"2.0","id":1,"method":"ping"}`); resp.StatusCode != 200 {
			b.Fatalf("ping: %d", resp.StatusCode)
		}
	})
	b.StopTimer()
	hps := float64(b.N) / health.Seconds()
	tps := float64(b.N) / tools.Seconds()
	b.ReportMetric(hps, "healthz/s")
	b.ReportMetric(tps, "tools-list/s")
	b.ReportMetric(tps/hps, "ratio")
	b.ReportMetric(float64(b.N)/ping.Seconds()/hps, "ping-ratio")
}
