package login

import (
	"bytes"
	"html/template"
	"net/http"
	"regexp"
)

// Page is what the login + consent page shows. Every string is escaped by
// html/template; none of it is trusted.
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

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{if .Form}}Connect {{.Form.ClientName}} to Keboola{{else}}{{.Err.Title}}{{end}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1b2430}
.box{border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.25rem}
.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.5rem .75rem}
.err{background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:.5rem .75rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=password],select{width:100%;padding:.4rem;box-sizing:border-box}
.scope{font-weight:normal}
button{margin:1rem .5rem 0 0;padding:.5rem 1rem}
code{word-break:break-all}
</style></head><body>
{{with .Err}}<h1>{{.Title}}</h1><p class="err">{{.Message}}</p>{{end}}
{{with .Form}}
<h1>Connect to Keboola</h1>
<div class="box">
<p><strong>{{.ClientName}}</strong> wants to use your Keboola project through this MCP server.</p>
{{if .ClientID}}<p>Client: <code>{{.ClientID}}</code></p>{{end}}
<p>After you approve, your browser returns to <strong>{{.RedirectHost}}</strong>.</p>
{{if not .Verified}}<p class="warn">This client registered itself; its name is not verified. Continue only if you started this connection yourself.</p>{{end}}
{{if .Loopback}}<p class="warn">The answer goes to a program on this computer ({{.RedirectHost}}). Any local program listening there would receive access.</p>{{end}}
</div>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post"{{with .Action}} action="{{.}}"{{end}}>
{{with .Request}}<input type="hidden" name="request" value="{{.}}">
{{end}}<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<label for="stack_url">Keboola stack</label>
<select id="stack_url" name="stack_url">{{$sel := .Stack}}{{range .Stacks}}<option value="{{.}}"{{if eq . $sel}} selected{{end}}>{{.}}</option>{{end}}</select>
<label for="storage_token">Storage API token</label>
<input id="storage_token" name="storage_token" type="password" autocomplete="off" placeholder="{{if .Upstream}}or use Sign in with Keboola below{{end}}">
<fieldset><legend>Allow</legend>
<label class="scope"><input type="checkbox" name="scope" value="keboola:read"{{if .Read}} checked{{end}}> read the project (keboola:read)</label>
<label class="scope"><input type="checkbox" name="scope" value="keboola:write"{{if .Write}} checked{{end}}> change the project: configurations, jobs, descriptions (keboola:write)</label>
</fieldset>
<button type="submit" name="action" value="approve">Approve</button>
{{if .Upstream}}<button type="submit" name="action" value="keboola">Sign in with Keboola</button>{{end}}
<button type="submit" name="action" value="deny">Deny</button>
</form>
{{end}}
</body></html>
`))

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
func HTML(p *Page) (string, error) {
	b, err := execute(pageData{Form: p})
	return string(b), err
}

// RenderError writes a page that explains a problem.
func RenderError(w http.ResponseWriter, status int, title, message string) {
	render(w, status, pageData{Err: &ErrorPage{Title: title, Message: message}}, false)
}

func execute(data pageData) ([]byte, error) {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func render(w http.ResponseWriter, status int, data pageData, form bool, formTargets ...string) {
	body, err := execute(data)
	if err != nil {
		http.Error(w, "the login page could not be rendered", http.StatusInternalServerError)
		return
	}
	SecurityHeaders(w.Header(), form, formTargets...)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}
