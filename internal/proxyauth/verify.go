package proxyauth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

// Errors Verify wraps; the message of each tells the operator what to fix.
var (
	ErrUnsigned  = errors.New("the request carries no proxy signature")
	ErrMalformed = errors.New("the proxy headers are malformed")
	ErrExpired   = errors.New("the proxy signature is outside the accepted time window")
	ErrTampered  = errors.New("the proxy signature does not match the request")
	ErrReplayed  = errors.New("the proxy nonce was already used")
	ErrBusy      = errors.New("too many signed requests in the replay window")
)

// VerifierOptions tune a Verifier. The zero value gives the defaults.
type VerifierOptions struct {
	// Window is the accepted clock difference either way; default DefaultWindow.
	Window time.Duration
	// MaxNonces bounds the replay cache; default 1<<20. When it is full of
	// unexpired nonces, requests are refused (fail closed) rather than
	// forgetting a nonce that could then be replayed.
	MaxNonces int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Verifier checks signed proxy requests. It is safe for concurrent use. Its
// replay cache lives in memory: run one verifier per process, and know that
// several replicas behind a load balancer do not share it (the short window
// still bounds what a captured request is worth).
type Verifier struct {
	secret    []byte
	window    time.Duration
	maxNonces int
	now       func() time.Time

	mu     sync.Mutex
	nonces map[string]time.Time // nonce → when it may be forgotten
	sweep  time.Time
}

// NewVerifier returns a Verifier for secret (at least MinSecretLen bytes).
func NewVerifier(secret []byte, opts VerifierOptions) (*Verifier, error) {
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.MaxNonces <= 0 {
		opts.MaxNonces = 1 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Verifier{
		secret:    bytes.Clone(secret),
		window:    opts.Window,
		maxNonces: opts.MaxNonces,
		now:       opts.Now,
		nonces:    map[string]time.Time{},
	}, nil
}

// Verify checks r's proxy headers and returns the forwarded credentials. It
// reads the body to hash it and puts it back for the next handler. The nonce
// is recorded only once everything else checked out, so a forged request
// cannot burn a legitimate nonce.
func (v *Verifier) Verify(r *http.Request) (Forwarded, error) {
	sig := r.Header.Get(HeaderSignature)
	if sig == "" {
		return Forwarded{}, ErrUnsigned
	}
	for _, h := range []string{HeaderStack, HeaderToken, HeaderScope, HeaderTimestamp, HeaderNonce, HeaderSignature, HeaderOAuthToken} {
		// Read here as the first value, a repeated header could be read
		// as another by a component in between.
		if len(r.Header.Values(h)) > 1 {
			return Forwarded{}, fmt.Errorf("%w: %s appears more than once", ErrMalformed, h)
		}
	}
	tsText, nonce := r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderNonce)
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return Forwarded{}, fmt.Errorf("%w: %s must be Unix seconds", ErrMalformed, HeaderTimestamp)
	}
	if !validNonce(nonce) {
		return Forwarded{}, fmt.Errorf("%w: %s must be 16 to 128 characters of [A-Za-z0-9_-]", ErrMalformed, HeaderNonce)
	}
	// An absent bearer header means no bearer; an empty one is neither.
	if bearer := r.Header.Values(HeaderOAuthToken); len(bearer) == 1 && bearer[0] == "" {
		return Forwarded{}, fmt.Errorf("%w: %s is empty (leave it out when there is no bearer)", ErrMalformed, HeaderOAuthToken)
	}
	f := Forwarded{
		StackURL:   r.Header.Get(HeaderStack),
		Token:      keboola.Secret(r.Header.Get(HeaderToken)),
		Scopes:     strings.Fields(r.Header.Get(HeaderScope)),
		OAuthToken: keboola.Secret(r.Header.Get(HeaderOAuthToken)),
	}
	if err := f.validate(); err != nil {
		return Forwarded{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	now := v.now()
	signedAt := time.Unix(ts, 0)
	if d := now.Sub(signedAt); d > v.window || d < -v.window {
		return Forwarded{}, fmt.Errorf("%w (signed at %s, now %s, window ±%s): check the clocks", ErrExpired,
			signedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.window)
	}
	body, err := readBody(r)
	if err != nil {
		return Forwarded{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	want := Signature(v.secret, Canonical(r.Method, r.URL.RequestURI(), ts, nonce, body, f))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return Forwarded{}, fmt.Errorf("%w: is MCP_PROXY_SECRET the same on the Worker and this server?", ErrTampered)
	}
	if err := v.remember(nonce, signedAt.Add(v.window), now); err != nil {
		return Forwarded{}, err
	}
	return f, nil
}

// remember records a nonce until forget, refusing one already seen.
func (v *Verifier) remember(nonce string, forget, now time.Time) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	// Inclusive: Verify accepts a timestamp up to and including the end of
	// its window, so the nonce must still be known at that instant.
	if until, seen := v.nonces[nonce]; seen && !now.After(until) {
		return ErrReplayed
	}
	// Sweep at most once a second, or when full: expired nonces cannot be
	// replayed anyway, since their timestamps are outside the window.
	if len(v.nonces) >= v.maxNonces || now.Sub(v.sweep) >= time.Second {
		for n, until := range v.nonces {
			if now.After(until) {
				delete(v.nonces, n)
			}
		}
		v.sweep = now
	}
	if len(v.nonces) >= v.maxNonces {
		return ErrBusy
	}
	v.nonces[nonce] = forget
	return nil
}

func validNonce(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Middleware verifies every request and hands it to next with the context
// that attach derives from the forwarded credentials (the HTTP server uses it
// to attach an access.Access; this package knows nothing of MCP). A
// request that fails is answered 401 with the reason, which names no secret.
func (v *Verifier) Middleware(next http.Handler, attach func(context.Context, Forwarded) context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := v.Verify(r)
		if err != nil {
			status := http.StatusUnauthorized
			if errors.Is(err, ErrBusy) {
				status = http.StatusServiceUnavailable
			}
			http.Error(w, "proxy authentication failed: "+err.Error(), status)
			return
		}
		next.ServeHTTP(w, r.WithContext(attach(r.Context(), f)))
	})
}
