//go:build js && wasm

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"syscall/js"
)

// The Worker's host (worker/src/gohost.ts) runs every outgoing request of a
// Worker call in that call's own request context.
//
// Workers tie a request's pending I/O and timers to the request context that
// started them and drop them when that request ends. Go's own js transport
// calls fetch from whichever request happens to be running Go at that moment,
// which under concurrency is often another request: when that one ended first,
// the Keboola call died with it and its caller was cancelled as hung. So every
// Go entry for a call names the call (host.entering), the call travels in the
// context, and hostTransport hands each request to the host by call id; the
// host fetches in the call's context and delivers the answer back into Go
// from there.

// host is globalThis.keboolaMCPHost, set by the Worker before it starts Go.
func host() js.Value { return js.Global().Get("keboolaMCPHost") }

type callKey struct{}

// enteringCall is the id of the Worker call entering Go right now; the host
// sets it around each call of an export.
func enteringCall() int {
	v := host().Get("entering")
	if v.Type() != js.TypeNumber {
		return 0
	}
	return v.Int()
}

// hostTransport sends requests through the host, in the request context of
// the Worker call named by the request's context. Redirects come back as
// they are (fetch's redirect: "manual"): a followed redirect would carry the
// X-StorageApi-Token header to wherever it points, and the keboola client
// treats a 3xx as the final answer, as it does natively.
type hostTransport struct{}

type hostAnswer struct {
	res *http.Response
	err error
}

func (hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	call, ok := r.Context().Value(callKey{}).(int)
	if !ok || call == 0 {
		return nil, errors.New("an outgoing request outside a Worker call")
	}
	var body js.Value = js.Null()
	if r.Body != nil {
		data, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		if len(data) > 0 {
			body = js.Global().Get("Uint8Array").New(len(data))
			js.CopyBytesToJS(body, data)
		}
	}
	headers := js.Global().Get("Array").New()
	for name, values := range r.Header {
		for _, v := range values {
			headers.Call("push", js.ValueOf([]any{name, v}))
		}
	}
	answered := make(chan hostAnswer, 1)
	var deliver js.Func
	deliver = js.FuncOf(func(_ js.Value, args []js.Value) any {
		deliver.Release()
		answered <- decodeHostAnswer(r, args)
		return nil
	})
	host().Call("fetch", call, r.Method, r.URL.String(), headers, body, deliver)
	select {
	case a := <-answered:
		return a.res, a.err
	case <-r.Context().Done():
		// The host still delivers, into the buffered channel, and releases nothing else.
		return nil, r.Context().Err()
	}
}

// decodeHostAnswer reads deliver(error) or deliver(null, {status, headers, body}).
func decodeHostAnswer(r *http.Request, args []js.Value) hostAnswer {
	if len(args) == 0 {
		return hostAnswer{err: errors.New("the Worker answered a fetch with nothing")}
	}
	if args[0].Type() == js.TypeString {
		return hostAnswer{err: fmt.Errorf("fetch %s: %s", r.URL.Redacted(), args[0].String())}
	}
	if len(args) < 2 || args[1].Type() != js.TypeObject {
		return hostAnswer{err: errors.New("the Worker answered a fetch without a response")}
	}
	res := args[1]
	status := res.Get("status").Int()
	h := http.Header{}
	if hs := res.Get("headers"); hs.Type() == js.TypeObject {
		for i := range hs.Length() {
			pair := hs.Index(i)
			h.Add(pair.Index(0).String(), pair.Index(1).String())
		}
	}
	var data []byte
	if b := res.Get("body"); b.Type() == js.TypeObject {
		data = make([]byte, b.Get("length").Int())
		js.CopyBytesToGo(data, b)
	}
	return hostAnswer{res: &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(data)),
		ContentLength: int64(len(data)),
		Request:       r,
	}}
}
