package keboola

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Service names a Keboola service other than the Storage API, as listed in
// the stack index.
type Service string

// Services the client talks to or links to.
const (
	ServiceQueue       Service = "queue"
	ServiceQuery       Service = "query"
	ServiceAI          Service = "ai"
	ServiceEncryption  Service = "encryption"
	ServiceScheduler   Service = "scheduler"
	ServiceSyncActions Service = "sync-actions"
	ServiceDataScience Service = "data-science"
	ServiceMetastore   Service = "metastore"
)

// storageTokenOnly lists services that refuse Bearer tokens.
var storageTokenOnly = map[Service]bool{ServiceQueue: true, ServiceAI: true, ServiceSyncActions: true}

const (
	indexTTL         = 15 * time.Minute
	indexFailureTTL  = 30 * time.Second
	indexCacheMaxLen = 64
)

type indexEntry struct {
	services map[Service]string // accepted URLs only
	expires  time.Time
}

// indexCache holds each stack's service map for all clients of the process:
// stacks change their service URLs rarely, and a tool call must not pay a
// discovery round trip.
var indexCache = struct {
	sync.Mutex
	m map[string]indexEntry
}{m: map[string]indexEntry{}}

// baseURL returns the base URL (no trailing slash) for a service; "" is the Storage API.
func (c *Client) baseURL(ctx context.Context, s Service) (string, error) {
	if s == "" {
		return c.stack.String(), nil
	}
	return c.ServiceURL(ctx, s)
}

// ServiceURL returns the base URL of a service on the client's stack: the URL
// the stack index advertises when it passes the same-domain check, otherwise
// the host derived by replacing the leading "connection." of the stack host.
func (c *Client) ServiceURL(ctx context.Context, s Service) (string, error) {
	if c.auth == authBearer && storageTokenOnly[s] {
		return "", fmt.Errorf("keboola: the %s service accepts only a Storage API token; mint one with CreateToken first", s)
	}
	key := c.stack.String()
	now := time.Now()
	indexCache.Lock()
	entry, ok := indexCache.m[key]
	indexCache.Unlock()
	if !ok || now.After(entry.expires) {
		entry = c.fetchIndex(ctx)
		indexCache.Lock()
		if len(indexCache.m) >= indexCacheMaxLen {
			evictIndex(now)
		}
		indexCache.m[key] = entry
		indexCache.Unlock()
	}
	if u, ok := entry.services[s]; ok {
		return u, nil
	}
	if u, ok := ruleServiceURL(c.stack, s); ok {
		return u, nil
	}
	return "", fmt.Errorf("keboola: the stack %s does not advertise a %s service", c.stack.Host, s)
}

// evictIndex drops expired entries, or everything when none expired; called
// with the lock held. The cache holds one entry per allowed stack, so a full
// cache means misuse and a refill is cheap.
func evictIndex(now time.Time) {
	for k, e := range indexCache.m {
		if now.After(e.expires) {
			delete(indexCache.m, k)
		}
	}
	if len(indexCache.m) >= indexCacheMaxLen {
		clear(indexCache.m)
	}
}

type stackIndex struct {
	Services []struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	} `json:"services"`
}

// fetchIndex reads the stack index; on failure the rule applies for a short while.
func (c *Client) fetchIndex(ctx context.Context) indexEntry {
	var idx stackIndex
	err := c.doJSON(ctx, request{method: "GET", path: "/v2/storage", query: url.Values{"exclude": {"components"}}}, &idx)
	if err != nil {
		c.opts.Logger.WarnContext(ctx, "keboola: stack index unavailable, deriving service hosts from the stack host",
			"stack", c.stack.Host, "error", err.Error())
		return indexEntry{expires: time.Now().Add(indexFailureTTL)}
	}
	services := make(map[Service]string, len(idx.Services))
	for _, s := range idx.Services {
		if u, ok := acceptServiceURL(c.stack, s.URL); ok {
			services[Service(s.ID)] = u
			continue
		}
		c.opts.Logger.WarnContext(ctx, "keboola: ignoring a service URL outside the stack's domain",
			"stack", c.stack.Host, "service", s.ID, "url", redactURL(s.URL))
	}
	return indexEntry{services: services, expires: time.Now().Add(indexTTL)}
}

// acceptServiceURL is the SSRF guard for advertised service URLs: the token is
// sent to whatever URL we accept, so only the stack host itself or a sibling
// "<label>.<stack domain>" (for a connection.<domain> stack) qualifies, with
// https, or http only when the stack itself is http (a local fake).
func acceptServiceURL(stack *url.URL, advertised string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(advertised))
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && stack.Scheme == "http":
	default:
		return "", false
	}
	host := strings.ToLower(u.Host)
	if host != stack.Host {
		rest, ok := strings.CutPrefix(stack.Host, "connection.")
		if !ok {
			return "", false
		}
		label, tail, ok := strings.Cut(host, ".")
		if !ok || tail != rest || !isDNSLabel(label) {
			return "", false
		}
	}
	return u.Scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/"), true
}

// ruleServiceURL derives https://<service>.<domain> from https://connection.<domain>.
func ruleServiceURL(stack *url.URL, s Service) (string, bool) {
	rest, ok := strings.CutPrefix(stack.Host, "connection.")
	if !ok || !isDNSLabel(string(s)) {
		return "", false
	}
	return stack.Scheme + "://" + string(s) + "." + rest, true
}

func isDNSLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// redactURL keeps scheme and host of a URL for a log line, dropping any
// userinfo, path or query that could carry a credential.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(not a URL)"
	}
	return u.Scheme + "://" + u.Host
}
