package httpserver

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// routes are the label values for metrics; anything else is "other", so a
// scanner cannot blow up the metric cardinality.
var routes = []string{"/mcp", "/sse", "/messages", "/authorize", "/token", "/register", "/revoke", "/oauth/callback", "/healthz", "/metrics",
	"/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource/sse"}

func routeOf(path string) string {
	for _, r := range routes {
		if path == r {
			return r
		}
	}
	return "other"
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush for SSE streams.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// observe logs each request (method, path, status, duration) and counts it
// for /metrics. Query strings are never logged: /authorize and
// /oauth/callback carry codes and states in them, and a client that wrongly
// puts its token in the URL of /mcp must not get it written to the logs.
// Headers and bodies are never logged either.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		d := time.Since(start)
		route := routeOf(r.URL.Path)
		s.metrics.observe(route, rec.status, d)
		if route == "/healthz" || route == "/metrics" {
			return
		}
		path := r.URL.Path
		if len(path) > 300 {
			path = path[:300] + "…"
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http",
			slog.String("method", r.Method), slog.String("path", path), slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes), slog.Duration("duration", d), slog.String("remote", r.RemoteAddr))
	})
}

type metricKey struct {
	route  string
	status int
}

type metricVal struct {
	count   uint64
	seconds float64
}

// metrics are request counts and total durations in the Prometheus text
// format; enough for dashboards and alerts without a client library.
type metrics struct {
	mu    sync.Mutex
	start time.Time
	m     map[metricKey]*metricVal
}

func newMetrics() *metrics { return &metrics{start: time.Now(), m: map[metricKey]*metricVal{}} }

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := metricKey{route, status}
	v := m.m[k]
	if v == nil {
		v = &metricVal{}
		m.m[k] = v
	}
	v.count++
	v.seconds += d.Seconds()
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	keys := make([]metricKey, 0, len(m.m))
	for k := range m.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].status < keys[j].status
	})
	var b strings.Builder
	b.WriteString("# HELP keboola_mcp_http_requests_total HTTP requests by route and status.\n# TYPE keboola_mcp_http_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "keboola_mcp_http_requests_total{route=%q,status=\"%d\"} %d\n", k.route, k.status, m.m[k].count)
	}
	b.WriteString("# HELP keboola_mcp_http_request_seconds_total Time spent serving requests by route and status.\n# TYPE keboola_mcp_http_request_seconds_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "keboola_mcp_http_request_seconds_total{route=%q,status=\"%d\"} %g\n", k.route, k.status, m.m[k].seconds)
	}
	fmt.Fprintf(&b, "# HELP keboola_mcp_uptime_seconds Seconds since start.\n# TYPE keboola_mcp_uptime_seconds gauge\nkeboola_mcp_uptime_seconds %g\n", time.Since(m.start).Seconds())
	m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}
