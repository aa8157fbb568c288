package oauth

import (
	"net/http"
	"strings"
	"testing"
)

// RFC 6750 §3.1: a request without bearer credentials (none, or another
// scheme) gets a bare challenge so the client starts authorization; a
// malformed one is 400 invalid_request; a bad token is 401 invalid_token.
// Two Authorization headers are refused: front proxies and this server
// could otherwise disagree on which one was checked.
func TestBearer_AuthorizationHeaderForms(t *testing.T) {
	e := newEnv(t)
	at, _ := e.tokens(e.publicClient())
	cases := []struct {
		name    string
		headers []string
		status  int
		errCode string // "" means the challenge must carry no error
	}{
		{"no header", nil, 401, ""},
		{"another scheme", []string{"Basic dXNlcjpwYXNz"}, 401, ""},
		{"bearer without a token", []string{"Bearer "}, 400, "invalid_request"},
		{"unknown token", []string{"Bearer kmcp_at_unknown"}, 401, "invalid_token"},
		{"two Authorization headers", []string{"Bearer " + at, "Bearer kmcp_at_other"}, 400, "invalid_request"},
		{"the same token twice", []string{"Bearer " + at, "Bearer " + at}, 400, "invalid_request"},
		{"scheme in lower case", []string{"bearer " + at}, 200, ""},
		{"valid token", []string{"Bearer " + at}, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.servedCount()
			req, _ := http.NewRequest("POST", e.ts.URL+"/mcp", strings.NewReader("{}"))
			for _, h := range tc.headers {
				req.Header.Add("Authorization", h)
			}
			r := do(t, http.DefaultClient, req)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (%s)", r.status, tc.status, r.body)
			}
			served := e.servedCount() > before
			if served != (tc.status == 200) {
				t.Errorf("served = %v with status %d", served, r.status)
			}
			if tc.status == 200 {
				return
			}
			ch := r.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, "Bearer resource_metadata=") {
				t.Errorf("challenge %q does not name the resource metadata", ch)
			}
			hasErr := strings.Contains(ch, "error=")
			if tc.errCode == "" && hasErr || tc.errCode != "" && !strings.Contains(ch, `error="`+tc.errCode+`"`) {
				t.Errorf("challenge %q, want error %q", ch, tc.errCode)
			}
		})
	}
}
