package login

import (
	"bytes"
	"html"
	"net/http"
	"net/url"
	"strings"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
)

// Page is what the login + consent page shows. Every string is escaped
// (see writePage); none of it is trusted.
type Page struct {
	// Action is where the form posts (the authorization endpoint); empty
	// posts back to the page's own URL, which the Worker relies on.
	Action string
	// ClientName is the client's self-declared name (or its id).
	ClientName string
	// ClientID is shown for metadata-document clients, whose id is a URL.
	ClientID string
	// RedirectHost is where the browser goes after approval: the host of a
	// web redirect, or the whole URI of a private-use scheme (whose "host"
	// proves nothing).
	RedirectHost string
	// Verified is true when the client's identity is its https metadata
	// URL; dynamically registered clients name themselves and are not.
	Verified bool
	// Loopback is true when the code is delivered to a program on this
	// computer: a loopback http redirect or a private-use scheme.
	Loopback bool
	Stacks   []string
	Stack    string
	// Read and Write are the pre-checked scopes.
	Read, Write bool
	// Request is the sealed authorization request carried by the form;
	// empty when the server keeps the request itself (the Worker).
	Request string
	// CSRF is the csrf_token field: the native guard's token, or the
	// Worker's consent handle.
	CSRF string
	// Upstream offers "Sign in with Keboola".
	Upstream bool
	// Error explains, in words, what went wrong with the last attempt.
	Error string
	// ErrorField names the control Error is about (FieldStack, FieldToken
	// or FieldScope): it is marked invalid, described by the error and
	// focused. Empty for an error about no single control.
	ErrorField string
	// FormTargets are where an answer to the form may be redirected (the
	// client's redirect origin or scheme, the Keboola stacks): they go
	// into the CSP form-action, never into the markup.
	FormTargets []string
}

// The form's controls an error can be about.
const (
	FieldStack = "stack_url"
	FieldToken = "storage_token"
	FieldScope = "scope"
)

// Messages of the form's own checks, one wording for both deployments (the
// Worker reads them through the wasm build).
const (
	MsgChooseStack    = "That Keboola stack is not offered by this server. Pick one from the list."
	MsgChooseScope    = "Choose at least read access (keboola:read)."
	MsgPasteToken     = "Paste a Storage API token (Keboola: your project → Settings → API Tokens)."
	MsgMalformedToken = "That is not a Storage API token: a token has no spaces or special characters. Copy it again from Keboola."
	MsgChooseAnAction = "Choose Approve or Deny."
)

// RedirectHost is how the page names where the browser goes after approval,
// the same on both deployments: a web redirect by its host with its port
// (two programs on one machine differ only by port). A private-use scheme
// can carry any "host" (evil.app://claude.ai/…) and is delivered to
// whichever local program claimed the scheme, so it is shown whole.
func RedirectHost(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return redirectURI
	}
	return u.Host
}

// IsLocalRedirect reports a redirect URI that hands the code to a program
// on this computer: a loopback http one, or a private-use scheme.
func IsLocalRedirect(redirectURI string) bool {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return false
	}
	return (u.Scheme == "http" && access.IsLoopbackHost(u.Hostname())) || (u.Scheme != "https" && u.Scheme != "http")
}

// stackHost shows a stack URL as its host, as people know it.
func stackHost(stackURL string) string {
	if u, err := url.Parse(stackURL); err == nil && u.Host != "" {
		return u.Host
	}
	return stackURL
}

// ErrorPage is a page that only explains a problem (no form), used when the
// request cannot be answered by redirecting to the client.
type ErrorPage struct {
	Title   string
	Message string
}

