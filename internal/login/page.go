package login

import (
	"bytes"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
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
	// FormTargets are where an answer to the form may be redirected (the
	// client's redirect origin or scheme, the Keboola stacks): they go
	// into the CSP form-action, never into the markup.
	FormTargets []string
}

// ErrorPage is a page that only explains a problem (no form), used when the
// request cannot be answered by redirecting to the client.
type ErrorPage struct {
	Title   string
	Message string
}

// pageStyle is the page's only styling (the CSP allows inline styles, no scripts).
const pageStyle = `body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1b2430}
.box{border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.25rem}
.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.5rem .75rem}
.err{background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:.5rem .75rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=password],select{width:100%;padding:.4rem;box-sizing:border-box}
.scope{font-weight:normal}
button{margin:1rem .5rem 0 0;padding:.5rem 1rem}
code{word-break:break-all}
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
	b.WriteString("</title>\n<style>\n" + pageStyle + "</style></head><body>\n")
	if e := data.Err; e != nil {
		b.WriteString("<h1>" + esc(e.Title) + "</h1><p class=\"err\">" + esc(e.Message) + "</p>\n")
	}
	if f := data.Form; f != nil {
		writeForm(b, f, esc)
	}
	b.WriteString("</body></html>\n")
}

func writeForm(b *bytes.Buffer, f *Page, esc func(string) string) {
	b.WriteString("<h1>Connect to Keboola</h1>\n<div class=\"box\">\n")
	b.WriteString("<p><strong>" + esc(f.ClientName) + "</strong> wants to use your Keboola project through this MCP server.</p>\n")
	if f.ClientID != "" {
		b.WriteString("<p>Client: <code>" + esc(f.ClientID) + "</code></p>\n")
	}
	b.WriteString("<p>After you approve, your browser returns to <strong>" + esc(f.RedirectHost) + "</strong>.</p>\n")
	if !f.Verified {
		b.WriteString("<p class=\"warn\">This client registered itself; its name is not verified. Continue only if you started this connection yourself.</p>\n")
	}
	if f.Loopback {
		b.WriteString("<p class=\"warn\">The answer goes to a program on this computer (" + esc(f.RedirectHost) + "). Any local program listening there would receive access.</p>\n")
	}
	b.WriteString("</div>\n")
	if f.Error != "" {
		b.WriteString("<p class=\"err\" role=\"alert\">" + esc(f.Error) + "</p>\n")
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
	b.WriteString("<label for=\"stack_url\">Keboola stack</label>\n<select id=\"stack_url\" name=\"stack_url\">")
	for _, s := range f.Stacks {
		b.WriteString("<option value=\"" + esc(s) + "\"" + attrIf(s == f.Stack, " selected") + ">" + esc(s) + "</option>")
	}
	b.WriteString("</select>\n<label for=\"storage_token\">Storage API token</label>\n")
	b.WriteString("<input id=\"storage_token\" name=\"storage_token\" type=\"password\" autocomplete=\"off\" placeholder=\"" + attrIf(f.Upstream, "or use Sign in with Keboola below") + "\">\n")
	b.WriteString("<fieldset><legend>Allow</legend>\n")
	b.WriteString("<label class=\"scope\"><input type=\"checkbox\" name=\"scope\" value=\"keboola:read\"" + attrIf(f.Read, " checked") + "> read the project (keboola:read)</label>\n")
	b.WriteString("<label class=\"scope\"><input type=\"checkbox\" name=\"scope\" value=\"keboola:write\"" + attrIf(f.Write, " checked") + "> change the project: configurations, jobs, descriptions (keboola:write)</label>\n")
	b.WriteString("</fieldset>\n<button type=\"submit\" name=\"action\" value=\"approve\">Approve</button>\n")
	if f.Upstream {
		b.WriteString("<button type=\"submit\" name=\"action\" value=\"keboola\">Sign in with Keboola</button>\n")
	}
	b.WriteString("<button type=\"submit\" name=\"action\" value=\"deny\">Deny</button>\n</form>\n")
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
// directives into the policy or widen it.
var (
	originSourceRE = regexp.MustCompile(`^https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)
	schemeSourceRE = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:$`)
	// schemes that as a bare source would allow far too much or run code
	wideSchemes = map[string]bool{"http:": true, "https:": true, "javascript:": true, "data:": true, "blob:": true, "filesystem:": true, "ws:": true, "wss:": true}
)

// PageHeaders are the headers of every login, consent and error page, on
// both deployments (the Worker reads them through the wasm build): one
// source of truth. The page needs nothing but its inline style: no
// scripts, images or fonts (default-src 'none'), no framing
// (clickjacking), no <base>, no caching, and no referrer leaking the
// query (codes, states).
//
// form is whether the page carries a form; without one it may submit
// nowhere. formTargets are where the form's answer may be redirected:
// browsers check form-action on each redirect that follows a submission,
// so besides this server ('self') it lists the client's redirect origin
// (or private-use scheme) and, with Sign in with Keboola, the stack
// origins. A target that is not a plain origin or a narrow scheme is
// dropped, so the redirect it would allow is blocked (fails closed).
func PageHeaders(form bool, formTargets ...string) map[string]string {
	action := "form-action 'none'"
	if form {
		action = "form-action 'self'"
		for _, t := range formTargets {
			if originSourceRE.MatchString(t) || (schemeSourceRE.MatchString(t) && !wideSchemes[t]) {
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
	render(w, status, pageData{Form: p}, true, p.FormTargets...)
}

// HTML returns the consent page as a document, for a caller that sends it
// with its own headers (the Worker, through the wasm build): one template
// serves both deployments.
func HTML(p *Page) string {
	return string(execute(pageData{Form: p}))
}

// RenderError writes a page that explains a problem.
func RenderError(w http.ResponseWriter, status int, title, message string) {
	render(w, status, pageData{Err: &ErrorPage{Title: title, Message: message}}, false)
}

func execute(data pageData) []byte {
	var buf bytes.Buffer
	writePage(&buf, data)
	return buf.Bytes()
}

func render(w http.ResponseWriter, status int, data pageData, form bool, formTargets ...string) {
	body := execute(data)
	SecurityHeaders(w.Header(), form, formTargets...)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}
