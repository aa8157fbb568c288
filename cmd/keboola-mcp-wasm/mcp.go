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
	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

// The MCP server itself: left out of the proxyonly build (see
// mcp_proxyonly.go), which the Worker uses when it forwards MCP to a native
// server and only needs Go for the login.

// requestTimeout bounds one MCP request; Workers stop a request long before
// a runaway call would matter, this keeps Go from waiting on it forever.
const requestTimeout = 120 * time.Second

// mcpBridge serves handle() and toolGates() with one server per resource
// metadata URL (the Worker's origin decides it).
type mcpBridge struct {
	*bridge
	mu      sync.Mutex
	servers map[string]*mcpServer
}

type mcpServer struct {
	srv     *mcpserver.Server
	handler http.Handler
}

// exportMCP adds handle(request, access), toolGates(access) and
// prepare(access) to the exports.
func (b *bridge) exportMCP(api js.Value) {
	m := &mcpBridge{bridge: b, servers: map[string]*mcpServer{}}
	api.Set("handle", js.FuncOf(m.handle))
	api.Set("toolGates", js.FuncOf(m.toolGates))
	api.Set("prepare", js.FuncOf(m.prepare))
}

// server returns the server for a resource metadata URL, building it on
// first use: tool schemas are resolved once per isolate, not per request.
func (b *mcpBridge) server(resourceMetadataURL string) (*mcpServer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.servers[resourceMetadataURL]; ok {
		return s, nil
	}
	opts := mcpserver.WorkerOptions(b.version)
	opts.ResourceMetadataURL = resourceMetadataURL
	opts.Client = b.client
	srv, err := mcpserver.New(opts)
	if err != nil {
		return nil, err
	}
	s := &mcpServer{srv: srv, handler: srv.StreamableHandler()}
	b.servers[resourceMetadataURL] = s
	return s, nil
}

// handle implements keboolaMCP.handle(request, access). The answer carries,
// as gate, the key of the tool gate the request was served with, when it
// resolved one: the Worker answers the grant's later tools/list from it.
func (b *mcpBridge) handle(_ js.Value, args []js.Value) any {
	return promise(func(ctx context.Context) (any, error) {
		if len(args) != 2 {
			return nil, errors.New("handle(request, access) takes two arguments")
		}
		req, err := decodeRequest(args[0])
		if err != nil {
			return nil, err
		}
		a, s, err := b.session(args[1])
		if err != nil {
			return nil, err
		}
		// The answer does not wait for the tool call's audit event: the
		// Worker runs it after answering (after(), a call of its own).
		var later tools.AfterAnswer
		ctx, cancel := context.WithTimeout(tools.WithAfterAnswer(access.With(ctx, a), &later), requestTimeout)
		defer cancel()
		ctx, report := mcpserver.WithGateReport(ctx)
		rec := mcpserver.NewRecorder()
		s.handler.ServeHTTP(rec, req.WithContext(ctx))
		out := responseToJS(rec)
		if key := report.Key(); key != "" {
			out.Set("gate", key)
		}
		if later.Pending() {
			out.Set("after", runLater(&later))
		}
		return out, nil
	})
}

// runLater returns after(), which runs the work a request left for after
// its answer and returns a Promise settled when it is done. It works once:
// the Worker calls it as a call of its own (gohost.ts), so the work's
// Keboola requests run in a request context that is still alive.
func runLater(later *tools.AfterAnswer) js.Func {
	var after js.Func
	after = js.FuncOf(func(js.Value, []js.Value) any {
		after.Release()
		return promise(func(ctx context.Context) (any, error) {
			later.Run(ctx)
			return nil, nil
		})
	})
	return after
}

// toolGates implements keboolaMCP.toolGates(access): the tool gate keys of
// the session under either scope, {full, read}, for the Worker to store in
// a grant at login (see mcpserver.Server.GateKey). access.readOnly is
// ignored.
func (b *mcpBridge) toolGates(_ js.Value, args []js.Value) any {
	return b.withSession("toolGates", args, func(ctx context.Context, s *mcpServer, a access.Access) (any, error) {
		out := map[string]any{}
		for name, readOnly := range map[string]bool{"full": false, "read": true} {
			a.ReadOnly = readOnly
			key, err := s.srv.GateKey(access.With(ctx, a))
			if err != nil {
				return nil, err
			}
			out[name] = key
		}
		return out, nil
	})
}

