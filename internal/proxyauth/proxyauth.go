// Package proxyauth signs and verifies the headers with which the Cloudflare
// Worker forwards a user's Keboola credentials to a native
// `keboola-mcp serve --auth proxy`.
//
// The Worker has already authenticated the MCP client (OAuth) and decrypted
// the grant's props; the native server must trust those credentials only when
// they come from the Worker. Both share MCP_PROXY_SECRET. A request carries:
//
//	X-Keboola-MCP-Stack      the Storage API URL
//	X-Keboola-MCP-Token      the Storage API token
//	X-Keboola-MCP-Scope      granted scopes, space separated (keboola:read [keboola:write])
//	X-Keboola-MCP-OAuth-Token  optional: the Keboola OAuth bearer of a
//	                         "Sign in with Keboola" grant, while it is valid
//	X-Keboola-MCP-Timestamp  Unix seconds when the Worker signed it
//	X-Keboola-MCP-Nonce      a random value used once
//	X-Keboola-MCP-Signature  "v1=" or "v2=" + hex HMAC-SHA256(secret, canonical string)
//
// The canonical string binds the method, path and query, timestamp, nonce,
// body and credentials (see Canonical), so none can be changed or moved to
// another request. A request without a bearer is signed as v1, one with a
// bearer as v2, whose canonical string names its version and adds the
// bearer's hash: the verifier derives the version from the presence of the
// bearer header, so adding a bearer to a v1 request or stripping it from a v2
// one changes the string the signature must match. v1 stays the format of
// bearer-less requests, so a Worker and a server of different releases
// still agree on them. The verifier accepts a timestamp within a short window and
// remembers nonces for that window, so a captured request cannot be replayed
// to the same instance. The TypeScript signer in worker/src/proxyauth.ts
// implements the same format; testdata/vectors.json pins both.
package proxyauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// Header names of the signed proxy protocol.
const (
	HeaderStack     = "X-Keboola-MCP-Stack"
	HeaderToken     = "X-Keboola-MCP-Token"
	HeaderScope     = "X-Keboola-MCP-Scope"
	HeaderTimestamp = "X-Keboola-MCP-Timestamp"
	HeaderNonce     = "X-Keboola-MCP-Nonce"
	HeaderSignature = "X-Keboola-MCP-Signature"
	// HeaderOAuthToken is optional: absent means no bearer.
	HeaderOAuthToken = "X-Keboola-MCP-OAuth-Token"
)

// MinSecretLen is the shortest shared secret accepted: 32 bytes, the size of
// the HMAC-SHA256 key that gives full strength.
const MinSecretLen = 32

// DefaultWindow is how far a request's timestamp may be from the verifier's
// clock, either way. Short, since the Worker signs just before sending.
const DefaultWindow = 60 * time.Second

// The protocol versions: v1 signs requests without a bearer, v2 those with one.
const (
	versionNoBearer   = "v1"
	versionWithBearer = "v2"
)

// canonicalPrefix starts a canonical string's first line, which ends in its version.
const canonicalPrefix = "keboola-mcp-proxy-"

// Forwarded is what a signed request says about its user.
type Forwarded struct {
	// StackURL is the Storage API URL the credentials belong to.
	StackURL string
	// Token is the user's Storage API token.
	Token keboola.Secret
	// Scopes are the scopes of the user's grant.
	Scopes []string
	// OAuthToken is the Keboola OAuth bearer of a "Sign in with Keboola"
	// grant while it is valid; zero for none.
	OAuthToken keboola.Secret
}

// ReadOnly reports whether the grant lacks keboola:write.
func (f Forwarded) ReadOnly() bool { return access.ReadOnlyScopes(f.Scopes) }

// Credentials returns the forwarded credentials as the keboola package
// takes them.
func (f Forwarded) Credentials() keboola.Credentials {
	return keboola.Credentials{StackURL: f.StackURL, StorageToken: f.Token, OAuthToken: f.OAuthToken}
}

func (f Forwarded) version() string {
	if f.OAuthToken.IsZero() {
		return versionNoBearer
	}
	return versionWithBearer
}

