package fakestack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault makes requests under a path prefix misbehave. Counted failures are
// used up in order: first the 5xx answers, then the 429s; a steady 5xx rate
// (Fail5xxEvery) applies after both.
type Fault struct {
	// PathPrefix selects the requests, e.g. "/v2/storage/tables" or "/queue/"; "" matches all.
	PathPrefix string `json:"pathPrefix"`
	// Latency delays each matching request (before any failure is answered).
	Latency time.Duration `json:"latency"`
	// Fail5xx answers this many matching requests with Status5xx (default 500).
	Fail5xx   int `json:"fail5xx"`
	Status5xx int `json:"status5xx"`
	// Fail5xxEvery answers every Nth matching request with Status5xx for as
	// long as the fault stays (20 is a steady 5% error rate). It counts
	// deterministically, so a test can tell which request fails.
	Fail5xxEvery int `json:"fail5xxEvery"`
	// Fail429 answers this many matching requests with 429 and Retry-After.
	Fail429 int `json:"fail429"`
	// RetryAfter is the Retry-After value in seconds for 429 and maintenance answers (default 1).
	RetryAfter int `json:"retryAfter"`
	// Maintenance answers every matching request with 503 until the fault is cleared.
	Maintenance bool `json:"maintenance"`

	// seen counts the matching requests Fail5xxEvery has judged.
	seen int
}

type faultSet struct {
	mu     sync.Mutex
	faults []*Fault
}

// InjectFault adds a fault; faults stay until ClearFaults.
func (s *Stack) InjectFault(f Fault) error {
	if f.Fail5xx < 0 || f.Fail429 < 0 || f.Fail5xxEvery < 0 || f.Latency < 0 || f.RetryAfter < 0 {
		return fmt.Errorf("fakestack: fault counts, latency and retryAfter must not be negative")
	}
	if f.Status5xx == 0 {
		f.Status5xx = http.StatusInternalServerError
	}
	if f.Status5xx < 500 || f.Status5xx > 599 {
		return fmt.Errorf("fakestack: status5xx must be a 5xx status, got %d", f.Status5xx)
	}
	if f.RetryAfter == 0 {
		f.RetryAfter = 1
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = append(s.faults.faults, &f)
	return nil
}

// ClearFaults removes every injected fault.
func (s *Stack) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = nil
}

// apply runs the faults matching r; it reports whether it answered the request.
func (fs *faultSet) apply(w http.ResponseWriter, r *http.Request) bool {
	var latency time.Duration
	var status, retryAfter int
	fs.mu.Lock()
	for _, f := range fs.faults {
		if !strings.HasPrefix(r.URL.Path, f.PathPrefix) {
			continue
		}
		latency += f.Latency
		if status != 0 {
			continue
		}
		switch {
		case f.Maintenance:
			status, retryAfter = http.StatusServiceUnavailable, f.RetryAfter
		case f.Fail5xx > 0:
			f.Fail5xx--
			status = f.Status5xx
		case f.Fail429 > 0:
			f.Fail429--
			status, retryAfter = http.StatusTooManyRequests, f.RetryAfter
		case f.Fail5xxEvery > 0:
			if f.seen++; f.seen%f.Fail5xxEvery == 0 {
				status = f.Status5xx
			}
		}
	}
	fs.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	switch status {
	case 0:
		return false
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		writeJSON(w, status, map[string]any{"status": "maintenance", "reason": "Planned maintenance of the fake stack", "estimatedEndTime": nil})
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		writeError(w, storageErrors, status, "tooManyRequests", "Too many requests, slow down")
	default:
		writeError(w, storageErrors, status, "applicationError", "Internal Server Error occurred (injected fault)")
	}
	return true
}

