package proxyauth_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
	"github.com/keboola-mcp/keboola-mcp/internal/mcpserver"
	"github.com/keboola-mcp/keboola-mcp/internal/proxyauth"
)

const secret = "integration-secret-0123456789abcdef-xyz"

// TestMiddleware_ServesTheMCPHandlerWithForwardedCredentials runs the
// verifier in front of the real MCP handler against the fake stack, as
// `serve --auth proxy` does.
func TestMiddleware_ServesTheMCPHandlerWithForwardedCredentials(t *testing.T) {
	stack := fakestacktest.NewServer(t, fakestack.Options{MasterToken: "master-token-123"})
	srv, err := mcpserver.New(mcpserver.Options{ResourceMetadataURL: "https://worker.example/.well-known/oauth-protected-resource/mcp"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := proxyauth.NewVerifier([]byte(secret), proxyauth.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := v.Middleware(srv.StreamableHandler(), func(ctx context.Context, f proxyauth.Forwarded) context.Context {
		return access.With(ctx, access.Access{Credentials: f.Credentials(), ReadOnly: f.ReadOnly()})
	})
	native := httptest.NewServer(h)
	defer native.Close()
	signer, err := proxyauth.NewSigner([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}

	post := func(body string, scopes []string, sign bool) (*http.Response, string) {
		t.Helper()
		r, err := http.NewRequest(http.MethodPost, native.URL+"/mcp", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "application/json, text/event-stream")
		f := proxyauth.Forwarded{StackURL: stack.URL(), Token: keboola.Secret("master-token-123"), Scopes: scopes}
		if sign {
			if err := signer.Sign(r, []byte(body), f); err != nil {
				t.Fatal(err)
			}
		} else {
			r.Header.Set(proxyauth.HeaderStack, f.StackURL)
			r.Header.Set(proxyauth.HeaderToken, f.Token.Reveal())
		}
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	all := []string{access.ScopeRead, access.ScopeWrite}
	if res, body := post(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_buckets","arguments":{}}}`, all, true); res.StatusCode != 200 || !strings.Contains(body, "in.c-crm") {
		t.Fatalf("signed tool call: %d %s", res.StatusCode, body)
	}
	write := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"update_project_description","arguments":{"description":"x"}}}`
	res, body := post(write, []string{access.ScopeRead}, true)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Fatalf("read-only write call: %d %q %s", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
	}
	if res, body := post(`{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, all, false); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned: %d %s", res.StatusCode, body)
	}
}
