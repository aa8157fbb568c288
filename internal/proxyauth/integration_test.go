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
	native, signer := verifiedNative(t)
	post := func(body string, scopes []string, sign bool) (*http.Response, string) {
		t.Helper()
		r := mcpRequest(t, native, body)
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

// TestMiddleware_ForwardedBearerReachesKeboolaAsTheMember is a "Sign in with
// Keboola" session through the Worker: the Storage token is the one minted
// at sign-in, which lacks the member's admin context; the signed bearer
// carries it. The fake stack's Scheduler, like Keboola's, answers only an
// admin context (fakestack/scheduler.go), and the tools offer modify_flow to
// an OAuth session (mcpserver/gating.go), so both show whether the bearer
// arrived.
func TestMiddleware_ForwardedBearerReachesKeboolaAsTheMember(t *testing.T) {
	stack := fakestacktest.NewServer(t, fakestack.Options{})
	minted := keboola.Secret(stack.AddToken(fakestack.TokenOptions{Description: "minted at sign-in", CanManageBuckets: true}))
	bearer, err := stack.SignIn(stack.MasterToken())
	if err != nil {
		t.Fatal(err)
	}
	native, signer := verifiedNative(t)
	post := func(body string, oauthToken keboola.Secret) string {
		t.Helper()
		r := mcpRequest(t, native, body)
		f := proxyauth.Forwarded{StackURL: stack.URL(), Token: minted, Scopes: []string{access.ScopeRead, access.ScopeWrite}, OAuthToken: oauthToken}
		if err := signer.Sign(r, []byte(body), f); err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", res.StatusCode, b)
		}
		return string(b)
	}
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	schedules := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_flows","arguments":{"flow_ids":["7410030"]}}}`

	if body := post(list, keboola.Secret(bearer)); !strings.Contains(body, `"modify_flow"`) {
		t.Errorf("with the bearer, tools/list lacks modify_flow: %.300s", body)
	}
	if body := post(schedules, keboola.Secret(bearer)); !strings.Contains(body, `0 2 * * *`) {
		t.Errorf("with the bearer, the flow's schedule is missing: %.600s", body)
	}
	// The minted token alone: no admin context, so neither.
	if body := post(list, ""); strings.Contains(body, `"modify_flow"`) {
		t.Errorf("without the bearer, tools/list offers modify_flow: %.300s", body)
	}
	if body := post(schedules, ""); strings.Contains(body, `0 2 * * *`) {
		t.Errorf("without the bearer, the Scheduler answered the minted token: %.600s", body)
	}
}

// verifiedNative serves the real MCP handler behind the verifier, as `serve
// --auth proxy` does, and returns its URL and a signer with the same secret.
func verifiedNative(t *testing.T) (string, *proxyauth.Signer) {
	t.Helper()
	srv, err := mcpserver.New(mcpserver.Options{ResourceMetadataURL: "https://worker.example/.well-known/oauth-protected-resource/mcp"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := proxyauth.NewVerifier([]byte(secret), proxyauth.VerifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	native := httptest.NewServer(v.Middleware(srv.StreamableHandler(), func(ctx context.Context, f proxyauth.Forwarded) context.Context {
		return access.With(ctx, access.Access{Credentials: f.Credentials(), ReadOnly: f.ReadOnly()})
	}))
	t.Cleanup(native.Close)
	signer, err := proxyauth.NewSigner([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return native.URL, signer
}

// mcpRequest is an unsigned MCP POST of body to the server at url.
func mcpRequest(t *testing.T, url, body string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, url+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	return r
}
