package keboola

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// TokenInfo is what Keboola says about a token (GET /v2/storage/tokens/verify).
type TokenInfo struct {
	ID                FlexString        `json:"id"`
	Description       string            `json:"description"`
	IsMasterToken     bool              `json:"isMasterToken"`
	CanManageBuckets  bool              `json:"canManageBuckets"`
	CanManageTokens   bool              `json:"canManageTokens"`
	Expires           Time              `json:"expires"`
	BucketPermissions FlexMap[string]   `json:"bucketPermissions"`
	Admin             *TokenAdmin       `json:"admin,omitempty"`
	Organization      TokenOrganization `json:"organization"`
	Owner             Project           `json:"owner"`
	ComponentAccess   []string          `json:"componentAccess,omitempty"`
}

// TokenAdmin is the person behind a master token.
type TokenAdmin struct {
	ID       FlexString `json:"id"`
	Name     string     `json:"name"`
	Role     string     `json:"role"`
	Features []string   `json:"features"`
}

// TokenOrganization is the organization owning the project.
type TokenOrganization struct {
	ID FlexString `json:"id"`
}

// Project is the Keboola project a token belongs to.
type Project struct {
	ID             FlexString `json:"id"`
	Name           string     `json:"name"`
	Features       []string   `json:"features"`
	DefaultBackend string     `json:"defaultBackend"`
	HasSnowflake   bool       `json:"hasSnowflake"`
	HasBigquery    bool       `json:"hasBigquery"`
}

// Backend is the SQL backend the project's workspaces run on: "bigquery"
// for BigQuery projects, "snowflake" otherwise.
func (p Project) Backend() string {
	if strings.EqualFold(p.DefaultBackend, "bigquery") || (p.HasBigquery && !p.HasSnowflake) {
		return "bigquery"
	}
	return "snowflake"
}

// HasFeature reports whether the project has a feature flag (e.g. "global-search").
func (p Project) HasFeature(name string) bool {
	for _, f := range p.Features {
		if f == name {
			return true
		}
	}
	return false
}

const (
	verifyTTL    = 60 * time.Second
	verifyMaxLen = 4096
)

type verifyEntry struct {
	info    TokenInfo
	expires time.Time
}

// verifyCache remembers successful verifications per (stack, SHA-256 of the
// token) for a minute: the Python server verified on every tool call, which
// costs a round trip each time. Only the hash is kept, so a heap dump does not
// reveal tokens. Failures are not cached, so a fixed token works at once.
var verifyCache = struct {
	sync.Mutex
	m map[[sha256.Size]byte]verifyEntry
}{m: map[[sha256.Size]byte]verifyEntry{}}

func verifyKey(stack string, auth authKind, secret Secret) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", stack, auth)
	h.Write([]byte(secret.Reveal()))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// verifyCall is one verification in flight; concurrent callers with the same
// key wait for it instead of sending their own request.
type verifyCall struct {
	done chan struct{}
	info TokenInfo
	err  error
}

var verifyInflight = struct {
	sync.Mutex
	m map[[sha256.Size]byte]*verifyCall
}{m: map[[sha256.Size]byte]*verifyCall{}}

// VerifyToken returns the token's identity and project, from a short-lived
// process-wide cache when the same token was verified recently. A bad token
// gives an error matching ErrInvalidToken. Concurrent calls for one token
// share a single request.
func (c *Client) VerifyToken(ctx context.Context) (*TokenInfo, error) {
	key := c.verifyKey
	for {
		verifyCache.Lock()
		e, ok := verifyCache.m[key]
		verifyCache.Unlock()
		if ok && time.Now().Before(e.expires) {
			return e.info.clone(), nil
		}

		verifyInflight.Lock()
		call, running := verifyInflight.m[key]
		if !running {
			call = &verifyCall{done: make(chan struct{})}
			verifyInflight.m[key] = call
		}
		verifyInflight.Unlock()
		if !running {
			return c.leadVerify(ctx, key, call)
		}
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("keboola: verifying the token: %w", ctx.Err())
		}
		// The leader's own cancellation says nothing about the token: try again.
		if errors.Is(call.err, context.Canceled) || errors.Is(call.err, context.DeadlineExceeded) {
			continue
		}
		if call.err != nil {
			return nil, call.err
		}
		return call.info.clone(), nil
	}
}

