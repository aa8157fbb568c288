//go:build js && wasm

package main

import (
	"context"
	"errors"
	"net/http"
	"syscall/js"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/login"
)

// bridge turns JavaScript calls into Go calls: the MCP handler (mcp.go)
// and the login helpers.
type bridge struct {
	version string
	// clientHTTP sends every outgoing request (through fetch).
	clientHTTP http.Client
	client     keboola.Options
}

func newBridge(version string) *bridge {
	b := &bridge{
		version:    version,
		clientHTTP: http.Client{Transport: hostTransport{}, Timeout: 60 * time.Second},
	}
	b.client = keboola.Options{HTTPClient: &b.clientHTTP, UserAgent: "keboola-mcp-worker/" + version}
	return b
}

// verifyToken implements keboolaMCP.verifyToken(stackURL, token): it asks
// the stack who the token is and answers with facts about it, never the
// token itself.
func (b *bridge) verifyToken(_ js.Value, args []js.Value) any {
	return promise(func(ctx context.Context) (any, error) {
		if len(args) != 2 || args[0].Type() != js.TypeString || args[1].Type() != js.TypeString {
			return nil, errors.New("verifyToken(stackURL, token) takes two strings")
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		info, err := keboola.VerifyToken(ctx, args[0].String(), keboola.Secret(args[1].String()), b.client)
		if err != nil {
			return map[string]any{
				"ok":           false,
				"invalidToken": errors.Is(err, keboola.ErrInvalidToken),
				"error":        err.Error(),
				// The login page's words, as the native server shows them.
				"message": login.ExplainTokenError(args[0].String(), err).Error(),
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

func stringField(v js.Value, name string) string {
	f := v.Get(name)
	if f.Type() != js.TypeString {
		return ""
	}
	return f.String()
}

// promise runs fn on its own goroutine (it may wait on fetch, which needs
// the event loop free) and settles a JavaScript Promise with its result. fn's
// context names the Worker call entering Go, for hostTransport; the host
// hears when the call is settled, so the call's request can go on at once.
func promise(fn func(ctx context.Context) (any, error)) js.Value {
	call := enteringCall()
	ctx := context.WithValue(context.Background(), callKey{}, call)
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		executor.Release()
		go func() {
			v, err := fn(ctx)
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
			} else {
				resolve.Invoke(v)
			}
			host().Call("settled", call)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}
