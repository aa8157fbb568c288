package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/cliflags"
)

func TestDevStack_PrintsURLAndTokenThenServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- devStackMain(ctx, []string{"--addr", "127.0.0.1:0", "--token", "dev-token-1"}, pw, io.Discard, func(string) string { return "" })
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	vars := map[string]string{}
	for len(vars) < 2 && sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		vars[k] = v
	}
	if vars["KBC_STORAGE_TOKEN"] != "dev-token-1" {
		t.Fatalf("printed token %q, want the --token value", vars["KBC_STORAGE_TOKEN"])
	}
	if !strings.HasPrefix(vars["KBC_STORAGE_API_URL"], "http://127.0.0.1:") {
		t.Fatalf("printed URL %q, want the loopback listener", vars["KBC_STORAGE_API_URL"])
	}
	req, _ := http.NewRequest("GET", vars["KBC_STORAGE_API_URL"]+"/v2/storage/tokens/verify", nil)
	req.Header.Set("X-StorageApi-Token", "dev-token-1")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify with the printed token: status %d", resp.StatusCode)
	}
	cancel()
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain until the pipe closes
	if err := <-done; err != nil {
		t.Fatalf("dev-stack returned %v after cancellation, want nil", err)
	}
}

func TestDevStack_RejectsBadFlags(t *testing.T) {
	cases := map[string][]string{
		"non-loopback address":   {"--addr", "0.0.0.0:8765"},
		"public host":            {"--addr", "example.com:80"},
		"oauth client no colon":  {"--addr", "127.0.0.1:0", "--oauth-client", "abc"},
		"oauth client no secret": {"--addr", "127.0.0.1:0", "--oauth-client", "abc:"},
		"public url with path":   {"--addr", "127.0.0.1:0", "--public-url", "http://h:1/x"},
		"public url not http":    {"--addr", "127.0.0.1:0", "--public-url", "ftp://h"},
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