// Canonical returns the string that is signed: lines joined by "\n" with the
// version, method, path with query, timestamp, nonce, hex SHA-256 of the
// body, stack URL, scopes, and hex SHA-256 of the token; with a bearer (v2),
// a last line with the hex SHA-256 of the bearer. Hashing the body and the
// tokens keeps arbitrary bytes out of the line structure; header values
// cannot contain newlines, so the other fields cannot forge a line break.
func Canonical(method, pathQuery string, timestamp int64, nonce string, body []byte, f Forwarded) string {
	lines := []string{
		canonicalPrefix + f.version(),
		strings.ToUpper(method),
		pathQuery,
		strconv.FormatInt(timestamp, 10),
		nonce,
		sha256Hex(body),
		f.StackURL,
		strings.Join(f.Scopes, " "),
		sha256Hex([]byte(f.Token.Reveal())),
	}
	if !f.OAuthToken.IsZero() {
		lines = append(lines, sha256Hex([]byte(f.OAuthToken.Reveal())))
	}
	return strings.Join(lines, "\n")
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Signature returns the value of the signature header for a canonical
// string: the version its first line names, "=", and the hex HMAC.
func Signature(secret []byte, canonical string) string {
	first, _, _ := strings.Cut(canonical, "\n")
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(canonical))
	return strings.TrimPrefix(first, canonicalPrefix) + "=" + hex.EncodeToString(m.Sum(nil))
}

func checkSecret(secret []byte) error {
	if len(secret) < MinSecretLen {
		return fmt.Errorf("proxyauth: the proxy secret must be at least %d bytes (got %d); generate one with `openssl rand -hex 32`", MinSecretLen, len(secret))
	}
	return nil
}

// Signer adds signed credential headers to outgoing requests. The Worker has
// its own signer in TypeScript; this one serves tests and Go callers.
type Signer struct {
	secret []byte
	// Now returns the signing time; nil means time.Now.
	Now func() time.Time
}

// NewSigner returns a Signer for secret (at least MinSecretLen bytes).
func NewSigner(secret []byte) (*Signer, error) {
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	return &Signer{secret: bytes.Clone(secret)}, nil
}

// Sign sets the credential and signature headers on r, whose body must be
// body (nil for none).
func (s *Signer) Sign(r *http.Request, body []byte, f Forwarded) error {
	if err := f.validate(); err != nil {
		return err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ts := now().Unix()
	nonce := rand.Text()
	canonical := Canonical(r.Method, r.URL.RequestURI(), ts, nonce, body, f)
	r.Header.Set(HeaderStack, f.StackURL)
	r.Header.Set(HeaderToken, f.Token.Reveal())
	r.Header.Set(HeaderScope, strings.Join(f.Scopes, " "))
	r.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	r.Header.Set(HeaderNonce, nonce)
	r.Header.Set(HeaderSignature, Signature(s.secret, canonical))
	if !f.OAuthToken.IsZero() {
		r.Header.Set(HeaderOAuthToken, f.OAuthToken.Reveal())
	}
	return nil
}

func (f Forwarded) validate() error {
	if _, err := keboola.ParseStackURL(f.StackURL); err != nil {
		return err
	}
	if f.Token.IsZero() || !printableASCII(f.Token.Reveal()) {
		return errors.New("proxyauth: the Storage token is empty or has characters a header cannot carry")
	}
	if !f.OAuthToken.IsZero() && !printableASCII(f.OAuthToken.Reveal()) {
		return errors.New("proxyauth: the OAuth bearer has characters a header cannot carry")
	}
	if len(f.Scopes) == 0 {
		return errors.New("proxyauth: no scope granted")
	}
	for _, s := range f.Scopes {
		if s != access.ScopeRead && s != access.ScopeWrite {
			return fmt.Errorf("proxyauth: unknown scope %q", s)
		}
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// readBody reads and restores r.Body, refusing more than access.MaxRequestBytes.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, access.MaxRequestBytes+1))
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	if len(body) > access.MaxRequestBytes {
		return nil, fmt.Errorf("the request body exceeds %d bytes", access.MaxRequestBytes)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}
