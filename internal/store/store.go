// Package store keeps the authorization server's state: registered clients,
// authorization codes, grants, access and refresh tokens, and pending
// upstream (Keboola OAuth) states.
//
// The interface is made of atomic primitives (consume a code once, rotate a
// refresh token, revoke a grant with everything issued from it, sweep what
// expired) so that a multi-instance backend (Postgres, Redis) can implement
// the same contract with transactions or scripts. Nothing here ever holds a
// usable secret: tokens and codes are stored as SHA-256 hashes, client secrets
// as hashes, and a grant's Keboola credentials only as ciphertext whose key is
// wrapped under each live token (see docs/security.md and internal/oauth).
package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors callers branch on.
var (
	// ErrNotFound: no such record, or it has expired.
	ErrNotFound = errors.New("store: not found")
	// ErrCodeReplayed: the authorization code was already used. The store
	// has already revoked the grant it issued (RFC 6749 §10.5).
	ErrCodeReplayed = errors.New("store: authorization code already used")
	// ErrRefreshReused: a superseded refresh token was presented after the
	// grace window. The store has already revoked the whole grant.
	ErrRefreshReused = errors.New("store: refresh token reused")
	// ErrWrongBrowser: a pending state was presented by a browser it is not
	// bound to; it was left in place.
	ErrWrongBrowser = errors.New("store: pending state bound to another browser")
	// ErrConflict: a record with the same key already exists.
	ErrConflict = errors.New("store: already exists")
)

// Client is a registered OAuth client (RFC 7591). Clients identified by a
// metadata document URL (CIMD) are not stored; they are fetched and cached.
type Client struct {
	ID string
	// SecretHash is SHA-256 of the client secret; nil for public clients.
	SecretHash   []byte
	RedirectURIs []string
	Name         string
	// AuthMethod is the token endpoint auth method: none,
	// client_secret_basic or client_secret_post.
	AuthMethod string
	GrantTypes []string
	Scope      string
	CreatedAt  time.Time
}

// Grant is one user's consent for one client: the Keboola credentials it
// carries are sealed with a per-grant data key that is stored only wrapped
// under the grant's codes and tokens.
type Grant struct {
	ID       string
	ClientID string
	Scope    string
	Resource string
	// Sealed is the AES-256-GCM ciphertext of the grant's credentials.
	Sealed    []byte
	CreatedAt time.Time
	// ExpiresAt moves forward with each refresh; a grant outlives every
	// token issued from it.
	ExpiresAt time.Time
}

// Code is an authorization code, bound to the client, redirect URI, PKCE
// challenge and resource it was issued for.
type Code struct {
	Hash          []byte
	GrantID       string
	ClientID      string
	RedirectURI   string
	CodeChallenge string
	Resource      string
	Scope         string
	// WrappedKey is the grant's data key wrapped under a key derived from
	// the code itself.
	WrappedKey []byte
	ExpiresAt  time.Time
}

// Token is an access or refresh token record.
type Token struct {
	Hash       []byte
	GrantID    string
	ClientID   string
	Scope      string
	Resource   string
	WrappedKey []byte
	ExpiresAt  time.Time
}

// Pending is the state of a login waiting for the upstream Keboola OAuth
// server to send the browser back to /oauth/callback.
type Pending struct {
	// Hash is SHA-256 of the state parameter sent upstream.
	Hash []byte
	// Binding ties the state to the browser that started the login
	// (a keyed hash of its cookie).
	Binding []byte
	// Payload is the sealed authorization request and consent.
	Payload   []byte
	ExpiresAt time.Time
}

// Rotation asks RotateRefresh to replace the refresh token OldHash with
// Refresh and issue Access next to it.
type Rotation struct {
	OldHash []byte
	Now     time.Time
	// Grace is how long after a rotation the old token still answers with
	// the same successor (a lost response or two racing tabs).
	Grace   time.Duration
	Access  Token
	Refresh Token
	// Successor is the new token pair sealed under a key derived from the
	// old refresh token, returned verbatim to a retry within Grace.
	Successor []byte
	// GrantExpires is the grant's new expiry.
	GrantExpires time.Time
}

// Stats counts live records, for metrics and tests.
type Stats struct {
	Clients, Grants, Codes, AccessTokens, RefreshTokens, Pending int64
}

// Store is the persistence contract of the authorization server. Every
// method is atomic on its own; a failed write is returned as an error and
// must never be treated as success.
type Store interface {
	CreateClient(ctx context.Context, c *Client) error
	// Client returns ErrNotFound for an unknown id.
	Client(ctx context.Context, id string) (*Client, error)

	// CreateGrant stores a new grant together with the code that will
	// redeem it.
	CreateGrant(ctx context.Context, g *Grant, c *Code) error
	// ConsumeCode marks a code used and returns it. A code that was used
	// before yields ErrCodeReplayed and its grant is revoked in the same
	// transaction; an unknown or expired code yields ErrNotFound.
	ConsumeCode(ctx context.Context, hash []byte, now time.Time) (*Code, error)
	// IssueTokens stores the first token pair of a grant and sets its
	// expiry. It fails with ErrNotFound if the grant was revoked meanwhile.
	IssueTokens(ctx context.Context, access, refresh *Token, grantExpires time.Time) error
	Grant(ctx context.Context, id string) (*Grant, error)
	// UpdateGrantSealed replaces a grant's sealed credentials (an upstream
	// refresh produced new ones).
	UpdateGrantSealed(ctx context.Context, id string, sealed []byte) error
	// RevokeGrant deletes a grant and every token issued from it.
	RevokeGrant(ctx context.Context, id string) error

	// AccessToken returns a live access token and its grant.
	AccessToken(ctx context.Context, hash []byte, now time.Time) (*Token, *Grant, error)
	// RefreshToken returns a live refresh token, current or superseded.
	RefreshToken(ctx context.Context, hash []byte, now time.Time) (*Token, error)
	// RotateRefresh replaces a current refresh token. If the token was
	// already rotated less than r.Grace ago it returns the stored successor
	// and issues nothing; if longer ago it revokes the grant and returns
	// ErrRefreshReused.
	RotateRefresh(ctx context.Context, r Rotation) (successor []byte, err error)
	// RevokeToken revokes an access token, or a refresh token together with
	// its grant. Unknown hashes are not an error (RFC 7009).
	RevokeToken(ctx context.Context, hash []byte) error

	SavePending(ctx context.Context, p *Pending) error
	// ConsumePending deletes and returns a live pending state, but only for
	// the browser it is bound to: with another binding it returns
	// ErrWrongBrowser and leaves the state in place, so whoever else holds
	// the callback URL cannot spoil the sign-in of the browser that started
	// it.
	ConsumePending(ctx context.Context, hash, binding []byte, now time.Time) (*Pending, error)

	// Sweep deletes expired records and reports how many.
	Sweep(ctx context.Context, now time.Time) (int64, error)
	Stats(ctx context.Context) (Stats, error)
	Close() error
}

// insertError is what an insert returns: ErrConflict when the key is taken
// (unique recognises the driver's error for that), other errors wrapped
// with what was being stored.
func insertError(err error, unique func(error) bool, what string) error {
	if unique(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
