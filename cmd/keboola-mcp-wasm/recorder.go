//go:build js && wasm && !proxyonly

package main

import (
	"syscall/js"

	"github.com/keboola-mcp/keboola-mcp/internal/mcpserver"
)

// responseToJS hands a recorded answer to the Worker as {status, headers, body}.
func responseToJS(r *mcpserver.Recorder) js.Value {
	headers := js.Global().Get("Array").New()
	for name, values := range r.Header() {
		for _, v := range values {
			headers.Call("push", js.ValueOf([]any{name, v}))
		}
	}
	body := js.Global().Get("Uint8Array").New(r.Body.Len())
	js.CopyBytesToJS(body, r.Body.Bytes())
	out := js.Global().Get("Object").New()
	out.Set("status", r.StatusCode())
	out.Set("headers", headers)
	out.Set("body", body)
	return out
}
