// Package httpserver is the HTTP front of `keboola-mcp serve`: routing of
// the MCP endpoints (/mcp, /sse, /messages), the OAuth endpoints and health,
// and a metrics handler for a separate listener; Host and Origin checks against DNS rebinding and cross-site use; body
// limits; request logging without secrets; graceful shutdown. How a request
// is authenticated is pluggable (Authenticator): OAuth bearer tokens, the
// Worker's signed proxy headers, or fixed local credentials.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/oauth"
)

// Config configures a Server.
type Config struct {
	// PublicURL is the server's public origin; browsers on it may call /mcp.
	PublicURL string
	// Loopback is true when the listener is on a loopback address; then
	// pages served from any loopback origin may call /mcp too.
	Loopback bool
	// AllowedOrigins are further origins allowed to call /mcp (exact
	// scheme://host[:port]).
	AllowedOrigins []string
	// MCP is the Streamable HTTP handler, mounted at /mcp.
	MCP http.Handler
	// SSE is the legacy SSE handler, mounted at /sse and /messages.
	SSE http.Handler
	// Auth guards /mcp, /sse and /messages. Required.
	Auth access.Authenticator
	// OAuth, when set, serves the authorization server endpoints.
	OAuth  *oauth.Server
	Logger *slog.Logger
}

// Server routes requests. Create it with New.
type Server struct {
	cfg     Config
	origins map[string]bool
	// hosts are the host names of origins, accepted in Host on a
	// loopback listener besides loopback names.
	hosts   map[string]bool
	log     *slog.Logger
	metrics *metrics
	handler http.Handler
}

// New builds the routing.
func New(cfg Config) (*Server, error) {
	if cfg.MCP == nil || cfg.Auth == nil {
		return nil, errors.New("httpserver: MCP handler and Auth are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, origins: map[string]bool{}, hosts: map[string]bool{}, log: cfg.Logger, metrics: newMetrics()}
	for _, o := range append([]string{cfg.PublicURL}, cfg.AllowedOrigins...) {
		if o == "" {
			continue
		}
		n, err := origin(o)
		if err != nil {
			return nil, fmt.Errorf("allowed origin %q: %w", o, err)
		}
		s.origins[n] = true
		u, _ := url.Parse(n)
		s.hosts[u.Hostname()] = true
	}
	mux := http.NewServeMux()
	guard := func(h http.Handler) http.Handler {
		return s.checkOrigin(s.limitBody(cfg.Auth.Wrap(h)))
	}
	mux.Handle("/mcp", guard(cfg.MCP))
	if cfg.SSE != nil {
		mux.Handle("/sse", guard(cfg.SSE))
		mux.Handle("/messages", guard(cfg.SSE))
	}
	if cfg.OAuth != nil {
		cfg.OAuth.Mount(mux)
	}
	// Some clients probe OpenID discovery first; a plain 404 sends them on
	// to the OAuth metadata.
	mux.HandleFunc("/.well-known/openid-configuration", http.NotFound)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Keboola MCP server. Add %s/mcp to your MCP client.\n", strings.TrimRight(cfg.PublicURL, "/"))
	})
	// The Host check guards every route: a DNS-rebinding page could drive
	// the consent page, register clients or read metadata just as well as
	// call /mcp.
	s.handler = s.observe(s.checkHost(mux))
	return s, nil
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// MetricsHandler serves the Prometheus metrics. It is not routed on the
// public listener: behind a reverse proxy on loopback every request looks
// local, so only a separate listener (--metrics-addr) keeps them private.
func (s *Server) MetricsHandler() http.Handler { return s.metrics }

// origin normalises a URL to scheme://host[:port].
func origin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", errors.New("not an absolute URL")
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// checkOrigin refuses browser requests from other sites (403 when Origin
// is present and not allowed): a web page must not drive a user's MCP
// session, and a DNS-rebinding page must not reach a local server.
// Requests without Origin come from non-browser clients and pass.
func (s *Server) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := r.Header.Get("Origin")
		if o != "" && !s.originAllowed(o) {
			s.log.Warn("refused a request from a foreign origin", "origin", o, "path", r.URL.Path)
			http.Error(w, "forbidden: requests from origin "+o+" are not allowed", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkHost refuses, on a loopback listener, requests whose Host names
// neither this machine nor a configured origin (the public URL behind a
// reverse proxy, --allowed-origin): a DNS-rebinding page reaches a local
// server under the attacker's host name, and its same-origin GETs carry no
// Origin header to refuse.
func (s *Server) checkHost(next http.Handler) http.Handler {
	if !s.cfg.Loopback {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
		if !access.IsLoopbackHost(host) && !s.hosts[host] {
			s.log.Warn("refused a request for a foreign host on a loopback listener", "host", r.Host, "path", r.URL.Path)
			http.Error(w, "forbidden: this server does not answer to host "+r.Host+" (set --public-url to the name clients use)", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) originAllowed(o string) bool {
	n, err := origin(o)
	if err != nil {
		return false // includes "null"
	}
	if s.origins[n] {
		return true
	}
	if s.cfg.Loopback {
		u, _ := url.Parse(n)
		return (u.Scheme == "http" || u.Scheme == "https") && access.IsLoopbackHost(u.Hostname())
	}
	return false
}

func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > access.MaxRequestBytes {
			http.Error(w, fmt.Sprintf("request body exceeds %d bytes", access.MaxRequestBytes), http.StatusRequestEntityTooLarge)
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, access.MaxRequestBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets requests in flight finish for up to grace, and closes the
// rest (long-lived SSE streams).
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = hs.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