// leadVerify sends the request for everyone waiting on call.
func (c *Client) leadVerify(ctx context.Context, key [sha256.Size]byte, call *verifyCall) (*TokenInfo, error) {
	call.err = c.doJSON(ctx, request{method: "GET", path: "/v2/storage/tokens/verify"}, &call.info)
	if call.err == nil {
		verifyCache.Lock()
		if len(verifyCache.m) >= verifyMaxLen {
			evictVerify(time.Now())
		}
		verifyCache.m[key] = verifyEntry{info: call.info, expires: time.Now().Add(verifyTTL)}
		verifyCache.Unlock()
	}
	verifyInflight.Lock()
	delete(verifyInflight.m, key)
	verifyInflight.Unlock()
	close(call.done)
	if call.err != nil {
		return nil, call.err
	}
	return call.info.clone(), nil
}

// clone copies the maps and slices so callers cannot alter the cached entry.
func (t TokenInfo) clone() *TokenInfo {
	t.BucketPermissions = maps.Clone(t.BucketPermissions)
	t.ComponentAccess = slices.Clone(t.ComponentAccess)
	t.Owner.Features = slices.Clone(t.Owner.Features)
	if t.Admin != nil {
		admin := *t.Admin
		admin.Features = slices.Clone(admin.Features)
		t.Admin = &admin
	}
	return &t
}

// evictVerify drops expired entries and, if that frees nothing, the entry
// closest to expiry; called with the lock held.
func evictVerify(now time.Time) {
	var oldestKey [sha256.Size]byte
	var oldest time.Time
	for k, e := range verifyCache.m {
		if now.After(e.expires) {
			delete(verifyCache.m, k)
			continue
		}
		if oldest.IsZero() || e.expires.Before(oldest) {
			oldest, oldestKey = e.expires, k
		}
	}
	if len(verifyCache.m) >= verifyMaxLen {
		delete(verifyCache.m, oldestKey)
	}
}

// VerifyToken checks a Storage token against a stack without a full client
// (the login page uses it). stackURL must already be on the allowlist.
func VerifyToken(ctx context.Context, stackURL string, token Secret, opts Options) (*TokenInfo, error) {
	c, err := New(Credentials{StackURL: stackURL, StorageToken: token}, opts)
	if err != nil {
		return nil, err
	}
	return c.VerifyToken(ctx)
}

// TokenRequest describes a Storage token to mint (POST /v2/storage/tokens).
type TokenRequest struct {
	Description           string            `json:"description"`
	CanManageBuckets      bool              `json:"canManageBuckets"`
	CanReadAllFileUploads bool              `json:"canReadAllFileUploads"`
	BucketPermissions     map[string]string `json:"bucketPermissions,omitempty"`
	ComponentAccess       []string          `json:"componentAccess,omitempty"`
	// ExpiresIn is the lifetime; zero means the token never expires.
	ExpiresIn time.Duration `json:"-"`
}

// NewToken is a freshly minted token: its metadata plus the secret itself,
// which Keboola shows only once.
type NewToken struct {
	TokenInfo
	Token Secret
}

// CreateToken mints a Storage token in the client's project. With a Bearer
// client this turns a Keboola OAuth access token into a Storage token usable
// by every service.
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (*NewToken, error) {
	if req.Description == "" {
		return nil, errors.New("keboola: a token description is required")
	}
	if req.ExpiresIn < 0 {
		return nil, errors.New("keboola: token lifetime must not be negative")
	}
	for bucket, perm := range req.BucketPermissions {
		if perm != "read" && perm != "write" {
			return nil, fmt.Errorf("keboola: bucket permission for %q must be read or write, got %q", bucket, perm)
		}
	}
	body := struct {
		TokenRequest
		ExpiresIn int64 `json:"expiresIn,omitempty"`
	}{req, int64(req.ExpiresIn / time.Second)}
	var w struct {
		TokenInfo
		Token string `json:"token"`
	}
	// Not retried except when rejected before processing: a repeat could mint two tokens.
	if err := c.doJSON(ctx, request{method: "POST", path: "/v2/storage/tokens", body: body}, &w); err != nil {
		return nil, err
	}
	if w.Token == "" {
		return nil, errors.New("keboola: the stack created a token but did not return its value")
	}
	return &NewToken{TokenInfo: w.TokenInfo, Token: Secret(w.Token)}, nil
}