// pageStyle is the page's only styling (the CSP allows inline styles, no scripts).
const pageStyle = `*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f2f4f7;color:#1f2933}
main{max-width:32rem;margin:0 auto;padding:1.5rem 1rem 3rem}
.brand{display:flex;align-items:center;gap:.6rem;margin-bottom:1.25rem;color:#1f2933}
.brand svg{flex:none}
.brand b{display:block;font-size:1.05rem}
.brand small{color:#52606d}
.card{background:#fff;border:1px solid #d9e0e7;border-radius:12px;padding:1.25rem 1.25rem 1.5rem;box-shadow:0 1px 2px rgba(16,24,40,.06)}
h1{font-size:1.35rem;line-height:1.3;margin:0 0 .75rem}
.who p{margin:.35rem 0}
.warn{background:#fff8e1;border:1px solid #e9b949;border-radius:8px;padding:.5rem .75rem;margin:.75rem 0;font-size:.95rem}
.err{background:#fdecea;border:1px solid #e66a62;border-radius:8px;padding:.5rem .75rem;margin:1rem 0;color:#8a1c13}
label,legend{display:block;margin:1rem 0 .3rem;font-weight:600}
select,input[type=password]{width:100%;padding:.6rem .7rem;font:inherit;border:1px solid #9aa5b1;border-radius:8px;background:#fff}
select:focus,input:focus,button:focus-visible{outline:3px solid #8fc6ff;outline-offset:1px}
input[aria-invalid=true]{border-color:#c0392b;background:#fffafa}
.help{font-size:.9rem;color:#52606d;margin:.4rem 0 0}
.help summary{cursor:pointer;color:#0b62c4}
.help ol{margin:.4rem 0;padding-left:1.25rem}
fieldset{border:0;padding:0;margin:0}
legend{padding:0}
.scope{display:flex;gap:.5rem;align-items:flex-start;font-weight:400;margin:.4rem 0}
.scope input{margin-top:.3rem}
.implied{display:none;color:#52606d}
fieldset:has(input[value="keboola:write"]:checked) .implied{display:inline}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.5rem}
button{font:inherit;font-weight:600;border-radius:8px;padding:.65rem 1.1rem;cursor:pointer;border:1px solid transparent}
.primary{background:#0b62c4;color:#fff}
.primary:hover{background:#094f9e}
.secondary{background:#fff;color:#0b62c4;border-color:#0b62c4}
.secondary:hover{background:#eef5fd}
.deny{margin-top:1.5rem;padding-top:1rem;border-top:1px solid #e4e7eb;display:flex;align-items:center;justify-content:space-between;gap:.75rem;flex-wrap:wrap;font-size:.9rem;color:#52606d}
.destructive{background:#fff;color:#b42318;border-color:#f1aeb5;font-weight:500}
.destructive:hover{background:#fdecea}
code{word-break:break-all;font-size:.9em}
a{color:#0b62c4}
@media (max-width:30rem){.actions button{flex:1 1 100%}}
`

// writePage writes the page. It is plain Go rather than an html/template:
// the template engine (text/template, html/template and the reflection they
// keep alive) was a tenth of the Worker's wasm build. Every value goes
// through html.EscapeString, and every one sits in element text or in a
// double-quoted attribute, where that escaping is complete; the one URL
// attribute (the form's action) is also checked to be a plain http(s) or
// path URL.
func writePage(b *bytes.Buffer, data pageData) {
	esc := html.EscapeString
	b.WriteString("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>")
	if f := data.Form; f != nil {
		b.WriteString("Connect " + esc(f.ClientName) + " to Keboola")
	} else if data.Err != nil {
		b.WriteString(esc(data.Err.Title))
	}
	b.WriteString("</title>\n<style>\n" + pageStyle + "</style></head><body><main>\n")
	b.WriteString(`<header class="brand"><svg width="36" height="36" viewBox="0 0 36 36" aria-hidden="true"><rect width="36" height="36" rx="8" fill="#0b62c4"/><path d="M11 9v18M11 18l9-9M14 15l9 12" stroke="#fff" stroke-width="3.2" stroke-linecap="round" stroke-linejoin="round" fill="none"/></svg>` +
		"\n<span><b>Keboola MCP Server</b><small>Connects AI assistants to your Keboola project</small></span></header>\n")
	if e := data.Err; e != nil {
		b.WriteString("<div class=\"card\"><h1>" + esc(e.Title) + "</h1><p class=\"err\">" + esc(e.Message) + "</p></div>\n")
	}
	if f := data.Form; f != nil {
		writeForm(b, f, esc)
	}
	b.WriteString("</main></body></html>\n")
}

