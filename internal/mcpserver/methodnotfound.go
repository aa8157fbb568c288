package mcpserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// The go-sdk's Streamable HTTP handler answers a request for a method it does
// not know with a text/plain 400 (before protocol 2026-07-28), which clients
// report as a transport failure. Over stdio the same request gets the
// JSON-RPC error -32601, which clients handle as an answer. methodNotFound
// gives HTTP clients that answer too: it holds back a 400 whose body is the
// SDK's "JSON RPC not handled" and writes the JSON-RPC error instead, for the
// call's id. Every other answer passes through untouched.
type methodNotFound struct {
	http.ResponseWriter
	body    []byte          // the request's; read for the call's id only on a 400
	id      json.RawMessage // the call's id, set when a 400 is held back
	held    bool            // a 400 is being held back
	heldBuf bytes.Buffer
}

// notHandledPrefix starts the SDK's message for an unknown method
// (jsonrpc2.ErrNotHandled).
const notHandledPrefix = "JSON RPC not handled"

// callID returns the id of a single JSON-RPC call, nil for anything else.
func callID(body []byte) json.RawMessage {
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if json.Unmarshal(body, &msg) != nil || msg.Method == "" || len(msg.ID) == 0 || string(msg.ID) == "null" {
		return nil
	}
	return msg.ID
}

func (m *methodNotFound) WriteHeader(code int) {
	if code == http.StatusBadRequest {
		// Nil for notifications and batches: their 400 passes through.
		if m.id = callID(m.body); m.id != nil {
			m.held = true
			return
		}
	}
	m.ResponseWriter.WriteHeader(code)
}

func (m *methodNotFound) Write(b []byte) (int, error) {
	if m.held {
		return m.heldBuf.Write(b)
	}
	return m.ResponseWriter.Write(b)
}

func (m *methodNotFound) Flush() {
	if f, ok := m.ResponseWriter.(http.Flusher); ok && !m.held {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (m *methodNotFound) Unwrap() http.ResponseWriter { return m.ResponseWriter }

// finish writes what was held back: the JSON-RPC error for an unknown
// method, or the 400 as the SDK wrote it.
func (m *methodNotFound) finish() {
	if !m.held {
		return
	}
	h := m.ResponseWriter.Header()
	msg := bytes.TrimSpace(m.heldBuf.Bytes())
	if !bytes.HasPrefix(msg, []byte(notHandledPrefix)) {
		m.ResponseWriter.WriteHeader(http.StatusBadRequest)
		m.ResponseWriter.Write(m.heldBuf.Bytes())
		return
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": m.id,
		"error": map[string]any{"code": -32601, "message": fmt.Sprintf("Method not found (%s)", bytes.TrimPrefix(msg, []byte(notHandledPrefix+": ")))}})
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	m.ResponseWriter.WriteHeader(http.StatusOK)
	m.ResponseWriter.Write(body)
}
