package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestServe_RefusesUnsafeConfigurations(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "x.db")
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no secret beyond loopback", []string{"--addr", "0.0.0.0:0", "--public-url", "https://mcp.example.com", "--store", db}, nil, "KEBOOLA_MCP_SECRET"},
		{"short secret", []string{"--store", db}, map[string]string{"KEBOOLA_MCP_SECRET": "short"}, "at least 32"},
		{"no public URL beyond loopback", []string{"--addr", ":0"}, nil, "--public-url is required"},
		{"auth none beyond loopback", []string{"--addr", "0.0.0.0:0", "--public-url", "https://mcp.example.com", "--auth", "none"}, map[string]string{"KBC_STORAGE_TOKEN": "t"}, "only on a loopback"},
		{"unknown auth mode from env", []string{"--store", db}, map[string]string{"KEBOOLA_MCP_AUTH": "basic"}, `--auth "basic"`},
		{"plain http public URL beyond loopback", []string{"--addr", "0.0.0.0:0", "--public-url", "http://mcp.example.com", "--store", db}, map[string]string{"KEBOOLA_MCP_SECRET": strings.Repeat("x", 32)}, "must use https"},
		{"half a Keboola OAuth client", []string{"--store", db}, map[string]string{"KBC_OAUTH_CLIENT_ID": "id"}, "both KBC_OAUTH_CLIENT_ID"},
		{"proxy without its secret", []string{"--auth", "proxy"}, nil, "KEBOOLA_MCP_PROXY_SECRET"},
		{"header auth beyond loopback without a trusted gateway", []string{"--addr", "0.0.0.0:0", "--public-url", "https://mcp.example.com", "--auth", "headers"}, nil, "--trusted-gateway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := serveMain(context.Background(), tc.args, io.Discard, envOf(tc.env), func(string) { t.Fatal("the server started") })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// startServe runs serve until the test ends and returns its base URL.
func startServe(t *testing.T, args []string, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serveMain(ctx, args, io.Discard, envOf(env), func(a string) { addr <- a }) }()
	select {
	case a := <-addr:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
		return "http://" + a
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v", err)
	}
	return ""
}

func TestServe_LoopbackGeneratesAndKeepsSecret(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	args := []string{"--addr", "127.0.0.1:0", "--public-url", "http://127.0.0.1:1", "--store", "sqlite:" + db}
	base := startServe(t, args, nil)
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	fi, err := os.Stat(db + ".secret")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", fi.Mode().Perm())
	}
	first, _ := os.ReadFile(db + ".secret")
	s, err := localSecret(db+".secret", nil)
	if err != nil || string(s)+"\n" != string(first) {
		t.Errorf("the secret is not reused: %q vs %q (%v)", s, first, err)
	}
}

func TestServe_AuthNoneServesEnvCredentialsOnLoopback(t *testing.T) {
	base := startServe(t, []string{"--addr", "127.0.0.1:0", "--auth", "none"}, map[string]string{"KBC_STORAGE_TOKEN": "tok", "KBC_STORAGE_API_URL": "http://127.0.0.1:9"})
	req, _ := http.NewRequest("POST", base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("ping without a token under --auth none: %d", resp.StatusCode)
	}
}

func TestServe_BehindReverseProxyOnLoopback_HostChecked(t *testing.T) {
	base := startServe(t, []string{"--addr", "127.0.0.1:0", "--auth", "none", "--public-url", "https://mcp.example.com"},
		map[string]string{"KBC_STORAGE_TOKEN": "tok", "KBC_STORAGE_API_URL": "http://127.0.0.1:9"})
	cases := []struct {
		host string
		want int
	}{
		{"mcp.example.com", http.StatusOK},                // the public host, as a reverse proxy forwards it
		{"127.0.0.1", http.StatusOK},                      // local clients
		{"rebind.attacker.example", http.StatusForbidden}, // a DNS-rebinding page
	}
	c := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range cases {
		req, _ := http.NewRequest("POST", base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Host = tc.host
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Host %s: status %d, want %d", tc.host, resp.StatusCode, tc.want)
		}
	}
}

// /metrics is served only on --metrics-addr: on the public listener a
// reverse proxy would hand it to anyone (every proxied request is local).
func TestServe_MetricsOnlyOnMetricsAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	base := startServe(t, []string{"--addr", "127.0.0.1:0", "--auth", "none", "--metrics-addr", metricsAddr},
		map[string]string{"KBC_STORAGE_TOKEN": "tok", "KBC_STORAGE_API_URL": "http://127.0.0.1:9"})
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the public listener: %d, want 404", resp.StatusCode)
	}
	resp, err = c.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "keboola_mcp_uptime_seconds") {
		t.Errorf("/metrics on --metrics-addr: %d %s", resp.StatusCode, b)
	}
}

// With --trusted-gateway the operator vouches for the network: header mode
// then serves beyond loopback (here on every interface, asked on loopback).
func TestServe_HeaderAuthBeyondLoopbackWithATrustedGateway(t *testing.T) {
	base := startServe(t, []string{"--addr", "0.0.0.0:0", "--public-url", "https://mcp.example.com", "--auth", "headers", "--trusted-gateway"}, nil)
	base = strings.Replace(base, "0.0.0.0", "127.0.0.1", 1)
	req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Host = "mcp.example.com"
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "X-StorageApi-Token") {
		t.Errorf("no token: status %d %s, want 401 naming the header", resp.StatusCode, body)
	}
}
