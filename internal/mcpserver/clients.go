package mcpserver

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

// clientCache keeps one Keboola client per set of credentials for a while,
// so consecutive tool calls of a user share what a client learns (the
// default branch id the Query Service needs) and all clients share one
// connection pool. Keys are hashes: the cache holds no token it did not get
// with a client.
type clientCache struct {
	opts keboola.Options

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedClient
}

type cachedClient struct {
	client  *keboola.Client
	expires time.Time
}

const (
	clientTTL     = 10 * time.Minute
	clientMaxKeys = 1024
)

func newClientCache(o keboola.Options) *clientCache {
	if o.HTTPClient == nil {
		// keboola.New would give every client its own transport, and so
		// a new TCP and TLS handshake per tool call.
		o.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return &clientCache{opts: o, entries: map[[sha256.Size]byte]cachedClient{}}
}

func credentialsKey(c keboola.Credentials) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", c.StackURL, c.BranchID, c.WorkspaceSchema)
	h.Write([]byte(c.StorageToken.Reveal()))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func (cc *clientCache) get(creds keboola.Credentials) (*keboola.Client, error) {
	key := credentialsKey(creds)
	now := time.Now()
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if e, ok := cc.entries[key]; ok && now.Before(e.expires) {
		return e.client, nil
	}
	client, err := keboola.New(creds, cc.opts)
	if err != nil {
		return nil, err
	}
	if len(cc.entries) >= clientMaxKeys {
		for k, e := range cc.entries {
			if now.After(e.expires) {
				delete(cc.entries, k)
			}
		}
		if len(cc.entries) >= clientMaxKeys {
			// Every entry is live: start over rather than track recency;
			// a dropped client costs one branch lookup.
			clear(cc.entries)
		}
	}
	cc.entries[key] = cachedClient{client: client, expires: now.Add(clientTTL)}
	return client, nil
}

// clientFunc resolves a tool call's Keboola client from the Access in its
// context.
func (cc *clientCache) clientFunc() tools.ClientFunc {
	return func(ctx context.Context) (*keboola.Client, error) {
		a, ok := AccessFrom(ctx)
		if !ok {
			return nil, errNoAccess
		}
		return cc.get(a.Credentials)
	}
}
