package login

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNormalizeStackURL(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"https://connection.keboola.com", "https://connection.keboola.com", true},
		{" HTTPS://Connection.Keboola.COM/ ", "https://connection.keboola.com", true},
		{"https://connection.keboola.com:443", "https://connection.keboola.com", true},
		{"https://connection.keboola.com:8443", "https://connection.keboola.com:8443", true},
		{"http://127.0.0.1:8765", "http://127.0.0.1:8765", true},
		{"http://localhost", "http://localhost", true},
		{"http://[::1]:80", "http://[::1]", true},
		{"http://connection.keboola.com", "", false},
		{"https://connection.keboola.com/v2/storage", "", false},
		{"https://user@connection.keboola.com", "", false},
		{"https://connection.keboola.com?x=1", "", false},
		{"ftp://connection.keboola.com", "", false},
		{"connection.keboola.com", "", false},
	}
	for _, c := range cases {
		got, err := NormalizeStackURL(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("NormalizeStackURL(%q) = %q, %v; want %q ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestAllowlist_DefaultsAndMatchesNormalised(t *testing.T) {
	a, err := NewAllowlist(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Stacks()) != len(DefaultStacks) {
		t.Fatalf("default allowlist %v", a.Stacks())
	}
	if got, ok := a.Match("https://CONNECTION.eu-central-1.keboola.com/"); !ok || got != "https://connection.eu-central-1.keboola.com" {
		t.Errorf("Match of a differently written allowed stack = %q, %v", got, ok)
	}
	for _, bad := range []string{"https://connection.keboola.com.evil.example", "https://evil.example", "https://connection.keboola.com/x"} {
		if _, ok := a.Match(bad); ok {
			t.Errorf("Match(%q) allowed a stack off the list", bad)
		}
	}
}

func TestGuard_CSRFBoundToBrowserAndForm(t *testing.T) {
	g := NewGuard([]byte(strings.Repeat("k", 32)), false)
	rec := httptest.NewRecorder()
	id := g.EnsureBrowser(rec, httptest.NewRequest("GET", "/authorize", nil))
	cookie := rec.Result().Cookies()[0]
	if cookie.Name != "__Host-kmcp_browser" || !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Domain != "" {
		t.Errorf("browser cookie %+v lacks __Host-, Secure, HttpOnly, SameSite=Lax or Path=/", cookie)
	}
	tok := g.CSRFToken(id, "form-1")
	req := func(c *http.Cookie) *http.Request {
		r := httptest.NewRequest("POST", "/authorize", nil)
		if c != nil {
			r.AddCookie(c)
		}
		return r
	}
	if !g.CheckCSRF(req(cookie), "form-1", tok) {
		t.Error("the token does not check in the browser it was made for")
	}
	other := &http.Cookie{Name: cookie.Name, Value: strings.Repeat("Z", 52)}
	for name, ok := range map[string]bool{
		"other browser": g.CheckCSRF(req(other), "form-1", tok),
		"no cookie":     g.CheckCSRF(req(nil), "form-1", tok),
		"other form":    g.CheckCSRF(req(cookie), "form-2", tok),
		"empty token":   g.CheckCSRF(req(cookie), "form-1", ""),
	} {
		if ok {
			t.Errorf("%s: CSRF check passed", name)
		}
	}
	if !bytes.Equal(g.RequestBinding(req(cookie)), g.Binding(id)) || bytes.Equal(g.RequestBinding(req(other)), g.Binding(id)) || g.RequestBinding(req(nil)) != nil {
		t.Error("the upstream state binding does not tell browsers apart")
	}
}

func TestRender_EscapesAndProtectsFrames(t *testing.T) {
	rec := httptest.NewRecorder()
	Render(rec, 200, &Page{Action: "/authorize", ClientName: `<script>alert(1)</script>`, RedirectHost: `"><img src=x>`, Stacks: []string{"https://a"}, Stack: "https://a", Request: "r", CSRF: "c", Error: "<b>bad</b>"})
	body := rec.Body.String()
	for _, raw := range []string{"<script>alert(1)", `"><img`, "<b>bad</b>"} {
		if strings.Contains(body, raw) {
			t.Errorf("unescaped %q in the page", raw)
		}
	}
	h := rec.Header()
	if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("frame protection headers: %v", h)
	}
	if strings.Contains(body, "<script") {
		t.Error("the page must work without scripts")
	}
}

func TestHTML_OmitsActionAndRequestTheCallerKeepsItself(t *testing.T) {
	base := Page{ClientName: "App", RedirectHost: "127.0.0.1", Stacks: []string{"https://a", "https://b"}, Stack: "https://b", Read: true, CSRF: "handle-1"}
	tests := []struct {
		name        string
		action, req string
		want, never []string
	}{
		{name: "native: posts to the endpoint with the sealed request", action: "/authorize", req: "sealed",
			want: []string{`action="/authorize"`, `name="request" value="sealed"`}},
		{name: "worker: posts back to itself, no request field", never: []string{"action=", `name="request"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base
			p.Action, p.Request = tt.action, tt.req
			body := HTML(&p)
			for _, s := range append(tt.want, `name="csrf_token" value="handle-1"`, `<option value="https://b" selected>`) {
				if !strings.Contains(body, s) {
					t.Errorf("missing %q", s)
				}
			}
			for _, s := range tt.never {
				if strings.Contains(body, s) {
					t.Errorf("unexpected %q", s)
				}
			}
		})
	}
}

// One source of truth for the page headers of both deployments (the Worker
// reads the same values through the wasm build). The form may only be
// answered to this server and the places its answer redirects to: browsers
// apply form-action to the redirects that follow a form submission.
func TestPageHeaders_LockThePageDown(t *testing.T) {
	cases := []struct {
		name    string
		targets []string
		action  string
	}{
		{"error page: no form at all", nil, "form-action 'none'"},
		{"consent page: itself, the client, the stacks", []string{"https://claude.ai", "http://127.0.0.1:8123", "cursor:", "https://connection.keboola.com"},
			"form-action 'self' https://claude.ai http://127.0.0.1:8123 cursor: https://connection.keboola.com"},
		{"consent page answering only to itself", []string{}, "form-action 'self'"},
		{"a target that is not a plain origin or a narrow scheme is dropped (fails closed)", []string{"https://a.example; script-src *", "https://ok.example", "javascript:", "'unsafe-inline'", "https://x.example/path", "https:", "*", "http://[::1]:9"},
			"form-action 'self' https://ok.example http://[::1]:9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := PageHeaders(tc.targets != nil, tc.targets...)
			want := map[string]string{
				"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; " + tc.action + "; frame-ancestors 'none'; base-uri 'none'",
				"X-Frame-Options":         "DENY",
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"Cache-Control":           "no-store",
			}
			if len(h) != len(want) {
				t.Errorf("headers %v, want exactly %v", h, want)
			}
			for k, v := range want {
				if h[k] != v {
					t.Errorf("%s = %q, want %q", k, h[k], v)
				}
			}
		})
	}
}

// TestHTML_ActionOnlyHTTPOrPath: the form's action is the one URL the page
// writes; a value that could run script or leave the site is left out, and
// the form then posts back to the page itself.
func TestHTML_ActionOnlyHTTPOrPath(t *testing.T) {
	for _, tt := range []struct {
		action string
		kept   bool
	}{
		{"/authorize", true},
		{"https://mcp.example/authorize?x=1&y=2", true},
		{"http://127.0.0.1:8000/authorize", true},
		{"javascript:alert(1)", false},
		{"data:text/html,x", false},
		{"//evil.example/authorize", false},
		{"/\\evil.example", false},
		{"https:///nohost", false},
	} {
		body := HTML(&Page{Action: tt.action, ClientName: "c", RedirectHost: "h", Stacks: []string{"https://a"}, CSRF: "x"})
		if got := strings.Contains(body, " action="); got != tt.kept {
			t.Errorf("action %q written: %v, want %v", tt.action, got, tt.kept)
		}
	}
	body := HTML(&Page{Action: "/authorize?a=1&b=\"2", ClientName: "c", RedirectHost: "h", Stacks: []string{`https://a"><x`}, CSRF: `"'<>&`})
	for _, want := range []string{`action="/authorize?a=1&amp;b=&#34;2"`, `value="&#34;&#39;&lt;&gt;&amp;"`, `<option value="https://a&#34;&gt;&lt;x">`} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s in\n%s", want, body)
		}
	}
}

// The page as a product surface (issue 13): where a token comes from before
// any error, a required token field, actions that look like what they do,
// errors tied to their control, write that visibly includes read, and a
// product name.
func TestHTML_ProductSurface(t *testing.T) {
	base := Page{ClientName: "Claude", RedirectHost: "127.0.0.1:33418", Stacks: []string{"https://connection.keboola.com", "https://connection.eu-central-1.keboola.com"},
		Stack: "https://connection.eu-central-1.keboola.com", Read: true, CSRF: "c", Upstream: true}
	render := func(t *testing.T, p Page) string {
		t.Helper()
		return HTML(&p)
	}
	t.Run("help, required field, identity, write includes read", func(t *testing.T) {
		body := render(t, base)
		for _, want := range []string{
			"Keboola MCP Server",
			"Where do I find a Storage API token?", "Settings → API Tokens",
			`href="https://connection.eu-central-1.keboola.com/admin"`,
			`name="storage_token" type="password" autocomplete="off" required aria-describedby="token-help"`,
			"keboola:write; includes read", `class="implied"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("missing %q", want)
			}
		}
		if strings.Contains(body, `aria-invalid="true"`) || strings.Contains(body, " autofocus") {
			t.Error("a page without an error marks a control invalid")
		}
	})
	t.Run("primary, secondary and destructive actions; deny apart", func(t *testing.T) {
		body := render(t, base)
		approve := strings.Index(body, `<button type="submit" class="primary" name="action" value="approve">`)
		keboola := strings.Index(body, `<button type="submit" class="secondary" name="action" value="keboola" formnovalidate>`)
		deny := strings.Index(body, `<button type="submit" class="destructive" name="action" value="deny" formnovalidate>`)
		separator := strings.Index(body, `<div class="deny">`)
		if approve < 0 || keboola < 0 || deny < 0 || separator < 0 {
			t.Fatalf("buttons: approve %d, keboola %d, deny %d, deny block %d", approve, keboola, deny, separator)
		}
		// Approve comes first (Enter submits it); Deny sits in its own block after both.
		if !(approve < keboola && keboola < separator && separator < deny) {
			t.Errorf("order: approve %d, keboola %d, deny block %d, deny %d", approve, keboola, separator, deny)
		}
	})
	for _, tc := range []struct {
		field, control string
	}{
		{FieldToken, `<input id="storage_token" name="storage_token" type="password" autocomplete="off" required aria-describedby="form-error token-help" aria-invalid="true" autofocus>`},
		{FieldStack, `<select id="stack_url" name="stack_url" aria-invalid="true" aria-describedby="form-error" autofocus>`},
		{FieldScope, `<fieldset aria-invalid="true" aria-describedby="form-error">`},
	} {
		t.Run("error tied to "+tc.field, func(t *testing.T) {
			p := base
			p.Error, p.ErrorField = "That went wrong.", tc.field
			body := render(t, p)
			if !strings.Contains(body, `<p class="err" id="form-error" role="alert">That went wrong.</p>`) {
				t.Error("the error is not an alert with an id")
			}
			if !strings.Contains(body, tc.control) {
				t.Errorf("missing %s", tc.control)
			}
			if n := strings.Count(body, `aria-invalid="true"`); n != 1 {
				t.Errorf("%d controls marked invalid, want 1", n)
			}
		})
	}
}

// Both deployments name the redirect the same way: with its port, which is
// what tells two programs on one machine apart (the Worker dropped it).
func TestRedirectHost(t *testing.T) {
	for uri, want := range map[string]string{
		"http://127.0.0.1:33418/callback":         "127.0.0.1:33418",
		"https://claude.ai/api/mcp/auth_callback": "claude.ai",
		// A private-use scheme is shown whole: its "host" proves nothing.
		"cursor://anysphere.cursor-mcp/oauth": "cursor://anysphere.cursor-mcp/oauth",
		"com.example.app:/oauth":              "com.example.app:/oauth",
	} {
		if got := RedirectHost(uri); got != want {
			t.Errorf("RedirectHost(%q) = %q, want %q", uri, got, want)
		}
	}
	if !IsLocalRedirect("http://[::1]:9/cb") || !IsLocalRedirect("cursor://x/cb") || IsLocalRedirect("https://127.0.0.1/cb") || IsLocalRedirect("http://example.com/cb") {
		t.Error("IsLocalRedirect")
	}
}
