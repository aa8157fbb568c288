package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/cliflags"
)

// startDevStack runs devStackMain with args until the test ends and
// returns the variables it printed; stop cancels it and fails the test
// unless it then returns nil.
func startDevStack(t *testing.T, args ...string) (vars map[string]string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- devStackMain(ctx, args, pw, io.Discard, func(string) string { return "" })
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	vars = map[string]string{}
	for len(vars) < 2 && sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		vars[k] = v
	}
	return vars, func() {
		t.Helper()
		cancel()
		go io.Copy(io.Discard, pr) //nolint:errcheck // drain until the pipe closes
		if err := <-done; err != nil {
			t.Fatalf("dev-stack returned %v after cancellation, want nil", err)
		}
	}
}

// verifyToken answers the stack's token verification for the printed token.
func verifyToken(t *testing.T, vars map[string]string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", vars["KBC_STORAGE_API_URL"]+"/v2/storage/tokens/verify", nil)
	req.Header.Set("X-StorageApi-Token", vars["KBC_STORAGE_TOKEN"])
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify with the printed token: status %d", resp.StatusCode)
	}
	var info map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	return info
}

func TestDevStack_PrintsURLAndTokenThenServesUntilCancelled(t *testing.T) {
	vars, stop := startDevStack(t, "--addr", "127.0.0.1:0", "--token", "dev-token-1")
	if vars["KBC_STORAGE_TOKEN"] != "dev-token-1" {
		t.Fatalf("printed token %q, want the --token value", vars["KBC_STORAGE_TOKEN"])
	}
	if !strings.HasPrefix(vars["KBC_STORAGE_API_URL"], "http://127.0.0.1:") {
		t.Fatalf("printed URL %q, want the loopback listener", vars["KBC_STORAGE_API_URL"])
	}
	if backend := verifyToken(t, vars)["owner"].(map[string]any)["defaultBackend"]; backend != "snowflake" {
		t.Errorf("default backend %v, want snowflake by default", backend)
	}
	stop()
}

// --backend bigquery serves a BigQuery project, whose Query Service speaks
// GoogleSQL (fakestack/bigsql.go).
func TestDevStack_BigQueryBackend(t *testing.T) {
	vars, stop := startDevStack(t, "--addr", "127.0.0.1:0", "--backend", "bigquery")
	if backend := verifyToken(t, vars)["owner"].(map[string]any)["defaultBackend"]; backend != "bigquery" {
		t.Errorf("default backend %v, want bigquery", backend)
	}
	stop()
}

func TestDevStack_RejectsBadFlags(t *testing.T) {
	cases := map[string][]string{
		"non-loopback address":   {"--addr", "0.0.0.0:8765"},
		"public host":            {"--addr", "example.com:80"},
		"oauth client no colon":  {"--addr", "127.0.0.1:0", "--oauth-client", "abc"},
		"oauth client no secret": {"--addr", "127.0.0.1:0", "--oauth-client", "abc:"},
		"public url with path":   {"--addr", "127.0.0.1:0", "--public-url", "http://h:1/x"},
		"public url not http":    {"--addr", "127.0.0.1:0", "--public-url", "ftp://h"},
		"unmodelled backend":     {"--addr", "127.0.0.1:0", "--backend", "redshift"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			var stderr strings.Builder
			err := devStackMain(context.Background(), args, io.Discard, &stderr, func(string) string { return "" })
			if err != cliflags.ErrUsage {
				t.Fatalf("err = %v, want cliflags.ErrUsage", err)
			}
			if stderr.Len() == 0 {
				t.Error("no explanation printed on stderr")
			}
		})
	}
}

func TestDevStack_AdvertisesThePublicURL(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- devStackMain(ctx, []string{"--addr", "127.0.0.1:0", "--public-url", "http://demo.internal:8765"}, pw, io.Discard, func(string) string { return "" })
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	if !sc.Scan() || sc.Text() != "KBC_STORAGE_API_URL=http://demo.internal:8765" {
		t.Errorf("first line %q, want the public URL", sc.Text())
	}
	cancel()
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain until the pipe closes
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCheckDevAddr_AllowsLoopbackAndOptInRemote(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:1", "[::1]:1", "localhost:1"} {
		if err := checkDevAddr(addr, false); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	if err := checkDevAddr("0.0.0.0:1", true); err != nil {
		t.Errorf("--allow-remote: %v", err)
	}
}
