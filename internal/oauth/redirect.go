package oauth

import (
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
)

var schemeRE = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// Schemes that run code or read local data in a browser, or that are
// plain-text network schemes: never a redirect target.
var forbiddenSchemes = map[string]bool{
	"javascript": true, "data": true, "vbscript": true, "file": true, "about": true,
	"blob": true, "filesystem": true, "ftp": true, "ws": true, "wss": true, "view-source": true,
}

// validateRedirectURI applies the registration rules: an absolute URI
// without a fragment or user info; https, http on a loopback host
// (RFC 8252 §7.3), or a private-use scheme for native apps (cursor://…).
func validateRedirectURI(raw string) error {
	if raw == "" || len(raw) > 2000 {
		return errors.New("a redirect URI must be 1 to 2000 characters")
	}
	for i := 0; i < len(raw); i++ {
		// URIs are ASCII (RFC 3986). A raw Unicode host would be shown on
		// the consent page as typed, so a look-alike (a Cyrillic "а" in
		// "apple.com") could pass for a trusted host; punycode cannot.
		if c := raw[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`\<>"`, c) >= 0 {
			return errors.New("redirect URI " + quote(raw) + " contains characters that are not allowed; percent-encode them, and write internationalised hosts in punycode (xn--…)")
		}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return errors.New("redirect URI " + quote(raw) + " is not an absolute URI")
	}
	if strings.Contains(raw, "#") {
		return errors.New("redirect URI " + quote(raw) + " must not contain a fragment")
	}
	if u.User != nil {
		return errors.New("redirect URI " + quote(raw) + " must not contain user information")
	}
	// url.Parse lowers the scheme, so look at the URI as registered: it is
	// matched byte for byte later, and a canonical form avoids surprises.
	scheme := u.Scheme
	if !strings.HasPrefix(raw, scheme+":") || !schemeRE.MatchString(scheme) {
		return errors.New("redirect URI " + quote(raw) + " has an invalid scheme; write it in lower case, e.g. https:")
	}
	switch {
	case forbiddenSchemes[scheme]:
		return errors.New("redirect URI scheme " + scheme + ": is not allowed")
	case scheme == "https":
		if u.Host == "" {
			return errors.New("redirect URI " + quote(raw) + " has no host")
		}
	case scheme == "http":
		if !access.IsLoopbackHost(u.Hostname()) {
			return errors.New("redirect URI " + quote(raw) + " must use https (plain http only for 127.0.0.1, [::1] or localhost)")
		}
	case strings.HasPrefix(scheme, "web+"):
		// web+ schemes are handed by the browser to whatever website
		// registered itself for them (registerProtocolHandler): a website
		// this server cannot name, not an app on this computer.
		return errors.New("redirect URI scheme " + scheme + ": is a browser protocol handler; use https or an app's private-use scheme")
	default:
		// A private-use scheme: the app registered it with the OS.
		if u.Opaque != "" && !strings.HasPrefix(u.Opaque, "/") {
			return errors.New("redirect URI " + quote(raw) + " is not a valid private-use URI")
		}
	}
	return nil
}

// redirectMatches reports whether given is one of the registered redirect
// URIs: an exact string match, except that a loopback http redirect may use
// any port (native apps pick a free port at run time, RFC 8252 §7.3).
func redirectMatches(registered []string, given string) bool {
	for _, r := range registered {
		if r == given {
			return true
		}
	}
	g, err := url.Parse(given)
	if err != nil || g.Scheme != "http" || !access.IsLoopbackHost(g.Hostname()) || g.Fragment != "" || g.User != nil {
		return false
	}
	for _, r := range registered {
		ru, err := url.Parse(r)
		if err != nil || ru.Scheme != "http" || !access.IsLoopbackHost(ru.Hostname()) {
			continue
		}
		if ru.Hostname() == g.Hostname() && ru.EscapedPath() == g.EscapedPath() && ru.RawQuery == g.RawQuery {
			return true
		}
	}
	return false
}

func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return `"` + s + `"`
}
