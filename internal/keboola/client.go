// Package keboola is a typed HTTP client for the Keboola APIs the MCP tools
// use: Storage API, Jobs Queue, Query Service and AI Service. It knows nothing
// of MCP or OAuth.
//
// Security rules kept throughout the package: the token travels only in the
// X-StorageApi-Token (or Authorization) header, never in a URL, log line or
// error string; redirects are not followed (Go would forward our custom token
// header to any host); service URLs advertised by a stack are accepted only on
// that stack's own domain.
package keboola

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
)

// Options tune a Client. The zero value gives sensible defaults.
type Options struct {
	// HTTPClient sends the requests; default: a client with its own transport.
	// Its redirect policy is replaced: redirects are never followed.
	HTTPClient *http.Client
	// Timeout bounds each HTTP attempt; default 30s.
	Timeout time.Duration
	// Retry bounds retries of idempotent calls.
	Retry RetryPolicy
	// UserAgent defaults to "keboola-mcp/dev".
	UserAgent string
	// Logger receives debug and warning records (never secrets); default: discard.
	Logger *slog.Logger
}

// RetryPolicy bounds retries. Zero fields take the defaults in brackets.
type RetryPolicy struct {
	// MaxAttempts counts the first try [5]. 1 disables retries.
	MaxAttempts int
	// MinBackoff is the first wait [100ms]; it doubles per attempt, with jitter.
	MinBackoff time.Duration
	// MaxBackoff caps one wait [3s].
	MaxBackoff time.Duration
	// MaxElapsed caps the time spent across all attempts of one call [30s].
	MaxElapsed time.Duration
}

// DefaultUserAgent is sent when Options.UserAgent is empty.
const DefaultUserAgent = "keboola-mcp/dev"

const (
	defaultTimeout = 30 * time.Second
	// maxResponseBytes bounds a decoded response; a table list of a large
	// project is a few MB, so this leaves ample room while stopping a runaway body.
	maxResponseBytes = 64 << 20
	maxErrorBytes    = 64 << 10
)

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Retry = o.Retry.withDefaults()
	var hc http.Client
	if o.HTTPClient != nil {
		hc = *o.HTTPClient
	} else {
		hc.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	o.HTTPClient = &hc
	return o
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = 100 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 3 * time.Second
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = p.MinBackoff
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = 30 * time.Second
	}
	return p
}

// authKind says how the credential is presented.
type authKind int

const (
	authStorageToken authKind = iota
	authBearer
)

// Client talks to one Keboola project on one stack with one credential. It is
// safe for concurrent use.
type Client struct {
	stack    *url.URL // scheme://host of the Storage API
	secret   Secret
	auth     authKind
	branchID string
	creds    Credentials
	opts     Options

	// verifyKey identifies this credential in the process-wide caches.
	verifyKey [sha256.Size]byte

	// workspace is the query workspace this session resolved (see
	// QueryWorkspace).
	workspace queryWorkspace
	// facts are the branch and semantic-model checks of this session.
	facts sessionFacts
}

// New returns a client acting with creds. creds.StackURL must be an absolute
// http(s) URL (http is meant for local fakes); creds.StorageToken must be set.
func New(creds Credentials, opts Options) (*Client, error) {
	if creds.StorageToken.IsZero() {
		return nil, errors.New("keboola: a Storage API token is required")
	}
	c, err := newClient(creds.StackURL, creds.StorageToken, authStorageToken, opts)
	if err != nil {
		return nil, err
	}
	// The main-branch names of the Python server (default, production, …)
	// mean "", wherever the credentials came from.
	branch := access.NormalizeBranchID(creds.BranchID)
	if branch != "" && !isDigits(branch) {
		return nil, fmt.Errorf("keboola: branch id %q must be numeric", branch)
	}
	c.branchID = branch
	c.creds = creds
	c.creds.StackURL = c.stack.String()
	if !creds.OAuthToken.IsZero() {
		// Storage answers for the bearer, which is what it is sent with.
		c.verifyKey = verifyKey(c.stack.String(), authBearer, creds.OAuthToken)
	}
	return c, nil
}

