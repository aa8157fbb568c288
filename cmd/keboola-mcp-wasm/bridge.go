//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"syscall/js"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/mcpserver"
)

// requestTimeout bounds one MCP request; Workers stop a request long before
// a runaway call would matter, this keeps Go from waiting on it forever.
const requestTimeout = 120 * time.Second

// bridge turns JavaScript calls into Go calls on the MCP handler.
type bridge struct {
	version string
	// clientHTTP sends every outgoing request (through fetch).
	clientHTTP http.Client
	client     keboola.Options

	mu       sync.Mutex
	handlers map[string]http.Handler // by resource metadata URL
}

func newBridge(version string) *bridge {
	b := &bridge{
		version:    version,
		clientHTTP: http.Client{Transport: manualRedirects{http.DefaultTransport}, Timeout: 60 * time.Second},
		handlers:   map[string]http.Handler{},
	}
	b.client = keboola.Options{HTTPClient: &b.clientHTTP, UserAgent: "keboola-mcp-worker/" + version}
	return b
}

// handler returns the Streamable HTTP handler for a resource metadata URL
// (the Worker's origin decides it), building the server on first use: tool
// schemas are resolved once per isolate, not per request.
func (b *bridge) handler(resourceMetadataURL string) (http.Handler, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if h, ok := b.handlers[resourceMetadataURL]; ok {
		return h, nil
	}
	opts := mcpserver.WorkerOptions(b.version)
	opts.ResourceMetadataURL = resourceMetadataURL
	opts.Client = b.client
	srv, err := mcpserver.New(opts)
	if err != nil {
		return nil, err
	}
	h := srv.StreamableHandler()
	b.handlers[resourceMetadataURL] = h
	return h, nil
}

// handle implements keboolaMCP.handle(request, access).
func (b *bridge) handle(_ js.Value, args []js.Value) any {
	return promise(func() (any, error) {
		if len(args) != 2 {
			return nil, errors.New("handle(request, access) takes two arguments")
		}
		req, a, rmURL, err := decodeCall(args[0], args[1])
		if err != nil {
			return nil, err
		}
		h, err := b.handler(rmURL)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(access.With(context.Background(), a), requestTimeout)
		defer cancel()
		rec := mcpserver.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(ctx))
		return responseToJS(rec), nil
	})
}

// verifyToken implements keboolaMCP.verifyToken(stackURL, token): it asks
// the stack who the token is and answers with facts about it, never the
// token itself.
func (b *bridge) verifyToken(_ js.Value, args []js.Value) any {
	return promise(func() (any, error) {
		if len(args) != 2 || args[0].Type() != js.TypeString || args[1].Type() != js.TypeString {
			return nil, errors.New("verifyToken(stackURL, token) takes two strings")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		info, err := keboola.VerifyToken(ctx, args[0].String(), keboola.Secret(args[1].String()), b.client)
		if err != nil {
			return map[string]any{
				"ok":           false,
				"invalidToken": errors.Is(err, keboola.ErrInvalidToken),
				"error":        err.Error(),
			}, nil
		}
		return map[string]any{"ok": true, "token": tokenFacts(info)}, nil
	})
}

// tokenFacts describes a token for the Worker, without its secret.
func tokenFacts(info *keboola.TokenInfo) map[string]any {
	return map[string]any{
		"id":               info.ID.String(),
		"description":      info.Description,
		"isMasterToken":    info.IsMasterToken,
		"canManageBuckets": info.CanManageBuckets,
		"projectId":        info.Owner.ID.String(),
		"projectName":      info.Owner.Name,
	}
}

// decodeCall turns handle's arguments into an HTTP request and an Access.
func decodeCall(jsReq, jsAccess js.Value) (*http.Request, access.Access, string, error) {
	var none access.Access
	if jsReq.Type() != js.TypeObject || jsAccess.Type() != js.TypeObject {
		return nil, none, "", errors.New("handle: request and access must be objects")
	}
	method, target := stringField(jsReq, "method"), stringField(jsReq, "url")
	if method == "" || target == "" || target[0] != '/' {
		return nil, none, "", errors.New("handle: request.method and request.url (a path) are required")
	}
	var body []byte
	if jb := jsReq.Get("body"); jb.Type() == js.TypeObject && jb.InstanceOf(js.Global().Get("Uint8Array")) {
		body = make([]byte, jb.Get("length").Int())
		js.CopyBytesToGo(body, jb)
	}
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		return nil, none, "", fmt.Errorf("handle: %w", err)
	}
	req.RequestURI = target
	if hs := jsReq.Get("headers"); hs.Type() == js.TypeObject {
		for i := range hs.Length() {
			pair := hs.Index(i)
			req.Header.Add(pair.Index(0).String(), pair.Index(1).String())
		}
	}
	stack, token := stringField(jsAccess, "stackURL"), stringField(jsAccess, "token")
	if stack == "" || token == "" {
		return nil, none, "", errors.New("handle: access.stackURL and access.token are required")
	}
	a := access.Access{
		// oauthToken is the Keboola OAuth bearer of a "Sign in with
		// Keboola" grant, while it lasts (see Credentials.OAuthToken).
		Credentials: keboola.Credentials{StackURL: stack, StorageToken: keboola.Secret(token),
			OAuthToken: keboola.Secret(stringField(jsAccess, "oauthToken"))},
		// Anything but an explicit false is read-only: a missing flag must not grant writes.
		ReadOnly: !(jsAccess.Get("readOnly").Type() == js.TypeBoolean && !jsAccess.Get("readOnly").Bool()),
	}
	return req, a, stringField(jsAccess, "resourceMetadataURL"), nil
}

func stringField(v js.Value, name string) string {
	f := v.Get(name)
	if f.Type() != js.TypeString {
		return ""
	}
	return f.String()
}

// promise runs fn on its own goroutine (it may wait on fetch, which needs
// the event loop free) and settles a JavaScript Promise with its result.
func promise(fn func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		executor.Release()
		go func() {
			v, err := fn()
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}

// manualRedirects makes fetch hand redirects back instead of following them:
// a followed redirect would carry the X-StorageApi-Token header to wherever
// it points. The keboola client then treats the 3xx as the final answer, as
// it does natively.
type manualRedirects struct{ base http.RoundTripper }

func (t manualRedirects) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("js.fetch:redirect", "manual")
	return t.base.RoundTrip(r)
}
