package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/cliflags"
	"github.com/keboola-mcp/keboola-mcp/internal/headerauth"
	"github.com/keboola-mcp/keboola-mcp/internal/httpserver"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/login"
	"github.com/keboola-mcp/keboola-mcp/internal/mcpserver"
	"github.com/keboola-mcp/keboola-mcp/internal/oauth"
	"github.com/keboola-mcp/keboola-mcp/internal/proxyauth"
	"github.com/keboola-mcp/keboola-mcp/internal/store"
)

// runServe serves MCP over HTTP (/mcp, /sse) behind OAuth 2.1.
func runServe(ctx context.Context, args []string, _ io.Writer, stderr io.Writer) error {
	return serveMain(ctx, args, stderr, os.Getenv, nil)
}

// serveConfig is the parsed command line and environment.
type serveConfig struct {
	addr, publicURL, storeURL, auth, logLevel string
	metricsAddr                               string
	stacks, origins, tools, exclude           cliflags.StringList
	accessTTL, refreshTTL                     time.Duration
	readOnly, trustedGateway                  bool
}

// serveMain is runServe with its environment and listener injectable for
// tests; ready, when set, receives the listening address.
func serveMain(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string, ready func(addr string)) error {
	var c serveConfig
	fs := cliflags.NewFlagSet("keboola-mcp serve", stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8000", "listen address")
	fs.StringVar(&c.publicURL, "public-url", "", "public base URL, the OAuth issuer (default http://<addr> on loopback; required otherwise)")
	fs.Var(&c.stacks, "stack", "allowed Keboola stack URL (repeatable; default the public multi-tenant stacks)")
	fs.StringVar(&c.storeURL, "store", "sqlite:./keboola-mcp.db", "where grants and tokens live: sqlite:PATH, or postgres://… or redis://… shared by several replicas")
	fs.StringVar(&c.auth, "auth", "oauth", "how requests authenticate: oauth, proxy (signed headers from the Worker), headers (the Python server's X-StorageApi-Token, X-Storage-Api-Url, … headers; loopback or --trusted-gateway) or none (loopback only; KBC_* env credentials)")
	fs.BoolVar(&c.trustedGateway, "trusted-gateway", false, "with --auth headers on a non-loopback --addr: declare that only a trusted gateway can reach this address (see docs/self-hosting.md)")
	fs.DurationVar(&c.accessTTL, "access-ttl", time.Hour, "access token lifetime")
	fs.DurationVar(&c.refreshTTL, "refresh-ttl", 30*24*time.Hour, "refresh token lifetime")
	fs.BoolVar(&c.readOnly, "read-only", false, "serve only the tools that do not change projects")
	fs.Var(&c.tools, "tools", "serve only this tool (repeatable)")
	fs.Var(&c.exclude, "exclude-tools", "do not serve this tool (repeatable)")
	fs.Var(&c.origins, "allowed-origin", "another browser origin allowed to call /mcp (repeatable)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level on stderr: debug, info, warn, error")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve Prometheus /metrics on this separate address (e.g. 127.0.0.1:9090); never on the public listener")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: keboola-mcp serve [flags]

Serves MCP over HTTP at /mcp (Streamable HTTP) and /sse (legacy), protected by
OAuth 2.1: clients discover, register and send the user to a Keboola login page.

Environment:
  KEBOOLA_MCP_SECRET        server secret (≥ 32 characters) for encryption and cookies;
  KEBOOLA_MCP_SECRET_FILE   or a file holding it. Required unless --addr is loopback
                            (then one is generated beside the database).
  KBC_OAUTH_CLIENT_ID       Keboola OAuth client, enables "Sign in with Keboola"
  KBC_OAUTH_CLIENT_SECRET
  KEBOOLA_MCP_PROXY_SECRET  (or _FILE) HMAC secret shared with the Worker, for --auth proxy
  KBC_STORAGE_TOKEN, KBC_STORAGE_API_URL, KBC_BRANCH_ID, KBC_WORKSPACE_SCHEMA  for --auth none

--auth headers reads the Python Keboola MCP server's headers on every request:
X-StorageApi-Token (or Authorization: Bearer), X-Storage-Api-Url (on --stack),
X-Branch-Id, X-Workspace-Schema, X-Read-Only-Mode, X-Allowed-Tools,
X-Disallowed-Tools, X-Conversation-Id.

Flags (each also read from KEBOOLA_MCP_<FLAG>):
`)
		fs.PrintDefaults()
	}
	if err := cliflags.Parse(fs, args, getenv); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	loopback, err := loopbackAddr(c.addr)
	if err != nil {
		return err
	}
	if c.publicURL == "" {
		if !loopback {
			return errors.New("--public-url is required when --addr is not a loopback address: it is the URL clients use, e.g. https://mcp.example.com")
		}
		c.publicURL = "http://" + c.addr
	}
	c.publicURL = strings.TrimRight(c.publicURL, "/")
	// Short access lifetimes are allowed so tests can watch tokens expire.
	if c.accessTTL < time.Second || c.refreshTTL < c.accessTTL {
		return errors.New("--access-ttl must be at least 1s and --refresh-ttl at least as long")
	}

	kopts := keboola.Options{Logger: log, UserAgent: "keboola-mcp/" + version}
	mopts := mcpserver.Options{
		ReadOnly: c.readOnly, Tools: c.tools, ExcludeTools: c.exclude, Version: version, Logger: log, Client: kopts,
	}
	hcfg := httpserver.Config{PublicURL: c.publicURL, Loopback: loopback, AllowedOrigins: c.origins, Logger: log}

	switch c.auth {
	case "oauth":
		st, o, err := openOAuth(ctx, c, loopback, getenv, kopts, log)
		if err != nil {
			return err
		}
		defer st.Close()
		go sweep(ctx, st, log)
		hcfg.OAuth = o
		hcfg.Auth = access.AuthenticatorFunc(o.RequireBearer)
		mopts.ResourceMetadataURL = o.ResourceMetadataURL()
	case "none":
		if !loopback {
			return errors.New("--auth none serves one project's credentials to anyone who can connect: it is allowed only on a loopback --addr")
		}
		creds, err := envCredentials(getenv, log)
		if err != nil {
			return err
		}
		hcfg.Auth = access.Static(access.Access{Credentials: creds, ReadOnly: c.readOnly})
	case "proxy":
		secret, err := readSecret(getenv, "KEBOOLA_MCP_PROXY_SECRET")
		if err != nil || secret == nil {
			return errors.Join(errors.New("--auth proxy needs KEBOOLA_MCP_PROXY_SECRET (or _FILE), the secret shared with the Worker"), err)
		}
		v, err := proxyauth.NewVerifier(secret, proxyauth.VerifierOptions{})
		if err != nil {
			return fmt.Errorf("KEBOOLA_MCP_PROXY_SECRET: %w", err)
		}
		hcfg.Auth = access.AuthenticatorFunc(func(next http.Handler) http.Handler {
			return v.Middleware(next, func(ctx context.Context, f proxyauth.Forwarded) context.Context {
				return access.With(ctx, access.Access{Credentials: f.Credentials(), ReadOnly: f.ReadOnly()})
			})
		})
	case "headers":
		if !loopback && !c.trustedGateway {
			return errors.New("--auth headers takes Keboola tokens from whoever connects: on a non-loopback --addr it needs --trusted-gateway, " +
				"declaring that only your gateway can reach this address (a private network, Cloudflare Tunnel or mTLS; see docs/self-hosting.md)")
		}
		stacks, err := login.NewAllowlist(c.stacks)
		if err != nil {
			return fmt.Errorf("--stack: %w", err)
		}
		hcfg.Auth = headerauth.New(headerauth.Options{Stacks: stacks, Keboola: kopts, Logger: log})
	default:
		return fmt.Errorf("--auth %q: use oauth, proxy, headers or none", c.auth)
	}

	m, err := mcpserver.New(mopts)
	if err != nil {
		return err
	}
	hcfg.MCP, hcfg.SSE = m.StreamableHandler(), m.SSEHandler()
	srv, err := httpserver.New(hcfg)
	if err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", c.addr, err)
	}
	if c.metricsAddr != "" {
		mln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", c.metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listening on --metrics-addr %s: %w", c.metricsAddr, err)
		}
		log.Info("serving metrics", "listen", mln.Addr().String()+"/metrics")
		go serveMetrics(ctx, mln, srv.MetricsHandler(), log)
	}
	log.Info("serving MCP", "url", c.publicURL+"/mcp", "listen", ln.Addr().String(), "auth", c.auth)
	if ready != nil {
		ready(ln.Addr().String())
	}
	err = srv.Serve(ctx, ln, 10*time.Second)
	// Tool calls answered before the stop may still be filing their audit events.
	settle, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := m.Settle(settle); serr != nil {
		log.Warn("stopped before every tool call's audit event was posted", "err", serr)
	}
	return err
}

// serveMetrics serves only /metrics on its own listener until ctx ends.
// Keeping it off the public listener is the only way to keep it private
// behind a reverse proxy, where every request arrives from loopback.
func serveMetrics(ctx context.Context, ln net.Listener, metrics http.Handler, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("metrics listener stopped", "err", err)
	}
}

// openOAuth opens the store and builds the authorization server.
func openOAuth(ctx context.Context, c serveConfig, loopback bool, getenv func(string) string, kopts keboola.Options, log *slog.Logger) (store.Store, *oauth.Server, error) {
	path, isSQLite := strings.CutPrefix(c.storeURL, "sqlite:")
	secret, err := readSecret(getenv, "KEBOOLA_MCP_SECRET")
	if err != nil {
		return nil, nil, err
	}
	if secret == nil {
		if !loopback {
			return nil, nil, errors.New("KEBOOLA_MCP_SECRET (or KEBOOLA_MCP_SECRET_FILE) is required when serving beyond loopback: " +
				"without a stable secret every restart would log all users out. Generate one with: openssl rand -hex 32")
		}
		if !isSQLite || path == "" {
			return nil, nil, errors.New("KEBOOLA_MCP_SECRET (or KEBOOLA_MCP_SECRET_FILE) is required unless --store is sqlite:PATH: " +
				"replicas sharing a store must share one secret. Generate one with: openssl rand -hex 32")
		}
		if secret, err = localSecret(path+".secret", log); err != nil {
			return nil, nil, err
		}
	}
	stacks, err := login.NewAllowlist(c.stacks)
	if err != nil {
		return nil, nil, fmt.Errorf("--stack: %w", err)
	}
	var up *login.Upstream
	id, sec := getenv("KBC_OAUTH_CLIENT_ID"), getenv("KBC_OAUTH_CLIENT_SECRET")
	switch {
	case id != "" && sec != "":
		up = &login.Upstream{ClientID: id, ClientSecret: keboola.Secret(sec), RedirectURL: c.publicURL + "/oauth/callback", Keboola: kopts}
	case id != "" || sec != "":
		return nil, nil, errors.New("set both KBC_OAUTH_CLIENT_ID and KBC_OAUTH_CLIENT_SECRET to enable Sign in with Keboola, or neither")
	}
	st, err := store.Open(ctx, c.storeURL, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	o, err := oauth.New(oauth.Config{
		Issuer: c.publicURL, Store: st, Secret: secret, Stacks: stacks, Upstream: up, Keboola: kopts,
		AccessTTL: c.accessTTL, RefreshTTL: c.refreshTTL, InsecureCookies: strings.HasPrefix(c.publicURL, "http://"), Logger: log,
	})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, o, nil
}

// readSecret returns the secret from NAME, or from the file named by
// NAME_FILE; nil when neither is set. Secrets never come from flags, which
// show up in process listings.
func readSecret(getenv func(string) string, name string) ([]byte, error) {
	v := getenv(name)
	if f := getenv(name + "_FILE"); f != "" {
		if v != "" {
			return nil, fmt.Errorf("set %s or %s_FILE, not both", name, name)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%s_FILE: %w", name, err)
		}
		v = string(bytes.TrimSpace(b))
	}
	if v == "" {
		return nil, nil
	}
	if len(v) < 32 {
		return nil, fmt.Errorf("%s must be at least 32 characters (e.g. openssl rand -hex 32)", name)
	}
	return []byte(v), nil
}

// localSecret reads, or creates with mode 0600, the secret kept beside the
// database for loopback use, so local tokens survive restarts.
func localSecret(path string, log *slog.Logger) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if s := bytes.TrimSpace(b); len(s) >= 32 {
			return s, nil
		}
		return nil, fmt.Errorf("the secret file %s is shorter than 32 characters; delete it to generate a new one", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	s := []byte(hex.EncodeToString(raw))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the local secret: %w", err)
	}
	if _, err := f.Write(append(s, '\n')); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	log.Info("generated a server secret for local use", "file", path)
	return s, nil
}

func loopbackAddr(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("--addr %q: %v", addr, err)
	}
	return host != "" && access.IsLoopbackHost(host), nil
}

// envCredentials reads the stdio-style KBC_* variables for --auth none.
func envCredentials(getenv func(string) string, log *slog.Logger) (keboola.Credentials, error) {
	token := getenv("KBC_STORAGE_TOKEN")
	if token == "" {
		return keboola.Credentials{}, errors.New("--auth none needs KBC_STORAGE_TOKEN (and KBC_STORAGE_API_URL unless the project is on " + defaultStackURL + ")")
	}
	stack := getenv("KBC_STORAGE_API_URL")
	if stack == "" {
		stack = defaultStackURL
	}
	n, err := stackFromEnv(stack, log)
	if err != nil {
		return keboola.Credentials{}, err
	}
	return keboola.Credentials{StackURL: n, StorageToken: keboola.Secret(token), BranchID: access.NormalizeBranchID(getenv("KBC_BRANCH_ID")), WorkspaceSchema: getenv("KBC_WORKSPACE_SCHEMA")}, nil
}

// sweep deletes expired codes, tokens and states every ten minutes.
func sweep(ctx context.Context, st store.Store, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := st.Sweep(ctx, time.Now()); err != nil {
				log.Error("sweeping expired tokens failed", "err", err)
			} else if n > 0 {
				log.Debug("swept expired records", "count", n)
			}
		}
	}
}