// NewWithBearer returns a client that authenticates with "Authorization:
// Bearer" (a Keboola OAuth access token). Only the Storage API accepts it:
// use it to verify the token and mint a Storage token with CreateToken, then
// build a regular client with New. Calls to Queue, Query or AI services fail
// with an explanatory error.
func NewWithBearer(stackURL string, bearer Secret, opts Options) (*Client, error) {
	if bearer.IsZero() {
		return nil, errors.New("keboola: a Bearer access token is required")
	}
	c, err := newClient(stackURL, bearer, authBearer, opts)
	if err != nil {
		return nil, err
	}
	c.creds = Credentials{StackURL: c.stack.String()}
	return c, nil
}

func newClient(stackURL string, secret Secret, auth authKind, opts Options) (*Client, error) {
	u, err := ParseStackURL(stackURL)
	if err != nil {
		return nil, err
	}
	return &Client{stack: u, secret: secret, auth: auth, opts: opts.withDefaults(),
		verifyKey: verifyKey(u.String(), auth, secret)}, nil
}

// ParseStackURL checks a Storage API base URL and normalises it to
// scheme://host[:port] (a path, query or fragment is refused, a trailing
// slash dropped).
func ParseStackURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("keboola: stack URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("keboola: stack URL %q is not a URL: %v", raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("keboola: stack URL %q must start with https://", raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("keboola: stack URL %q must be a bare origin like https://connection.keboola.com", raw)
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host)}, nil
}

// StackURL returns the normalised Storage API base URL.
func (c *Client) StackURL() string { return c.stack.String() }

// StackHost returns the host of the Storage API, e.g. connection.keboola.com.
func (c *Client) StackHost() string { return c.stack.Host }

// BranchID returns the development branch the client acts on, "" for the default branch.
func (c *Client) BranchID() string { return c.branchID }

// Credentials returns the credentials the client was built with (the stack URL normalised).
func (c *Client) Credentials() Credentials { return c.creds }

// branchSegment is the {b} of branch/{b}/… Storage paths.
func (c *Client) branchSegment() string {
	if c.branchID == "" {
		return "default"
	}
	return c.branchID
}

// request describes one API call.
type request struct {
	service Service // "" for the Storage API
	method  string
	path    string // from the service base, starting with "/"
	query   url.Values
	body    any // JSON-encoded when non-nil
	// idempotent marks a POST that is safe to repeat (e.g. fetching results).
	idempotent bool
	// accept overrides the Accept header (default application/json).
	accept string
	// noAuth sends no credential (the Encryption API needs none, so it gets none).
	noAuth bool
}

// serviceName is the label used in APIError.Service and logs.
func (r *request) serviceName() string {
	if r.service == "" {
		return "storage"
	}
	return string(r.service)
}

// doJSON performs req and decodes a JSON answer into out (unless out is nil).
func (c *Client) doJSON(ctx context.Context, req request, out any) error {
	body, err := c.do(ctx, req)
	if err != nil {
		return err
	}
	if out == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("keboola %s API: %s %s: cannot decode the answer: %w", req.serviceName(), req.method, req.path, err)
	}
	return nil
}

// do performs req with retries and returns the body of a 2xx answer.
func (c *Client) do(ctx context.Context, req request) ([]byte, error) {
	base, err := c.baseURL(ctx, req.service)
	if err != nil {
		return nil, err
	}
	target := base + req.path
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	var payload []byte
	if req.body != nil {
		if payload, err = json.Marshal(req.body); err != nil {
			return nil, fmt.Errorf("keboola: encoding %s %s body: %w", req.method, req.path, err)
		}
	}
	pol := c.opts.Retry
	start := time.Now()
	for attempt := 1; ; attempt++ {
		body, err := c.attempt(ctx, req, target, payload)
		if err == nil {
			return body, nil
		}
		if attempt >= pol.MaxAttempts || !retryable(req, err) {
			return nil, err
		}
		wait := backoff(pol, attempt)
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
			wait = apiErr.RetryAfter
		}
		if time.Since(start)+wait > pol.MaxElapsed {
			return nil, err
		}
		c.opts.Logger.DebugContext(ctx, "keboola: retrying", "service", req.serviceName(), "method", req.method,
			"path", req.path, "attempt", attempt, "wait", wait, "error", err.Error())
		if err := sleep(ctx, wait); err != nil {
			return nil, c.wrapContext(req, err)
		}
	}
}

