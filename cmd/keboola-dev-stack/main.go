// Command keboola-dev-stack serves a fake Keboola stack with a demo project
// (internal/keboola/fakestack) for demos and tests: `make run`, the e2e and
// Worker suites. Its SQL engine is DuckDB, which needs cgo; that is why it is
// not a subcommand of the static keboola-mcp binary.
//
// It prints the Storage API URL and the master token: the stack is a local
// fake, and handing out its token is the point.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/cliflags"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := devStackMain(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, cliflags.ErrUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "keboola-dev-stack:", err)
		os.Exit(1)
	}
}

// devStackMain serves the fake Keboola stack until ctx ends.
func devStackMain(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := cliflags.NewFlagSet("keboola-dev-stack", stderr)
	addr := fs.String("addr", "127.0.0.1:8765", "listen address (loopback unless --allow-remote)")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback --addr (the fake has no real security)")
	tok := fs.String("token", "", "master Storage token of the fake project (random when empty)")
	publicURL := fs.String("public-url", "", "base URL the stack advertises (default http://<listen address>); set it with --allow-remote")
	backend := fs.String("backend", "snowflake", "the project's SQL backend: snowflake or bigquery (the dialect query_data speaks)")
	var clients cliflags.StringList
	fs.Var(&clients, "oauth-client", "Keboola OAuth client as id:secret (repeatable)")
	if err := cliflags.Parse(fs, args, getenv); err != nil {
		return err
	}
	if err := checkDevAddr(*addr, *allowRemote); err != nil {
		fmt.Fprintln(stderr, err)
		return cliflags.ErrUsage
	}
	if err := checkPublicURL(*publicURL); err != nil {
		fmt.Fprintln(stderr, err)
		return cliflags.ErrUsage
	}
	oauth, err := parseOAuthClients(clients)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return cliflags.ErrUsage
	}
	if *backend != "snowflake" && *backend != "bigquery" {
		fmt.Fprintf(stderr, "--backend %q: the fake models snowflake and bigquery\n", *backend)
		return cliflags.ErrUsage
	}
	stack, err := fakestack.New(fakestack.Options{MasterToken: *tok, OAuthClients: oauth, Backend: *backend})
	if err != nil {
		return err
	}
	defer stack.Close()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	if *publicURL != "" {
		stack.SetURL(*publicURL)
	} else {
		stack.SetURL("http://" + ln.Addr().String())
	}
	srv := &http.Server{Handler: stack.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "KBC_STORAGE_API_URL=%s\nKBC_STORAGE_TOKEN=%s\n", stack.URL(), stack.MasterToken())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkDevAddr refuses to expose the fake beyond this machine unless asked.
func checkDevAddr(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %v", addr, err)
	}
	if allowRemote {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--addr %q is not a loopback address; the fake stack has a known master token and no real security, pass --allow-remote to expose it anyway", addr)
}

// parseOAuthClients turns id:secret pairs into the stack's client map.
func parseOAuthClients(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		id, secret, ok := strings.Cut(p, ":")
		if !ok || id == "" || secret == "" {
			return nil, fmt.Errorf("--oauth-client %q: want id:secret", p)
		}
		out[id] = secret
	}
	return out, nil
}

// checkPublicURL accepts an empty value or an absolute http(s) URL with no path.
func checkPublicURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return fmt.Errorf("--public-url %q: want an absolute http(s) URL without a path, e.g. http://10.0.0.5:8765", raw)
	}
	return nil
}
