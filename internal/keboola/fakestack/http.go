package fakestack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Service names used in the request log and the service index.
const (
	ServiceStorage    = "storage"
	ServiceOAuth      = "oauth"
	ServiceQueue      = "queue"
	ServiceQuery      = "query"
	ServiceAI         = "ai"
	ServiceEncryption = "encryption"
	ServiceScheduler  = "scheduler"
	ServiceSync       = "sync-actions"
	ServiceDataSci    = "data-science"
	ServiceMetastore  = "metastore"
	ServiceFake       = "fake"
)

// servicePrefixes maps a path prefix to the service behind it; Storage and
// OAuth live at the root like on a real stack's connection host.
var servicePrefixes = []struct{ prefix, service string }{
	{"/v2/storage", ServiceStorage},
	{"/oauth/", ServiceOAuth},
	{"/queue/", ServiceQueue},
	{"/query/", ServiceQuery},
	{"/ai/", ServiceAI},
	{"/encryption/", ServiceEncryption},
	{"/scheduler/", ServiceScheduler},
	{"/sync-actions/", ServiceSync},
	{"/data-science/", ServiceDataSci},
	{"/metastore/", ServiceMetastore},
	{"/_fake/", ServiceFake},
}

func serviceOf(path string) string {
	for _, p := range servicePrefixes {
		if strings.HasPrefix(path, p.prefix) {
			return p.service
		}
	}
	return ""
}

// maxBody bounds request bodies; configurations are the largest legitimate payloads.
const maxBody = 8 << 20

func (s *Stack) routes() http.Handler {
	mux := http.NewServeMux()
	s.storageRoutes(mux)
	s.oauthRoutes(mux)
	s.queueRoutes(mux)
	s.queryRoutes(mux)
	s.aiRoutes(mux)
	s.encryptionRoutes(mux)
	s.schedulerRoutes(mux)
	s.syncActionRoutes(mux)
	s.dataScienceRoutes(mux)
	s.metastoreRoutes(mux)
	s.fakeRoutes(mux)
	// Unknown paths get a JSON error like the real APIs give, not Go's text 404.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, storageErrors, http.StatusNotFound, "notFound", fmt.Sprintf("No route matches %s %s on this stack", r.Method, r.URL.Path))
	})
	return s.instrument(mux)
}

// instrument records every request and applies injected faults before the
// real handler runs (the admin endpoints are exempt from faults so a test can
// always clear them).
func (s *Stack) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		svc := serviceOf(r.URL.Path)
		if svc != ServiceFake && s.faults.apply(rec, r) {
			s.requests.add(r, svc, rec, s.now())
			return
		}
		s.settleJobs() // jobs the clock has reached do their work first
		next.ServeHTTP(rec, r)
		s.requests.add(r, svc, rec, s.now())
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	bytes       int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status = code
		r.wroteHeader = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing left to tell it
}

// errorStyle selects the error body shape of each Keboola service.
type errorStyle int

const (
	// storageErrors: {"error":msg,"code":"storage.x","status":"error","exceptionId":…}
	storageErrors errorStyle = iota
	// queueErrors: like Storage, but code is the HTTP status as an int.
	queueErrors
	// queryErrors: {"status":"error","error":<int>,"code":"…","exception":msg,"exceptionId":…}
	queryErrors
)

func writeError(w http.ResponseWriter, style errorStyle, status int, code, msg string) {
	exID := "exception-" + randomHex(8)
	var body map[string]any
	switch style {
	case queueErrors:
		body = map[string]any{"error": msg, "code": status, "status": "error", "exceptionId": exID, "context": map[string]any{"errorCode": code}}
	case queryErrors:
		body = map[string]any{"status": "error", "error": status, "code": code, "exception": msg, "exceptionId": exID}
	default:
		body = map[string]any{"error": msg, "code": code, "status": "error", "exceptionId": exID}
	}
	writeJSON(w, status, body)
}

// errBadBody is returned by readBody for a body that is neither JSON nor a form.
var errBadBody = errors.New("request body is not valid JSON or form data")

// readBody decodes a JSON or form-encoded request body into a map. Keboola's
// Storage API takes both; in form bodies, nested values (configuration,
// state) arrive as JSON strings and are decoded by the handler.
func readBody(r *http.Request) (map[string]any, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return map[string]any{}, nil
	}
	if ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data" {
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, errBadBody
		}
		out := map[string]any{}
		for k, v := range vals {
			if len(v) > 0 {
				out[k] = v[0]
			}
		}
		return out, nil
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadBody, err)
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// field helpers read typed values from a decoded body, accepting the string
// forms a form-encoded body produces.

func strField(m map[string]any, k string) (string, bool) {
	switch v := m[k].(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

func boolField(m map[string]any, k string) (val, ok bool) {
	switch v := m[k].(type) {
	case bool:
		return v, true
	case string:
		b, err := strconv.ParseBool(v)
		if err == nil {
			return b, true
		}
		if v == "" {
			return false, true
		}
	case float64:
		return v != 0, true
	}
	return false, false
}

func intField(m map[string]any, k string) (int, bool) {
	switch v := m[k].(type) {
	case float64:
		return int(v), v == float64(int(v))
	case string:
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	return 0, false
}

// objectField reads a JSON object that may arrive as a JSON string (form bodies).
func objectField(m map[string]any, k string) (map[string]any, bool, error) {
	v, present := m[k]
	if !present || v == nil {
		return nil, false, nil
	}
	switch t := v.(type) {
	case map[string]any:
		return t, true, nil
	case []any:
		if len(t) == 0 { // PHP-encoded empty object
			return map[string]any{}, true, nil
		}
	case string:
		if strings.TrimSpace(t) == "" {
			return map[string]any{}, true, nil
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(t), &out); err != nil {
			return nil, true, fmt.Errorf("%s is not a JSON object: %v", k, err)
		}
		return out, true, nil
	}
	return nil, true, fmt.Errorf("%s must be a JSON object", k)
}

// queryInt reads an integer query parameter with a default and bounds.
func queryInt(q url.Values, name string, def, lo, hi int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer, got %q", name, v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s must be between %d and %d, got %d", name, lo, hi, n)
	}
	return n, nil
}

// queryPage reads limit (1 to maxLimit, 100 when absent) and offset
// (from 0), the paging parameters of Keboola's listings.
func queryPage(q url.Values, maxLimit int) (limit, offset int, err error) {
	if limit, err = queryInt(q, "limit", 100, 1, maxLimit); err != nil {
		return 0, 0, err
	}
	if offset, err = queryInt(q, "offset", 0, 0, 1<<30); err != nil {
		return 0, 0, err
	}
	return limit, offset, nil
}

// pageOf is the part of items that limit and offset select.
func pageOf[T any](items []T, limit, offset int) []T {
	items = items[min(offset, len(items)):]
	return items[:min(limit, len(items))]
}

// queryList reads a list parameter given as name[]=a&name[]=b, name=a,b or both.
func queryList(q url.Values, name string) []string {
	var out []string
	for _, v := range append(q[name+"[]"], q[name]...) {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func includes(r *http.Request) map[string]bool {
	out := map[string]bool{}
	for _, v := range queryList(r.URL.Query(), "include") {
		out[v] = true
	}
	return out
}
