package oauth

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// CIMDOptions configures fetching Client ID Metadata Documents.
type CIMDOptions struct {
	// AllowPrivate permits documents on loopback and private addresses.
	// Only tests set it: in production it would let anyone make this server
	// call into its own network (SSRF).
	AllowPrivate bool
	// TLSConfig overrides the TLS client configuration (tests trust their
	// own certificate with it).
	TLSConfig *tls.Config
	// Timeout bounds one fetch; zero means 5 s.
	Timeout time.Duration
}

const (
	maxCIMDBytes    = 5 << 10
	maxCIMDEntries  = 1000
	defaultCIMDTTL  = 5 * time.Minute
	maxCIMDTTL      = 24 * time.Hour
	minCIMDTTL      = 30 * time.Second
	defaultCIMDWait = 5 * time.Second
)

// errCIMD marks a client id URL whose document could not be used; it is
// reported as an unknown client.
var errCIMD = errors.New("client metadata document")

// cimdEntry is a cached document, or (c nil) a remembered failure.
type cimdEntry struct {
	c       *client
	err     error
	expires time.Time
}

type cimdFetcher struct {
	http *http.Client
	now  func() time.Time
	mu   sync.Mutex
	m    map[string]cimdEntry
}

func newCIMDFetcher(o CIMDOptions, now func() time.Time) *cimdFetcher {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = defaultCIMDWait
	}
	dialer := &net.Dialer{Timeout: timeout}
	if !o.AllowPrivate {
		// Checked after DNS resolution, on the address actually dialled,
		// so a hostname that resolves to an internal address (or changes
		// its answer between checks) is refused too.
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: cannot parse dialled address", errCIMD)
			}
			if !publicAddr(ap.Addr()) {
				return fmt.Errorf("%w: %s is not a public address", errCIMD, ap.Addr())
			}
			return nil
		}
	}
	tr := &http.Transport{
		// No proxy: a proxy would dial on our behalf, bypassing the check.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       o.TLSConfig,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
	}
	return &cimdFetcher{
		http: &http.Client{
			Transport: tr,
			Timeout:   timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return fmt.Errorf("%w: redirects are not followed", errCIMD)
			},
		},
		now: now,
		m:   map[string]cimdEntry{},
	}
}

// publicAddr reports whether a is a globally routable unicast address.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// nonPublic are special-purpose ranges the netip predicates miss. The IPv6
// ones that embed an IPv4 address (compatible ::/96, NAT64, 6to4, Teredo)
// could be carried to an internal IPv4 host by a tunnel or translator on
// this server's network; site-local fec0::/10 is deprecated but may still
// be routed internally.
var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
		"::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32", "2002::/16", "fec0::/10",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// validCIMDURL applies the draft's rules to a client id URL: https, a host,
// a path other than "/", no fragment, credentials or dot segments.
func validCIMDURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%w: client id %s is not a valid https URL", errCIMD, quote(raw))
	}
	if u.Path == "" || u.Path == "/" {
		return fmt.Errorf("%w: client id %s needs a path", errCIMD, quote(raw))
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("%w: client id %s has dot segments", errCIMD, quote(raw))
		}
	}
	if len(raw) > 2000 {
		return fmt.Errorf("%w: client id is too long", errCIMD)
	}
	return nil
}

// get returns the client described by the document at id, from the cache
// or fetched when allow (the caller's rate limit) lets it. Failures are
// remembered for minCIMDTTL, so repeating a bad client id does not make
// this server call the same URL again and again.
func (f *cimdFetcher) get(ctx context.Context, id string, allow func() bool) (*client, error) {
	if err := validCIMDURL(id); err != nil {
		return nil, err
	}
	now := f.now()
	f.mu.Lock()
	e, ok := f.m[id]
	f.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.c, e.err
	}
	if !allow() {
		return nil, fmt.Errorf("%w: too many client metadata fetches from this address; retry in a minute", errCIMD)
	}
	c, ttl, err := f.fetch(ctx, id)
	switch {
	case err != nil && ctx.Err() == nil:
		f.put(id, cimdEntry{err: err, expires: now.Add(minCIMDTTL)}, now)
	case err == nil && ttl > 0:
		f.put(id, cimdEntry{c: c, expires: now.Add(ttl)}, now)
	}
	return c, err
}

func (f *cimdFetcher) put(id string, e cimdEntry, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.m) >= maxCIMDEntries {
		for k, v := range f.m {
			if !now.Before(v.expires) || len(f.m) >= maxCIMDEntries {
				delete(f.m, k)
			}
		}
	}
	f.m[id] = e
}

func (f *cimdFetcher) fetch(ctx context.Context, id string) (*client, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", errCIMD, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: fetching %s: %v", errCIMD, quote(id), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("%w: %s answered HTTP %d", errCIMD, quote(id), resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCIMDBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: reading %s: %v", errCIMD, quote(id), err)
	}
	if len(body) > maxCIMDBytes {
		return nil, 0, fmt.Errorf("%w: %s is larger than %d bytes", errCIMD, quote(id), maxCIMDBytes)
	}
	var doc struct {
		ClientID                string   `json:"client_id"`
		ClientName              string   `json:"client_name"`
		RedirectURIs            []string `json:"redirect_uris"`
		TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, 0, fmt.Errorf("%w: %s is not JSON client metadata", errCIMD, quote(id))
	}
	if doc.ClientID != id {
		return nil, 0, fmt.Errorf("%w: the document's client_id does not equal its URL", errCIMD)
	}
	if doc.TokenEndpointAuthMethod != "" && doc.TokenEndpointAuthMethod != "none" {
		return nil, 0, fmt.Errorf("%w: only public clients (token_endpoint_auth_method none) may use a metadata document", errCIMD)
	}
	if len(doc.RedirectURIs) == 0 || len(doc.RedirectURIs) > maxRedirectURIs {
		return nil, 0, fmt.Errorf("%w: the document needs 1 to %d redirect_uris", errCIMD, maxRedirectURIs)
	}
	for _, u := range doc.RedirectURIs {
		if err := validateRedirectURI(u); err != nil {
			return nil, 0, fmt.Errorf("%w: %v", errCIMD, err)
		}
	}
	if e := checkName(doc.ClientName); e != nil {
		return nil, 0, fmt.Errorf("%w: %s", errCIMD, e.Description)
	}
	return &client{ID: id, Name: doc.ClientName, RedirectURIs: doc.RedirectURIs, AuthMethod: "none", Verified: true},
		cacheTTL(resp.Header.Get("Cache-Control")), nil
}

// cacheTTL reads max-age from Cache-Control, clamped to sane bounds;
// no-store and no-cache mean "do not cache".
func cacheTTL(cc string) time.Duration {
	ttl := defaultCIMDTTL
	for _, d := range strings.Split(cc, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		switch {
		case d == "no-store" || d == "no-cache":
			return 0
		case strings.HasPrefix(d, "max-age="):
			n, err := strconv.Atoi(strings.TrimPrefix(d, "max-age="))
			if err == nil {
				ttl = time.Duration(n) * time.Second
			}
		}
	}
	return min(max(ttl, minCIMDTTL), maxCIMDTTL)
}
