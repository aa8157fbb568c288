package keboola

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
)

// Sentinels that callers branch on with errors.Is. An *APIError matches the
// ones its status and code imply.
var (
	// ErrInvalidToken: the Storage token (or Bearer) is unknown, expired or revoked.
	ErrInvalidToken = errors.New("keboola: invalid or expired token")
	// ErrNotFound: the resource does not exist (or the token cannot see it).
	ErrNotFound = errors.New("keboola: not found")
	// ErrForbidden: the token lacks the permission for this call.
	ErrForbidden = errors.New("keboola: forbidden")
	// ErrConflict: a concurrent change won, e.g. a configuration version conflict.
	ErrConflict = errors.New("keboola: conflict")
	// ErrMaintenance: the stack is in a maintenance window; see APIError.RetryAfter.
	ErrMaintenance = errors.New("keboola: stack under maintenance")
)

// APIError is a non-2xx answer from a Keboola service.
type APIError struct {
	// Service is "storage", "queue", "query", "ai", ...
	Service string
	Method  string
	// Path is the request path without the query string.
	Path   string
	Status int
	// Code is Keboola's error code ("storage.tables.notFound"); numeric codes
	// are converted to their decimal text.
	Code        string
	Message     string
	ExceptionID string
	// RetryAfter is the server's Retry-After hint, zero when absent.
	RetryAfter time.Duration

	maintenance bool
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "keboola %s API: %s %s: HTTP %d", e.Service, e.Method, e.Path, e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.ExceptionID != "" {
		fmt.Fprintf(&b, " [exceptionId %s]", e.ExceptionID)
	}
	return b.String()
}

// Is lets errors.Is match the package sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrInvalidToken:
		return e.Status == http.StatusUnauthorized || e.Code == "storage.tokenInvalid"
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrMaintenance:
		return e.Status == http.StatusServiceUnavailable && e.maintenance
	}
	return false
}

// errorBody is the union of the error shapes of Storage, Queue, Query Service
// and the maintenance page.
type errorBody struct {
	Error       json.RawMessage `json:"error"`
	Message     string          `json:"message"`
	Exception   string          `json:"exception"`
	Code        FlexString      `json:"code"`
	Status      string          `json:"status"`
	ExceptionID string          `json:"exceptionId"`
	Reason      string          `json:"reason"`
}

// maxErrorText bounds how much of a non-JSON error body ends up in a message.
const maxErrorText = 300

// newAPIError builds an APIError from a response. secret, when non-empty, is
// scrubbed from every text taken from the body: a proxy echoing request
// headers must not turn the token into an error string.
func newAPIError(service, method, path string, resp *http.Response, body []byte, secret string) *APIError {
	e := &APIError{
		Service:    service,
		Method:     method,
		Path:       path,
		Status:     resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil {
		e.Code = string(eb.Code)
		e.ExceptionID = eb.ExceptionID
		e.maintenance = eb.Status == "maintenance"
		var msg string
		if len(eb.Error) > 0 && eb.Error[0] == '"' {
			_ = json.Unmarshal(eb.Error, &msg)
		}
		for _, candidate := range []string{msg, eb.Exception, eb.Message, eb.Reason} {
			if candidate != "" {
				e.Message = candidate
				break
			}
		}
		// Query Service puts the numeric status in "error" and no code elsewhere.
		if e.Code == "" && len(eb.Error) > 0 && eb.Error[0] != '"' && !bytes.Equal(eb.Error, []byte("null")) {
			var n FlexString
			if json.Unmarshal(eb.Error, &n) == nil {
				e.Code = string(n)
			}
		}
	} else {
		text := strings.TrimSpace(string(body))
		if len(text) > maxErrorText {
			text = text[:maxErrorText] + "…"
		}
		e.Message = text
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if secret != "" {
		e.Message = strings.ReplaceAll(e.Message, secret, access.Redacted)
		e.Code = strings.ReplaceAll(e.Code, secret, access.Redacted)
	}
	return e
}

// parseRetryAfter reads delta-seconds or an HTTP date; anything else is zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// QueryFailedError is a statement the SQL engine rejected or failed to run.
// Message is the engine's own text, which is what a person (or model) needs
// to fix the query.
type QueryFailedError struct {
	QueryJobID  string
	StatementID string
	Status      string
	Message     string
}

func (e *QueryFailedError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("query %s %s", e.QueryJobID, e.Status)
	}
	return fmt.Sprintf("query %s: %s", e.Status, e.Message)
}
