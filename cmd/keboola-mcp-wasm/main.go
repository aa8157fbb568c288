//go:build js && wasm

// Command keboola-mcp-wasm is the Keboola MCP server compiled for the
// Cloudflare Worker (GOOS=js GOARCH=wasm). It exports one object on
// globalThis, keboolaMCP, which the Worker calls:
//
//	handle(request, access) → Promise<response>
//	    request:  {method, url (path and query), headers: [[name, value]…], body: Uint8Array}
//	    access:   {stackURL, token, readOnly, resourceMetadataURL}
//	    response: {status, headers: [[name, value]…], body: Uint8Array, gate?,
//	               after?: () → Promise, present when Go has work left after the answer (a
//	               tool call's audit event): runs it (once) and settles when it is done}
//	toolGates(access) → Promise<{full, read}>: the session's tool gate keys under either scope
//	prepare(access) → Promise<string>: builds what the session's first tool call needs and
//	    returns its tool gate key ("" when Keboola could not tell)
//	verifyToken(stackURL, token) → Promise<{ok: true, token: {…}} | {ok: false, invalidToken, error, message}>
//	    message: what the login page says, worded as on the native server
//	upstreamAuthorizeURL({stackURL, clientID, clientSecret, redirectURL}, state) → string
//	upstreamSignIn({stackURL, clientID, clientSecret, redirectURL}, code)
//	    → Promise<{ok: true, storageToken, oauthToken, oauthExpires, token: {…}} | {ok: false, error}>
//	renderLogin({clientName, clientID?, verified, redirectURI, stacks, stack?,
//	             read, write, csrf, upstream, error?, errorField?}) → {html, headers} (or an Error)
//	    headers: {name: value}, login.PageHeaders for the page, its form-action derived
//	    from redirectURI (and, with upstream, the stacks); pages without a form send
//	    PageHeaders(false), which cmd/keboola-mcp-static writes at build time
//	loginMessages: {chooseStack, chooseScope, pasteToken, malformedToken}, the form's own
//	    error messages, worded as on the native server
//	version: string
//
// The Worker has authenticated the MCP client and decrypted the grant; Go
// serves the MCP request with the same handler as the native server, and
// Keboola calls go out through the Worker's host, globalThis.keboolaMCPHost
// (host.go), which fetches in the calling request's context. The program
// stays resident: the Worker instantiates it once per isolate.
package main

import (
	"runtime/debug"
	"syscall/js"

	"github.com/keboola-mcp/keboola-mcp/internal/login"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// The garbage collector's settings in the isolate. At Go's default (100) a
// tool call's few hundred KiB of garbage (the SDK's JSON decoders take 32
// KiB each) set off a collection every few calls, and in wasm a collection
// runs on the isolate's one thread, inside a request: at 400 a warm
// get_buckets with its audit event took 2.9 ms in Go instead of 3.7 (0.6
// to 0.7 ms less for the whole request), and the heap grows to about 29 MiB
// instead of 18. The memory limit is a backstop that keeps a rare large
// answer from growing the heap goal toward the Worker's 128 MB; at 64 MiB it
// already made collections more frequent (2.8 ms a call against 2.1 without
// it, audit event aside).
const (
	gcPercent   = 400
	memoryLimit = 96 << 20
)

func main() {
	debug.SetGCPercent(gcPercent)
	debug.SetMemoryLimit(memoryLimit)
	b := newBridge(version)
	api := js.Global().Get("Object").New()
	b.exportMCP(api)
	api.Set("verifyToken", js.FuncOf(b.verifyToken))
	api.Set("upstreamAuthorizeURL", js.FuncOf(b.upstreamAuthorizeURL))
	api.Set("upstreamSignIn", js.FuncOf(b.upstreamSignIn))
	api.Set("renderLogin", js.FuncOf(renderLogin))
	api.Set("loginMessages", map[string]any{"chooseStack": login.MsgChooseStack, "chooseScope": login.MsgChooseScope,
		"pasteToken": login.MsgPasteToken, "malformedToken": login.MsgMalformedToken})
	api.Set("version", version)
	js.Global().Set("keboolaMCP", api)
	// Stay alive: every call arrives through the functions above.
	select {}
}
