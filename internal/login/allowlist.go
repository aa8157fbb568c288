// Package login is the Keboola side of authorization: the stack allowlist,
// the login + consent page (paste a Storage token, or sign in with Keboola
// OAuth), the browser binding and CSRF tokens that protect the form, and the
// upstream Keboola OAuth client. It knows nothing about our own OAuth tokens;
// internal/oauth drives it.
package login

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
)

// DefaultStacks are Keboola's public multi-tenant stacks (Storage API URLs).
var DefaultStacks = []string{
	"https://connection.keboola.com",
	"https://connection.us-east4.gcp.keboola.com",
	"https://connection.eu-central-1.keboola.com",
	"https://connection.north-europe.azure.keboola.com",
	"https://connection.europe-west3.gcp.keboola.com",
}

// Allowlist is the set of Keboola stacks users may log in to. A token is
// only ever sent to a stack on this list, so a login form cannot be abused to
// make the server call an arbitrary host.
type Allowlist struct {
	stacks []string
	set    map[string]bool
}

// NewAllowlist normalises and deduplicates stacks; empty means DefaultStacks.
func NewAllowlist(stacks []string) (*Allowlist, error) {
	if len(stacks) == 0 {
		stacks = DefaultStacks
	}
	a := &Allowlist{set: map[string]bool{}}
	for _, s := range stacks {
		n, err := NormalizeStackURL(s)
		if err != nil {
			return nil, err
		}
		if !a.set[n] {
			a.set[n] = true
			a.stacks = append(a.stacks, n)
		}
	}
	return a, nil
}

// Stacks returns the allowed stacks in the order given.
func (a *Allowlist) Stacks() []string { return append([]string(nil), a.stacks...) }

// Match normalises raw and reports whether it is allowed; the normalised
// form is what callers must use from then on.
func (a *Allowlist) Match(raw string) (string, bool) {
	n, err := NormalizeStackURL(raw)
	if err != nil {
		return "", false
	}
	return n, a.set[n]
}

// NormalizeStackURL reduces a Storage API URL to scheme://host[:port] in
// lower case, without a default port or trailing slash. Plain http is
// accepted only for loopback hosts (the fake stack in development).
func NormalizeStackURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("stack %q is not an absolute URL like https://connection.keboola.com", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return "", fmt.Errorf("stack %q must be a bare origin like https://connection.keboola.com", raw)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	switch {
	case scheme == "https":
		if port == "443" {
			port = ""
		}
	case scheme == "http" && access.IsLoopbackHost(host):
		if port == "80" {
			port = ""
		}
	case scheme == "http":
		return "", errors.New("stack " + raw + " must use https (plain http is allowed only on loopback)")
	default:
		return "", fmt.Errorf("stack %q must use https", raw)
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host, nil
}

// LenientStackURL reads a Storage API URL as the Python server reads
// KBC_STORAGE_API_URL and X-Storage-Api-Url: a bare host gets https://
// (http:// for localhost), and a path, query or fragment is dropped. It
// returns the normalised URL and whether that differs from what was given,
// so the caller can log the amendment.
func LenientStackURL(raw string) (string, bool, error) {
	given := strings.TrimSpace(raw)
	s := given
	if s == "" {
		return "", false, errors.New("the stack URL is empty")
	}
	if !strings.Contains(s, "://") {
		host, _, _ := strings.Cut(s, "/")
		scheme := "https://"
		if h, _, err := net.SplitHostPort(host); (err == nil && strings.EqualFold(h, "localhost")) || strings.EqualFold(host, "localhost") {
			scheme = "http://"
		}
		s = scheme + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", false, fmt.Errorf("stack %q is not a URL like https://connection.keboola.com", given)
	}
	n, err := NormalizeStackURL(u.Scheme + "://" + u.Host)
	if err != nil {
		return "", false, err
	}
	return n, n != strings.TrimRight(given, "/"), nil
}
