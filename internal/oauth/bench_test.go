package oauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkRequireBearer measures the server-side cost of authenticating
// one MCP request: token hash lookup in SQLite, key unwrap and credential
// decryption (no network).
func BenchmarkRequireBearer(b *testing.B) {
	e := newEnv(b)
	at, _ := e.tokens(e.publicClient())
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	h := e.srv.RequireBearer(ok)
	req := httptest.NewRequest("POST", "/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
