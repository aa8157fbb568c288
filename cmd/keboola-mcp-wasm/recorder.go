//go:build js && wasm

package main

import (
	"bytes"
	"net/http"
	"syscall/js"
)

// recorder is the http.ResponseWriter handed to the MCP handler: the Worker
// needs the whole response at once (the handler runs in JSON-response mode,
// so there is no stream to forward).
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

// Flush lets handlers that flush work; everything is sent at the end anyway.
func (r *recorder) Flush() {}

func (r *recorder) toJS() js.Value {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	headers := js.Global().Get("Array").New()
	for name, values := range r.header {
		for _, v := range values {
			headers.Call("push", js.ValueOf([]any{name, v}))
		}
	}
	body := js.Global().Get("Uint8Array").New(r.body.Len())
	js.CopyBytesToJS(body, r.body.Bytes())
	out := js.Global().Get("Object").New()
	out.Set("status", status)
	out.Set("headers", headers)
	out.Set("body", body)
	return out
}