// prepare implements keboolaMCP.prepare(access): it does ahead of time what
// the session's first tool call would otherwise do first (build the server
// and the tool set of its scope, verify the token and learn the project's
// facts) and returns the session's tool gate key, or "" when the facts could
// not be learnt: the first call will then say why.
func (b *mcpBridge) prepare(_ js.Value, args []js.Value) any {
	return b.withSession("prepare", args, func(ctx context.Context, s *mcpServer, a access.Access) (any, error) {
		s.srv.Prepare(a.ReadOnly)
		key, err := s.srv.GateKey(access.With(ctx, a))
		if err != nil {
			return "", nil
		}
		return key, nil
	})
}

// withSession runs fn for an export that takes one access object, with the
// server of its resource metadata URL, bounded by requestTimeout.
func (b *mcpBridge) withSession(name string, args []js.Value, fn func(context.Context, *mcpServer, access.Access) (any, error)) js.Value {
	return promise(func(ctx context.Context) (any, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("%s(access) takes one argument", name)
		}
		a, s, err := b.session(args[0])
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		return fn(ctx, s, a)
	})
}

// session decodes an export's access argument and finds the server of its
// resource metadata URL.
func (b *mcpBridge) session(jsAccess js.Value) (access.Access, *mcpServer, error) {
	a, rmURL, err := decodeAccess(jsAccess)
	if err != nil {
		return access.Access{}, nil, err
	}
	s, err := b.server(rmURL)
	return a, s, err
}

// decodeRequest turns handle's first argument into an HTTP request.
func decodeRequest(jsReq js.Value) (*http.Request, error) {
	if jsReq.Type() != js.TypeObject {
		return nil, errors.New("handle: request must be an object")
	}
	method, target := stringField(jsReq, "method"), stringField(jsReq, "url")
	if method == "" || target == "" || target[0] != '/' {
		return nil, errors.New("handle: request.method and request.url (a path) are required")
	}
	var body []byte
	if jb := jsReq.Get("body"); jb.Type() == js.TypeObject && jb.InstanceOf(js.Global().Get("Uint8Array")) {
		body = make([]byte, jb.Get("length").Int())
		js.CopyBytesToGo(body, jb)
	}
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("handle: %w", err)
	}
	req.RequestURI = target
	if hs := jsReq.Get("headers"); hs.Type() == js.TypeObject {
		for i := range hs.Length() {
			pair := hs.Index(i)
			req.Header.Add(pair.Index(0).String(), pair.Index(1).String())
		}
	}
	return req, nil
}

// decodeAccess turns a JavaScript access object into an Access and the
// resource metadata URL.
func decodeAccess(jsAccess js.Value) (access.Access, string, error) {
	if jsAccess.Type() != js.TypeObject {
		return access.Access{}, "", errors.New("access must be an object")
	}
	stack, token := stringField(jsAccess, "stackURL"), stringField(jsAccess, "token")
	if stack == "" || token == "" {
		return access.Access{}, "", errors.New("access.stackURL and access.token are required")
	}
	a := access.Access{
		// oauthToken is the Keboola OAuth bearer of a "Sign in with
		// Keboola" grant, while it lasts (see Credentials.OAuthToken).
		Credentials: keboola.Credentials{StackURL: stack, StorageToken: keboola.Secret(token),
			OAuthToken: keboola.Secret(stringField(jsAccess, "oauthToken"))},
		// Anything but an explicit false is read-only: a missing flag must not grant writes.
		ReadOnly: !(jsAccess.Get("readOnly").Type() == js.TypeBoolean && !jsAccess.Get("readOnly").Bool()),
	}
	return a, stringField(jsAccess, "resourceMetadataURL"), nil
}
