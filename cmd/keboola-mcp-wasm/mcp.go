//go:build js && wasm && !proxyonly

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

// The MCP server itself: left out of the proxyonly build (see
// mcp_proxyonly.go), which the Worker uses when it forwards MCP to a native
// server and only needs Go for the login.

// requestTimeout bounds one MCP request; Workers stop a request long before
// a runaway call would matter, this keeps Go from waiting on it forever.
const requestTimeout = 120 * time.Second

// mcpBridge serves handle() with the Streamable HTTP handlers, one per
// resource metadata URL.
type mcpBridge struct {
	*bridge
	mu       sync.Mutex
	handlers map[string]http.Handler
}

// exportMCP adds handle(request, access) to the exports.
func (b *bridge) exportMCP(api js.Value) {
	m := &mcpBridge{bridge: b, handlers: map[string]http.Handler{}}
	api.Set("handle", js.FuncOf(m.handle))
}

// handler returns the Streamable HTTP handler for a resource metadata URL
// (the Worker's origin decides it), building the server on first use: tool
// schemas are resolved once per isolate, not per request.
func (b *mcpBridge) handler(resourceMetadataURL string) (http.Handler, error) {
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
func (b *mcpBridge) handle(_ js.Value, args []js.Value) any {
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
