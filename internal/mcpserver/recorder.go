package mcpserver

import (
	"bytes"
	"net/http"
)

// Recorder is an http.ResponseWriter that keeps the whole answer, for
// callers that need it at once rather than streamed: the Worker's bridge
// (the handler runs in JSON-response mode there) and the static answers.
// Unlike httptest.ResponseRecorder it adds nothing (no sniffed
// Content-Type): it holds exactly what the handler wrote.
type Recorder struct {
	header http.Header
	status int
	Body   bytes.Buffer
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{header: http.Header{}} }

// Header implements http.ResponseWriter.
func (r *Recorder) Header() http.Header { return r.header }

// WriteHeader implements http.ResponseWriter; the first status wins.
func (r *Recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// Write implements http.ResponseWriter.
func (r *Recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.Body.Write(p)
}

// Flush lets handlers that flush work; the answer is taken whole anyway.
func (r *Recorder) Flush() {}

// StatusCode is the answer's status: 200 when the handler set none.
func (r *Recorder) StatusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
