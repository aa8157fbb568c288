package login

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

// Guard binds a login to one browser. It sets a random cookie the first time
// a browser sees the form; the CSRF token in the form and the state sent to
// Keboola are keyed hashes of that cookie, so a form fetched in one browser
// cannot be posted from another and a callback cannot be replayed elsewhere.
type Guard struct {
	key []byte
	// Insecure drops the __Host- prefix and the Secure flag, for plain http
	// on loopback only (browsers refuse Secure cookies over http).
	insecure bool
}

// NewGuard returns a Guard keyed by key (≥ 32 bytes, derived from the server
// secret). insecure is for plain-http loopback development.
func NewGuard(key []byte, insecure bool) *Guard {
	return &Guard{key: append([]byte(nil), key...), insecure: insecure}
}

// CookieName is the browser-binding cookie's name.
func (g *Guard) CookieName() string {
	if g.insecure {
		return "kmcp_browser"
	}
	return "__Host-kmcp_browser"
}

// Browser returns the browser id from the request's cookie, or "".
func (g *Guard) Browser(r *http.Request) string {
	c, err := r.Cookie(g.CookieName())
	if err != nil || len(c.Value) < 32 || len(c.Value) > 64 {
		return ""
	}
	return c.Value
}

// EnsureBrowser returns the browser id, setting a fresh cookie when the
// request has none.
func (g *Guard) EnsureBrowser(w http.ResponseWriter, r *http.Request) string {
	if id := g.Browser(r); id != "" {
		return id
	}
	id := rand.Text() + rand.Text() // 2 × 128 bits
	http.SetCookie(w, &http.Cookie{
		Name:     g.CookieName(),
		Value:    id,
		Path:     "/",
		Secure:   !g.insecure,
		HttpOnly: true,
		// Lax: the cookie must come back on the top-level redirect from
		// Keboola to /oauth/callback.
		SameSite: http.SameSiteLaxMode,
		MaxAge:   3600,
	})
	return id
}

func (g *Guard) mac(purpose, browser, bound string) []byte {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(browser))
	m.Write([]byte{0})
	m.Write([]byte(bound))
	return m.Sum(nil)
}

// CSRFToken returns the form token for this browser and this form (bound is
// the opaque request the form carries).
func (g *Guard) CSRFToken(browser, bound string) string {
	return base64.RawURLEncoding.EncodeToString(g.mac("csrf", browser, bound))
}

// CheckCSRF reports whether token was issued by CSRFToken for the browser
// that sent r and the same bound value.
func (g *Guard) CheckCSRF(r *http.Request, bound, token string) bool {
	browser := g.Browser(r)
	if browser == "" || token == "" {
		return false
	}
	want := g.CSRFToken(browser, bound)
	return subtle.ConstantTimeCompare([]byte(want), []byte(token)) == 1
}

// Binding returns the value stored with an upstream state so that only the
// same browser can complete the login.
func (g *Guard) Binding(browser string) []byte { return g.mac("state", browser, "") }

// RequestBinding is the binding of the browser that sent r, to be compared
// with the one stored with a state; nil when r carries no browser cookie,
// which matches no stored binding.
func (g *Guard) RequestBinding(r *http.Request) []byte {
	browser := g.Browser(r)
	if browser == "" {
		return nil
	}
	return g.Binding(browser)
}