func writeForm(b *bytes.Buffer, f *Page, esc func(string) string) {
	field := f.ErrorField
	b.WriteString("<div class=\"card\">\n<h1>Connect " + esc(f.ClientName) + " to Keboola</h1>\n<div class=\"who\">\n")
	b.WriteString("<p><strong>" + esc(f.ClientName) + "</strong> asks to use your Keboola project through this server.</p>\n")
	if f.ClientID != "" {
		b.WriteString("<p>Client: <code>" + esc(f.ClientID) + "</code></p>\n")
	}
	b.WriteString("<p>After you approve, your browser returns to <strong>" + esc(f.RedirectHost) + "</strong>.</p>\n")
	if !f.Verified {
		b.WriteString("<p class=\"warn\">This application registered itself; its name is not verified. Continue only if you started this connection yourself.</p>\n")
	}
	if f.Loopback {
		b.WriteString("<p class=\"warn\">The answer goes to a program on this computer (" + esc(f.RedirectHost) + "). Any local program listening there would receive access.</p>\n")
	}
	b.WriteString("</div>\n")
	if f.Error != "" {
		b.WriteString("<p class=\"err\" id=\"form-error\" role=\"alert\">" + esc(f.Error) + "</p>\n")
	}
	b.WriteString("<form method=\"post\"")
	if safeAction(f.Action) {
		b.WriteString(" action=\"" + esc(f.Action) + "\"")
	}
	b.WriteString(">\n")
	if f.Request != "" {
		b.WriteString("<input type=\"hidden\" name=\"request\" value=\"" + esc(f.Request) + "\">\n")
	}
	b.WriteString("<input type=\"hidden\" name=\"csrf_token\" value=\"" + esc(f.CSRF) + "\">\n")
	b.WriteString("<label for=\"stack_url\">Keboola stack</label>\n<select id=\"stack_url\" name=\"stack_url\"" +
		attrIf(field == FieldStack, " aria-invalid=\"true\" aria-describedby=\"form-error\" autofocus") + ">")
	for _, s := range f.Stacks {
		b.WriteString("<option value=\"" + esc(s) + "\"" + attrIf(s == f.Stack, " selected") + ">" + esc(stackHost(s)) + "</option>")
	}
	b.WriteString("</select>\n<label for=\"storage_token\">Storage API token</label>\n")
	b.WriteString("<input id=\"storage_token\" name=\"storage_token\" type=\"password\" autocomplete=\"off\" required aria-describedby=\"" +
		attrIf(field == FieldToken, "form-error ") + "token-help\"" + attrIf(field == FieldToken, " aria-invalid=\"true\" autofocus") + ">\n")
	b.WriteString("<details class=\"help\" id=\"token-help\"" + attrIf(field == FieldToken, " open") + "><summary>Where do I find a Storage API token?</summary>\n<ol><li>Open your project in Keboola")
	if safeAction(f.Stack) && !strings.HasPrefix(f.Stack, "/") {
		host := esc(stackHost(f.Stack))
		b.WriteString(", e.g. <a href=\"" + esc(f.Stack) + "/admin\" target=\"_blank\" rel=\"noopener noreferrer\">" + host + "/admin</a> (your project's address, <code>" +
			host + "/admin/projects/&lt;id&gt;/…</code>, names its stack)")
	}
	b.WriteString(".</li>\n<li>Go to <b>Settings → API Tokens</b> and create a token (or use your own).</li>\n" +
		"<li>Copy it here. The token stays on this server, encrypted; the AI application never sees it.</li></ol>\n")
	if f.Upstream {
		b.WriteString("<p>Or skip the token: <b>Sign in with Keboola</b> below creates one for you.</p>")
	}
	b.WriteString("</details>\n<fieldset" + attrIf(field == FieldScope, " aria-invalid=\"true\" aria-describedby=\"form-error\"") + "><legend>Allow " + esc(f.ClientName) + " to</legend>\n")
	b.WriteString("<label class=\"scope\"><input type=\"checkbox\" name=\"scope\" value=\"keboola:read\"" + attrIf(f.Read, " checked") + attrIf(field == FieldScope, " autofocus") +
		"><span>read the project: data, configurations, jobs (keboola:read) <span class=\"implied\">— included with change</span></span></label>\n")
	b.WriteString("<label class=\"scope\"><input type=\"checkbox\" name=\"scope\" value=\"keboola:write\"" + attrIf(f.Write, " checked") +
		"><span>also change the project: configurations, jobs, descriptions (keboola:write; includes read)</span></label>\n")
	b.WriteString("</fieldset>\n<div class=\"actions\">\n<button type=\"submit\" class=\"primary\" name=\"action\" value=\"approve\">Approve</button>\n")
	if f.Upstream {
		b.WriteString("<button type=\"submit\" class=\"secondary\" name=\"action\" value=\"keboola\" formnovalidate>Sign in with Keboola</button>\n")
	}
	b.WriteString("</div>\n<div class=\"deny\"><span>Not you, or not now?</span><button type=\"submit\" class=\"destructive\" name=\"action\" value=\"deny\" formnovalidate>Deny access</button></div>\n</form>\n</div>\n")
}

