package headerauth

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
	"github.com/keboola-mcp/keboola-mcp/internal/login"
)

// server serves an endpoint behind the header authenticator that echoes the
// Access it was given; stackURL is the only allowed stack besides
// connection.keboola.com.
func server(t *testing.T, stackURL string) (*httptest.Server, *access.Access) {
	t.Helper()
	stacks, err := login.NewAllowlist([]string{stackURL, "https://connection.keboola.com"})
	if err != nil {
		t.Fatal(err)
	}
	var got access.Access
	auth := New(Options{Stacks: stacks, Keboola: keboola.Options{Timeout: 10 * time.Second, Retry: keboola.RetryPolicy{MaxAttempts: 1}}})
	ts := httptest.NewServer(auth.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = access.From(r.Context())
		io.WriteString(w, "ok")
	})))
	t.Cleanup(ts.Close)
	return ts, &got
}

func send(t *testing.T, url string, h map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestHeaders_AuthenticateLikeThePythonServer(t *testing.T) {
	stack := fakestacktest.NewServer(t, fakestack.Options{})
	ts, got := server(t, stack.URL())
	master := stack.MasterToken()
	// A "Sign in with Keboola" session: the Storage token minted at sign-in and the member's bearer.
	minted := stack.AddToken(fakestack.TokenOptions{Description: "minted at sign-in"})
	bearer, err := stack.SignIn(master)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		status  int
		body    string // part of the refusal's body
		check   func(t *testing.T, a access.Access)
	}{
		{name: "no token", headers: map[string]string{"X-Storage-Api-Url": stack.URL()},
			status: 401, body: "X-StorageApi-Token"},
		{name: "a token Keboola refuses", headers: map[string]string{"X-StorageApi-Token": "1234-not-a-token", "X-Storage-Api-Url": stack.URL()},
			status: 401, body: "did not accept"},
		{name: "a stack off the list", headers: map[string]string{"X-StorageApi-Token": master, "X-Storage-Api-Url": "https://evil.example.com"},
			status: 403, body: "not one this server serves"},
		{name: "a stack off the list, written as a bare host", headers: map[string]string{"X-StorageApi-Token": master, "X-Storage-Api-Url": "evil.example.com/v2/storage"},
			status: 403, body: "https://evil.example.com"},
		{name: "a branch id that is not a number", headers: map[string]string{"X-StorageApi-Token": master, "X-Storage-Api-Url": stack.URL(), "X-Branch-Id": "main; DROP"},
			status: 400, body: "X-Branch-Id"},
		{name: "every header", headers: map[string]string{
			"X-StorageApi-Token": master, "X-Storage-Api-Url": stack.URL() + "/", "X-Branch-Id": "1001",
			"X-Workspace-Schema": "WORKSPACE_1", "X-Read-Only-Mode": "TRUE", "X-Allowed-Tools": " get_buckets, ,query_data",
			"X-Disallowed-Tools": "query_data", "X-Conversation-Id": "conv-7"},
			status: 200, check: func(t *testing.T, a access.Access) {
				c := a.Credentials
				if c.StackURL != stack.URL() || c.StorageToken.Reveal() != master || c.BranchID != "1001" || c.WorkspaceSchema != "WORKSPACE_1" {
					t.Errorf("credentials = %+v", c)
				}
				if !a.ReadOnly || !slices.Equal(a.AllowedTools, []string{"get_buckets", "query_data"}) ||
					!slices.Equal(a.DisallowedTools, []string{"query_data"}) || a.ConversationID != "conv-7" {
					t.Errorf("access = %+v", a)
				}
			}},
		{name: "Authorization Bearer, main branch by name, empty lists", headers: map[string]string{
			"Authorization": "Bearer " + master, "X-Storage-Api-Url": stack.URL(), "X-Branch-Id": "production",
			"X-Allowed-Tools": " , ", "X-Read-Only-Mode": "no"},
			status: 200, check: func(t *testing.T, a access.Access) {
				if a.Credentials.BranchID != "" || a.AllowedTools != nil || a.ReadOnly || a.Credentials.StorageToken.Reveal() != master {
					t.Errorf("access = %+v", a)
				}
			}},
		{name: "the Python server's X-Bearer-Token", headers: map[string]string{"X-StorageApi-Token": minted, "X-Storage-Api-Url": stack.URL(), "X-Bearer-Token": bearer},
			status: 200, check: func(t *testing.T, a access.Access) {
				if a.Credentials.OAuthToken.Reveal() != bearer || a.Credentials.StorageToken.Reveal() != minted {
					t.Errorf("credentials = %+v", a.Credentials)
				}
			}},
		{name: "no bearer header, no bearer", headers: map[string]string{"X-StorageApi-Token": minted, "X-Storage-Api-Url": stack.URL()},
			status: 200, check: func(t *testing.T, a access.Access) {
				if !a.Credentials.OAuthToken.IsZero() {
					t.Errorf("a bearer appeared: %+v", a.Credentials)
				}
			}},
		{name: "a bearer Keboola refuses", headers: map[string]string{"X-StorageApi-Token": minted, "X-Storage-Api-Url": stack.URL(), "X-Bearer-Token": "kbc_at_forged"},
			status: 401, body: "did not accept the OAuth access token in X-Bearer-Token"},
		{name: "X-Storage-Token spelling", headers: map[string]string{"X-Storage-Token": master, "X-Storage-Api-Url": stack.URL()},
			status: 200, check: func(t *testing.T, a access.Access) {
				if a.Credentials.StorageToken.Reveal() != master {
					t.Errorf("token not taken from X-Storage-Token")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			*got = access.Access{}
			status, body, h := send(t, ts.URL, tc.headers)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.body != "" && !strings.Contains(body, tc.body) {
				t.Errorf("body %q lacks %q", body, tc.body)
			}
			if status == 401 && h.Get("WWW-Authenticate") == "" {
				t.Error("a 401 without WWW-Authenticate")
			}
			if strings.Contains(body, master) || strings.Contains(body, bearer) || strings.Contains(body, "kbc_at_forged") {
				t.Error("the refusal repeats a token")
			}
			if tc.check != nil {
				tc.check(t, *got)
			}
		})
	}
}

// The token is verified once per cache period, not on every request: the
// verification cache is keboola's, shared with the other authenticators.
func TestHeaders_VerifyATokenOnce(t *testing.T) {
	stack := fakestacktest.NewServer(t, fakestack.Options{})
	ts, _ := server(t, stack.URL())
	token := stack.AddToken(fakestack.TokenOptions{Description: "gateway user"})
	for range 3 {
		if status, body, _ := send(t, ts.URL, map[string]string{"X-StorageApi-Token": token, "X-Storage-Api-Url": stack.URL()}); status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
	}
	verifies := 0
	for _, r := range stack.Requests() {
		if strings.HasSuffix(r.Path, "/tokens/verify") {
			verifies++
		}
	}
	if verifies != 1 {
		t.Errorf("%d token verifications for 3 requests, want 1", verifies)
	}
}

// A bearer and a Storage token of two projects would have tools read with
// one and write with the other: refused. The fake stack holds one project,
// so a stand-in answers tokens/verify with the project (owner.id) of each
// credential, as Keboola's does.
func TestHeaders_BearerOfAnotherProjectRefused(t *testing.T) {
	projectOf := map[string]string{"X-StorageApi-Token 11-storage": "1", "Authorization Bearer kbc_at_project1": "1", "Authorization Bearer kbc_at_project2": "2"}
	keboolaStandIn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := projectOf["X-StorageApi-Token "+r.Header.Get("X-StorageApi-Token")]
		if !ok {
			id, ok = projectOf["Authorization "+r.Header.Get("Authorization")]
		}
		if r.URL.Path != "/v2/storage/tokens/verify" || !ok {
			http.Error(w, `{"error":"Invalid access token","code":"storage.tokenInvalid"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"7","description":"x","owner":{"id":%s,"name":"p%s"},"organization":{"id":"1"}}`, id, id)
	}))
	defer keboolaStandIn.Close()
	ts, got := server(t, keboolaStandIn.URL)
	for _, tc := range []struct {
		bearer string
		status int
	}{{"kbc_at_project1", 200}, {"kbc_at_project2", 401}} {
		*got = access.Access{}
		status, body, _ := send(t, ts.URL, map[string]string{"X-StorageApi-Token": "11-storage", "X-Storage-Api-Url": keboolaStandIn.URL, "X-Bearer-Token": tc.bearer})
		if status != tc.status {
			t.Fatalf("%s: status %d, want %d: %s", tc.bearer, status, tc.status, body)
		}
		if status == 401 && (!strings.Contains(body, "project 2") || got.Credentials.StackURL != "") {
			t.Errorf("%s: refusal %q, access %+v", tc.bearer, body, *got)
		}
	}
}
