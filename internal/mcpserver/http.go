package mcpserver

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

// StreamableHandler returns the Streamable HTTP handler (mount it at /mcp).
// It is stateless: every POST is served by a fresh session on the shared
// server, so any instance can answer any request. The request must carry an
// Access (see WithAccess); without one it is answered 401.
func (s *Server) StreamableHandler() http.Handler {
	sdkOpts := &mcp.StreamableHTTPOptions{
		Stateless:                    true,
		JSONResponse:                 s.opts.JSONResponse,
		Logger:                       s.log,
		MaxRequestBodyBytes:          access.MaxRequestBytes,
		PropagateRequestCancellation: true,
		// The HTTP layer checks Host for every route (and admits a reverse
		// proxy's public host); the SDK's check knows only loopback names.
		DisableLocalhostProtection: true,
	}
	h := mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		a, _ := access.From(r.Context())
		return s.set(a.ReadOnly).srv
	}, sdkOpts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := access.From(r.Context())
		if !ok {
			http.Error(w, "unauthorized: no Keboola credentials", http.StatusUnauthorized)
			return
		}
		ctx := tools.CancelWith(r.Context(), r.Context())
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		// The body is read here to check the grant's scope and to know the
		// call's id should its method be unknown.
		body, ok := peekBody(w, r)
		if !ok || !s.checkScope(w, body, a) {
			return
		}
		mw := &methodNotFound{ResponseWriter: w, body: body}
		h.ServeHTTP(mw, r.WithContext(ctx))
		mw.finish()
	})
}

// peekBody reads a request body and puts it back for the next handler; on a
// failure it answers the request and returns false.
func peekBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Body == nil {
		return nil, true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, access.MaxRequestBytes))
	r.Body.Close()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit), http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "failed to read the request body", http.StatusBadRequest)
		}
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, true
}

// checkScope answers 403 insufficient_scope, and returns false, when a
// read-only Access posts a tools/call of a write tool.
func (s *Server) checkScope(w http.ResponseWriter, body []byte, a access.Access) bool {
	if !a.ReadOnly || len(s.writeTools) == 0 {
		return true
	}
	if name, ok := s.writeToolCalled(body); ok {
		w.Header().Set("WWW-Authenticate", s.insufficientScope())
		http.Error(w, fmt.Sprintf("forbidden: the tool %s changes the project and this grant is read-only (scope keboola:read); authorize with scope keboola:write to use it", name), http.StatusForbidden)
		return false
	}
	return true
}

func (s *Server) insufficientScope() string {
	v := `Bearer error="insufficient_scope", scope="keboola:read keboola:write"`
	if s.opts.ResourceMetadataURL != "" {
		v += fmt.Sprintf(`, resource_metadata=%q`, s.opts.ResourceMetadataURL)
	}
	return v
}

// writeToolCalled reports the first write tool named by a tools/call in a
// JSON-RPC message or batch. A body that does not parse is left for the SDK
// to reject.
func (s *Server) writeToolCalled(body []byte) (string, bool) {
	type call struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	var calls []call
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if json.Unmarshal(trimmed, &calls) != nil {
			return "", false
		}
	} else {
		var c call
		if json.Unmarshal(trimmed, &c) != nil {
			return "", false
		}
		calls = []call{c}
	}
	for _, c := range calls {
		if c.Method == "tools/call" && s.writeTools[c.Params.Name] {
			return c.Params.Name, true
		}
	}
	return "", false
}

// SSEHandler returns the legacy HTTP+SSE handler (protocol 2024-11-05).
// Mount it at /sse and at Options.MessagesPath: a GET opens a session
// stream whose first event names the messages endpoint; POSTs to that
// endpoint carry the client's messages.
//
// SSE sessions are stateful and live in this process. Each is bound to the
// Access that opened it: a POST with different credentials (another user, or
// another grant of the same user) is refused with 403, so knowing a session
// id is not enough to act in someone's project.
//
// Every call returns the same handler: the session table is shared.
func (s *Server) SSEHandler() http.Handler { return s.sse }

type sseHandler struct {
	s        *Server
	mu       sync.Mutex
	sessions map[string]*sseSession
}

type sseSession struct {
	transport *mcp.SSEServerTransport
	access    access.Access
}

func (h *sseHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := access.From(r.Context())
	if !ok {
		http.Error(w, "unauthorized: no Keboola credentials", http.StatusUnauthorized)
		return
	}
	switch r.Method {
	case http.MethodGet:
		h.open(w, r, a)
	case http.MethodPost:
		h.post(w, r, a)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (h *sseHandler) open(w http.ResponseWriter, r *http.Request, a access.Access) {
	id := rand.Text()
	endpoint := h.s.opts.MessagesPath + "?sessionid=" + url.QueryEscape(id)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	t := &mcp.SSEServerTransport{Endpoint: endpoint, Response: w, MaxRequestBodyBytes: access.MaxRequestBytes}
	h.mu.Lock()
	h.sessions[id] = &sseSession{transport: t, access: a}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.sessions, id)
		h.mu.Unlock()
	}()
	// Tool calls run under the GET's context: it carries the Access that
	// opened the session, and its end (the client went away) stops them.
	ctx := tools.CancelWith(r.Context(), r.Context())
	ss, err := h.s.set(a.ReadOnly).srv.Connect(ctx, t, nil)
	if err != nil {
		h.s.log.Warn("sse: connect failed", "err", err)
		return
	}
	defer ss.Close()
	<-r.Context().Done()
}

func (h *sseHandler) post(w http.ResponseWriter, r *http.Request, a access.Access) {
	id := r.URL.Query().Get("sessionid")
	if id == "" {
		http.Error(w, "the sessionid query parameter is required", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	sess := h.sessions[id]
	h.mu.Unlock()
	if sess == nil {
		http.Error(w, "session not found: open a new one with GET /sse", http.StatusNotFound)
		return
	}
	if !sameAccess(sess.access, a) {
		http.Error(w, "forbidden: this session belongs to other credentials", http.StatusForbidden)
		return
	}
	if a.ReadOnly {
		body, ok := peekBody(w, r)
		if !ok || !h.s.checkScope(w, body, a) {
			return
		}
	}
	sess.transport.ServeHTTP(w, r)
}

// sameAccess compares two Accesses field by field; the token in constant
// time, so the comparison reveals nothing of it.
func sameAccess(a, b access.Access) bool {
	return a.ReadOnly == b.ReadOnly &&
		a.Credentials.StackURL == b.Credentials.StackURL &&
		sameSecret(a.Credentials.StorageToken, b.Credentials.StorageToken) &&
		sameSecret(a.Credentials.OAuthToken, b.Credentials.OAuthToken) &&
		a.Credentials.BranchID == b.Credentials.BranchID &&
		a.Credentials.WorkspaceSchema == b.Credentials.WorkspaceSchema &&
		slices.Equal(a.AllowedTools, b.AllowedTools) &&
		slices.Equal(a.DisallowedTools, b.DisallowedTools)
}

func sameSecret(a, b access.Secret) bool {
	return subtle.ConstantTimeCompare([]byte(a.Reveal()), []byte(b.Reveal())) == 1
}
