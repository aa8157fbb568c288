package keboola

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Sessions keeps one Client per set of credentials for a while. A client is
// a user's session with Keboola: it remembers what it learnt (the token's
// verification, the default branch id the Query Service needs, the query
// workspace), so consecutive tool calls of a user do not ask again, and all
// clients share one connection pool. Keys are hashes of the credentials: the
// cache holds no token that is not inside a client.
type Sessions struct {
	opts    Options
	ttl     time.Duration
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	entries map[[sha256.Size]byte]session
}

type session struct {
	client  *Client
	expires time.Time
}

// SessionOptions bound a Sessions cache. Zero fields take the defaults in
// brackets.
type SessionOptions struct {
	// TTL is how long a session is reused [10 min].
	TTL time.Duration
	// MaxSessions bounds the cache [1024].
	MaxSessions int
	// Now is the clock [time.Now].
	Now func() time.Time
}

// NewSessions returns an empty cache whose clients are made with o.
func NewSessions(o Options, so SessionOptions) *Sessions {
	if o.HTTPClient == nil {
		// New would give every client its own transport, and so a new TCP
		// and TLS handshake per session.
		o.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if so.TTL <= 0 {
		so.TTL = 10 * time.Minute
	}
	if so.MaxSessions <= 0 {
		so.MaxSessions = 1024
	}
	if so.Now == nil {
		so.Now = time.Now
	}
	return &Sessions{opts: o, ttl: so.TTL, maxKeys: so.MaxSessions, now: so.Now, entries: map[[sha256.Size]byte]session{}}
}

func credentialsKey(c Credentials) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00", c.StackURL, c.BranchID, c.WorkspaceSchema, len(c.StorageToken))
	h.Write([]byte(c.StorageToken.Reveal()))
	h.Write([]byte{0})
	h.Write([]byte(c.OAuthToken.Reveal()))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// Client returns the session client for creds, making one when there is
// none or it has expired.
func (s *Sessions) Client(creds Credentials) (*Client, error) {
	key := credentialsKey(creds)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok && now.Before(e.expires) {
		return e.client, nil
	}
	client, err := New(creds, s.opts)
	if err != nil {
		return nil, err
	}
	if len(s.entries) >= s.maxKeys {
		for k, e := range s.entries {
			if now.After(e.expires) {
				delete(s.entries, k)
			}
		}
		if len(s.entries) >= s.maxKeys {
			// Every entry is live: start over rather than track recency;
			// a dropped session costs one branch and workspace lookup.
			clear(s.entries)
		}
	}
	s.entries[key] = session{client: client, expires: now.Add(s.ttl)}
	return client, nil
}