func (c *Client) wrapContext(req request, err error) error {
	return fmt.Errorf("keboola %s API: %s %s: %w", req.serviceName(), req.method, req.path, err)
}

// attempt sends one HTTP request.
func (c *Client) attempt(ctx context.Context, req request, target string, payload []byte) ([]byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.attemptTimeout(req))
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	hreq, err := http.NewRequestWithContext(actx, req.method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("keboola: building %s %s: %w", req.method, req.path, err)
	}
	if payload != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	accept := req.accept
	if accept == "" {
		accept = "application/json"
	}
	hreq.Header.Set("Accept", accept)
	hreq.Header.Set("User-Agent", c.opts.UserAgent)
	sent := c.secret.Reveal() // what an echoing error body could contain
	switch {
	case req.noAuth:
	case c.auth == authBearer:
		hreq.Header.Set("Authorization", "Bearer "+c.secret.Reveal())
	case !c.creds.OAuthToken.IsZero() && !storageTokenOnly[req.service]:
		// A "Sign in with Keboola" session: the OAuth bearer carries the
		// user's admin context, which the Scheduler and Data Science's git
		// credentials require and the minted Storage token lacks. The
		// Python server sends it to every service but Queue, AI and sync
		// actions (clients/client.py; the Queue re-sends what it gets to
		// Storage as a Storage token, so a bearer fails there: INC-02580).
		sent = c.creds.OAuthToken.Reveal()
		hreq.Header.Set("Authorization", "Bearer "+sent)
	default:
		hreq.Header.Set("X-StorageApi-Token", c.secret.Reveal())
	}
	resp, err := c.opts.HTTPClient.Do(hreq)
	if err != nil {
		return nil, c.networkError(ctx, req, hreq.URL.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
		if err != nil {
			return nil, c.networkError(ctx, req, hreq.URL.Host, err)
		}
		if len(body) > maxResponseBytes {
			return nil, fmt.Errorf("keboola %s API: %s %s: answer larger than %d MB", req.serviceName(), req.method, req.path, maxResponseBytes>>20)
		}
		return body, nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	return nil, newAPIError(req.serviceName(), req.method, req.path, resp, body, sent)
}

// attemptTimeout bounds one HTTP attempt of req: Options.Timeout, but never
// less than queryServiceTimeout for the Query Service.
func (c *Client) attemptTimeout(req request) time.Duration {
	if req.service == ServiceQuery {
		return max(c.opts.Timeout, queryServiceTimeout)
	}
	return c.opts.Timeout
}

// netError marks a transport failure (the request may or may not have reached
// the server) so the retry logic can tell it from an HTTP status.
type netError struct {
	msg string
	err error
	// beforeSend is true when the connection was never established, so even a
	// POST is safe to repeat.
	beforeSend bool
}

func (e *netError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

func (c *Client) networkError(ctx context.Context, req request, host string, err error) error {
	// url.Error repeats the URL; the inner error is enough next to our message.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return c.wrapContext(req, ctxErr)
	}
	msg := "cannot reach Keboola stack " + c.stack.Host
	if host != c.stack.Host {
		msg += " (" + req.serviceName() + " service at " + host + ")"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// Only the per-attempt timeout can be behind this: ctx is still live.
		err = fmt.Errorf("no answer within %v", c.attemptTimeout(req))
	}
	return &netError{msg: msg, err: err, beforeSend: isDialError(err)}
}

// retryable decides whether a failed attempt may be repeated.
func retryable(req request, err error) bool {
	safe := req.idempotent || req.method == http.MethodGet || req.method == http.MethodPut ||
		req.method == http.MethodDelete || req.method == http.MethodHead
	var ne *netError
	if errors.As(err, &ne) {
		return safe || ne.beforeSend
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch s := apiErr.Status; {
	case s == http.StatusTooManyRequests:
		// Rate limiting rejects a request before acting on it.
		return true
	case !safe:
		return false
	case s == http.StatusConflict:
		// For writes a conflict is the caller's business (version conflict).
		return req.method == http.MethodGet
	case s == http.StatusRequestTimeout, s == http.StatusLocked:
		return true
	case s >= 500 && s != http.StatusNotImplemented:
		return true
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