func attrIf(cond bool, s string) string {
	if cond {
		return s
	}
	return ""
}

// safeAction reports whether a form action may be written: an absolute
// http(s) URL or a path on this site. Anything else (javascript:, data:,
// a scheme-relative //host) is left out and the form posts to the page's
// own URL.
func safeAction(action string) bool {
	if action == "" {
		return false
	}
	if strings.HasPrefix(action, "/") {
		return !strings.HasPrefix(action, "//") && !strings.HasPrefix(action, "/\\")
	}
	u, err := url.Parse(action)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// Form-action sources PageHeaders accepts: an http(s) origin, or the bare
// scheme of a private-use redirect (cursor:). Anything else could smuggle
// directives into the policy or widen it. They are checked by hand rather
// than with regexp: the Worker's login-only wasm build, which runs them,
// needs regexp for nothing else, and linking it there cost 111 KB gzip (4%)
// of the Workers Free plan's 3 MiB. TestFormActionSources_MatchTheirGrammar
// and FuzzFormActionSources hold them to the grammar written as regular
// expressions.

// wideSchemes as a bare source would allow far too much or run code.
var wideSchemes = map[string]bool{"http:": true, "https:": true, "javascript:": true, "data:": true, "blob:": true, "filesystem:": true, "ws:": true, "wss:": true}

// isOriginSource reports http(s)://host with an optional port of 1 to 5
// digits, where host is letters, digits, dots and hyphens, or an IPv6
// literal in brackets.
func isOriginSource(t string) bool {
	rest, ok := strings.CutPrefix(t, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(t, "http://"); !ok {
			return false
		}
	}
	var host string
	if inner, ok := strings.CutPrefix(rest, "["); ok {
		end := strings.IndexByte(inner, ']')
		if end < 0 {
			return false
		}
		host, rest = inner[:end], inner[end+1:]
		if !allOf(host, isIPv6LiteralByte) {
			return false
		}
	} else {
		end := strings.IndexByte(rest, ':')
		if end < 0 {
			end = len(rest)
		}
		host, rest = rest[:end], rest[end:]
		if !allOf(host, isHostByte) {
			return false
		}
	}
	if rest == "" {
		return true
	}
	port, ok := strings.CutPrefix(rest, ":")
	return ok && len(port) <= 5 && allOf(port, isDigit)
}

// isSchemeSource reports a scheme and its colon, the scheme lower case:
// a letter, then letters, digits, "+", "." or "-".
func isSchemeSource(t string) bool {
	scheme, ok := strings.CutSuffix(t, ":")
	return ok && scheme != "" && isLower(scheme[0]) && allOf(scheme, isSchemeByte)
}

func isDigit(c byte) bool    { return '0' <= c && c <= '9' }
func isLower(c byte) bool    { return 'a' <= c && c <= 'z' }
func isLetter(c byte) bool   { return isLower(c) || 'A' <= c && c <= 'Z' }
func isHostByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '.' || c == '-' }
func isIPv6LiteralByte(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == ':' || c == '.'
}
func isSchemeByte(c byte) bool { return isLower(c) || isDigit(c) || c == '+' || c == '.' || c == '-' }