// Request is one request the stack received. It carries no credentials:
// secrets in the query string are masked and headers are not kept.
type Request struct {
	// Seq numbers the requests of a stack from 1, in the order logged.
	Seq       uint64    `json:"seq"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Query     string    `json:"query,omitempty"`
	Service   string    `json:"service"`
	Status    int       `json:"status"`
	UserAgent string    `json:"userAgent,omitempty"`
	Time      time.Time `json:"time"`
	// Auth says how the request authenticated: AuthStorageToken,
	// AuthBearer or "" (no credential); never the credential itself.
	Auth string `json:"auth,omitempty"`
	// Bytes is the size of the answer's body.
	Bytes int64 `json:"bytes"`
}

// Request.Auth values.
const (
	AuthStorageToken = "storage-token"
	AuthBearer       = "bearer"
)

func authKindOf(r *http.Request) string {
	switch {
	case r.Header.Get("X-StorageApi-Token") != "":
		return AuthStorageToken
	case strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "):
		return AuthBearer
	}
	return ""
}

type requestLog struct {
	mu   sync.Mutex
	seq  uint64
	reqs []Request
}

// requestLogCap bounds the log so a long-running dev stack does not grow without end.
const requestLogCap = 10000

var secretParams = []string{"token", "code", "client_secret", "access_token", "refresh_token"}

func (l *requestLog) add(r *http.Request, service string, rec *statusRecorder, now time.Time) {
	rq := Request{Method: r.Method, Path: r.URL.Path, Query: redactQuery(r.URL), Service: service, Status: rec.status,
		UserAgent: r.UserAgent(), Time: now, Auth: authKindOf(r), Bytes: rec.bytes}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	rq.Seq = l.seq
	if len(l.reqs) == requestLogCap {
		l.reqs = append(l.reqs[:0:0], l.reqs[requestLogCap/2:]...)
	}
	l.reqs = append(l.reqs, rq)
}

// Requests returns the requests received so far, oldest first.
func (s *Stack) Requests() []Request {
	s.requests.mu.Lock()
	defer s.requests.mu.Unlock()
	return append([]Request(nil), s.requests.reqs...)
}

// ResetRequests empties the request log.
func (s *Stack) ResetRequests() {
	s.requests.mu.Lock()
	defer s.requests.mu.Unlock()
	s.requests.reqs = nil
}

// fakeRoutes serves test controls under /_fake/, guarded by the master token:
// POST /_fake/faults (a Fault as JSON; latency as a Go duration string or
// nanoseconds), DELETE /_fake/faults, GET and DELETE /_fake/requests.
func (s *Stack) fakeRoutes(mux *http.ServeMux) {
	guard := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-StorageApi-Token") != s.opts.MasterToken {
				writeError(w, storageErrors, http.StatusUnauthorized, "storage.tokenInvalid", "The fake stack's controls need the master token in X-StorageApi-Token")
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /_fake/faults", guard(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Fault
			Latency json.RawMessage `json:"latency"`
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			badRequest(w, fmt.Errorf("fault: %v", err))
			return
		}
		f := in.Fault
		if len(in.Latency) > 0 {
			d, err := parseDuration(in.Latency)
			if err != nil {
				badRequest(w, err)
				return
			}
			f.Latency = d
		}
		if err := s.InjectFault(f); err != nil {
			badRequest(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("DELETE /_fake/faults", guard(func(w http.ResponseWriter, _ *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("GET /_fake/requests", guard(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Requests())
	}))
	mux.HandleFunc("DELETE /_fake/requests", guard(func(w http.ResponseWriter, _ *http.Request) {
		s.ResetRequests()
		w.WriteHeader(http.StatusNoContent)
	}))
}

// parseDuration accepts "250ms" or a number of nanoseconds.
func parseDuration(raw json.RawMessage) (time.Duration, error) {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		d, err := time.ParseDuration(str)
		if err != nil {
			return 0, fmt.Errorf("latency: %v", err)
		}
		return d, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("latency must be a duration like \"250ms\" or nanoseconds")
	}
	return time.Duration(n), nil
}

// redactQuery renders the query string with secret parameters masked.
func redactQuery(u *url.URL) string {
	q := u.Query()
	for _, k := range secretParams {
		if q.Has(k) {
			q.Set(k, "[REDACTED]")
		}
	}
	return q.Encode()
}