// allOf reports a non-empty s whose every byte is ok.
func allOf(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return s != ""
}

// PageHeaders are the headers of every login, consent and error page, on
// both deployments: one source of truth. The Worker has no copy of this
// logic: its login page gets them from the wasm build with the page
// (keboolaMCP.renderLogin answers Page.Headers), and its pages without a
// form, which must not wait for Go to start, send PageHeaders(false) as
// cmd/keboola-mcp-static wrote it at build time. The page needs nothing
// but its inline style: no scripts, images or fonts (default-src 'none'),
// no framing (clickjacking), no <base>, no caching, and no referrer
// leaking the query (codes, states).
//
// form is whether the page carries a form; without one it may submit
// nowhere. formTargets are where the form's answer may be redirected:
// browsers check form-action on each redirect that follows a submission,
// so besides this server ('self') it lists the client's redirect origin
// (or private-use scheme) and, with Sign in with Keboola, the stack
// origins (see FormTargets). A target that is not a plain origin or a
// narrow scheme is dropped, so the redirect it would allow is blocked
// (fails closed).
func PageHeaders(form bool, formTargets ...string) map[string]string {
	action := "form-action 'none'"
	if form {
		action = "form-action 'self'"
		for _, t := range formTargets {
			if isOriginSource(t) || (isSchemeSource(t) && !wideSchemes[t]) {
				action += " " + t
			}
		}
	}
	return map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; " + action + "; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	}
}

// FormTargets are where an answer to the login form of a client with
// redirectURI may be redirected, for Page.FormTargets: the redirect URI as
// a CSP source, its origin or, for a private-use scheme (whose "host"
// proves nothing), the bare scheme; then the stacks Sign in with Keboola
// sends the browser to (upstreamStacks, nil without it). An unreadable
// redirect URI adds no target, so a redirect to it is blocked.
func FormTargets(redirectURI string, upstreamStacks []string) []string {
	var targets []string
	if u, err := url.Parse(redirectURI); err == nil && u.Scheme != "" {
		if u.Scheme == "https" || u.Scheme == "http" {
			targets = append(targets, u.Scheme+"://"+u.Host)
		} else {
			targets = append(targets, u.Scheme+":")
		}
	}
	return append(targets, upstreamStacks...)
}

// Headers are the consent page's PageHeaders: a form whose answer may go
// to p.FormTargets.
func (p *Page) Headers() map[string]string {
	return PageHeaders(true, p.FormTargets...)
}

// SecurityHeaders sets PageHeaders on h.
func SecurityHeaders(h http.Header, form bool, formTargets ...string) {
	for k, v := range PageHeaders(form, formTargets...) {
		h.Set(k, v)
	}
}

// pageData is what the template renders: the form or an error, never both.
type pageData struct {
	Form *Page
	Err  *ErrorPage
}

// Render writes the consent page with status.
func Render(w http.ResponseWriter, status int, p *Page) {
	render(w, status, pageData{Form: p}, p.Headers())
}

// HTML returns the consent page as a document, for a caller that writes
// the response itself and sends it with p.Headers() (the Worker, through
// the wasm build): one template serves both deployments.
func HTML(p *Page) string {
	return string(execute(pageData{Form: p}))
}

// RenderError writes a page that explains a problem.
func RenderError(w http.ResponseWriter, status int, title, message string) {
	render(w, status, pageData{Err: &ErrorPage{Title: title, Message: message}}, PageHeaders(false))
}

func execute(data pageData) []byte {
	var buf bytes.Buffer
	writePage(&buf, data)
	return buf.Bytes()
}

func render(w http.ResponseWriter, status int, data pageData, headers map[string]string) {
	body := execute(data)
	for k, v := range headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}
